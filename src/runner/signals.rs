//! Forwarding SIGINT, SIGTERM, SIGHUP and SIGQUIT to the command, and job control.
//!
//! A thread receives the signals (with their origin) and forwards each to the command's process
//! group. A second SIGINT within 2 s kills the group and every descendant. When the command
//! shares perfmon's process group (perfmon is the terminal's foreground job), a signal typed at
//! the terminal has already reached the command, so it is not sent again; signals sent with
//! `kill` to perfmon alone are forwarded.
//!
//! Job control: on SIGTSTP (Ctrl-Z) perfmon clears its status line, passes the stop on to a
//! command in a group of its own, and stops itself, so the shell sees the job stopped; on SIGCONT
//! (`fg`, `bg`) it passes the continue on. On SIGWINCH the command's pseudo-terminals take the
//! real window's new size, and the command is told (again, in case it read the size before
//! perfmon had copied it).

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGCONT, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP, SIGWINCH};
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::iterator::{Handle, SignalsInfo};
use signal_hook::low_level::siginfo::Cause;

use super::forward::OutputGuard;
use super::terminal::SizeFollower;
use super::tty_mirror::MirrorCtl;
use crate::collect::descendants;

/// Window in which a second Ctrl-C kills the command's group.
const DOUBLE_INT: Duration = Duration::from_secs(2);

/// What the signal thread shares with the runner.
#[derive(Default)]
pub struct SignalState {
    /// Process group of the command; 0 until it is started.
    pub pgid: AtomicI32,
    pub shares_pgrp: AtomicBool,
    /// The first forwarded signal, 0 if none.
    pub received: AtomicI32,
    /// A signal that arrived before the command started (forwarded once it has).
    pub pending: AtomicI32,
    /// The group was killed after a second Ctrl-C.
    pub killed: AtomicBool,
    /// The command's pseudo-terminals, which follow the real window's size.
    followers: std::sync::Mutex<Vec<SizeFollower>>,
    /// Carries the command's terminal modes to the real terminal; paused while perfmon is stopped.
    mirror: std::sync::Mutex<Option<Arc<MirrorCtl>>>,
}

pub struct SignalForwarder {
    handle: Handle,
    thread: Option<JoinHandle<()>>,
    pub state: Arc<SignalState>,
}

impl SignalForwarder {
    /// Starts the signal thread. `guard` (the live status line) is told of stops, resumes and
    /// resizes.
    pub fn install(guard: Option<Arc<dyn OutputGuard>>) -> std::io::Result<SignalForwarder> {
        let state = Arc::new(SignalState::default());
        let mut signals = SignalsInfo::<WithOrigin>::new([
            SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGCONT, SIGWINCH,
        ])?;
        let handle = signals.handle();
        let st = state.clone();
        let thread = std::thread::Builder::new()
            .name("perfmon-signals".into())
            .spawn(move || {
                let me = std::process::id() as i32;
                let mut last_int: Option<Instant> = None;
                for origin in signals.forever() {
                    let from_self = origin.process.as_ref().is_some_and(|p| p.pid == me);
                    if from_self {
                        continue; // our own kill(0, sig) in shared-group mode
                    }
                    let sig = origin.signal;
                    let typed_at_terminal = matches!(origin.cause, Cause::Kernel);
                    match sig {
                        SIGWINCH => on_resize(&st, guard.as_deref()),
                        SIGTSTP => on_stop(&st, guard.as_deref(), typed_at_terminal),
                        SIGCONT => on_continue(&st, guard.as_deref()),
                        _ => on_forwarded(&st, sig, typed_at_terminal, &mut last_int),
                    }
                }
            })?;
        Ok(SignalForwarder {
            handle,
            thread: Some(thread),
            state,
        })
    }

    /// Records the command's group and forwards a signal that arrived before it started.
    /// `followers` are the command's pseudo-terminals.
    pub fn started(
        &self,
        pgid: i32,
        shares_pgrp: bool,
        followers: Vec<SizeFollower>,
        mirror: Option<Arc<MirrorCtl>>,
    ) {
        if let Ok(mut f) = self.state.followers.lock() {
            *f = followers;
        }
        if let Ok(mut m) = self.state.mirror.lock() {
            *m = mirror;
        }
        self.state.shares_pgrp.store(shares_pgrp, Ordering::SeqCst);
        self.state.pgid.store(pgid, Ordering::SeqCst);
        let pending = self.state.pending.swap(0, Ordering::SeqCst);
        if pending != 0 {
            // Our own group (the thread ignores its echo), or the command's.
            signal_group(if shares_pgrp { 0 } else { pgid }, pending);
        }
    }

    /// The first signal perfmon forwarded, if any.
    pub fn received(&self) -> Option<i32> {
        match self.state.received.load(Ordering::SeqCst) {
            0 => None,
            s => Some(s),
        }
    }
}

/// A signal to forward (INT, TERM, HUP, QUIT): to the command's group, or kept until it starts.
fn on_forwarded(
    st: &SignalState,
    sig: i32,
    typed_at_terminal: bool,
    last_int: &mut Option<Instant>,
) {
    let _first = st
        .received
        .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
    let pgid = st.pgid.load(Ordering::SeqCst);
    if pgid == 0 {
        st.pending.store(sig, Ordering::SeqCst);
        return;
    }
    if sig == SIGINT {
        if last_int.is_some_and(|t| t.elapsed() < DOUBLE_INT) {
            kill_all(st);
            return;
        }
        *last_int = Some(Instant::now());
    }
    if st.shares_pgrp.load(Ordering::SeqCst) {
        if !typed_at_terminal {
            signal_group(0, sig);
        }
    } else {
        signal_group(pgid, sig);
    }
}

/// SIGWINCH: the command's terminals take the real window's size; the command is told.
fn on_resize(st: &SignalState, guard: Option<&dyn OutputGuard>) {
    if let Some(g) = guard {
        g.resized();
    }
    let changed = follow_sizes(st);
    let pgid = st.pgid.load(Ordering::SeqCst);
    if pgid == 0 {
        return;
    }
    if !st.shares_pgrp.load(Ordering::SeqCst) {
        // A command in a group of its own hears nothing from the terminal.
        signal_group(pgid, SIGWINCH);
    } else if changed {
        // It heard the terminal's SIGWINCH already, maybe before its terminal had the new size.
        signal_group(0, SIGWINCH);
    }
}

/// Copies the real window's size to the command's terminals; true when one changed.
fn follow_sizes(st: &SignalState) -> bool {
    match st.followers.lock() {
        // Every one follows: no short-circuit.
        Ok(f) => {
            f.iter()
                .map(|f| f.follow())
                .filter(|changed| *changed)
                .count()
                > 0
        }
        Err(_) => false,
    }
}

/// SIGTSTP (Ctrl-Z, or `kill -TSTP`): clear the status line, stop the command, then perfmon.
fn on_stop(st: &SignalState, guard: Option<&dyn OutputGuard>, typed_at_terminal: bool) {
    if let Some(g) = guard {
        g.suspending();
    }
    if let Some(m) = st.mirror.lock().ok().and_then(|m| m.clone()) {
        m.pause();
    }
    let pgid = st.pgid.load(Ordering::SeqCst);
    if pgid != 0 {
        if !st.shares_pgrp.load(Ordering::SeqCst) {
            signal_group(pgid, SIGTSTP);
        } else if !typed_at_terminal {
            signal_group(0, SIGTSTP);
        }
    }
    // Stops perfmon (SIGSTOP) until a SIGCONT; the shell then reports the job stopped.
    let _stopped = signal_hook::low_level::emulate_default_handler(SIGTSTP);
}

/// SIGCONT (`fg`, `bg`): the command continues too; the window may have changed meanwhile.
fn on_continue(st: &SignalState, guard: Option<&dyn OutputGuard>) {
    let pgid = st.pgid.load(Ordering::SeqCst);
    if pgid != 0 && !st.shares_pgrp.load(Ordering::SeqCst) {
        signal_group(pgid, SIGCONT);
    }
    if follow_sizes(st) && pgid != 0 {
        let shared = st.shares_pgrp.load(Ordering::SeqCst);
        signal_group(if shared { 0 } else { pgid }, SIGWINCH);
    }
    if let Some(m) = st.mirror.lock().ok().and_then(|m| m.clone()) {
        m.resume();
    }
    if let Some(g) = guard {
        g.resumed();
    }
}

/// Sends `sig` to process group `pgid` (0: perfmon's own, whose echo the thread ignores).
fn signal_group(pgid: i32, sig: i32) {
    use nix::sys::signal::{killpg, Signal};
    use nix::unistd::Pid;
    let Ok(sig) = Signal::try_from(sig) else {
        return;
    };
    // A group that has already exited is no error here: there is no one left to tell.
    let _gone = if pgid == 0 {
        nix::sys::signal::kill(Pid::from_raw(0), sig)
    } else {
        killpg(Pid::from_raw(pgid), sig)
    };
}

impl Drop for SignalForwarder {
    fn drop(&mut self) {
        self.handle.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// SIGKILL to the command's group (unless it is perfmon's own) and to every descendant of
/// perfmon, including those that moved to another group or session.
fn kill_all(st: &SignalState) {
    st.killed.store(true, Ordering::SeqCst);
    let pgid = st.pgid.load(Ordering::SeqCst);
    if !st.shares_pgrp.load(Ordering::SeqCst) && pgid > 0 {
        signal_group(pgid, libc::SIGKILL);
    }
    kill_descendants(libc::SIGKILL);
}

/// Stops the command for perfmon's own reasons (`--budget-kill`): SIGTERM to its process group
/// (or every descendant when it shares perfmon's group), then SIGKILL after `grace` to whatever
/// is left. Returns at once; the escalation runs on its own thread.
pub fn stop_tree(pgid: i32, shares_pgrp: bool, grace: std::time::Duration) {
    let send = move |sig: i32| {
        if !shares_pgrp && pgid > 0 {
            signal_group(pgid, sig);
        }
        kill_descendants(sig);
    };
    send(libc::SIGTERM);
    let escalation = std::thread::Builder::new()
        .name("perfmon-stop".into())
        .spawn(move || {
            let until = std::time::Instant::now() + grace;
            while std::time::Instant::now() < until {
                if descendants(std::process::id()).is_empty() {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            send(libc::SIGKILL);
        });
    if let Err(e) = escalation {
        // Without the grace period's thread, no SIGKILL would follow: the stop must not fail.
        eprintln!("perfmon: warning: cannot wait {grace:?} before SIGKILL ({e}); killing now");
        send(libc::SIGKILL);
    }
}

/// Sends `sig` to every descendant of perfmon (found through /proc/PID/task/TID/children).
pub fn kill_descendants(sig: i32) {
    for pid in descendants(std::process::id()) {
        if let Ok(sig) = nix::sys::signal::Signal::try_from(sig) {
            // One that exited meanwhile needs no signal.
            let _gone = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig);
        }
    }
}
