//! Loading the runs of a selection (wiring: the store reads, `analyze` computes).

use anyhow::{Context, Result};

use crate::analyze::sides::{run_figures_of, RunFigures};
use crate::model::{HostInfo, RunRecord};
use crate::store::{LoadParts, Store};

/// The whole records of runs `ids`, in order.
pub fn load_runs(store: &Store, ids: &[i64]) -> Result<Vec<RunRecord>> {
    store
        .load_many(ids, &LoadParts::ALL)
        .context("cannot read the selection's runs")
}

/// The main series and the figures of runs `ids`, in order, analyzed with tolerance `tol`, each
/// with the host it ran on (read with them: no second pass over the runs). A large selection is read on two threads, each with its own read-only connection: 10,000 runs
/// must compare within a second.
pub fn load_figures(store: &Store, ids: &[i64], tol: f64) -> Result<Vec<(RunFigures, HostInfo)>> {
    if ids.len() < 200 {
        return figures_of(store, ids, tol);
    }
    let (a, b) = ids.split_at(ids.len() / 2);
    let location = store.location().clone();
    let (mut first, second) = std::thread::scope(|sc| {
        let h = sc.spawn(|| -> Result<_> { figures_of(&Store::open_readonly(&location)?, b, tol) });
        let first = figures_of(store, a, tol);
        let second = h
            .join()
            .map_err(|_| anyhow::anyhow!("a reading thread panicked"))?;
        Ok::<_, anyhow::Error>((first?, second?))
    })?;
    first.extend(second);
    Ok(first)
}

fn figures_of(store: &Store, ids: &[i64], tol: f64) -> Result<Vec<(RunFigures, HostInfo)>> {
    let mut out = Vec::with_capacity(ids.len());
    // A few hundred records at a time: only their figures are kept.
    for chunk in ids.chunks(500) {
        // Samples only matter for GPU figures: a side of thousands of runs stays fast.
        let recs = store
            .load_many(chunk, &LoadParts::SUMMARY)
            .context("cannot read the selection's runs")?;
        for rec in recs {
            let rec = match rec.gpus.is_empty() {
                true => rec,
                false => store
                    .load_run(rec.meta.id)
                    .with_context(|| format!("cannot read run {}", rec.meta.id))?,
            };
            out.push((run_figures_of(&rec, tol), rec.meta.host.clone()));
        }
    }
    Ok(out)
}
