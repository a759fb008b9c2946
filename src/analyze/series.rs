//! Per-series statistics: direction, role, first/best/final values, when the best was reached,
//! the convergence point (or that the series is still improving), stagnation and the pace of
//! iterations. Parameters get their range instead of best/converged/stagnant figures.

use super::direction::{self, DirectionSource};
use super::role::role;
use crate::model::{Direction, Point, Role, Series};

/// Points (at least) the best-so-far must stay within the tolerance before the end for a series
/// to count as converged; and at least one point in [`PLATEAU_SHARE`] of them.
pub const PLATEAU_MIN_POINTS: usize = 3;
/// The share of a series' points its final plateau must span (one in ten).
pub const PLATEAU_SHARE: usize = 10;

/// Statistics of one progress series. Values are `None` when the series has no finite point.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesStats {
    pub name: String,
    pub algorithm: Option<String>,
    pub main: bool,
    pub role: Role,
    pub direction: Direction,
    pub direction_source: DirectionSource,
    /// Number of points, non-finite ones included.
    pub points: usize,
    pub first: Option<f64>,
    pub best: Option<f64>,
    pub final_value: Option<f64>,
    /// Iteration and time (s since start) where the best value was first reached.
    pub best_iter: Option<i64>,
    pub best_t_s: Option<f64>,
    /// Smallest and largest finite values (the range of a parameter).
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// First point whose best-so-far is within the tolerance of the final best, when the series
    /// then stayed there for a stretch before the end (see [`PLATEAU_MIN_POINTS`]); None for a
    /// parameter and for a series still improving.
    pub converged_iter: Option<i64>,
    pub converged_t_s: Option<f64>,
    /// Iterations from the convergence point to the last point (how long the series was flat).
    pub converged_for_iters: Option<i64>,
    /// The best-so-far was still moving by more than the tolerance too close to the end to call
    /// the series converged.
    pub still_improving: bool,
    /// Iterations from the best to the last point (0 when the last point is the best).
    pub stagnation_iters: Option<i64>,
    /// Seconds per iteration between the first and the last point.
    pub mean_s_per_iter: Option<f64>,
}

fn better(d: Direction, a: f64, b: f64) -> bool {
    match d {
        Direction::Minimize => a < b,
        Direction::Maximize => a > b,
    }
}

/// The best value so far at each finite point of `points`, in order, with its point: the one
/// running best of the convergence figures, the convergence chart and the compare overlay.
pub fn best_so_far<'a>(
    direction: Direction,
    points: impl IntoIterator<Item = &'a Point>,
) -> impl Iterator<Item = (&'a Point, f64)> {
    let mut best = f64::NAN;
    points
        .into_iter()
        .filter(|p| p.value.is_finite())
        .map(move |p| {
            if best.is_nan() || better(direction, p.value, best) {
                best = p.value;
            }
            (p, best)
        })
}

/// Statistics of every series of a run, in order (directions may depend on other series).
pub(super) fn all_series_stats(series: &[Series], tol: f64) -> Vec<SeriesStats> {
    let best = direction::best_tracking(series);
    series
        .iter()
        .zip(best)
        .map(|(s, b)| series_stats(s, b, tol))
        .collect()
}

pub(super) fn series_stats(s: &Series, best_hint: Option<Direction>, tol: f64) -> SeriesStats {
    let (direction, direction_source) = direction::resolve(s, best_hint);
    let finite: Vec<_> = s.points.iter().filter(|p| p.value.is_finite()).collect();
    let role = role(s);
    let mut st = SeriesStats {
        name: s.name.clone(),
        algorithm: s.algorithm.clone(),
        main: s.main,
        role,
        direction,
        direction_source,
        points: s.points.len(),
        first: finite.first().map(|p| p.value),
        best: None,
        final_value: finite.last().map(|p| p.value),
        best_iter: None,
        best_t_s: None,
        min: finite.iter().map(|p| p.value).reduce(f64::min),
        max: finite.iter().map(|p| p.value).reduce(f64::max),
        converged_iter: None,
        converged_t_s: None,
        converged_for_iters: None,
        still_improving: false,
        stagnation_iters: None,
        mean_s_per_iter: None,
    };
    st.mean_s_per_iter = pace(s);
    if role == Role::Parameter {
        return st;
    }
    let mut best: Option<&Point> = None;
    for p in &finite {
        if best.is_none_or(|b| better(direction, p.value, b.value)) {
            best = Some(p);
        }
    }
    if let Some(b) = best {
        st.best = Some(b.value);
        st.best_iter = Some(b.iter);
        st.best_t_s = Some(b.t_s);
        let margin = if b.value == 0.0 {
            tol.abs()
        } else {
            tol.abs() * b.value.abs()
        };
        let first_within = best_so_far(direction, finite.iter().copied())
            .position(|(_, so_far)| (so_far - b.value).abs() <= margin);
        if let (Some(k), Some(last)) = (first_within, finite.last()) {
            let plateau = finite.len() - k;
            if plateau >= PLATEAU_MIN_POINTS && plateau * PLATEAU_SHARE >= finite.len() {
                st.converged_iter = Some(finite[k].iter);
                st.converged_t_s = Some(finite[k].t_s);
                st.converged_for_iters = Some(last.iter - finite[k].iter);
            } else if k > 0 {
                // It moved by more than the tolerance too close to the end. (Within it from
                // the first point on, a series too short for a plateau is neither.)
                st.still_improving = true;
            }
            st.stagnation_iters = Some(last.iter - b.iter);
        }
    }
    st
}

/// The finite values of a series, in order.
pub(super) fn finite_values(s: &Series) -> Vec<f64> {
    s.points
        .iter()
        .map(|p| p.value)
        .filter(|v| v.is_finite())
        .collect()
}

/// Seconds per iteration between the first and the last point.
fn pace(s: &Series) -> Option<f64> {
    let (a, z) = (s.points.first()?, s.points.last()?);
    (z.iter > a.iter && z.t_s >= a.t_s).then(|| (z.t_s - a.t_s) / (z.iter - a.iter) as f64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{DirectionFrom, Point};

    fn series(name: &str, dir: Option<Direction>, vals: &[f64]) -> Series {
        Series {
            name: name.into(),
            algorithm: None,
            source: "protocol".into(),
            direction: dir,
            direction_from: None,
            role: None,
            main: true,
            points: vals
                .iter()
                .enumerate()
                .map(|(i, v)| Point {
                    iter: i as i64,
                    t_s: i as f64 * 0.5,
                    value: *v,
                })
                .collect(),
        }
    }

    fn stats(s: &Series) -> SeriesStats {
        series_stats(s, None, 0.01)
    }

    #[test]
    fn minimize_known_values() {
        let s = series("loss", None, &[10.0, 5.0, 2.0, 1.005, 1.0, 1.2, 1.1]);
        let st = stats(&s);
        assert_eq!(st.direction, Direction::Minimize);
        assert_eq!(st.direction_source, DirectionSource::Name);
        assert_eq!(st.role, Role::Objective);
        assert_eq!(st.first, Some(10.0));
        assert_eq!(st.best, Some(1.0));
        assert_eq!(st.final_value, Some(1.1));
        assert_eq!((st.min, st.max), (Some(1.0), Some(10.0)));
        assert_eq!(st.best_iter, Some(4));
        assert_eq!(st.best_t_s, Some(2.0));
        // 1.005 is within 1% of 1.0, and the best-so-far stays there for 4 of 7 points.
        assert_eq!(st.converged_iter, Some(3));
        assert_eq!(st.converged_t_s, Some(1.5));
        assert_eq!(st.converged_for_iters, Some(3));
        assert!(!st.still_improving);
        assert_eq!(st.stagnation_iters, Some(2));
        assert_eq!(st.mean_s_per_iter, Some(0.5));
        assert_eq!(st.points, 7);
    }

    #[test]
    fn a_loss_still_falling_at_its_end_is_still_improving() {
        // 0.9^i: each step improves by 10%, more than the 1% tolerance, up to the last point.
        let v: Vec<f64> = (0..50).map(|i| 0.9f64.powi(i)).collect();
        let st = stats(&series("loss", None, &v));
        assert_eq!(st.best_iter, Some(49));
        assert!(st.still_improving);
        assert_eq!(st.converged_iter, None);
        assert_eq!(st.converged_for_iters, None);
        // Flat for the last 10 of 60 points: converged, and for how long.
        let mut v: Vec<f64> = (0..50).map(|i| 0.9f64.powi(i)).collect();
        v.extend(std::iter::repeat_n(v[49], 10));
        let st = stats(&series("loss", None, &v));
        assert!(!st.still_improving);
        assert_eq!(st.converged_iter, Some(49));
        assert_eq!(st.converged_for_iters, Some(10));
        // Flat for 3 of 50 points is less than a tenth of the series: still improving.
        let mut v: Vec<f64> = (0..47).map(|i| 0.9f64.powi(i)).collect();
        v.extend(std::iter::repeat_n(v[46], 3));
        assert!(stats(&series("loss", None, &v)).still_improving);
        // Two equal points: too short to call converged, and not improving either.
        let st = stats(&series("loss", None, &[1.0, 1.0]));
        assert!(!st.still_improving && st.converged_iter.is_none());
        assert!(stats(&series("loss", None, &[2.0, 1.0])).still_improving);
    }

    #[test]
    fn maximize_stated_and_assumed() {
        let s = series("q", Some(Direction::Maximize), &[1.0, 3.0, 2.0, 3.0]);
        let st = stats(&s);
        assert_eq!(st.best, Some(3.0));
        assert_eq!(st.direction_source.as_str(), "recorded");
        let mut s = series("q", Some(Direction::Maximize), &[1.0, 3.0, 2.0]);
        s.direction_from = Some(DirectionFrom::Option);
        assert_eq!(stats(&s).direction_source.as_str(), "option");
        let s = series("q", None, &[1.0, 3.0, 2.0]);
        let st = stats(&s);
        assert_eq!(st.direction_source, DirectionSource::Assumed);
        assert_eq!(st.best, Some(1.0));
        assert_eq!(st.stagnation_iters, Some(2));
    }

    #[test]
    fn parameters_get_a_range_not_convergence() {
        let mut s = series("C", None, &[0.5, 90.0, 0.001, 3.0]);
        s.main = false;
        s.role = Some(Role::Parameter);
        let st = stats(&s);
        assert_eq!(st.role, Role::Parameter);
        assert_eq!((st.min, st.max), (Some(0.001), Some(90.0)));
        assert_eq!((st.first, st.final_value), (Some(0.5), Some(3.0)));
        assert_eq!(st.best, None);
        assert_eq!(st.converged_iter, None);
        assert_eq!(st.stagnation_iters, None);
        assert!(!st.still_improving);
    }

    #[test]
    fn non_finite_and_empty() {
        let st = stats(&series("loss", None, &[f64::NAN, 2.0, f64::INFINITY]));
        assert_eq!(st.first, Some(2.0));
        assert_eq!(st.best, Some(2.0));
        assert_eq!(st.final_value, Some(2.0));
        let st = stats(&series("loss", None, &[]));
        assert_eq!(st.best, None);
        assert_eq!(st.mean_s_per_iter, None);
    }

    #[test]
    fn zero_best_uses_absolute_tolerance() {
        let st = stats(&series("err", None, &[1.0, 0.005, 0.0, 0.001, 0.002]));
        assert_eq!(st.converged_iter, Some(1));
    }
}
