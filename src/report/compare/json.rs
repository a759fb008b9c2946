//! The compare JSON (schema [`COMPARE_SCHEMA_VERSION`], documented in docs/json-schema.md).

use super::CompareDocument;
use crate::analyze::compare::TestKind;
use crate::report::group::wire::Runs;

/// Version of the compare JSON; bumped only for breaking changes.
pub const COMPARE_SCHEMA_VERSION: u32 = 1;

impl CompareDocument<'_> {
    /// The compare JSON.
    pub fn json(&self) -> wire::Compare {
        let c = self.c;
        let finite = |v: f64| v.is_finite().then_some(v);
        wire::Compare {
            base: Runs::of(self.base),
            candidate: Runs::of(self.cand),
            gate: wire::Gate {
                failed: c
                    .failures
                    .iter()
                    .map(|f| wire::Failed {
                        metric: f.threshold.metric.to_string(),
                        threshold_pct: f.threshold.pct,
                        worse_by_pct: finite(f.worse_by_pct),
                    })
                    .collect(),
                inconclusive: c
                    .undecided
                    .iter()
                    .map(|u| wire::Inconclusive {
                        metric: u.threshold.metric.to_string(),
                        p: u.p,
                        spread_pct: finite(u.spread_pct),
                        threshold_pct: u.threshold.pct,
                        worse_by_pct: u.worse_by_pct,
                    })
                    .collect(),
                not_measured: c.not_measured.clone(),
                passed: c.passed(),
                thresholds: c
                    .thresholds
                    .iter()
                    .map(|t| wire::Threshold {
                        metric: t.metric.to_string(),
                        pct: t.pct,
                    })
                    .collect(),
            },
            hosts: wire::Hosts {
                base: self.cpus.base.iter().map(wire::Cpu::of).collect(),
                candidate: self.cpus.cand.iter().map(wire::Cpu::of).collect(),
                cores_differ: self.cpus.cores_differ(),
                cpu_models_differ: self.cpus.models_differ(),
                warning: super::cpu_warning(self.cpus),
            },
            method: wire::Method {
                alpha: c.opts.alpha,
                min_effect_pct: c.opts.min_effect_pct,
                test: c.test().map_or("ratio", TestKind::as_str),
            },
            rows: c
                .rows
                .iter()
                .map(|r| wire::Row {
                    base: wire::Summary::of(&r.base),
                    candidate: wire::Summary::of(&r.cand),
                    change_pct: r.change_pct,
                    label: c.label(&r.metric),
                    lower_is_better: r.lower_is_better,
                    metric: r.metric.to_string(),
                    p: r.p,
                    test: r.test,
                    verdict: r.verdict.as_str(),
                })
                .collect(),
            schema_version: COMPARE_SCHEMA_VERSION,
            shared_runs: self
                .base
                .ids
                .iter()
                .copied()
                .filter(|i| self.cand.ids.contains(i))
                .collect(),
        }
    }
}

/// The wire types of the compare JSON. Fields are in the order of their names, the order of
/// the output of earlier versions (which wrote sorted maps).
pub mod wire {
    use serde::Serialize;

    pub use crate::report::group::wire::Runs;

    #[derive(Debug, Serialize)]
    pub struct Compare {
        pub base: Runs,
        pub candidate: Runs,
        pub gate: Gate,
        /// The CPUs each side ran on (an additive key of schema version 1).
        pub hosts: Hosts,
        pub method: Method,
        pub rows: Vec<Row>,
        pub schema_version: u32,
        /// Runs on both sides (all of them when a selection is compared with itself).
        pub shared_runs: Vec<i64>,
    }

    /// The CPUs the runs of each side ran on, and whether they differ.
    #[derive(Debug, Serialize)]
    pub struct Hosts {
        pub base: Vec<Cpu>,
        pub candidate: Vec<Cpu>,
        pub cores_differ: bool,
        /// More than one known CPU model over both sides: times are not comparable.
        pub cpu_models_differ: bool,
        /// The warning `compare` prints when the models differ; null when they do not.
        pub warning: Option<String>,
    }

    /// One kind of CPU and the side's runs that ran on it.
    #[derive(Debug, Serialize)]
    pub struct Cpu {
        /// 0 when unknown.
        pub cores: u32,
        /// Empty when unknown.
        pub cpu_model: String,
        pub runs: Vec<i64>,
    }

    impl Cpu {
        pub fn of(c: &crate::analyze::hosts::Cpu) -> Cpu {
            Cpu {
                cores: c.cores,
                cpu_model: c.model.clone(),
                runs: c.runs.clone(),
            }
        }
    }

    #[derive(Debug, Serialize)]
    pub struct Method {
        pub alpha: f64,
        pub min_effect_pct: f64,
        /// `mann-whitney`, `welch`, or `ratio` with fewer than 3 runs a side.
        pub test: &'static str,
    }

    #[derive(Debug, Serialize)]
    pub struct Row {
        pub base: Summary,
        pub candidate: Summary,
        pub change_pct: Option<f64>,
        /// The metric for people: `best (loss)` names the main series.
        pub label: String,
        pub lower_is_better: bool,
        pub metric: String,
        pub p: Option<f64>,
        pub test: &'static str,
        pub verdict: &'static str,
    }

    #[derive(Debug, Serialize)]
    pub struct Summary {
        pub max: f64,
        pub mean: f64,
        pub median: f64,
        pub min: f64,
        pub n: usize,
        pub stddev: f64,
    }

    impl Summary {
        pub fn of(s: &crate::analyze::stats::Summary) -> Summary {
            Summary {
                max: s.max,
                mean: s.mean,
                median: s.median,
                min: s.min,
                n: s.n,
                stddev: s.stddev,
            }
        }
    }

    #[derive(Debug, Serialize)]
    pub struct Gate {
        pub failed: Vec<Failed>,
        pub inconclusive: Vec<Inconclusive>,
        pub not_measured: Vec<String>,
        pub passed: bool,
        pub thresholds: Vec<Threshold>,
    }

    #[derive(Debug, Serialize)]
    pub struct Threshold {
        pub metric: String,
        pub pct: f64,
    }

    #[derive(Debug, Serialize)]
    pub struct Failed {
        pub metric: String,
        pub threshold_pct: f64,
        /// Null when infinite (from exactly 0).
        pub worse_by_pct: Option<f64>,
    }

    #[derive(Debug, Serialize)]
    pub struct Inconclusive {
        pub metric: String,
        pub p: Option<f64>,
        /// Null when infinite (a side's minimum is 0).
        pub spread_pct: Option<f64>,
        pub threshold_pct: f64,
        pub worse_by_pct: f64,
    }
}
