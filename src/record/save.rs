//! The final save of a recorded run: its row rewritten with everything, retried while another
//! process holds the database. What the database does not take goes to a fallback file that
//! `perfmon import` loads, so a run is never lost.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::session::Recorded;
use crate::store::{RunWriter, StoreError};

/// How long the final save keeps retrying while another process holds the database lock,
/// before the run goes to the fallback file instead.
pub const FINAL_SAVE_PATIENCE: Duration = Duration::from_secs(60);

/// Saves `r` for the last time; the run's id, or why the database did not take it (samples
/// flushed earlier stay there under the run's id).
pub fn save(r: &mut Recorded) -> Result<i64, StoreError> {
    let writer = match r.writer.take() {
        Some(w) => w,
        // The row could not be made while the command ran: once more now.
        None => RunWriter::new(r.store.begin_run(&r.rec.meta)?),
    };
    let id = writer.run_id;
    r.rec.meta.id = id;
    writer.finish_patiently(&mut r.store, &mut r.rec, FINAL_SAVE_PATIENCE)?;
    Ok(id)
}

/// Where a run went that the database did not take.
pub struct Unsaved {
    pub error: StoreError,
    /// The fallback file, or why it could not be written either.
    pub fallback: std::io::Result<PathBuf>,
}

/// [`save`], and if the database does not take the run, the fallback file next to `db` (else in
/// the temporary or the working directory).
pub fn save_or_fallback(r: &mut Recorded, db: &Path) -> Result<i64, Unsaved> {
    save(r).map_err(|error| Unsaved {
        error,
        fallback: crate::store::transfer::write_fallback(db, &r.rec),
    })
}

impl std::fmt::Display for Unsaved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.fallback {
            Ok(p) => write!(
                f,
                "the run could not be saved ({}); it was written to {}: load it with `perfmon import {}`",
                self.error,
                p.display(),
                p.display()
            ),
            Err(e) => write!(
                f,
                "the run could not be saved ({}) nor written to a fallback file ({e})",
                self.error
            ),
        }
    }
}
