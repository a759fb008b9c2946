//! Budgets (`--budget 'wall<10m,peak_tree_rss<4GiB'`): which limits a run's figures cross. Used
//! live by `perfmon run` on every sample (a warning the moment a budget is crossed, and with
//! `--budget-kill` the end of the command) and afterwards by `perfmon check`. Pure functions.

use super::spec::{Budget, Metric};
pub use crate::model::BudgetViolation as Violation;

/// The figures of a run that budgets can limit, as known so far (live) or at the end.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figures {
    pub wall_s: f64,
    pub cpu_s: f64,
    pub cpu_user_s: f64,
    pub cpu_system_s: f64,
    pub peak_rss_bytes: f64,
    pub peak_tree_rss_bytes: f64,
    pub io_read_bytes: f64,
    pub io_write_bytes: f64,
    /// None without a GPU.
    pub gpu_mem_bytes: Option<f64>,
    pub gpu_util_mean_pct: Option<f64>,
}

impl Figures {
    /// The value of a metric, None when the metric is not a run figure (timers, series) or was
    /// not measured.
    pub fn value(&self, m: &Metric) -> Option<f64> {
        match m {
            // NaN: the run has no wall time (incomplete): not measured, never "0 s, ok".
            Metric::Wall => Some(self.wall_s).filter(|w| w.is_finite()),
            Metric::Cpu => Some(self.cpu_s),
            Metric::CpuUser => Some(self.cpu_user_s),
            Metric::CpuSystem => Some(self.cpu_system_s),
            Metric::CpuMean => (self.wall_s > 0.0).then(|| self.cpu_s / self.wall_s),
            Metric::PeakRss => Some(self.peak_rss_bytes),
            Metric::PeakTreeRss => Some(self.peak_tree_rss_bytes),
            Metric::IoRead => Some(self.io_read_bytes),
            Metric::IoWrite => Some(self.io_write_bytes),
            Metric::GpuMem => self.gpu_mem_bytes,
            Metric::GpuUtil => self.gpu_util_mean_pct,
            _ => None,
        }
    }
}

impl Figures {
    /// The figures of a finished run: totals from the kernel, GPU figures from the samples. A
    /// run without a wall time (incomplete) has a NaN `wall_s`: wall and mean CPU are then not
    /// measured, rather than 0 s that passes every wall budget.
    pub fn from_record(rec: &crate::model::RunRecord) -> Figures {
        use crate::model::MISSING;
        let t = &rec.totals;
        let user = t.cpu_user_us as f64 / 1e6;
        let system = t.cpu_system_us as f64 / 1e6;
        // GPU memory: per sample, the sum over devices of the tree's memory (else the device's).
        let mut gpu_mem: Option<f64> = None;
        let mut util_sum = 0.0;
        let mut util_n = 0usize;
        for d in &rec.gpus {
            let tree = rec
                .samples
                .column(&crate::model::metric::gpu(d.index, "tree_mem_bytes"));
            let used = rec
                .samples
                .column(&crate::model::metric::gpu(d.index, "mem_used_bytes"));
            if let Some(col) = tree.or(used) {
                let peak = col.iter().filter(|v| **v != MISSING).max().copied();
                if let Some(p) = peak {
                    gpu_mem = Some(gpu_mem.unwrap_or(0.0) + p as f64);
                }
            }
            if let Some(col) = rec
                .samples
                .column(&crate::model::metric::gpu(d.index, "util_pct"))
            {
                for v in col.iter().filter(|v| **v != MISSING) {
                    util_sum += *v as f64;
                    util_n += 1;
                }
            }
        }
        Figures {
            wall_s: rec.meta.wall_s.unwrap_or(f64::NAN),
            cpu_s: user + system,
            cpu_user_s: user,
            cpu_system_s: system,
            peak_rss_bytes: t.peak_rss_bytes as f64,
            peak_tree_rss_bytes: t.peak_tree_rss_bytes as f64,
            io_read_bytes: t.io_read_bytes as f64,
            io_write_bytes: t.io_write_bytes as f64,
            gpu_mem_bytes: gpu_mem,
            gpu_util_mean_pct: (util_n > 0).then(|| util_sum / util_n as f64),
        }
    }
}

/// Budgets whose metric a run can never measure at run time, for a clear error up front.
pub fn unsupported(budgets: &[Budget]) -> Vec<String> {
    budgets
        .iter()
        .filter(|b| Figures::default().value(&b.metric).is_none() && !gpu_metric(&b.metric))
        .filter(|b| b.metric != Metric::CpuMean)
        .map(|b| b.metric.to_string())
        .collect()
}

fn gpu_metric(m: &Metric) -> bool {
    matches!(m, Metric::GpuMem | Metric::GpuUtil)
}

/// Tracks budgets over a run: each budget is reported once, when first crossed.
#[derive(Debug, Clone)]
pub struct BudgetWatch {
    budgets: Vec<Budget>,
    crossed: Vec<bool>,
    /// Mean CPU is judged only after this long, so start-up does not trip it.
    pub cpu_mean_after_s: f64,
}

impl BudgetWatch {
    pub fn new(budgets: Vec<Budget>) -> BudgetWatch {
        let n = budgets.len();
        BudgetWatch {
            budgets,
            crossed: vec![false; n],
            cpu_mean_after_s: 1.0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.budgets.is_empty()
    }

    /// The budgets newly crossed by these figures.
    pub fn check(&mut self, f: &Figures) -> Vec<Violation> {
        let mut out = Vec::new();
        for (b, crossed) in self.budgets.iter().zip(self.crossed.iter_mut()) {
            if *crossed {
                continue;
            }
            if b.metric == Metric::CpuMean && f.wall_s < self.cpu_mean_after_s {
                continue;
            }
            if let Some(v) = f.value(&b.metric) {
                if v > b.limit {
                    *crossed = true;
                    out.push(Violation {
                        metric: b.metric.to_string(),
                        limit: b.limit,
                        value: v,
                        t_s: f.wall_s,
                    });
                }
            }
        }
        out
    }
}

/// Checks finished figures against budgets (`perfmon check`).
pub fn check_all(budgets: &[Budget], f: &Figures) -> Vec<Violation> {
    let mut w = BudgetWatch::new(budgets.to_vec());
    w.cpu_mean_after_s = 0.0;
    w.check(f)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analyze::spec::parse_budget;

    #[test]
    fn reports_each_budget_once_when_crossed() {
        let mut w = BudgetWatch::new(parse_budget("wall<2s,peak_tree_rss<1MiB").unwrap());
        let mut f = Figures {
            wall_s: 1.0,
            peak_tree_rss_bytes: 512.0 * 1024.0,
            ..Figures::default()
        };
        assert!(w.check(&f).is_empty());
        f.peak_tree_rss_bytes = 2.0 * 1024.0 * 1024.0;
        let v = w.check(&f);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].metric, "peak_tree_rss");
        assert_eq!(v[0].t_s, 1.0);
        f.wall_s = 2.5;
        let v = w.check(&f);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].metric, "wall");
        assert!(w.check(&f).is_empty());
    }

    #[test]
    fn cpu_mean_waits_for_the_start_and_gpu_needs_a_gpu() {
        let mut w = BudgetWatch::new(parse_budget("cpu_mean<1.5cores,gpu_mem<1GiB").unwrap());
        let mut f = Figures {
            wall_s: 0.5,
            cpu_s: 1.0,
            ..Figures::default()
        };
        assert!(w.check(&f).is_empty());
        f.wall_s = 1.0;
        f.cpu_s = 1.8;
        let v = w.check(&f);
        assert_eq!(v.len(), 1);
        assert!((v[0].value - 1.8).abs() < 1e-9);
        assert!(unsupported(&parse_budget("gpu_mem<1GiB,wall<1s").unwrap()).is_empty());
        assert_eq!(
            unsupported(&parse_budget("converge_iter<10").unwrap()),
            vec!["converge_iter"]
        );
    }

    /// An incomplete run has no wall time: `perfmon check` said "ok wall: 0 s <= limit".
    #[test]
    fn a_run_without_wall_time_has_no_wall_figure() {
        let mut rec = crate::analyze::testutil::empty_record();
        rec.meta.wall_s = None;
        rec.totals.cpu_user_us = 5_000_000;
        let f = Figures::from_record(&rec);
        assert_eq!(f.value(&Metric::Wall), None);
        assert_eq!(f.value(&Metric::CpuMean), None);
        assert_eq!(f.value(&Metric::Cpu), Some(5.0));
        let budgets = parse_budget("wall<1s,cpu_mean<0.1cores,cpu<1s").unwrap();
        let broken = check_all(&budgets, &f);
        assert_eq!(broken.len(), 1, "{broken:?}");
        assert_eq!(broken[0].metric, "cpu");
        rec.meta.wall_s = Some(2.0);
        let f = Figures::from_record(&rec);
        assert_eq!(f.value(&Metric::Wall), Some(2.0));
        assert_eq!(check_all(&budgets, &f).len(), 3);
    }
}
