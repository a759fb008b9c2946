//! Which way is better for each series, and who said so. The one place directions are inferred
//! (the parser only records what the output or the protocol states):
//!
//! 1. stated with the series: `--direction`, perfmon.toml `[directions]`, the protocol's
//!    `direction=`, a statement in the output (`direction: maximize`, `mode=max`), the `min`/`max`
//!    columns' trend;
//! 2. a running best in the output (`best_value` next to `value`, `Best is trial 7 with value:
//!    0.98`): the direction in which it follows the series;
//! 3. the name (`loss` → minimize, `accuracy` → maximize);
//! 4. else minimize, marked as assumed.

use super::series::finite_values;
use crate::model::{Direction, DirectionFrom, Series};
use crate::parse::lex::words;
use crate::parse::names::infer_direction;

/// Where the direction used for a series came from. The names are a contract (JSON
/// `direction_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectionSource {
    /// Stated with the series: `recorded` (the protocol's `direction=`), `output`, `option`,
    /// `config` or `trend` (see [`DirectionFrom`]).
    Stated(DirectionFrom),
    /// A running best of the output follows the series' maximum (or minimum).
    Best,
    /// Inferred from the series' name (`loss` → minimize, `accuracy` → maximize).
    Name,
    /// Nothing said which is better: minimize is assumed.
    Assumed,
}

/// The protocol's `direction=` (and series stored before the source was recorded).
pub const RECORDED: DirectionSource = DirectionSource::Stated(DirectionFrom::Protocol);

impl DirectionSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DirectionSource::Stated(from) => from.as_str(),
            DirectionSource::Best => "best",
            DirectionSource::Name => "name",
            DirectionSource::Assumed => "assumed",
        }
    }
}

/// For each series, the direction in which a running best of the output follows it: a series
/// `best_X` / `best X` / `X_best` whose values are the running maximum (or minimum) of `X` at the
/// same iterations. Both the series and its running best get that direction. A running best on
/// its own (`best`, `fbest`, `best_fitness` with no `fitness`) gets the direction it moves in.
pub fn best_tracking(series: &[Series]) -> Vec<Option<Direction>> {
    let mut out = vec![None; series.len()];
    for (b, best) in series.iter().enumerate() {
        let lower = best.name.to_ascii_lowercase();
        let Some(base) = ["best_", "best ", "best-"]
            .iter()
            .find_map(|p| lower.strip_prefix(p))
            .or_else(|| lower.strip_suffix("_best"))
        else {
            continue;
        };
        let Some(x) = series.iter().position(|s| {
            s.name.eq_ignore_ascii_case(base) && s.algorithm == best.algorithm && s.role.is_none()
        }) else {
            continue;
        };
        if let Some(d) = follows(&series[x], best) {
            out[x] = Some(d);
            out[b] = Some(d);
        }
    }
    for (b, best) in series.iter().enumerate() {
        if out[b].is_none() && running_best_name(&best.name) {
            out[b] = monotone(best);
        }
    }
    out
}

/// Names of a running best (`best`, `best_fitness`, `fbest`, `incumbent`, `best so far`).
fn running_best_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    words(&lower).any(|w| {
        matches!(
            w.as_str(),
            "best" | "fbest" | "fopt" | "incumbent" | "bestsofar"
        )
    }) || lower.starts_with("best")
}

/// The direction a running best moves in: never down and up at least once is a maximum, never
/// up and down at least once a minimum; None when it goes both ways (the best of each
/// generation, not a running best) or has fewer than 3 points.
fn monotone(s: &Series) -> Option<Direction> {
    let v = finite_values(s);
    if v.len() < 3 {
        return None;
    }
    let (up, down) = v.windows(2).fold((false, false), |(u, d), w| {
        (u || w[1] > w[0], d || w[1] < w[0])
    });
    match (up, down) {
        (true, false) => Some(Direction::Maximize),
        (false, true) => Some(Direction::Minimize),
        _ => None,
    }
}

/// Whether `best` is the running maximum or minimum of `s` at the iterations both have: the one
/// it matches at 90% of them or more, when the two running bests differ somewhere.
fn follows(s: &Series, best: &Series) -> Option<Direction> {
    let (mut hi, mut lo) = (f64::NEG_INFINITY, f64::INFINITY);
    let (mut n, mut as_max, mut as_min, mut differ) = (0usize, 0usize, 0usize, false);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-300);
    let mut j = 0;
    for p in s.points.iter().filter(|p| p.value.is_finite()) {
        hi = hi.max(p.value);
        lo = lo.min(p.value);
        while j < best.points.len() && best.points[j].iter < p.iter {
            j += 1;
        }
        let Some(q) = best.points.get(j).filter(|q| q.iter == p.iter) else {
            continue;
        };
        n += 1;
        as_max += usize::from(close(q.value, hi));
        as_min += usize::from(close(q.value, lo));
        differ |= !close(hi, lo);
    }
    if n < 3 || !differ {
        return None;
    }
    match (as_max * 10 >= n * 9, as_min * 10 >= n * 9) {
        (true, false) => Some(Direction::Maximize),
        (false, true) => Some(Direction::Minimize),
        _ => None,
    }
}

/// The direction of every series of a run and its source, in order.
pub fn directions(series: &[Series]) -> Vec<(Direction, DirectionSource)> {
    series
        .iter()
        .zip(best_tracking(series))
        .map(|(s, b)| resolve(s, b))
        .collect()
}

/// The direction of series `s` and its source, given its running-best hint.
pub fn resolve(s: &Series, best_hint: Option<Direction>) -> (Direction, DirectionSource) {
    if let Some(d) = s.direction {
        let from = s.direction_from.unwrap_or(DirectionFrom::Protocol);
        return (d, DirectionSource::Stated(from));
    }
    if let Some(d) = best_hint {
        return (d, DirectionSource::Best);
    }
    match infer_direction(&s.name) {
        Some(d) => (d, DirectionSource::Name),
        None => (Direction::Minimize, DirectionSource::Assumed),
    }
}

/// `max`, `maximize`, `min`, `minimize` (any case) as a direction.
pub fn parse_direction(s: &str) -> Option<Direction> {
    match s.trim().to_ascii_lowercase().as_str() {
        "max" | "maximize" | "maximise" => Some(Direction::Maximize),
        "min" | "minimize" | "minimise" => Some(Direction::Minimize),
        _ => None,
    }
}

/// `NAME=max|min` (`perfmon run --direction`).
pub fn parse_direction_rule(s: &str) -> Result<(String, Direction), String> {
    let (name, d) = s
        .rsplit_once('=')
        .ok_or_else(|| format!("{s:?}: expected NAME=max or NAME=min"))?;
    let d = parse_direction(d).ok_or_else(|| format!("{s:?}: the direction is max or min"))?;
    if name.trim().is_empty() {
        return Err(format!("{s:?}: the series name is empty"));
    }
    Ok((name.trim().to_string(), d))
}

/// Gives each series named by a rule its direction, the first rule for a name winning (the
/// command line's come before perfmon.toml's). Returns one warning per `--direction` that named
/// no series (perfmon.toml's table serves many commands: a name one run lacks is no mistake).
pub fn apply_directions(
    series: &mut [Series],
    rules: &[(String, Direction, DirectionFrom)],
) -> Vec<String> {
    let mut warnings = Vec::new();
    for (k, (name, d, from)) in rules.iter().enumerate() {
        if rules[..k].iter().any(|r| &r.0 == name) {
            continue;
        }
        let mut hit = false;
        for s in series.iter_mut().filter(|s| &s.name == name) {
            s.direction = Some(*d);
            s.direction_from = Some(*from);
            hit = true;
        }
        if !hit && *from == DirectionFrom::Option {
            warnings.push(format!(
                "--direction names {name:?}, which no series of the run is called"
            ));
        }
    }
    warnings
}

#[cfg(test)]
#[path = "direction_tests.rs"]
mod tests;
