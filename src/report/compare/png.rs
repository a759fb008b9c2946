//! The chart of a comparison (`compare.png`): the verdict in the title; first the gated
//! metrics, every run of both sides as a share of the base's median with the thresholds drawn;
//! then both sides' median runs overlaid.

use plotters::style::RGBColor;

use super::{verdict_line, CompareDocument};
use crate::analyze::sides::{Comparison, Side};
use crate::analyze::spec::{Metric, Threshold};
use crate::analyze::{best_so_far, cpu_percent_series};
use crate::model::{metric, RunRecord, Series};
use crate::report::png::panel::{point_labels, render_panels, Line, Mark, Panel};
use crate::report::png::style::{color, tick_decimals};
use crate::report::units::fmt_num;
use crate::report::ReportError;

/// The file `compare --format png` writes into its `--output` directory.
pub const COMPARE_PNG: &str = "compare.png";

/// Red: a broken threshold.
const FAILED: RGBColor = RGBColor(214, 39, 40);

/// The gated metrics (or, with no gate, the ones that regressed) whose base median is not 0:
/// each run of each side in % of the base's median, at x = 1, 2, ... with a dash at each
/// threshold; red where the gate failed. None when there is no such metric.
pub(super) fn gate_panel<'a>(c: &'a Comparison, sides: [&Side; 2]) -> Option<Panel<'a>> {
    let metrics: Vec<(&Metric, Option<&Threshold>)> = if c.thresholds.is_empty() {
        c.rows
            .iter()
            .filter(|r| r.verdict == crate::analyze::compare::Verdict::Regressed)
            .map(|r| (&r.metric, None))
            .collect()
    } else {
        c.thresholds.iter().map(|t| (&t.metric, Some(t))).collect()
    };
    let mut runs: [Vec<(f64, f64)>; 2] = [Vec::new(), Vec::new()];
    let mut lines = Vec::new();
    let mut names = Vec::new();
    // No share of a median of 0: said under the axis, not dropped silently.
    let mut undrawn = Vec::new();
    for (m, threshold) in metrics {
        let Some(row) = c.rows.iter().find(|r| r.metric == *m) else {
            continue;
        };
        if row.base.median == 0.0 {
            undrawn.push(c.label(m));
            continue;
        }
        let x = names.len() as f64 + 1.0;
        // This threshold broke (as the text's gate line says), not another one of the metric.
        let failed = threshold.is_some_and(|t| c.failures.iter().any(|f| f.threshold == *t));
        let change = row
            .change_pct
            .map_or(String::new(), |x| format!(" {x:+.1}%"));
        names.push(format!(
            "{}{change}{}",
            c.label(m),
            if failed { " FAILED" } else { "" }
        ));
        for (k, side) in sides.iter().enumerate() {
            let dx = if k == 0 { -0.15 } else { 0.15 };
            for v in side.values.get(m).into_iter().flatten() {
                runs[k].push((x + dx, v / row.base.median * 100.0));
            }
        }
        if let Some(pct) = threshold.map(|t| t.pct) {
            let y = if row.lower_is_better {
                100.0 + pct
            } else {
                100.0 - pct
            };
            lines.push(Line::new(
                "",
                if failed { FAILED } else { color(7) },
                vec![(x - 0.4, y), (x + 0.4, y)],
            ));
        }
    }
    if names.is_empty() {
        return None;
    }
    if let Some(l) = lines.first_mut() {
        l.label = "threshold (red: broken)".into();
    }
    for (k, (pts, label)) in runs.into_iter().zip(["base", "candidate"]).enumerate() {
        lines.push(Line {
            label: format!("{label}: each run"),
            color: color(k),
            pts,
            mark: Mark::Points,
        });
    }
    let n = names.len();
    let mut p = Panel::plain(
        "compare",
        format!(
            "{}{}",
            if c.thresholds.is_empty() {
                "regressed metric"
            } else {
                "gated metric"
            },
            if undrawn.is_empty() {
                String::new()
            } else {
                format!(
                    " ({} not drawn: base median 0, see the text)",
                    undrawn.join(", ")
                )
            }
        ),
        "% of the base median",
        lines,
        |v: &f64| format!("{}%", fmt_num(v.round())),
    );
    p.x_range = Some((0.5, n as f64 + 0.5));
    p.x_labels = n;
    p.x_fmt = Some(point_labels(names, 1));
    Some(p)
}

/// The chart: the gate panel (see [`gate_panel`]), then both sides' median-wall runs
/// overlaid: tree CPU, tree RSS and the main series' best so far. `runs` are the base's and
/// the candidate's run (id and record), when the side has one.
pub fn overlay_png(
    doc: &CompareDocument<'_>,
    sides: [&Side; 2],
    runs: [Option<(i64, &RunRecord)>; 2],
) -> Result<Vec<u8>, ReportError> {
    let (base, cand) = (doc.base, doc.cand);
    let mut cpu = Vec::new();
    let mut rss = Vec::new();
    let mut conv = Vec::new();
    for (i, (run, label)) in runs.iter().zip(["base", "candidate"]).enumerate() {
        let Some((id, rec)) = run else {
            continue;
        };
        let color = crate::report::png::style::color(i);
        let name = format!("{label} (run {id})");
        cpu.push(Line::new(
            name.clone(),
            color,
            cpu_percent_series(&rec.samples)
                .iter()
                .map(|p| (p.t_s, (p.user_pct + p.system_pct) / 100.0))
                .collect(),
        ));
        rss.push(Line::new(
            name.clone(),
            color,
            rec.samples
                .gauge(metric::RSS_KIB)
                .iter()
                .map(|(t, v)| (*t, *v as f64 / 1024.0))
                .collect(),
        ));
        if let Some((s, best)) = main_best_so_far(rec) {
            conv.push(Line::new(
                if runs
                    .iter()
                    .flatten()
                    .all(|(_, r)| r.series.iter().any(|o| o.main && o.name == s.name))
                {
                    name.clone()
                } else {
                    format!("{name}: {}", s.name)
                },
                color,
                best,
            ));
        }
    }
    let x_max = [&cpu, &rss, &conv]
        .iter()
        .flat_map(|ls| ls.iter().flat_map(|l| l.pts.iter().map(|p| p.0)))
        .fold(0.0, f64::max);
    let x_range = Some((0.0, x_max.max(1e-3)));
    let time = "time since start (s)";
    let mut panels: Vec<Panel> = gate_panel(doc.c, sides).into_iter().collect();
    let gated = panels.len();
    let (cpu_fmt, rss_fmt) = (value_ticks(&cpu), value_ticks(&rss));
    panels.push(Panel::plain(
        "compare",
        time,
        "tree CPU (cores)",
        cpu,
        cpu_fmt,
    ));
    panels.push(Panel::plain(
        "compare",
        time,
        "tree RSS (MiB)",
        rss,
        rss_fmt,
    ));
    if !conv.is_empty() {
        panels.push(Panel::plain(
            "compare",
            time,
            format!("{}, best so far", doc.c.label(&Metric::Best(None))),
            conv,
            |v: &f64| fmt_num(*v),
        ));
    }
    for p in panels.iter_mut().skip(gated) {
        p.x_range = x_range;
    }
    let title = verdict_line(doc.c, str::to_string);
    let sub = format!(
        "base {} = {}, candidate {} = {}; over time: each side's median-wall run",
        base.spec, base.label, cand.spec, cand.label
    );
    let h = 300 * panels.len() as u32;
    render_panels("compare", &title, &sub, &panels, (1200, h.max(600)))
}

/// The main series of `rec` and its best so far as (seconds, value), in the direction the text
/// and JSON use: stated, from a running best, the name, or assumed (not only a stated one).
fn main_best_so_far(rec: &RunRecord) -> Option<(&Series, Vec<(f64, f64)>)> {
    let k = rec.series.iter().position(|s| s.main)?;
    let s = &rec.series[k];
    let dir = crate::analyze::directions(&rec.series)[k].0;
    let best = best_so_far(dir, &s.points)
        .map(|(p, b)| (p.t_s, b))
        .collect();
    Some((s, best))
}

/// Tick labels with as many decimals as the largest value needs (at least 2), so an axis of
/// small values (0.003 cores of a sleeping command) does not read `0 0 0 0`.
fn value_ticks(lines: &[Line]) -> impl Fn(&f64) -> String {
    let top = lines
        .iter()
        .flat_map(|l| l.pts.iter().map(|p| p.1.abs()))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let decimals = tick_decimals(top, 5).max(2);
    move |v: &f64| format!("{v:.decimals$}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A main series whose direction comes from its name (`val_acc`, stated nowhere) is drawn
    /// as a running maximum, as the text and JSON report it.
    #[test]
    fn the_best_so_far_follows_the_resolved_direction() {
        let mut rec = crate::analyze::testutil::empty_record();
        let mut s = crate::analyze::testutil::series("val_acc", &[0.5, 0.7, 0.6, 0.8]);
        s.main = true;
        rec.series.push(s);
        let (_, best) = main_best_so_far(&rec).unwrap();
        let v: Vec<f64> = best.iter().map(|p| p.1).collect();
        assert_eq!(v, [0.5, 0.7, 0.7, 0.8]);
    }

    /// Small values get the decimals that tell their ticks apart (the CPU of a sleeping command
    /// read `0 0 0 0` with two fixed decimals); large ones keep two.
    #[test]
    fn value_ticks_tell_small_values_apart() {
        let line = |top: f64| Line::new("x", color(0), vec![(0.0, 0.0), (1.0, top)]);
        let small = value_ticks(&[line(0.0035)]);
        let labels: Vec<String> = [0.0, 0.001, 0.002, 0.003].iter().map(&small).collect();
        assert_eq!(labels, ["0.000", "0.001", "0.002", "0.003"]);
        let large = value_ticks(&[line(1.7)]);
        assert_eq!(large(&1.5), "1.50");
    }
}
