//! Cleaning up stored runs: `perfmon rm RUN...`, `perfmon gc --keep-last N | --older-than 30d`
//! (optionally per `--name`, with `--dry-run`), and `perfmon doctor`, which verifies a database
//! and lists what is damaged. Deleting reclaims the space (the file shrinks).

use std::time::{SystemTime, UNIX_EPOCH};

use crate::store::Location;
use anyhow::Result;

use crate::cli::{DoctorArgs, GcArgs, RmArgs};
use crate::store::{ListFilter, Store, StoreError};

pub fn rm(db: &Location, a: &RmArgs) -> Result<i32> {
    let mut store = super::open_readonly(db)?;
    let mut ids = Vec::new();
    for spec in &a.runs {
        ids.push(store.resolve(spec)?);
    }
    drop(store);
    store = Store::open(db)?;
    let n = store.delete_runs(&ids)?;
    let freed = reclaim(&mut store);
    eprintln!("perfmon: removed {n} run(s){}", fmt_freed(freed));
    Ok(0)
}

pub fn gc(db: &Location, a: &GcArgs) -> Result<i32> {
    if a.keep_last.is_none() && a.older_than.is_none() {
        anyhow::bail!("gc needs --keep-last N or --older-than AGE (for example 30d)");
    }
    let mut store = super::open_readonly(db)?;
    let f = ListFilter {
        name: a.name.clone(),
        ..ListFilter::default()
    };
    let runs = match &a.host {
        Some(host) => super::select::on_host(&store, &f, host)?,
        None => store.list_runs(&f)?,
    };
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    // Newest first: keep the first N; of the rest, delete those older than the age (or all of
    // them when no age is given).
    let doomed: Vec<(i64, String)> = runs
        .iter()
        .enumerate()
        .filter(|(i, _)| a.keep_last.is_none_or(|k| *i >= k))
        .filter(|(_, m)| {
            a.older_than
                .is_none_or(|age| now_ms - m.started_at_ms > age.as_millis() as i64)
        })
        .map(|(_, m)| {
            (
                m.id,
                format!(
                    "{} {} {}",
                    m.id,
                    m.name.as_deref().unwrap_or("-"),
                    crate::report::fmt_rfc3339(m.started_at_ms)
                ),
            )
        })
        .collect();
    if a.dry_run {
        let mut out = String::new();
        for (_, line) in &doomed {
            out.push_str(&format!("would remove run {line}\n"));
        }
        out.push_str(&format!(
            "{} of {} run(s) would be removed (--dry-run: nothing was)\n",
            doomed.len(),
            runs.len()
        ));
        super::write_stdout(&out)?;
        return Ok(0);
    }
    drop(store);
    store = Store::open(db)?;
    let ids: Vec<i64> = doomed.iter().map(|(id, _)| *id).collect();
    let n = store.delete_runs(&ids)?;
    let freed = if n > 0 { reclaim(&mut store) } else { 0 };
    eprintln!(
        "perfmon: removed {n} of {} run(s){}",
        runs.len(),
        fmt_freed(freed)
    );
    Ok(0)
}

pub fn doctor(db: &Location, _a: &DoctorArgs) -> Result<i32> {
    // A file SQLite cannot read at all (truncated, overwritten, not a database) is damage to
    // report like any other (exit 1), not an error of doctor's own (exit 2). A missing file or
    // a newer schema stays an error: nothing is damaged.
    let (problems, whole_file) = match Store::open_readonly(db).and_then(|s| s.integrity_check()) {
        Ok(p) => (p, false),
        Err(e @ StoreError::Db { .. }) => (vec![format!("the whole file: {e}")], true),
        Err(StoreError::NoDatabase(_)) => return Err(super::no_database(db)),
        Err(e) => return Err(e.into()),
    };
    let mut out = String::new();
    if problems.is_empty() {
        out.push_str(&format!("{}: ok\n", db));
        super::write_stdout(&out)?;
        return Ok(0);
    }
    for p in &problems {
        out.push_str(&format!("damaged: {p}\n"));
    }
    out.push_str(&format!(
        "{}: {} problem(s); {}\n",
        db,
        problems.len(),
        if whole_file {
            "no run can be read (restore a copy, or try sqlite3's .recover)"
        } else {
            "other runs are readable (`perfmon rm` removes a damaged run)"
        }
    ));
    super::write_stdout(&out)?;
    Ok(1)
}

/// Reclaims space; a failure (another process holds the database) is a warning, since the runs
/// are already removed.
fn reclaim(store: &mut Store) -> u64 {
    match store.reclaim() {
        Ok(n) => n,
        Err(e) => {
            eprintln!(
                "perfmon: warning: the runs are removed but the space was not reclaimed yet: {e}"
            );
            0
        }
    }
}

fn fmt_freed(bytes: u64) -> String {
    if bytes == 0 {
        String::new()
    } else {
        format!(", {:.1} MiB reclaimed", bytes as f64 / (1024.0 * 1024.0))
    }
}
