//! The final save of a recorded run: its row rewritten with everything, retried while another
//! process holds the database. What the database does not take, the caller writes to a fallback
//! file that `perfmon import` loads, so a run is never lost.

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
