//! Forwarding SIGINT, SIGTERM, SIGHUP and SIGQUIT to the command.
//!
//! A thread receives the signals (with their origin) and forwards each to the command's process
//! group. A second SIGINT within 2 s kills the group and every descendant. When the command
//! shares perfmon's process group (perfmon is the terminal's foreground job), a signal typed at
//! the terminal has already reached the command, so it is not sent again; signals sent with
//! `kill` to perfmon alone are forwarded.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::iterator::{Handle, SignalsInfo};
use signal_hook::low_level::siginfo::Cause;

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
}

pub struct SignalForwarder {
    handle: Handle,
    thread: Option<JoinHandle<()>>,
    pub state: Arc<SignalState>,
}

impl SignalForwarder {
    pub fn install() -> std::io::Result<SignalForwarder> {
        let state = Arc::new(SignalState::default());
        let mut signals = SignalsInfo::<WithOrigin>::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT])?;
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
                    let _ =
                        st.received
                            .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
                    let pgid = st.pgid.load(Ordering::SeqCst);
                    if pgid == 0 {
                        st.pending.store(sig, Ordering::SeqCst);
                        continue;
                    }
                    if sig == SIGINT {
                        if last_int.is_some_and(|t| t.elapsed() < DOUBLE_INT) {
                            kill_all(&st);
                            continue;
                        }
                        last_int = Some(Instant::now());
                    }
                    let typed_at_terminal = matches!(origin.cause, Cause::Kernel);
                    if st.shares_pgrp.load(Ordering::SeqCst) {
                        if !typed_at_terminal {
                            // SAFETY: kill(0, sig) signals our own process group.
                            unsafe { libc::kill(0, sig) };
                        }
                    } else {
                        // SAFETY: kill with a negative pid signals the command's group.
                        unsafe { libc::kill(-pgid, sig) };
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
    pub fn started(&self, pgid: i32, shares_pgrp: bool) {
        self.state.shares_pgrp.store(shares_pgrp, Ordering::SeqCst);
        self.state.pgid.store(pgid, Ordering::SeqCst);
        let pending = self.state.pending.swap(0, Ordering::SeqCst);
        if pending != 0 {
            if shares_pgrp {
                // SAFETY: signals our own group (the thread ignores its echo).
                unsafe { libc::kill(0, pending) };
            } else {
                // SAFETY: signals the command's group.
                unsafe { libc::kill(-pgid, pending) };
            }
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
        // SAFETY: signals the command's group.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
    }
    kill_descendants(libc::SIGKILL);
}

/// Stops the command for perfmon's own reasons (`--budget-kill`): SIGTERM to its process group
/// (or every descendant when it shares perfmon's group), then SIGKILL after `grace` to whatever
/// is left. Returns at once; the escalation runs on its own thread.
pub fn stop_tree(pgid: i32, shares_pgrp: bool, grace: std::time::Duration) {
    let send = move |sig: i32| {
        if !shares_pgrp && pgid > 0 {
            // SAFETY: signals the command's own process group.
            unsafe { libc::kill(-pgid, sig) };
        }
        kill_descendants(sig);
    };
    send(libc::SIGTERM);
    let _ = std::thread::Builder::new()
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
}

/// Sends `sig` to every descendant of perfmon (found through /proc/PID/task/TID/children).
pub fn kill_descendants(sig: i32) {
    for pid in descendants(std::process::id()) {
        // SAFETY: plain kill of a pid in our tree.
        unsafe { libc::kill(pid as i32, sig) };
    }
}

/// All descendants of `root`, parents before children.
pub fn descendants(root: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut queue = vec![root];
    let mut i = 0;
    while i < queue.len() {
        let pid = queue[i];
        i += 1;
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let path = t.path().join("children");
            if let Ok(s) = std::fs::read_to_string(path) {
                for c in s
                    .split_ascii_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok())
                {
                    if !queue.contains(&c) {
                        queue.push(c);
                        out.push(c);
                    }
                }
            }
        }
    }
    out
}
