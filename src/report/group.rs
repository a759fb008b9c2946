//! A group report (`perfmon report NAME --group`): the summary of a group's runs
//! ([`GroupSummary`]) as text, Markdown, JSON (schema [`GROUP_SCHEMA_VERSION`], documented in
//! docs/json-schema.md) and the time-to-target chart.

use super::png::panel::{render_panels, Line, Mark, Panel};
use super::table::Table;
use super::units::{fmt_metric, md_escape};
use super::{ReportError, Selection};
use crate::analyze::group::GroupSummary;
use crate::analyze::target::{ecdf_time_to_target, TargetSummary};
use crate::model::Direction;

/// Version of the group JSON.
pub const GROUP_SCHEMA_VERSION: u32 = 1;

/// `minimize` or `maximize`.
fn direction(d: Direction) -> &'static str {
    match d {
        Direction::Minimize => "minimize",
        Direction::Maximize => "maximize",
    }
}

/// `<=` for a minimized series, `>=` for a maximized one.
fn reached(d: Direction) -> &'static str {
    match d {
        Direction::Minimize => "<=",
        Direction::Maximize => ">=",
    }
}

/// `loss <= 5: 3/4 runs reached it (75%), ERT 8.3 iterations, 265 ms`.
pub fn fmt_target(key: &str, t: &TargetSummary) -> String {
    let ert = match (t.ert_iters, t.ert_s) {
        (Some(i), Some(s)) => format!("ERT {i:.1} iterations, {}", fmt_metric("wall", s)),
        (Some(i), None) => format!(
            "ERT {i:.1} iterations, seconds unknown (a run that missed the target has no wall time)"
        ),
        _ => "ERT infinite (no run reached the target)".into(),
    };
    format!(
        "{key} {} {}: {}/{} runs reached it ({:.0}%), {ert}",
        reached(t.direction),
        t.target,
        t.successes,
        t.runs,
        t.success_rate * 100.0
    )
}

/// The metrics table; `outliers` writes a row's outlier runs.
fn metrics_table(
    g: &GroupSummary,
    esc: fn(&str) -> String,
    outliers: fn(&[i64]) -> String,
) -> Table {
    let mut t = Table::new(
        &["metric", "mean ± σ", "median", "min", "max", "outliers"],
        1,
    );
    for r in &g.rows {
        let m = r.metric.to_string();
        let s = &r.summary;
        t.row(vec![
            esc(&m),
            format!("{} ± {}", fmt_metric(&m, s.mean), fmt_metric(&m, s.stddev)),
            fmt_metric(&m, s.median),
            fmt_metric(&m, s.min),
            fmt_metric(&m, s.max),
            outliers(&r.outlier_runs),
        ]);
    }
    t
}

fn ids(v: &[i64]) -> String {
    v.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn text(sel: &Selection, g: &GroupSummary) -> String {
    let mut o = format!(
        "perfmon group: {} = {} [{}]\n  command  {}\n\n",
        sel.spec,
        sel.label,
        ids(&sel.ids),
        g.command
    );
    let table = metrics_table(g, str::to_string, |runs| {
        if runs.is_empty() {
            "-".into()
        } else {
            runs.iter()
                .map(|i| format!("run {i}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    });
    o.push_str(&table.text(2));
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

pub fn markdown(sel: &Selection, g: &GroupSummary) -> String {
    let esc = md_escape;
    let mut o = format!(
        "### perfmon group {}\n\n{} runs of `{}`\n\n",
        esc(&sel.label),
        sel.ids.len(),
        esc(&g.command)
    );
    let table = metrics_table(g, esc, |runs| {
        runs.iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    })
    .last_left();
    o.push_str(&table.markdown());
    for (k, t) in &g.targets {
        o.push_str(&format!("\n- {}\n", esc(&fmt_target(k, t))));
    }
    o
}

/// The wire types of the group JSON. Fields are in the order of their names, the order of the
/// output of earlier versions (which wrote sorted maps).
pub mod wire {
    use serde::Serialize;

    #[derive(Debug, Serialize)]
    pub struct Group {
        pub command: String,
        pub group: Runs,
        pub metrics: Vec<Metric>,
        pub schema_version: u32,
        pub targets: Vec<Target>,
    }

    /// A selection of runs (the group, or a side of a comparison).
    #[derive(Debug, Serialize)]
    pub struct Runs {
        pub label: String,
        pub runs: Vec<i64>,
        pub selection: String,
    }

    #[derive(Debug, Serialize)]
    pub struct Metric {
        pub max: f64,
        pub mean: f64,
        pub median: f64,
        pub metric: String,
        pub min: f64,
        pub n: usize,
        pub outlier_runs: Vec<i64>,
        pub stddev: f64,
    }

    #[derive(Debug, Serialize)]
    pub struct Target {
        pub attempts: Vec<Attempt>,
        pub direction: &'static str,
        pub ert_iters: Option<f64>,
        pub ert_s: Option<f64>,
        pub runs: usize,
        pub series: String,
        pub success_rate: f64,
        pub successes: usize,
        pub target: f64,
    }

    #[derive(Debug, Serialize)]
    pub struct Attempt {
        pub hit_iter: Option<i64>,
        pub hit_t_s: Option<f64>,
        pub run_id: i64,
        pub spent_iters: i64,
        pub spent_s: Option<f64>,
        pub success: bool,
    }
}

impl wire::Runs {
    pub fn of(sel: &Selection) -> wire::Runs {
        wire::Runs {
            label: sel.label.clone(),
            runs: sel.ids.clone(),
            selection: sel.spec.clone(),
        }
    }
}

/// The group JSON.
pub fn json(sel: &Selection, g: &GroupSummary) -> wire::Group {
    wire::Group {
        command: g.command.clone(),
        group: wire::Runs::of(sel),
        metrics: g
            .rows
            .iter()
            .map(|r| wire::Metric {
                max: r.summary.max,
                mean: r.summary.mean,
                median: r.summary.median,
                metric: r.metric.to_string(),
                min: r.summary.min,
                n: r.summary.n,
                outlier_runs: r.outlier_runs.clone(),
                stddev: r.summary.stddev,
            })
            .collect(),
        schema_version: GROUP_SCHEMA_VERSION,
        targets: g
            .targets
            .iter()
            .map(|(k, t)| wire::Target {
                attempts: t
                    .attempts
                    .iter()
                    .map(|a| wire::Attempt {
                        hit_iter: a.hit_iter,
                        hit_t_s: a.hit_t_s,
                        run_id: a.run_id,
                        spent_iters: a.spent_iters,
                        spent_s: a.spent_s,
                        success: a.success,
                    })
                    .collect(),
                direction: direction(t.direction),
                ert_iters: t.ert_iters,
                ert_s: t.ert_s,
                runs: t.runs,
                series: k.clone(),
                success_rate: t.success_rate,
                successes: t.successes,
                target: t.target,
            })
            .collect(),
    }
}

/// The file name of the time-to-target chart of series `key`.
pub fn chart_file(key: &str) -> String {
    let safe: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("time-to-target-{safe}.png")
}

/// The empirical distribution of the time to target of series `key`.
pub fn time_to_target_png(
    sel: &Selection,
    key: &str,
    t: &TargetSummary,
    size: (u32, u32),
) -> Result<Vec<u8>, ReportError> {
    // From the start of the runs, so the staircase begins at 0%.
    let mut pts = vec![(0.0, 0.0)];
    pts.extend(ecdf_time_to_target(t));
    let mut panel = Panel::plain(
        "time-to-target",
        "time to target (s since the run started)",
        "share of runs that reached it",
        vec![Line {
            label: format!("{key}: {}/{} runs", t.successes, t.runs),
            color: super::png::style::color(0),
            pts,
            mark: Mark::Step,
        }],
        |v: &f64| format!("{:.0}%", v * 100.0),
    );
    panel.y_range = Some((0.0, 1.0));
    let title = format!(
        "time to target: {key} {} {}",
        reached(t.direction),
        t.target
    );
    let sub = format!("{} - {}", sel.label, fmt_target(key, t));
    render_panels("time-to-target", &title, &sub, &[panel], size)
}
