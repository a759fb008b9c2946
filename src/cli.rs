//! clap definitions and the parsers of option values (durations, tags). Nothing here runs
//! anything; `commands` turns these into typed options.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "perfmon",
    version,
    about = "Profile optimization workloads: process tree, GPU, timers and convergence, stored in SQLite",
    propagate_version = true
)]
pub struct Cli {
    /// SQLite file to use (default: $PERFMON_DB, else $XDG_DATA_HOME/perfmon/perfmon.db,
    /// else ~/.local/share/perfmon/perfmon.db)
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command as a transparent prefix and record it
    Run(RunArgs),
    /// List stored runs, newest first
    List(ListArgs),
    /// Show a stored run
    Report(ReportArgs),
    /// Show which lines of a captured output file are taken as timers and progress
    Parse(ParseArgs),
    /// Compare two runs or groups metric by metric; with --fail-on, a CI regression gate
    Compare(CompareArgs),
    /// A metric over stored runs with the commit of each and the change points
    History(HistoryArgs),
    /// Exit 1 if a stored run broke a budget, 0 otherwise (CI jobs without a baseline)
    Check(CheckArgs),
    /// Remove stored runs
    Rm(RmArgs),
    /// Remove old runs: --keep-last N or --older-than AGE
    Gc(GcArgs),
    /// Verify the database and list what is damaged
    Doctor(DoctorArgs),
    /// Write runs, samples included, as one JSON document (for `perfmon import`)
    Export(ExportArgs),
    /// Load runs written by `perfmon export` (or a fallback file of a run that could not be saved)
    Import(ImportArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompareFormat {
    Text,
    Json,
    Markdown,
    /// Both sides' resource timelines and convergence overlaid (needs --output FILE)
    Png,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestArg {
    /// Mann-Whitney U with 4 or more runs a side, Welch's t-test below (default)
    Auto,
    /// Welch's unequal-variance t-test
    Welch,
    /// The Mann-Whitney U test (needs 4 or more runs a side to reach p < 0.05)
    MannWhitney,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The base: a run id, group:N, last, last:N, name=NAME, tag:KEY=VALUE or a name (its latest group)
    pub base: String,
    /// The candidate, in the same forms
    pub cand: String,
    #[arg(long, value_enum, default_value_t = CompareFormat::Text)]
    pub format: CompareFormat,
    /// Write to this file instead of stdout
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Exit 1 on a significant regression beyond these thresholds, e.g.
    /// 'wall>5%,peak_rss>10%,timer:Data Loading>10%,best>1%' (default: [compare] fail_on of perfmon.toml)
    #[arg(long, value_parser = parse_fail_on_arg, value_name = "SPEC")]
    pub fail_on: Option<FailOnSpec>,
    /// Significance level of the test (default 0.05)
    #[arg(long, value_parser = parse_alpha)]
    pub alpha: Option<f64>,
    /// Smallest change of the medians, in %, that counts (default 1)
    #[arg(long, value_name = "PCT")]
    pub min_effect: Option<f64>,
    /// The significance test
    #[arg(long, value_enum, default_value_t = TestArg::Auto)]
    pub test: TestArg,
    /// Relative tolerance for the convergence point
    #[arg(long, default_value_t = 0.01)]
    pub converge_tol: f64,
}

/// A parsed `--fail-on` (one value: clap would take a bare Vec for a repeated option).
#[derive(Debug, Clone)]
pub struct FailOnSpec(pub Vec<crate::analyze::spec::Threshold>);

/// A parsed `--budget`.
#[derive(Debug, Clone)]
pub struct BudgetSpec(pub Vec<crate::analyze::spec::Budget>);

fn parse_fail_on_arg(s: &str) -> Result<FailOnSpec, String> {
    crate::analyze::spec::parse_fail_on(s)
        .map(FailOnSpec)
        .map_err(|e| e.to_string())
}

fn parse_metric_arg(s: &str) -> Result<crate::analyze::spec::Metric, String> {
    crate::analyze::spec::Metric::parse(s).map_err(|e| e.to_string())
}

fn parse_alpha(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(a) if a > 0.0 && a < 1.0 => Ok(a),
        _ => Err(format!(
            "bad alpha {s:?}: a number between 0 and 1, like 0.05"
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HistoryFormat {
    Text,
    Json,
    /// A chart of the metric over the runs with its change points (needs --output FILE)
    Png,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Which runs: a name, name=NAME or tag:KEY=VALUE (default: all runs)
    pub selection: Option<String>,
    /// The metric: wall, cpu, peak_rss, timer:NAME, best, ...
    #[arg(long, default_value = "wall", value_parser = parse_metric_arg)]
    pub metric: crate::analyze::spec::Metric,
    #[arg(long, value_enum, default_value_t = HistoryFormat::Text)]
    pub format: HistoryFormat,
    /// Write to this file instead of stdout
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// At most this many of the newest runs
    #[arg(long, default_value_t = 500)]
    pub limit: usize,
    /// Fewest points on each side of a change point
    #[arg(long, default_value_t = 3)]
    pub min_size: usize,
    /// Permutation-test significance level for a change point
    #[arg(long, default_value_t = 0.01, value_parser = parse_alpha)]
    pub sig_level: f64,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Runs: ids, `last` or names (their latest run)
    #[arg(required = true, value_name = "RUN")]
    pub runs: Vec<String>,
}

#[derive(Debug, Args)]
pub struct GcArgs {
    /// Keep the N newest runs (of --name, if given)
    #[arg(long, value_name = "N")]
    pub keep_last: Option<usize>,
    /// Remove runs started longer ago than this: 30d, 12h
    #[arg(long, value_parser = parse_duration, value_name = "AGE")]
    pub older_than: Option<Duration>,
    /// Only runs with this name
    #[arg(long)]
    pub name: Option<String>,
    /// List what would be removed, remove nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A run id, `last` (default) or a name (its latest run)
    #[arg(default_value = "last")]
    pub run: String,
    /// Budgets, e.g. 'wall<10m,peak_tree_rss<4GiB' (default: [run] budget of perfmon.toml)
    #[arg(long, value_parser = parse_budget_arg, value_name = "SPEC")]
    pub budget: Option<BudgetSpec>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Runs: ids, `last` or names (their latest run)
    #[arg(required = true, value_name = "RUN")]
    pub runs: Vec<String>,
    /// Write to this file instead of stdout
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files written by `perfmon export` (`-` for stdin)
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Sampling interval: 100ms (default), 10ms, 0.5s, 2s
    #[arg(
        long,
        default_value = "100ms",
        value_parser = parse_interval,
        value_name = "DURATION",
        allow_negative_numbers = true
    )]
    pub interval: Duration,

    /// A name for the run (reports accept it in place of an id)
    #[arg(long)]
    pub name: Option<String>,

    /// A tag key=value (repeatable)
    #[arg(long = "tag", value_parser = parse_tag, value_name = "KEY=VALUE")]
    pub tags: Vec<(String, String)>,

    /// Silence perfmon's own messages except errors
    #[arg(long, short)]
    pub quiet: bool,

    /// Hide @perfmon protocol lines from the command's output
    #[arg(long)]
    pub strip: bool,

    /// Give the command terminals for stdout and stderr even when perfmon's output is not one
    /// (for programs that block-buffer or hide progress when piped)
    #[arg(long, conflicts_with = "no_pty")]
    pub pty: bool,

    /// Give the command pipes for stdout and stderr even when perfmon's output is a terminal
    #[arg(long)]
    pub no_pty: bool,

    /// A regex with named captures `iter` and value names, for progress lines (repeatable)
    #[arg(long = "progress", value_name = "REGEX")]
    pub progress: Vec<String>,

    /// Do not recognize library progress output automatically
    #[arg(long)]
    pub no_auto_progress: bool,

    /// Which way is better for a series, where the output does not say: NAME=max or NAME=min
    /// (repeatable; wins over the [directions] table of perfmon.toml)
    #[arg(long = "direction", value_parser = crate::analyze::parse_direction_rule, value_name = "NAME=max|min")]
    pub directions: Vec<(String, crate::model::Direction)>,

    /// After the run, list which output lines were taken as what
    #[arg(long)]
    pub explain_progress: bool,

    /// Record this environment variable with the run (repeatable)
    #[arg(long = "env", value_name = "NAME")]
    pub env: Vec<String>,

    /// Do not look for NVIDIA GPUs
    #[arg(long)]
    pub no_gpu: bool,

    /// Run the command N times and store the runs as one group (reports show mean ± σ)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10000), value_name = "N")]
    pub repeat: u32,

    /// Budgets to watch, e.g. 'wall<10m,peak_tree_rss<4GiB,gpu_mem<20GiB,cpu_mean<1.5cores'
    /// (default: [run] budget of perfmon.toml)
    #[arg(long, value_parser = parse_budget_arg, value_name = "SPEC")]
    pub budget: Option<BudgetSpec>,

    /// Stop the command (TERM, then KILL after 5 s) when a budget is crossed; the run is stored
    /// as over-budget
    #[arg(long)]
    pub budget_kill: bool,

    /// Run the command K times first without storing (warm caches)
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub warmup: u32,

    /// The command and its arguments
    #[arg(trailing_var_arg = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

fn parse_budget_arg(s: &str) -> Result<BudgetSpec, String> {
    let b = crate::analyze::spec::parse_budget(s).map_err(|e| e.to_string())?;
    let bad = crate::analyze::budget::unsupported(&b);
    if !bad.is_empty() {
        return Err(format!(
            "{} cannot be watched during a run (use perfmon compare for series and timers)",
            bad.join(", ")
        ));
    }
    Ok(BudgetSpec(b))
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Show at most this many runs
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Only runs with this name
    #[arg(long)]
    pub name: Option<String>,
    /// Only runs with this tag (repeatable)
    #[arg(long = "tag", value_parser = parse_tag, value_name = "KEY=VALUE")]
    pub tags: Vec<(String, String)>,
    /// JSON output
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Markdown,
    Html,
    Trace,
    Png,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run id, `last` (default) or a name (its latest run)
    #[arg(default_value = "last")]
    pub run: String,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Write to this file (a directory for png)
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// JSON: include every metric's time series
    #[arg(long)]
    pub samples: bool,
    /// PNG: chart size WIDTHxHEIGHT
    #[arg(long, value_parser = parse_size, default_value = "1200x800")]
    pub size: (u32, u32),
    /// PNG: logarithmic y axis for convergence charts (default: automatic)
    #[arg(long)]
    pub log_y: bool,
    /// PNG: number of processes in the top-processes chart
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Markdown: link the PNG charts in this directory
    #[arg(long)]
    pub png_dir: Option<PathBuf>,
    /// Relative tolerance for the convergence point
    #[arg(long, default_value_t = 0.01)]
    pub converge_tol: f64,
    /// Show the run's whole --repeat group: mean ± σ, median, min, max, outliers
    /// (also `perfmon report group:N`)
    #[arg(long)]
    pub group: bool,
    /// Group reports: the main series' target value; shows success rate, ERT and the
    /// time-to-target distribution (default: [targets] of perfmon.toml)
    #[arg(long, allow_hyphen_values = true)]
    pub target: Option<f64>,
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// A captured output file (`-` for standard input)
    pub file: PathBuf,
    /// A regex with named captures `iter` and value names (repeatable)
    #[arg(long = "progress", value_name = "REGEX")]
    pub progress: Vec<String>,
    /// Do not recognize library progress output automatically
    #[arg(long)]
    pub no_auto_progress: bool,
    /// Only the summary of series found, not every line
    #[arg(long)]
    pub summary: bool,
}

/// Parses a sampling interval: `100ms`, `0.5s`, `2s`, `1m`; a bare number is seconds.
/// Must be between 1 ms and 1 hour.
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < Duration::from_millis(1) {
        return Err(format!("interval {s:?} is too short (at least 1ms)"));
    }
    if d > Duration::from_secs(3600) {
        return Err(format!("interval {s:?} is too long (at most 1h)"));
    }
    Ok(d)
}

/// Parses a duration with a unit (`ms`, `s`, `m`, `h`, `d`); a bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num.parse().map_err(|_| {
        format!("bad duration {s:?}: expected a number with a unit, like 100ms or 2s")
    })?;
    let Some(mult) = crate::analyze::spec::seconds_per(unit.trim()) else {
        return Err(format!(
            "bad duration {s:?}: unknown unit {:?} (use ms, s, m, h, d)",
            unit.trim()
        ));
    };
    let secs = v * mult;
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("bad duration {s:?}: must be greater than zero"));
    }
    // from_secs_f64 panics past u64::MAX seconds ("99999999999999999999s").
    Duration::try_from_secs_f64(secs).map_err(|_| format!("bad duration {s:?}: too long"))
}

/// Parses `key=value`; the key is letters, digits, `_`, `-`, `.`, `/`.
pub fn parse_tag(s: &str) -> Result<(String, String), String> {
    let Some((k, v)) = s.split_once('=') else {
        return Err(format!("bad tag {s:?}: expected KEY=VALUE"));
    };
    if k.is_empty()
        || !k
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
    {
        return Err(format!(
            "bad tag {s:?}: the key must be letters, digits, '_', '-', '.' or '/'"
        ));
    }
    Ok((k.to_string(), v.to_string()))
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("bad size {s:?}: expected WIDTHxHEIGHT, like 1200x800");
    let (w, h) = s.split_once('x').ok_or_else(bad)?;
    let w: u32 = w.parse().map_err(|_| bad())?;
    let h: u32 = h.parse().map_err(|_| bad())?;
    if !(200..=10000).contains(&w) || !(150..=10000).contains(&h) {
        return Err(format!("bad size {s:?}: width 200-10000, height 150-10000"));
    }
    Ok((w, h))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn huge_durations_are_errors_not_panics() {
        assert!(parse_duration("99999999999999999999s").is_err());
        assert!(parse_duration("1e400").is_err());
        assert!(parse_interval("99999999999999999999d").is_err());
    }
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("10ms").unwrap(), Duration::from_millis(10));
        assert_eq!(parse_interval("0.5s").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_interval("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_interval("2").unwrap(), Duration::from_secs(2));
        for bad in ["0", "-1", "abc", "", "5x", "0ms", "nan", "1e9s"] {
            assert!(parse_interval(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn tags() {
        assert_eq!(
            parse_tag("branch=main").unwrap(),
            ("branch".into(), "main".into())
        );
        assert_eq!(parse_tag("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_tag("novalue").is_err());
        assert!(parse_tag("=x").is_err());
        assert!(parse_tag("a b=x").is_err());
    }
}
