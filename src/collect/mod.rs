//! Collectors: the process tree sampler (Linux /proc), system metrics and NVIDIA GPUs. They
//! return owned snapshots and know nothing of storage, parsing or the CLI.
//!
//! INTERFACE (filled in by the collect work):
//! - [`TreeSampler::new`] / [`TreeSampler::sample`]: the tree is perfmon's own descendants (perfmon
//!   is a child subreaper, so orphans stay its descendants), found afresh at each sample.
//! - [`SystemSampler`]: per-core CPU, load, available memory, network.
//! - [`gpu::GpuSource`]: a small trait, NVML behind it, a recorded fake for tests.

pub mod gpu;
pub mod host;
mod procfs;
pub mod system;
mod tree;
#[cfg(test)]
mod tree_tests;
pub mod walk;

pub use procfs::read_cmdline;
pub use tree::{SampleCost, TreeSampler};
pub use walk::descendants;

/// One process as seen in one sample.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcSample {
    pub pid: u32,
    pub ppid: u32,
    pub name: String,
    /// Cumulative CPU of the process itself (all threads, live and dead), µs, nanosecond source
    /// where available (clock_getcpuclockid), else /proc ticks.
    pub cpu_user_us: i64,
    pub cpu_system_us: i64,
    /// CPU of children this process has reaped (cutime+cstime), µs.
    pub child_cpu_user_us: i64,
    pub child_cpu_system_us: i64,
    pub rss_kib: i64,
    pub vsize_kib: i64,
    pub threads: i64,
    pub read_bytes: Option<i64>,
    pub write_bytes: Option<i64>,
    pub minflt: i64,
    pub majflt: i64,
    pub child_minflt: i64,
    pub child_majflt: i64,
    pub vctxsw: Option<i64>,
    pub ivctxsw: Option<i64>,
}

/// A whole-tree snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TreeSnapshot {
    pub procs: Vec<ProcSample>,
}

/// Sums over the tree at one sample (the live processes' own figures plus what they reaped).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TreeTotals {
    pub cpu_user_us: i64,
    pub cpu_system_us: i64,
    pub rss_kib: i64,
    pub vsize_kib: i64,
    pub procs: i64,
    pub threads: i64,
    pub read_bytes: i64,
    pub write_bytes: i64,
    pub minflt: i64,
    pub majflt: i64,
    pub vctxsw: i64,
    pub ivctxsw: i64,
    /// Processes whose `/proc/PID/io` could not be read (a setuid program, or one that exited
    /// between two reads): `read_bytes`/`write_bytes` lack their IO. 0 when the sums are whole.
    pub io_unknown: i64,
    /// Processes whose `/proc/PID/status` could not be read: the context switches lack theirs.
    pub ctxsw_unknown: i64,
}

impl TreeSnapshot {
    /// Tree totals. CPU, faults and context switches include each live process's reaped
    /// children; IO of a live process already includes its reaped children's.
    ///
    /// - CPU: own (`cpu_*_us`) + reaped children's (`child_cpu_*_us`, i.e. cutime/cstime).
    /// - Faults: own + reaped children's (cminflt/cmajflt).
    /// - RSS, vsize, threads: sums of the live processes (shared pages count once per process,
    ///   as in any RSS sum).
    /// - IO: `/proc/PID/io` of a live process already folds in the IO of the children it
    ///   reaped, so it is summed as is; an unreadable file adds nothing and is counted in
    ///   `io_unknown`, so that the recorder can say the sum is partial (never a silent 0).
    /// - Context switches: own only (the kernel keeps no per-process figure for reaped
    ///   children that another process can read); an unreadable status adds nothing and is
    ///   counted in `ctxsw_unknown`.
    pub fn totals(&self) -> TreeTotals {
        let mut t = TreeTotals {
            procs: self.procs.len() as i64,
            ..TreeTotals::default()
        };
        for p in &self.procs {
            t.cpu_user_us += p.cpu_user_us + p.child_cpu_user_us;
            t.cpu_system_us += p.cpu_system_us + p.child_cpu_system_us;
            t.rss_kib += p.rss_kib;
            t.vsize_kib += p.vsize_kib;
            t.threads += p.threads;
            // A figure not read adds nothing, and the process is counted as unknown.
            t.io_unknown += i64::from(p.read_bytes.is_none() || p.write_bytes.is_none());
            t.read_bytes += p.read_bytes.unwrap_or(0);
            t.write_bytes += p.write_bytes.unwrap_or(0);
            t.minflt += p.minflt + p.child_minflt;
            t.majflt += p.majflt + p.child_majflt;
            t.ctxsw_unknown += i64::from(p.vctxsw.is_none() || p.ivctxsw.is_none());
            t.vctxsw += p.vctxsw.unwrap_or(0);
            t.ivctxsw += p.ivctxsw.unwrap_or(0);
        }
        t
    }
}
