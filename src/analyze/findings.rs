//! Findings: statements about a run that follow from measured data crossing a documented
//! threshold. A run where nothing crosses a threshold has no findings; nothing is guessed.
//!
//! Phases are the top-level (depth 0) timer spans, grouped by name. Each sample interval is
//! attributed to the phase whose span contains the interval's midpoint.

use std::collections::BTreeMap;

use super::resources::{core_columns, gpu_indices, Resources};
use crate::model::{metric, RunRecord, MISSING};

/// The thresholds findings use. They are part of the documented behaviour (docs/json-schema.md).
pub mod thresholds {
    /// GPU waits: mean GPU utilization during the phase below this (%).
    pub const GPU_IDLE_PCT: f64 = 30.0;
    /// GPU waits: one core's busy share during the phase at least this (fraction) ...
    pub const CORE_BUSY_SHARE: f64 = 0.9;
    /// ... or the tree's CPU during the phase within this range of cores (one busy thread).
    pub const SINGLE_THREAD_CORES: (f64, f64) = (0.9, 1.1);
    /// A phase is considered only when it takes at least this share of the wall time.
    pub const MIN_PHASE_SHARE: f64 = 0.05;
    /// ... and holds at least this many sample intervals.
    pub const MIN_PHASE_INTERVALS: usize = 3;
    /// Possible leak: least-squares slope of tree RSS over time above this (MiB per minute) ...
    pub const LEAK_SLOPE_MIB_PER_MIN: f64 = 10.0;
    /// ... with a coefficient of determination above this ...
    pub const LEAK_MIN_R2: f64 = 0.8;
    /// ... over at least this many samples spanning at least this many seconds.
    pub const LEAK_MIN_POINTS: usize = 10;
    pub const LEAK_MIN_SPAN_S: f64 = 30.0;
    /// Memory pressure: at least this many major page faults in a phase ...
    pub const MAJOR_FAULTS_MIN: i64 = 100;
    /// ... at a rate of at least this many per second.
    pub const MAJOR_FAULTS_PER_S: f64 = 10.0;
    /// Under-parallelized: the host has at least this many cores ...
    pub const UNDERPAR_MIN_HOST_CORES: u32 = 4;
    /// ... and the tree used on average this range of cores (one busy thread) all run long.
    pub const UNDERPAR_CORES: (f64, f64) = (0.8, 1.2);
}

use thresholds as th;

/// What a finding says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    GpuWaitsOnSingleThread,
    PossibleLeak,
    MemoryPressure,
    UnderParallelized,
}

impl FindingKind {
    /// The stable name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::GpuWaitsOnSingleThread => "gpu_waits_on_single_thread",
            FindingKind::PossibleLeak => "possible_leak",
            FindingKind::MemoryPressure => "memory_pressure",
            FindingKind::UnderParallelized => "under_parallelized",
        }
    }
}

/// One finding with the phase it concerns (None: the whole run) and a sentence with the figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub kind: FindingKind,
    pub phase: Option<String>,
    /// Share of the wall time of the phase (1 for the whole run).
    pub share_of_wall: f64,
    pub message: String,
}

/// Sums over the sample intervals of one phase.
#[derive(Default)]
struct Acc {
    intervals: usize,
    dt_s: f64,
    cpu_us: f64,
    cpu_dt_s: f64,
    /// Per core: busy and total tick increases.
    cores: Vec<(i64, i64)>,
    gpu_util_sum: f64,
    gpu_util_n: usize,
    majflt: i64,
    majflt_dt_s: f64,
    /// (minutes, MiB) of tree RSS at the end of each interval.
    rss: Vec<(f64, f64)>,
}

fn delta(col: Option<&[i64]>, i: usize) -> Option<i64> {
    let c = col?;
    let (a, b) = (c[i - 1], c[i]);
    (a != MISSING && b != MISSING && b >= a).then_some(b - a)
}

fn accumulate(rec: &RunRecord) -> (Acc, BTreeMap<String, Acc>) {
    let s = &rec.samples;
    let mut tops: Vec<_> = rec.timers.iter().filter(|t| t.depth == 0).collect();
    tops.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    let user = s.column(metric::CPU_USER_US);
    let sys = s.column(metric::CPU_SYSTEM_US);
    let rss = s.column(metric::RSS_KIB);
    let maj = s.column(metric::MAJFLT);
    let ncores = core_columns(s);
    let core_cols: Vec<_> = (0..ncores)
        .map(|n| {
            (
                s.column(&metric::core_busy(n)),
                s.column(&metric::core_total(n)),
            )
        })
        .collect();
    let gpu_cols: Vec<_> = gpu_indices(rec)
        .into_iter()
        .filter_map(|n| s.column(&metric::gpu(n, "util_pct")))
        .collect();
    let mut whole = Acc::default();
    let mut phases: BTreeMap<String, Acc> = BTreeMap::new();
    let mut k = 0;
    for i in 1..s.len() {
        let dt = (s.t_us[i] - s.t_us[i - 1]) as f64 / 1e6;
        if dt <= 0.0 {
            continue;
        }
        let mid = (s.t_us[i] + s.t_us[i - 1]) as f64 / 2e6;
        while k < tops.len() && tops[k].end_s < mid {
            k += 1;
        }
        let phase = tops
            .get(k)
            .filter(|t| t.start_s <= mid)
            .map(|t| t.name.clone());
        let add = |a: &mut Acc| {
            a.intervals += 1;
            a.dt_s += dt;
            if let (Some(u), Some(y)) = (delta(user, i), delta(sys, i)) {
                a.cpu_us += (u + y) as f64;
                a.cpu_dt_s += dt;
            }
            if a.cores.len() < ncores {
                a.cores.resize(ncores, (0, 0));
            }
            for (n, (b, t)) in core_cols.iter().enumerate() {
                if let (Some(db), Some(dt)) = (delta(*b, i), delta(*t, i)) {
                    a.cores[n].0 += db;
                    a.cores[n].1 += dt;
                }
            }
            for g in &gpu_cols {
                if g[i] != MISSING {
                    a.gpu_util_sum += g[i] as f64;
                    a.gpu_util_n += 1;
                }
            }
            if let Some(m) = delta(maj, i) {
                a.majflt += m;
                a.majflt_dt_s += dt;
            }
            if let Some(r) = rss.map(|r| r[i]).filter(|r| *r != MISSING) {
                a.rss.push((s.t_us[i] as f64 / 60e6, r as f64 / 1024.0));
            }
        };
        add(&mut whole);
        if let Some(p) = phase {
            add(phases.entry(p).or_default());
        }
    }
    (whole, phases)
}

/// Least-squares slope and R² of y over x; None when x or y does not vary.
pub(crate) fn linear_fit(pts: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = pts.len() as f64;
    if pts.len() < 2 {
        return None;
    }
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pts {
        sxx += (x - mx) * (x - mx);
        sxy += (x - mx) * (y - my);
        syy += (y - my) * (y - my);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    Some((slope, sxy * sxy / (sxx * syy)))
}

fn leak(a: &Acc) -> Option<String> {
    let span_s = match (a.rss.first(), a.rss.last()) {
        (Some(f), Some(l)) => (l.0 - f.0) * 60.0,
        _ => return None,
    };
    if a.rss.len() < th::LEAK_MIN_POINTS || span_s < th::LEAK_MIN_SPAN_S {
        return None;
    }
    let (slope, r2) = linear_fit(&a.rss)?;
    (slope > th::LEAK_SLOPE_MIB_PER_MIN && r2 > th::LEAK_MIN_R2).then(|| {
        format!(
            "tree RSS grows steadily by {slope:.1} MiB/min (linear fit R² = {r2:.2} over {} samples): possible memory leak",
            a.rss.len()
        )
    })
}

fn pressure(a: &Acc) -> Option<String> {
    let rate = if a.majflt_dt_s > 0.0 {
        a.majflt as f64 / a.majflt_dt_s
    } else {
        0.0
    };
    (a.majflt >= th::MAJOR_FAULTS_MIN && rate >= th::MAJOR_FAULTS_PER_S).then(|| {
        format!(
            "{} major page faults ({rate:.0}/s): memory pressure (pages read back from disk)",
            a.majflt
        )
    })
}

fn gpu_wait(a: &Acc) -> Option<String> {
    if a.gpu_util_n == 0 {
        return None;
    }
    let gpu = a.gpu_util_sum / a.gpu_util_n as f64;
    let busiest = a
        .cores
        .iter()
        .filter(|c| c.1 > 0)
        .map(|c| c.0 as f64 / c.1 as f64)
        .fold(0.0, f64::max);
    let cores = (a.cpu_dt_s > 0.0).then(|| a.cpu_us / 1e6 / a.cpu_dt_s);
    let single = busiest >= th::CORE_BUSY_SHARE
        || cores.is_some_and(|c| c >= th::SINGLE_THREAD_CORES.0 && c <= th::SINGLE_THREAD_CORES.1);
    (gpu < th::GPU_IDLE_PCT && single).then(|| {
        format!(
            "GPU utilization averages {gpu:.0}% while {}: the GPU waits on a single-threaded phase",
            if busiest >= th::CORE_BUSY_SHARE {
                format!("one core is {:.0}% busy", busiest * 100.0)
            } else {
                format!("the tree uses {:.2} cores", cores.unwrap_or(0.0))
            }
        )
    })
}

pub(super) fn findings(rec: &RunRecord, res: &Resources, wall_s: f64) -> Vec<Finding> {
    let (whole, phases) = accumulate(rec);
    let share = |name: &str| -> f64 {
        let t: f64 = rec
            .timers
            .iter()
            .filter(|t| t.depth == 0 && t.name == name)
            .map(|t| (t.end_s - t.start_s).max(0.0))
            .sum();
        if wall_s > 0.0 {
            t / wall_s
        } else {
            0.0
        }
    };
    let mut order: Vec<(&String, &Acc, f64)> = phases
        .iter()
        .map(|(n, a)| (n, a, share(n)))
        .filter(|(_, a, sh)| *sh >= th::MIN_PHASE_SHARE && a.intervals >= th::MIN_PHASE_INTERVALS)
        .collect();
    order.sort_by(|a, b| b.2.total_cmp(&a.2));
    let mut out = Vec::new();
    let mut push = |kind, phase: Option<&String>, share_of_wall, msg: String| {
        let message = match phase {
            Some(p) => format!("phase {p:?} ({:.0}% of wall): {msg}", share_of_wall * 100.0),
            None => format!("whole run: {msg}"),
        };
        out.push(Finding {
            kind,
            phase: phase.cloned(),
            share_of_wall,
            message,
        });
    };
    for (n, a, sh) in &order {
        if let Some(m) = gpu_wait(a) {
            push(FindingKind::GpuWaitsOnSingleThread, Some(*n), *sh, m);
        }
    }
    if let Some(m) = leak(&whole) {
        push(FindingKind::PossibleLeak, None, 1.0, m);
    } else {
        for (n, a, sh) in &order {
            if let Some(m) = leak(a) {
                push(FindingKind::PossibleLeak, Some(*n), *sh, m);
            }
        }
    }
    let mut phase_pressure = false;
    for (n, a, sh) in &order {
        if let Some(m) = pressure(a) {
            phase_pressure = true;
            push(FindingKind::MemoryPressure, Some(*n), *sh, m);
        }
    }
    if !phase_pressure {
        if let Some(m) = pressure(&whole) {
            push(FindingKind::MemoryPressure, None, 1.0, m);
        }
    }
    if let Some(mean) = res.cpu_cores_mean {
        let gpu_busy = res
            .gpus
            .iter()
            .any(|g| g.util_mean_pct.is_some_and(|u| u >= th::GPU_IDLE_PCT));
        if res.host_cores >= th::UNDERPAR_MIN_HOST_CORES
            && mean >= th::UNDERPAR_CORES.0
            && mean < th::UNDERPAR_CORES.1
            && !gpu_busy
        {
            push(
                FindingKind::UnderParallelized,
                None,
                1.0,
                format!(
                    "the tree used {mean:.2} of {} cores on average: CPU-bound on one thread, under-parallelized",
                    res.host_cores
                ),
            );
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analyze::testutil::{empty_record, span};
    use crate::analyze::{analyze, AnalyzeOptions};

    /// 100 s at 1 Hz: phase "load" [0,40) single-threaded with idle GPU, "train" [40,100)
    /// on 4 cores with a busy GPU.
    fn gpu_record(rss_slope_kib_per_s: i64, majflt_per_s: i64) -> RunRecord {
        let mut r = empty_record();
        r.meta.wall_s = Some(100.0);
        r.timers = vec![
            span("load", 0.0, 40.0, 0, None),
            span("train", 40.0, 100.0, 0, None),
        ];
        let (mut cpu, mut busy0, mut tot, mut maj) = (0i64, 0i64, 0i64, 0i64);
        for t in 0..=100i64 {
            let loading = t <= 40;
            r.samples.push(
                t * 1_000_000,
                &[
                    (metric::CPU_USER_US, cpu),
                    (metric::CPU_SYSTEM_US, 0),
                    (metric::RSS_KIB, 100_000 + rss_slope_kib_per_s * t),
                    (metric::MAJFLT, maj),
                    ("sys.cpu0.busy", busy0),
                    ("sys.cpu0.total", tot),
                    ("gpu0.util_pct", if loading { 2 } else { 95 }),
                ],
            );
            cpu += if t < 40 { 1_000_000 } else { 4_000_000 };
            busy0 += if t < 40 { 100 } else { 50 };
            tot += 100;
            maj += majflt_per_s;
        }
        r
    }

    #[test]
    fn gpu_waits_on_single_threaded_phase() {
        let a = analyze(&gpu_record(0, 0));
        assert_eq!(a.findings.len(), 1, "{:?}", a.findings);
        let f = &a.findings[0];
        assert_eq!(f.kind, FindingKind::GpuWaitsOnSingleThread);
        assert_eq!(f.phase.as_deref(), Some("load"));
        assert!((f.share_of_wall - 0.4).abs() < 1e-9);
        assert!(f.message.contains("40% of wall"), "{}", f.message);
    }

    #[test]
    fn steady_rss_growth_is_a_leak() {
        // 1 MiB/s = 60 MiB/min over the whole run.
        let a = analyze(&gpu_record(1024, 0));
        let leak: Vec<_> = a
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::PossibleLeak)
            .collect();
        assert_eq!(leak.len(), 1);
        assert!(leak[0].phase.is_none());
        assert!(
            leak[0].message.contains("60.0 MiB/min"),
            "{}",
            leak[0].message
        );
        // 5 MiB/min is below the threshold.
        let a = analyze(&gpu_record(85, 0));
        assert!(a
            .findings
            .iter()
            .all(|f| f.kind != FindingKind::PossibleLeak));
    }

    #[test]
    fn major_faults_in_phases() {
        let a = analyze(&gpu_record(0, 50));
        let p: Vec<_> = a
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::MemoryPressure)
            .map(|f| f.phase.clone().unwrap())
            .collect();
        assert_eq!(p, vec!["train".to_string(), "load".to_string()]);
    }

    #[test]
    fn single_thread_on_many_cores_is_under_parallelized() {
        let mut r = empty_record();
        r.meta.wall_s = Some(20.0);
        for t in 0..=20i64 {
            r.samples.push(
                t * 1_000_000,
                &[
                    (metric::CPU_USER_US, t * 990_000),
                    (metric::CPU_SYSTEM_US, t * 10_000),
                ],
            );
        }
        let a = analyze(&r);
        assert_eq!(a.findings.len(), 1);
        assert_eq!(a.findings[0].kind, FindingKind::UnderParallelized);
        r.meta.host.cores = 2;
        assert!(analyze(&r).findings.is_empty());
    }

    #[test]
    fn quiet_run_has_no_findings() {
        let mut r = empty_record();
        for t in 0..=50i64 {
            r.samples.push(
                t * 1_000_000,
                &[
                    (metric::CPU_USER_US, t * 4_000_000),
                    (metric::CPU_SYSTEM_US, 0),
                    (metric::RSS_KIB, 500_000 + (t % 3) * 100),
                    (metric::MAJFLT, 3),
                ],
            );
        }
        let a = crate::analyze::analyze_with(&r, &AnalyzeOptions::default());
        assert!(a.findings.is_empty(), "{:?}", a.findings);
    }

    #[test]
    fn fit_is_exact_on_a_line() {
        let (s, r2) = linear_fit(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]).unwrap();
        assert!((s - 2.0).abs() < 1e-12 && (r2 - 1.0).abs() < 1e-12);
        assert!(linear_fit(&[(0.0, 1.0), (1.0, 1.0)]).is_none());
    }
}
