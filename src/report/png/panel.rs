//! One time-series panel: lines over a shared time axis, phase bands behind them, a legend.

use plotters::prelude::*;

use super::style::{ce, downsample, sizes, Area, TimeUnit, FAMILY};
use crate::report::ReportError;

/// A line in data units; x in seconds since the start.
pub struct Line {
    pub label: String,
    pub color: RGBColor,
    pub pts: Vec<(f64, f64)>,
}

/// A shaded time band (a top-level timer span).
pub struct Band {
    pub start_s: f64,
    pub end_s: f64,
    pub color: RGBColor,
    pub label: String,
}

pub struct Panel<'a> {
    pub chart: &'static str,
    pub y_desc: &'a str,
    pub x_max_s: f64,
    pub tu: TimeUnit,
    pub y: (f64, f64),
    /// Formatter of y tick values.
    pub y_fmt: &'a dyn Fn(&f64) -> String,
    /// Only the bottom panel shows time tick labels and the time axis name.
    pub bottom: bool,
    /// Write band labels that fit inside their band.
    pub label_bands: bool,
}

pub fn draw_panel(
    area: &Area<'_>,
    p: &Panel<'_>,
    lines: &[Line],
    bands: &[Band],
) -> Result<(), ReportError> {
    let (w, h) = area.dim_in_pixel();
    let sz = sizes(w, w);
    // Headroom so the legend (upper right) sits above the data rather than on it.
    let legend_px = if lines.is_empty() {
        0.0
    } else {
        lines.len() as f64 * (sz.small as f64 + 5.0) + 16.0
    };
    let plot_h = (h as f64 - if p.bottom { sz.text as f64 * 3.0 } else { 6.0 } - 6.0).max(40.0);
    let room = (1.0 - legend_px / plot_h).clamp(0.4, 1.0);
    let y = (p.y.0, p.y.0 + (p.y.1 - p.y.0) / room);
    let x_max = (p.x_max_s / p.tu.div).max(1e-9);
    let xd = format!("time since start ({})", p.tu.name);
    let mut ch = ChartBuilder::on(area)
        .margin_left(10)
        .margin_right(20)
        .margin_top(6)
        .x_label_area_size(if p.bottom { sz.text * 3 } else { 6 })
        .y_label_area_size(sz.text * 5)
        .build_cartesian_2d(0.0..x_max, y.0..y.1)
        .map_err(ce(p.chart))?;
    let tick = (FAMILY, sz.small).into_font();
    let mut mesh = ch.configure_mesh();
    mesh.y_desc(p.y_desc)
        .y_labels(5)
        .x_labels(10)
        .label_style(tick.clone())
        .axis_desc_style((FAMILY, sz.small))
        .y_label_formatter(p.y_fmt)
        .light_line_style(RGBColor(235, 235, 235));
    let empty = |_: &f64| String::new();
    let num = |v: &f64| crate::report::units::fmt_num((*v * 100.0).round() / 100.0);
    if p.bottom {
        mesh.x_desc(xd).x_label_formatter(&num);
    } else {
        mesh.x_label_formatter(&empty);
    }
    mesh.draw().map_err(ce(p.chart))?;
    let span = y.1 - y.0;
    let plot_w = ch.plotting_area().dim_in_pixel().0 as f64;
    let mut last_label_end = f64::NEG_INFINITY;
    // Band labels stop short of the legend box in the upper right.
    let legend_w = lines
        .iter()
        .map(|l| l.label.chars().count())
        .max()
        .map_or(0.0, |c| c as f64 * sz.small as f64 * 0.6 + 50.0);
    for b in bands {
        let (x0, x1) = (b.start_s / p.tu.div, b.end_s / p.tu.div);
        ch.draw_series(std::iter::once(Rectangle::new(
            [(x0, y.0), (x1, y.1)],
            b.color.mix(0.13).filled(),
        )))
        .map_err(ce(p.chart))?;
        if p.label_bands {
            let px0 = x0 / x_max * plot_w;
            let px_w = (x1 - x0) / x_max * plot_w;
            let text_w = b.label.chars().count() as f64 * sz.small as f64 * 0.6 + 6.0;
            if text_w <= px_w && px0 >= last_label_end && px0 + text_w <= plot_w - legend_w {
                ch.draw_series(std::iter::once(Text::new(
                    b.label.clone(),
                    (x0, y.1 - span * 0.02),
                    (FAMILY, sz.small).into_font().color(&b.color.mix(0.95)),
                )))
                .map_err(ce(p.chart))?;
                // Text anchors at its top-left; pad the next label.
                last_label_end = px0 + text_w;
            }
        }
    }
    let buckets = (plot_w as usize).max(50);
    for l in lines {
        let pts: Vec<(f64, f64)> = downsample(&l.pts, buckets)
            .into_iter()
            .map(|(x, y)| (x / p.tu.div, y))
            .collect();
        let c = l.color;
        // Wide lines get miter spikes at sharp zig-zags: dense lines are drawn 1 px wide.
        let width = if pts.len() as f64 > plot_w / 3.0 {
            1
        } else {
            2
        };
        ch.draw_series(LineSeries::new(pts, c.stroke_width(width)))
            .map_err(ce(p.chart))?
            .label(l.label.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 16, y + 4)], c.filled()));
    }
    if !lines.is_empty() {
        ch.configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font((FAMILY, sz.small))
            .draw()
            .map_err(ce(p.chart))?;
    }
    Ok(())
}
