//! `perfmon report NAME --group` (or `report group:N`): the runs of a `--repeat` group side by
//! side, with `--target` (or `[targets]` in perfmon.toml) the success rate and expected running
//! time to reach it. Wiring only: the summary is `analyze::group`, the output `report::group`.

use std::collections::BTreeMap;

use crate::store::Location;
use anyhow::{bail, Context, Result};

use super::load::load_runs;
use super::select::select;
use crate::analyze::group::summarize_group;
use crate::cli::{ReportArgs, ReportFormat};
use crate::report::group::{chart_file, json, markdown, text, time_to_target_png};
use crate::report::json_text;

/// True when `report` should show a group: `group:N`, or `--group`.
pub fn wants_group(a: &ReportArgs) -> bool {
    a.group || a.run.starts_with("group:")
}

pub fn report_group(db: &Location, a: &ReportArgs) -> Result<i32> {
    let store = super::open_readonly(db)?;
    // `--group` with a run id or `last`: that run's group.
    let spec = if a.run.starts_with("group:") {
        a.run.clone()
    } else {
        let id = store.resolve(&a.run)?;
        match store.load_run_summary(id)?.meta.group_id {
            Some(g) => format!("group:{g}"),
            None => id.to_string(),
        }
    };
    let sel = select(&store, &spec)?;
    let runs = load_runs(&store, &sel.ids)?;
    let mut targets: BTreeMap<String, f64> = crate::config::load()?.config.targets;
    if let Some(t) = a.target {
        targets.insert("best".into(), t);
    }
    let g = summarize_group(&runs, &targets, a.converge_tol);
    let out = match a.format {
        ReportFormat::Text => text(&sel, &g),
        ReportFormat::Json => json_text(&json(&sel, &g))?,
        ReportFormat::Markdown => markdown(&sel, &g),
        ReportFormat::Png => {
            let Some(dir) = &a.output else {
                bail!("--format png needs --output DIR (one file per chart)");
            };
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            if g.targets.is_empty() {
                eprintln!("perfmon: no target given (--target VALUE or [targets] in perfmon.toml): no time-to-target chart");
            }
            for (key, t) in &g.targets {
                let p = dir.join(chart_file(key));
                std::fs::write(&p, time_to_target_png(&sel, key, t, a.size)?)
                    .with_context(|| format!("writing {}", p.display()))?;
                eprintln!("perfmon: wrote {}", p.display());
            }
            return Ok(0);
        }
        ReportFormat::Html | ReportFormat::Trace => {
            bail!("a group report is text, json, markdown or png; html and trace show one run")
        }
    };
    match &a.output {
        Some(p) => std::fs::write(p, out).with_context(|| format!("writing {}", p.display()))?,
        None => super::write_stdout(&out)?,
    }
    Ok(0)
}
