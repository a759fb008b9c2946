//! Success rate and expected running time (ERT) of repeated optimization runs against a target
//! value, as the COCO/BBOB benchmarking platform defines them:
//!
//! ERT = (time spent in all runs until success, or until the end for runs that never reached
//! the target) / (number of successful runs)
//!
//! in iterations and in seconds. A run succeeds when its series reaches the target: a value at
//! or below it for a minimized series, at or above it for a maximized one. Pure functions.

use crate::model::{Direction, Series};

/// One run's attempt at the target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attempt {
    pub run_id: i64,
    pub success: bool,
    /// Iteration and time (s since the run started) of the first point that reached the target.
    pub hit_iter: Option<i64>,
    pub hit_t_s: Option<f64>,
    /// What the run spent in all: its last iteration and its wall time (None when the run has
    /// none, as an incomplete run: the ERT in seconds is then unknown, not understated).
    pub spent_iters: i64,
    pub spent_s: Option<f64>,
}

/// Success rate and ERT over a group.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetSummary {
    pub target: f64,
    pub direction: Direction,
    pub runs: usize,
    pub successes: usize,
    pub success_rate: f64,
    /// None when no run succeeded (ERT is infinite).
    pub ert_iters: Option<f64>,
    pub ert_s: Option<f64>,
    pub attempts: Vec<Attempt>,
}

/// The attempt of one run: `series` is the run's series (None when the run lacks it) and
/// `wall_s` its wall time (None when not recorded).
pub fn attempt(
    run_id: i64,
    series: Option<&Series>,
    target: f64,
    direction: Direction,
    wall_s: Option<f64>,
) -> Attempt {
    let reached = |v: f64| match direction {
        Direction::Minimize => v <= target,
        Direction::Maximize => v >= target,
    };
    let pts = series.map(|s| s.points.as_slice()).unwrap_or(&[]);
    let hit = pts.iter().find(|p| p.value.is_finite() && reached(p.value));
    let first_iter = pts.first().map(|p| p.iter).unwrap_or(0);
    let last_iter = pts.last().map(|p| p.iter).unwrap_or(0);
    Attempt {
        run_id,
        success: hit.is_some(),
        hit_iter: hit.map(|p| p.iter),
        hit_t_s: hit.map(|p| p.t_s),
        // Iterations are counted from the series' first iteration (0 or 1 by convention).
        spent_iters: last_iter - first_iter + 1,
        spent_s: wall_s.filter(|w| w.is_finite()),
    }
    .with_first(first_iter)
}

impl Attempt {
    fn with_first(mut self, first_iter: i64) -> Attempt {
        if let Some(h) = self.hit_iter {
            self.hit_iter = Some(h - first_iter + 1);
        }
        self
    }
}

/// Success rate and ERT of a group of attempts.
pub fn summarize(target: f64, direction: Direction, attempts: Vec<Attempt>) -> TargetSummary {
    let runs = attempts.len();
    let successes = attempts.iter().filter(|a| a.success).count();
    let spent_iters: f64 = attempts
        .iter()
        .map(|a| a.hit_iter.unwrap_or(a.spent_iters) as f64)
        .sum();
    // None when a run that did not succeed has no wall time: what it spent is unknown, and
    // counting it as 0 s would make the ERT look better than it is.
    let spent_s: Option<f64> = attempts.iter().map(|a| a.hit_t_s.or(a.spent_s)).sum();
    TargetSummary {
        target,
        direction,
        runs,
        successes,
        success_rate: if runs == 0 {
            0.0
        } else {
            successes as f64 / runs as f64
        },
        ert_iters: (successes > 0).then(|| spent_iters / successes as f64),
        ert_s: spent_s
            .filter(|_| successes > 0)
            .map(|s| s / successes as f64),
        attempts,
    }
}

/// The empirical distribution of time to target: sorted hit times of the successful runs, each
/// with the fraction of *all* runs that had succeeded by then (it ends at the success rate).
pub fn ecdf_time_to_target(s: &TargetSummary) -> Vec<(f64, f64)> {
    let mut t: Vec<f64> = s.attempts.iter().filter_map(|a| a.hit_t_s).collect();
    t.sort_by(|a, b| a.total_cmp(b));
    let n = s.runs.max(1) as f64;
    t.into_iter()
        .enumerate()
        .map(|(i, x)| (x, (i + 1) as f64 / n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Point;

    fn series(vals: &[(i64, f64, f64)]) -> Series {
        Series {
            name: "best".into(),
            algorithm: None,
            source: "protocol".into(),
            direction: Some(Direction::Minimize),
            direction_from: None,
            role: None,
            main: true,
            points: vals
                .iter()
                .map(|(i, t, v)| Point {
                    iter: *i,
                    t_s: *t,
                    value: *v,
                })
                .collect(),
        }
    }

    #[test]
    fn ert_as_coco_defines_it() {
        // Run 1 hits at iteration 3 (t 0.3 s); run 2 never hits in 10 iterations (1.0 s);
        // run 3 hits at iteration 5 (t 0.5 s).
        let s1 = series(&[(1, 0.1, 5.0), (2, 0.2, 2.0), (3, 0.3, 0.9), (4, 0.4, 0.5)]);
        let s2 = series(
            &(1..=10)
                .map(|i| (i, i as f64 * 0.1, 3.0))
                .collect::<Vec<_>>(),
        );
        let s3 = series(
            &(1..=6)
                .map(|i| (i, i as f64 * 0.1, 6.0 - i as f64))
                .collect::<Vec<_>>(),
        );
        let a = vec![
            attempt(1, Some(&s1), 1.0, Direction::Minimize, Some(0.45)),
            attempt(2, Some(&s2), 1.0, Direction::Minimize, Some(1.05)),
            attempt(3, Some(&s3), 1.0, Direction::Minimize, Some(0.7)),
        ];
        assert_eq!(a[0].hit_iter, Some(3));
        assert_eq!(a[2].hit_iter, Some(5));
        let s = summarize(1.0, Direction::Minimize, a);
        assert_eq!((s.runs, s.successes), (3, 2));
        assert!((s.success_rate - 2.0 / 3.0).abs() < 1e-12);
        // (3 + 10 + 5) / 2 iterations; (0.3 + 1.05 + 0.5) / 2 seconds.
        assert_eq!(s.ert_iters, Some(9.0));
        assert!((s.ert_s.unwrap_or(0.0) - 0.925).abs() < 1e-9);
        let e = ecdf_time_to_target(&s);
        assert_eq!(e.len(), 2);
        assert!((e[1].1 - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn maximized_series_and_missing_series() {
        let s = series(&[(0, 0.1, 0.5), (1, 0.2, 0.95)]);
        let a = attempt(7, Some(&s), 0.9, Direction::Maximize, Some(0.3));
        assert!(a.success);
        assert_eq!(a.hit_iter, Some(2));
        let none = attempt(8, None, 0.9, Direction::Maximize, Some(2.0));
        assert!(!none.success);
        let sum = summarize(0.9, Direction::Maximize, vec![none]);
        assert_eq!(sum.ert_s, None);
        assert_eq!(sum.success_rate, 0.0);
    }

    /// A run that never reached the target and has no wall time (incomplete) was counted as
    /// 0 s spent, understating the ERT in seconds; it is unknown now. A successful run without
    /// a wall time still counts, by its time to the target.
    #[test]
    fn a_failed_run_without_wall_time_makes_the_ert_in_seconds_unknown() {
        let hit = series(&[(1, 0.1, 5.0), (2, 0.2, 0.5)]);
        let miss = series(&[(1, 0.1, 5.0), (2, 0.2, 4.0)]);
        let s = summarize(
            1.0,
            Direction::Minimize,
            vec![
                attempt(1, Some(&hit), 1.0, Direction::Minimize, Some(0.3)),
                attempt(2, Some(&miss), 1.0, Direction::Minimize, None),
            ],
        );
        assert_eq!(s.successes, 1);
        assert_eq!(s.ert_iters, Some(4.0));
        assert_eq!(s.ert_s, None);
        let s = summarize(
            1.0,
            Direction::Minimize,
            vec![
                attempt(1, Some(&hit), 1.0, Direction::Minimize, None),
                attempt(2, Some(&miss), 1.0, Direction::Minimize, Some(1.5)),
            ],
        );
        assert!(
            (s.ert_s.unwrap_or(f64::NAN) - 1.7).abs() < 1e-9,
            "{:?}",
            s.ert_s
        );
    }
}
