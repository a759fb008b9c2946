//! resources.png: stacked panels on one time axis: tree CPU% (user, system), tree RSS, disk
//! read/write rate, and GPU utilization and memory when present; top-level timer spans are
//! shaded as labelled bands, with a key of phase colours under the title.

use plotters::prelude::*;

use super::panel::{draw_panel, Band, Line, Look, Panel};
use super::style::{
    byte_unit, ce, color, draw_png, header, sizes, time_unit, y_range, Area, FAMILY,
};
use super::PngOptions;
use crate::analyze::{cpu_percent_series, gpu_indices, Analysis};
use crate::model::{metric, RunRecord};
use crate::report::units::{fmt_num, truncate};
use crate::report::ReportError;

const CHART: &str = "resources.png";

/// A panel to draw: y axis name, lines, y tick formatter, y range.
type PanelSpec = (String, Vec<Line>, Box<dyn Fn(&f64) -> String>, (f64, f64));

/// Top-level spans as bands, one colour per phase name (in order of first appearance).
pub(super) fn phase_bands(rec: &RunRecord) -> (Vec<Band>, Vec<(String, RGBColor)>) {
    let mut names: Vec<(String, RGBColor)> = Vec::new();
    let mut bands = Vec::new();
    for s in rec.timers.iter().filter(|s| s.depth == 0) {
        let c = match names.iter().find(|(n, _)| *n == s.name) {
            Some((_, c)) => *c,
            None => {
                let c = color(names.len() + 3);
                names.push((s.name.clone(), c));
                c
            }
        };
        bands.push(Band {
            start_s: s.start_s,
            end_s: s.end_s,
            color: c,
            label: truncate(&s.name, 24),
        });
    }
    (bands, names)
}

/// The key "phases: ■ a ■ b …" on one line; names that do not fit are summarized.
fn phase_key(area: &Area<'_>, names: &[(String, RGBColor)]) -> Result<(), ReportError> {
    let (w, _) = area.dim_in_pixel();
    let sz = sizes(w, w);
    let font = (FAMILY, sz.small).into_font();
    let mut x = 12i32;
    area.draw_text("phases:", &font.color(&BLACK), (x, 4))
        .map_err(ce(CHART))?;
    x += (sz.small as f64 * 0.6 * 8.0) as i32;
    for (i, (n, c)) in names.iter().enumerate() {
        let label = truncate(n, 30);
        let tw = (label.chars().count() as f64 * sz.small as f64 * 0.6) as i32 + 28;
        if x + tw > w as i32 - 120 {
            let rest = format!("and {} more", names.len() - i);
            area.draw_text(&rest, &font.color(&BLACK), (x, 4))
                .map_err(ce(CHART))?;
            break;
        }
        area.draw(&Rectangle::new(
            [(x, 6), (x + 14, 6 + sz.small as i32 - 2)],
            c.mix(0.5).filled(),
        ))
        .map_err(ce(CHART))?;
        area.draw_text(&label, &font.color(&BLACK), (x + 18, 4))
            .map_err(ce(CHART))?;
        x += tw;
    }
    Ok(())
}

pub(super) fn draw(
    rec: &RunRecord,
    _an: &Analysis,
    opts: &PngOptions,
) -> Result<Vec<u8>, ReportError> {
    draw_png(opts.size, |root| {
        let body = header(root, rec, CHART, "Resources")?;
        let s = &rec.samples;
        let x_max_s =
            crate::analyze::wall_of(rec).max(s.t_us.last().map_or(0.0, |t| *t as f64 / 1e6));
        let tu = time_unit(x_max_s);
        let (bands, names) = phase_bands(rec);
        let body = if names.is_empty() {
            body
        } else {
            let sz = sizes(opts.size.0, opts.size.1);
            let (key, rest) = body.split_vertically(sz.small + 10);
            phase_key(&key, &names)?;
            rest
        };
        let cpu = cpu_percent_series(s);
        let rss: Vec<(f64, f64)> = s
            .gauge(metric::RSS_KIB)
            .into_iter()
            .map(|(t, v)| (t, v as f64 * 1024.0))
            .collect();
        let rd = s.rate(metric::READ_BYTES);
        let wr = s.rate(metric::WRITE_BYTES);
        let gpus = gpu_indices(rec);
        let mut panels: Vec<PanelSpec> = Vec::new();
        let pct = |v: &f64| format!("{v:.0}%");
        let lines = vec![
            Line::new(
                "user (100% = 1 core)",
                color(0),
                cpu.iter().map(|p| (p.t_s, p.user_pct)).collect(),
            ),
            Line::new(
                "system",
                color(3),
                cpu.iter().map(|p| (p.t_s, p.system_pct)).collect(),
            ),
        ];
        let yr = y_range(
            lines
                .iter()
                .flat_map(|l| l.pts.iter().map(|p| p.1))
                .chain([100.0]),
        );
        panels.push(("CPU (%)".into(), lines, Box::new(pct), yr));
        let (div, unit) = byte_unit(rss.iter().map(|p| p.1).fold(0.0, f64::max));
        let rss_line = Line::new(
            "tree RSS",
            color(2),
            rss.iter().map(|p| (p.0, p.1 / div)).collect(),
        );
        let yr = y_range(rss_line.pts.iter().map(|p| p.1));
        panels.push((
            format!("RSS ({unit})"),
            vec![rss_line],
            Box::new(|v: &f64| fmt_num((*v * 10.0).round() / 10.0)),
            yr,
        ));
        let io = vec![
            Line::new(
                "read",
                color(1),
                rd.iter().map(|p| (p.0, p.1 / 1e6)).collect(),
            ),
            Line::new(
                "write",
                color(4),
                wr.iter().map(|p| (p.0, p.1 / 1e6)).collect(),
            ),
        ];
        let yr = y_range(io.iter().flat_map(|l| l.pts.iter().map(|p| p.1)));
        panels.push((
            "disk (MB/s)".into(),
            io,
            Box::new(|v: &f64| fmt_num((*v * 100.0).round() / 100.0)),
            yr,
        ));
        if !gpus.is_empty() {
            let util: Vec<Line> = gpus
                .iter()
                .enumerate()
                .map(|(k, n)| {
                    Line::new(
                        format!("GPU {n} utilization"),
                        color(k + 5),
                        s.gauge(&metric::gpu(*n, "util_pct"))
                            .into_iter()
                            .map(|(t, v)| (t, v as f64))
                            .collect(),
                    )
                })
                .collect();
            panels.push(("GPU (%)".into(), util, Box::new(pct), (0.0, 105.0)));
            let mem_max = gpus
                .iter()
                .flat_map(|n| s.gauge(&metric::gpu(*n, "mem_used_bytes")))
                .map(|p| p.1 as f64)
                .fold(0.0, f64::max);
            let (div, unit) = byte_unit(mem_max);
            let mem: Vec<Line> = gpus
                .iter()
                .enumerate()
                .map(|(k, n)| {
                    Line::new(
                        format!("GPU {n} memory used"),
                        color(k + 5),
                        s.gauge(&metric::gpu(*n, "mem_used_bytes"))
                            .into_iter()
                            .map(|(t, v)| (t, v as f64 / div))
                            .collect(),
                    )
                })
                .collect();
            let yr = y_range(mem.iter().flat_map(|l| l.pts.iter().map(|p| p.1)));
            panels.push((
                format!("GPU ({unit})"),
                mem,
                Box::new(|v: &f64| fmt_num((*v * 10.0).round() / 10.0)),
                yr,
            ));
        }
        let n = panels.len();
        // The bottom panel also holds the time axis: give it that much more height.
        let (_, h) = body.dim_in_pixel();
        let axis = sizes(opts.size.0, opts.size.1).text * 3;
        let each = (h.saturating_sub(axis)) / n as u32;
        let mut rest = body;
        for (i, (desc, lines, fmt, yr)) in panels.into_iter().enumerate() {
            let bottom = i + 1 == n;
            let (area, next) = if bottom {
                let (a, b) = rest.split_vertically(rest.dim_in_pixel().1);
                (a, b)
            } else {
                rest.split_vertically(each)
            };
            let p = Panel {
                chart: CHART,
                look: Look::Stacked {
                    bottom,
                    label_bands: i == 0,
                },
                x_desc: format!("time since start ({})", tu.name),
                y_desc: desc,
                x_range: Some((0.0, (x_max_s / tu.div).max(1e-9))),
                y_range: Some(yr),
                x_div: tu.div,
                y_fmt: fmt,
                lines,
                bands: &bands,
                markers: Vec::new(),
                x_fmt: None,
                x_labels: 10,
            };
            draw_panel(&area, &p)?;
            rest = next;
        }
        Ok(())
    })
}
