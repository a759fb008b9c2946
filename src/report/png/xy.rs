//! A plain x/y chart with several labelled panels stacked vertically, for the charts of groups,
//! comparisons and history (time to target, overlays of two sides, a metric over runs with its
//! change points). Each panel has its own lines and optional vertical markers.

use plotters::prelude::*;

use super::style::{ce, draw_png, sizes, Area, FAMILY};
use crate::report::ReportError;

/// How a line is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Line,
    /// A staircase (an empirical distribution).
    Step,
    /// A line with a dot at every point.
    LinePoints,
}

/// One line of a panel.
pub struct XyLine {
    pub label: String,
    pub color: RGBColor,
    pub pts: Vec<(f64, f64)>,
    pub mark: Mark,
}

/// A vertical marker (a change point) with its label.
pub struct VMarker {
    pub x: f64,
    pub label: String,
}

/// One panel.
pub struct XyPanel {
    pub x_desc: String,
    pub y_desc: String,
    pub lines: Vec<XyLine>,
    pub markers: Vec<VMarker>,
    /// Fixed x range (shared time axes); None fits the data.
    pub x_range: Option<(f64, f64)>,
    /// Fixed y range; None fits the data.
    pub y_range: Option<(f64, f64)>,
    /// Formatter of y tick values.
    pub y_fmt: fn(f64) -> String,
}

/// Renders panels stacked under a title and a subtitle.
pub fn render_xy(
    chart: &'static str,
    title: &str,
    subtitle: &str,
    panels: &[XyPanel],
    size: (u32, u32),
) -> Result<Vec<u8>, ReportError> {
    draw_png(size, |root| {
        let (w, h) = root.dim_in_pixel();
        let sz = sizes(w, h);
        root.fill(&WHITE).map_err(ce(chart))?;
        root.draw_text(
            title,
            &(FAMILY, sz.title).into_font().color(&BLACK),
            (12, 8),
        )
        .map_err(ce(chart))?;
        let max_chars = ((w as f64 - 24.0) / (sz.small as f64 * 0.55)) as usize;
        root.draw_text(
            &crate::report::units::truncate(subtitle, max_chars.max(10)),
            &(FAMILY, sz.small).into_font().color(&RGBColor(90, 90, 90)),
            (12, 14 + sz.title as i32),
        )
        .map_err(ce(chart))?;
        let body = root.split_vertically(22 + sz.title + sz.small).1;
        let areas = body.split_evenly((panels.len().max(1), 1));
        for (p, area) in panels.iter().zip(areas.iter()) {
            draw_panel(chart, area, p)?;
        }
        Ok(())
    })
}

fn draw_panel(chart: &'static str, area: &Area<'_>, p: &XyPanel) -> Result<(), ReportError> {
    let (w, h) = area.dim_in_pixel();
    let sz = sizes(w, w.max(h));
    let xs = p.lines.iter().flat_map(|l| l.pts.iter().map(|q| q.0));
    let (x0, x1) = p
        .x_range
        .unwrap_or_else(|| bounds(xs.chain(p.markers.iter().map(|m| m.x))));
    let (y0, y1) = match p.y_range {
        Some(r) => r,
        None => {
            let (a, b) = bounds(p.lines.iter().flat_map(|l| l.pts.iter().map(|q| q.1)));
            let pad = ((b - a) * 0.08).max(b.abs() * 1e-6).max(1e-12);
            (a - pad, b + pad)
        }
    };
    // Room above the data for the legend.
    let legend_rows = p.lines.len() as f64;
    let y_top = y1 + (y1 - y0) * (0.08 * legend_rows).min(0.6);
    let mut ch = ChartBuilder::on(area)
        .margin_left(10)
        .margin_right(24)
        .margin_top(8)
        .x_label_area_size(sz.text * 3)
        .y_label_area_size(sz.text * 5)
        .build_cartesian_2d(x0..x1, y0..y_top)
        .map_err(ce(chart))?;
    let y_fmt = p.y_fmt;
    ch.configure_mesh()
        .x_desc(p.x_desc.as_str())
        .y_desc(p.y_desc.as_str())
        .x_labels(10)
        .y_labels(6)
        .label_style((FAMILY, sz.small))
        .axis_desc_style((FAMILY, sz.small))
        .y_label_formatter(&|v: &f64| y_fmt(*v))
        .x_label_formatter(&|v: &f64| crate::report::units::fmt_num((*v * 1000.0).round() / 1000.0))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(ce(chart))?;
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
    for l in &p.lines {
        let pts: Vec<(f64, f64)> = match l.mark {
            Mark::Step => {
                let mut out = Vec::with_capacity(l.pts.len() * 2);
                let mut prev_y = 0.0;
                for (x, y) in &l.pts {
                    out.push((*x, prev_y));
                    out.push((*x, *y));
                    prev_y = *y;
                }
                if let Some(last) = out.last().copied() {
                    out.push((x1, last.1));
                }
                out
            }
            _ => l.pts.clone(),
        };
        let color = l.color;
        let s = ch
            .draw_series(LineSeries::new(
                pts,
                ShapeStyle::from(&color).stroke_width(2),
            ))
            .map_err(ce(chart))?;
        s.label(l.label.clone()).legend(move |(x, y)| {
            PathElement::new(
                vec![(x, y), (x + 18, y)],
                ShapeStyle::from(&color).stroke_width(3),
            )
        });
        if l.mark == Mark::LinePoints {
            ch.draw_series(
                l.pts
                    .iter()
                    .map(|q| Circle::new(*q, 4, ShapeStyle::from(&color).filled())),
            )
            .map_err(ce(chart))?;
        }
    }
    if !p.lines.is_empty() {
        ch.configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(200, 200, 200))
            .label_font((FAMILY, sz.small))
            .draw()
            .map_err(ce(chart))?;
    }
    Ok(())
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
        let p = XyPanel {
            x_desc: "run".into(),
            y_desc: "wall (s)".into(),
            lines: vec![XyLine {
                label: "wall".into(),
                color: RGBColor(31, 119, 180),
                pts: (0..20)
                    .map(|i| (i as f64, if i < 10 { 1.0 } else { 1.2 }))
                    .collect(),
                mark: Mark::LinePoints,
            }],
            markers: vec![VMarker {
                x: 10.0,
                label: "+20%".into(),
            }],
            x_range: None,
            y_range: None,
            y_fmt: |v| format!("{v:.2}"),
        };
        let png = render_xy("history", "t", "s", &[p], (600, 400)).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        assert!(png.len() > 2000);
    }
}
