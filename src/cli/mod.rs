//! clap definitions and the parsers of option values (durations, tags). Nothing here runs
//! anything; `commands` turns these into typed options.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod duration;
pub mod help;
pub mod man;
mod manage;
pub mod message;
mod values;

pub use duration::{parse_age, parse_interval};
pub use manage::{
    CheckArgs, CompletionsArgs, DoctorArgs, ExportArgs, GcArgs, ImportArgs, ManArgs, PushArgs,
    RmArgs,
};
use values::{
    parse_alpha, parse_budget_arg, parse_fail_on_arg, parse_finite, parse_host, parse_metric_arg,
    parse_nonneg, parse_size,
};
pub use values::{parse_tag, BudgetSpec, FailOnSpec};

/// The whole command definition, with the long help's tables (the values of every `--format`,
/// the environment, the exit codes) on the top level and on `run`.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command()
        .after_long_help(help::after_long_help())
        .mut_subcommand("run", |c| c.after_long_help(help::run_after_long_help()))
}

/// Parses the command line. The long help's tables are built only when the long help is asked
/// for (`--help`, or the `help` subcommand): building them took a tenth of the instructions of a
/// whole `perfmon run -- true`.
pub fn parse() -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let long_help = args
        .iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--help" || a == "help");
    let mut cmd = if long_help { command() } else { Cli::command() };
    let matches = cmd.try_get_matches_from_mut(args)?;
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
}

#[derive(Debug, Parser)]
#[command(
    name = "perfmon",
    version,
    about = "Profile optimization workloads: process tree, GPU, timers and convergence, stored in SQLite",
    propagate_version = true,
    after_help = help::AFTER_SHORT_HELP
)]
pub struct Cli {
    /// Database: a SQLite file, or postgres://USER@HOST:PORT/DBNAME for a shared PostgreSQL
    /// (default: $PERFMON_DB, else $XDG_DATA_HOME/perfmon/perfmon.db, else
    /// ~/.local/share/perfmon/perfmon.db)
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
    /// Copy runs to another store (a PostgreSQL database, or a SQLite file), skipping those it has
    Push(PushArgs),
    /// Print the shell completion script: perfmon completions bash|zsh|fish
    Completions(CompletionsArgs),
    /// Print the man page (with --dir, write it and one page per subcommand there)
    Man(ManArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompareFormat {
    /// A table of every metric, base against candidate (default)
    Text,
    /// The comparison as one JSON document
    Json,
    /// A Markdown table (a CI job summary)
    Markdown,
    /// The gated metrics run by run, then both sides overlaid (needs --output DIR: DIR/compare.png)
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
    /// The base: a run id, group:N, last, last:N, name=NAME, tag:KEY=VALUE, host:NAME (a hostname,
    /// exactly: case matters) or a name (its latest group)
    pub base: String,
    /// The candidate, in the same forms
    pub cand: String,
    /// Output format
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
    #[arg(long, value_name = "PCT", value_parser = parse_nonneg)]
    pub min_effect: Option<f64>,
    /// The significance test
    #[arg(long, value_enum, default_value_t = TestArg::Auto)]
    pub test: TestArg,
    /// Relative tolerance for the convergence point
    #[arg(long, default_value_t = 0.01, value_parser = parse_nonneg)]
    pub converge_tol: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HistoryFormat {
    /// One line per run with its commit, change points marked (default)
    Text,
    /// The points and change points as one JSON document
    Json,
    /// A chart of the metric over the runs with its change points (needs --output FILE)
    Png,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Which runs: a name, name=NAME, tag:KEY=VALUE or host:NAME (a hostname, exactly: case
    /// matters) (default: all runs)
    pub selection: Option<String>,
    /// The metric: wall, cpu, peak_rss, timer:NAME, best, ...
    #[arg(long, default_value = "wall", value_parser = parse_metric_arg)]
    pub metric: crate::analyze::spec::Metric,
    /// Output format
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
#[command(override_usage = "perfmon run [OPTIONS] -- CMD [ARGS...]")]
pub struct RunArgs {
    /// Sampling interval, with a unit: 100ms (default), 10ms, 0.5s, 2s
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
    /// Only runs recorded on this host (its hostname exactly: case matters)
    #[arg(long, value_parser = parse_host, value_name = "NAME")]
    pub host: Option<String>,
    /// JSON output
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A summary for the terminal (default)
    Text,
    /// Every figure as one JSON document (--samples adds the time series)
    Json,
    /// A Markdown report (--png-dir links the charts)
    Markdown,
    /// One self-contained HTML file, charts inline
    Html,
    /// Chrome trace events: timers as spans, samples as counters (Perfetto, chrome://tracing)
    Trace,
    /// One PNG file per chart (needs --output DIR)
    Png,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run id, `last` (default) or a name (its latest run)
    #[arg(default_value = "last")]
    pub run: String,
    /// Output format
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
    #[arg(long, default_value_t = 0.01, value_parser = parse_nonneg)]
    pub converge_tol: f64,
    /// Show the run's whole --repeat group: mean ± σ, median, min, max, outliers
    /// (also `perfmon report group:N`)
    #[arg(long)]
    pub group: bool,
    /// Group reports: the main series' target value; shows success rate, ERT and the
    /// time-to-target distribution (default: [targets] of perfmon.toml)
    #[arg(long, allow_hyphen_values = true, value_parser = parse_finite)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }
}
