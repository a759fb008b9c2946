//! The one document of a run report, built once from the record and its analysis: its sections
//! (header, totals, timers, series, resources, findings, diagnostics, marks, budgets) with their
//! raw values (for JSON), and the functions here that format each figure for people (for text,
//! Markdown and HTML). The writers only lay the sections out and escape workload text: a figure
//! added here shows in every format, and a test checks that none drops one
//! (`report::parity`).
//!
//! Workload text (names, commands, tags, messages) is kept raw; the functions that put it into a
//! figure take the writer's escape function.

use super::units::{fmt_bytes, fmt_metric, fmt_num, fmt_secs, git_summary, opt};
use crate::analyze::{
    Analysis, DirectionSource, Finding, GpuUsage, Resources, SeriesStats, TimerStats,
};
use crate::model::{
    BudgetViolation, Direction, GitInfo, Mark, ParseDiagnostics, Role, RunRecord, TotalSource,
    Totals,
};

/// A writer's escaping of workload text (`printable`, `md_escape`, `html_escape`).
pub type Esc = fn(&str) -> String;

/// Where the rusage totals come from, as every format names it.
pub const RUSAGE: &str = "rusage of reaped processes";
/// The source of the peak RSS of a single process.
pub const PEAK_RSS_SOURCE: &str = "largest single process, rusage";
/// The source of the peak tree RSS.
pub const PEAK_TREE_RSS_SOURCE: &str = "largest sampled sum over the tree";
/// The footnote of a timer still open at exit.
pub const STILL_OPEN: &str = "still open at exit, closed by perfmon";
/// The footnote of a series whose direction is assumed.
pub const DIRECTION_ASSUMED: &str = "direction unknown, minimize assumed";
/// What the convergence column says of a series whose best was still moving near its end.
pub const STILL_IMPROVING: &str = "still improving";
/// What an empty findings section says.
pub const NO_FINDINGS: &str = "no measurement crossed a threshold";

/// The whole report of one run.
#[derive(Debug, Clone)]
pub struct RunDocument {
    pub header: Header,
    pub totals: TotalsSection,
    pub timers: Timers,
    /// One per series, in the record's order.
    pub series: Vec<SeriesStats>,
    pub resources: ResourcesSection,
    pub findings: Vec<Finding>,
    pub diagnostics: ParseDiagnostics,
    pub marks: Vec<Mark>,
    /// The budgets crossed during the run.
    pub budgets: Vec<BudgetViolation>,
}

/// Who ran what, where and how it ended.
#[derive(Debug, Clone)]
pub struct Header {
    pub id: i64,
    pub name: Option<String>,
    pub status: &'static str,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub command: String,
    pub started: String,
    pub hostname: String,
    pub cores: u32,
    pub memory_bytes: u64,
    pub os: String,
    pub kernel: String,
    pub git: Option<GitInfo>,
    pub tags: Vec<(String, String)>,
}

impl Header {
    /// ` (exit 0)`, ` (signal 9)`, ` (exit 137, signal 9)` or nothing.
    pub fn ending(&self) -> String {
        match (self.exit_code, self.signal) {
            (Some(c), Some(s)) => format!(" (exit {c}, signal {s})"),
            (Some(c), None) => format!(" (exit {c})"),
            (None, Some(s)) => format!(" (signal {s})"),
            (None, None) => String::new(),
        }
    }

    /// `status (exit N)`.
    pub fn status_line(&self) -> String {
        format!("{}{}", self.status, self.ending())
    }

    /// `lab-7 (8 cores, 32.0 GiB, Ubuntu 24.04 6.8.0)`.
    pub fn host(&self, esc: Esc) -> String {
        format!(
            "{} ({} cores, {}, {} {})",
            esc(&self.hostname),
            self.cores,
            fmt_bytes(self.memory_bytes),
            esc(&self.os),
            esc(&self.kernel)
        )
    }

    pub fn git(&self, esc: Esc) -> Option<String> {
        self.git.as_ref().map(|g| git_summary(g, esc))
    }

    /// `k=v, k=v`, or None without tags.
    pub fn tags(&self, esc: Esc) -> Option<String> {
        (!self.tags.is_empty()).then(|| {
            self.tags
                .iter()
                .map(|(k, v)| format!("{}={}", esc(k), esc(v)))
                .collect::<Vec<_>>()
                .join(", ")
        })
    }
}

/// The totals taken when the command ended, each with its source, and the GPUs.
#[derive(Debug, Clone)]
pub struct TotalsSection {
    pub wall_s: Option<f64>,
    pub t: Totals,
    pub gpus: Vec<GpuRow>,
    /// Why there is no GPU (or `ok`).
    pub gpu_status: String,
}

impl TotalsSection {
    pub fn cpu_user_s(&self) -> f64 {
        self.t.cpu_user_us as f64 / 1e6
    }
    pub fn cpu_system_s(&self) -> f64 {
        self.t.cpu_system_us as f64 / 1e6
    }
    pub fn perfmon_cpu_s(&self) -> f64 {
        self.t.perfmon_cpu_us as f64 / 1e6
    }
    pub fn perfmon_peak_rss_bytes(&self) -> u64 {
        self.t.perfmon_peak_rss_kib * 1024
    }
    pub fn wall(&self) -> String {
        opt(self.wall_s, fmt_secs)
    }
    pub fn cpu_user(&self) -> String {
        fmt_secs(self.cpu_user_s())
    }
    pub fn cpu_system(&self) -> String {
        fmt_secs(self.cpu_system_s())
    }
    pub fn peak_rss(&self) -> String {
        fmt_bytes(self.t.peak_rss_bytes)
    }
    pub fn peak_tree_rss(&self) -> String {
        fmt_bytes(self.t.peak_tree_rss_bytes)
    }
    /// `1.28 GiB / 79.7 MiB`.
    pub fn io(&self) -> String {
        format!(
            "{} / {}",
            fmt_bytes(self.t.io_read_bytes),
            fmt_bytes(self.t.io_write_bytes)
        )
    }
    pub fn io_source(&self) -> &'static str {
        match self.t.io_source {
            Some(TotalSource::ReaperIo) => {
                "perfmon's /proc/self/io, into which reaped children fold"
            }
            Some(TotalSource::Cgroup) => "the run's cgroup",
            Some(TotalSource::Sampled) => "sampled, last value",
            Some(TotalSource::Rusage) => RUSAGE,
            None => "source unknown",
        }
    }
    pub fn faults(&self) -> String {
        format!(
            "{} minor, {} major",
            self.t.minor_faults, self.t.major_faults
        )
    }
    pub fn context_switches(&self) -> String {
        format!(
            "{} voluntary, {} involuntary",
            self.t.voluntary_ctxsw, self.t.involuntary_ctxsw
        )
    }
    /// `6 seen, 5 reaped`.
    pub fn processes(&self) -> String {
        format!(
            "{} seen, {} reaped",
            self.t.processes_seen, self.t.processes_reaped
        )
    }
    /// `4242 sleep, 4250 cat`, or None when nothing was left behind.
    pub fn left_behind(&self, esc: Esc) -> Option<String> {
        (!self.t.left_behind.is_empty()).then(|| {
            self.t
                .left_behind
                .iter()
                .map(|(p, n)| format!("{p} {}", esc(n)))
                .collect::<Vec<_>>()
                .join(", ")
        })
    }
    pub fn perfmon_overhead(&self) -> String {
        format!(
            "{} CPU, {} peak RSS",
            fmt_secs(self.perfmon_cpu_s()),
            fmt_bytes(self.perfmon_peak_rss_bytes())
        )
    }
    /// One line per GPU, or the reason there is none.
    pub fn gpu_lines(&self, esc: Esc) -> Vec<String> {
        if self.gpus.is_empty() {
            return vec![format!("none ({})", esc(&self.gpu_status))];
        }
        self.gpus.iter().map(|g| g.line(esc)).collect()
    }
}

/// One GPU's usage, with its UUID (None when NVML did not tell).
#[derive(Debug, Clone)]
pub struct GpuRow {
    pub usage: GpuUsage,
    pub uuid: Option<String>,
}

impl GpuRow {
    pub fn util_mean(&self) -> String {
        opt(self.usage.util_mean_pct, |v| format!("{v:.0}%"))
    }
    pub fn util_peak(&self) -> String {
        opt(self.usage.util_peak_pct, |v| format!("{v:.0}%"))
    }
    pub fn mem_peak(&self) -> String {
        opt(self.usage.mem_peak_bytes, fmt_bytes)
    }
    /// `0: NVIDIA A10  util mean 66% peak 93%  memory peak 6.25 GiB of 24.0 GiB`.
    pub fn line(&self, esc: Esc) -> String {
        format!(
            "{}: {}  util mean {} peak {}  memory peak {}{}",
            self.usage.index,
            esc(&self.usage.name),
            self.util_mean(),
            self.util_peak(),
            self.mem_peak(),
            self.usage
                .mem_total_bytes
                .map(|b| format!(" of {}", fmt_bytes(b)))
                .unwrap_or_default()
        )
    }
}

/// The timers: one row per name, and how many spans there were.
#[derive(Debug, Clone)]
pub struct Timers {
    pub rows: Vec<TimerStats>,
    pub spans: usize,
}

impl Timers {
    /// Whether a row needs the [`STILL_OPEN`] footnote.
    pub fn any_still_open(&self) -> bool {
        self.rows.iter().any(|r| r.closed_at_exit > 0)
    }
}

/// ` *` when a span of the timer was still open at exit.
pub fn timer_marker(t: &TimerStats) -> &'static str {
    if t.closed_at_exit > 0 {
        " *"
    } else {
        ""
    }
}

/// A timer's count, total, mean, min, max, self time and share of the wall.
pub fn timer_figures(t: &TimerStats) -> [String; 7] {
    [
        t.count.to_string(),
        fmt_secs(t.total_s),
        fmt_secs(t.mean_s),
        fmt_secs(t.min_s),
        fmt_secs(t.max_s),
        fmt_secs(t.self_s),
        format!("{:.1}%", t.share_of_wall * 100.0),
    ]
}

/// `#12 @ 3.40 s`, or `-`.
fn at(i: Option<i64>, t: Option<f64>) -> String {
    match (i, t) {
        (Some(i), Some(t)) => format!("#{i} @ {}", fmt_secs(t)),
        _ => "-".into(),
    }
}

/// ` (main)` for the main series.
pub fn main_marker(s: &SeriesStats) -> &'static str {
    if s.main {
        " (main)"
    } else {
        ""
    }
}

/// `minimize` or `maximize`.
pub fn direction(d: Direction) -> &'static str {
    match d {
        Direction::Minimize => "minimize",
        Direction::Maximize => "maximize",
    }
}

/// Whether the direction of a series is assumed (see [`DIRECTION_ASSUMED`]).
pub fn assumed(s: &SeriesStats) -> bool {
    s.direction_source == DirectionSource::Assumed
}

/// `maximize (best)`: the direction and where it came from; `short` gives `max (best)`.
pub fn direction_with_source(s: &SeriesStats, short: bool) -> String {
    let d = direction(s.direction);
    let d = if short { &d[..3] } else { d };
    format!("{d} ({})", s.direction_source.as_str())
}

/// The objective and metric series (parameters apart), in the record's order.
pub fn progress_series(series: &[SeriesStats]) -> impl Iterator<Item = &SeriesStats> {
    series.iter().filter(|s| s.role != Role::Parameter)
}

/// The parameter series, in the record's order.
pub fn parameter_series(series: &[SeriesStats]) -> impl Iterator<Item = &SeriesStats> {
    series.iter().filter(|s| s.role == Role::Parameter)
}

/// A series' points, first, best and final values, best at, converged at (or
/// [`STILL_IMPROVING`]), how long it was flat to the end, stagnant iterations and time per
/// iteration.
pub fn series_figures(s: &SeriesStats) -> [String; 9] {
    [
        s.points.to_string(),
        opt(s.first, fmt_num),
        opt(s.best, fmt_num),
        opt(s.final_value, fmt_num),
        at(s.best_iter, s.best_t_s),
        match s.still_improving {
            true => STILL_IMPROVING.to_string(),
            false => at(s.converged_iter, s.converged_t_s),
        },
        opt(s.converged_for_iters, |v| format!("{v} it")),
        opt(s.stagnation_iters, |v| v.to_string()),
        opt(s.mean_s_per_iter, fmt_secs),
    ]
}

/// A parameter's points, first and final values, smallest and largest value.
pub fn parameter_figures(s: &SeriesStats) -> [String; 5] {
    [
        s.points.to_string(),
        opt(s.first, fmt_num),
        opt(s.final_value, fmt_num),
        opt(s.min, fmt_num),
        opt(s.max, fmt_num),
    ]
}

/// Resource efficiency from the samples.
#[derive(Debug, Clone)]
pub struct ResourcesSection {
    pub interval_ms: u64,
    pub r: Resources,
}

impl ResourcesSection {
    /// `1201 samples every 100 ms`.
    pub fn sampling(&self) -> String {
        format!("{} samples every {} ms", self.r.samples, self.interval_ms)
    }
    pub fn cpu_mean(&self) -> String {
        opt(self.r.cpu_cores_mean, |v| format!("{v:.2}"))
    }
    pub fn cpu_peak(&self) -> String {
        opt(self.r.cpu_cores_peak, |v| format!("{v:.2}"))
    }
    /// `38.6% of the host`.
    pub fn cpu_share(&self) -> String {
        opt(self.r.cpu_host_share_pct, |p| {
            format!("{p:.1}% of the host")
        })
    }
    /// `38.6%`.
    pub fn cpu_share_pct(&self) -> String {
        opt(self.r.cpu_host_share_pct, |p| format!("{p:.1}%"))
    }
    pub fn rss_mean(&self) -> String {
        opt(self.r.rss_mean_bytes, fmt_bytes)
    }
    pub fn rss_peak(&self) -> String {
        opt(self.r.rss_peak_bytes, fmt_bytes)
    }
    /// Mean and peak disk read rate, MB/s.
    pub fn read(&self) -> (String, String) {
        (mbs(self.r.read_mb_s_mean), mbs(self.r.read_mb_s_peak))
    }
    /// Mean and peak disk write rate, MB/s.
    pub fn write(&self) -> (String, String) {
        (mbs(self.r.write_mb_s_mean), mbs(self.r.write_mb_s_peak))
    }
}

fn mbs(v: Option<f64>) -> String {
    opt(v, |v| format!("{v:.2}"))
}

/// The parser's counts as one sentence, without the final full stop.
pub fn diagnostics_summary(d: &ParseDiagnostics) -> String {
    format!(
        "{} output lines read, {} malformed protocol lines, {} unmatched timer stops, {} truncated lines",
        d.lines_seen, d.malformed_lines, d.unmatched_stops, d.truncated_lines
    )
}

/// When a mark was made.
pub fn mark_time(m: &Mark) -> String {
    fmt_secs(m.t_s)
}

/// A budget crossed: the value, the limit (in the metric's unit) and when.
pub fn budget_figures(v: &BudgetViolation) -> [String; 3] {
    [
        fmt_metric(&v.metric, v.value),
        fmt_metric(&v.metric, v.limit),
        fmt_secs(v.t_s),
    ]
}

/// Marks every format lists before it says how many more there are.
pub const MARKS_SHOWN: usize = 20;

impl RunDocument {
    /// The document of a run.
    pub fn build(rec: &RunRecord, an: &Analysis) -> RunDocument {
        let m = &rec.meta;
        RunDocument {
            header: Header {
                id: m.id,
                name: m.name.clone(),
                status: m.status.as_str(),
                exit_code: m.exit_code,
                signal: m.signal,
                command: m.command.join(" "),
                started: super::fmt_rfc3339(m.started_at_ms),
                hostname: m.host.hostname.clone(),
                cores: m.host.cores,
                memory_bytes: m.host.memory_bytes,
                os: m.host.os.clone(),
                kernel: m.host.kernel.clone(),
                git: m.git.clone(),
                tags: m.tags.clone(),
            },
            totals: TotalsSection {
                wall_s: m.wall_s,
                t: rec.totals.clone(),
                gpus: an
                    .resources
                    .gpus
                    .iter()
                    .map(|g| GpuRow {
                        usage: g.clone(),
                        uuid: rec
                            .gpus
                            .iter()
                            .find(|d| d.index == g.index)
                            .map(|d| d.uuid.clone())
                            .filter(|u| !u.is_empty()),
                    })
                    .collect(),
                gpu_status: rec.gpu_status.clone(),
            },
            timers: Timers {
                rows: an.timers.clone(),
                spans: rec.timers.len(),
            },
            series: an.series.clone(),
            resources: ResourcesSection {
                interval_ms: m.interval_ms,
                r: an.resources.clone(),
            },
            findings: an.findings.clone(),
            diagnostics: rec.diagnostics.clone(),
            marks: rec.marks.clone(),
            budgets: rec.violations.clone(),
        }
    }

    /// `perfmon run 42`, with `: NAME` or ` "NAME"` as the writer puts names.
    pub fn title(&self, name: impl Fn(&str) -> String) -> String {
        format!(
            "perfmon run {}{}",
            self.header.id,
            self.header.name.as_deref().map(name).unwrap_or_default()
        )
    }
}
