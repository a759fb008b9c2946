//! Parsers of option values other than durations: tags, chart sizes, significance levels and the
//! `--fail-on`, `--budget` and `--metric` specs (the spec syntax itself is `analyze::spec`).

/// A parsed `--fail-on` (one value: clap would take a bare Vec for a repeated option).
#[derive(Debug, Clone)]
pub struct FailOnSpec(pub Vec<crate::analyze::spec::Threshold>);

/// A parsed `--budget`.
#[derive(Debug, Clone)]
pub struct BudgetSpec(pub Vec<crate::analyze::spec::Budget>);

pub(super) fn parse_fail_on_arg(s: &str) -> Result<FailOnSpec, String> {
    crate::analyze::spec::parse_fail_on(s)
        .map(FailOnSpec)
        .map_err(|e| e.to_string())
}

pub(super) fn parse_metric_arg(s: &str) -> Result<crate::analyze::spec::Metric, String> {
    crate::analyze::spec::Metric::parse(s).map_err(|e| e.to_string())
}

pub(super) fn parse_alpha(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(a) if a > 0.0 && a < 1.0 => Ok(a),
        _ => Err(format!(
            "bad alpha {s:?}: a number between 0 and 1, like 0.05"
        )),
    }
}

/// A finite number of at least 0 (a tolerance, an effect size in %): `nan`, `inf` and
/// negatives are refused in one line.
pub(super) fn parse_nonneg(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!(
            "bad value {s:?}: a number of at least 0, like 0.01"
        )),
    }
}

/// A finite number (a target value): `nan` and `inf` are refused in one line.
pub(super) fn parse_finite(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(format!("bad value {s:?}: a finite number, like 0.5 or -12")),
    }
}

pub(super) fn parse_budget_arg(s: &str) -> Result<BudgetSpec, String> {
    let b = crate::analyze::spec::parse_budget(s).map_err(|e| e.to_string())?;
    let bad = crate::analyze::budget::unsupported(&b);
    if !bad.is_empty() {
        return Err(format!(
            "{} cannot be watched during a run (use perfmon compare for series and timers)",
            bad.join(", ")
        ));
    }
    Ok(BudgetSpec(b))
}

/// Parses `key=value`; the key is letters, digits, `_`, `-`, `.`, `/`.
pub fn parse_tag(s: &str) -> Result<(String, String), String> {
    let Some((k, v)) = s.split_once('=') else {
        return Err(format!("bad tag {s:?}: expected KEY=VALUE"));
    };
    if k.is_empty()
        || !k
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
    {
        return Err(format!(
            "bad tag {s:?}: the key must be letters, digits, '_', '-', '.' or '/'"
        ));
    }
    Ok((k.to_string(), v.to_string()))
}

/// A hostname to select runs by (`list --host`): anything but empty.
pub(super) fn parse_host(s: &str) -> Result<String, String> {
    let h = s.trim();
    if h.is_empty() {
        return Err("a host is a hostname, as `perfmon report` shows it: not empty".into());
    }
    Ok(h.to_string())
}

pub(super) fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("bad size {s:?}: expected WIDTHxHEIGHT, like 1200x800");
    let (w, h) = s.split_once('x').ok_or_else(bad)?;
    let w: u32 = w.parse().map_err(|_| bad())?;
    let h: u32 = h.parse().map_err(|_| bad())?;
    if !(200..=10000).contains(&w) || !(150..=10000).contains(&h) {
        return Err(format!("bad size {s:?}: width 200-10000, height 150-10000"));
    }
    Ok((w, h))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(
            parse_tag("branch=main").unwrap(),
            ("branch".into(), "main".into())
        );
        assert_eq!(parse_tag("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_tag("novalue").is_err());
        assert!(parse_tag("=x").is_err());
        assert!(parse_tag("a b=x").is_err());
    }
}
