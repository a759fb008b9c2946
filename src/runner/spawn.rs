//! Starting the command: its process group, its stdout/stderr pipes (or a pseudo-terminal for
//! stdout with `--pty`), the environment, and the exit codes of a command that cannot start.
//!
//! The command inherits stdin, so pipes and interactive programs work unchanged. When perfmon runs
//! in the foreground of a terminal the command stays in perfmon's process group, as with `time`,
//! so job control (Ctrl-C, Ctrl-Z, reading the terminal) behaves as without perfmon; otherwise it
//! gets a process group of its own, to which perfmon forwards signals.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

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
    /// Run stdout on a pseudo-terminal so programs that block-buffer when piped flush per line.
    pub pty: bool,
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
}

/// True when stdin is a terminal whose foreground process group is perfmon's own.
pub fn in_terminal_foreground() -> bool {
    // SAFETY: plain libc queries on fd 0 with no memory arguments.
    unsafe { libc::isatty(0) == 1 && libc::tcgetpgrp(0) == libc::getpgrp() }
}

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
    for (k, v) in &opts.env {
        cmd.env(k, v);
    }

    let (out_read, out_write) = if opts.pty {
        open_pty().map_err(|e| SpawnError::Other {
            cmd: name.clone(),
            source: e,
        })?
    } else {
        pipe().map_err(|e| SpawnError::Other {
            cmd: name.clone(),
            source: e,
        })?
    };
    let (err_read, err_write) = pipe().map_err(|e| SpawnError::Other {
        cmd: name.clone(),
        source: e,
    })?;
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
        // SAFETY: getpgrp has no arguments and cannot fail.
        unsafe { libc::getpgrp() }
    } else {
        pid as i32
    };
    Ok(Spawned {
        child,
        pid,
        pgid,
        stdout: File::from(out_read),
        stderr: File::from(err_read),
    })
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints; pipe2 fills it on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both fds were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Opens a pseudo-terminal pair for the command's stdout: the master is read by perfmon, the
/// slave is the command's stdout. Output post-processing is turned off so `\n` is not turned into
/// `\r\n`, and echo is off so nothing comes back.
fn open_pty() -> io::Result<(OwnedFd, OwnedFd)> {
    let pty = nix::pty::openpty(None, None).map_err(io::Error::from)?;
    let mut tio = nix::sys::termios::tcgetattr(&pty.slave).map_err(io::Error::from)?;
    tio.output_flags
        .remove(nix::sys::termios::OutputFlags::OPOST);
    tio.local_flags
        .remove(nix::sys::termios::LocalFlags::ECHO | nix::sys::termios::LocalFlags::ICANON);
    nix::sys::termios::tcsetattr(&pty.slave, nix::sys::termios::SetArg::TCSANOW, &tio)
        .map_err(io::Error::from)?;
    set_cloexec(pty.master.as_raw_fd())?;
    set_cloexec(pty.slave.as_raw_fd())?;
    Ok((pty.master, pty.slave))
}

fn set_cloexec(fd: i32) -> io::Result<()> {
    // SAFETY: fcntl on an fd we own.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
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
            ] {
                libc::signal(sig, libc::SIG_DFL);
            }
            Ok(())
        });
    }
}
