//! `perfmon history [SELECTION] --metric wall`: a metric over stored runs in time order, with the
//! commit of each, and the change points where a shift began (E-divisive means with a
//! permutation test, as Hunter and Apache Otava use). Runs of one `--repeat` group make one
//! point (their median), so a CI job that repeats its benchmark gives one point per commit.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;

use crate::analyze::changepoint::{e_divisive, ChangePoint, ChangePointOptions};
use crate::analyze::figures::{main_key, normalize, run_figures};
use crate::analyze::spec::Metric;
use crate::analyze::stats::median;
use crate::cli::{HistoryArgs, HistoryFormat};
use crate::model::{RunMeta, RunStatus};
use crate::report::units::fmt_metric;
use crate::store::{ListFilter, LoadParts, Store};

/// Version of the history JSON.
pub const HISTORY_SCHEMA_VERSION: u32 = 1;

/// One point of the history: a run, or a group of runs.
#[derive(Debug, Clone)]
pub struct Point {
    pub run_ids: Vec<i64>,
    pub started_at_ms: i64,
    pub commit: Option<String>,
    pub value: f64,
}

pub fn history(db: &Path, a: &HistoryArgs) -> Result<i32> {
    let store = Store::open_readonly(db)?;
    let metric = a.metric.clone();
    let metas = select_metas(&store, a.selection.as_deref(), a.limit)?;
    // Read only what the metric needs: 10,000 runs must answer within a second.
    let parts = LoadParts {
        samples: matches!(metric, Metric::GpuMem | Metric::GpuUtil),
        timers: matches!(metric, Metric::Timer(_)),
        series: matches!(
            metric,
            Metric::Best(_) | Metric::Final(_) | Metric::ConvergeIter(_) | Metric::ConvergeTime(_)
        ),
    };
    // Values per run (oldest first), then one point per group.
    let mut by_key: BTreeMap<(i64, i64), Point> = BTreeMap::new();
    let mut values: BTreeMap<(i64, i64), Vec<f64>> = BTreeMap::new();
    // The first run id of each group seen (metas come oldest first).
    let mut group_first: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
    for m in &metas {
        let rec = store
            .load_run_with(m.id, &parts)
            .with_context(|| format!("cannot read run {}", m.id))?;
        let an = crate::analyze::analyze(&rec);
        let main = main_key(&an);
        let want = normalize(&metric, main.as_deref());
        let Some(f) = run_figures(&rec, &an)
            .into_iter()
            .find(|f| f.metric == want)
        else {
            continue;
        };
        // Key: the group's first run id, so a group sorts where it started.
        let key = match m.group_id {
            Some(g) => (*group_first.entry(g).or_insert(m.id), g),
            None => (m.id, -m.id),
        };
        let p = by_key.entry(key).or_insert_with(|| Point {
            run_ids: Vec::new(),
            started_at_ms: m.started_at_ms,
            commit: m.git.as_ref().map(|g| g.commit.clone()),
            value: f64::NAN,
        });
        p.run_ids.push(m.id);
        values.entry(key).or_default().push(f.value);
    }
    let mut points: Vec<Point> = Vec::new();
    for (k, mut p) in by_key {
        p.value = values.get(&k).and_then(|v| median(v)).unwrap_or(f64::NAN);
        points.push(p);
    }
    let series: Vec<f64> = points.iter().map(|p| p.value).collect();
    let cps = e_divisive(
        &series,
        &ChangePointOptions {
            min_size: a.min_size,
            sig_level: a.sig_level,
            ..ChangePointOptions::default()
        },
    );
    let m = metric.to_string();
    let out = match a.format {
        HistoryFormat::Png => {
            let Some(path) = &a.output else {
                anyhow::bail!("--format png needs --output FILE");
            };
            let png = chart(&m, a.selection.as_deref(), &points, &cps)?;
            std::fs::write(path, png)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("perfmon: wrote {}", path.display());
            return Ok(0);
        }
        HistoryFormat::Text => text(&m, a.selection.as_deref(), &points, &cps),
        HistoryFormat::Json => {
            serde_json::to_string_pretty(&to_json(&m, a.selection.as_deref(), &points, &cps))?
                + "\n"
        }
    };
    match &a.output {
        Some(p) => {
            std::fs::write(p, out).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => super::write_stdout(&out)?,
    }
    Ok(0)
}

/// The runs of a history, oldest first: `ok` runs of the selection (default: all), at most
/// `limit` of the newest.
fn select_metas(store: &Store, sel: Option<&str>, limit: usize) -> Result<Vec<RunMeta>> {
    let mut f = ListFilter {
        limit: Some(limit.saturating_mul(2).max(limit)),
        ..ListFilter::default()
    };
    match sel {
        None => {}
        Some(s) if s.starts_with("tag:") => {
            let (k, v) = s[4..]
                .split_once('=')
                .with_context(|| format!("bad selection {s:?}: tag:KEY=VALUE"))?;
            f.tags = vec![(k.to_string(), v.to_string())];
        }
        Some(s) => f.name = Some(s.strip_prefix("name=").unwrap_or(s).to_string()),
    }
    let mut v: Vec<RunMeta> = store
        .list_runs(&f)?
        .into_iter()
        .filter(|m| m.status == RunStatus::Ok)
        .take(limit)
        .collect();
    v.reverse();
    if v.is_empty() {
        anyhow::bail!(
            "no finished runs {}: `perfmon list` shows the stored runs",
            sel.map(|s| format!("match {s:?}"))
                .unwrap_or_else(|| "are stored".into())
        );
    }
    Ok(v)
}

fn short(c: &Option<String>) -> String {
    c.as_deref()
        .map(|c| c.chars().take(10).collect())
        .unwrap_or_else(|| "-".into())
}

fn who(p: &Point) -> String {
    match p.run_ids.as_slice() {
        [one] => format!("run {one}"),
        many => format!(
            "runs {}-{} ({})",
            many.first().copied().unwrap_or(0),
            many.last().copied().unwrap_or(0),
            many.len()
        ),
    }
}

fn text(metric: &str, sel: Option<&str>, points: &[Point], cps: &[ChangePoint]) -> String {
    let mut o = format!(
        "history of {metric} over {} ({} points, oldest first)\n\n",
        sel.map(|s| format!("runs {s:?}"))
            .unwrap_or_else(|| "all runs".into()),
        points.len()
    );
    o.push_str(&format!(
        "{:>4}  {:<22}  {:<19}  {:<10}  {:>12}\n",
        "#", "runs", "started (UTC)", "commit", metric
    ));
    for (i, p) in points.iter().enumerate() {
        let mark = if cps.iter().any(|c| c.index == i) {
            "  <- change"
        } else {
            ""
        };
        let started = crate::report::fmt_rfc3339(p.started_at_ms);
        o.push_str(&format!(
            "{:>4}  {:<22}  {:<19}  {:<10}  {:>12}{mark}\n",
            i + 1,
            who(p),
            started.get(..19).unwrap_or(&started).replace('T', " "),
            short(&p.commit),
            fmt_metric(metric, p.value)
        ));
    }
    o.push('\n');
    if cps.is_empty() {
        o.push_str("change points: none (E-divisive means, permutation test)\n");
    } else {
        o.push_str("change points (E-divisive means, permutation test):\n");
        for c in cps {
            let p = &points[c.index];
            o.push_str(&format!(
                "  at #{} ({}, commit {}): {} -> {} ({}), p = {:.3}\n",
                c.index + 1,
                who(p),
                short(&p.commit),
                fmt_metric(metric, c.mean_before),
                fmt_metric(metric, c.mean_after),
                c.relative_change()
                    .map(|r| format!("{:+.1}%", r * 100.0))
                    .unwrap_or_else(|| "n/a".into()),
                c.p
            ));
        }
    }
    o
}

fn to_json(
    metric: &str,
    sel: Option<&str>,
    points: &[Point],
    cps: &[ChangePoint],
) -> serde_json::Value {
    json!({
        "schema_version": HISTORY_SCHEMA_VERSION,
        "metric": metric,
        "selection": sel,
        "method": "e-divisive means (alpha 1), permutation test",
        "points": points.iter().map(|p| json!({
            "run_ids": p.run_ids,
            "started_at": crate::report::fmt_rfc3339(p.started_at_ms),
            "commit": p.commit,
            "value": p.value,
        })).collect::<Vec<_>>(),
        "change_points": cps.iter().map(|c| json!({
            "index": c.index,
            "run_ids": points[c.index].run_ids,
            "commit": points[c.index].commit,
            "before": c.mean_before,
            "after": c.mean_after,
            "change_pct": c.relative_change().map(|r| r * 100.0),
            "p": c.p,
        })).collect::<Vec<_>>(),
    })
}

/// The metric in display units: (scale divisor, unit label).
pub fn display_unit(metric: &str, max: f64) -> (f64, &'static str) {
    use crate::analyze::spec::{Metric, Unit};
    use crate::report::png::style::{byte_unit, time_unit};
    match Metric::parse(metric).map(|m| m.unit()) {
        Ok(Unit::Seconds) if max < 1.0 => (1e-3, "ms"),
        Ok(Unit::Seconds) => {
            let u = time_unit(max);
            (u.div, u.name)
        }
        Ok(Unit::Bytes) => byte_unit(max),
        Ok(Unit::Cores) => (1.0, "cores"),
        Ok(Unit::Percent) => (1.0, "%"),
        _ => (1.0, ""),
    }
}

fn chart(
    metric: &str,
    sel: Option<&str>,
    points: &[Point],
    cps: &[ChangePoint],
) -> Result<Vec<u8>> {
    use crate::report::png::xy::{render_xy, Mark, VMarker, XyLine, XyPanel};
    let max = points.iter().map(|p| p.value).fold(0.0, f64::max);
    let (div, unit) = display_unit(metric, max);
    let panel = XyPanel {
        x_desc: "point (run or group, oldest first)".into(),
        y_desc: if unit.is_empty() {
            metric.to_string()
        } else {
            format!("{metric} ({unit})")
        },
        lines: vec![XyLine {
            label: metric.to_string(),
            color: crate::report::png::style::color(0),
            pts: points
                .iter()
                .enumerate()
                .map(|(i, p)| ((i + 1) as f64, p.value / div))
                .collect(),
            mark: Mark::LinePoints,
        }],
        markers: cps
            .iter()
            .map(|c| VMarker {
                x: c.index as f64 + 0.5,
                label: c
                    .relative_change()
                    .map(|r| format!(" {:+.1}%", r * 100.0))
                    .unwrap_or_default(),
            })
            .collect(),
        x_range: None,
        y_range: None,
        y_fmt: |v| crate::report::units::fmt_num((v * 1000.0).round() / 1000.0),
    };
    let title = format!("history of {metric}: {} change point(s)", cps.len());
    let sub = format!(
        "{} - {} points; change points by E-divisive means with a permutation test",
        sel.unwrap_or("all runs"),
        points.len()
    );
    Ok(render_xy("history", &title, &sub, &[panel], (1200, 600))?)
}
