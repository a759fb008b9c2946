//! Durations on the command line (`--interval`, `gc --older-than`): a number and a unit, always.
//! A bare number is refused: `--interval 10` read as 10 s (or 10 ms) was a silent guess.

use std::time::Duration;

/// The units a duration takes, for error messages.
const UNITS: &str = "ms, s, m, h or d";

/// Parses a sampling interval: `100ms`, `0.5s`, `2s`, `1m`, between 1 ms and 1 hour.
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    let d = parse_suggesting(s, ["ms", "s"])?;
    if d < Duration::from_millis(1) {
        return Err(format!("interval {s:?} is too short (at least 1ms)"));
    }
    if d > Duration::from_secs(3600) {
        return Err(format!("interval {s:?} is too long (at most 1h)"));
    }
    Ok(d)
}

/// Parses an age (`gc --older-than`): `30d`, `12h`.
pub fn parse_age(s: &str) -> Result<Duration, String> {
    parse_suggesting(s, ["d", "h"])
}

/// Parses a duration with a unit: `ms`, `s`, `m`, `h`, `d` (the units of budgets); a bare
/// number's error suggests it with the units of `suggest`.
fn parse_suggesting(s: &str, suggest: [&str; 2]) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let unit = unit.trim();
    let v: f64 = num.parse().map_err(|_| {
        format!("bad duration {s:?}: expected a number with a unit, like 100ms or 2s")
    })?;
    if unit.is_empty() {
        return Err(format!(
            "{t} has no unit: write {t}{} or {t}{} (units: {UNITS})",
            suggest[0], suggest[1]
        ));
    }
    let Some(mult) = crate::analyze::spec::seconds_per(unit) else {
        return Err(format!(
            "bad duration {s:?}: unknown unit {unit:?} (use {UNITS})"
        ));
    };
    let secs = v * mult;
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("bad duration {s:?}: must be greater than zero"));
    }
    // from_secs_f64 panics past u64::MAX seconds ("99999999999999999999s").
    Duration::try_from_secs_f64(secs).map_err(|_| format!("bad duration {s:?}: too long"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse_duration(s: &str) -> Result<Duration, String> {
        parse_suggesting(s, ["s", "ms"])
    }

    #[test]
    fn huge_durations_are_errors_not_panics() {
        assert!(parse_duration("99999999999999999999s").is_err());
        assert!(parse_duration("1e400").is_err());
        assert!(parse_interval("99999999999999999999d").is_err());
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("10ms").unwrap(), Duration::from_millis(10));
        assert_eq!(parse_interval("0.5s").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_interval("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_interval("1m").unwrap(), Duration::from_secs(60));
        assert_eq!(
            parse_interval(" 250 ms ").unwrap(),
            Duration::from_millis(250)
        );
        for bad in ["0", "-1", "abc", "", "5x", "0ms", "nan", "1e9s", "2h"] {
            assert!(parse_interval(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn durations_of_every_unit() {
        assert_eq!(
            parse_duration("30d").unwrap(),
            Duration::from_secs(30 * 86400)
        );
        assert_eq!(
            parse_duration("12h").unwrap(),
            Duration::from_secs(12 * 3600)
        );
        assert_eq!(parse_duration("1.5min").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("2sec").unwrap(), Duration::from_secs(2));
    }

    #[test]
    fn a_bare_number_asks_for_a_unit() {
        for bare in ["10", "0.5", "2", " 7 "] {
            let e = parse_interval(bare).unwrap_err();
            let n = bare.trim();
            assert!(
                e.contains(&format!("{n}s")) && e.contains(&format!("{n}ms")),
                "{e}"
            );
            assert!(parse_duration(bare).is_err(), "{bare} accepted");
            let e = parse_age(bare).unwrap_err();
            assert!(
                e.contains(&format!("{n}d")) && e.contains(&format!("{n}h")),
                "{e}"
            );
        }
    }
}
