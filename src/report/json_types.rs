//! The wire types of `perfmon report --format json` (schema version [`SCHEMA_VERSION`]).
//!
//! These structs ARE the contract documented in docs/json-schema.md; the tests deserialize the
//! output into mirror types with `deny_unknown_fields`, so a field added here without updating
//! the mirror (and the document) fails the tests. Field order is the output order.

use std::collections::BTreeMap;

use serde::Serialize;

/// 2: `samples` is always an object (`count`, `interval_ms`; with `--samples` also `t_s`,
/// `metrics`); in version 1 it was an integer without `--samples`. `gpu[].uuid` and
/// `gpu[].memory_total_bytes` are null when unknown (were `""` and `0`); `diagnostics.warnings`
/// is new.
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub id: i64,
    /// The run's global identity (empty for a run stored before schema v4 was read back).
    pub uuid: String,
    pub name: Option<String>,
    pub status: &'static str,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub command: Vec<String>,
    pub cwd: String,
    pub tags: BTreeMap<String, String>,
    pub started_at: String,
    pub wall_s: Option<f64>,
    pub host: Host,
    pub git: Option<Git>,
    pub perfmon_version: String,
    pub interval_ms: u64,
    pub cpu: Cpu,
    pub memory: Memory,
    pub io: Io,
    pub faults: Faults,
    pub context_switches: ContextSwitches,
    pub processes: Processes,
    /// Same list as `processes.left_behind`, kept at the top level for scripts.
    pub processes_left_behind: Vec<LeftBehind>,
    pub cgroup: Option<Cgroup>,
    pub perfmon: Perfmon,
    pub sources: Sources,
    pub gpu: Vec<Gpu>,
    pub gpu_status: String,
    pub timers: Vec<Timer>,
    pub spans: Vec<Span>,
    pub series: Vec<Series>,
    pub convergence_tol: f64,
    pub marks: Vec<Mark>,
    pub samples: Samples,
    pub resources: Resources,
    pub findings: Vec<Finding>,
    pub diagnostics: Diagnostics,
    /// Budgets (`--budget`) crossed during the run.
    pub violations: Vec<Violation>,
}

#[derive(Debug, Serialize)]
pub struct Host {
    pub hostname: String,
    pub os: String,
    pub kernel: String,
    pub cpu_model: String,
    pub cores: u32,
    pub memory_bytes: u64,
    pub gpus: Vec<String>,
    pub gpu_driver: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Git {
    pub commit: String,
    pub branch: Option<String>,
    pub dirty: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct Cpu {
    pub user_s: f64,
    pub system_s: f64,
}

#[derive(Debug, Serialize)]
pub struct Memory {
    pub peak_rss_bytes: u64,
    pub peak_tree_rss_bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct Io {
    pub read_bytes: u64,
    pub write_bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct Faults {
    pub minor: u64,
    pub major: u64,
}

#[derive(Debug, Serialize)]
pub struct ContextSwitches {
    pub voluntary: u64,
    pub involuntary: u64,
}

#[derive(Debug, Serialize)]
pub struct Processes {
    pub seen: u64,
    pub reaped: u64,
    pub left_behind: Vec<LeftBehind>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LeftBehind {
    pub pid: u32,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct Cgroup {
    pub memory_peak_bytes: Option<u64>,
    pub cpu_user_s: Option<f64>,
    pub cpu_system_s: Option<f64>,
    pub io_read_bytes: Option<u64>,
    pub io_write_bytes: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct Perfmon {
    pub cpu_s: f64,
    pub peak_rss_bytes: u64,
}

/// Where each total came from: `rusage`, `sampled`, `reaper_io`, `cgroup`, or null if unknown.
#[derive(Debug, Serialize)]
pub struct Sources {
    pub cpu: &'static str,
    pub peak_rss: &'static str,
    pub peak_tree_rss: &'static str,
    pub io: Option<&'static str>,
    pub faults: &'static str,
    pub context_switches: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Gpu {
    pub index: u32,
    pub name: String,
    /// Null when unknown (schema version 2; `""` before).
    pub uuid: Option<String>,
    /// Null when unknown (schema version 2; `0` before).
    pub memory_total_bytes: Option<u64>,
    pub util_mean_pct: Option<f64>,
    pub util_peak_pct: Option<f64>,
    pub mem_peak_bytes: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct Timer {
    pub name: String,
    pub count: u64,
    pub total_s: f64,
    pub mean_s: f64,
    pub min_s: f64,
    pub max_s: f64,
    pub self_s: f64,
    pub share_of_wall: f64,
    pub depth: u32,
    pub closed_at_exit: u64,
}

#[derive(Debug, Serialize)]
pub struct Span {
    pub name: String,
    pub start_s: f64,
    pub end_s: f64,
    pub depth: u32,
    pub parent: Option<usize>,
    pub closed_at_exit: bool,
}

#[derive(Debug, Serialize)]
pub struct Series {
    pub name: String,
    pub algorithm: Option<String>,
    pub source: String,
    pub main: bool,
    pub direction: &'static str,
    pub direction_source: &'static str,
    pub role: &'static str,
    pub points: Vec<Point>,
    pub first: Option<f64>,
    pub best: Option<f64>,
    #[serde(rename = "final")]
    pub final_value: Option<f64>,
    pub best_iter: Option<i64>,
    pub best_t_s: Option<f64>,
    pub converged_iter: Option<i64>,
    pub converged_t_s: Option<f64>,
    pub converged_for_iters: Option<i64>,
    pub still_improving: bool,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub stagnation_iters: Option<i64>,
    pub mean_s_per_iter: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Point {
    pub iter: i64,
    pub t_s: f64,
    /// Non-finite values are written as null.
    pub value: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Violation {
    pub metric: String,
    pub limit: f64,
    pub value: f64,
    pub t_s: f64,
}

#[derive(Debug, Serialize)]
pub struct Mark {
    pub t_s: f64,
    pub text: String,
}

/// The samples: always their count and interval; with `--samples` also every metric's series.
/// The key's type never depends on the flag (an object in both cases).
#[derive(Debug, Serialize)]
pub struct Samples {
    pub count: usize,
    /// The run's sampling interval (the same as the top-level `interval_ms`).
    pub interval_ms: u64,
    /// With `--samples`: each sample's time since the start. Absent without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub t_s: Option<Vec<f64>>,
    /// With `--samples`: raw values as stored (cumulative counters, gauges); null where not
    /// collected. Absent without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<BTreeMap<String, Vec<Option<i64>>>>,
}

#[derive(Debug, Serialize)]
pub struct Resources {
    pub samples: usize,
    pub host_cores: u32,
    pub cpu_cores_mean: Option<f64>,
    pub cpu_cores_peak: Option<f64>,
    pub cpu_host_share_pct: Option<f64>,
    pub rss_mean_bytes: Option<u64>,
    pub rss_peak_bytes: Option<u64>,
    pub read_mb_s_mean: Option<f64>,
    pub read_mb_s_peak: Option<f64>,
    pub write_mb_s_mean: Option<f64>,
    pub write_mb_s_peak: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Finding {
    pub kind: &'static str,
    pub phase: Option<String>,
    pub share_of_wall: f64,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct Diagnostics {
    pub lines_seen: u64,
    pub malformed_lines: u64,
    pub malformed_examples: Vec<String>,
    pub unmatched_stops: u64,
    pub truncated_lines: u64,
    /// What went wrong while the run was recorded, such that something may be missing.
    pub warnings: Vec<String>,
}
