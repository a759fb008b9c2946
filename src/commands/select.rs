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
//! | `host:gpu-box` | every run recorded on the host named `gpu-box` (exactly) that ended `ok` |
//! | `main` (a bare name) | the latest group named `main` (a single run is a group of one) |
//!
//! The loading of the selected runs is `load` (re-exported here).

use anyhow::{bail, Result};

use crate::model::{RunMeta, RunStatus};
pub use crate::report::Selection;
use crate::store::{ListFilter, Store, StoreError};

/// Every form a selection takes, for the hints of errors.
pub const FORMS: &str =
    "a run id, `last`, `last:N`, `group:N`, `name=NAME`, `tag:KEY=VALUE`, `host:NAME` or a name";

/// The runs of `filter` (newest first) recorded on the host named `host`: its hostname exactly
/// as recorded (case matters). The host is part of each run's metadata, not a column of its
/// own, so this reads the metadata of every run of `filter`, never their samples.
pub fn on_host(store: &Store, filter: &ListFilter, host: &str) -> Result<Vec<RunMeta>> {
    let mut metas = store.list_runs(&ListFilter {
        limit: None,
        ..filter.clone()
    })?;
    metas.retain(|m| m.host.hostname == host);
    if let Some(n) = filter.limit {
        metas.truncate(n);
    }
    Ok(metas)
}

/// The host of a `host:NAME` selection; an empty name is an error (a hostname is never empty).
pub fn host_of(spec: &str) -> Option<Result<&str, String>> {
    let host = spec.strip_prefix("host:")?.trim();
    Some(if host.is_empty() {
        Err("host:NAME needs a hostname (`perfmon report` shows a run's)".to_string())
    } else {
        Ok(host)
    })
}

/// Resolves a selection; an empty one is an error naming the selection and every form.
pub fn select(store: &Store, spec: &str) -> Result<Selection> {
    let bad = |why: &str| anyhow::anyhow!("bad selection {spec:?}: {why}; a selection is {FORMS}");
    let (label, ids) = match ids_of(store, spec.trim(), bad) {
        Err(e) if matches!(e.downcast_ref(), Some(StoreError::NoSuchRun(_))) => {
            (String::new(), vec![])
        }
        r => r?,
    };
    if ids.is_empty() {
        bail!("selection {spec:?} matches no run: a selection is {FORMS} (`perfmon list` shows the stored runs)");
    }
    Ok(Selection {
        spec: spec.to_string(),
        label,
        ids,
    })
}

/// The label and run ids of selection `s`; `bad` makes the error of a malformed one.
fn ids_of(
    store: &Store,
    s: &str,
    bad: impl Fn(&str) -> anyhow::Error,
) -> Result<(String, Vec<i64>)> {
    let ok_only = |v: Vec<(i64, RunStatus)>| -> Vec<i64> {
        let mut ids: Vec<i64> = v
            .into_iter()
            .filter(|(_, st)| *st == RunStatus::Ok)
            .map(|(id, _)| id)
            .collect();
        ids.reverse();
        ids
    };
    Ok(if let Some(g) = s.strip_prefix("group:") {
        let g: i64 = g
            .trim()
            .parse()
            .map_err(|_| bad("group:N needs a number"))?;
        (format!("group {g}"), store.group_runs(g)?)
    } else if let Some(n) = s.strip_prefix("last:") {
        let n: usize = n
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| bad("last:N needs a count of 1 or more"))?;
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
            .ok_or_else(|| bad("tag:KEY=VALUE needs a KEY=VALUE"))?;
        let runs = store.list_ids(&ListFilter {
            tags: vec![(k.to_string(), v.to_string())],
            ..ListFilter::default()
        })?;
        (format!("runs tagged {k}={v}"), ok_only(runs))
    } else if let Some(host) = host_of(s) {
        let host = host.map_err(|why| bad(&why))?;
        let runs = on_host(store, &ListFilter::default(), host)?;
        let runs = runs.into_iter().map(|m| (m.id, m.status)).collect();
        (format!("runs on host {host:?}"), ok_only(runs))
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
                let runs = if ids.len() == 1 { "run" } else { "runs" };
                (format!("group {g} {s:?} ({} {runs})", ids.len()), ids)
            }
            None => (format!("run {id} {s:?}"), vec![id]),
        }
    })
}
