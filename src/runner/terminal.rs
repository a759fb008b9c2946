//! What the command sees of the terminal. A transparent prefix must not change it: where
//! perfmon's own stdout (or stderr) is a terminal, the command's is a terminal too — a
//! pseudo-terminal of its own that perfmon reads, so the two streams stay separate and are still
//! read byte for byte — of the real window's size, following its resizes. Where perfmon's is a
//! pipe, a file or /dev/null, the command gets a pipe, as before.
//!
//! The command keeps the real terminal as its controlling terminal and stdin: keys, `/dev/tty`,
//! terminal modes and job control are the real terminal's. Only its output goes through perfmon.
//!
//! System calls go through `rustix`, whose terminal calls are safe wrappers (nix has none for the
//! window size).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::termios::Winsize;

/// How one of the command's output streams is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// A pipe (perfmon's own stream is not a terminal, or `--no-pty`).
    Pipe,
    /// A pseudo-terminal of this size (rows, columns).
    Pty { rows: u16, cols: u16 },
}

/// When the command gets terminals for its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PtyMode {
    /// Where perfmon's own stream is a terminal (the default).
    #[default]
    Auto,
    /// Always (`--pty`): programs that block-buffer or hide progress when piped.
    Always,
    /// Never (`--no-pty`): pipes, even in a terminal.
    Never,
}

/// The window size used when no terminal tells one: `$LINES` x `$COLUMNS`, else 24 x 80.
pub fn fallback_size() -> (u16, u16) {
    let var = |n: &str| {
        std::env::var(n)
            .ok()
            .and_then(|v| v.trim().parse::<u16>().ok())
            .filter(|v| *v > 0)
    };
    (var("LINES").unwrap_or(24), var("COLUMNS").unwrap_or(80))
}

/// True when `fd` of this process is a terminal.
pub fn is_tty(fd: i32) -> bool {
    with_fd(fd, rustix::termios::isatty).unwrap_or(false)
}

/// The window size (rows, columns) of the terminal on `fd`, if it is one and tells a size.
pub fn window_size(fd: i32) -> Option<(u16, u16)> {
    with_fd(fd, |f| rustix::termios::tcgetwinsize(f).ok())
        .flatten()
        .filter(|w| w.ws_row > 0 && w.ws_col > 0)
        .map(|w| (w.ws_row, w.ws_col))
}

/// How the command's stream that would go to perfmon's `fd` (1 or 2) is connected.
pub fn output_kind(fd: i32, mode: PtyMode) -> OutputKind {
    let tty = is_tty(fd);
    let want = match mode {
        PtyMode::Never => false,
        PtyMode::Always => true,
        PtyMode::Auto => tty,
    };
    if !want {
        return OutputKind::Pipe;
    }
    let (rows, cols) = window_size(fd)
        .or_else(|| window_size(1).or_else(|| window_size(2)))
        .unwrap_or_else(fallback_size);
    OutputKind::Pty { rows, cols }
}

/// True when perfmon is the foreground job of its controlling terminal (typed at a shell
/// prompt, not `&`). The command then stays in perfmon's process group, as under `time`, so the
/// terminal's Ctrl-C and Ctrl-Z reach it directly and it may read the terminal. Any of stdin,
/// stdout and stderr that is a terminal tells; else `/dev/tty`, the controlling terminal
/// (perfmon may run with all three redirected, and the command may still open `/dev/tty`).
pub fn in_foreground() -> bool {
    let me = rustix::process::getpgrp();
    for fd in 0..=2 {
        if is_tty(fd) {
            return with_fd(fd, |f| rustix::termios::tcgetpgrp(f).ok()).flatten() == Some(me);
        }
    }
    match std::fs::File::open("/dev/tty") {
        Ok(f) => rustix::termios::tcgetpgrp(&f).ok() == Some(me),
        Err(_) => false,
    }
}

/// True when perfmon is the foreground job of the terminal on `fd` (the status line is drawn only
/// then: a job in the background must not draw on the terminal).
pub fn fd_in_foreground(fd: i32) -> bool {
    with_fd(fd, |f| rustix::termios::tcgetpgrp(f).ok()).flatten()
        == Some(rustix::process::getpgrp())
}

/// True when the terminal on `fd` reads lines and echoes them (canonical mode with echo): the
/// state a shell leaves it in. A command that reads keys (`less`, `vim`, `top`) or a password
/// (`sudo`, `ssh`) changes that, and the status line keeps off the screen meanwhile.
pub fn line_mode(fd: i32) -> bool {
    use rustix::termios::LocalModes;
    with_fd(fd, |f| rustix::termios::tcgetattr(f).ok())
        .flatten()
        .is_some_and(|t| {
            t.local_modes
                .contains(LocalModes::ICANON | LocalModes::ECHO)
        })
}

/// True when stdout and stderr are the same terminal (the status line on stderr shares its rows
/// with the command's stdout).
pub fn same_terminal(a: i32, b: i32) -> bool {
    let rdev = |fd| with_fd(fd, |f| rustix::fs::fstat(f).ok().map(|s| s.st_rdev)).flatten();
    is_tty(a) && is_tty(b) && rdev(a).is_some() && rdev(a) == rdev(b)
}

/// Opens a pseudo-terminal for one output stream of the command: (master, slave). The master is
/// read by perfmon; the slave becomes the command's stdout or stderr. Output processing is off, so
/// perfmon reads exactly the bytes the command wrote (the real terminal does its own processing
/// when perfmon writes them), and echo is off, since nothing is typed into it.
pub fn open_output_pty(rows: u16, cols: u16) -> io::Result<(OwnedFd, OwnedFd)> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, OutputFlags, SetArg};
    let size = nix::pty::Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // openpty opens the slave with O_NOCTTY: it never becomes perfmon's controlling terminal.
    let pty = nix::pty::openpty(Some(&size), None).map_err(io::Error::from)?;
    let mut tio = tcgetattr(&pty.slave).map_err(io::Error::from)?;
    tio.output_flags.remove(OutputFlags::OPOST);
    tio.local_flags
        .remove(LocalFlags::ECHO | LocalFlags::ECHONL | LocalFlags::ECHOCTL);
    tcsetattr(&pty.slave, SetArg::TCSANOW, &tio).map_err(io::Error::from)?;
    for fd in [&pty.master, &pty.slave] {
        rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::CLOEXEC)?;
    }
    Ok((pty.master, pty.slave))
}

/// Sets the window size of the pseudo-terminal whose master is `master`.
pub fn set_size(master: BorrowedFd<'_>, rows: u16, cols: u16) -> io::Result<()> {
    let w = Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    rustix::termios::tcsetwinsize(master, w).map_err(io::Error::from)
}

/// A pseudo-terminal of the command's that follows the size of perfmon's terminal on `src_fd`.
pub struct SizeFollower {
    pub master: OwnedFd,
    pub src_fd: i32,
}

impl SizeFollower {
    /// Copies the size of perfmon's terminal to the command's; true when it changed.
    pub fn follow(&self) -> bool {
        let Some((rows, cols)) = window_size(self.src_fd) else {
            return false;
        };
        let now = rustix::termios::tcgetwinsize(self.master.as_fd()).ok();
        if now.is_some_and(|w| w.ws_row == rows && w.ws_col == cols) {
            return false;
        }
        set_size(self.master.as_fd(), rows, cols).is_ok()
    }
}

/// Runs `f` on perfmon's own `fd` (0, 1 or 2), borrowed; None for any other number.
fn with_fd<T>(fd: i32, f: impl FnOnce(BorrowedFd<'static>) -> T) -> Option<T> {
    let b = match fd {
        0 => rustix::stdio::stdin(),
        1 => rustix::stdio::stdout(),
        2 => rustix::stdio::stderr(),
        _ => return None,
    };
    Some(f(b))
}
