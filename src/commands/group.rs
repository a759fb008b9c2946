//! `perfmon report NAME --group` (or `report group:N`): the runs of a `--repeat` group side by
//! side: mean ± σ, median, min and max of every figure (wall, CPU, peak RSS, each timer's total,
//! each series' best and final value), outliers flagged as hyperfine does, and with `--target`
//! (or `[targets]` in perfmon.toml) the success rate and expected running time (ERT) to reach
//! the target, with the empirical distribution of time to target as a PNG.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::json;

use super::select::{select, Selection};
use crate::analyze::figures::{main_key, series_keys};
use crate::analyze::spec::Metric;
use crate::analyze::stats::{outliers, summarize, Summary};
use crate::analyze::target::{
    attempt, ecdf_time_to_target, summarize as target_summary, TargetSummary,
};
use crate::analyze::{analyze_with, AnalyzeOptions};
use crate::cli::{ReportArgs, ReportFormat};
use crate::model::{Direction, RunRecord};
use crate::report::units::fmt_metric;
use crate::store::Store;

/// Version of the group JSON.
pub const GROUP_SCHEMA_VERSION: u32 = 1;

/// One metric over the group.
pub struct MetricRow {
    pub metric: Metric,
    pub summary: Summary,
    /// Runs whose value is an outlier (modified z-score, as hyperfine).
    pub outlier_runs: Vec<i64>,
}

/// A group's summary.
pub struct GroupReport {
    pub sel: Selection,
    pub command: String,
    pub rows: Vec<MetricRow>,
    /// (series key, target summary).
    pub targets: Vec<(String, TargetSummary)>,
}

/// True when `report` should show a group: `group:N`, or `--group`.
pub fn wants_group(a: &ReportArgs) -> bool {
    a.group || a.run.starts_with("group:")
}

pub fn report_group(db: &Path, a: &ReportArgs) -> Result<i32> {
    let store = Store::open_readonly(db)?;
    // `--group` with a run id or `last`: that run's group.
    let spec = if a.run.starts_with("group:") {
        a.run.clone()
    } else {
        let id = store.resolve(&a.run)?;
        let rec = store.load_run_summary(id)?;
        match rec.meta.group_id {
            Some(g) => format!("group:{g}"),
            None => id.to_string(),
        }
    };
    let sel = select(&store, &spec)?;
    let mut runs = Vec::new();
    for id in &sel.ids {
        runs.push(
            store
                .load_run(*id)
                .with_context(|| format!("cannot read run {id}"))?,
        );
    }
    let mut targets: BTreeMap<String, f64> = crate::config::load()?.config.targets;
    if let Some(t) = a.target {
        targets.insert("best".into(), t);
    }
    let g = build(sel, &runs, &targets, a.converge_tol);
    let out = match a.format {
        ReportFormat::Text => text(&g),
        ReportFormat::Json => serde_json::to_string_pretty(&to_json(&g))? + "\n",
        ReportFormat::Markdown => markdown(&g),
        ReportFormat::Png => {
            let Some(dir) = &a.output else {
                bail!("--format png needs --output DIR (one file per chart)");
            };
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            if g.targets.is_empty() {
                eprintln!("perfmon: no target given (--target VALUE or [targets] in perfmon.toml): no time-to-target chart");
            }
            for (key, t) in &g.targets {
                let p = dir.join(format!("time-to-target-{}.png", file_safe(key)));
                std::fs::write(&p, ecdf_chart(&g, key, t, a.size)?)
                    .with_context(|| format!("writing {}", p.display()))?;
                eprintln!("perfmon: wrote {}", p.display());
            }
            return Ok(0);
        }
        ReportFormat::Html | ReportFormat::Trace => {
            bail!("a group report is text, json, markdown or png; html and trace show one run")
        }
    };
    match &a.output {
        Some(p) => std::fs::write(p, out).with_context(|| format!("writing {}", p.display()))?,
        None => super::write_stdout(&out)?,
    }
    Ok(0)
}

fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Summarizes the runs of a group; `targets` maps a series key (`best` or `main` for the main
/// series) to its target value.
pub fn build(
    sel: Selection,
    runs: &[RunRecord],
    targets: &BTreeMap<String, f64>,
    tol: f64,
) -> GroupReport {
    let opts = AnalyzeOptions {
        convergence_tol: tol,
    };
    let mut order: Vec<Metric> = Vec::new();
    let mut values: BTreeMap<Metric, Vec<(i64, f64)>> = BTreeMap::new();
    // Per series label: direction, target, one attempt per run.
    type Attempts = (Direction, f64, Vec<crate::analyze::target::Attempt>);
    let mut attempts: BTreeMap<String, Attempts> = BTreeMap::new();
    for rec in runs {
        let an = analyze_with(rec, &opts);
        for f in crate::analyze::figures::run_figures(rec, &an) {
            if !values.contains_key(&f.metric) {
                order.push(f.metric.clone());
            }
            values
                .entry(f.metric)
                .or_default()
                .push((rec.meta.id, f.value));
        }
        let keys = series_keys(&an);
        let main = main_key(&an);
        for (key, target) in targets {
            let want = if key == "best" || key == "main" {
                main.clone()
            } else {
                Some(key.clone())
            };
            let idx = want.and_then(|w| keys.iter().position(|k| *k == w));
            let (series, dir) = match idx {
                Some(i) => (rec.series.get(i), an.series[i].direction),
                None => (None, Direction::Minimize),
            };
            let label = match (key.as_str(), &main) {
                ("best" | "main", Some(m)) => m.clone(),
                _ => key.clone(),
            };
            let e = attempts
                .entry(label)
                .or_insert_with(|| (dir, *target, Vec::new()));
            if series.is_some() {
                e.0 = dir;
            }
            e.2.push(attempt(rec.meta.id, series, *target, e.0, rec.meta.wall_s));
        }
    }
    let rows = order
        .into_iter()
        .filter_map(|m| {
            let v = values.get(&m)?;
            let xs: Vec<f64> = v.iter().map(|(_, x)| *x).collect();
            Some(MetricRow {
                summary: summarize(&xs)?,
                outlier_runs: outliers(&xs).into_iter().map(|i| v[i].0).collect(),
                metric: m,
            })
        })
        .collect();
    let tsum = attempts
        .into_iter()
        .map(|(label, (dir, target, att))| (label, target_summary(target, dir, att)))
        .collect();
    GroupReport {
        command: runs
            .first()
            .map(|r| r.meta.command.join(" "))
            .unwrap_or_default(),
        sel,
        rows,
        targets: tsum,
    }
}

fn fmt_target(key: &str, t: &TargetSummary) -> String {
    let cmp = match t.direction {
        Direction::Minimize => "<=",
        Direction::Maximize => ">=",
    };
    let ert = match (t.ert_iters, t.ert_s) {
        (Some(i), Some(s)) => format!("ERT {i:.1} iterations, {}", fmt_metric("wall", s)),
        (Some(i), None) => format!(
            "ERT {i:.1} iterations, seconds unknown (a run that missed the target has no wall time)"
        ),
        _ => "ERT infinite (no run reached the target)".into(),
    };
    format!(
        "{key} {cmp} {}: {}/{} runs reached it ({:.0}%), {ert}",
        t.target,
        t.successes,
        t.runs,
        t.success_rate * 100.0
    )
}

fn text(g: &GroupReport) -> String {
    let mut o = format!(
        "perfmon group: {} = {} [{}]\n  command  {}\n\n",
        g.sel.spec,
        g.sel.label,
        g.sel
            .ids
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(" "),
        g.command
    );
    let rows: Vec<Vec<String>> = g
        .rows
        .iter()
        .map(|r| {
            let m = r.metric.to_string();
            let s = &r.summary;
            vec![
                m.clone(),
                format!("{} ± {}", fmt_metric(&m, s.mean), fmt_metric(&m, s.stddev)),
                fmt_metric(&m, s.median),
                fmt_metric(&m, s.min),
                fmt_metric(&m, s.max),
                if r.outlier_runs.is_empty() {
                    "-".into()
                } else {
                    r.outlier_runs
                        .iter()
                        .map(|i| format!("run {i}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            ]
        })
        .collect();
    o.push_str(&crate::report::text::table(
        &["metric", "mean ± σ", "median", "min", "max", "outliers"],
        &rows,
        1,
    ));
    if g.rows.iter().any(|r| !r.outlier_runs.is_empty()) {
        o.push_str("\n  outliers: |x - median| > 14.826 × MAD (hyperfine's rule); rerun on a quiet machine\n");
    }
    if !g.targets.is_empty() {
        o.push_str(
            "\nTargets (ERT as COCO defines it: effort of all runs until success / successes)\n",
        );
        for (k, t) in &g.targets {
            o.push_str(&format!("  {}\n", fmt_target(k, t)));
        }
    }
    o
}

fn markdown(g: &GroupReport) -> String {
    let esc = crate::report::units::md_escape;
    let mut o = format!(
        "### perfmon group {}\n\n{} runs of `{}`\n\n| metric | mean ± σ | median | min | max | outliers |\n|---|---:|---:|---:|---:|---|\n",
        esc(&g.sel.label),
        g.sel.ids.len(),
        esc(&g.command)
    );
    for r in &g.rows {
        let m = r.metric.to_string();
        let s = &r.summary;
        o.push_str(&format!(
            "| {} | {} ± {} | {} | {} | {} | {} |\n",
            esc(&m),
            fmt_metric(&m, s.mean),
            fmt_metric(&m, s.stddev),
            fmt_metric(&m, s.median),
            fmt_metric(&m, s.min),
            fmt_metric(&m, s.max),
            r.outlier_runs
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for (k, t) in &g.targets {
        o.push_str(&format!("\n- {}\n", esc(&fmt_target(k, t))));
    }
    o
}

fn to_json(g: &GroupReport) -> serde_json::Value {
    json!({
        "schema_version": GROUP_SCHEMA_VERSION,
        "group": {"selection": g.sel.spec, "label": g.sel.label, "runs": g.sel.ids},
        "command": g.command,
        "metrics": g.rows.iter().map(|r| json!({
            "metric": r.metric.to_string(),
            "n": r.summary.n,
            "mean": r.summary.mean,
            "stddev": r.summary.stddev,
            "median": r.summary.median,
            "min": r.summary.min,
            "max": r.summary.max,
            "outlier_runs": r.outlier_runs,
        })).collect::<Vec<_>>(),
        "targets": g.targets.iter().map(|(k, t)| json!({
            "series": k,
            "target": t.target,
            "direction": match t.direction { Direction::Minimize => "minimize", Direction::Maximize => "maximize" },
            "runs": t.runs,
            "successes": t.successes,
            "success_rate": t.success_rate,
            "ert_iters": t.ert_iters,
            "ert_s": t.ert_s,
            "attempts": t.attempts.iter().map(|a| json!({
                "run_id": a.run_id,
                "success": a.success,
                "hit_iter": a.hit_iter,
                "hit_t_s": a.hit_t_s,
                "spent_iters": a.spent_iters,
                "spent_s": a.spent_s,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn ecdf_chart(g: &GroupReport, key: &str, t: &TargetSummary, size: (u32, u32)) -> Result<Vec<u8>> {
    use crate::report::png::xy::{render_xy, Mark, XyLine, XyPanel};
    // From the start of the runs, so the staircase begins at 0%.
    let mut pts = vec![(0.0, 0.0)];
    pts.extend(ecdf_time_to_target(t));
    let panel = XyPanel {
        x_desc: "time to target (s since the run started)".into(),
        y_desc: "share of runs that reached it".into(),
        lines: vec![XyLine {
            label: format!("{key}: {}/{} runs", t.successes, t.runs),
            color: crate::report::png::style::color(0),
            pts,
            mark: Mark::Step,
        }],
        markers: Vec::new(),
        x_range: None,
        y_range: Some((0.0, 1.0)),
        y_fmt: |v| format!("{:.0}%", v * 100.0),
    };
    let title = format!(
        "time to target: {key} {} {}",
        match t.direction {
            Direction::Minimize => "<=",
            Direction::Maximize => ">=",
        },
        t.target
    );
    let sub = format!("{} - {}", g.sel.label, fmt_target(key, t));
    Ok(render_xy("time-to-target", &title, &sub, &[panel], size)?)
}
