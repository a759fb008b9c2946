//! Reaping: perfmon is a child subreaper, so it reaps the command and every orphaned descendant,
//! and adds up their rusage. These totals cannot miss a short-lived process, unlike sampling:
//! the kernel folds every process into the rusage of whoever reaps it.
//!
//! The main thread blocks in `wait4`, so the command's exit is noticed at once, not at the next
//! sample.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

/// Running totals of the rusage of every process perfmon reaped. Read by the sampler while the
/// main thread adds to them.
#[derive(Debug, Default)]
pub struct ReapTotals {
    pub user_us: AtomicU64,
    pub system_us: AtomicU64,
    /// Largest ru_maxrss (KiB) of any reaped process (and its reaped descendants).
    pub maxrss_kib: AtomicU64,
    pub minflt: AtomicU64,
    pub majflt: AtomicU64,
    pub nvcsw: AtomicU64,
    pub nivcsw: AtomicU64,
    pub count: AtomicU64,
    /// perfmon's own peak RSS (KiB) read right after the spawn returned (the command had
    /// exec'd by then, so this bounds perfmon's memory at the exec). The command starts as a
    /// copy (fork) or a share (posix_spawn) of perfmon's memory until its exec, and the kernel
    /// counts that in the command's ru_maxrss: a reaped peak no higher than this says nothing
    /// about the command itself.
    pub spawn_floor_kib: u64,
}

/// perfmon's own peak RSS so far (KiB), from getrusage; None if it cannot be read.
pub fn self_maxrss_kib() -> Option<u64> {
    use nix::sys::resource::{getrusage, UsageWho};
    getrusage(UsageWho::RUSAGE_SELF)
        .ok()
        .map(|u| u.max_rss().max(0) as u64)
}

impl ReapTotals {
    /// Totals for a command started while perfmon's own peak RSS was `spawn_floor_kib`.
    pub fn new(spawn_floor_kib: u64) -> ReapTotals {
        ReapTotals {
            spawn_floor_kib,
            ..ReapTotals::default()
        }
    }

    /// The largest ru_maxrss of the reaped processes when it tells something of the command:
    /// None while it is no higher than perfmon's own peak at the spawn (see `spawn_floor_kib`).
    pub fn command_maxrss_kib(&self) -> Option<u64> {
        let m = self.maxrss_kib.load(Ordering::SeqCst);
        (m > self.spawn_floor_kib).then_some(m)
    }

    fn add(&self, ru: &libc::rusage) {
        let us = |tv: libc::timeval| (tv.tv_sec as u64) * 1_000_000 + tv.tv_usec as u64;
        self.user_us.fetch_add(us(ru.ru_utime), Ordering::SeqCst);
        self.system_us.fetch_add(us(ru.ru_stime), Ordering::SeqCst);
        self.maxrss_kib
            .fetch_max(ru.ru_maxrss.max(0) as u64, Ordering::SeqCst);
        self.minflt
            .fetch_add(ru.ru_minflt.max(0) as u64, Ordering::SeqCst);
        self.majflt
            .fetch_add(ru.ru_majflt.max(0) as u64, Ordering::SeqCst);
        self.nvcsw
            .fetch_add(ru.ru_nvcsw.max(0) as u64, Ordering::SeqCst);
        self.nivcsw
            .fetch_add(ru.ru_nivcsw.max(0) as u64, Ordering::SeqCst);
        self.count.fetch_add(1, Ordering::SeqCst);
    }
}

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl Exit {
    /// The status a shell reports: the exit code, or 128+N for signal N.
    pub fn shell_code(self) -> i32 {
        match self {
            Exit::Code(c) => c,
            Exit::Signal(s) => 128 + s,
        }
    }
}

/// Makes perfmon a child subreaper: orphaned descendants are reparented to it, not to init.
pub fn become_subreaper() -> io::Result<()> {
    Ok(rustix::process::set_child_subreaper(Some(
        rustix::process::getpid(),
    ))?)
}

/// Blocks until `main_pid` exits, reaping (and accounting) adopted orphans on the way.
pub fn wait_main(main_pid: u32, totals: &ReapTotals) -> io::Result<Exit> {
    loop {
        match wait_any(0, totals)? {
            Some((pid, exit)) if pid == main_pid as i32 => return Ok(exit),
            Some(_) => {}
            None => {
                return Err(io::Error::other(
                    "the command vanished without being reaped",
                ));
            }
        }
    }
}

/// Reaps every child that has already exited, without blocking. Returns how many.
pub fn reap_exited(totals: &ReapTotals) -> usize {
    let mut n = 0;
    while let Ok(Some(_)) = wait_any(libc::WNOHANG, totals) {
        n += 1;
    }
    n
}

fn wait_any(flags: i32, totals: &ReapTotals) -> io::Result<Option<(i32, Exit)>> {
    loop {
        let mut status = 0;
        // wait4 is the one call that reaps a child and returns its rusage; no safe wrapper has it
        // (nix and rustix wait without the rusage).
        // SAFETY: an all-zero rusage is a valid plain-data value, and wait4 gets valid pointers to
        // it and to status for the duration of the call.
        let (pid, ru) = unsafe {
            let mut ru: libc::rusage = std::mem::zeroed();
            (libc::wait4(-1, &mut status, flags, &mut ru), ru)
        };
        if pid < 0 {
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ECHILD) => return Ok(None),
                _ => return Err(e),
            }
        }
        if pid == 0 {
            return Ok(None); // WNOHANG and nothing has exited
        }
        totals.add(&ru);
        let exit = if libc::WIFSIGNALED(status) {
            Exit::Signal(libc::WTERMSIG(status))
        } else {
            Exit::Code(libc::WEXITSTATUS(status))
        };
        return Ok(Some((pid, exit)));
    }
}

/// IO of reaped descendants: the kernel folds a reaped process's IO into its reaper's
/// `/proc/self/io`, which also holds perfmon's own IO. perfmon's own is the sum over its live
/// threads (`/proc/self/task/*/io`), so the difference is the reaped descendants' share.
/// Returns (read_bytes, write_bytes); perfmon keeps its threads alive until it has read this.
pub fn reaped_io() -> Option<(u64, u64)> {
    let whole = read_io("/proc/self/io")?;
    let mut own = (0u64, 0u64);
    for t in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        if let Some((r, w)) = read_io(&t.path().join("io").to_string_lossy()) {
            own.0 += r;
            own.1 += w;
        }
    }
    Some((whole.0.saturating_sub(own.0), whole.1.saturating_sub(own.1)))
}

fn read_io(path: &str) -> Option<(u64, u64)> {
    let s = std::fs::read_to_string(path).ok()?;
    let mut r = None;
    let mut w = None;
    for line in s.lines() {
        if let Some(v) = line.strip_prefix("read_bytes: ") {
            r = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("write_bytes: ") {
            w = v.trim().parse().ok();
        }
    }
    Some((r?, w?))
}
