//! The small languages users write in CI files and `perfmon.toml`: regression thresholds
//! (`--fail-on 'wall>5%,peak_rss>10%,timer:Data Loading>10%,best>1%'`) and budgets
//! (`--budget 'wall<10m,peak_tree_rss<4GiB,gpu_mem<20GiB,cpu_mean<1.5cores'`). These are
//! contracts: names and syntax only ever grow. Pure parsing with typed errors.

use std::fmt;

/// A metric of a run that thresholds and budgets can name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// Wall time, s (`wall`).
    Wall,
    /// CPU user + system, s (`cpu`).
    Cpu,
    CpuUser,
    CpuSystem,
    /// Mean CPU in cores over the run (`cpu_mean`).
    CpuMean,
    /// Largest single-process RSS, bytes (`peak_rss`).
    PeakRss,
    /// Largest sampled tree RSS, bytes (`peak_tree_rss`).
    PeakTreeRss,
    IoRead,
    IoWrite,
    /// Peak GPU memory used over all devices, bytes (`gpu_mem`).
    GpuMem,
    /// Mean GPU utilization, % (`gpu_util`).
    GpuUtil,
    /// Total time of a timer, s (`timer:NAME`).
    Timer(String),
    /// Best value of a series; None is the run's main series (`best`, `best:NAME`).
    Best(Option<String>),
    /// Final value of a series (`final`, `final:NAME`).
    Final(Option<String>),
    /// Iterations to converge (`converge_iter`, `converge_iter:NAME`).
    ConvergeIter(Option<String>),
    /// Seconds to converge (`converge_time`, `converge_time:NAME`).
    ConvergeTime(Option<String>),
}

/// Names accepted in specs, for error messages and the README.
pub const METRIC_NAMES: &str = "wall, cpu, cpu_user, cpu_system, cpu_mean, peak_rss, \
peak_tree_rss, io_read, io_write, gpu_mem, gpu_util, timer:NAME, best[:SERIES], final[:SERIES], \
converge_iter[:SERIES], converge_time[:SERIES]";

impl Metric {
    /// Parses a metric name such as `wall`, `timer:Data Loading` or `best:loss`.
    pub fn parse(s: &str) -> Result<Metric, SpecError> {
        let s = s.trim();
        let (head, arg) = match s.split_once(':') {
            Some((h, a)) => (h.trim(), Some(a.trim().to_string())),
            None => (s, None),
        };
        if arg.as_deref() == Some("") {
            return Err(SpecError::BadMetric(s.to_string()));
        }
        let plain = |m: Metric| {
            if arg.is_some() {
                Err(SpecError::BadMetric(s.to_string()))
            } else {
                Ok(m)
            }
        };
        match head {
            "wall" => plain(Metric::Wall),
            "cpu" => plain(Metric::Cpu),
            "cpu_user" => plain(Metric::CpuUser),
            "cpu_system" => plain(Metric::CpuSystem),
            "cpu_mean" => plain(Metric::CpuMean),
            "peak_rss" => plain(Metric::PeakRss),
            "peak_tree_rss" => plain(Metric::PeakTreeRss),
            "io_read" => plain(Metric::IoRead),
            "io_write" => plain(Metric::IoWrite),
            "gpu_mem" => plain(Metric::GpuMem),
            "gpu_util" => plain(Metric::GpuUtil),
            "timer" => arg
                .map(Metric::Timer)
                .ok_or_else(|| SpecError::BadMetric(s.to_string())),
            "best" => Ok(Metric::Best(arg)),
            "final" => Ok(Metric::Final(arg)),
            "converge_iter" => Ok(Metric::ConvergeIter(arg)),
            "converge_time" => Ok(Metric::ConvergeTime(arg)),
            _ => Err(SpecError::BadMetric(s.to_string())),
        }
    }

    /// The unit values of this metric are measured in.
    pub fn unit(&self) -> Unit {
        match self {
            Metric::Wall
            | Metric::Cpu
            | Metric::CpuUser
            | Metric::CpuSystem
            | Metric::Timer(_)
            | Metric::ConvergeTime(_) => Unit::Seconds,
            Metric::CpuMean => Unit::Cores,
            Metric::PeakRss
            | Metric::PeakTreeRss
            | Metric::IoRead
            | Metric::IoWrite
            | Metric::GpuMem => Unit::Bytes,
            Metric::GpuUtil => Unit::Percent,
            Metric::Best(_) | Metric::Final(_) | Metric::ConvergeIter(_) => Unit::Plain,
        }
    }

    /// True when a larger value is worse for every run (times and resources). Series values
    /// depend on the series' direction and are decided by the caller.
    pub fn higher_is_worse(&self) -> Option<bool> {
        match self {
            Metric::Best(_) | Metric::Final(_) => None,
            Metric::GpuUtil => Some(false),
            _ => Some(true),
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |f: &mut fmt::Formatter<'_>, head: &str, a: &Option<String>| match a {
            Some(a) => write!(f, "{head}:{a}"),
            None => write!(f, "{head}"),
        };
        match self {
            Metric::Wall => write!(f, "wall"),
            Metric::Cpu => write!(f, "cpu"),
            Metric::CpuUser => write!(f, "cpu_user"),
            Metric::CpuSystem => write!(f, "cpu_system"),
            Metric::CpuMean => write!(f, "cpu_mean"),
            Metric::PeakRss => write!(f, "peak_rss"),
            Metric::PeakTreeRss => write!(f, "peak_tree_rss"),
            Metric::IoRead => write!(f, "io_read"),
            Metric::IoWrite => write!(f, "io_write"),
            Metric::GpuMem => write!(f, "gpu_mem"),
            Metric::GpuUtil => write!(f, "gpu_util"),
            Metric::Timer(n) => write!(f, "timer:{n}"),
            Metric::Best(a) => opt(f, "best", a),
            Metric::Final(a) => opt(f, "final", a),
            Metric::ConvergeIter(a) => opt(f, "converge_iter", a),
            Metric::ConvergeTime(a) => opt(f, "converge_time", a),
        }
    }
}

/// The unit of a metric's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Bytes,
    Cores,
    Percent,
    Plain,
}

/// One `--fail-on` item: fail when the candidate is worse than the base by more than `pct` %.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub metric: Metric,
    pub pct: f64,
}

/// One `--budget` item: the run must stay below `limit` (in the metric's base unit).
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    pub metric: Metric,
    pub limit: f64,
}

/// A malformed spec; the message names the offending item.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    #[error("unknown metric {0:?} (known: {METRIC_NAMES})")]
    BadMetric(String),
    #[error("bad --fail-on item {0:?}: expected METRIC>N% such as wall>5%")]
    BadThreshold(String),
    #[error("bad --budget item {0:?}: expected METRIC<VALUE such as wall<10m or peak_rss<4GiB")]
    BadBudget(String),
    #[error("bad value {value:?} for {metric}: {reason}")]
    BadValue {
        metric: String,
        value: String,
        reason: String,
    },
    #[error("empty spec")]
    Empty,
}

/// Parses `wall>5%,peak_rss>10%,timer:Data Loading>10%,best>1%`.
pub fn parse_fail_on(spec: &str) -> Result<Vec<Threshold>, SpecError> {
    let mut out = Vec::new();
    for item in split_items(spec)? {
        let (m, v) = item
            .rsplit_once('>')
            .ok_or_else(|| SpecError::BadThreshold(item.to_string()))?;
        let metric = Metric::parse(m)?;
        let v = v.trim();
        let num = v
            .strip_suffix('%')
            .ok_or_else(|| SpecError::BadThreshold(item.to_string()))?;
        let pct: f64 = num.trim().parse().map_err(|_| SpecError::BadValue {
            metric: metric.to_string(),
            value: v.to_string(),
            reason: "not a number".into(),
        })?;
        if !pct.is_finite() || pct < 0.0 {
            return Err(SpecError::BadValue {
                metric: metric.to_string(),
                value: v.to_string(),
                reason: "must be a percentage of 0 or more".into(),
            });
        }
        out.push(Threshold { metric, pct });
    }
    Ok(out)
}

/// Parses `wall<10m,peak_tree_rss<4GiB,gpu_mem<20GiB,cpu_mean<1.5cores`.
pub fn parse_budget(spec: &str) -> Result<Vec<Budget>, SpecError> {
    let mut out = Vec::new();
    for item in split_items(spec)? {
        let (m, v) = item
            .rsplit_once('<')
            .ok_or_else(|| SpecError::BadBudget(item.to_string()))?;
        let metric = Metric::parse(m)?;
        let limit = parse_value(&metric, v.trim())?;
        out.push(Budget { metric, limit });
    }
    Ok(out)
}

fn split_items(spec: &str) -> Result<Vec<&str>, SpecError> {
    let items: Vec<&str> = spec
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() {
        return Err(SpecError::Empty);
    }
    Ok(items)
}

/// Seconds in one `unit` of a duration: `ms`, `s` (or `sec`), `m` (or `min`), `h`, `d`. The one
/// duration syntax of budgets, `--interval` and `gc --older-than`; no unit is no duration.
pub fn seconds_per(unit: &str) -> Option<f64> {
    Some(match unit {
        "ms" => 1e-3,
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return None,
    })
}

/// A value with a unit suited to the metric: `10m`, `90s`, `4GiB`, `500MB`, `1.5cores`, `80%`.
pub fn parse_value(metric: &Metric, v: &str) -> Result<f64, SpecError> {
    let bad = |reason: &str| SpecError::BadValue {
        metric: metric.to_string(),
        value: v.to_string(),
        reason: reason.to_string(),
    };
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e'))
        .unwrap_or(v.len());
    // `e` may start a unit only when no digit follows; units here never start with e.
    let (num, unit) = v.split_at(split);
    let x: f64 = num.parse().map_err(|_| bad("not a number"))?;
    if !x.is_finite() || x < 0.0 {
        return Err(bad("must be 0 or more"));
    }
    let unit = unit.trim();
    let factor = match metric.unit() {
        Unit::Seconds => match seconds_per(unit) {
            Some(f) => f,
            None if unit.is_empty() => {
                return Err(bad(&format!("a duration needs a unit: {num}s, {num}m")))
            }
            None => return Err(bad("expected a duration unit: ms, s, m, h or d")),
        },
        Unit::Bytes => match unit {
            "" | "B" => 1.0,
            "K" | "KiB" => 1024.0,
            "M" | "MiB" => 1024.0 * 1024.0,
            "G" | "GiB" => 1024.0 * 1024.0 * 1024.0,
            "T" | "TiB" => 1024.0_f64.powi(4),
            "KB" | "kB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            "TB" => 1e12,
            _ => {
                return Err(bad(
                    "expected a size unit: B, KiB, MiB, GiB, TiB, KB, MB, GB",
                ))
            }
        },
        Unit::Cores => match unit {
            "" | "cores" | "core" => 1.0,
            _ => return Err(bad("expected cores, such as 1.5cores")),
        },
        Unit::Percent => match unit {
            "" | "%" => 1.0,
            _ => return Err(bad("expected a percentage")),
        },
        Unit::Plain => match unit {
            "" => 1.0,
            _ => return Err(bad("expected a plain number")),
        },
    };
    Ok(x * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_of_the_issue() {
        let t = parse_fail_on("wall>5%,peak_rss>10%,timer:Data Loading>10%,best>1%")
            .unwrap_or_default();
        assert_eq!(
            t,
            vec![
                Threshold {
                    metric: Metric::Wall,
                    pct: 5.0
                },
                Threshold {
                    metric: Metric::PeakRss,
                    pct: 10.0
                },
                Threshold {
                    metric: Metric::Timer("Data Loading".into()),
                    pct: 10.0
                },
                Threshold {
                    metric: Metric::Best(None),
                    pct: 1.0
                },
            ]
        );
        assert_eq!(
            parse_fail_on(" best:loss > 0.5% ").unwrap_or_default()[0].metric,
            Metric::Best(Some("loss".into()))
        );
    }

    #[test]
    fn fail_on_errors_name_the_item() {
        for bad in [
            "", "wall", "wall>5", "wal>5%", "wall>x%", "wall>-1%", "timer>5%",
        ] {
            let e = parse_fail_on(bad).expect_err(bad).to_string();
            assert!(!e.is_empty() && !e.contains('\n'), "{bad}: {e}");
        }
        assert!(parse_fail_on("wal>5%")
            .expect_err("")
            .to_string()
            .contains("\"wal\""));
    }

    #[test]
    fn budgets_with_units() {
        let b = parse_budget("wall<10m,peak_tree_rss<4GiB,gpu_mem<20GiB,cpu_mean<1.5cores")
            .unwrap_or_default();
        assert_eq!(b.len(), 4);
        assert_eq!(b[0].limit, 600.0);
        assert_eq!(b[1].limit, 4.0 * 1024.0 * 1024.0 * 1024.0);
        assert_eq!(b[3].limit, 1.5);
        assert_eq!(
            parse_budget("wall<250ms").unwrap_or_default()[0].limit,
            0.25
        );
        assert_eq!(
            parse_budget("peak_rss<500MB").unwrap_or_default()[0].limit,
            5e8
        );
        for bad in [
            "wall<10x",
            "peak_rss<4GB<",
            "wall>10m",
            "cpu_mean<2GiB",
            "wall<",
        ] {
            assert!(parse_budget(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bare_duration_in_a_budget_asks_for_a_unit() {
        for bare in ["wall<600", "cpu<2.5", "wall<10m,cpu<30"] {
            let e = parse_budget(bare).map(|_| ()).expect_err(bare).to_string();
            assert!(e.contains("needs a unit"), "{bare}: {e}");
        }
    }

    #[test]
    fn metric_names_round_trip() {
        for s in [
            "wall",
            "cpu",
            "cpu_user",
            "cpu_system",
            "cpu_mean",
            "peak_rss",
            "peak_tree_rss",
            "io_read",
            "io_write",
            "gpu_mem",
            "gpu_util",
            "timer:Data Loading",
            "best",
            "best:loss",
            "final",
            "converge_iter",
            "converge_time:f",
        ] {
            let m = Metric::parse(s).unwrap_or(Metric::Wall);
            assert_eq!(m.to_string(), s);
        }
    }
}
