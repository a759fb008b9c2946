//! A cgroup v2 of the run's own, where one can be made (root, or a delegated subtree): the
//! command is moved into it before it executes, so every descendant is in it, even one that
//! double-forks into a new session. At the end its files give exact tree totals: `cpu.stat`
//! always, `memory.peak` and `io.stat` where those controllers are enabled for it.
//!
//! Anything that fails here means "no cgroup" and perfmon goes on without one.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::model::CgroupTotals;

pub struct RunCgroup {
    path: PathBuf,
    procs: File,
}

impl RunCgroup {
    /// Creates `perfmon-<pid>` below perfmon's own cgroup in the cgroup v2 hierarchy.
    pub fn create() -> Option<RunCgroup> {
        if std::env::var_os("PERFMON_NO_CGROUP").is_some_and(|v| v == "1") {
            return None;
        }
        let mount = cgroup2_mount()?;
        let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        let rel = own.lines().find_map(|l| l.strip_prefix("0::"))?.trim();
        let parent = mount.join(rel.trim_start_matches('/'));
        // Moving a process into a new cgroup costs ~10 ms (an RCU grace period). Worth it only
        // when the cgroup gives what rusage cannot: the tree's peak memory or its IO.
        let controllers = std::fs::read_to_string(parent.join("cgroup.subtree_control")).ok()?;
        if !controllers
            .split_whitespace()
            .any(|c| c == "memory" || c == "io")
        {
            return None;
        }
        let path = parent.join(format!("perfmon-{}", std::process::id()));
        std::fs::create_dir(&path).ok()?;
        let procs = match OpenOptions::new()
            .write(true)
            .open(path.join("cgroup.procs"))
        {
            Ok(f) => f,
            Err(_) => {
                let _ = std::fs::remove_dir(&path);
                return None;
            }
        };
        Some(RunCgroup { path, procs })
    }

    /// An fd on `cgroup.procs`; writing "0" to it from the child moves the child in.
    pub fn procs_fd(&self) -> i32 {
        self.procs.as_raw_fd()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Pids in the cgroup now (the whole tree, including processes that left the session).
    pub fn pids(&self) -> Vec<u32> {
        std::fs::read_to_string(self.path.join("cgroup.procs"))
            .map(|s| s.lines().filter_map(|l| l.trim().parse().ok()).collect())
            .unwrap_or_default()
    }

    /// Exact totals from the cgroup's files; fields it does not offer stay None.
    pub fn totals(&self) -> CgroupTotals {
        let kv = |file: &str| -> Vec<(String, u64)> {
            std::fs::read_to_string(self.path.join(file))
                .map(|s| {
                    s.lines()
                        .filter_map(|l| {
                            let (k, v) = l.split_once(' ')?;
                            Some((k.to_string(), v.trim().parse().ok()?))
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let cpu = kv("cpu.stat");
        let get = |k: &str| cpu.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        let memory_peak_bytes = std::fs::read_to_string(self.path.join("memory.peak"))
            .ok()
            .and_then(|s| s.trim().parse().ok());
        let (mut rd, mut wr, mut any_io) = (0u64, 0u64, false);
        if let Ok(s) = std::fs::read_to_string(self.path.join("io.stat")) {
            // A count that does not parse makes the sum unknown (None), never 0 added silently.
            any_io = true;
            for line in s.lines() {
                for field in line.split_whitespace().skip(1) {
                    let (sum, v) = match field.split_once('=') {
                        Some(("rbytes", v)) => (&mut rd, v),
                        Some(("wbytes", v)) => (&mut wr, v),
                        _ => continue,
                    };
                    match v.parse::<u64>() {
                        Ok(n) => *sum += n,
                        Err(_) => any_io = false,
                    }
                }
            }
        }
        CgroupTotals {
            memory_peak_bytes,
            cpu_user_us: get("user_usec"),
            cpu_system_us: get("system_usec"),
            io_read_bytes: any_io.then_some(rd),
            io_write_bytes: any_io.then_some(wr),
        }
    }
}

impl Drop for RunCgroup {
    /// Moves processes left behind back to the parent cgroup, then removes the run's cgroup.
    fn drop(&mut self) {
        if let Some(parent) = self.path.parent() {
            for pid in self.pids() {
                let _ = std::fs::write(parent.join("cgroup.procs"), pid.to_string());
            }
        }
        let _ = std::fs::remove_dir(&self.path);
    }
}

/// Where the cgroup v2 hierarchy is mounted (`/sys/fs/cgroup` on unified systems,
/// `/sys/fs/cgroup/unified` on hybrid ones).
fn cgroup2_mount() -> Option<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|l| {
        let (pre, post) = l.split_once(" - ")?;
        if !post.starts_with("cgroup2 ") {
            return None;
        }
        pre.split_whitespace().nth(4).map(PathBuf::from)
    })
}
