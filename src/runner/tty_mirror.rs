//! Terminal modes and keys for a command whose stdout and stderr are perfmon's pseudo-terminals.
//!
//! Without perfmon, a program that sets terminal modes through its stdout or stderr sets them on
//! the real terminal: ncurses programs (`top`, `htop`) switch the terminal to raw mode through
//! stdout and read keys from stdin; pagers (`less`, `more`) set it through stderr and read their
//! keys from the terminal on stderr. Under perfmon those calls reach the command's own
//! pseudo-terminal, so perfmon carries them over: a thread watches both pseudo-terminals' modes
//! and applies every change the command made to them (against the modes perfmon gave them) to the
//! real terminal, and while the stderr one is out of line mode it passes the keys typed at the
//! real terminal on to it, as that is where such a program reads them. When the command puts the
//! modes back, when perfmon stops (Ctrl-Z), and when the command ends, the real terminal gets back
//! exactly the modes it had (`stty -g` before equals after).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg, Termios};

/// How often the command's modes are looked at.
const TICK: Duration = Duration::from_millis(40);

/// One of the command's pseudo-terminals, as perfmon watches it.
pub struct Watched {
    /// perfmon's own descriptor of the slave side (for its modes); closed when the command ends,
    /// so the master still sees the end of the stream.
    pub slave: OwnedFd,
    /// Where typed keys go (a duplicate of the master).
    pub master: OwnedFd,
    /// Its stream is the command's stderr: a program in key mode on it reads keys there.
    pub keys_here: bool,
    /// The modes perfmon gave it, read before the command started: what the command changes
    /// is measured against these.
    pub baseline: Termios,
}

/// The real terminal: where keys are typed, and whose modes perfmon changes and restores.
struct Real {
    fd: OwnedFd,
    /// Its modes when perfmon started (plain data: nix's `Termios` cannot be shared by threads).
    saved: libc::termios,
}

impl Real {
    fn saved(&self) -> Termios {
        Termios::from(self.saved)
    }
}

/// What the watching thread shares with the signal thread.
pub struct MirrorCtl {
    stop: AtomicBool,
    paused: AtomicBool,
    /// Set by pause(): the terminal has its own modes again (the thread may not have run between
    /// the pause and the stop).
    restored: AtomicBool,
    real: Real,
}

impl MirrorCtl {
    /// Gives the real terminal its modes back until [`MirrorCtl::resume`]: perfmon is about to
    /// stop (Ctrl-Z), and the shell takes the terminal.
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
        self.restored.store(true, Ordering::SeqCst);
        // The terminal may be gone (hung up): nothing to restore then.
        let _restored = tcsetattr(&self.real.fd, SetArg::TCSADRAIN, &self.real.saved());
    }

    /// perfmon continues: the command's modes apply again.
    pub fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }
}

/// The watching thread; [`TtyMirror::stop`] ends it and restores the real terminal.
pub struct TtyMirror {
    ctl: Arc<MirrorCtl>,
    handle: Option<JoinHandle<()>>,
}

impl TtyMirror {
    /// Starts watching `watched`, or returns None when perfmon has no terminal to mirror to (no
    /// stdin terminal and no `/dev/tty`) or none of the command's streams is a pseudo-terminal.
    pub fn start(watched: Vec<Watched>) -> Option<TtyMirror> {
        if watched.is_empty() {
            return None;
        }
        let real = open_real()?;
        let baselines: Vec<Termios> = watched.iter().map(|w| w.baseline.clone()).collect();
        let ctl = Arc::new(MirrorCtl {
            stop: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            restored: AtomicBool::new(false),
            real,
        });
        let c = ctl.clone();
        let handle = std::thread::Builder::new()
            .name("perfmon-tty".into())
            .spawn(move || watch(&c, watched, baselines))
            .ok()?;
        Some(TtyMirror {
            ctl,
            handle: Some(handle),
        })
    }

    /// The handle the signal thread pauses and resumes it with.
    pub fn control(&self) -> Arc<MirrorCtl> {
        self.ctl.clone()
    }

    /// Ends the thread (closing perfmon's slave descriptors) and restores the real terminal.
    pub fn stop(&mut self) {
        self.ctl.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            // A panic in the thread has nothing left to hand back; the modes were restored on
            // the way out or are restored by the shell.
            let _ended = h.join();
        }
    }
}

impl Drop for TtyMirror {
    fn drop(&mut self) {
        self.stop();
    }
}

/// perfmon's controlling terminal for keys and modes: stdin if it is a terminal, else `/dev/tty`.
fn open_real() -> Option<Real> {
    let fd: OwnedFd = if super::terminal::is_tty(0) {
        rustix::io::fcntl_dupfd_cloexec(rustix::stdio::stdin(), 3).ok()?
    } else {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .ok()?
            .into()
    };
    let saved = tcgetattr(&fd).ok()?.into();
    Some(Real { fd, saved })
}

fn watch(ctl: &MirrorCtl, watched: Vec<Watched>, baselines: Vec<Termios>) {
    let real = &ctl.real;
    let mut applied = real.saved();
    while !ctl.stop.load(Ordering::SeqCst) {
        let paused = ctl.paused.load(Ordering::SeqCst);
        if ctl.restored.swap(false, Ordering::SeqCst) {
            // After `fg` the shell gave the terminal the modes it had when the job stopped: ours.
            applied = real.saved();
        }
        let now: Vec<Option<Termios>> = watched.iter().map(|w| tcgetattr(&w.slave).ok()).collect();
        let mut want = real.saved();
        let mut keys_to: Option<BorrowedFd<'_>> = None;
        for ((w, base), cur) in watched.iter().zip(&baselines).zip(&now) {
            let Some(cur) = cur else { continue };
            if same_modes(base, cur) {
                continue;
            }
            carry_changes(&mut want, base, cur);
            if w.keys_here && !cur.local_flags.contains(LocalFlags::ICANON) {
                keys_to = Some(w.master.as_fd());
            }
        }
        if paused {
            std::thread::sleep(TICK);
            continue;
        }
        // Only the foreground job may change the terminal's modes (a background one is stopped).
        if !same_modes(&want, &applied) && fd_in_foreground(real.fd.as_fd()) {
            // The terminal may be gone (hung up); nothing to set then.
            if tcsetattr(&real.fd, SetArg::TCSADRAIN, &want).is_ok() {
                applied = want.clone();
            }
        }
        match keys_to {
            Some(to) if same_modes(&applied, &want) => pass_keys(real.fd.as_fd(), to),
            _ => std::thread::sleep(TICK),
        }
    }
    drop(watched);
    if !same_modes(&applied, &real.saved()) {
        // Best effort on the way out: the terminal may have been hung up.
        let _restored = tcsetattr(&real.fd, SetArg::TCSADRAIN, &real.saved());
    }
}

/// Waits up to one tick for keys at the real terminal and passes them on.
fn pass_keys(from: BorrowedFd<'_>, to: BorrowedFd<'_>) {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let mut fds = [PollFd::new(&from, PollFlags::IN)];
    let tick = Timespec {
        tv_sec: 0,
        tv_nsec: TICK.as_nanos() as i64,
    };
    if !matches!(poll(&mut fds, Some(&tick)), Ok(n) if n > 0) {
        return;
    }
    let mut buf = [0u8; 1024];
    let Ok(n) = rustix::io::read(from, &mut buf) else {
        return;
    };
    // The pseudo-terminal's input queue is large; a key that does not fit is dropped, as a
    // terminal drops keys nobody reads.
    let _written = super::forward::write_all_fd(to, &buf[..n]);
}

fn fd_in_foreground(fd: BorrowedFd<'_>) -> bool {
    rustix::termios::tcgetpgrp(fd).ok() == Some(rustix::process::getpgrp())
}

/// The modes a program sets (input, output, local flags and control characters; not the line's
/// speed or framing).
fn same_modes(a: &Termios, b: &Termios) -> bool {
    a.input_flags == b.input_flags
        && a.output_flags == b.output_flags
        && a.local_flags == b.local_flags
        && a.control_chars == b.control_chars
}

/// Applies to `real` every flag and control character that `cur` changed from `base`.
fn carry_changes(real: &mut Termios, base: &Termios, cur: &Termios) {
    let i = base.input_flags ^ cur.input_flags;
    real.input_flags = (real.input_flags & !i) | (cur.input_flags & i);
    let o = base.output_flags ^ cur.output_flags;
    real.output_flags = (real.output_flags & !o) | (cur.output_flags & o);
    let l = base.local_flags ^ cur.local_flags;
    real.local_flags = (real.local_flags & !l) | (cur.local_flags & l);
    for (k, (b, c)) in base
        .control_chars
        .iter()
        .zip(&cur.control_chars)
        .enumerate()
    {
        if b != c {
            real.control_chars[k] = *c;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use nix::sys::termios::{InputFlags, OutputFlags, SpecialCharacterIndices};

    /// Only what the command changed on its pseudo-terminal reaches the real terminal: less
    /// turning off line mode and echo does, the output processing perfmon itself turned off on the
    /// pseudo-terminal does not (the real terminal keeps its own).
    #[test]
    fn only_the_commands_changes_are_carried_over() {
        let pty = nix::pty::openpty(None, None).unwrap();
        let real = tcgetattr(&pty.slave).unwrap();
        let mut base = real.clone();
        base.output_flags.remove(OutputFlags::OPOST);
        base.local_flags.remove(LocalFlags::ECHO);
        let mut cur = base.clone();
        cur.local_flags.remove(LocalFlags::ICANON);
        cur.input_flags.remove(InputFlags::ICRNL);
        cur.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
        let mut want = real.clone();
        carry_changes(&mut want, &base, &cur);
        assert!(!want.local_flags.contains(LocalFlags::ICANON));
        assert!(!want.input_flags.contains(InputFlags::ICRNL));
        assert_eq!(
            want.output_flags, real.output_flags,
            "OPOST stays the real one's"
        );
        assert_eq!(
            want.local_flags.contains(LocalFlags::ECHO),
            real.local_flags.contains(LocalFlags::ECHO),
            "echo was perfmon's change, not the command's"
        );
        assert!(same_modes(&base, &base.clone()));
        assert!(!same_modes(&base, &cur));
        // Back to what perfmon gave it: nothing to carry, the real terminal gets its own modes.
        let mut back = real.clone();
        carry_changes(&mut back, &base, &base);
        assert!(same_modes(&back, &real));
    }
}
