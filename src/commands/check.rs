//! `perfmon check [RUN] --budget SPEC`: exit 1 if the run broke a budget, 0 otherwise, 2 on
//! usage errors. Budgets crossed during the run (stored with it) and budgets checked now against
//! its final figures both count.

use crate::store::Location;
use anyhow::Result;

use crate::analyze::budget::{check_all, Figures};
use crate::cli::CheckArgs;
use crate::report::units::fmt_metric;

/// Exit status when a budget was broken.
pub const EXIT_BROKEN: i32 = 1;

pub fn check(db: &Location, a: &CheckArgs) -> Result<i32> {
    let budget = match &a.budget {
        Some(b) => b.0.clone(),
        None => crate::config::load()?.budget()?.ok_or_else(|| {
            anyhow::anyhow!("no budget: give --budget SPEC or [run] budget in perfmon.toml")
        })?,
    };
    let store = super::open_readonly(db)?;
    let id = store.resolve(&a.run)?;
    let rec = store.load_run(id)?;
    let figures = Figures::from_record(&rec);
    let mut broken = check_all(&budget, &figures);
    // Budgets crossed during the run count too, for the metrics this check names.
    for v in &rec.violations {
        let named = budget.iter().any(|b| b.metric.to_string() == v.metric);
        if named && !broken.iter().any(|b| b.metric == v.metric) {
            broken.push(v.clone());
        }
    }
    let mut out = String::new();
    for b in &budget {
        let m = b.metric.to_string();
        let line = match (
            broken.iter().find(|v| v.metric == m),
            figures.value(&b.metric),
        ) {
            (Some(v), _) => format!(
                "BROKEN  {m}: {} > limit {}\n",
                fmt_metric(&m, v.value),
                fmt_metric(&m, v.limit)
            ),
            (None, Some(x)) => format!(
                "ok      {m}: {} <= limit {}\n",
                fmt_metric(&m, x),
                fmt_metric(&m, b.limit)
            ),
            (None, None) => format!("n/a     {m}: not measured in run {id}\n"),
        };
        out.push_str(&line);
    }
    super::write_stdout(&out)?;
    Ok(if broken.is_empty() { 0 } else { EXIT_BROKEN })
}
