//! `perfmon history [SELECTION] --metric wall`: a metric over stored runs in time order, with the
//! commit of each, and the change points where a shift began. Wiring only: the points and change
//! points are `analyze::history`, the output `report::history`.

use crate::store::Location;
use anyhow::{Context, Result};

use super::select;
use crate::analyze::changepoint::ChangePointOptions;
use crate::analyze::figures::figure_of;
use crate::analyze::history::{histories_by_name, RunValue};
use crate::analyze::spec::Metric;
use crate::cli::{HistoryArgs, HistoryFormat};
use crate::model::{RunMeta, RunStatus};
use crate::report::history::HistoryDocument;
use crate::report::json_text;
use crate::store::{ListFilter, LoadParts, Store};

pub fn history(db: &Location, a: &HistoryArgs) -> Result<i32> {
    let store = super::open_readonly(db)?;
    let metric = &a.metric;
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
    let mut values = Vec::with_capacity(metas.len());
    // A few hundred records at a time: only their values are kept.
    for chunk in metas.chunks(500) {
        let ids: Vec<i64> = chunk.iter().map(|m| m.id).collect();
        let recs = store
            .load_many(&ids, &parts)
            .context("cannot read the runs of the history")?;
        for (m, rec) in chunk.iter().zip(recs) {
            let Some(value) = figure_of(&rec, &crate::analyze::analyze(&rec), metric) else {
                continue;
            };
            values.push(RunValue {
                name: m.name.clone(),
                run_id: m.id,
                group_id: m.group_id,
                started_at_ms: m.started_at_ms,
                commit: m.git.as_ref().map(|g| g.commit.clone()),
                value,
            });
        }
    }
    let opts = ChangePointOptions {
        min_size: a.min_size,
        sig_level: a.sig_level,
        ..ChangePointOptions::default()
    };
    // Runs of different names are different workloads: never one series.
    let hs = histories_by_name(values, &opts);
    let m = metric.to_string();
    let doc = HistoryDocument {
        metric: &m,
        selection: a.selection.as_deref(),
        hs: &hs,
    };
    let out = match a.format {
        HistoryFormat::Png => {
            let Some(path) = &a.output else {
                anyhow::bail!("--format png needs --output FILE");
            };
            if hs.is_empty() {
                anyhow::bail!("nothing to chart: no run of the selection measured {m}");
            }
            std::fs::write(path, doc.png()?)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("perfmon: wrote {}", path.display());
            return Ok(0);
        }
        HistoryFormat::Text => doc.text(),
        HistoryFormat::Json => json_text(&doc.json())?,
    };
    match &a.output {
        Some(p) => {
            std::fs::write(p, out).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => super::write_stdout(&out)?,
    }
    Ok(0)
}

/// The forms a history's selection takes, for the hints of errors.
const FORMS: &str = "history selects runs by a name, `name=NAME`, `tag:KEY=VALUE` or `host:NAME`";

/// The runs of a history, oldest first: `ok` runs of the selection (default: all), at most
/// `limit` of the newest.
fn select_metas(store: &Store, sel: Option<&str>, limit: usize) -> Result<Vec<RunMeta>> {
    let mut f = ListFilter {
        limit: Some(limit.saturating_mul(2).max(limit)),
        ..ListFilter::default()
    };
    let mut host = None;
    match sel {
        None => {}
        Some(s) if s.starts_with("tag:") => {
            let (k, v) = s[4..]
                .split_once('=')
                .with_context(|| format!("bad selection {s:?}: tag:KEY=VALUE; {FORMS}"))?;
            f.tags = vec![(k.to_string(), v.to_string())];
        }
        Some(s) if s.starts_with("host:") => {
            host = select::host_of(s)
                .transpose()
                .map_err(|why| anyhow::anyhow!("bad selection {s:?}: {why}; {FORMS}"))?;
        }
        Some(s) => f.name = Some(s.strip_prefix("name=").unwrap_or(s).to_string()),
    }
    let metas = match host {
        Some(h) => select::on_host(store, &f, h)?,
        None => store.list_runs(&f)?,
    };
    let mut v: Vec<RunMeta> = metas
        .into_iter()
        .filter(|m| m.status == RunStatus::Ok)
        .take(limit)
        .collect();
    v.reverse();
    if v.is_empty() {
        anyhow::bail!(
            "no finished runs {}: {FORMS} (`perfmon list` shows the stored runs)",
            sel.map(|s| format!("match {s:?}"))
                .unwrap_or_else(|| "are stored".into())
        );
    }
    Ok(v)
}
