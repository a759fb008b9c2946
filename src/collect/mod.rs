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
pub mod system;

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
}

impl TreeSnapshot {
    /// Tree totals. CPU, faults and context switches include each live process's reaped
    /// children; IO of a live process already includes its reaped children's.
    pub fn totals(&self) -> TreeTotals {
        TreeTotals::default()
    }
}

pub struct TreeSampler {
    _root: u32,
}

impl TreeSampler {
    /// `root` is the pid whose descendants form the tree (perfmon's own pid).
    pub fn new(root: u32) -> TreeSampler {
        TreeSampler { _root: root }
    }

    pub fn sample(&mut self) -> TreeSnapshot {
        TreeSnapshot::default()
    }
}
