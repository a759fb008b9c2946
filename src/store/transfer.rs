//! Whole runs outside the database: the lossless JSON export format (`perfmon export`/`import`),
//! and the fallback file a run goes to when the database does not take it, so it is never lost.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
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

/// Stores a whole record as a new run (in one transaction) and returns its id.
pub fn store_record(store: &mut Store, rec: &mut RunRecord) -> Result<i64, StoreError> {
    let id = store.insert_whole(rec, None)?;
    rec.meta.id = id;
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

/// What pushing one run did; each carries the run's id in the target store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Copied: the target did not have it.
    Sent(i64),
    /// The target has it already (same UUID): nothing written.
    Already(i64),
    /// The target had it incomplete (a copy of a run still going, or cut short); the finished
    /// run replaced it.
    Replaced(i64),
}

impl Pushed {
    pub fn id(self) -> i64 {
        match self {
            Pushed::Sent(i) | Pushed::Already(i) | Pushed::Replaced(i) => i,
        }
    }
}

/// Copies runs between stores by their UUID: idempotent (a run the target has is not copied
/// again) and resumable (each run goes in one transaction, so a push cut off leaves whole runs
/// or none). Repeat groups are store-local numbers: runs of one source group pushed by one
/// `Pusher` join one new group in the target.
#[derive(Debug, Default)]
pub struct Pusher {
    groups: std::collections::HashMap<i64, i64>,
}

impl Pusher {
    /// The target's id of a source group, once a run of it was pushed.
    pub fn group_there(&self, source: i64) -> Option<i64> {
        self.groups.get(&source).copied()
    }

    /// Pushes run `id` of `src` to `dst`.
    pub fn push(&mut self, src: &Store, id: i64, dst: &mut Store) -> Result<Pushed, StoreError> {
        // The run's row first: a run the target has is not read whole.
        let meta = src.load_run_with(id, &super::LoadParts::NONE)?.meta;
        if meta.uuid.is_empty() {
            return Err(StoreError::Corrupt {
                run_id: id,
                detail: "the run has no UUID".into(),
            });
        }
        let replacing = match dst.find_uuid(&meta.uuid)? {
            Some((there, status)) => {
                let finished_now = status == crate::model::RunStatus::Incomplete
                    && meta.status != crate::model::RunStatus::Incomplete;
                if !finished_now {
                    return Ok(Pushed::Already(there));
                }
                Some(there)
            }
            None => None,
        };
        let mut rec = src.load_run(id)?;
        if let Some(g) = rec.meta.group_id {
            let there = match self.groups.get(&g) {
                Some(t) => *t,
                None => {
                    let t = dst.create_group(rec.meta.name.as_deref())?;
                    self.groups.insert(g, t);
                    t
                }
            };
            rec.meta.group_id = Some(there);
        }
        match dst.insert_whole(&rec, replacing) {
            Ok(there) if replacing.is_some() => Ok(Pushed::Replaced(there)),
            Ok(there) => Ok(Pushed::Sent(there)),
            // Another push of the same run got there first (the UUID is unique).
            Err(e) => match dst.find_uuid(&rec.meta.uuid) {
                Ok(Some((there, _))) => Ok(Pushed::Already(there)),
                _ => Err(e),
            },
        }
    }
}
