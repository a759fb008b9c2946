//! `perfmon export RUN...` and `perfmon import FILE...`: a lossless JSON round trip of whole runs
//! (metadata, totals, samples, process tracks, timers, series), so CI jobs can carry runs between
//! machines as artifacts. The format lives in [`crate::store::transfer`], which also writes the
//! fallback file `perfmon run` leaves when it cannot save a run to the database. A run an older
//! perfmon recorded is redacted on import by today's rules (a warning says so), so a shared
//! store never receives what they hide.

use std::collections::HashMap;
use std::io::Read;

use crate::store::Location;
use anyhow::{Context, Result};

use crate::cli::{ExportArgs, ImportArgs};
use crate::store::transfer::{store_record, to_json, ExportDoc, EXPORT_FORMAT};
use crate::store::Store;

pub fn export(db: &Location, a: &ExportArgs) -> Result<i32> {
    let store = super::open_readonly(db)?;
    let mut runs = Vec::new();
    for spec in &a.runs {
        let id = store.resolve(spec)?;
        runs.push(
            store
                .load_run(id)
                .with_context(|| format!("cannot read run {id}"))?,
        );
    }
    let json = to_json(runs)?;
    match &a.output {
        Some(p) => {
            std::fs::write(p, json).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => super::write_stdout(&json)?,
    }
    Ok(0)
}

pub fn import(db: &Location, a: &ImportArgs) -> Result<i32> {
    let mut store = Store::open(db)?;
    for file in &a.files {
        let mut text = String::new();
        if file.as_os_str() == "-" {
            std::io::stdin().read_to_string(&mut text)?;
        } else {
            text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
        }
        let doc: ExportDoc = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a perfmon export", file.display()))?;
        if doc.perfmon_export > EXPORT_FORMAT {
            anyhow::bail!(
                "{} was written by a newer perfmon (export format {}); upgrade perfmon to import it",
                file.display(),
                doc.perfmon_export
            );
        }
        // Groups are renumbered in this database; runs of one exported group stay together.
        let mut groups: HashMap<i64, i64> = HashMap::new();
        let mut ids = Vec::new();
        let mut already = Vec::new();
        for mut rec in doc.runs {
            let old = rec.meta.id;
            // The same run (its UUID) imported twice is stored once.
            if !rec.meta.uuid.is_empty() {
                if let Some((there, _)) = store.find_uuid(&rec.meta.uuid)? {
                    already.push(there);
                    continue;
                }
            }
            // A run recorded by an older perfmon may hold what today's rules redact.
            if crate::redact::redact_record(&mut rec) {
                eprintln!(
                    "perfmon: warning: run {old} of {} held secret-looking values; they are stored redacted",
                    file.display()
                );
            }
            if let Some(g) = rec.meta.group_id {
                let new = match groups.get(&g) {
                    Some(n) => *n,
                    None => {
                        let n = store.create_group(rec.meta.name.as_deref())?;
                        groups.insert(g, n);
                        n
                    }
                };
                rec.meta.group_id = Some(new);
            }
            let id = store_record(&mut store, &mut rec)
                .with_context(|| format!("cannot import run {old} of {}", file.display()))?;
            ids.push(id);
        }
        let list = |ids: &[i64]| {
            ids.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        eprintln!(
            "perfmon: imported {} run(s) from {}: {}",
            ids.len(),
            file.display(),
            list(&ids)
        );
        if !already.is_empty() {
            eprintln!(
                "perfmon: {} run(s) of {} were here already (same UUID), not imported again: {}",
                already.len(),
                file.display(),
                list(&already)
            );
        }
    }
    Ok(0)
}
