//! `perfmon run -- CMD`: wires the runner (spawn, forward, reap), the sampler thread, the line
//! parser and the store together, then finishes the record and exits with the command's status.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use crate::analyze::budget::BudgetWatch;
use crate::analyze::spec::Budget;

use super::sampler::{Live, Sampler};
use crate::collect::{self, TreeSampler};
use crate::model::{ParseDiagnostics, RunMeta, RunRecord, RunStatus, TotalSource, Totals};
use crate::parse::{ParseConfig, ParseResult, Parser, Snapshot};
use crate::record::ParseThread;
use crate::report::status::{Figures, StatusLine};
use crate::runner::{Exit, OutputGuard, PtyMode, RunnerConfig, Running};
use crate::store::{RunWriter, Store};

/// Environment variables recorded with every run (when set); `--env NAME` adds more.
pub const ENV_ALLOWLIST: &[&str] = &[
    "CUDA_VISIBLE_DEVICES",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "PYTHONHASHSEED",
    "CI",
    "GITHUB_SHA",
    "GITHUB_REF",
    "GITHUB_RUN_ID",
];

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
}

/// How long the final save keeps retrying while another process holds the database lock,
/// before the run goes to the fallback file instead.
pub const FINAL_SAVE_PATIENCE: Duration = Duration::from_secs(60);

/// Grace between SIGTERM and SIGKILL when `--budget-kill` stops the command.
pub const BUDGET_KILL_GRACE: Duration = Duration::from_secs(5);

/// How one execution of the command ended.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// perfmon's exit status for it (the command's, as a shell reports it).
    pub code: i32,
    /// None when the command could not be started (no run is stored).
    pub run_id: Option<i64>,
    pub status: Option<RunStatus>,
}

/// Runs the command (`--warmup` + `--repeat` times) and returns perfmon's exit status: the
/// command's, or that of the first execution that did not succeed, after which it stops.
pub fn run(opts: RunOptions) -> Result<i32> {
    if opts.repeat <= 1 && opts.warmup == 0 {
        return Ok(run_once(&opts, None, true, None)?.code);
    }
    let group = {
        let mut store = Store::open(&opts.db)?;
        store
            .create_group(opts.name.as_deref())
            .with_context(|| format!("cannot record the run group in {}", opts.db.display()))?
    };
    let total = opts.warmup + opts.repeat;
    let mut ids = Vec::new();
    for i in 0..total {
        let warm = i < opts.warmup;
        if !opts.quiet {
            if warm {
                eprintln!("perfmon: warmup {}/{} (not stored)", i + 1, opts.warmup);
            } else {
                eprintln!(
                    "perfmon: run {}/{} of group {group}",
                    i + 1 - opts.warmup,
                    opts.repeat
                );
            }
        }
        let index = if warm {
            format!("warmup-{i}")
        } else {
            (i - opts.warmup).to_string()
        };
        let out = run_once(&opts, (!warm).then_some(group), !warm, Some(index))?;
        if let Some(id) = out.run_id.filter(|_| !warm) {
            ids.push(id);
        }
        if out.code != 0 || out.status != Some(RunStatus::Ok) {
            if !opts.quiet {
                eprintln!(
                    "perfmon: stopping the repetitions: the command {} (exit {})",
                    out.status.map(|s| s.as_str()).unwrap_or("could not start"),
                    out.code
                );
            }
            return Ok(if out.code == 0 { 1 } else { out.code });
        }
    }
    if !opts.quiet {
        eprintln!(
            "perfmon: group {group} stored with {} runs: perfmon report group:{group}",
            ids.len()
        );
    }
    Ok(0)
}

/// The environment variable that tells a repeated command which execution it is (0-based,
/// counted runs only; warmups get `warmup-K`), so a workload can vary its seed per run.
pub const REPEAT_INDEX_VAR: &str = "PERFMON_REPEAT_INDEX";

/// Runs the command once. `keep` false (a warmup) deletes the run once it ends.
/// `repeat_index` is exported to the command as `PERFMON_REPEAT_INDEX`.
pub fn run_once(
    opts: &RunOptions,
    group_id: Option<i64>,
    keep: bool,
    repeat_index: Option<String>,
) -> Result<Outcome> {
    // What may be missing from the run is said on stderr and kept in its diagnostics.
    let mut warnings = Vec::new();
    let cwd = match std::env::current_dir() {
        Ok(p) => p.display().to_string(),
        Err(e) => {
            warnings.push(format!("the working directory is unknown ({e})"));
            String::new()
        }
    };
    // Git is asked first, on a thread in the background, so it costs the run no time and is
    // never counted in the tree (see GitProbe::start).
    let git_probe = collect::host::GitProbe::start(std::path::Path::new(&cwd));
    let parser = Parser::new(&opts.parse)?;
    let mut store = Store::open(&opts.db)?;
    store.defer_checkpoint()?;
    let started_at_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let (gpu, gpu_status, gpu_notes) = if opts.gpu {
        collect::gpu::open_gpu()
    } else {
        (None, "GPU sampling off (--no-gpu)".to_string(), Vec::new())
    };
    let (mut host, host_warnings) = collect::host::host_info();
    warnings.extend(host_warnings);
    warnings.extend(gpu_notes);
    for w in &warnings {
        eprintln!("perfmon: warning: {w}");
    }
    if let Some(g) = gpu.as_ref() {
        host.gpus = g.devices().iter().map(|d| d.name.clone()).collect();
        host.gpu_driver = g.driver_version();
    }
    let gpus = gpu.as_ref().map(|g| g.devices()).unwrap_or_default();
    let argv: Vec<String> = opts
        .argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let meta = RunMeta {
        id: 0,
        name: opts.name.clone(),
        tags: opts
            .tags
            .iter()
            .map(|(k, v)| {
                let v = crate::redact::redact_named(k, v);
                (k.clone(), v)
            })
            .collect(),
        command: crate::redact::redact_args(&argv),
        cwd,
        started_at_ms,
        wall_s: None,
        exit_code: None,
        signal: None,
        status: RunStatus::Incomplete,
        host,
        git: None,
        perfmon_version: env!("CARGO_PKG_VERSION").to_string(),
        interval_ms: opts.interval.as_millis() as u64,
        env: recorded_env(&opts.env),
        group_id,
    };
    let run_id = store
        .begin_run(&meta)
        .with_context(|| format!("cannot record the run in {}", opts.db.display()))?;

    let status: Option<Arc<StatusLine>> = if opts.quiet {
        None
    } else {
        StatusLine::for_stderr().map(Arc::new)
    };
    let guard: Option<Arc<dyn OutputGuard>> =
        status.as_ref().map(|s| s.clone() as Arc<dyn OutputGuard>);
    // The parse thread owns the parser and hands it back when the output ends; the status line
    // reads a snapshot of it.
    let snapshot = status
        .as_ref()
        .map(|_| Arc::new(Mutex::new(Snapshot::default())));
    let (parse_thread, feed) = ParseThread::start(parser, snapshot.clone())
        .context("cannot start the output parser's thread")?;
    let runner_cfg = RunnerConfig {
        argv: opts.argv.clone(),
        pty: opts.pty,
        strip: opts.strip,
        env: repeat_index
            .map(|i| {
                vec![(
                    OsString::from(REPEAT_INDEX_VAR),
                    OsString::from(i.to_string()),
                )]
            })
            .unwrap_or_default(),
    };
    let running = match Running::start(&runner_cfg, Arc::new(feed), guard) {
        Ok(r) => r,
        Err(e) => {
            // The command never ran: no run is stored, and there was no output to parse.
            let _nothing_read = parse_thread.join();
            if let Err(de) = store.delete_runs(&[run_id]) {
                eprintln!("perfmon: warning: the unstarted run {run_id} stays in the database as incomplete: {de}");
            }
            eprintln!("perfmon: {e}");
            return Ok(Outcome {
                code: e.exit_code(),
                run_id: None,
                status: None,
            });
        }
    };

    let mut rec = RunRecord {
        meta,
        totals: Totals::default(),
        samples: Default::default(),
        gpus,
        gpu_status,
        timers: Vec::new(),
        series: Vec::new(),
        marks: Vec::new(),
        diagnostics: ParseDiagnostics::default(),
        processes: Vec::new(),
        violations: Vec::new(),
    };
    rec.meta.id = run_id;
    let mut sampler = Sampler::new(
        // This (main) thread starts the command below; no other perfmon thread forks.
        TreeSampler::new(std::process::id()).main_thread_forks(),
        collect::system::SystemSampler::new(),
        gpu,
        running.reaped.clone(),
        // Unreadable at the start, it is unreadable in the samples too: they say so (gaps()).
        running.io_baseline().unwrap_or((0, 0)),
        running.start,
        opts.interval,
        rec,
        store,
        RunWriter::new(run_id),
    );
    if let (Some(s), Some(snap)) = (status.clone(), snapshot) {
        let start = running.start;
        sampler.on_sample = Some(Box::new(move |live: &Live| {
            let figures = Figures {
                elapsed_s: start.elapsed().as_secs_f64(),
                cpu_pct: live.cpu_pct,
                rss_bytes: live.rss_kib.max(0) as u64 * 1024,
                gpu_util_pct: live.gpu_util_pct,
            };
            let latest = snap.lock().map(|g| g.clone()).unwrap_or_default();
            s.update(&figures, &latest);
        }));
    }
    sampler.budget = BudgetWatch::new(opts.budget.clone());
    let over_budget = Arc::new(AtomicBool::new(false));
    {
        let (status, quiet, kill) = (status.clone(), opts.quiet, opts.budget_kill);
        let over = over_budget.clone();
        let (pgid, shares) = (running.pgid, running.shares_pgrp);
        sampler.on_violation = Some(Box::new(move |v| {
            let msg = format!(
                "perfmon: warning: budget crossed at {}: {} = {} > {}{}",
                crate::report::units::fmt_secs(v.t_s),
                v.metric,
                crate::report::units::fmt_metric(&v.metric, v.value),
                crate::report::units::fmt_metric(&v.metric, v.limit),
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
        }));
    }
    let (stop_tx, stop_rx) = mpsc::channel();
    let sampler_thread = std::thread::Builder::new()
        .name("perfmon-sampler".into())
        .spawn(move || sampler.run(stop_rx))
        .context("cannot start the sampling thread")?;

    let ended = running.wait();
    // A send fails only if the sampler thread has already ended; its join below says why.
    let _ended_already = stop_tx.send(());
    let result = sampler_thread
        .join()
        .map_err(|_| anyhow::anyhow!("the sampling thread panicked"))?;
    let fwd = running.finish_output();
    if let Some(s) = status.as_ref() {
        s.finish();
    }
    let ended = ended.context("waiting for the command")?;

    let mut sampler = result.sampler;
    // Every forwarding thread has ended, so the parser has read the last line.
    let mut parsed = match parse_thread.join() {
        Ok(p) => p.finish(ended.wall_s),
        Err(e) => {
            // No silent loss: the run is kept, and says what it lacks.
            eprintln!("perfmon: warning: {e}");
            let mut lost = ParseResult::default();
            lost.diagnostics.warnings.push(e.to_string());
            lost
        }
    };

    let explain = opts
        .parse
        .explain
        .then(|| crate::parse::explain_text(&parsed));
    let processes_seen = sampler.processes_seen();
    let gaps = sampler.gaps();
    let reaped = sampler.reaped.clone();
    let peak_proc_rss_kib = sampler.peak_proc_rss_kib;
    let peak_tree_rss_kib = sampler.peak_tree_rss_kib;
    let violations = std::mem::take(&mut sampler.violations);
    let rec = &mut sampler.rec;
    rec.violations = violations;
    rec.timers = std::mem::take(&mut parsed.timers);
    rec.series = std::mem::take(&mut parsed.series);
    rec.marks = std::mem::take(&mut parsed.marks);
    rec.diagnostics = std::mem::take(&mut parsed.diagnostics);
    rec.diagnostics.warnings.splice(0..0, warnings);
    for w in gaps {
        eprintln!("perfmon: warning: {w}");
        rec.diagnostics.warnings.push(w);
    }
    // No silent loss: output that was not read is said, on stderr and in the run.
    for f in &fwd {
        let stream = match f.stream {
            Some(crate::parse::Stream::Stdout) => "stdout",
            Some(crate::parse::Stream::Stderr) => "stderr",
            None => "an output stream",
        };
        let lost = match (&f.error, f.cut_off) {
            (Some(e), _) => format!("forwarding the command's {stream} stopped ({e}): later output was neither shown nor read"),
            (None, true) => format!("processes left behind still wrote to {stream} after the command ended; perfmon stopped reading it, and that output is not in the run"),
            (None, false) => continue,
        };
        eprintln!("perfmon: warning: {lost}");
        rec.diagnostics.warnings.push(lost);
    }
    use Ordering::SeqCst;
    let left_behind: Vec<(u32, String)> = ended
        .left_behind
        .iter()
        .map(|pid| (*pid, proc_name(*pid)))
        .collect();
    let maxrss_bytes = reaped.maxrss_kib.load(SeqCst) * 1024;
    let sampled_proc_peak = peak_proc_rss_kib.max(0) as u64 * 1024;
    let (io_r, io_w, io_source) = match ended.reaped_io {
        Some((r, w)) => (r, w, Some(TotalSource::ReaperIo)),
        None => (0, 0, None),
    };
    rec.totals = Totals {
        cpu_user_us: reaped.user_us.load(SeqCst),
        cpu_system_us: reaped.system_us.load(SeqCst),
        peak_rss_bytes: maxrss_bytes.max(sampled_proc_peak),
        peak_tree_rss_bytes: peak_tree_rss_kib.max(0) as u64 * 1024,
        io_read_bytes: io_r,
        io_write_bytes: io_w,
        io_source,
        minor_faults: reaped.minflt.load(SeqCst),
        major_faults: reaped.majflt.load(SeqCst),
        voluntary_ctxsw: reaped.nvcsw.load(SeqCst),
        involuntary_ctxsw: reaped.nivcsw.load(SeqCst),
        processes_seen,
        processes_reaped: reaped.count.load(SeqCst),
        left_behind,
        cgroup: ended.cgroup.clone(),
        perfmon_cpu_us: self_cpu_us(),
        perfmon_peak_rss_kib: self_peak_rss_kib().unwrap_or_else(|| {
            let w =
                "perfmon's own peak RSS is unknown (/proc/self/status unreadable): recorded as 0";
            eprintln!("perfmon: warning: {w}");
            rec.diagnostics.warnings.push(w.into());
            0
        }),
    };
    let m = &mut rec.meta;
    m.wall_s = Some(ended.wall_s);
    match ended.exit {
        Exit::Code(c) => m.exit_code = Some(c),
        Exit::Signal(s) => {
            m.exit_code = Some(128 + s);
            m.signal = Some(s);
        }
    }
    m.status = if over_budget.load(Ordering::SeqCst) {
        RunStatus::OverBudget
    } else if ended.forwarded_signal.is_some() || ended.killed {
        RunStatus::Interrupted
    } else {
        match ended.exit {
            Exit::Code(0) => RunStatus::Ok,
            Exit::Code(_) => RunStatus::Failed,
            Exit::Signal(_) => RunStatus::Signaled,
        }
    };
    m.git = git_probe.and_then(|p| p.finish());

    let status = m.status;
    let status_str = status.as_str();
    let wall = ended.wall_s;
    let Sampler {
        mut store,
        writer,
        mut rec,
        flush_errors,
        ..
    } = sampler;
    for e in &flush_errors {
        let w = format!("a periodic save failed (a later save writes what it missed): {e}");
        eprintln!("perfmon: warning: {w}");
        rec.diagnostics.warnings.push(w);
    }
    let saved = writer.finish_patiently(&mut store, &mut rec, FINAL_SAVE_PATIENCE);
    if let Some(text) = explain {
        eprint!("{text}");
    }
    match saved {
        Ok(()) if !keep => {
            if let Err(e) = store.delete_runs(&[run_id]) {
                eprintln!("perfmon: warning: the warmup run {run_id} could not be deleted and stays stored: {e}");
            }
        }
        Ok(()) => {
            if !opts.quiet {
                eprintln!(
                    "perfmon: run {run_id} stored ({status_str}, {}): perfmon report {run_id}",
                    crate::report::units::fmt_secs(wall)
                );
            }
        }
        Err(e) => {
            // Nothing is lost silently: what the database did not take goes to a file that
            // `perfmon import` loads later. Samples flushed earlier stay in run {run_id}.
            match super::export::write_fallback(&opts.db, &rec) {
                Ok(p) => eprintln!(
                    "perfmon: error: the run could not be saved ({e}); it was written to {}: load it with `perfmon import {}`",
                    p.display(),
                    p.display()
                ),
                Err(e2) => eprintln!(
                    "perfmon: error: the run could not be saved ({e}) nor written to a fallback file ({e2:#})"
                ),
            }
        }
    }
    Ok(Outcome {
        code: ended.exit.shell_code(),
        run_id: Some(run_id),
        status: Some(status),
    })
}

fn recorded_env(extra: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for name in ENV_ALLOWLIST
        .iter()
        .copied()
        .chain(extra.iter().map(|s| s.as_str()))
    {
        if out.iter().any(|(n, _): &(String, String)| n == name) {
            continue;
        }
        if let Some(v) = std::env::var_os(name) {
            let v = crate::redact::redact_named(name, &v.to_string_lossy());
            out.push((name.to_string(), v));
        }
    }
    out
}

fn proc_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim_end().to_string())
        .unwrap_or_default()
}

/// perfmon's own CPU time so far (all its threads), µs.
fn self_cpu_us() -> u64 {
    // SAFETY: zeroed rusage is a valid out-parameter for getrusage.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return 0;
    }
    let us = |tv: libc::timeval| tv.tv_sec as u64 * 1_000_000 + tv.tv_usec as u64;
    us(ru.ru_utime) + us(ru.ru_stime)
}

/// perfmon's own peak RSS (VmHWM), KiB; None when /proc/self/status cannot tell it.
fn self_peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
