//! Running the command as a transparent prefix: spawn it, forward its output and the signals sent
//! to perfmon, reap it (and orphans, as a subreaper) with exact rusage totals. Knows nothing of
//! sampling, storage or the CLI.

pub mod cgroup;
pub mod forward;
pub mod reap;
pub mod signals;
pub mod spawn;
pub mod terminal;
pub mod tty_mirror;

use std::ffi::OsString;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

pub use forward::{ForwardStats, LineFilter, LineSink, OutputGuard};
pub use reap::{Exit, ReapTotals};
pub use spawn::SpawnError;
pub use terminal::PtyMode;

use crate::model::Stream;

/// How to run the command.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    pub argv: Vec<OsString>,
    /// When the command's stdout and stderr are pseudo-terminals.
    pub pty: PtyMode,
    /// Lines hidden from the caller (`--strip`: the `@perfmon` protocol lines).
    pub hide: Option<forward::LineFilter>,
    /// Extra environment variables for the command.
    pub env: Vec<(OsString, OsString)>,
}

/// A command that has been started.
pub struct Running {
    pub pid: u32,
    pub pgid: i32,
    pub shares_pgrp: bool,
    pub start: Instant,
    pub reaped: Arc<ReapTotals>,
    signals: signals::SignalForwarder,
    ctl: Arc<forward::ForwardCtl>,
    forwarders: Vec<JoinHandle<ForwardStats>>,
    /// IO folded into perfmon's /proc/self/io before the command started.
    /// None when /proc/self/io could not be read at the start: the reaped IO is then unknown.
    io_baseline: Option<(u64, u64)>,
    cgroup: Option<cgroup::RunCgroup>,
    /// Carries the command's terminal modes to the real terminal while it runs.
    mirror: std::sync::Mutex<Option<tty_mirror::TtyMirror>>,
}

/// How the command ended, with the totals taken at that moment.
#[derive(Debug, Clone)]
pub struct Ended {
    pub exit: Exit,
    pub wall_s: f64,
    /// The first signal perfmon forwarded (the run is `interrupted`).
    pub forwarded_signal: Option<i32>,
    /// The group was killed after a second Ctrl-C.
    pub killed: bool,
    /// Descendants still alive when the command exited (pid).
    pub left_behind: Vec<u32>,
    /// Read/write bytes of every reaped descendant.
    pub reaped_io: Option<(u64, u64)>,
    /// Exact totals of the run's own cgroup v2, where one could be made.
    pub cgroup: Option<crate::model::CgroupTotals>,
}

impl Running {
    /// Installs signal forwarding, becomes a subreaper, spawns the command and starts forwarding
    /// its output to perfmon's stdout/stderr, lines going to `sink`.
    pub fn start(
        cfg: &RunnerConfig,
        sink: Arc<dyn LineSink>,
        guard: Option<Arc<dyn OutputGuard>>,
    ) -> Result<Running, SpawnError> {
        let other = |e: std::io::Error| SpawnError::Other {
            cmd: cfg
                .argv
                .first()
                .map(|a| a.to_string_lossy().into_owned())
                .unwrap_or_default(),
            source: e,
        };
        let signals = signals::SignalForwarder::install(guard.clone()).map_err(other)?;
        reap::become_subreaper().map_err(other)?;
        let io_baseline = reap::reaped_io();
        let share = terminal::in_foreground();
        let cgroup = cgroup::RunCgroup::create();
        let start = Instant::now();
        let spawned = spawn::spawn(&spawn::SpawnOptions {
            argv: cfg.argv.clone(),
            stdout: terminal::output_kind(1, cfg.pty),
            stderr: terminal::output_kind(2, cfg.pty),
            share_pgrp: share,
            cgroup_procs_fd: cgroup.as_ref().map(|c| c.procs_fd()),
            env: cfg.env.clone(),
        })?;
        // Read once the command has exec'd (spawn returns after that): perfmon's peak then
        // bounds the copy the command's ru_maxrss counts, whatever other perfmon threads did
        // meanwhile. Unknown, every reaped peak counts.
        let spawn_floor_kib = reap::self_maxrss_kib().unwrap_or(0);
        let mirror = if share {
            tty_mirror::TtyMirror::start(spawned.watched)
        } else {
            None
        };
        signals.started(
            spawned.pgid,
            share,
            spawned.followers,
            mirror.as_ref().map(|m| m.control()),
        );
        let ctl = forward::ForwardCtl::new();
        let mut forwarders = Vec::new();
        for (src, stream, fd) in [
            (spawned.stdout, Stream::Stdout, 1),
            (spawned.stderr, Stream::Stderr, 2),
        ] {
            let fcfg = forward::ForwardConfig {
                stream,
                dst_fd: fd,
                hide: cfg.hide,
                start,
            };
            let (sink, guard, ctl) = (sink.clone(), guard.clone(), ctl.clone());
            let h = std::thread::Builder::new()
                .name(format!("perfmon-fwd-{fd}"))
                .spawn(move || forward::forward(src, fcfg, sink, guard, ctl))
                .map_err(other)?;
            forwarders.push(h);
        }
        Ok(Running {
            pid: spawned.pid,
            pgid: spawned.pgid,
            shares_pgrp: share,
            start,
            reaped: Arc::new(ReapTotals::new(spawn_floor_kib)),
            signals,
            ctl,
            forwarders,
            io_baseline,
            cgroup,
            mirror: std::sync::Mutex::new(mirror),
        })
    }

    /// Blocks until the command exits; reaps orphans that already exited and reads the totals.
    /// perfmon's threads are all still alive here, so its own IO is told apart from the tree's.
    pub fn wait(&self) -> std::io::Result<Ended> {
        let exit = reap::wait_main(self.pid, &self.reaped);
        let wall_s = self.start.elapsed().as_secs_f64();
        // The real terminal gets its modes back, and perfmon's descriptors of the command's
        // terminals close, so their masters see the end of the output.
        if let Ok(mut m) = self.mirror.lock() {
            if let Some(mut m) = m.take() {
                m.stop();
            }
        }
        let exit = exit?;
        reap::reap_exited(&self.reaped);
        // Without a baseline, perfmon's own earlier IO cannot be told apart: unknown, not a guess.
        let reaped_io = self.io_baseline.and_then(|(r0, w0)| {
            reap::reaped_io().map(|(r, w)| (r.saturating_sub(r0), w.saturating_sub(w0)))
        });
        let left_behind = crate::collect::descendants(std::process::id());
        let cgroup = self.cgroup.as_ref().map(|c| c.totals());
        Ok(Ended {
            exit,
            wall_s,
            forwarded_signal: self.signals.received(),
            killed: self.signals.state.killed.load(Ordering::SeqCst),
            left_behind,
            reaped_io,
            cgroup,
        })
    }

    /// IO already folded into perfmon's /proc/self/io before the command started (None when it
    /// could not be read).
    pub fn io_baseline(&self) -> Option<(u64, u64)> {
        self.io_baseline
    }

    /// Drains what the command's streams still hold (briefly, if a leftover process keeps them
    /// open) and stops forwarding.
    pub fn finish_output(mut self) -> Vec<ForwardStats> {
        self.ctl.start_drain();
        self.forwarders
            .drain(..)
            .map(|h| {
                h.join().unwrap_or_else(|_| ForwardStats {
                    error: Some("the forwarding thread stopped with an internal error".into()),
                    ..ForwardStats::default()
                })
            })
            .collect()
    }
}
