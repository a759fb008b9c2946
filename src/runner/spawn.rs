//! Starting the command: its process group, its stdout/stderr (each a pipe, or a pseudo-terminal
//! where perfmon's own is a terminal: see [`super::terminal`]), the environment, and the exit
//! codes of a command that cannot start.
//!
//! The command inherits stdin, so pipes and interactive programs work unchanged. When perfmon runs
//! in the foreground of a terminal the command stays in perfmon's process group, as with `time`,
//! so job control (Ctrl-C, Ctrl-Z, reading the terminal) behaves as without perfmon; otherwise it
//! gets a process group of its own, to which perfmon forwards signals.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

use super::terminal::{self, OutputKind, SizeFollower};
use super::tty_mirror::Watched;

/// Why the command could not be started; maps to the shell's exit codes.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("{0}: command not found")]
    NotFound(String),
    #[error("{0}: permission denied (not executable)")]
    NotExecutable(String),
    #[error("{cmd}: cannot start: {source}")]
    Other { cmd: String, source: io::Error },
}

impl SpawnError {
    /// The exit status a shell gives for the same failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            SpawnError::NotFound(_) => 127,
            SpawnError::NotExecutable(_) | SpawnError::Other { .. } => 126,
        }
    }
}

/// How to start the command.
#[derive(Debug, Clone)]
pub struct SpawnOptions {
    pub argv: Vec<OsString>,
    /// How the command's stdout and stderr are connected.
    pub stdout: OutputKind,
    pub stderr: OutputKind,
    /// Keep the command in perfmon's process group (perfmon is the terminal's foreground job).
    pub share_pgrp: bool,
    /// An fd on a cgroup's `cgroup.procs`: the child moves itself in before it executes.
    pub cgroup_procs_fd: Option<i32>,
    /// Extra environment variables for the command.
    pub env: Vec<(OsString, OsString)>,
}

/// A started command with the read ends of its output.
pub struct Spawned {
    pub child: Child,
    pub pid: u32,
    /// Process group the signals go to.
    pub pgid: i32,
    pub stdout: File,
    pub stderr: File,
    /// The pseudo-terminals among them, to follow the real window's size: (master, perfmon's fd).
    pub followers: Vec<SizeFollower>,
    /// The same pseudo-terminals, whose modes perfmon carries over to the real terminal.
    pub watched: Vec<Watched>,
}

/// Set to `1` in the command's environment.
pub const UNDER_PERFMON_VAR: &str = "PERFMON";

pub fn spawn(opts: &SpawnOptions) -> Result<Spawned, SpawnError> {
    let Some((prog, args)) = opts.argv.split_first() else {
        return Err(SpawnError::NotFound(String::new()));
    };
    let name = prog.to_string_lossy().into_owned();
    let mut cmd = Command::new(prog);
    cmd.args(args).stdin(Stdio::inherit());
    if std::env::var_os("PYTHONUNBUFFERED").is_none() {
        cmd.env("PYTHONUNBUFFERED", "1");
    }
    // Tells instrumentation inside the command (the `perfmon` Python module) that its protocol
    // lines will be read; without it they stay silent.
    cmd.env(UNDER_PERFMON_VAR, "1");
    for (k, v) in &opts.env {
        cmd.env(k, v);
    }

    let other = |e: io::Error| SpawnError::Other {
        cmd: name.clone(),
        source: e,
    };
    let (mut followers, mut watched) = (Vec::new(), Vec::new());
    let (out_read, out_write) =
        connect(opts.stdout, 1, &mut followers, &mut watched).map_err(other)?;
    let (err_read, err_write) =
        connect(opts.stderr, 2, &mut followers, &mut watched).map_err(other)?;
    cmd.stdout(Stdio::from(out_write));
    cmd.stderr(Stdio::from(err_write));

    let share = opts.share_pgrp;
    let cgroup_fd = opts.cgroup_procs_fd;
    // Without a cgroup to join, std can start the command with posix_spawn (vfork-like: perfmon's
    // memory is not copied): it sets the process group itself, empties the signal mask and
    // restores SIGPIPE, and exec resets perfmon's handlers of SIGINT, SIGTERM, SIGHUP and SIGQUIT
    // to the default. A fork, and the copy-on-write faults perfmon took after it, cost about
    // 0.3 ms of every run here. Joining a cgroup needs code between fork and exec.
    if cgroup_fd.is_none() {
        if !share {
            cmd.process_group(0);
        }
    } else {
        pre_exec_setup(&mut cmd, cgroup_fd, share);
    }
    let child = cmd.spawn().map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => SpawnError::NotFound(name.clone()),
        io::ErrorKind::PermissionDenied => SpawnError::NotExecutable(name.clone()),
        _ if e.raw_os_error() == Some(libc::ENOEXEC) => SpawnError::NotExecutable(name.clone()),
        _ => SpawnError::Other {
            cmd: name.clone(),
            source: e,
        },
    })?;
    // `cmd` still holds the write ends of the pipes: drop it so EOF arrives when the tree exits.
    drop(cmd);
    let pid = child.id();
    let pgid = if share {
        rustix::process::getpgrp().as_raw_nonzero().get()
    } else {
        pid as i32
    };
    Ok(Spawned {
        child,
        pid,
        pgid,
        stdout: File::from(out_read),
        stderr: File::from(err_read),
        followers,
        watched,
    })
}

/// The (read, write) ends of one output stream; of a pseudo-terminal, duplicates are also kept in
/// `followers` (to follow perfmon's `fd`'s window size) and `watched` (for its modes).
fn connect(
    kind: OutputKind,
    fd: i32,
    followers: &mut Vec<SizeFollower>,
    watched: &mut Vec<Watched>,
) -> io::Result<(OwnedFd, OwnedFd)> {
    match kind {
        OutputKind::Pipe => pipe(),
        OutputKind::Pty { rows, cols } => {
            let (master, slave) = terminal::open_output_pty(rows, cols)?;
            followers.push(SizeFollower {
                master: master.try_clone()?,
                src_fd: fd,
            });
            watched.push(Watched {
                // Read now, before the command starts: a program that sets its modes at once
                // (`less`) must not have changed them yet, or its changes look like the baseline.
                baseline: nix::sys::termios::tcgetattr(&slave)?,
                slave: slave.try_clone()?,
                master: master.try_clone()?,
                keys_here: fd == 2,
            });
            Ok((master, slave))
        }
    }
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?)
}

/// The fork-and-exec path, for a command that must join the run's cgroup before it executes.
fn pre_exec_setup(cmd: &mut Command, cgroup_fd: Option<i32>, share: bool) {
    // SAFETY: the closure only calls async-signal-safe functions (write, setpgid, sigprocmask,
    // signal).
    unsafe {
        cmd.pre_exec(move || {
            if let Some(fd) = cgroup_fd {
                // Best effort: without the cgroup the run still has rusage totals.
                libc::write(fd, b"0".as_ptr().cast(), 1);
            }
            if !share && libc::setpgid(0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // Undo what perfmon set for itself: an empty signal mask and default dispositions.
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
            for sig in [
                libc::SIGINT,
                libc::SIGTERM,
                libc::SIGHUP,
                libc::SIGQUIT,
                libc::SIGPIPE,
                libc::SIGTSTP,
                libc::SIGCONT,
                libc::SIGWINCH,
            ] {
                libc::signal(sig, libc::SIG_DFL);
            }
            Ok(())
        });
    }
}
