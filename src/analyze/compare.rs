//! Verdicts of `perfmon compare`: is the candidate worse, better or the same as the base on a
//! metric, with statistics rather than a noisy single number.
//!
//! Method (documented in the README, a contract for CI users):
//! - With at least [`MIN_RUNS_FOR_TEST`] runs a side, a two-sample test decides significance:
//!   by default (`auto`) the Mann-Whitney U test when both sides have 4 runs or more (robust
//!   to the outlier runs a shared machine produces; exact for small groups), else Welch's
//!   t-test (with 3 runs a side U's smallest two-sided p is 0.1, so it could never say
//!   "regressed"). Either test can be forced. A change is a regression or an improvement only when it is significant
//!   (p < alpha, default 0.05) *and* the medians differ by at least `min_effect` % (default 1%).
//! - With fewer runs no test is possible: the verdict is the plain ratio of the values against
//!   `min_effect`, and the row says so (`test: "ratio"`).
//! - `--fail-on` thresholds fail the gate only on a regression verdict whose change is beyond
//!   the threshold, so noise alone (not significant) never fails a build.

use super::spec::{Metric, Threshold};
use super::stats::{mann_whitney_u, summarize, welch_t_test, Summary};

/// Fewest runs a side for a significance test.
pub const MIN_RUNS_FOR_TEST: usize = 3;

/// Which test decides significance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestKind {
    /// Mann-Whitney U from 4 runs a side, Welch below.
    Auto,
    MannWhitney,
    Welch,
}

/// Fewest runs a side for `auto` to pick the Mann-Whitney U test.
pub const MIN_RUNS_FOR_U: usize = 4;

impl TestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TestKind::Auto => "auto",
            TestKind::MannWhitney => "mann-whitney",
            TestKind::Welch => "welch",
        }
    }
}

/// Options of a comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareOptions {
    pub alpha: f64,
    /// Smallest relative change of the medians, in %, that can be a regression or improvement.
    pub min_effect_pct: f64,
    pub test: TestKind,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            alpha: 0.05,
            min_effect_pct: 1.0,
            test: TestKind::Auto,
        }
    }
}

impl TestKind {
    /// The test used for sides of `n` and `m` runs.
    pub fn resolve(self, n: usize, m: usize) -> TestKind {
        match self {
            TestKind::Auto if n.min(m) >= MIN_RUNS_FOR_U => TestKind::MannWhitney,
            TestKind::Auto => TestKind::Welch,
            t => t,
        }
    }
}

/// The verdict on one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Regressed,
    Improved,
    Unchanged,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
        }
    }
}

/// One metric compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub metric: Metric,
    pub base: Summary,
    pub cand: Summary,
    /// Relative change of the candidate's median over the base's, in %; None when the base
    /// median is 0.
    pub change_pct: Option<f64>,
    /// `mann-whitney`, `welch` or `ratio` (too few runs for a test).
    pub test: &'static str,
    /// Two-sided p-value; None for `ratio`.
    pub p: Option<f64>,
    pub lower_is_better: bool,
    pub verdict: Verdict,
}

/// Compares the values of one metric on both sides. None when a side has no finite value.
pub fn compare_metric(
    metric: Metric,
    base: &[f64],
    cand: &[f64],
    lower_is_better: bool,
    opts: &CompareOptions,
) -> Option<Row> {
    let b: Vec<f64> = base.iter().copied().filter(|v| v.is_finite()).collect();
    let c: Vec<f64> = cand.iter().copied().filter(|v| v.is_finite()).collect();
    let (bs, cs) = (summarize(&b)?, summarize(&c)?);
    let change_pct = (bs.median != 0.0).then(|| (cs.median - bs.median) / bs.median.abs() * 100.0);
    let tested = b.len() >= MIN_RUNS_FOR_TEST && c.len() >= MIN_RUNS_FOR_TEST;
    let (test, p) = if tested {
        let kind = opts.test.resolve(b.len(), c.len());
        let r = match kind {
            TestKind::MannWhitney => mann_whitney_u(&b, &c),
            TestKind::Welch | TestKind::Auto => welch_t_test(&b, &c),
        };
        (kind.as_str(), r.map(|r| r.p))
    } else {
        ("ratio", None)
    };
    let significant = match (tested, p) {
        (true, Some(p)) => p < opts.alpha,
        (true, None) => false,
        (false, _) => true,
    };
    let big = match change_pct {
        Some(c) => c.abs() >= opts.min_effect_pct,
        // From exactly 0 to something else is as big as a change gets.
        None => cs.median != bs.median,
    };
    let worse = worse(lower_is_better, bs.median, cs.median);
    let verdict = if significant && big {
        if worse {
            Verdict::Regressed
        } else {
            Verdict::Improved
        }
    } else {
        Verdict::Unchanged
    };
    Some(Row {
        metric,
        base: bs,
        cand: cs,
        change_pct,
        test,
        p,
        lower_is_better,
        verdict,
    })
}

/// Whether the candidate's median is worse than the base's, given the metric's direction.
fn worse(lower_is_better: bool, base: f64, cand: f64) -> bool {
    if lower_is_better {
        cand > base
    } else {
        cand < base
    }
}

/// A threshold the candidate broke.
#[derive(Debug, Clone, PartialEq)]
pub struct GateFailure {
    pub threshold: Threshold,
    /// How much worse, in % (positive).
    pub worse_by_pct: f64,
}

/// The `--fail-on` gate: the thresholds broken by regressions among `rows`. A threshold whose
/// metric is absent from both sides is reported by the caller, not here.
pub fn gate(rows: &[Row], thresholds: &[Threshold]) -> Vec<GateFailure> {
    let mut out = Vec::new();
    for t in thresholds {
        for r in rows.iter().filter(|r| r.metric == t.metric) {
            if r.verdict != Verdict::Regressed {
                continue;
            }
            let worse_by = match r.change_pct {
                Some(c) => c.abs(),
                None => f64::INFINITY,
            };
            if worse_by > t.pct {
                out.push(GateFailure {
                    threshold: t.clone(),
                    worse_by_pct: worse_by,
                });
            }
        }
    }
    out
}

/// A gated metric whose median got worse by more than its threshold while the test did not call
/// the change significant: the runs were too noisy to decide. The gate passes (it must not cry
/// wolf on noise) and says so, so that a real slowdown hidden by a noisy runner is not silent.
#[derive(Debug, Clone, PartialEq)]
pub struct Inconclusive {
    pub threshold: Threshold,
    /// How much worse the candidate's median is, in % (positive).
    pub worse_by_pct: f64,
    pub p: Option<f64>,
    /// The larger of the two sides' spread, max/min - 1, in %.
    pub spread_pct: f64,
}

/// The thresholds that an unchanged verdict left undecided (see [`Inconclusive`]). Only rows
/// that had a significance test: the plain ratio of single runs decides by itself.
pub fn inconclusive(rows: &[Row], thresholds: &[Threshold]) -> Vec<Inconclusive> {
    let spread = |s: &Summary| {
        if s.min > 0.0 {
            (s.max / s.min - 1.0) * 100.0
        } else {
            f64::INFINITY
        }
    };
    let mut out = Vec::new();
    for t in thresholds {
        for r in rows.iter().filter(|r| r.metric == t.metric) {
            let Some(change) = r.change_pct else {
                continue;
            };
            let worse = worse(r.lower_is_better, r.base.median, r.cand.median);
            if r.verdict == Verdict::Unchanged && r.p.is_some() && worse && change.abs() > t.pct {
                out.push(Inconclusive {
                    threshold: t.clone(),
                    worse_by_pct: change.abs(),
                    p: r.p,
                    spread_pct: spread(&r.base).max(spread(&r.cand)),
                });
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analyze::spec::parse_fail_on;

    fn opts() -> CompareOptions {
        CompareOptions::default()
    }

    /// A 20% slowdown with 1% noise: significant by any test.
    fn clear_slowdown(metric: Metric) -> Row {
        let base = [10.0, 10.2, 9.9, 10.1, 10.0];
        let cand = [12.0, 12.1, 11.9, 12.2, 12.0];
        compare_metric(metric, &base, &cand, true, &opts()).unwrap()
    }

    #[test]
    fn a_clear_slowdown_regresses_and_fails_the_gate() {
        let r = clear_slowdown(Metric::Wall);
        assert_eq!(r.verdict, Verdict::Regressed);
        assert_eq!(r.test, "mann-whitney");
        assert!(r.p.unwrap() < 0.02);
        assert!((r.change_pct.unwrap() - 20.0).abs() < 0.01);
        let f = gate(std::slice::from_ref(&r), &parse_fail_on("wall>5%").unwrap());
        assert_eq!(f.len(), 1);
        assert!(gate(&[r], &parse_fail_on("wall>25%").unwrap()).is_empty());
    }

    #[test]
    fn overlapping_noise_is_unchanged() {
        let base = [10.0, 10.4, 9.7, 10.2, 9.9];
        let cand = [10.1, 9.8, 10.3, 10.0, 10.5];
        let r = compare_metric(Metric::Wall, &base, &cand, true, &opts()).unwrap();
        assert_eq!(r.verdict, Verdict::Unchanged);
        assert!(gate(&[r], &parse_fail_on("wall>0%").unwrap()).is_empty());
    }

    #[test]
    fn a_worse_median_in_noise_is_inconclusive_not_a_failure() {
        // CPU seconds of an awk loop in a trial of scripts/bench-gate caught in a burst of load:
        // the candidate does 19% more work, the runs of both sides spread by 32-37%, and the
        // medians differ by 5%.
        let base = [0.0607, 0.0575, 0.0616, 0.0452, 0.0621];
        let cand = [0.0548, 0.0639, 0.0566, 0.0721, 0.0644];
        let r = compare_metric(Metric::Cpu, &base, &cand, true, &opts()).unwrap();
        assert_eq!(r.verdict, Verdict::Unchanged);
        let t = parse_fail_on("cpu>3%").unwrap();
        assert!(gate(std::slice::from_ref(&r), &t).is_empty());
        let i = inconclusive(std::slice::from_ref(&r), &t);
        assert_eq!(i.len(), 1);
        assert!((i[0].worse_by_pct - 5.27).abs() < 0.01, "{i:?}");
        assert!((i[0].spread_pct - 37.4).abs() < 0.5, "{i:?}");
        // Within the threshold, or better, or decided: nothing to say.
        assert!(
            inconclusive(std::slice::from_ref(&r), &parse_fail_on("cpu>10%").unwrap()).is_empty()
        );
        let better = compare_metric(Metric::Cpu, &cand, &base, true, &opts()).unwrap();
        assert!(inconclusive(&[better], &t).is_empty());
        assert!(inconclusive(&[clear_slowdown(Metric::Cpu)], &t).is_empty());
        let single = compare_metric(Metric::Cpu, &[1.0], &[1.5], true, &opts()).unwrap();
        assert!(inconclusive(&[single], &t).is_empty());
    }

    #[test]
    fn a_significant_but_tiny_change_is_unchanged() {
        let base = [100.0, 100.01, 100.02, 100.03, 100.04];
        let cand = [100.3, 100.31, 100.32, 100.33, 100.34];
        let r = compare_metric(Metric::Wall, &base, &cand, true, &opts()).unwrap();
        assert!(r.p.unwrap() < 0.05);
        assert_eq!(r.verdict, Verdict::Unchanged);
    }

    #[test]
    fn direction_decides_worse() {
        // A maximized series whose best value grew: improved.
        let r = compare_metric(
            Metric::Best(None),
            &[0.5, 0.51, 0.49],
            &[0.7, 0.71, 0.69],
            false,
            &opts(),
        )
        .unwrap();
        assert_eq!(r.verdict, Verdict::Improved);
        assert!(gate(&[r], &parse_fail_on("best>1%").unwrap()).is_empty());
    }

    #[test]
    fn single_runs_use_the_plain_ratio_and_say_so() {
        let r = compare_metric(Metric::PeakRss, &[100.0], &[150.0], true, &opts()).unwrap();
        assert_eq!(
            (r.test, r.p, r.verdict),
            ("ratio", None, Verdict::Regressed)
        );
        let r = compare_metric(Metric::PeakRss, &[100.0], &[100.5], true, &opts()).unwrap();
        assert_eq!(r.verdict, Verdict::Unchanged);
        assert!(compare_metric(Metric::Wall, &[], &[1.0], true, &opts()).is_none());
    }

    #[test]
    fn mann_whitney_is_available() {
        let o = CompareOptions {
            test: TestKind::MannWhitney,
            ..opts()
        };
        let base = [1.0, 1.1, 0.9, 1.05, 0.95];
        let cand = [2.0, 2.1, 1.9, 2.05, 1.95];
        let r = compare_metric(Metric::Wall, &base, &cand, true, &o).unwrap();
        assert_eq!((r.test, r.verdict), ("mann-whitney", Verdict::Regressed));
        // Three runs a side can never be significant with U.
        let r = compare_metric(Metric::Wall, &base[..3], &cand[..3], true, &o).unwrap();
        assert_eq!(r.verdict, Verdict::Unchanged);
    }
}
