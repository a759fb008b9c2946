//! convergence.png: each progress series (main series first and titled `main:`, at most
//! [`MAX_SERIES`]; parameters are not drawn) in a row, against iteration on the left and against
//! time on the right: the raw values, the best-so-far line, the convergence point or, for a
//! series still improving, a triangle at its last best. One legend above the panels (none over
//! the data); every panel names its axes. The y axis is logarithmic with `--log-y`, or
//! automatically when every value is positive and they span more than three decades.

use plotters::prelude::*;

use super::style::{ce, color, draw_png, header, sizes, tick_decimals, time_unit, FAMILY};
use super::PngOptions;
use crate::analyze::{best_so_far, Analysis, SeriesStats};
use crate::model::{Direction, Role, RunRecord, Series};
use crate::report::units::{fmt_num, truncate};
use crate::report::ReportError;

const CHART: &str = "convergence.png";
const MAX_SERIES: usize = 6;
/// The colour of the axis titles: a slate no other element uses (nor does black text blend into
/// it), so a test can find them.
const AXIS_DESC: RGBColor = RGBColor(45, 55, 72);
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
        let (idx, hidden) = panel_series(rec, an);
        let (strip, body) = body.split_vertically(sz.small + 12);
        let improving = idx.iter().any(|i| an.series[*i].still_improving);
        legend(&strip, sz.small, improving, hidden)?;
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

/// The series that get a row of panels (the main one first; no parameters, none without a
/// finite value), at most [`MAX_SERIES`], and how many more there are.
fn panel_series(rec: &RunRecord, an: &Analysis) -> (Vec<usize>, usize) {
    let mut idx: Vec<usize> = (0..rec.series.len())
        .filter(|i| {
            an.series
                .get(*i)
                .is_some_and(|st| st.role != Role::Parameter)
        })
        .filter(|i| rec.series[*i].points.iter().any(|p| p.value.is_finite()))
        .collect();
    idx.sort_by_key(|i| !rec.series[*i].main);
    let hidden = idx.len().saturating_sub(MAX_SERIES);
    idx.truncate(MAX_SERIES);
    (idx, hidden)
}

/// The legend of every panel, drawn once above them: a thin line for the values, a thick one for
/// the best so far, a circle where the series converged, a triangle where one is still
/// improving; and how many series are not shown.
fn legend(
    area: &super::style::Area<'_>,
    px: u32,
    improving: bool,
    hidden: usize,
) -> Result<(), ReportError> {
    let c = RGBColor(90, 90, 90);
    let font = (FAMILY, px).into_font().color(&BLACK);
    let y = px as i32 / 2 + 4;
    let mut x = 12;
    let item = |x: &mut i32, text: &str, mark: &dyn Fn(i32) -> Result<(), ReportError>| {
        mark(*x)?;
        area.draw_text(text, &font, (*x + 24, 4))
            .map_err(ce(CHART))?;
        *x += 24 + (text.chars().count() as f64 * px as f64 * 0.55) as i32 + 24;
        Ok::<(), ReportError>(())
    };
    let line = |w: u32, alpha: f64| {
        move |x: i32| {
            area.draw(&PathElement::new(
                vec![(x, y), (x + 18, y)],
                c.mix(alpha).stroke_width(w),
            ))
            .map_err(ce(CHART))
        }
    };
    item(&mut x, "value", &line(2, 0.4))?;
    item(&mut x, "best so far", &line(3, 1.0))?;
    item(&mut x, "converged (then flat to the end)", &|x| {
        area.draw(&Circle::new((x + 9, y), 5, BLACK.stroke_width(2)))
            .map_err(ce(CHART))
    })?;
    if improving {
        item(&mut x, "still improving at its end", &|x| {
            area.draw(&TriangleMarker::new((x + 9, y), 6, BLACK.filled()))
                .map_err(ce(CHART))
        })?;
    }
    if hidden > 0 {
        let text = format!("{hidden} more series not shown (see the JSON report)");
        area.draw_text(&text, &font, (x, 4)).map_err(ce(CHART))?;
    }
    Ok(())
}

/// The panel's title in at most `max_chars` characters: `main: ` for the main series, the
/// direction and who said it, the convergence, the log scale; the short form
/// (`max, recorded; conv. #32, flat 27 it`) where the long one does not fit.
fn title(s: &Series, st: &SeriesStats, log: bool, max_chars: usize) -> String {
    let dir = match st.direction {
        Direction::Minimize => "minimize",
        Direction::Maximize => "maximize",
    };
    let src = st.direction_source.as_str();
    let head = format!(
        "{}{}{}",
        if st.main { "main: " } else { "" },
        s.algorithm
            .as_deref()
            .map(|a| format!("{}: ", truncate(a, 20)))
            .unwrap_or_default(),
        truncate(&s.name, 30),
    );
    let log = if log { ", log y" } else { "" };
    let (conv, short) = match (
        st.still_improving,
        st.converged_iter,
        st.converged_for_iters,
    ) {
        (true, _, _) => (", still improving".into(), "; still improving".into()),
        (_, Some(i), Some(f)) => (
            format!(", converged at #{i}, flat {f} it"),
            format!("; conv. #{i}, flat {f} it"),
        ),
        _ => (String::new(), String::new()),
    };
    let long = format!("{head} ({dir} from {src}{conv}{log})");
    if long.chars().count() <= max_chars {
        return long;
    }
    truncate(
        &format!("{head} ({}, {src}{short}{log})", &dir[..3]),
        max_chars,
    )
}

/// Tick labels with as many decimals as 6 ticks over `span` need (see [`tick_decimals`]).
fn tick_label(span: f64) -> impl Fn(&f64) -> String {
    let decimals = tick_decimals(span, 6);
    move |v: &f64| {
        if decimals == 0 {
            fmt_num(v.round())
        } else {
            format!("{v:.decimals$}")
        }
    }
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
    let xd = if by_time {
        format!("time since start ({})", tu.name)
    } else {
        "iteration".to_string()
    };
    let mut ch = ChartBuilder::on(area)
        .margin(8)
        .margin_right(16)
        .caption(
            title(s, st, log, (w as f64 / (sz.text as f64 * 0.5)) as usize),
            (FAMILY, sz.text),
        )
        .x_label_area_size(if roomy { sz.text * 3 } else { sz.small * 2 + 8 })
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
    let xfmt = tick_label(x1 - x0);
    ch.configure_mesh()
        .x_labels(6)
        .y_labels(5)
        .label_style((FAMILY, sz.small))
        .axis_desc_style((FAMILY, sz.small).into_font().color(&AXIS_DESC))
        .y_label_formatter(&yfmt)
        .x_label_formatter(&xfmt)
        .x_desc(xd)
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(ce(CHART))?;
    let raw: Vec<(f64, f64)> = pts.iter().map(|p| (fx(p), fy(p.value))).collect();
    let raw = super::style::downsample(&raw, (w as usize).max(50));
    ch.draw_series(LineSeries::new(raw, c.mix(0.35).stroke_width(1)))
        .map_err(ce(CHART))?;
    let bsf: Vec<(f64, f64)> = best_so_far(st.direction, pts.iter().copied())
        .map(|(p, best)| (fx(p), fy(best)))
        .collect();
    let last_best = bsf.last().copied();
    let bsf_full = bsf.clone();
    let bsf = super::style::downsample(&bsf, (w as usize).max(50));
    ch.draw_series(LineSeries::new(bsf, c.stroke_width(3)))
        .map_err(ce(CHART))?;
    if let (Some(ci), Some(ct)) = (st.converged_iter, st.converged_t_s) {
        // On the best-so-far line where it came within the tolerance (not at the final best).
        let cx = if by_time { ct / tu.div } else { ci as f64 };
        if let Some(&(x, y)) = bsf_full.iter().find(|(x, _)| *x >= cx) {
            ch.draw_series(std::iter::once(Circle::new(
                (x, y),
                6,
                BLACK.stroke_width(2),
            )))
            .map_err(ce(CHART))?;
        }
    }
    if let (true, Some(p)) = (st.still_improving, last_best) {
        ch.draw_series(std::iter::once(TriangleMarker::new(p, 7, BLACK.filled())))
            .map_err(ce(CHART))?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::analyze::analyze;
    use crate::model::Role;
    use crate::report::fixture::record;

    #[test]
    fn panels_leave_parameters_out_and_title_the_main_series() {
        let rec = record();
        let an = analyze(&rec);
        assert_eq!(an.series[2].role, Role::Parameter, "{:?}", an.series[2]);
        let (idx, hidden) = super::panel_series(&rec, &an);
        assert_eq!((idx, hidden), (vec![0, 1], 0));
        let t = super::title(&rec.series[0], &an.series[0], false, 100);
        assert_eq!(
            t,
            "main: ga: loss (minimize from recorded, still improving)"
        );
        let t = super::title(&rec.series[1], &an.series[1], true, 100);
        assert_eq!(
            t,
            "ga: val_acc (maximize from name, converged at #249, flat 50 it, log y)"
        );
        // Where the long form does not fit, the short one.
        let t = super::title(&rec.series[1], &an.series[1], true, 60);
        assert_eq!(t, "ga: val_acc (max, name; conv. #249, flat 50 it, log y)");
        assert!(
            super::title(&rec.series[1], &an.series[1], true, 20)
                .chars()
                .count()
                <= 20
        );
    }

    /// Every panel (here 6 rows of 2, the layout that had no axis titles) shows its x-axis
    /// title: each panel's cell holds pixels of the axis-title colour.
    #[test]
    fn every_panel_has_its_axis_title() {
        let mut rec = record();
        let base = rec.series[1].clone();
        for k in 0..5 {
            let mut s = base.clone();
            s.name = format!("metric_{k}");
            rec.series.push(s);
        }
        let an = analyze(&rec);
        assert_eq!(super::panel_series(&rec, &an).0.len(), 6);
        let (w, h) = (1200u32, 800u32);
        let opts = super::PngOptions {
            size: (w, h),
            ..super::PngOptions::default()
        };
        let png = super::draw(&rec, &an, &opts).unwrap();
        let mut dec = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut rgb = vec![0; dec.output_buffer_size()];
        dec.next_frame(&mut rgb).unwrap();
        let sz = super::sizes(w, h);
        let top = 22 + sz.title + sz.small + sz.small + 12;
        let row_h = (h - top) / 6;
        let c = super::AXIS_DESC;
        for r in 0..6 {
            for col in 0..2 {
                let hits = (top + r * row_h..top + (r + 1) * row_h)
                    .flat_map(|y| (col * w / 2..(col + 1) * w / 2).map(move |x| (x, y)))
                    .filter(|&(x, y)| {
                        // Text is blended into white: the pixel is white + a·(colour − white)
                        // with the same `a` in every channel (black text and grey grid lines
                        // give different `a`s for this colour's channels).
                        let i = ((y * w + x) * 3) as usize;
                        let a = |k: usize, v: u8| f64::from(255 - rgb[i + k]) / f64::from(255 - v);
                        let (ar, ag, ab) = (a(0, c.0), a(1, c.1), a(2, c.2));
                        ar > 0.6 && (ar - ag).abs() < 0.03 && (ar - ab).abs() < 0.03
                    })
                    .count();
                assert!(hits > 0, "panel row {r} column {col} has no axis title");
            }
        }
    }

    #[test]
    fn log_when_three_decades_or_forced() {
        assert!(super::use_log(&[1.0, 2000.0], false));
        assert!(!super::use_log(&[1.0, 999.0], false));
        assert!(super::use_log(&[1.0, 2.0], true));
        assert!(!super::use_log(&[-1.0, 2000.0], true));
    }

    #[test]
    fn tick_labels_tell_close_ticks_apart() {
        let f = super::tick_label(0.012);
        assert_eq!(
            [f(&0.010), f(&0.012), f(&0.014)],
            ["0.010", "0.012", "0.014"]
        );
        let f = super::tick_label(80.0);
        assert_eq!([f(&0.0), f(&20.0), f(&60.0)], ["0", "20", "60"]);
        let f = super::tick_label(1.0);
        assert_eq!(f(&0.2), "0.2");
    }
}
