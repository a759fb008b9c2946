//! The runs of a `--repeat` group side by side: mean ± σ, median, min and max of every figure,
//! the outlier runs (modified z-score, as hyperfine), and per target the success rate and the
//! expected running time (see [`super::target`]). Pure function of the analyzed runs.

use std::collections::BTreeMap;

use super::figures::{main_key, run_figures, series_keys};
use super::spec::Metric;
use super::stats::{outliers, summarize, Summary};
use super::target::{attempt, summarize as target_summary, Attempt, TargetSummary};
use super::{analyze_with, AnalyzeOptions};
use crate::model::{Direction, RunRecord};

/// One metric over the group.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    pub metric: Metric,
    pub summary: Summary,
    /// Runs whose value is an outlier (modified z-score, as hyperfine).
    pub outlier_runs: Vec<i64>,
}

/// A group's summary.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSummary {
    /// The command of the first run.
    pub command: String,
    pub rows: Vec<MetricRow>,
    /// (series key, target summary).
    pub targets: Vec<(String, TargetSummary)>,
}

/// Summarizes the runs of a group; `targets` maps a series key (`best` or `main` for the main
/// series) to its target value; `tol` is the convergence tolerance.
pub fn summarize_group(
    runs: &[RunRecord],
    targets: &BTreeMap<String, f64>,
    tol: f64,
) -> GroupSummary {
    let opts = AnalyzeOptions {
        convergence_tol: tol,
    };
    let mut order: Vec<Metric> = Vec::new();
    let mut values: BTreeMap<Metric, Vec<(i64, f64)>> = BTreeMap::new();
    // Per series label: direction, target, one attempt per run.
    let mut attempts: BTreeMap<String, (Direction, f64, Vec<Attempt>)> = BTreeMap::new();
    for rec in runs {
        let an = analyze_with(rec, &opts);
        for f in run_figures(rec, &an) {
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
    GroupSummary {
        command: runs
            .first()
            .map(|r| r.meta.command.join(" "))
            .unwrap_or_default(),
        rows,
        targets: attempts
            .into_iter()
            .map(|(label, (dir, target, att))| (label, target_summary(target, dir, att)))
            .collect(),
    }
}
