//! `perfmon run -- CMD`: opens the database (an unusable one is refused before the command
//! runs), records each execution with [`crate::record`], saves it (or writes the fallback file),
//! and exits with the command's status. `--repeat` and `--warmup` run it several times as a group.
//!
//! With a PostgreSQL database, each run is recorded into the local SQLite file first (the
//! spool: a run must not depend on a network for its samples) and sent to the server when it
//! ends ([`crate::store::transfer::Pusher`]), then removed from the spool. A server that cannot
//! be reached, or goes away, never fails the command nor loses the run: it stays in the spool
//! and the last message says how to push it later.

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
use crate::store::transfer::Pusher;
use crate::store::{Location, Store};

pub use crate::record::ENV_ALLOWLIST;

/// The environment variable that tells a repeated command which execution it is (0-based,
/// counted runs only; warmups get `warmup-K`), so a workload can vary its seed per run.
pub const REPEAT_INDEX_VAR: &str = "PERFMON_REPEAT_INDEX";

/// Typed options of `perfmon run` (converted from the CLI).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where the run is stored in the end.
    pub db: Location,
    /// The SQLite file the run is recorded into: `db` itself, or the local file for a server.
    pub spool: PathBuf,
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
    // Refused before the command runs, as an unusable database file is.
    opts.db.check()?;
    let mut deliver = Delivery::new(&opts.db);
    if opts.repeat <= 1 && opts.warmup == 0 {
        return Ok(run_once(&opts, None, true, None, &mut deliver)?.code);
    }
    let group = Store::open(&opts.spool)?
        .create_group(
            opts.name
                .as_deref()
                .map(crate::redact::redact_text)
                .as_deref(),
        )
        .with_context(|| format!("cannot record the run group in {}", opts.spool.display()))?;
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
        let out = run_once(
            &opts,
            (!warm).then_some(group),
            !warm,
            Some(index),
            &mut deliver,
        )?;
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
    let group = deliver.group_there(group).unwrap_or(group);
    say(format!(
        "group {group} stored with {stored} runs: perfmon report group:{group}"
    ));
    Ok(0)
}

/// Sends runs recorded in the spool to a PostgreSQL database (nothing to do for a file).
struct Delivery {
    to: Option<Location>,
    server: Option<Store>,
    pusher: Pusher,
}

impl Delivery {
    fn new(db: &Location) -> Delivery {
        Delivery {
            to: matches!(db, Location::Postgres(_)).then(|| db.clone()),
            server: None,
            pusher: Pusher::default(),
        }
    }

    /// The group's id on the server, once a run of it was sent.
    fn group_there(&self, local: i64) -> Option<i64> {
        self.pusher.group_there(local)
    }

    /// Sends run `id` of `spool` to the server and removes it from the spool; returns its id
    /// there. None when there is no server; an error leaves the run in the spool.
    fn send(
        &mut self,
        spool: &mut Store,
        id: i64,
    ) -> Option<Result<i64, crate::store::StoreError>> {
        let to = self.to.as_ref()?;
        // A connection that failed is not kept: the next run connects afresh.
        let mut server = match self.server.take().map_or_else(|| Store::open(to), Ok) {
            Ok(s) => s,
            Err(e) => return Some(Err(e)),
        };
        let r = self.pusher.push(spool, id, &mut server).map(|p| p.id());
        if r.is_ok() {
            self.server = Some(server);
            if let Err(e) = spool.delete_runs(&[id]) {
                eprintln!(
                    "perfmon: warning: run {id} was sent but stays in {} too: {e}",
                    spool.location()
                );
            }
        }
        Some(r)
    }
}

/// Runs the command once. `keep` false (a warmup) deletes the run once it ends.
/// `repeat_index` is exported to the command as `PERFMON_REPEAT_INDEX`.
fn run_once(
    opts: &RunOptions,
    group_id: Option<i64>,
    keep: bool,
    repeat_index: Option<String>,
    deliver: &mut Delivery,
) -> Result<Outcome> {
    // Git first: it answers on a thread while the database opens.
    let git = record::start_git_probe();
    // Opened before the command: an unusable database is refused before the command runs.
    let store = Store::open(&opts.spool)?;
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
        db: opts.spool.clone(),
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
    let saved = record::save::save_or_fallback(&mut r, &opts.spool);
    if let Some(text) = &r.explain {
        eprint!("{text}");
    }
    let status = r.rec.meta.status;
    let (saved, stored_in) = match (saved, keep) {
        (Ok(id), true) => deliver_run(&mut r, id, deliver),
        (saved, _) => (saved, None),
    };
    say_where_it_went(&mut r, &saved, keep, opts.quiet, stored_in);
    // Samples flushed before a failed final save stay in the database under the run's id.
    let run = Some((saved.unwrap_or(r.rec.meta.id), status));
    Ok(Outcome { code: r.code, run })
}

/// Sends a saved run on to the server, if any: its id there and the server, or (the server
/// failing) its id in the spool, with a warning that says how to push it later.
fn deliver_run(
    r: &mut record::Recorded,
    id: i64,
    deliver: &mut Delivery,
) -> (Result<i64, Unsaved>, Option<String>) {
    match deliver.send(&mut r.store, id) {
        None => (Ok(id), None),
        Some(Ok(there)) => (Ok(there), deliver.to.as_ref().map(Location::shown)),
        Some(Err(e)) => {
            let to = deliver.to.as_ref().map(Location::shown).unwrap_or_default();
            eprintln!(
                "perfmon: warning: the run could not be sent to {to} ({e}); it is kept in {} as run \
                 {id}: send it later with `perfmon --db {} push {id} --to {to}` (or `push --all`)",
                r.store.location(),
                r.store.location()
            );
            (Ok(id), None)
        }
    }
}

/// Nothing is lost silently: the last message says where the run went (a warmup is deleted).
fn say_where_it_went(
    r: &mut record::Recorded,
    saved: &Result<i64, Unsaved>,
    keep: bool,
    quiet: bool,
    stored_in: Option<String>,
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
            match &stored_in {
                Some(to) => eprintln!(
                    "perfmon: run {id} stored in {to} ({status}, {wall}): perfmon report {id}"
                ),
                None => {
                    eprintln!("perfmon: run {id} stored ({status}, {wall}): perfmon report {id}")
                }
            }
        }
        Ok(_) => {}
    }
}
