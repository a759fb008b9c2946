//! The comparable figures of one run: every metric `compare`, `history` and `--fail-on` can
//! name (see [`super::spec::Metric`]), with whether lower is better. Pure function of a record
//! and its analysis.

use super::spec::Metric;
use super::Analysis;
use crate::model::{Direction, RunRecord};

/// One figure of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub metric: Metric,
    pub value: f64,
    pub lower_is_better: bool,
}

/// All figures of a run, in a stable order: run totals, then timers, then series (the main
/// series first, as `best`/`final` without a name; other series as `best:NAME`).
pub fn run_figures(rec: &RunRecord, an: &Analysis) -> Vec<Figure> {
    let mut out = Vec::new();
    let mut put = |metric: Metric, value: Option<f64>, lower_is_better: bool| {
        if let Some(value) = value.filter(|v| v.is_finite()) {
            out.push(Figure {
                metric,
                value,
                lower_is_better,
            });
        }
    };
    let t = &rec.totals;
    let user = t.cpu_user_us as f64 / 1e6;
    let system = t.cpu_system_us as f64 / 1e6;
    let wall = rec.meta.wall_s;
    put(Metric::Wall, wall, true);
    put(Metric::Cpu, Some(user + system), true);
    put(Metric::CpuUser, Some(user), true);
    put(Metric::CpuSystem, Some(system), true);
    put(
        Metric::CpuMean,
        wall.filter(|w| *w > 0.0).map(|w| (user + system) / w),
        true,
    );
    put(Metric::PeakRss, Some(t.peak_rss_bytes as f64), true);
    put(
        Metric::PeakTreeRss,
        Some(t.peak_tree_rss_bytes as f64),
        true,
    );
    put(Metric::IoRead, Some(t.io_read_bytes as f64), true);
    put(Metric::IoWrite, Some(t.io_write_bytes as f64), true);
    let gpus = &an.resources.gpus;
    if !gpus.is_empty() {
        let mem: Vec<u64> = gpus.iter().filter_map(|g| g.mem_peak_bytes).collect();
        put(
            Metric::GpuMem,
            (!mem.is_empty()).then(|| mem.iter().sum::<u64>() as f64),
            true,
        );
        let util: Vec<f64> = gpus.iter().filter_map(|g| g.util_mean_pct).collect();
        put(
            Metric::GpuUtil,
            (!util.is_empty()).then(|| util.iter().sum::<f64>() / util.len() as f64),
            false,
        );
    }
    for tm in &an.timers {
        put(Metric::Timer(tm.name.clone()), Some(tm.total_s), true);
    }
    let names = series_keys(an);
    let mut order: Vec<usize> = (0..an.series.len()).collect();
    order.sort_by_key(|i| !an.series[*i].main);
    for i in order {
        let s = &an.series[i];
        if s.role == crate::model::Role::Parameter {
            continue; // set by the run, not measured: no figure to compare
        }
        let key = (!s.main).then(|| names[i].clone());
        let lower = s.direction == Direction::Minimize;
        put(Metric::Best(key.clone()), s.best, lower);
        put(Metric::Final(key.clone()), s.final_value, lower);
        put(
            Metric::ConvergeIter(key.clone()),
            s.converged_iter.map(|v| v as f64),
            true,
        );
        put(Metric::ConvergeTime(key), s.converged_t_s, true);
    }
    out
}

/// The name each series goes by in metric names: its name, or `ALGO/NAME` when several
/// algorithms report a series of the same name.
pub fn series_keys(an: &Analysis) -> Vec<String> {
    an.series
        .iter()
        .map(|s| {
            let clash = an
                .series
                .iter()
                .filter(|o| o.name == s.name && o.algorithm != s.algorithm)
                .count()
                > 0;
            match (&s.algorithm, clash) {
                (Some(a), true) => format!("{a}/{}", s.name),
                _ => s.name.clone(),
            }
        })
        .collect()
}

/// Rewrites `best:NAME` (and the other series metrics) to the unnamed form when NAME is the
/// run's main series, so a threshold may name the main series either way.
pub fn normalize(metric: &Metric, main_key: Option<&str>) -> Metric {
    let is_main = |a: &Option<String>| a.as_deref().is_some() && a.as_deref() == main_key;
    match metric {
        Metric::Best(a) if is_main(a) => Metric::Best(None),
        Metric::Final(a) if is_main(a) => Metric::Final(None),
        Metric::ConvergeIter(a) if is_main(a) => Metric::ConvergeIter(None),
        Metric::ConvergeTime(a) if is_main(a) => Metric::ConvergeTime(None),
        m => m.clone(),
    }
}

/// The value of `metric` in a run (a series metric may name the main series by its name), or
/// None when the run did not measure it.
pub fn figure_of(rec: &RunRecord, an: &Analysis, metric: &Metric) -> Option<f64> {
    let want = normalize(metric, main_key(an).as_deref());
    run_figures(rec, an)
        .into_iter()
        .find(|f| f.metric == want)
        .map(|f| f.value)
}

/// The key of the main series, if any.
pub fn main_key(an: &Analysis) -> Option<String> {
    let keys = series_keys(an);
    an.series
        .iter()
        .position(|s| s.main)
        .map(|i| keys[i].clone())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analyze::analyze;
    use crate::analyze::testutil::{empty_record, series};

    /// The lighter analysis `compare` uses gives the same figures as the full one, for a run
    /// with GPUs, timers and series (the report fixture) and for it read without its samples.
    #[test]
    fn the_figures_analysis_gives_the_full_analysis_figures() {
        let opts = crate::analyze::AnalyzeOptions::default();
        let full = crate::report::fixture::record();
        assert!(!full.gpus.is_empty() && !full.timers.is_empty() && !full.series.is_empty());
        let mut summary = full.clone();
        summary.samples = Default::default();
        summary.processes.clear();
        for rec in [full, summary] {
            let want = run_figures(&rec, &crate::analyze::analyze_with(&rec, &opts));
            let got = run_figures(&rec, &crate::analyze::analyze_for_figures(&rec, &opts));
            assert!(want.len() > 10);
            assert_eq!(got, want);
        }
    }

    #[test]
    fn parameters_have_no_figures() {
        let mut rec = empty_record();
        let mut loss = series("loss", &[3.0, 2.0, 1.0, 1.0, 1.0]);
        loss.main = true;
        rec.series = vec![loss, series("lr", &[0.1, 0.05, 0.02, 0.01, 0.01])];
        let an = analyze(&rec);
        let figs = run_figures(&rec, &an);
        let named: Vec<String> = figs.iter().map(|f| f.metric.to_string()).collect();
        assert!(named.iter().any(|m| m == "best"), "{named:?}");
        assert!(!named.iter().any(|m| m.contains("lr")), "{named:?}");
    }
}
