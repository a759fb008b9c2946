//! Plain data types shared by every layer: a run's metadata, its sampled metrics, its timers,
//! progress series and marks. No I/O, no SQL, no clap: every other module imports this one and
//! this one imports nothing of the crate.

mod samples;

pub use samples::{metric, SampleSet, MISSING};

use serde::{Deserialize, Serialize};

/// How a run ended. Stored as its lower-case name; the names are a contract (JSON `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// The command exited with status 0.
    Ok,
    /// The command exited with a non-zero status.
    Failed,
    /// The command was killed by a signal perfmon did not forward.
    Signaled,
    /// perfmon received SIGINT/SIGTERM/SIGHUP/SIGQUIT and forwarded it.
    Interrupted,
    /// The run is still going, or perfmon died before it could finish the record.
    Incomplete,
    /// `--budget-kill` stopped the command.
    OverBudget,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Failed => "failed",
            RunStatus::Signaled => "signaled",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Incomplete => "incomplete",
            RunStatus::OverBudget => "over-budget",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        Some(match s {
            "ok" => RunStatus::Ok,
            "failed" => RunStatus::Failed,
            "signaled" => RunStatus::Signaled,
            "interrupted" => RunStatus::Interrupted,
            "incomplete" => RunStatus::Incomplete,
            "over-budget" => RunStatus::OverBudget,
            _ => return None,
        })
    }
}

/// Facts about the machine a run was taken on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostInfo {
    pub hostname: String,
    pub os: String,
    pub kernel: String,
    pub cpu_model: String,
    pub cores: u32,
    pub memory_bytes: u64,
    /// GPU names as NVML reports them; empty without a GPU.
    pub gpus: Vec<String>,
    pub gpu_driver: Option<String>,
}

/// The git state of the working directory, when it is inside a work tree.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GitInfo {
    pub commit: String,
    pub branch: Option<String>,
    pub dirty: Option<bool>,
}

/// Everything known about a run apart from its measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    /// Database id; 0 before the run is stored. A short handle within one store only.
    pub id: i64,
    /// The run's global identity (a UUID, made when the run starts), the same in every store it
    /// is copied to: `import` and `push` recognize a run already there by it. Empty in exports
    /// of perfmon versions before it (a new one is made when such a run is imported).
    #[serde(default)]
    pub uuid: String,
    pub name: Option<String>,
    pub tags: Vec<(String, String)>,
    /// The command line, secret-looking values already redacted.
    pub command: Vec<String>,
    pub cwd: String,
    /// Start time, milliseconds since the Unix epoch (UTC).
    pub started_at_ms: i64,
    pub wall_s: Option<f64>,
    pub exit_code: Option<i32>,
    /// Signal number when the command was killed by a signal.
    pub signal: Option<i32>,
    pub status: RunStatus,
    pub host: HostInfo,
    pub git: Option<GitInfo>,
    pub perfmon_version: String,
    pub interval_ms: u64,
    /// Environment variables recorded (an allowlist plus `--env NAME`).
    pub env: Vec<(String, String)>,
    /// Repeat group this run belongs to, if any.
    pub group_id: Option<i64>,
}

/// A total and where it came from: the report always names the source.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: TotalSource,
}

/// The origin of a total figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TotalSource {
    /// `wait4` rusage of every process perfmon reaped (the command and adopted orphans).
    Rusage,
    /// The maximum (or last value) of the sampled series.
    Sampled,
    /// perfmon's own `/proc/self/io`, into which the kernel folds reaped children's IO.
    ReaperIo,
    /// A cgroup v2 of the run's own.
    Cgroup,
}

/// Totals that sampling cannot miss, taken when the command ends.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// CPU time of the reaped tree, from rusage.
    pub cpu_user_us: u64,
    pub cpu_system_us: u64,
    /// Largest RSS of any single process (rusage ru_maxrss of reaped processes, or the
    /// largest sampled single-process RSS of processes still alive at the end).
    pub peak_rss_bytes: u64,
    /// Largest sampled sum of RSS over the tree.
    pub peak_tree_rss_bytes: u64,
    pub io_read_bytes: u64,
    pub io_write_bytes: u64,
    pub io_source: Option<TotalSource>,
    pub minor_faults: u64,
    pub major_faults: u64,
    pub voluntary_ctxsw: u64,
    pub involuntary_ctxsw: u64,
    /// Processes perfmon saw in the tree over the run (sampled or reaped).
    pub processes_seen: u64,
    /// Processes reaped by perfmon (the command and adopted orphans).
    pub processes_reaped: u64,
    /// Processes of the tree still alive when the command exited (daemons), with their names.
    pub left_behind: Vec<(u32, String)>,
    pub cgroup: Option<CgroupTotals>,
    /// perfmon's own CPU time (user+system, µs), apart from the tree's.
    #[serde(default)]
    pub perfmon_cpu_us: u64,
    /// perfmon's own peak RSS (VmHWM), KiB.
    #[serde(default)]
    pub perfmon_peak_rss_kib: u64,
}

/// Exact totals from a cgroup v2 of the run's own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CgroupTotals {
    pub memory_peak_bytes: Option<u64>,
    pub cpu_user_us: Option<u64>,
    pub cpu_system_us: Option<u64>,
    pub io_read_bytes: Option<u64>,
    pub io_write_bytes: Option<u64>,
}

/// One NVIDIA device seen during the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuDevice {
    pub index: u32,
    pub name: String,
    pub uuid: String,
    pub memory_total_bytes: u64,
}

/// A closed timer span. Times are seconds since the run started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimerSpan {
    pub name: String,
    pub start_s: f64,
    pub end_s: f64,
    /// Nesting depth: 0 for a top-level span.
    pub depth: u32,
    /// Index (in the run's span list) of the enclosing span.
    pub parent: Option<usize>,
    /// True when the span was still open when the command exited and perfmon closed it.
    pub closed_at_exit: bool,
}

/// Whether smaller or larger values of a series are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Minimize,
    Maximize,
}

/// Who said which direction a series goes, when something did (stored with the series).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectionFrom {
    /// The protocol's `direction=` (`recorded`, as `as_str` names it in reports and the store).
    #[serde(rename = "recorded", alias = "protocol")]
    Protocol,
    /// The trend of the output's `min`/`max` columns (the one that moves is the objective).
    Trend,
    /// The command's output said so (`direction: maximize`, `mode=max`, a study line).
    Output,
    /// `perfmon run --direction NAME=max|min`.
    Option,
    /// The `[directions]` table of perfmon.toml.
    Config,
}

impl DirectionFrom {
    pub fn as_str(self) -> &'static str {
        match self {
            DirectionFrom::Protocol => "recorded",
            DirectionFrom::Trend => "trend",
            DirectionFrom::Output => "output",
            DirectionFrom::Option => "option",
            DirectionFrom::Config => "config",
        }
    }

    pub const ALL: [DirectionFrom; 5] = [
        DirectionFrom::Protocol,
        DirectionFrom::Trend,
        DirectionFrom::Output,
        DirectionFrom::Option,
        DirectionFrom::Config,
    ];

    pub fn parse(s: &str) -> Option<DirectionFrom> {
        DirectionFrom::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod direction_from_tests {
    use super::DirectionFrom;

    /// An exported run (serde) names a direction's source as the store and the reports do.
    #[test]
    fn serde_and_the_store_name_sources_alike() {
        for d in DirectionFrom::ALL {
            let json = serde_json::to_string(&d).unwrap();
            assert_eq!(json, format!("\"{}\"", d.as_str()));
            assert_eq!(serde_json::from_str::<DirectionFrom>(&json).unwrap(), d);
        }
        let old: DirectionFrom = serde_json::from_str("\"protocol\"").unwrap();
        assert_eq!(old, DirectionFrom::Protocol);
    }
}

/// What a series is: the quantity optimized, another measured quantity, or a setting the run
/// chose (a trial's hyperparameter, a learning-rate schedule, a step size, a counter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Objective,
    Metric,
    Parameter,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Objective => "objective",
            Role::Metric => "metric",
            Role::Parameter => "parameter",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Objective, Role::Metric, Role::Parameter]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// One observation of a progress series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub iter: i64,
    /// Seconds since the run started when the line arrived.
    pub t_s: f64,
    pub value: f64,
}

/// A progress series: one named value of one algorithm over iterations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub algorithm: Option<String>,
    /// Where the series came from: `protocol`, `auto:<recognizer>`, or `regex:<pattern>`.
    pub source: String,
    /// Declared by the protocol (`direction=`), by the output, by `--direction`, or unknown
    /// (the analysis infers it then).
    pub direction: Option<Direction>,
    /// Who declared `direction`; None for runs stored before it was recorded (their direction
    /// came from the protocol or from the parser's guess by name, and reads as `recorded`).
    #[serde(default)]
    pub direction_from: Option<DirectionFrom>,
    /// The role the output gave the series (a value of Optuna's `parameters: {...}`), if any.
    #[serde(default)]
    pub role: Option<Role>,
    /// True for the run's main series (the objective); at most one per run.
    pub main: bool,
    pub points: Vec<Point>,
}

/// Which output stream of the command a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// An instant event (`@perfmon mark TEXT`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    pub t_s: f64,
    pub text: String,
}

/// Problems found while reading the command's output; never fatal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParseDiagnostics {
    /// Lines that started like protocol lines but could not be understood.
    pub malformed_lines: u64,
    /// The first few malformed lines, for the report.
    pub malformed_examples: Vec<String>,
    /// `timer stop` lines without a matching start.
    pub unmatched_stops: u64,
    /// Lines longer than the parser's limit (only their start was examined).
    pub truncated_lines: u64,
    pub lines_seen: u64,
    /// What went wrong while the run was recorded, such that something read or sampled may be
    /// missing (each also printed as a `perfmon: warning:` line when it happened).
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// A budget (`--budget`) that a run crossed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetViolation {
    /// The metric as written in the spec (`peak_tree_rss`).
    pub metric: String,
    /// The limit, in the metric's base unit (s, bytes, cores, %).
    pub limit: f64,
    /// The value that crossed it.
    pub value: f64,
    /// When it was first crossed, seconds since the run started.
    pub t_s: f64,
}

/// A whole run as it is stored and reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub meta: RunMeta,
    pub totals: Totals,
    pub samples: SampleSet,
    pub gpus: Vec<GpuDevice>,
    /// Whether GPU sampling was available, and why not when it was not.
    pub gpu_status: String,
    pub timers: Vec<TimerSpan>,
    pub series: Vec<Series>,
    pub marks: Vec<Mark>,
    pub diagnostics: ParseDiagnostics,
    /// Per-process tracks of the tree (pid, ppid, name, cpu and rss over time).
    pub processes: Vec<ProcessTrack>,
    /// Budgets (`--budget`) the run crossed, in the order they were crossed.
    #[serde(default)]
    pub violations: Vec<BudgetViolation>,
}

/// One process of the tree over the samples in which it was alive.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessTrack {
    pub pid: u32,
    pub ppid: u32,
    pub name: String,
    /// The command line (arguments joined by spaces, secret-looking values redacted), read when
    /// the process was first seen; empty when it could not be read (or for older runs).
    #[serde(default)]
    pub cmdline: String,
    /// Index of the first sample (in the run's [`SampleSet`]) this process appears in.
    pub first_sample: usize,
    /// Cumulative CPU time (user+system, µs) at each sample from `first_sample` on.
    pub cpu_us: Vec<i64>,
    /// RSS in KiB at each sample from `first_sample` on.
    pub rss_kib: Vec<i64>,
}
