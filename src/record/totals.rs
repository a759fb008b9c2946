//! The run's totals and status once the command has ended: exact figures from what perfmon
//! reaped (rusage), the sampled peaks, and perfmon's own cost.

use std::sync::atomic::Ordering::SeqCst;

use super::sampler::Peaks;
use crate::model::{RunStatus, TotalSource, Totals};
use crate::runner::{Ended, Exit, ReapTotals};

/// The totals of the run; `warnings` gets what could not be measured.
pub fn totals(
    ended: &Ended,
    reaped: &ReapTotals,
    peaks: Peaks,
    warnings: &mut Vec<String>,
) -> Totals {
    let sampled_proc_peak = peaks.proc_rss_kib.max(0) as u64 * 1024;
    // The reaped peak counts where it is the command's own; below perfmon's own peak at the
    // spawn it may be perfmon's copy, and the samples tell the command's peak. A command gone
    // before its first sample has only the reaped figure: an upper bound then.
    let maxrss_bytes = match reaped.command_maxrss_kib() {
        Some(kib) => kib * 1024,
        None if sampled_proc_peak > 0 => 0,
        None => reaped.maxrss_kib.load(SeqCst) * 1024,
    };
    let (io_r, io_w, io_source) = match ended.reaped_io {
        Some((r, w)) => (r, w, Some(TotalSource::ReaperIo)),
        None => (0, 0, None),
    };
    let perfmon_peak_rss_kib = self_peak_rss_kib().unwrap_or_else(|| {
        warnings.push(
            "perfmon's own peak RSS is unknown (/proc/self/status unreadable): recorded as 0"
                .into(),
        );
        0
    });
    Totals {
        cpu_user_us: reaped.user_us.load(SeqCst),
        cpu_system_us: reaped.system_us.load(SeqCst),
        peak_rss_bytes: maxrss_bytes.max(sampled_proc_peak),
        peak_tree_rss_bytes: peaks.tree_rss_kib.max(0) as u64 * 1024,
        io_read_bytes: io_r,
        io_write_bytes: io_w,
        io_source,
        minor_faults: reaped.minflt.load(SeqCst),
        major_faults: reaped.majflt.load(SeqCst),
        voluntary_ctxsw: reaped.nvcsw.load(SeqCst),
        involuntary_ctxsw: reaped.nivcsw.load(SeqCst),
        processes_seen: peaks.processes_seen,
        processes_reaped: reaped.count.load(SeqCst),
        left_behind: ended
            .left_behind
            .iter()
            .map(|pid| (*pid, proc_name(*pid)))
            .collect(),
        cgroup: ended.cgroup.clone(),
        perfmon_cpu_us: self_cpu_us(),
        perfmon_peak_rss_kib,
    }
}

/// How the run ended: over budget (`--budget-kill` stopped it), interrupted (perfmon forwarded
/// a signal, or killed the group after a second Ctrl-C), or by the command's own exit.
pub fn status(ended: &Ended, over_budget: bool) -> RunStatus {
    if over_budget {
        RunStatus::OverBudget
    } else if ended.forwarded_signal.is_some() || ended.killed {
        RunStatus::Interrupted
    } else {
        match ended.exit {
            Exit::Code(0) => RunStatus::Ok,
            Exit::Code(_) => RunStatus::Failed,
            Exit::Signal(_) => RunStatus::Signaled,
        }
    }
}

/// The name of a process left behind; "" if it exited meanwhile (its pid is still listed).
fn proc_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim_end().to_string())
        .unwrap_or_default()
}

/// perfmon's own CPU time so far (all its threads, user and system), µs.
fn self_cpu_us() -> u64 {
    use nix::time::{clock_gettime, ClockId};
    // The calling process's CPU clock always exists.
    clock_gettime(ClockId::CLOCK_PROCESS_CPUTIME_ID).map_or(0, |t| {
        t.tv_sec() as u64 * 1_000_000 + t.tv_nsec() as u64 / 1000
    })
}

/// perfmon's own peak RSS (VmHWM), KiB; None when /proc/self/status cannot tell it.
fn self_peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
