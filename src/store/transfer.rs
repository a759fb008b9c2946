//! Whole runs outside the database: the lossless JSON export format (`perfmon export`/`import`),
//! and the fallback file a run goes to when the database does not take it, so it is never lost.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{RunWriter, Store, StoreError};
use crate::model::RunRecord;

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

/// The export document of `runs`, as one line of JSON.
pub fn to_json(runs: Vec<RunRecord>) -> serde_json::Result<String> {
    let doc = ExportDoc {
        perfmon_export: EXPORT_FORMAT,
        perfmon_version: env!("CARGO_PKG_VERSION").to_string(),
        runs,
    };
    let mut s = serde_json::to_string(&doc)?;
    s.push('\n');
    Ok(s)
}

/// Stores a whole record as a new run and returns its id.
pub fn store_record(store: &mut Store, rec: &mut RunRecord) -> Result<i64, StoreError> {
    let id = store.begin_run(&rec.meta)?;
    rec.meta.id = id;
    RunWriter::new(id).finish(store, rec)?;
    Ok(id)
}

/// Writes a run that could not be saved to a fallback export file; returns its path. Tries the
/// database's directory, then the temporary directory, then the working directory.
pub fn write_fallback(db: &Path, rec: &RunRecord) -> std::io::Result<PathBuf> {
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
    Err(last_err.unwrap_or_else(|| std::io::Error::other("no place to write the fallback file")))
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
