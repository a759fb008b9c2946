//! The two sides of `perfmon compare`: the figures of each side's runs per metric, the rows
//! compared in a stable order, and the `--fail-on` gate with the thresholds it could not decide
//! (see [`super::compare`] for the method). Pure functions of the runs' figures.

use std::collections::BTreeMap;

use super::compare::{
    compare_metric, gate, inconclusive, CompareOptions, GateFailure, Inconclusive, Row, TestKind,
    MIN_RUNS_FOR_TEST,
};
use super::figures::{main_key, normalize, run_figures, Figure};
use super::spec::{Metric, Threshold};
use super::AnalyzeOptions;
use crate::model::RunRecord;

/// What a side keeps of one run: the key of its main series and its figures.
pub type RunFigures = (Option<String>, Vec<Figure>);

/// The key of the main series and the figures of a run, analyzed with tolerance `tol`.
pub fn run_figures_of(rec: &RunRecord, tol: f64) -> RunFigures {
    let an = super::analyze_for_figures(
        rec,
        &AnalyzeOptions {
            convergence_tol: tol,
        },
    );
    (main_key(&an), run_figures(rec, &an))
}

/// The figures of every run of one side, per metric.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Side {
    /// Number of runs.
    pub runs: usize,
    pub values: BTreeMap<Metric, Vec<f64>>,
    pub lower_is_better: BTreeMap<Metric, bool>,
    /// The main series of the first run that has one.
    pub main_series: Option<String>,
    /// Metric order of the first run (stable output).
    pub order: Vec<Metric>,
}

impl Side {
    /// A side from the figures of its runs, in run order.
    pub fn from_runs(per_run: impl IntoIterator<Item = RunFigures>) -> Side {
        let mut side = Side::default();
        for (main, figures) in per_run {
            side.runs += 1;
            if side.main_series.is_none() {
                side.main_series = main;
            }
            for f in figures {
                if !side.values.contains_key(&f.metric) {
                    side.order.push(f.metric.clone());
                }
                side.values
                    .entry(f.metric.clone())
                    .or_default()
                    .push(f.value);
                side.lower_is_better.insert(f.metric, f.lower_is_better);
            }
        }
        side
    }

    /// Of the runs `ids` (in the side's order), the one whose wall time is the median.
    pub fn representative(&self, ids: &[i64]) -> Option<i64> {
        let walls = self.values.get(&Metric::Wall)?;
        let mut idx: Vec<usize> = (0..walls.len().min(ids.len())).collect();
        idx.sort_by(|a, b| walls[*a].total_cmp(&walls[*b]));
        idx.get(idx.len() / 2).map(|i| ids[*i])
    }
}

/// The compared rows, in the base's metric order then the candidate's extra metrics.
pub fn compare_sides(base: &Side, cand: &Side, opts: &CompareOptions) -> Vec<Row> {
    let mut order = base.order.clone();
    for m in &cand.order {
        if !order.contains(m) {
            order.push(m.clone());
        }
    }
    order
        .into_iter()
        .filter_map(|m| {
            let b = base.values.get(&m)?;
            let c = cand.values.get(&m)?;
            let lower = base
                .lower_is_better
                .get(&m)
                .or_else(|| cand.lower_is_better.get(&m))
                .copied()
                .unwrap_or(true);
            compare_metric(m, b, c, lower, opts)
        })
        .collect()
}

/// A whole comparison: the rows, and the gate of the thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub opts: CompareOptions,
    /// Runs of the base and of the candidate.
    pub runs: (usize, usize),
    pub rows: Vec<Row>,
    /// The thresholds, a series named by its main series' name rewritten to `best` and kin.
    pub thresholds: Vec<Threshold>,
    pub failures: Vec<GateFailure>,
    pub undecided: Vec<Inconclusive>,
    /// Thresholds whose metric neither side measured.
    pub not_measured: Vec<String>,
    /// The main series of the base and of the candidate: what `best`, `final` and kin compare.
    pub main_series: (Option<String>, Option<String>),
}

impl Comparison {
    /// Compares two sides and gates the result with `thresholds`.
    pub fn new(
        base: &Side,
        cand: &Side,
        thresholds: Vec<Threshold>,
        opts: CompareOptions,
    ) -> Comparison {
        let rows = compare_sides(base, cand, &opts);
        // A threshold may name the main series by its name or as `best`.
        let thresholds: Vec<Threshold> = thresholds
            .into_iter()
            .map(|t| Threshold {
                metric: normalize(&t.metric, base.main_series.as_deref()),
                pct: t.pct,
            })
            .collect();
        let not_measured = thresholds
            .iter()
            .filter(|t| !rows.iter().any(|r| r.metric == t.metric))
            .map(|t| t.metric.to_string())
            .collect();
        Comparison {
            failures: gate(&rows, &thresholds),
            undecided: inconclusive(&rows, &thresholds),
            runs: (base.runs, cand.runs),
            opts,
            rows,
            thresholds,
            not_measured,
            main_series: (base.main_series.clone(), cand.main_series.clone()),
        }
    }

    /// The test of the rows: None with fewer than [`MIN_RUNS_FOR_TEST`] runs a side (the plain
    /// ratio decides).
    pub fn test(&self) -> Option<TestKind> {
        let (n, m) = self.runs;
        (n >= MIN_RUNS_FOR_TEST && m >= MIN_RUNS_FOR_TEST).then(|| self.opts.test.resolve(n, m))
    }

    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The name a row's metric goes by for people: `best (loss)` for the main series' figures
    /// (`best (loss vs fitness)` when the sides' main series differ), else the metric.
    pub fn label(&self, m: &Metric) -> String {
        let main = matches!(
            m,
            Metric::Best(None)
                | Metric::Final(None)
                | Metric::ConvergeIter(None)
                | Metric::ConvergeTime(None)
        );
        match (&self.main_series, main) {
            ((Some(b), Some(c)), true) if b != c => format!("{m} ({b} vs {c})"),
            ((Some(s), _), true) | ((None, Some(s)), true) => format!("{m} ({s})"),
            _ => m.to_string(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analyze::spec::parse_fail_on;

    fn fig(metric: Metric, value: f64) -> Figure {
        Figure {
            metric,
            value,
            lower_is_better: true,
        }
    }

    fn side(walls: &[f64], main: Option<&str>) -> Side {
        Side::from_runs(walls.iter().map(|w| {
            (
                main.map(str::to_string),
                vec![fig(Metric::Wall, *w), fig(Metric::Best(None), *w / 10.0)],
            )
        }))
    }

    #[test]
    fn sides_keep_order_runs_and_the_median_run() {
        let s = side(&[3.0, 1.0, 2.0], Some("loss"));
        assert_eq!(s.runs, 3);
        assert_eq!(s.order, [Metric::Wall, Metric::Best(None)]);
        assert_eq!(s.representative(&[10, 11, 12]), Some(12));
        assert_eq!(s.main_series.as_deref(), Some("loss"));
    }

    #[test]
    fn a_threshold_naming_the_main_series_gates_best() {
        let base = side(&[10.0, 10.1, 9.9, 10.0], Some("loss"));
        let cand = side(&[12.0, 12.1, 11.9, 12.0], Some("loss"));
        let c = Comparison::new(
            &base,
            &cand,
            parse_fail_on("best:loss>5%,gpu_mem>1%").unwrap(),
            CompareOptions::default(),
        );
        assert_eq!(c.thresholds[0].metric, Metric::Best(None));
        assert_eq!(c.failures.len(), 1);
        assert_eq!(c.not_measured, ["gpu_mem"]);
        assert_eq!(c.test(), Some(TestKind::MannWhitney));
        assert!(!c.passed());
        let single = Comparison::new(
            &side(&[1.0], None),
            &side(&[2.0], None),
            Vec::new(),
            CompareOptions::default(),
        );
        assert_eq!(single.test(), None);
        assert!(single.passed());
    }

    #[test]
    fn rows_of_the_main_series_name_it() {
        let c = Comparison::new(
            &side(&[1.0], Some("loss")),
            &side(&[2.0], Some("loss")),
            Vec::new(),
            CompareOptions::default(),
        );
        assert_eq!(c.label(&Metric::Best(None)), "best (loss)");
        assert_eq!(c.label(&Metric::Final(None)), "final (loss)");
        assert_eq!(c.label(&Metric::Best(Some("acc".into()))), "best:acc");
        assert_eq!(c.label(&Metric::Wall), "wall");
        let mixed = Comparison::new(
            &side(&[1.0], Some("loss")),
            &side(&[2.0], Some("fitness")),
            Vec::new(),
            CompareOptions::default(),
        );
        assert_eq!(mixed.label(&Metric::Best(None)), "best (loss vs fitness)");
    }
}
