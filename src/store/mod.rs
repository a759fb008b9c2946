//! SQLite storage of runs: schema and migrations, the compressed sample codec, incremental
//! writing during a run and reading back. Knows nothing of the CLI, the runner or reports.
//!
//! INTERFACE (filled in by the storage work; the runner and reports rely on these signatures):
//! - [`Store::open`] creates the file (0600, directory 0700) and migrates it.
//! - [`Store::begin_run`] inserts a run marked `incomplete` and returns its id.
//! - [`RunWriter`] drains sealed sample chunks out of the in-memory tail at each flush, so
//!   perfmon's memory stays bounded over long runs; [`RunWriter::finish`] writes the final record.
//! - [`Store::load_run`], [`Store::list_runs`], [`Store::resolve`] read runs back.

use std::path::Path;

use crate::model::{RunMeta, RunRecord};

/// Storage errors a caller may branch on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("no run matches {0:?}")]
    NoSuchRun(String),
    #[error("{0}")]
    Other(String),
}

pub struct Store {
    _conn: rusqlite::Connection,
}

/// A filter for [`Store::list_runs`].
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub limit: Option<usize>,
    pub name: Option<String>,
    pub tags: Vec<(String, String)>,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = rusqlite::Connection::open(path).map_err(|e| StoreError::Sqlite {
            path: path.display().to_string(),
            source: e,
        })?;
        Ok(Store { _conn: conn })
    }

    pub fn begin_run(&mut self, _meta: &RunMeta) -> Result<i64, StoreError> {
        Err(StoreError::Other("not yet".into()))
    }

    /// Resolves `last`, a numeric id, or a name (its latest run) to a run id.
    pub fn resolve(&self, spec: &str) -> Result<i64, StoreError> {
        Err(StoreError::NoSuchRun(spec.to_string()))
    }

    pub fn load_run(&self, _id: i64) -> Result<RunRecord, StoreError> {
        Err(StoreError::Other("not yet".into()))
    }

    /// Creates a group of repeated runs; runs join it through `RunMeta::group_id`.
    pub fn create_group(&mut self, _name: Option<&str>) -> Result<i64, StoreError> {
        Err(StoreError::Other("not yet".into()))
    }

    /// Deletes runs and their samples; returns how many existed.
    pub fn delete_runs(&mut self, _ids: &[i64]) -> Result<usize, StoreError> {
        Ok(0)
    }

    /// Newest first.
    pub fn list_runs(&self, _filter: &ListFilter) -> Result<Vec<RunMeta>, StoreError> {
        Ok(Vec::new())
    }
}

/// Writes one run incrementally.
pub struct RunWriter {
    pub run_id: i64,
}

impl RunWriter {
    pub fn new(run_id: i64) -> RunWriter {
        RunWriter { run_id }
    }

    /// Writes what is new in `rec` since the last flush. Full chunks of samples (and of process
    /// tracks) are encoded, written once and removed from `rec`; the partial tail chunk is
    /// rewritten at each flush. Timers, series and marks are rewritten or appended.
    pub fn flush(&mut self, _store: &mut Store, _rec: &mut RunRecord) -> Result<(), StoreError> {
        Ok(())
    }

    /// Final flush: everything left, totals, status, exit code, wall time.
    pub fn finish(self, _store: &mut Store, _rec: &mut RunRecord) -> Result<(), StoreError> {
        Ok(())
    }
}
