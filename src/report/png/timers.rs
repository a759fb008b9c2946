//! timers.png: above, a timeline of the spans, one row per nesting depth (children below their
//! parents), coloured by timer name; below, the total per timer name as a bar split into self
//! time and time spent in child timers.

use plotters::prelude::*;

use super::style::{ce, color, draw_png, header, sizes, time_unit, FAMILY};
use super::PngOptions;
use crate::analyze::Analysis;
use crate::model::RunRecord;
use crate::report::units::{fmt_num, truncate};
use crate::report::ReportError;

const CHART: &str = "timers.png";
/// Timer names in the bar chart (the largest totals).
const MAX_BARS: usize = 20;

pub(super) fn draw(
    rec: &RunRecord,
    an: &Analysis,
    opts: &PngOptions,
) -> Result<Vec<u8>, ReportError> {
    draw_png(opts.size, |root| {
        let body = header(root, rec, CHART, "Timers")?;
        let sz = sizes(opts.size.0, opts.size.1);
        let (_, h) = body.dim_in_pixel();
        let (top, bottom) = body.split_vertically(h * 45 / 100);
        let name_color = |n: &str| color(an.timers.iter().position(|t| t.name == n).unwrap_or(0));

        // Timeline.
        let x_max_s = an
            .wall_s
            .max(rec.timers.iter().map(|s| s.end_s).fold(0.0, f64::max))
            .max(1e-6);
        let tu = time_unit(x_max_s);
        let depth = rec.timers.iter().map(|s| s.depth).max().unwrap_or(0) as f64 + 1.0;
        let mut ch = ChartBuilder::on(&top)
            .margin(10)
            .margin_right(20)
            .caption(
                "timeline (rows: nesting depth, top level first)",
                (FAMILY, sz.text),
            )
            .x_label_area_size(sz.text * 3)
            .y_label_area_size(sz.text * 5)
            .build_cartesian_2d(0.0..x_max_s / tu.div, -depth..0.0)
            .map_err(ce(CHART))?;
        ch.configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc(format!("time since start ({})", tu.name))
            .label_style((FAMILY, sz.small))
            .axis_desc_style((FAMILY, sz.small))
            .x_label_formatter(&|v| fmt_num((*v * 100.0).round() / 100.0))
            .draw()
            .map_err(ce(CHART))?;
        for d in 0..depth as usize {
            let (px, py) = ch.backend_coord(&(0.0, -(d as f64) - 0.5));
            row_label(root, &format!("depth {d}"), (px - 8, py), sz.small)?;
        }
        let plot_w = ch.plotting_area().dim_in_pixel().0 as f64;
        let x_range = x_max_s / tu.div;
        for s in &rec.timers {
            let (x0, x1) = (s.start_s / tu.div, s.end_s / tu.div);
            let (y0, y1) = (-(s.depth as f64) - 0.9, -(s.depth as f64) - 0.1);
            let c = name_color(&s.name);
            ch.draw_series(std::iter::once(Rectangle::new(
                [(x0, y0), (x1, y1)],
                c.mix(0.75).filled(),
            )))
            .map_err(ce(CHART))?;
            let px = (x1 - x0) / x_range * plot_w;
            let label = truncate(&s.name, 30);
            if label.chars().count() as f64 * sz.small as f64 * 0.6 + 8.0 < px {
                ch.draw_series(std::iter::once(Text::new(
                    label,
                    (x0 + 4.0 / plot_w * x_range, y1 - 0.15),
                    (FAMILY, sz.small).into_font().color(&BLACK),
                )))
                .map_err(ce(CHART))?;
            }
        }

        // Totals: self beside child time.
        let mut order: Vec<_> = an.timers.iter().collect();
        order.sort_by(|a, b| b.total_s.total_cmp(&a.total_s));
        order.truncate(MAX_BARS);
        let n = order.len() as i32;
        let t_max = order.first().map_or(1.0, |t| t.total_s).max(1e-6);
        let bu = time_unit(t_max);
        let names: Vec<String> = order.iter().map(|t| truncate(&t.name, 28)).collect();
        let label_w = names.iter().map(|s| s.chars().count()).max().unwrap_or(4) as f64
            * sz.small as f64
            * 0.62
            + 16.0;
        let caption = if an.timers.len() > MAX_BARS {
            format!(
                "total per timer ({} largest of {})",
                MAX_BARS,
                an.timers.len()
            )
        } else {
            "total per timer".to_string()
        };
        let mut ch = ChartBuilder::on(&bottom)
            .margin(10)
            .margin_right(20)
            .caption(caption, (FAMILY, sz.text))
            .x_label_area_size(sz.text * 3)
            .y_label_area_size(label_w as u32)
            .build_cartesian_2d(0.0..t_max / bu.div * 1.08, 0.0..n as f64)
            .map_err(ce(CHART))?;
        ch.configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc(format!("total time ({})", bu.name))
            .label_style((FAMILY, sz.small))
            .axis_desc_style((FAMILY, sz.small))
            .x_label_formatter(&|v| fmt_num((*v * 100.0).round() / 100.0))
            .draw()
            .map_err(ce(CHART))?;
        let self_c = RGBColor(31, 119, 180);
        let child_c = RGBColor(174, 199, 232);
        let mut first = true;
        for (k, t) in order.iter().enumerate() {
            let row = (n - 1 - k as i32) as f64;
            let (y0, y1) = (row + 0.15, row + 0.85);
            let (px, py) = ch.backend_coord(&(0.0, row + 0.5));
            row_label(root, &names[k], (px - 8, py), sz.small)?;
            let s = t.self_s / bu.div;
            let tot = t.total_s / bu.div;
            let a = ch
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y0), (s, y1)],
                    self_c.filled(),
                )))
                .map_err(ce(CHART))?;
            if first {
                a.label("self time").legend(move |(x, y)| {
                    Rectangle::new([(x, y - 4), (x + 16, y + 4)], self_c.filled())
                });
            }
            let b = ch
                .draw_series(std::iter::once(Rectangle::new(
                    [(s, y0), (tot, y1)],
                    child_c.filled(),
                )))
                .map_err(ce(CHART))?;
            if first {
                b.label("in child timers").legend(move |(x, y)| {
                    Rectangle::new([(x, y - 4), (x + 16, y + 4)], child_c.filled())
                });
            }
            first = false;
        }
        ch.configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(200, 200, 200))
            .label_font((FAMILY, sz.small))
            .draw()
            .map_err(ce(CHART))?;
        Ok(())
    })
}

/// A label right-aligned and vertically centred on `at` (absolute pixels), in the axis margin.
fn row_label(
    root: &super::style::Area<'_>,
    text: &str,
    at: (i32, i32),
    size: u32,
) -> Result<(), ReportError> {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let style = (FAMILY, size)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Right, VPos::Center));
    root.draw_text(text, &style, at).map_err(ce(CHART))
}
