//! One execution of the command, recorded: the runner starts it, the parse thread reads its
//! output, the sampling thread samples its tree and flushes to the store, and when it ends the
//! parts come back by value and are put together into the finished [`RunRecord`].
//!
//! Only what must precede the command does (the caller opened the database, so an unusable one
//! is refused before the command runs); the GPUs, the host facts and the run's row come once the
//! command runs, so perfmon adds as little as it can in front of a short command.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::meta::{start_meta, MetaInput};
use super::sampler::{Control, OnSample, OnViolation, Peaks, Sampled, Sampler, SamplerConfig};
use super::{totals, ParseThread};
use crate::analyze::budget::BudgetWatch;
use crate::analyze::spec::Budget;
use crate::collect::gpu::GpuSource;
use crate::collect::{self, host::GitProbe, TreeSampler};
use crate::model::{Direction, DirectionFrom, RunMeta, RunRecord};
use crate::parse::{ParseConfig, ParseResult, Parser, Snapshot};
use crate::report::status::{Figures, StatusLine};
use crate::runner::forward::ForwardStats;
use crate::runner::{Ended, Exit, OutputGuard, PtyMode, RunnerConfig, Running, SpawnError};
use crate::store::{RunWriter, Store};

/// Grace between SIGTERM and SIGKILL when `--budget-kill` stops the command.
pub const BUDGET_KILL_GRACE: Duration = Duration::from_secs(5);

/// How to run and record the command.
pub struct RecordConfig<'a> {
    pub meta: MetaInput<'a>,
    /// The database (opened again should the sampling thread have failed while holding it).
    pub db: PathBuf,
    pub pty: PtyMode,
    pub strip: bool,
    /// Extra environment variables for the command.
    pub env: Vec<(OsString, OsString)>,
    pub quiet: bool,
    pub parse: &'a ParseConfig,
    pub gpu: bool,
    pub budget: Vec<Budget>,
    pub budget_kill: bool,
    /// Series directions from `--direction` and perfmon.toml, applied to the parsed series.
    pub directions: &'a [(String, Direction, DirectionFrom)],
}

/// A run recorded to its end, not yet saved for the last time.
pub struct Recorded {
    pub rec: RunRecord,
    pub store: Store,
    /// The writer of the run's row; None when the row could not be made while the command ran
    /// (the final save makes it).
    pub writer: Option<RunWriter>,
    /// perfmon's exit status: the command's, as a shell reports it.
    pub code: i32,
    /// `--explain-progress`'s account, to print after the run.
    pub explain: Option<String>,
}

/// How an execution ended.
pub enum Execution {
    /// The command could not be started: nothing was recorded.
    NotStarted(SpawnError),
    Recorded(Box<Recorded>),
}

/// Asks git about the working directory on a thread of its own (None outside a work tree).
/// Started before the database is opened, so the two overlap: the dirty check is the longest
/// part of a short run's overhead inside a repository.
pub fn start_git_probe() -> Option<GitProbe> {
    GitProbe::start(&std::env::current_dir().ok()?)
}

/// Runs the command once and records it into `store` (already open), with the git facts of
/// `git_probe` ([`start_git_probe`]). Every warning (something may be missing from the run) is
/// printed and kept in the run's diagnostics.
pub fn record(
    cfg: &RecordConfig<'_>,
    store: Store,
    git_probe: Option<GitProbe>,
) -> anyhow::Result<Execution> {
    let (meta, mut warnings) = start_meta(&cfg.meta);
    let parser = Parser::new(cfg.parse)?;
    let status = if cfg.quiet {
        None
    } else {
        StatusLine::for_stderr().map(Arc::new)
    };
    let guard = status.as_ref().map(|s| s.clone() as Arc<dyn OutputGuard>);
    // The parse thread owns the parser; the status line reads a snapshot of it.
    let snapshot = status
        .as_ref()
        .map(|_| Arc::new(Mutex::new(Snapshot::default())));
    let (parse_thread, feed) = ParseThread::start(parser, snapshot.clone())
        .context("cannot start the output parser's thread")?;
    let runner_cfg = RunnerConfig {
        argv: cfg.meta.argv.to_vec(),
        pty: cfg.pty,
        hide: cfg
            .strip
            .then_some(crate::parse::is_protocol_line as crate::runner::LineFilter),
        env: cfg.env.clone(),
    };
    let running = match Running::start(&runner_cfg, Arc::new(feed), guard) {
        Ok(r) => r,
        Err(e) => {
            let _nothing_was_read = parse_thread.join();
            return Ok(Execution::NotStarted(e));
        }
    };

    // The command runs: now what need not have preceded it.
    let (rec, gpu) = started_record(cfg, meta, &mut warnings);
    let over_budget = Arc::new(AtomicBool::new(false));
    let sampler_cfg = SamplerConfig {
        // This (main) thread started the command; no other perfmon thread forks.
        tree: TreeSampler::new(std::process::id()).main_thread_forks(),
        system: collect::system::SystemSampler::new(),
        gpu,
        reaped: running.reaped.clone(),
        // Unreadable at the start, it is unreadable in the samples too: they say so (gaps()).
        io_baseline: running.io_baseline().unwrap_or((0, 0)),
        start: running.start,
        interval: cfg.meta.interval,
        budget: BudgetWatch::new(cfg.budget.clone()),
        on_sample: status_updates(status.clone(), snapshot, running.start),
        on_violation: Some(budget_alarm(cfg, status.clone(), &running, &over_budget)),
    };
    let sampler = Sampler::new(sampler_cfg, rec.clone());
    let (control, control_rx) = mpsc::channel();
    let sampler_thread = std::thread::Builder::new()
        .name("perfmon-sampler".into())
        .spawn(move || sampler.run(control_rx))
        .context("cannot start the sampling thread")?;
    let mut store = Some(store);
    let run_id = attach_store(&mut store, &rec.meta, &control, &mut warnings);

    let ended = running.wait();
    // A send fails only if the sampler thread has already ended; its join says why.
    let _ended_already = control.send(Control::Stop);
    let sampled = sampler_thread.join();
    let reaped = running.reaped.clone();
    let fwd = running.finish_output();
    if let Some(s) = status.as_ref() {
        s.finish();
    }
    let ended = ended.context("waiting for the command")?;
    let parsed = parsed_output(parse_thread, ended.wall_s, &mut warnings);
    let explain = cfg
        .parse
        .explain
        .then(|| crate::parse::explain_text(&parsed));
    output_losses(&fwd, &mut warnings);
    let mut sampled = sampled.unwrap_or_else(|_| lost_samples(rec, &mut warnings));
    let (store, writer) = match sampled.store.take() {
        Some((s, w)) => (s, Some(w)),
        None => match store {
            Some(s) => (s, run_id.map(RunWriter::new)),
            None => (Store::open(&cfg.db)?, run_id.map(RunWriter::new)),
        },
    };
    warnings.extend(
        sampled
            .flush_errors
            .iter()
            .map(|e| format!("a periodic save failed (a later save writes what it missed): {e}")),
    );
    warnings.extend(sampled.gaps.iter().cloned());
    let mut rec = finished_record(sampled, parsed, &ended, &reaped, &mut warnings);
    warnings.extend(crate::analyze::apply_directions(
        &mut rec.series,
        cfg.directions,
    ));
    rec.meta.status = totals::status(&ended, over_budget.load(Ordering::SeqCst));
    rec.meta.git = git_probe.and_then(|p| p.finish());
    for w in &warnings {
        eprintln!("perfmon: warning: {w}");
    }
    rec.diagnostics.warnings.extend(warnings);
    Ok(Execution::Recorded(Box::new(Recorded {
        rec,
        store,
        writer,
        code: ended.exit.shell_code(),
        explain,
    })))
}

/// The record as the command starts, with the host facts and the GPUs (and their source).
fn started_record(
    cfg: &RecordConfig<'_>,
    mut meta: RunMeta,
    warnings: &mut Vec<String>,
) -> (RunRecord, Option<Box<dyn GpuSource>>) {
    let (gpu, gpu_status, notes) = if cfg.gpu {
        collect::gpu::open_gpu()
    } else {
        (None, "GPU sampling off (--no-gpu)".to_string(), Vec::new())
    };
    let (host, host_warnings) = collect::host::host_info();
    meta.host = host;
    warnings.extend(host_warnings);
    warnings.extend(notes);
    let gpus = gpu.as_ref().map(|g| g.devices()).unwrap_or_default();
    if let Some(g) = gpu.as_ref() {
        meta.host.gpus = gpus.iter().map(|d| d.name.clone()).collect();
        meta.host.gpu_driver = g.driver_version();
    }
    let rec = RunRecord {
        meta,
        totals: Default::default(),
        samples: Default::default(),
        gpus,
        gpu_status,
        timers: Vec::new(),
        series: Vec::new(),
        marks: Vec::new(),
        diagnostics: Default::default(),
        processes: Vec::new(),
        violations: Vec::new(),
    };
    (rec, gpu)
}

/// Makes the run's row and hands the store to the sampling thread, which flushes to it from then
/// on. If the row cannot be made, the store stays here for the final save to try again.
fn attach_store(
    store: &mut Option<Store>,
    meta: &RunMeta,
    control: &mpsc::Sender<Control>,
    warnings: &mut Vec<String>,
) -> Option<i64> {
    let s = store.as_mut()?;
    match s.begin_run(meta) {
        Ok(id) => {
            if let Some(s) = store.take() {
                let attach = Control::Attach(Box::new((s, RunWriter::new(id))));
                if let Err(mpsc::SendError(Control::Attach(sw))) = control.send(attach) {
                    // The sampling thread is gone already: keep the store for the final save.
                    *store = Some(sw.0);
                }
            }
            Some(id)
        }
        Err(e) => {
            warnings.push(format!(
                "the run could not be written while it ran ({e}); the final save tries again"
            ));
            None
        }
    }
}

/// The live status line's refresh after each sample.
fn status_updates(
    status: Option<Arc<StatusLine>>,
    snapshot: Option<Arc<Mutex<Snapshot>>>,
    start: Instant,
) -> Option<OnSample> {
    let (s, snap) = (status?, snapshot?);
    Some(Box::new(move |live| {
        let figures = Figures {
            elapsed_s: start.elapsed().as_secs_f64(),
            cpu_pct: live.cpu_pct,
            rss_bytes: live.rss_kib.max(0) as u64 * 1024,
            gpu_util_pct: live.gpu_util_pct,
        };
        // A poisoned snapshot only costs the status line its progress figures.
        let latest = snap.lock().map(|g| g.clone()).unwrap_or_default();
        s.update(&figures, &latest);
    }))
}

/// Says a budget was crossed (and with `--budget-kill` stops the command).
fn budget_alarm(
    cfg: &RecordConfig<'_>,
    status: Option<Arc<StatusLine>>,
    running: &Running,
    over: &Arc<AtomicBool>,
) -> OnViolation {
    let (quiet, kill, over) = (cfg.quiet, cfg.budget_kill, over.clone());
    let (pgid, shares) = (running.pgid, running.shares_pgrp);
    Box::new(move |v| {
        use crate::report::units::{fmt_metric, fmt_secs};
        let msg = format!(
            "perfmon: warning: budget crossed at {}: {} = {} > {}{}",
            fmt_secs(v.t_s),
            v.metric,
            fmt_metric(&v.metric, v.value),
            fmt_metric(&v.metric, v.limit),
            if kill {
                "; stopping the command (--budget-kill)"
            } else {
                ""
            }
        );
        if !quiet || kill {
            match status.as_ref() {
                Some(s) => s.message(&msg),
                None => eprintln!("{msg}"),
            }
        }
        if kill && !over.swap(true, Ordering::SeqCst) {
            crate::runner::signals::stop_tree(pgid, shares, BUDGET_KILL_GRACE);
        }
    })
}

/// What the parse thread read; if it died, a warning says the parse is lost (the run is kept).
fn parsed_output(thread: ParseThread, wall_s: f64, warnings: &mut Vec<String>) -> ParseResult {
    // Every forwarding thread has ended, so the parser has read the last line.
    match thread.join() {
        Ok(p) => p.finish(wall_s),
        Err(e) => {
            warnings.push(e.to_string());
            ParseResult::default()
        }
    }
}

/// Output that was not read becomes a warning (a forwarder's error, a cut-off drain).
fn output_losses(fwd: &[ForwardStats], warnings: &mut Vec<String>) {
    for f in fwd {
        let stream = f.stream.map_or("an output stream", |s| s.as_str());
        match (&f.error, f.cut_off) {
            (Some(e), _) => warnings.push(format!(
                "forwarding the command's {stream} stopped ({e}): later output was neither shown nor read"
            )),
            (None, true) => warnings.push(format!(
                "processes left behind still wrote to {stream} after the command ended; perfmon stopped reading it, and that output is not in the run"
            )),
            (None, false) => {}
        }
    }
}

/// The sampling thread died: the run keeps what it has (its metadata, the parse) and says that
/// the samples since the last flush are lost.
fn lost_samples(rec: RunRecord, warnings: &mut Vec<String>) -> Sampled {
    warnings.push(
        "the sampling thread stopped with an internal error: samples since the last save are lost"
            .into(),
    );
    Sampled {
        rec,
        store: None,
        violations: Vec::new(),
        flush_errors: Vec::new(),
        gaps: Vec::new(),
        peaks: Peaks::default(),
    }
}

/// The record put together: samples and tracks, the parse, totals, the end metadata.
fn finished_record(
    sampled: Sampled,
    parsed: ParseResult,
    ended: &Ended,
    reaped: &crate::runner::ReapTotals,
    warnings: &mut Vec<String>,
) -> RunRecord {
    let mut rec = sampled.rec;
    rec.violations = sampled.violations;
    rec.timers = parsed.timers;
    rec.series = parsed.series;
    rec.marks = parsed.marks;
    rec.diagnostics = parsed.diagnostics;
    crate::redact::redact_output(&mut rec);
    rec.totals = totals::totals(ended, reaped, sampled.peaks, warnings);
    let m = &mut rec.meta;
    m.wall_s = Some(ended.wall_s);
    match ended.exit {
        Exit::Code(c) => m.exit_code = Some(c),
        Exit::Signal(s) => {
            m.exit_code = Some(128 + s);
            m.signal = Some(s);
        }
    }
    rec
}
