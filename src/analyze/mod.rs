//! Statistics derived from stored runs, with no rendering: per-series convergence, per-timer
//! aggregates, resource efficiency from the samples, and findings that cross documented
//! thresholds; across runs, the summaries of a group, the two sides of a comparison and a
//! metric's history with its change points. Every figure is computed from measured data only; when the data needed for a
//! figure is absent the figure is `None`, never a guess.

pub mod budget;
pub mod changepoint;
pub mod compare;
mod direction;
pub mod figures;
mod findings;
pub mod group;
pub mod history;
pub mod hosts;
mod resources;
mod role;
mod series;
pub mod sides;
pub mod spec;
pub mod stats;
pub mod target;
mod timers;

pub use crate::parse::names::{infer_direction, stated_direction};
pub use direction::{
    apply_directions, directions, parse_direction, parse_direction_rule, DirectionSource, RECORDED,
};
pub use findings::{thresholds, Finding, FindingKind};
pub use resources::{cpu_percent_series, gpu_indices, CpuPoint, GpuUsage, Resources};
pub use role::{parameter_name, role as role_of};
pub use series::{best_so_far, SeriesStats, PLATEAU_MIN_POINTS, PLATEAU_SHARE};
pub use timers::TimerStats;

use crate::model::RunRecord;

/// Knobs of the analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalyzeOptions {
    /// Relative tolerance for the convergence point: the first point whose best-so-far is within
    /// `convergence_tol × |best|` of the final best (absolute when the best is 0).
    pub convergence_tol: f64,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            convergence_tol: 0.01,
        }
    }
}

/// Everything the renderers show beyond the raw record.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// Wall time used for shares: the recorded wall, else the last sample/span/point time.
    pub wall_s: f64,
    /// One entry per series of the record, in the record's order.
    pub series: Vec<SeriesStats>,
    /// One entry per timer name, in order of first start.
    pub timers: Vec<TimerStats>,
    pub resources: Resources,
    pub findings: Vec<Finding>,
}

/// [`analyze_with`] and the default options.
pub fn analyze(rec: &RunRecord) -> Analysis {
    analyze_with(rec, &AnalyzeOptions::default())
}

pub fn analyze_with(rec: &RunRecord, opts: &AnalyzeOptions) -> Analysis {
    let an = analysis_without_findings(rec, opts, resources::resources(rec));
    Analysis {
        findings: findings::findings(rec, &an.resources, an.wall_s),
        ..an
    }
}

/// What [`figures::run_figures`] reads of an analysis, and no more: series, timers, and the
/// resources only of a record read with its samples (the GPU figures, the only resource
/// figures taken from the analysis, come from them); no findings. `compare` reads the figures
/// of 100,000 runs.
pub fn analyze_for_figures(rec: &RunRecord, opts: &AnalyzeOptions) -> Analysis {
    let resources = match rec.samples.t_us.is_empty() {
        true => resources::Resources::default(),
        false => resources::resources(rec),
    };
    analysis_without_findings(rec, opts, resources)
}

fn analysis_without_findings(
    rec: &RunRecord,
    opts: &AnalyzeOptions,
    resources: resources::Resources,
) -> Analysis {
    let wall_s = wall_of(rec);
    Analysis {
        wall_s,
        series: series::all_series_stats(&rec.series, opts.convergence_tol),
        timers: timers::timer_stats(&rec.timers, wall_s),
        resources,
        findings: Vec::new(),
    }
}

/// The run's wall time: recorded, else the latest time anything was observed.
pub fn wall_of(rec: &RunRecord) -> f64 {
    if let Some(w) = rec.meta.wall_s.filter(|w| w.is_finite() && *w > 0.0) {
        return w;
    }
    let last_sample = rec.samples.t_us.last().map_or(0.0, |t| *t as f64 / 1e6);
    let last_span = rec.timers.iter().map(|s| s.end_s).fold(0.0, f64::max);
    let last_point = rec
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.t_s))
        .fold(0.0, f64::max);
    last_sample.max(last_span).max(last_point)
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Hand-made records whose true statistics are known.
    use crate::model::*;

    pub fn empty_record() -> RunRecord {
        RunRecord {
            meta: RunMeta {
                id: 1,
                uuid: String::new(),
                name: None,
                tags: vec![],
                command: vec!["true".into()],
                cwd: "/".into(),
                started_at_ms: 0,
                wall_s: Some(10.0),
                exit_code: Some(0),
                signal: None,
                status: RunStatus::Ok,
                host: HostInfo {
                    cores: 8,
                    ..HostInfo::default()
                },
                git: None,
                perfmon_version: "0.1.0".into(),
                interval_ms: 100,
                env: vec![],
                group_id: None,
            },
            totals: Totals::default(),
            samples: SampleSet::default(),
            gpus: vec![],
            gpu_status: "no NVIDIA driver".into(),
            timers: vec![],
            series: vec![],
            marks: vec![],
            diagnostics: ParseDiagnostics::default(),
            processes: vec![],
            violations: vec![],
        }
    }

    /// A series with one point per value, at iterations 0, 1, … and one second apart.
    pub fn series(name: &str, vals: &[f64]) -> Series {
        Series {
            name: name.into(),
            algorithm: None,
            source: "auto:sentence".into(),
            direction: None,
            direction_from: None,
            role: None,
            main: false,
            points: vals
                .iter()
                .enumerate()
                .map(|(i, v)| Point {
                    iter: i as i64,
                    t_s: i as f64,
                    value: *v,
                })
                .collect(),
        }
    }

    pub fn span(
        name: &str,
        start_s: f64,
        end_s: f64,
        depth: u32,
        parent: Option<usize>,
    ) -> TimerSpan {
        TimerSpan {
            name: name.into(),
            start_s,
            end_s,
            depth,
            parent,
            closed_at_exit: false,
        }
    }
}
