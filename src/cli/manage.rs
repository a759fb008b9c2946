//! The arguments of the commands that keep the store and the installation in order: rm, gc,
//! doctor, check, export, import, completions and man.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::values::parse_budget_arg;
use super::{parse_age, BudgetSpec};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write perfmon.1 and perfmon-SUBCOMMAND.1 into this directory instead of printing perfmon.1
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Runs: ids, `last` or names (their latest run)
    #[arg(required = true, value_name = "RUN")]
    pub runs: Vec<String>,
}

#[derive(Debug, Args)]
pub struct GcArgs {
    /// Keep the N newest runs (of --name and --host, if given)
    #[arg(long, value_name = "N")]
    pub keep_last: Option<usize>,
    /// Remove runs started longer ago than this: 30d, 12h
    #[arg(long, value_parser = parse_age, value_name = "AGE")]
    pub older_than: Option<Duration>,
    /// Only runs with this name
    #[arg(long)]
    pub name: Option<String>,
    /// Only runs recorded on this host (its hostname exactly: case matters)
    #[arg(long, value_parser = super::values::parse_host, value_name = "NAME")]
    pub host: Option<String>,
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
#[command(
    after_help = "Examples:\n  perfmon push last --to postgres://ci@db.example/perfmon\n  \
    perfmon push --all --to postgres://ci@db.example/perfmon\n\nA run the target has already \
    (the same UUID) is not copied again, so pushing twice adds nothing and an interrupted push is \
    resumed by running it again. The password comes from the URL, PGPASSWORD or ~/.pgpass, and \
    is never printed."
)]
pub struct PushArgs {
    /// Runs to push: ids, `last`, names (their latest run), or selections (`last:N`,
    /// `name=NAME`, `tag:KEY=VALUE`, `group:N`: their successful runs, as compare takes them)
    #[arg(value_name = "RUN", required_unless_present = "all")]
    pub runs: Vec<String>,
    /// Push every run of this database that the target does not have yet
    #[arg(long, conflicts_with = "runs")]
    pub all: bool,
    /// The store to copy to: postgres://USER@HOST:PORT/DBNAME (or a SQLite file)
    #[arg(long, value_name = "URL")]
    pub to: PathBuf,
}
