//! Per-series statistics: direction, first/best/final values, when the best was reached, the
//! convergence point, stagnation and the pace of iterations.

use crate::model::{Direction, Point, Series};

/// Where the direction used for a series came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectionSource {
    /// Stored with the series (the protocol's `direction=` or the parser's inference).
    Recorded,
    /// Inferred here from the series' name (`loss` → minimize, `accuracy` → maximize).
    Name,
    /// Nothing said which is better: minimize is assumed.
    Assumed,
}

impl DirectionSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DirectionSource::Recorded => "recorded",
            DirectionSource::Name => "name",
            DirectionSource::Assumed => "assumed",
        }
    }
}

/// Statistics of one progress series. Values are `None` when the series has no finite point.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesStats {
    pub name: String,
    pub algorithm: Option<String>,
    pub main: bool,
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
    /// First point whose best-so-far is within the tolerance of the final best.
    pub converged_iter: Option<i64>,
    pub converged_t_s: Option<f64>,
    /// Iterations from the best to the last point (0 when the last point is the best).
    pub stagnation_iters: Option<i64>,
    /// Seconds per iteration between the first and the last point.
    pub mean_s_per_iter: Option<f64>,
}

/// Direction from a series name: words of error are minimized, words of quality maximized.
pub fn infer_direction(name: &str) -> Option<Direction> {
    const MAX: &[&str] = &[
        "acc",
        "accuracy",
        "fitness",
        "reward",
        "return",
        "score",
        "f1",
        "auc",
        "precision",
        "recall",
        "map",
        "iou",
        "bleu",
        "r2",
        "likelihood",
        "psnr",
        "ssim",
    ];
    const MIN: &[&str] = &[
        "loss",
        "error",
        "err",
        "cost",
        "mse",
        "rmse",
        "mae",
        "regret",
        "perplexity",
        "ppl",
        "objective",
        "obj",
        "residual",
        "gap",
        "energy",
        "penalty",
        "distance",
        "nll",
    ];
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    // The last word decides ("val_acc" is an accuracy, "acc_loss" a loss).
    for w in words.iter().rev() {
        if MIN.contains(w) {
            return Some(Direction::Minimize);
        }
        if MAX.contains(w) {
            return Some(Direction::Maximize);
        }
    }
    None
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

pub(super) fn series_stats(s: &Series, tol: f64) -> SeriesStats {
    let (direction, direction_source) = match s.direction {
        Some(d) => (d, DirectionSource::Recorded),
        None => match infer_direction(&s.name) {
            Some(d) => (d, DirectionSource::Name),
            None => (Direction::Minimize, DirectionSource::Assumed),
        },
    };
    let finite: Vec<_> = s.points.iter().filter(|p| p.value.is_finite()).collect();
    let mut st = SeriesStats {
        name: s.name.clone(),
        algorithm: s.algorithm.clone(),
        main: s.main,
        direction,
        direction_source,
        points: s.points.len(),
        first: finite.first().map(|p| p.value),
        best: None,
        final_value: finite.last().map(|p| p.value),
        best_iter: None,
        best_t_s: None,
        converged_iter: None,
        converged_t_s: None,
        stagnation_iters: None,
        mean_s_per_iter: None,
    };
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
        for (p, so_far) in best_so_far(direction, finite.iter().copied()) {
            if (so_far - b.value).abs() <= margin {
                st.converged_iter = Some(p.iter);
                st.converged_t_s = Some(p.t_s);
                break;
            }
        }
        if let Some(last) = finite.last() {
            st.stagnation_iters = Some(last.iter - b.iter);
        }
    }
    if let (Some(a), Some(z)) = (s.points.first(), s.points.last()) {
        if z.iter > a.iter && z.t_s >= a.t_s {
            st.mean_s_per_iter = Some((z.t_s - a.t_s) / (z.iter - a.iter) as f64);
        }
    }
    st
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::Point;

    fn series(name: &str, dir: Option<Direction>, vals: &[f64]) -> Series {
        Series {
            name: name.into(),
            algorithm: None,
            source: "protocol".into(),
            direction: dir,
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

    #[test]
    fn minimize_known_values() {
        let s = series("loss", None, &[10.0, 5.0, 2.0, 1.005, 1.0, 1.2, 1.1]);
        let st = series_stats(&s, 0.01);
        assert_eq!(st.direction, Direction::Minimize);
        assert_eq!(st.direction_source, DirectionSource::Name);
        assert_eq!(st.first, Some(10.0));
        assert_eq!(st.best, Some(1.0));
        assert_eq!(st.final_value, Some(1.1));
        assert_eq!(st.best_iter, Some(4));
        assert_eq!(st.best_t_s, Some(2.0));
        // 1.005 is within 1% of 1.0.
        assert_eq!(st.converged_iter, Some(3));
        assert_eq!(st.converged_t_s, Some(1.5));
        assert_eq!(st.stagnation_iters, Some(2));
        assert_eq!(st.mean_s_per_iter, Some(0.5));
        assert_eq!(st.points, 7);
    }

    #[test]
    fn maximize_recorded_and_assumed() {
        let s = series("q", Some(Direction::Maximize), &[1.0, 3.0, 2.0]);
        let st = series_stats(&s, 0.01);
        assert_eq!(st.best, Some(3.0));
        assert_eq!(st.direction_source, DirectionSource::Recorded);
        let s = series("q", None, &[1.0, 3.0, 2.0]);
        let st = series_stats(&s, 0.01);
        assert_eq!(st.direction_source, DirectionSource::Assumed);
        assert_eq!(st.best, Some(1.0));
        assert_eq!(st.stagnation_iters, Some(2));
    }

    #[test]
    fn names_infer_direction() {
        assert_eq!(infer_direction("val_acc"), Some(Direction::Maximize));
        assert_eq!(infer_direction("best-fitness"), Some(Direction::Maximize));
        assert_eq!(infer_direction("train loss"), Some(Direction::Minimize));
        assert_eq!(infer_direction("x"), None);
    }

    #[test]
    fn non_finite_and_empty() {
        let st = series_stats(&series("loss", None, &[f64::NAN, 2.0, f64::INFINITY]), 0.01);
        assert_eq!(st.first, Some(2.0));
        assert_eq!(st.best, Some(2.0));
        assert_eq!(st.final_value, Some(2.0));
        let st = series_stats(&series("loss", None, &[]), 0.01);
        assert_eq!(st.best, None);
        assert_eq!(st.mean_s_per_iter, None);
    }

    #[test]
    fn zero_best_uses_absolute_tolerance() {
        let st = series_stats(&series("err", None, &[1.0, 0.005, 0.0]), 0.01);
        assert_eq!(st.converged_iter, Some(1));
    }
}
