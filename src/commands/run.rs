//! `perfmon run -- CMD`: opens the database (an unusable one is refused before the command
//! runs), records each execution with [`crate::record`], saves it (or writes the fallback file),
//! and exits with the command's status. `--repeat` and `--warmup` run it several times as a group.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::analyze::spec::Budget;
use crate::model::{Direction, DirectionFrom, RunStatus};
use crate::parse::ParseConfig;
use crate::record::save::Unsaved;
use crate::record::{self, Execution, MetaInput, RecordConfig};
use crate::runner::PtyMode;
use crate::store::Store;

pub use crate::record::ENV_ALLOWLIST;

/// The environment variable that tells a repeated command which execution it is (0-based,
/// counted runs only; warmups get `warmup-K`), so a workload can vary its seed per run.
pub const REPEAT_INDEX_VAR: &str = "PERFMON_REPEAT_INDEX";

/// Typed options of `perfmon run` (converted from the CLI).
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub db: PathBuf,
    pub argv: Vec<OsString>,
    pub interval: Duration,
    pub name: Option<String>,
    pub tags: Vec<(String, String)>,
    pub quiet: bool,
    pub strip: bool,
    pub pty: PtyMode,
    pub parse: ParseConfig,
    pub env: Vec<String>,
    pub gpu: bool,
    /// Counted executions (`--repeat`), stored as one group when more than one.
    pub repeat: u32,
    /// Executions before the counted ones, not stored (`--warmup`).
    pub warmup: u32,
    /// Budgets watched during the run (`--budget`, else `[run] budget` of perfmon.toml).
    pub budget: Vec<Budget>,
    /// Stop the command when a budget is crossed (`--budget-kill`).
    pub budget_kill: bool,
    /// Series directions from `--direction`, then from perfmon.toml `[directions]`.
    pub directions: Vec<(String, Direction, DirectionFrom)>,
}

/// How one execution ended: perfmon's exit status for it, and the run (None if the command
/// could not be started).
struct Outcome {
    code: i32,
    run: Option<(i64, RunStatus)>,
}

/// Runs the command (`--warmup` + `--repeat` times) and returns perfmon's exit status: the
/// command's, or that of the first execution that did not succeed, after which it stops.
pub fn run(opts: RunOptions) -> Result<i32> {
    if opts.repeat <= 1 && opts.warmup == 0 {
        return Ok(run_once(&opts, None, true, None)?.code);
    }
    let group = Store::open(&opts.db)?
        .create_group(
            opts.name
                .as_deref()
                .map(crate::redact::redact_text)
                .as_deref(),
        )
        .with_context(|| format!("cannot record the run group in {}", opts.db.display()))?;
    let say = |m: String| (!opts.quiet).then(|| eprintln!("perfmon: {m}"));
    let mut stored = 0;
    for i in 0..opts.warmup + opts.repeat {
        let warm = i < opts.warmup;
        let index = match warm {
            true => format!("warmup-{i}"),
            false => (i - opts.warmup).to_string(),
        };
        say(match warm {
            true => format!("warmup {}/{} (not stored)", i + 1, opts.warmup),
            false => format!(
                "run {}/{} of group {group}",
                i + 1 - opts.warmup,
                opts.repeat
            ),
        });
        let out = run_once(&opts, (!warm).then_some(group), !warm, Some(index))?;
        stored += usize::from(!warm && out.run.is_some());
        let status = out.run.map(|(_, s)| s);
        if out.code != 0 || status != Some(RunStatus::Ok) {
            let what = status.map_or("could not start", |s| s.as_str());
            say(format!(
                "stopping the repetitions: the command {what} (exit {})",
                out.code
            ));
            return Ok(if out.code == 0 { 1 } else { out.code });
        }
    }
    say(format!(
        "group {group} stored with {stored} runs: perfmon report group:{group}"
    ));
    Ok(0)
}

/// Runs the command once. `keep` false (a warmup) deletes the run once it ends.
/// `repeat_index` is exported to the command as `PERFMON_REPEAT_INDEX`.
fn run_once(
    opts: &RunOptions,
    group_id: Option<i64>,
    keep: bool,
    repeat_index: Option<String>,
) -> Result<Outcome> {
    // Git first: it answers on a thread while the database opens.
    let git = record::start_git_probe();
    // Opened before the command: an unusable database is refused before the command runs.
    let store = Store::open(&opts.db)?;
    store.defer_checkpoint()?;
    let cfg = RecordConfig {
        meta: MetaInput {
            argv: &opts.argv,
            name: opts.name.as_deref(),
            tags: &opts.tags,
            env: &opts.env,
            interval: opts.interval,
            group_id,
        },
        db: opts.db.clone(),
        pty: opts.pty,
        strip: opts.strip,
        env: repeat_index
            .map(|i| vec![(OsString::from(REPEAT_INDEX_VAR), OsString::from(i))])
            .unwrap_or_default(),
        quiet: opts.quiet,
        parse: &opts.parse,
        gpu: opts.gpu,
        budget: opts.budget.clone(),
        budget_kill: opts.budget_kill,
        directions: &opts.directions,
    };
    let mut r = match record::record(&cfg, store, git)? {
        Execution::NotStarted(e) => {
            eprintln!("perfmon: {e}");
            let code = e.exit_code();
            return Ok(Outcome { code, run: None });
        }
        Execution::Recorded(r) => r,
    };
    let saved = record::save::save_or_fallback(&mut r, &opts.db);
    if let Some(text) = &r.explain {
        eprint!("{text}");
    }
    let status = r.rec.meta.status;
    say_where_it_went(&mut r, &saved, keep, opts.quiet);
    // Samples flushed before a failed final save stay in the database under the run's id.
    let run = Some((saved.unwrap_or(r.rec.meta.id), status));
    Ok(Outcome { code: r.code, run })
}

/// Nothing is lost silently: the last message says where the run went (a warmup is deleted).
fn say_where_it_went(
    r: &mut record::Recorded,
    saved: &Result<i64, Unsaved>,
    keep: bool,
    quiet: bool,
) {
    match saved {
        Err(unsaved) => eprintln!("perfmon: error: {unsaved}"),
        Ok(id) if !keep => {
            if let Err(e) = r.store.delete_runs(&[*id]) {
                eprintln!("perfmon: warning: the warmup run {id} could not be deleted and stays stored: {e}");
            }
        }
        Ok(id) if !quiet => {
            let wall = crate::report::units::fmt_secs(r.rec.meta.wall_s.unwrap_or(0.0));
            let status = r.rec.meta.status.as_str();
            eprintln!("perfmon: run {id} stored ({status}, {wall}): perfmon report {id}");
        }
        Ok(_) => {}
    }
}
