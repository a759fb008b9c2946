//! `perfmon push [RUN|SELECTION...|--all] --to URL`: copies runs from this database to another
//! store by their UUID ([`crate::store::transfer::Pusher`]): what the target has is skipped, so
//! pushing twice adds nothing and a push cut off is resumed by running it again.

use anyhow::{Context, Result};

use crate::cli::PushArgs;
use crate::store::transfer::{Pushed, Pusher};
use std::collections::HashSet;

use crate::store::{Location, Store};

pub fn push(db: &Location, a: &PushArgs) -> Result<i32> {
    let src = super::open_readonly(db)?;
    let to = Location::parse(a.to.as_os_str());
    if &to == db {
        anyhow::bail!("--to names the database the runs come from ({to})");
    }
    let ids = if a.all {
        unsent(&src, &to)?
    } else {
        chosen(&src, &a.runs)?
    };
    let mut dst = Store::open(&to)?;
    let mut pusher = Pusher::default();
    let (mut sent, mut already, mut replaced) = (0, 0, 0);
    for id in &ids {
        match pusher
            .push(&src, *id, &mut dst)
            .with_context(|| format!("run {id} was not pushed to {to}; push again to resume"))?
        {
            Pushed::Sent(_) => sent += 1,
            Pushed::Already(_) => already += 1,
            Pushed::Replaced(_) => replaced += 1,
        }
    }
    eprintln!(
        "perfmon: pushed {sent} run(s) to {to}{}{}",
        if replaced > 0 {
            format!(", {replaced} replacing an incomplete copy")
        } else {
            String::new()
        },
        if already > 0 {
            format!("; {already} were there already")
        } else {
            String::new()
        }
    );
    Ok(0)
}

/// Every run of `src` whose UUID `to` does not hold, oldest first (a target that cannot be
/// read fails here, before anything is copied).
fn unsent(src: &Store, to: &Location) -> Result<Vec<i64>> {
    // The store's errors name it (its URL masked).
    let there: HashSet<String> = Store::open(to)?
        .id_uuids()?
        .into_iter()
        .map(|(_, u)| u)
        .collect();
    Ok(src
        .id_uuids()?
        .into_iter()
        .filter(|(_, u)| !there.contains(u))
        .map(|(id, _)| id)
        .collect())
}

/// The runs named by `specs`: a run (id, `last`, a name) or a selection; each run once, in
/// the order first named.
fn chosen(src: &Store, specs: &[String]) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    for spec in specs {
        match src.resolve(spec) {
            Ok(id) => ids.push(id),
            Err(_) => ids.extend(super::select::select(src, spec)?.ids),
        }
    }
    let mut seen = HashSet::new();
    ids.retain(|id| seen.insert(*id));
    Ok(ids)
}
