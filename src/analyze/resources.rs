//! Resource efficiency from the samples: CPU in cores (from the cumulative tree CPU counters),
//! tree RSS, disk IO rates and GPU utilization/memory. Means of counters are total increase over
//! total time of the valid intervals, so a missing sample does not bias them.

use crate::model::{metric, RunRecord, SampleSet, MISSING};

/// Tree CPU at one sample, in percent of one core (200 = two cores busy).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuPoint {
    pub t_s: f64,
    pub user_pct: f64,
    pub system_pct: f64,
}

/// One GPU's usage over the run.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuUsage {
    pub index: u32,
    pub name: String,
    pub util_mean_pct: Option<f64>,
    pub util_peak_pct: Option<f64>,
    pub mem_peak_bytes: Option<u64>,
    pub mem_total_bytes: Option<u64>,
}

/// Resource efficiency of a run. `None` where the samples lack the metric.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resources {
    pub samples: usize,
    /// Cores of the host (recorded, else the number of per-core columns).
    pub host_cores: u32,
    /// Tree CPU (user+system) in cores: mean over the run and the highest sample interval.
    pub cpu_cores_mean: Option<f64>,
    pub cpu_cores_peak: Option<f64>,
    /// `cpu_cores_mean / host_cores × 100`.
    pub cpu_host_share_pct: Option<f64>,
    pub rss_mean_bytes: Option<u64>,
    pub rss_peak_bytes: Option<u64>,
    /// Disk IO in MB/s (10^6 bytes).
    pub read_mb_s_mean: Option<f64>,
    pub read_mb_s_peak: Option<f64>,
    pub write_mb_s_mean: Option<f64>,
    pub write_mb_s_peak: Option<f64>,
    pub gpus: Vec<GpuUsage>,
}

/// Mean and peak per-second rate of a cumulative counter (missing and backward steps skipped).
pub(crate) fn counter_mean_peak(s: &SampleSet, name: &str) -> Option<(f64, f64)> {
    let col = s.column(name)?;
    let (mut sum, mut dt_sum, mut peak) = (0.0, 0.0, f64::NEG_INFINITY);
    for (a, i) in s.rate_intervals(&[col]) {
        let dt = (s.t_us[i] - s.t_us[a]) as f64 / 1e6;
        let d = (col[i] - col[a]) as f64;
        sum += d;
        dt_sum += dt;
        peak = peak.max(d / dt);
    }
    (dt_sum > 0.0).then(|| (sum / dt_sum, peak))
}

/// Mean and peak of a gauge column.
pub(crate) fn gauge_mean_peak(s: &SampleSet, name: &str) -> Option<(f64, i64)> {
    let col = s.column(name)?;
    let (mut sum, mut n, mut peak) = (0.0, 0usize, i64::MIN);
    for v in col.iter().filter(|v| **v != MISSING) {
        sum += *v as f64;
        n += 1;
        peak = peak.max(*v);
    }
    (n > 0).then(|| (sum / n as f64, peak))
}

/// Tree CPU% per sample interval from the cumulative user and system counters; an interval where
/// either counter is missing or went backwards yields no point.
pub fn cpu_percent_series(s: &SampleSet) -> Vec<CpuPoint> {
    let (Some(u), Some(y)) = (
        s.column(metric::CPU_USER_US),
        s.column(metric::CPU_SYSTEM_US),
    ) else {
        return Vec::new();
    };
    s.rate_intervals(&[u, y])
        .into_iter()
        .map(|(a, i)| {
            let dt_us = (s.t_us[i] - s.t_us[a]) as f64;
            CpuPoint {
                t_s: s.t_us[i] as f64 / 1e6,
                user_pct: (u[i] - u[a]) as f64 / dt_us * 100.0,
                system_pct: (y[i] - y[a]) as f64 / dt_us * 100.0,
            }
        })
        .collect()
}

/// Number of `sys.cpuN.busy` columns.
pub(crate) fn core_columns(s: &SampleSet) -> usize {
    (0..)
        .take_while(|n| s.columns.contains_key(&metric::core_busy(*n)))
        .count()
}

pub(super) fn resources(rec: &RunRecord) -> Resources {
    let s = &rec.samples;
    let host_cores = if rec.meta.host.cores > 0 {
        rec.meta.host.cores
    } else {
        core_columns(s) as u32
    };
    let cpu = cpu_percent_series(s);
    let peak = cpu
        .iter()
        .map(|p| (p.user_pct + p.system_pct) / 100.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let cpu_cores_mean = match (
        counter_mean_peak(s, metric::CPU_USER_US),
        counter_mean_peak(s, metric::CPU_SYSTEM_US),
    ) {
        (Some(u), Some(y)) => Some((u.0 + y.0) / 1e6),
        _ => None,
    };
    let cpu_cores_peak = (!cpu.is_empty()).then_some(peak);
    let rss = gauge_mean_peak(s, metric::RSS_KIB);
    let rd = counter_mean_peak(s, metric::READ_BYTES);
    let wr = counter_mean_peak(s, metric::WRITE_BYTES);
    let gpus = gpu_usage(rec);
    Resources {
        samples: s.len(),
        host_cores,
        cpu_cores_mean,
        cpu_cores_peak,
        cpu_host_share_pct: cpu_cores_mean
            .filter(|_| host_cores > 0)
            .map(|m| m / host_cores as f64 * 100.0),
        rss_mean_bytes: rss.map(|r| (r.0 * 1024.0) as u64),
        rss_peak_bytes: rss.map(|r| r.1.max(0) as u64 * 1024),
        read_mb_s_mean: rd.map(|r| r.0 / 1e6),
        read_mb_s_peak: rd.map(|r| r.1 / 1e6),
        write_mb_s_mean: wr.map(|r| r.0 / 1e6),
        write_mb_s_peak: wr.map(|r| r.1 / 1e6),
        gpus,
    }
}

/// GPU indices: the devices recorded, else those with a `gpuN.util_pct` column.
pub fn gpu_indices(rec: &RunRecord) -> Vec<u32> {
    if !rec.gpus.is_empty() {
        return rec.gpus.iter().map(|g| g.index).collect();
    }
    (0..64)
        .filter(|n| {
            rec.samples
                .columns
                .contains_key(&metric::gpu(*n, "util_pct"))
        })
        .collect()
}

fn gpu_usage(rec: &RunRecord) -> Vec<GpuUsage> {
    gpu_indices(rec)
        .into_iter()
        .map(|n| {
            let dev = rec.gpus.iter().find(|g| g.index == n);
            let util = gauge_mean_peak(&rec.samples, &metric::gpu(n, "util_pct"));
            let mem = gauge_mean_peak(&rec.samples, &metric::gpu(n, "mem_used_bytes"));
            GpuUsage {
                index: n,
                name: dev.map(|d| d.name.clone()).unwrap_or_default(),
                util_mean_pct: util.map(|u| u.0),
                util_peak_pct: util.map(|u| u.1 as f64),
                mem_peak_bytes: mem.map(|m| m.1.max(0) as u64),
                mem_total_bytes: dev.map(|d| d.memory_total_bytes).filter(|b| *b > 0),
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analyze::testutil::empty_record;

    #[test]
    fn known_rates() {
        let mut r = empty_record();
        // 1 s steps; user grows by 1.5 cores, system by 0.5 for 2 s, then 0 for 1 s.
        let rows = [
            (0, 0, 0, 100, 0),
            (1_000_000, 1_500_000, 500_000, 300, 10_000_000),
            (2_000_000, 3_000_000, 1_000_000, 200, 20_000_000),
            (3_000_000, 3_000_000, 1_000_000, 400, 20_000_000),
        ];
        for (t, u, s, rss, rd) in rows {
            r.samples.push(
                t,
                &[
                    (metric::CPU_USER_US, u),
                    (metric::CPU_SYSTEM_US, s),
                    (metric::RSS_KIB, rss),
                    (metric::READ_BYTES, rd),
                ],
            );
        }
        let res = resources(&r);
        assert_eq!(res.samples, 4);
        assert!((res.cpu_cores_mean.unwrap() - 4.0 / 3.0).abs() < 1e-9);
        assert!((res.cpu_cores_peak.unwrap() - 2.0).abs() < 1e-9);
        assert!((res.cpu_host_share_pct.unwrap() - 4.0 / 3.0 / 8.0 * 100.0).abs() < 1e-9);
        assert_eq!(res.rss_peak_bytes, Some(400 * 1024));
        assert_eq!(res.rss_mean_bytes, Some(250 * 1024));
        assert!((res.read_mb_s_mean.unwrap() - 20.0 / 3.0).abs() < 1e-9);
        assert!((res.read_mb_s_peak.unwrap() - 10.0).abs() < 1e-9);
        assert_eq!(res.write_mb_s_mean, None);
        let cpu = cpu_percent_series(&r.samples);
        assert_eq!(cpu.len(), 3);
        assert_eq!((cpu[0].user_pct, cpu[0].system_pct), (150.0, 50.0));
        assert!(res.gpus.is_empty());
    }

    #[test]
    fn gpu_from_columns() {
        let mut r = empty_record();
        r.samples
            .push(0, &[("gpu0.util_pct", 10), ("gpu0.mem_used_bytes", 5)]);
        r.samples
            .push(1, &[("gpu0.util_pct", 30), ("gpu0.mem_used_bytes", 9)]);
        let g = &resources(&r).gpus[0];
        assert_eq!(g.util_mean_pct, Some(20.0));
        assert_eq!(g.util_peak_pct, Some(30.0));
        assert_eq!(g.mem_peak_bytes, Some(9));
    }

    #[test]
    fn empty_samples_give_none() {
        let res = resources(&empty_record());
        assert_eq!(res.cpu_cores_mean, None);
        assert_eq!(res.rss_peak_bytes, None);
    }
}
