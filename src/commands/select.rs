//! Run selections, the sides of `perfmon compare` and the input of `history`:
//!
//! | selection | runs |
//! |---|---|
//! | `17` | run 17 |
//! | `group:3` | every run of group 3 (a `--repeat` group) |
//! | `last` | the latest run, or its whole group when it was part of `--repeat` |
//! | `last:5` | the 5 latest runs that ended `ok` |
//! | `name=main` | every run named `main` that ended `ok` |
//! | `tag:branch=main` | every run tagged `branch=main` that ended `ok` |
//! | `main` (a bare name) | the latest group named `main` (a single run is a group of one) |
//!
//! and the loading of the selected runs (wiring: the store reads, `analyze` computes).

use anyhow::{bail, Context, Result};

use crate::analyze::sides::{run_figures_of, RunFigures};
use crate::model::{RunRecord, RunStatus};
pub use crate::report::Selection;
use crate::store::{ListFilter, Store};

/// Resolves a selection; an empty one is an error naming the selection.
pub fn select(store: &Store, spec: &str) -> Result<Selection> {
    let s = spec.trim();
    let ok_only = |v: Vec<(i64, RunStatus)>| -> Vec<i64> {
        let mut ids: Vec<i64> = v
            .into_iter()
            .filter(|(_, st)| *st == RunStatus::Ok)
            .map(|(id, _)| id)
            .collect();
        ids.reverse();
        ids
    };
    let (label, ids) = if let Some(g) = s.strip_prefix("group:") {
        let g: i64 = g
            .trim()
            .parse()
            .with_context(|| format!("bad selection {spec:?}: group:N needs a number"))?;
        (format!("group {g}"), store.group_runs(g)?)
    } else if let Some(n) = s.strip_prefix("last:") {
        let n: usize = n.trim().parse().ok().filter(|n| *n > 0).with_context(|| {
            format!("bad selection {spec:?}: last:N needs a count of 1 or more")
        })?;
        // Read a few more than N so that failed runs do not shrink the selection.
        let runs = store.list_ids(&ListFilter {
            limit: Some(n.saturating_mul(4)),
            ..ListFilter::default()
        })?;
        let mut ids = ok_only(runs);
        let skip = ids.len().saturating_sub(n);
        ids.drain(..skip);
        (format!("the {n} latest runs"), ids)
    } else if let Some(name) = s.strip_prefix("name=") {
        let runs = store.list_ids(&ListFilter {
            name: Some(name.to_string()),
            ..ListFilter::default()
        })?;
        (format!("runs named {name:?}"), ok_only(runs))
    } else if let Some(tag) = s.strip_prefix("tag:") {
        let (k, v) = tag
            .split_once('=')
            .with_context(|| format!("bad selection {spec:?}: tag:KEY=VALUE"))?;
        let runs = store.list_ids(&ListFilter {
            tags: vec![(k.to_string(), v.to_string())],
            ..ListFilter::default()
        })?;
        (format!("runs tagged {k}={v}"), ok_only(runs))
    } else if let Ok(id) = s.parse::<i64>() {
        let id = store.resolve(&id.to_string())?;
        (format!("run {id}"), vec![id])
    } else {
        // `last` or a bare name: the latest run, widened to its group.
        let id = store.resolve(s)?;
        let meta = store.list_runs(&ListFilter {
            limit: Some(1),
            name: (s != "last").then(|| s.to_string()),
            ..ListFilter::default()
        })?;
        match meta.first().and_then(|m| m.group_id) {
            Some(g) => {
                let ids = store.group_runs(g)?;
                (
                    format!(
                        "group {g} {s:?} ({} run{})",
                        ids.len(),
                        if ids.len() == 1 { "" } else { "s" }
                    ),
                    ids,
                )
            }
            None => (format!("run {id} {s:?}"), vec![id]),
        }
    };
    if ids.is_empty() {
        bail!("selection {spec:?} matches no run (`perfmon list` shows the stored runs)");
    }
    Ok(Selection {
        spec: spec.to_string(),
        label,
        ids,
    })
}

/// The whole records of runs `ids`, in order.
pub fn load_runs(store: &Store, ids: &[i64]) -> Result<Vec<RunRecord>> {
    ids.iter()
        .map(|id| {
            store
                .load_run(*id)
                .with_context(|| format!("cannot read run {id}"))
        })
        .collect()
}

/// The main series and the figures of runs `ids`, in order, analyzed with tolerance `tol`. A
/// large selection is read on two threads, each with its own read-only connection: 10,000 runs
/// must compare within a second.
pub fn load_figures(store: &Store, ids: &[i64], tol: f64) -> Result<Vec<RunFigures>> {
    if ids.len() < 200 {
        return figures_of(store, ids, tol);
    }
    let (a, b) = ids.split_at(ids.len() / 2);
    let path = store.path().to_path_buf();
    let (mut first, second) = std::thread::scope(|sc| {
        let h = sc.spawn(|| -> Result<_> { figures_of(&Store::open_readonly(&path)?, b, tol) });
        let first = figures_of(store, a, tol);
        let second = h
            .join()
            .map_err(|_| anyhow::anyhow!("a reading thread panicked"))?;
        Ok::<_, anyhow::Error>((first?, second?))
    })?;
    first.extend(second);
    Ok(first)
}

fn figures_of(store: &Store, ids: &[i64], tol: f64) -> Result<Vec<RunFigures>> {
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        // Samples only matter for GPU figures: a side of thousands of runs stays fast.
        let mut rec = store
            .load_run_summary(id)
            .with_context(|| format!("cannot read run {id}"))?;
        if !rec.gpus.is_empty() {
            rec = store
                .load_run(id)
                .with_context(|| format!("cannot read run {id}"))?;
        }
        out.push(run_figures_of(&rec, tol));
    }
    Ok(out)
}
