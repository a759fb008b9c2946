//! `perfmon list`: stored runs, newest first.

use crate::store::Location;
use anyhow::Result;

use crate::cli::ListArgs;
use crate::store::{ListFilter, Store, StoreError};

pub fn list(db: &Location, a: &ListArgs) -> Result<i32> {
    // Listing never creates a database: none yet is an empty list, but a path where none can
    // ever be (a typo, /proc/x.db) is an error, as in `report`.
    let runs = match Store::open_readonly(db) {
        Ok(store) => {
            let f = ListFilter {
                limit: Some(a.limit),
                name: a.name.clone(),
                tags: a.tags.clone(),
            };
            match &a.host {
                Some(host) => super::select::on_host(&store, &f, host)?,
                None => store.list_runs(&f)?,
            }
        }
        Err(StoreError::NoDatabase(_))
            if db
                .file()
                .is_some_and(|p| crate::store::why_uncreatable(p).is_none()) =>
        {
            Vec::new()
        }
        Err(StoreError::NoDatabase(_)) => return Err(super::no_database(db)),
        Err(e) => return Err(e.into()),
    };
    let mut out = String::new();
    if a.json {
        let items: Vec<serde_json::Value> = runs
            .iter()
            .map(|m| {
                serde_json::json!({
                    "id": m.id,
                    "uuid": m.uuid,
                    "name": m.name,
                    "status": m.status.as_str(),
                    "exit_code": m.exit_code,
                    "started_at": crate::report::fmt_rfc3339(m.started_at_ms),
                    "wall_s": m.wall_s,
                    "command": m.command,
                    "tags": m.tags.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.clone()))).collect::<serde_json::Map<_, _>>(),
                    "git_commit": m.git.as_ref().map(|g| g.commit.clone()),
                    "host": m.host.hostname,
                })
            })
            .collect();
        out = serde_json::to_string_pretty(&items)?;
        out.push('\n');
    } else if runs.is_empty() && (a.name.is_some() || !a.tags.is_empty() || a.host.is_some()) {
        out.push_str("no stored run matches the given --name, --tag and --host\n");
    } else if runs.is_empty() {
        out.push_str("no runs stored yet: perfmon run -- CMD records one\n");
    } else {
        out.push_str(&format!(
            "{:>6}  {:<20}  {:<11}  {:>10}  {:<16}  {}\n",
            "ID", "STARTED (UTC)", "STATUS", "WALL", "NAME", "COMMAND"
        ));
        for m in &runs {
            let started = crate::report::fmt_rfc3339(m.started_at_ms);
            out.push_str(&format!(
                "{:>6}  {:<20}  {:<11}  {:>10}  {:<16}  {}\n",
                m.id,
                started.get(..19).unwrap_or(&started).replace('T', " "),
                m.status.as_str(),
                m.wall_s
                    .map(crate::report::units::fmt_secs)
                    .unwrap_or_else(|| "-".into()),
                m.name.as_deref().unwrap_or("-"),
                crate::report::units::truncate(&m.command.join(" "), 60)
            ));
        }
    }
    super::write_stdout(&out)?;
    Ok(0)
}
