//! `perfmon export RUN...` and `perfmon import FILE...`: a lossless JSON round trip of whole runs
//! (metadata, totals, samples, process tracks, timers, series), so CI jobs can carry runs between
//! machines as artifacts. The same format is the fallback file `perfmon run` writes when it
//! cannot save a run to the database.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::cli::{ExportArgs, ImportArgs};
use crate::model::RunRecord;
use crate::store::{RunWriter, Store};

/// Version of the export format; bumped only for breaking changes.
pub const EXPORT_FORMAT: u32 = 1;

/// The exported document.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExportDoc {
    /// Always `EXPORT_FORMAT`; identifies the file as a perfmon export.
    pub perfmon_export: u32,
    pub perfmon_version: String,
    pub runs: Vec<RunRecord>,
}

pub fn export(db: &Path, a: &ExportArgs) -> Result<i32> {
    let store = Store::open_readonly(db)?;
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

fn to_json(runs: Vec<RunRecord>) -> Result<String> {
    let doc = ExportDoc {
        perfmon_export: EXPORT_FORMAT,
        perfmon_version: env!("CARGO_PKG_VERSION").to_string(),
        runs,
    };
    let mut s = serde_json::to_string(&doc)?;
    s.push('\n');
    Ok(s)
}

pub fn import(db: &Path, a: &ImportArgs) -> Result<i32> {
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
        for mut rec in doc.runs {
            let old = rec.meta.id;
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
        eprintln!(
            "perfmon: imported {} run(s) from {}: {}",
            ids.len(),
            file.display(),
            ids.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    Ok(0)
}

/// Stores a whole record as a new run and returns its id.
pub fn store_record(store: &mut Store, rec: &mut RunRecord) -> Result<i64> {
    let id = store.begin_run(&rec.meta)?;
    rec.meta.id = id;
    RunWriter::new(id).finish(store, rec)?;
    Ok(id)
}

/// Writes a run that could not be saved to a fallback export file; returns its path. Tries the
/// database's directory, then the temporary directory, then the working directory.
pub fn write_fallback(db: &Path, rec: &RunRecord) -> Result<PathBuf> {
    let json = to_json(vec![rec.clone()])?;
    let name = format!(
        "perfmon-unsaved-{}-{}.json",
        rec.meta.started_at_ms,
        std::process::id()
    );
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(d) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        dirs.push(d.to_path_buf());
    }
    dirs.push(std::env::temp_dir());
    dirs.push(PathBuf::from("."));
    let mut last_err = None;
    for d in dirs {
        let p = d.join(&name);
        match write_private(&p, json.as_bytes()) {
            Ok(()) => return Ok(p),
            Err(e) => last_err = Some(e),
        }
    }
    match last_err {
        Some(e) => Err(e.into()),
        None => anyhow::bail!("no place to write the fallback file"),
    }
}

fn write_private(p: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(p)?;
    f.write_all(data)?;
    f.sync_all()
}
