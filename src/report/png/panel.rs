//! The one panel drawer of every chart: lines over an x axis, with shaded bands (timer phases)
//! behind them, vertical markers (change points) and a legend. Two looks:
//! - [`Look::Stacked`]: a panel of a run's time chart (resources.png, processes.png), stacked
//!   on one time axis that only the bottom panel names and labels; dense lines are downsampled
//!   and drawn thin, and the legend gets headroom measured in its pixels.
//! - [`Look::Plain`]: a panel of the charts of groups, comparisons and history (time to target,
//!   two sides overlaid, a metric over runs): both axes named, 2-px lines (a staircase, or dots
//!   at the points), a legend of strokes.
//!
//! [`render_panels`] draws plain panels stacked under a title and a subtitle.

use plotters::prelude::*;

use super::plain;
use super::style::{ce, downsample, draw_png, sizes, tick_decimals, Area, FAMILY};
use crate::report::units::fmt_num;
use crate::report::ReportError;

/// How a line is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Line,
    /// A staircase (an empirical distribution).
    Step,
    /// A line with a dot at every point.
    LinePoints,
    /// Dots only (runs of a side).
    Points,
}

/// A line in data units.
pub struct Line {
    pub label: String,
    pub color: RGBColor,
    pub pts: Vec<(f64, f64)>,
    pub mark: Mark,
}

impl Line {
    /// A plain line.
    pub fn new(label: impl Into<String>, color: RGBColor, pts: Vec<(f64, f64)>) -> Line {
        Line {
            label: label.into(),
            color,
            pts,
            mark: Mark::Line,
        }
    }
}

/// A shaded x band (a top-level timer span), in data units.
pub struct Band {
    pub start_s: f64,
    pub end_s: f64,
    pub color: RGBColor,
    pub label: String,
}

/// A vertical marker (a change point) with its label, in axis units.
pub struct VMarker {
    pub x: f64,
    pub label: String,
}

/// The look of a panel (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    Stacked {
        /// The bottom panel shows the x tick labels and the axis name.
        bottom: bool,
        /// Write band labels that fit inside their band.
        label_bands: bool,
    },
    Plain,
}

/// A tick label formatter.
pub type TickFmt<'a> = Box<dyn Fn(&f64) -> String + 'a>;

/// Tick labels of points at x = 1, 2, ...: `labels[i - 1]` at x = i, written at every
/// `every`-th point counted back from the last (the newest is always named), blank elsewhere.
pub fn point_labels<'a>(labels: Vec<String>, every: usize) -> TickFmt<'a> {
    let n = labels.len();
    let every = every.max(1);
    Box::new(move |v: &f64| {
        let i = v.round();
        if (v - i).abs() > 1e-6 || i < 1.0 || i as usize > n || (n - i as usize) % every != 0 {
            return String::new();
        }
        labels[i as usize - 1].clone()
    })
}

/// One panel.
pub struct Panel<'a> {
    pub chart: &'static str,
    pub look: Look,
    pub x_desc: String,
    pub y_desc: String,
    /// The x range in axis units; None fits the data (and the markers).
    pub x_range: Option<(f64, f64)>,
    /// The y range; None fits the data with a margin.
    pub y_range: Option<(f64, f64)>,
    /// Data x divided by this is axis x (a time unit).
    pub x_div: f64,
    /// Formatter of y tick values.
    pub y_fmt: Box<dyn Fn(&f64) -> String + 'a>,
    pub lines: Vec<Line>,
    /// Shaded behind the lines (several panels share them).
    pub bands: &'a [Band],
    pub markers: Vec<VMarker>,
    /// Formatter of x tick labels (plain look); None writes the value.
    pub x_fmt: Option<TickFmt<'a>>,
    /// About how many x tick labels (plain look; default 10).
    pub x_labels: usize,
}

impl<'a> Panel<'a> {
    /// A plain panel with these axis names and lines; the ranges fit the data.
    pub fn plain(
        chart: &'static str,
        x_desc: impl Into<String>,
        y_desc: impl Into<String>,
        lines: Vec<Line>,
        y_fmt: impl Fn(&f64) -> String + 'a,
    ) -> Panel<'a> {
        Panel {
            chart,
            look: Look::Plain,
            x_desc: x_desc.into(),
            y_desc: y_desc.into(),
            x_range: None,
            y_range: None,
            x_div: 1.0,
            y_fmt: Box::new(y_fmt),
            lines,
            bands: &[],
            markers: Vec::new(),
            x_fmt: None,
            x_labels: 10,
        }
    }
}

/// What the looks set apart.
struct Style {
    bottom: bool,
    label_bands: bool,
    margin_right: u32,
    margin_top: u32,
    y_labels: usize,
    /// Decimals of the x tick labels.
    x_decimals: i32,
    /// Downsample dense lines and draw them 1 px wide.
    thin_dense: bool,
    /// Legend headroom from the legend's height in pixels (else 8% of the range a line).
    pixel_headroom: bool,
    /// Legend keys are filled swatches (else strokes).
    swatch: bool,
    legend_alpha: f64,
}

impl Look {
    fn style(self) -> Style {
        match self {
            Look::Stacked {
                bottom,
                label_bands,
            } => Style {
                bottom,
                label_bands,
                margin_right: 20,
                margin_top: 6,
                y_labels: 5,
                x_decimals: 2,
                thin_dense: true,
                pixel_headroom: true,
                swatch: true,
                legend_alpha: 0.85,
            },
            Look::Plain => Style {
                bottom: true,
                label_bands: false,
                margin_right: 24,
                margin_top: 8,
                y_labels: 6,
                x_decimals: 3,
                thin_dense: false,
                pixel_headroom: false,
                swatch: false,
                legend_alpha: 0.9,
            },
        }
    }
}

/// `v` rounded to `decimals` for a tick label.
fn tick(v: f64, decimals: i32) -> String {
    let k = 10f64.powi(decimals);
    fmt_num((v * k).round() / k)
}

pub fn draw_panel(whole: &Area<'_>, p: &Panel<'_>) -> Result<(), ReportError> {
    let w = whole.dim_in_pixel().0;
    // The plain look keeps its legend in a strip right of the plot.
    let legend_w = if p.look == Look::Plain {
        plain::legend_width(&p.lines, sizes(w, w).small, w)
    } else {
        0
    };
    draw_panel_beside(whole, p, legend_w)
}

/// [`draw_panel`] with a legend strip `legend_w` pixels wide (stacked panels share one, so
/// their x axes line up).
fn draw_panel_beside(whole: &Area<'_>, p: &Panel<'_>, legend_w: u32) -> Result<(), ReportError> {
    let st = p.look.style();
    let chart = p.chart;
    let sz = {
        let w = whole.dim_in_pixel().0;
        sizes(w, w)
    };
    let (area, strip) = whole.split_horizontally(whole.dim_in_pixel().0 - legend_w);
    let area = &area;
    let h = area.dim_in_pixel().1;
    let x_label_area = if st.bottom { sz.text * 3 } else { 6 };
    let (x0, x1) = p.x_range.unwrap_or_else(|| {
        let xs = p
            .lines
            .iter()
            .flat_map(|l| l.pts.iter().map(|q| q.0 / p.x_div));
        bounds(xs.chain(p.markers.iter().map(|m| m.x)))
    });
    let ys = || p.lines.iter().flat_map(|l| l.pts.iter().map(|q| q.1));
    let mut y_desc = p.y_desc.clone();
    let (y0, y1) = match p.y_range {
        Some(r) => r,
        None if p.look == Look::Plain => {
            let (lo, hi) = ys()
                .filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                    (a.min(v), b.max(v))
                });
            let (range, note) = plain::value_axis(lo, hi);
            if let Some(n) = note {
                y_desc = format!("{y_desc}; {n}");
            }
            range
        }
        None => {
            let (a, b) = bounds(ys());
            let pad = ((b - a) * 0.08).max(b.abs() * 1e-6).max(1e-12);
            (a - pad, b + pad)
        }
    };
    // Headroom above the data for the legend (upper right); none when it sits outside.
    let y_top = if p.look == Look::Plain {
        y1
    } else if st.pixel_headroom {
        let legend_px = if p.lines.is_empty() {
            0.0
        } else {
            p.lines.len() as f64 * (sz.small as f64 + 5.0) + 16.0
        };
        let plot_h = (h as f64 - x_label_area as f64 - 6.0).max(40.0);
        let room = (1.0 - legend_px / plot_h).clamp(0.4, 1.0);
        y0 + (y1 - y0) / room
    } else {
        y1 + (y1 - y0) * (0.08 * p.lines.len() as f64).min(0.6)
    };
    let mut ch = ChartBuilder::on(area)
        .margin_left(10)
        .margin_right(st.margin_right)
        .margin_top(st.margin_top)
        .x_label_area_size(x_label_area)
        .y_label_area_size(sz.text * 5)
        .build_cartesian_2d(x0..x1, y0..y_top)
        .map_err(ce(chart))?;
    let x_decimals = st.x_decimals.max(tick_decimals(x1 - x0, 10) as i32);
    let x_fmt = |v: &f64| match (&p.x_fmt, st.bottom) {
        (_, false) => String::new(),
        (Some(f), true) => f(v),
        (None, true) => tick(*v, x_decimals),
    };
    let mut mesh = ch.configure_mesh();
    mesh.y_desc(y_desc.as_str())
        .y_labels(st.y_labels)
        .x_labels(p.x_labels)
        .label_style((FAMILY, sz.small))
        .axis_desc_style((FAMILY, sz.small))
        .y_label_formatter(&*p.y_fmt)
        .x_label_formatter(&x_fmt)
        .light_line_style(RGBColor(235, 235, 235));
    if st.bottom {
        mesh.x_desc(p.x_desc.as_str());
    }
    mesh.draw().map_err(ce(chart))?;
    let plot_w = ch.plotting_area().dim_in_pixel().0 as f64;
    draw_bands(&mut ch, p, &st, sz.small, (x0, x1), (y0, y_top), plot_w)?;
    for m in &p.markers {
        let c = RGBColor(214, 39, 40);
        ch.draw_series(LineSeries::new(
            vec![(m.x, y0), (m.x, y1)],
            ShapeStyle::from(&c.mix(0.8)).stroke_width(2),
        ))
        .map_err(ce(chart))?;
        ch.draw_series(std::iter::once(Text::new(
            m.label.clone(),
            (m.x, y1),
            (FAMILY, sz.small).into_font().color(&c),
        )))
        .map_err(ce(chart))?;
    }
    let buckets = (plot_w as usize).max(50);
    for l in &p.lines {
        if l.mark == Mark::Points {
            ch.draw_series(l.pts.iter().map(|q| Circle::new(*q, 5, l.color.filled())))
                .map_err(ce(chart))?;
            continue;
        }
        let pts: Vec<(f64, f64)> = match l.mark {
            Mark::Step => staircase(&l.pts, x1),
            _ if st.thin_dense => downsample(&l.pts, buckets)
                .into_iter()
                .map(|(x, y)| (x / p.x_div, y))
                .collect(),
            _ => l.pts.clone(),
        };
        let c = l.color;
        // Wide lines get miter spikes at sharp zig-zags: dense lines are drawn 1 px wide.
        let width = if st.thin_dense && pts.len() as f64 > plot_w / 3.0 {
            1
        } else {
            2
        };
        let s = ch
            .draw_series(LineSeries::new(pts, c.stroke_width(width)))
            .map_err(ce(chart))?
            .label(l.label.clone());
        if st.swatch {
            s.legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 16, y + 4)], c.filled()));
        } else {
            s.legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3)));
        }
        if l.mark == Mark::LinePoints {
            ch.draw_series(l.pts.iter().map(|q| Circle::new(*q, 4, c.filled())))
                .map_err(ce(chart))?;
        }
    }
    if p.look == Look::Plain {
        let top = ch.plotting_area().get_base_pixel().1 - strip.get_base_pixel().1;
        plain::draw_legend(&strip, chart, &p.lines, sz.small, top)?;
    } else if !p.lines.is_empty() {
        ch.configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(st.legend_alpha))
            .border_style(RGBColor(200, 200, 200))
            .label_font((FAMILY, sz.small))
            .draw()
            .map_err(ce(chart))?;
    }
    Ok(())
}

type Chart<'a, 'b> = ChartContext<
    'a,
    BitMapBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The bands behind the lines, from `y0` to `y_top`; labelled (when the look asks) where the
/// label fits inside its band, clear of the previous label and of the legend box (upper right).
fn draw_bands(
    ch: &mut Chart<'_, '_>,
    p: &Panel<'_>,
    st: &Style,
    small: u32,
    (x0, x1): (f64, f64),
    (y0, y_top): (f64, f64),
    plot_w: f64,
) -> Result<(), ReportError> {
    let span = y_top - y0;
    let mut last_label_end = f64::NEG_INFINITY;
    let legend_w = p
        .lines
        .iter()
        .map(|l| l.label.chars().count())
        .max()
        .map_or(0.0, |c| c as f64 * small as f64 * 0.6 + 50.0);
    for b in p.bands {
        let (bx0, bx1) = (b.start_s / p.x_div, b.end_s / p.x_div);
        ch.draw_series(std::iter::once(Rectangle::new(
            [(bx0, y0), (bx1, y_top)],
            b.color.mix(0.13).filled(),
        )))
        .map_err(ce(p.chart))?;
        if st.label_bands {
            let px0 = (bx0 - x0) / (x1 - x0) * plot_w;
            let px_w = (bx1 - bx0) / (x1 - x0) * plot_w;
            let text_w = b.label.chars().count() as f64 * small as f64 * 0.6 + 6.0;
            if text_w <= px_w && px0 >= last_label_end && px0 + text_w <= plot_w - legend_w {
                ch.draw_series(std::iter::once(Text::new(
                    b.label.clone(),
                    (bx0, y_top - span * 0.02),
                    (FAMILY, small).into_font().color(&b.color.mix(0.95)),
                )))
                .map_err(ce(p.chart))?;
                // Text anchors at its top-left; pad the next label.
                last_label_end = px0 + text_w;
            }
        }
    }
    Ok(())
}

/// A staircase through `pts` from 0, held to `x_end`.
fn staircase(pts: &[(f64, f64)], x_end: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(pts.len() * 2 + 1);
    let mut prev_y = 0.0;
    for (x, y) in pts {
        out.push((*x, prev_y));
        out.push((*x, *y));
        prev_y = *y;
    }
    if let Some(last) = out.last().copied() {
        out.push((x_end, last.1));
    }
    out
}

/// Plain panels stacked evenly under a title and a subtitle.
pub fn render_panels(
    chart: &'static str,
    title: &str,
    subtitle: &str,
    panels: &[Panel<'_>],
    size: (u32, u32),
) -> Result<Vec<u8>, ReportError> {
    draw_png(size, |root| {
        let (w, h) = root.dim_in_pixel();
        let sz = sizes(w, h);
        root.fill(&WHITE).map_err(ce(chart))?;
        let title_chars = ((w as f64 - 24.0) / (sz.title as f64 * 0.6)) as usize;
        let lines = plain::wrap(title, title_chars.max(10), 3);
        let mut y = 8;
        for line in &lines {
            root.draw_text(line, &(FAMILY, sz.title).into_font().color(&BLACK), (12, y))
                .map_err(ce(chart))?;
            y += sz.title as i32 + 4;
        }
        let max_chars = ((w as f64 - 24.0) / (sz.small as f64 * 0.55)) as usize;
        root.draw_text(
            &crate::report::units::truncate(subtitle, max_chars.max(10)),
            &(FAMILY, sz.small).into_font().color(&RGBColor(90, 90, 90)),
            (12, y + 2),
        )
        .map_err(ce(chart))?;
        let body = root.split_vertically(y as u32 + 10 + sz.small).1;
        let areas = body.split_evenly((panels.len().max(1), 1));
        let legend_w = panels
            .iter()
            .filter(|p| p.look == Look::Plain)
            .map(|p| plain::legend_width(&p.lines, sizes(w, w).small, w))
            .max()
            .unwrap_or(0);
        for (p, area) in panels.iter().zip(areas.iter()) {
            let lw = if p.look == Look::Plain { legend_w } else { 0 };
            draw_panel_beside(area, p, lw)?;
        }
        Ok(())
    })
}

fn bounds(it: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut a, mut b) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in it.filter(|v| v.is_finite()) {
        a = a.min(v);
        b = b.max(v);
    }
    if !a.is_finite() {
        return (0.0, 1.0);
    }
    if a == b {
        return (
            a - 0.5_f64.max(a.abs() * 0.05),
            b + 0.5_f64.max(b.abs() * 0.05),
        );
    }
    (a, b)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_panel_with_a_marker() {
        let mut p = Panel::plain(
            "history",
            "run",
            "wall (s)",
            vec![Line {
                label: "wall".into(),
                color: RGBColor(31, 119, 180),
                pts: (0..20)
                    .map(|i| (i as f64, if i < 10 { 1.0 } else { 1.2 }))
                    .collect(),
                mark: Mark::LinePoints,
            }],
            |v: &f64| format!("{v:.2}"),
        );
        p.markers = vec![VMarker {
            x: 10.0,
            label: "+20%".into(),
        }];
        let png = render_panels("history", "t", "s", &[p], (600, 400)).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        assert!(png.len() > 2000);
    }

    #[test]
    fn staircase_steps_up_and_holds() {
        assert_eq!(
            staircase(&[(1.0, 0.5), (2.0, 1.0)], 3.0),
            [(1.0, 0.0), (1.0, 0.5), (2.0, 0.5), (2.0, 1.0), (3.0, 1.0)]
        );
    }
}
