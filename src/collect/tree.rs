//! The process-tree sampler: finds the descendants of a root pid afresh at each sample by
//! walking `/proc/<pid>/task/<tid>/children` from the root (every thread, since children are
//! listed per thread), and reads each process's `stat`, `io`, `status` and CPU clock.
//!
//! Cost: per-pid state (fds of `stat`, `io`, `status`, the `task` directory and each thread's
//! `children`) is kept between samples and re-read with `pread` into one reused buffer, so a
//! steady-state sample costs a few syscalls per process and no `open`. The state of a pid that
//! was not seen in a pass is dropped after it. The number of cached fds is bounded by a budget
//! derived from `RLIMIT_NOFILE`; beyond it files are opened, read and closed each time.
//!
//! Threads: children hang off the thread that forked them, so each thread's `children` file is
//! read. The thread list of a process (a `getdents` of `task/`, among the costliest reads of a
//! sample) is kept and listed again only when `stat` shows a different thread count, and at
//! least every [`RELIST_PASSES`] passes. A child forked by a thread that replaced another between
//! two listings (same count) is therefore found up to that many passes late. The root's threads
//! are listed every [`RELIST_PASSES`] passes; where only its main thread starts processes
//! ([`TreeSampler::main_thread_forks`]) only that thread is read in between.
//!
//! A process whose nanosecond CPU clock has not moved since the last pass has not run, so its
//! `io` and `status` (IO bytes, context switches) cannot have changed: they are not read again.
//!
//! Races: a process that vanishes at any point is skipped, never an error. Processes are visited
//! parents before children, so a child reaped between the two reads is missed once (its CPU is
//! then in the parent's `cutime`, or in perfmon's rusage, at the next sample), never counted
//! twice. A cached fd of a dead pid fails (`ESRCH`) even when the pid is reused, so reuse is
//! detected and the state reopened.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::mem::MaybeUninit;
use std::time::Instant;

use nix::time::ClockId;
use nix::unistd::Pid;
use rustix::fs::OFlags;
use rustix::process::Resource;

use super::procfs::{self, PathBuf32, Stat};
use super::ProcSample;

/// Passes after which a kept thread list is listed again even if the thread count is the same.
pub const RELIST_PASSES: u64 = 10;

/// Where the time of the last sample went (for benchmarks and self-monitoring).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SampleCost {
    /// Processes in the snapshot.
    pub procs: usize,
    /// Nanoseconds spent listing threads and children (finding the tree).
    pub find_ns: u64,
    /// Nanoseconds spent opening and reading the processes' files and CPU clocks.
    pub read_ns: u64,
    /// File descriptors held between samples.
    pub cached_fds: usize,
}

/// Open files of one process.
#[derive(Default)]
struct Handles {
    task: Option<File>,
    stat: Option<File>,
    io: Option<File>,
    status: Option<File>,
    /// `task/<tid>/children` for each thread seen in the last pass.
    children: Vec<(u32, File)>,
}

impl Handles {
    fn fds(&self) -> usize {
        [&self.task, &self.stat, &self.io, &self.status]
            .iter()
            .filter(|f| f.is_some())
            .count()
            + self.children.len()
    }
}

/// What is kept about a pid between samples.
struct ProcState {
    h: Handles,
    /// False when the fd budget was exhausted: files are reopened at each sample.
    cached: bool,
    /// CPU clock of the process (`clock_getcpuclockid`), when available.
    clock: Option<ClockId>,
    /// Pass in which the pid was last seen.
    pass: u64,
    /// The CPU clock and its user/system split at the last read (see [`split_cpu`]), with what
    /// `io` and `status` gave then: a process whose clock has not moved has not run, so it did
    /// no IO and no context switch since, and those two files (a third of a process's read
    /// cost) are not read again.
    last_split: Option<CpuSplit>,
    last_io: Option<(i64, i64)>,
    last_ctx: Option<(i64, i64)>,
    /// Threads of the process as last listed, and the count `stat` gave then.
    threads: ThreadList,
    listed_threads: i64,
}

pub struct TreeSampler {
    root: u32,
    root_task: Option<File>,
    root_children: Vec<(u32, File)>,
    root_threads: ThreadList,
    /// See [`TreeSampler::main_thread_forks`].
    main_thread_forks: bool,
    states: HashMap<u32, ProcState>,
    pass: u64,
    buf: Vec<u8>,
    /// Where `task/` directories are listed (see [`procfs::list_numeric_dir`]).
    dir_buf: Vec<MaybeUninit<u8>>,
    kids: Vec<u32>,
    queue: VecDeque<u32>,
    visited: HashSet<u32>,
    clk_tck: i64,
    page_kib: i64,
    fd_budget: usize,
    cached_fds: usize,
    cost: SampleCost,
}

impl TreeSampler {
    /// `root` is the pid whose descendants form the tree (perfmon's own pid).
    pub fn new(root: u32) -> TreeSampler {
        // The kernel's values as it handed them to the process (the auxiliary vector), which is
        // where sysconf(_SC_CLK_TCK) and sysconf(_SC_PAGESIZE) read them too.
        let clk_tck = rustix::param::clock_ticks_per_second();
        let page = rustix::param::page_size();
        // The soft limit; None is RLIM_INFINITY.
        let soft = rustix::process::getrlimit(Resource::Nofile)
            .current
            .unwrap_or(u64::MAX);
        // A quarter of the soft limit: the rest is left to perfmon (database, pipes).
        let fd_budget = (soft / 4).clamp(32, 16384) as usize;
        TreeSampler {
            root,
            root_task: None,
            root_children: Vec::new(),
            root_threads: ThreadList::default(),
            main_thread_forks: false,
            states: HashMap::new(),
            pass: 0,
            buf: vec![0; 8192],
            dir_buf: procfs::dir_buffer(),
            kids: Vec::new(),
            queue: VecDeque::new(),
            visited: HashSet::new(),
            clk_tck: if clk_tck > 0 { clk_tck as i64 } else { 100 },
            page_kib: if page > 0 { page as i64 / 1024 } else { 4 },
            fd_budget,
            cached_fds: 0,
            cost: SampleCost::default(),
        }
    }

    /// Declares that only the root's main thread starts processes, as in perfmon: it starts
    /// the command, and a subreaper's orphans are handed to its main thread. Between
    /// relistings, only that thread's `children` is then read (the root's other threads are
    /// still read every [`RELIST_PASSES`] passes, as a safeguard).
    pub fn main_thread_forks(mut self) -> TreeSampler {
        self.main_thread_forks = true;
        self
    }

    /// The cost of the last [`TreeSampler::sample`].
    pub fn last_cost(&self) -> SampleCost {
        self.cost
    }

    /// Walks the tree from the root and reads every process in it, parents before children.
    pub fn sample(&mut self) -> super::TreeSnapshot {
        self.pass += 1;
        self.cost = SampleCost::default();
        self.visited.clear();
        self.queue.clear();
        let mut procs = Vec::with_capacity(self.states.len());

        let t0 = Instant::now();
        self.list_root_children();
        let mut find_ns = t0.elapsed().as_nanos() as u64;
        let mut read_ns = 0;

        while let Some(pid) = self.queue.pop_front() {
            if pid == self.root || !self.visited.insert(pid) {
                continue;
            }
            let t = Instant::now();
            let got = self.read_proc(pid);
            let t2 = Instant::now();
            read_ns += (t2 - t).as_nanos() as u64;
            if let Some((p, nthreads)) = got {
                procs.push(p);
                self.list_children(pid, nthreads);
                find_ns += t2.elapsed().as_nanos() as u64;
            }
        }

        // Drop the state of pids not seen in this pass (exited or left the tree).
        let pass = self.pass;
        let mut freed = 0;
        self.states.retain(|_, s| {
            let keep = s.pass == pass;
            if !keep && s.cached {
                freed += s.h.fds();
            }
            keep
        });
        self.cached_fds -= freed.min(self.cached_fds);
        self.cost = SampleCost {
            procs: procs.len(),
            find_ns,
            read_ns,
            cached_fds: self.cached_fds,
        };
        super::TreeSnapshot { procs }
    }

    /// Queues the children of every thread of the root.
    fn list_root_children(&mut self) {
        if self.root_task.is_none() {
            self.root_task = procfs::open_pid_dir(self.root)
                .and_then(|d| procfs::openat(&d, c"task", OFlags::DIRECTORY))
                .ok();
            if self.root_task.is_some() {
                self.cached_fds += 1;
            }
        }
        let Some(task) = self.root_task.as_ref() else {
            return;
        };
        let relist = self.root_threads.stale(self.pass);
        if relist
            && self
                .root_threads
                .list(task, &mut self.dir_buf, self.pass)
                .is_err()
        {
            return;
        }
        let main = [self.root];
        let all_threads = relist || !self.main_thread_forks;
        let tids: &[u32] = if all_threads {
            &self.root_threads.tids
        } else {
            &main
        };
        let before = self.root_children.len();
        let budget = self.fd_budget.saturating_sub(self.cached_fds);
        read_thread_children(
            task,
            tids,
            all_threads,
            &mut self.root_children,
            budget,
            &mut self.buf,
            &mut self.kids,
        );
        self.cached_fds = (self.cached_fds + self.root_children.len()).saturating_sub(before);
        self.queue.extend(self.kids.drain(..));
    }

    /// Queues the children of every thread of `pid` (state already refreshed by `read_proc`).
    fn list_children(&mut self, pid: u32, nthreads: i64) {
        let Some(st) = self.states.get_mut(&pid) else {
            return;
        };
        let before = st.h.fds();
        if st.h.task.is_none() {
            st.h.task = procfs::open_pid_dir(pid)
                .and_then(|d| procfs::openat(&d, c"task", OFlags::DIRECTORY))
                .ok();
        }
        let Some(task) = st.h.task.as_ref() else {
            return;
        };
        if nthreads == 1 {
            // A single thread is the leader itself: no need to list the task directory.
            st.threads.set_single(pid, self.pass);
        } else if (st.listed_threads != nthreads || st.threads.stale(self.pass))
            && st.threads.list(task, &mut self.dir_buf, self.pass).is_err()
        {
            return;
        }
        st.listed_threads = nthreads;
        let budget = if st.cached {
            self.fd_budget.saturating_sub(self.cached_fds)
        } else {
            0
        };
        read_thread_children(
            task,
            &st.threads.tids,
            true,
            &mut st.h.children,
            budget,
            &mut self.buf,
            &mut self.kids,
        );
        if st.cached {
            self.cached_fds = (self.cached_fds + st.h.fds()).saturating_sub(before);
        } else {
            st.h = Handles::default();
        }
        self.queue.extend(self.kids.drain(..));
    }

    /// Reads one process. None when it vanished (or was never there).
    fn read_proc(&mut self, pid: u32) -> Option<(ProcSample, i64)> {
        // A cached stat fd of a dead pid fails even when the pid was reused: retry once fresh.
        for attempt in 0..2 {
            if !self.states.contains_key(&pid) {
                let st = self.open_state(pid)?;
                self.states.insert(pid, st);
            } else if attempt == 1 {
                return None;
            }
            let n = {
                let st = self.states.get(&pid)?;
                st.h.stat
                    .as_ref()
                    .and_then(|f| procfs::pread_all(f, &mut self.buf).ok())
            };
            match n.and_then(|n| procfs::parse_stat(&self.buf[..n]).map(|(s, r)| (s, r, n))) {
                Some((stat, name, _)) => {
                    let name = String::from_utf8_lossy(&self.buf[name]).into_owned();
                    return Some(self.finish_read(pid, stat, name));
                }
                None => self.drop_state(pid),
            }
        }
        None
    }

    /// Opens the files of a pid not seen before (cached within the fd budget).
    fn open_state(&mut self, pid: u32) -> Option<ProcState> {
        let dir = procfs::open_pid_dir(pid).ok()?;
        let h = Handles {
            stat: Some(procfs::openat(&dir, c"stat", OFlags::empty()).ok()?),
            // Unreadable for a setuid program (or gone with an exited process): the sample's
            // figures are then None, counted in `TreeTotals::io_unknown`/`ctxsw_unknown`.
            io: procfs::openat(&dir, c"io", OFlags::empty()).ok(),
            status: procfs::openat(&dir, c"status", OFlags::empty()).ok(),
            task: None,
            children: Vec::new(),
        };
        let cached = self.cached_fds + h.fds() + 2 <= self.fd_budget;
        if cached {
            self.cached_fds += h.fds();
        }
        let clock = nix::time::clock_getcpuclockid(Pid::from_raw(pid as i32)).ok();
        Some(ProcState {
            h,
            cached,
            clock,
            pass: 0,
            last_split: None,
            last_io: None,
            last_ctx: None,
            threads: ThreadList::default(),
            listed_threads: 0,
        })
    }

    fn drop_state(&mut self, pid: u32) {
        if let Some(s) = self.states.remove(&pid) {
            if s.cached {
                self.cached_fds -= s.h.fds().min(self.cached_fds);
            }
        }
    }

    /// Fills the sample from `stat` and reads the CPU clock, `io` and `status`.
    fn finish_read(&mut self, pid: u32, stat: Stat, name: String) -> (ProcSample, i64) {
        let pass = self.pass;
        let (clk_tck, page_kib) = (self.clk_tck, self.page_kib);
        let buf = &mut self.buf;
        let Some(st) = self.states.get_mut(&pid) else {
            return (ProcSample::default(), 0);
        };
        st.pass = pass;
        let ticks_us = |t: i64| t * 1_000_000 / clk_tck;
        // Only a nanosecond clock proves the process did not run: ticks can miss a short run.
        let mut idle = false;
        let (cpu_user_us, cpu_system_us) = match st.clock.and_then(clock_ns) {
            Some(ns) => {
                idle = st.last_split.is_some_and(|p| p.ns == ns);
                let split = split_cpu(st.last_split.as_ref(), ns, stat.utime, stat.stime);
                st.last_split = Some(split);
                (split.user_us, split.system_us)
            }
            None => {
                st.last_split = None;
                (ticks_us(stat.utime), ticks_us(stat.stime))
            }
        };
        let (io, ctx) = if idle {
            (st.last_io, st.last_ctx)
        } else {
            let io =
                st.h.io
                    .as_ref()
                    .and_then(|f| procfs::pread_all(f, buf).ok())
                    .and_then(|n| procfs::parse_io(&buf[..n]));
            let ctx =
                st.h.status
                    .as_ref()
                    .and_then(|f| procfs::pread_all(f, buf).ok())
                    .and_then(|n| procfs::parse_status_ctxsw(&buf[..n]));
            (io, ctx)
        };
        st.last_io = io;
        st.last_ctx = ctx;
        if !st.cached {
            // Over the fd budget: keep nothing open between samples.
            st.h.stat = None;
            st.h.io = None;
            st.h.status = None;
        }
        let p = ProcSample {
            pid,
            ppid: stat.ppid,
            name,
            cpu_user_us,
            cpu_system_us,
            child_cpu_user_us: ticks_us(stat.cutime),
            child_cpu_system_us: ticks_us(stat.cstime),
            rss_kib: stat.rss_pages * page_kib,
            vsize_kib: (stat.vsize / 1024) as i64,
            threads: stat.num_threads,
            read_bytes: io.map(|v| v.0),
            write_bytes: io.map(|v| v.1),
            minflt: stat.minflt,
            majflt: stat.majflt,
            child_minflt: stat.cminflt,
            child_majflt: stat.cmajflt,
            vctxsw: ctx.map(|v| v.0),
            ivctxsw: ctx.map(|v| v.1),
        };
        (p, stat.num_threads)
    }

    #[cfg(test)]
    pub(crate) fn read_one(&mut self, pid: u32) -> Option<ProcSample> {
        self.pass += 1;
        self.read_proc(pid).map(|v| v.0)
    }

    #[cfg(test)]
    pub(crate) fn cached_fds(&self) -> usize {
        self.cached_fds
    }

    #[cfg(test)]
    pub(crate) fn known_pids(&self) -> Vec<u32> {
        self.states.keys().copied().collect()
    }
}

/// The threads of a process as last listed from its `task/` directory, and when.
#[derive(Default)]
struct ThreadList {
    tids: Vec<u32>,
    listed_pass: u64,
}

impl ThreadList {
    /// Never listed, or listed [`RELIST_PASSES`] passes ago or more.
    fn stale(&self, pass: u64) -> bool {
        self.tids.is_empty() || pass >= self.listed_pass + RELIST_PASSES
    }

    /// Lists the threads of `task` afresh in pass `pass`.
    fn list(&mut self, task: &File, buf: &mut [MaybeUninit<u8>], pass: u64) -> std::io::Result<()> {
        procfs::list_numeric_dir(task, buf, &mut self.tids)?;
        self.listed_pass = pass;
        Ok(())
    }

    /// A single-threaded process: its one thread is the leader `pid`.
    fn set_single(&mut self, pid: u32, pass: u64) {
        self.tids.clear();
        self.tids.push(pid);
        self.listed_pass = pass;
    }
}

/// Reads `task/<tid>/children` for each of `tids` into `kids`, reusing the fds in `cache`
/// (opening new ones while `budget` allows). With `prune` (`tids` is the whole thread list),
/// the fds of threads no longer listed are dropped.
fn read_thread_children(
    task: &File,
    tids: &[u32],
    prune: bool,
    cache: &mut Vec<(u32, File)>,
    budget: usize,
    buf: &mut Vec<u8>,
    kids: &mut Vec<u32>,
) {
    if prune {
        cache.retain(|(t, _)| tids.contains(t));
    }
    let mut budget = budget;
    for &tid in tids {
        let n = match cache.iter().find(|(t, _)| *t == tid) {
            Some((_, f)) => procfs::pread_all(f, buf).ok(),
            None => {
                let mut rel = PathBuf32::new();
                rel.push_u32(tid);
                rel.push(b"/children");
                let Ok(f) = procfs::openat(task, rel.as_cstr(), OFlags::empty()) else {
                    continue;
                };
                let n = procfs::pread_all(&f, buf).ok();
                if budget > 0 {
                    budget -= 1;
                    cache.push((tid, f));
                }
                n
            }
        };
        if let Some(n) = n {
            procfs::parse_children(&buf[..n], kids);
        }
    }
}

/// The process CPU clock in nanoseconds.
fn clock_ns(clock: ClockId) -> Option<i128> {
    let ts = nix::time::clock_gettime(clock).ok()?;
    Some(i128::from(ts.tv_sec()) * 1_000_000_000 + i128::from(ts.tv_nsec()))
}

/// A process's CPU clock (ns, never lower than an earlier reading) split into user and system
/// µs, with the tick counts it was split by.
#[derive(Debug, Clone, Copy, PartialEq)]
struct CpuSplit {
    ns: i128,
    uticks: i64,
    sticks: i64,
    user_us: i64,
    system_us: i64,
}

/// Splits the nanosecond CPU clock's total into user and system µs so that both parts only
/// grow, as the counters they are: the increase since `prev` is divided in the ratio of the
/// tick increases over the same interval (of all ticks so far when no tick passed, and all of
/// it is user time before the first tick). Splitting the whole total in the ratio of all ticks
/// instead made one part drop whenever the ratio moved (system time fell by 0.9 ms in a sample of
/// the demo when its workload went from reading data to computing).
fn split_cpu(prev: Option<&CpuSplit>, ns: i128, uticks: i64, sticks: i64) -> CpuSplit {
    let (uticks, sticks) = (uticks.max(0), sticks.max(0));
    let ns = ns.max(prev.map_or(0, |p| p.ns));
    let total_us = ns / 1000;
    let share = |amount: i128, u: i64, s: i64| -> i128 {
        let ticks = i128::from(u) + i128::from(s);
        if ticks == 0 {
            amount
        } else {
            amount * i128::from(u) / ticks
        }
    };
    let (user, system) = match prev {
        None => {
            let user = share(total_us, uticks, sticks);
            (user, total_us - user)
        }
        Some(p) => {
            let more = total_us - p.ns / 1000;
            let (du, ds) = ((uticks - p.uticks).max(0), (sticks - p.sticks).max(0));
            let user_more = if du + ds > 0 {
                share(more, du, ds)
            } else {
                share(more, uticks, sticks)
            };
            (
                i128::from(p.user_us) + user_more,
                i128::from(p.system_us) + more - user_more,
            )
        }
    };
    CpuSplit {
        ns,
        uticks,
        sticks,
        user_us: user as i64,
        system_us: system as i64,
    }
}

#[cfg(test)]
mod unit {
    use super::split_cpu;

    #[test]
    fn split_follows_tick_ratio() {
        let s = split_cpu(None, 1_000_000_000, 75, 25);
        assert_eq!((s.user_us, s.system_us), (750_000, 250_000));
        let s = split_cpu(None, 1_500, 0, 0);
        assert_eq!((s.user_us, s.system_us), (1, 0));
    }

    #[test]
    fn split_parts_never_drop_and_add_up() {
        // Half user, half system; then 100 µs more, all of the new ticks user: splitting the
        // whole by the ratio of all ticks (3:1) would give system 275 µs, down from 500.
        let a = split_cpu(None, 1_000_000, 1, 1);
        assert_eq!((a.user_us, a.system_us), (500, 500));
        let b = split_cpu(Some(&a), 1_100_000, 3, 1);
        assert_eq!((b.user_us, b.system_us), (600, 500));
        // No tick passed: the increase follows the ratio so far (3:1).
        let c = split_cpu(Some(&b), 1_500_000, 3, 1);
        assert_eq!((c.user_us, c.system_us), (900, 600));
        // A clock that went backwards leaves both parts where they were.
        let d = split_cpu(Some(&c), 1_400_000, 3, 1);
        assert_eq!((d.user_us, d.system_us), (900, 600));
        let e = split_cpu(Some(&d), 1_600_000, 3, 2);
        assert_eq!((e.user_us + e.system_us, e.system_us), (1_600, 700));
    }
}
