//! convergence.png: each progress series (main series first, at most [`MAX_SERIES`]) in a row,
//! against iteration on the left and against time on the right: the raw values, the best-so-far
//! line and the convergence point. The y axis is logarithmic with `--log-y`, or automatically
//! when every value is positive and they span more than three decades.

use plotters::prelude::*;

use super::style::{ce, color, draw_png, header, sizes, time_unit, FAMILY};
use super::PngOptions;
use crate::analyze::{best_so_far, Analysis, SeriesStats};
use crate::model::{Direction, RunRecord, Series};
use crate::report::units::{fmt_num, truncate};
use crate::report::ReportError;

const CHART: &str = "convergence.png";
const MAX_SERIES: usize = 6;
/// Automatic log scale when max/min of positive values exceeds this.
const LOG_SPAN: f64 = 1e3;

fn use_log(vals: &[f64], forced: bool) -> bool {
    let pos = vals.iter().all(|v| *v > 0.0);
    let (lo, hi) = vals
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(*v), b.max(*v)));
    pos && !vals.is_empty() && (forced || hi / lo > LOG_SPAN)
}

pub(super) fn draw(
    rec: &RunRecord,
    an: &Analysis,
    opts: &PngOptions,
) -> Result<Vec<u8>, ReportError> {
    draw_png(opts.size, |root| {
        let body = header(root, rec, CHART, "Convergence")?;
        let sz = sizes(opts.size.0, opts.size.1);
        let mut idx: Vec<usize> = (0..rec.series.len())
            .filter(|i| rec.series[*i].points.iter().any(|p| p.value.is_finite()))
            .collect();
        idx.sort_by_key(|i| !rec.series[*i].main);
        let hidden = idx.len().saturating_sub(MAX_SERIES);
        idx.truncate(MAX_SERIES);
        let body = if hidden > 0 {
            let (note, rest) = body.split_vertically(sz.small + 8);
            note.draw_text(
                &format!("{hidden} more series not shown (see the JSON report)"),
                &(FAMILY, sz.small).into_font().color(&BLACK),
                (12, 2),
            )
            .map_err(ce(CHART))?;
            rest
        } else {
            body
        };
        let rows = body.split_evenly((idx.len(), 2));
        for (r, i) in idx.iter().enumerate() {
            let s = &rec.series[*i];
            let st = &an.series[*i];
            for col in 0..2 {
                panel(
                    &rows[r * 2 + col],
                    s,
                    st,
                    col == 1,
                    opts.log_y,
                    color(r),
                    idx.len() <= 4,
                )?;
            }
        }
        Ok(())
    })
}

fn panel(
    area: &super::style::Area<'_>,
    s: &Series,
    st: &SeriesStats,
    by_time: bool,
    force_log: bool,
    c: RGBColor,
    roomy: bool,
) -> Result<(), ReportError> {
    let (w, h) = area.dim_in_pixel();
    let sz = sizes(w * 2, (h * 3).min(800));
    let pts: Vec<_> = s.points.iter().filter(|p| p.value.is_finite()).collect();
    let vals: Vec<f64> = pts.iter().map(|p| p.value).collect();
    let log = use_log(&vals, force_log);
    let fy = |v: f64| if log { v.log10() } else { v };
    let t_max = pts.iter().map(|p| p.t_s).fold(0.0, f64::max);
    let tu = time_unit(t_max);
    let fx = |p: &crate::model::Point| {
        if by_time {
            p.t_s / tu.div
        } else {
            p.iter as f64
        }
    };
    let (mut x0, mut x1) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(fx(p)), b.max(fx(p)))
        });
    if x1 <= x0 {
        x0 -= 0.5;
        x1 += 0.5;
    }
    let (mut y0, mut y1) = vals
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(fy(*v)), b.max(fy(*v)))
        });
    if y1 <= y0 {
        y0 -= 0.5;
        y1 += 0.5;
    }
    let pad = (y1 - y0) * 0.08;
    let title = format!(
        "{}{} ({}{}{})",
        s.algorithm
            .as_deref()
            .map(|a| format!("{}: ", truncate(a, 20)))
            .unwrap_or_default(),
        truncate(&s.name, 30),
        match st.direction {
            Direction::Minimize => "minimize",
            Direction::Maximize => "maximize",
        },
        if st.direction_source == crate::analyze::DirectionSource::Assumed {
            " assumed"
        } else {
            ""
        },
        if log { ", log y" } else { "" }
    );
    let xd = if by_time {
        format!("time since start ({})", tu.name)
    } else {
        "iteration".to_string()
    };
    let mut ch = ChartBuilder::on(area)
        .margin(8)
        .margin_right(16)
        .caption(title, (FAMILY, sz.text))
        .x_label_area_size(if roomy { sz.text * 3 } else { sz.text * 2 })
        .y_label_area_size(sz.text * 5)
        .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))
        .map_err(ce(CHART))?;
    let yfmt = |v: &f64| {
        if log {
            fmt_num(10f64.powf(*v))
        } else {
            fmt_num(*v)
        }
    };
    let mut mesh = ch.configure_mesh();
    mesh.x_labels(6)
        .y_labels(5)
        .label_style((FAMILY, sz.small))
        .axis_desc_style((FAMILY, sz.small))
        .y_label_formatter(&yfmt)
        .x_label_formatter(&|v| fmt_num((*v * 100.0).round() / 100.0))
        .light_line_style(RGBColor(235, 235, 235));
    if roomy {
        mesh.x_desc(xd);
    }
    mesh.draw().map_err(ce(CHART))?;
    let raw: Vec<(f64, f64)> = pts.iter().map(|p| (fx(p), fy(p.value))).collect();
    let raw = super::style::downsample(&raw, (w as usize).max(50));
    ch.draw_series(LineSeries::new(raw, c.mix(0.35).stroke_width(1)))
        .map_err(ce(CHART))?
        .label("value")
        .legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 16, y)], c.mix(0.35).stroke_width(2))
        });
    let bsf: Vec<(f64, f64)> = best_so_far(st.direction, pts.iter().copied())
        .map(|(p, best)| (fx(p), fy(best)))
        .collect();
    let bsf = super::style::downsample(&bsf, (w as usize).max(50));
    ch.draw_series(LineSeries::new(bsf, c.stroke_width(3)))
        .map_err(ce(CHART))?
        .label("best so far")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(3)));
    if let (Some(ci), Some(ct), Some(b)) = (st.converged_iter, st.converged_t_s, st.best) {
        let cx = if by_time { ct / tu.div } else { ci as f64 };
        let cy = fy(b);
        ch.draw_series(std::iter::once(Circle::new(
            (cx, cy),
            6,
            BLACK.stroke_width(2),
        )))
        .map_err(ce(CHART))?
        .label(format!("converged at #{ci}"))
        .legend(|(x, y)| Circle::new((x + 8, y), 5, BLACK.stroke_width(2)));
    }
    ch.configure_series_labels()
        .position(match st.direction {
            Direction::Minimize => SeriesLabelPosition::UpperRight,
            Direction::Maximize => SeriesLabelPosition::LowerRight,
        })
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font((FAMILY, sz.small))
        .draw()
        .map_err(ce(CHART))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn log_when_three_decades_or_forced() {
        assert!(super::use_log(&[1.0, 2000.0], false));
        assert!(!super::use_log(&[1.0, 999.0], false));
        assert!(super::use_log(&[1.0, 2.0], true));
        assert!(!super::use_log(&[-1.0, 2000.0], true));
    }
}
