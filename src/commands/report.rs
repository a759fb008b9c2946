//! `perfmon report [RUN]`: renders a stored run.

use std::path::Path;

use anyhow::Result;

use crate::cli::ReportArgs;
use crate::store::Store;

pub fn report(db: &Path, a: &ReportArgs) -> Result<i32> {
    let store = Store::open(db)?;
    let id = store.resolve(&a.run)?;
    let _rec = store.load_run(id)?;
    anyhow::bail!("report rendering is not written yet")
}
