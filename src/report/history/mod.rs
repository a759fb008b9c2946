//! A metric's history (`perfmon history --metric M`): one [`History`] per workload (run name)
//! as text, JSON ([`json`], schema [`HISTORY_SCHEMA_VERSION`], documented in
//! docs/json-schema.md) and a chart ([`png`]). Each says which runs and commits it used, and
//! why it found no change when it had too few points to find one.

mod json;
mod png;

pub use json::{wire, HISTORY_SCHEMA_VERSION};
pub use png::display_unit;

use super::fmt_rfc3339;
use super::table::{Align, Table};
use super::units::fmt_metric;
use crate::analyze::history::{History, Point};

/// What the JSON says of the method.
const METHOD: &str = "e-divisive means (alpha 1), permutation test";

/// The histories of `metric` over the runs `selection` names (None: all runs), one per
/// workload.
pub struct HistoryDocument<'a> {
    pub metric: &'a str,
    pub selection: Option<&'a str>,
    pub hs: &'a [History],
}

/// The first 10 characters of a commit, or `-`.
fn short(c: &Option<String>) -> String {
    c.as_deref()
        .map(|c| c.chars().take(10).collect())
        .unwrap_or_else(|| "-".into())
}

/// `run 5`, or `runs 5-9 (5)` for a group.
fn who(p: &Point) -> String {
    match p.run_ids.as_slice() {
        [one] => format!("run {one}"),
        many => format!(
            "runs {}-{} ({})",
            many.first().copied().unwrap_or(0),
            many.last().copied().unwrap_or(0),
            many.len()
        ),
    }
}

/// `first … last`, or the one item, or the items when few.
fn span(v: &[String]) -> String {
    match v {
        [] => "none".into(),
        [one] => one.clone(),
        few if few.len() <= 4 => few.join(", "),
        many => format!("{} … {}", many[0], many[many.len() - 1]),
    }
}

/// What a history used: `8 points from 8 runs (runs 1 … 8), 8 commits (0000000000 …
/// 0000000007)`; `no commit` when the runs were outside git.
pub fn used(h: &History) -> String {
    let runs: Vec<String> = h
        .points
        .iter()
        .flat_map(|p| p.run_ids.iter().map(|i| i.to_string()))
        .collect();
    let mut commits: Vec<&String> = Vec::new();
    for c in h.points.iter().filter_map(|p| p.commit.as_ref()) {
        if !commits.contains(&c) {
            commits.push(c);
        }
    }
    let commits: Vec<String> = commits
        .into_iter()
        .map(|c| short(&Some(c.clone())))
        .collect();
    let without = h.points.iter().filter(|p| p.commit.is_none()).count();
    let n = |k: usize, one: &str| format!("{k} {one}{}", if k == 1 { "" } else { "s" });
    format!(
        "{} from {} (run{} {}), {}{}",
        n(h.points.len(), "point"),
        n(runs.len(), "run"),
        if runs.len() == 1 { "" } else { "s" },
        span(&runs),
        match commits.len() {
            0 => "no commit".to_string(),
            1 => format!("1 commit ({})", commits[0]),
            n => format!("{n} commits ({})", span(&commits)),
        },
        if without > 0 && !commits.is_empty() {
            format!(", {} without a commit", n(without, "point"))
        } else {
            String::new()
        }
    )
}

impl HistoryDocument<'_> {
    pub fn text(&self) -> String {
        let over = self
            .selection
            .map(|s| format!("runs {s:?}"))
            .unwrap_or_else(|| "all runs".into());
        let mut o = if self.hs.len() > 1 {
            format!(
                "history of {} over {over}: {} workloads (run names), each its own series\n",
                self.metric,
                self.hs.len()
            )
        } else {
            format!("history of {} over {over}\n", self.metric)
        };
        if self.hs.is_empty() {
            o.push_str(&format!(
                "no run of the selection measured {}\n",
                self.metric
            ));
        }
        for h in self.hs {
            o.push('\n');
            o.push_str(&self.workload_text(h));
        }
        o
    }

    /// One workload: what it used, its points (oldest first), and its change points or why
    /// there are none.
    fn workload_text(&self, h: &History) -> String {
        let (metric, points, cps) = (self.metric, &h.points, &h.change_points);
        let name = match (&h.name, self.hs.len()) {
            (Some(n), _) => format!("{n}: "),
            (None, 1) => String::new(),
            (None, _) => "(unnamed runs): ".into(),
        };
        let mut o = format!("{name}{}, oldest first\n\n", used(h));
        let mut t =
            Table::new(&["#", "runs", "started (UTC)", "commit", metric, ""], 0).aligned(&[
                Align::Right,
                Align::Left,
                Align::Left,
                Align::Left,
                Align::Right,
                Align::Left,
            ]);
        t.min_width = vec![4, 22, 19, 10, 12];
        for (i, p) in points.iter().enumerate() {
            let started = fmt_rfc3339(p.started_at_ms);
            t.row(vec![
                (i + 1).to_string(),
                who(p),
                started.get(..19).unwrap_or(&started).replace('T', " "),
                short(&p.commit),
                fmt_metric(metric, p.value),
                if cps.iter().any(|c| c.index == i) {
                    "<- change".into()
                } else {
                    String::new()
                },
            ]);
        }
        o.push_str(&t.text(0));
        o.push('\n');
        if let Some(few) = h.too_few_text() {
            o.push_str(&format!("change points: none: {few}\n"));
        } else if cps.is_empty() {
            o.push_str("change points: none (E-divisive means, permutation test)\n");
        } else {
            o.push_str("change points (E-divisive means, permutation test):\n");
            for c in cps {
                let p = &points[c.index];
                o.push_str(&format!(
                    "  at #{} ({}, commit {}): {} -> {} ({}), p = {:.3}\n",
                    c.index + 1,
                    who(p),
                    short(&p.commit),
                    fmt_metric(metric, c.mean_before),
                    fmt_metric(metric, c.mean_after),
                    c.relative_change()
                        .map(|r| format!("{:+.1}%", r * 100.0))
                        .unwrap_or_else(|| "n/a".into()),
                    c.p
                ));
            }
        }
        o
    }
}

#[cfg(test)]
mod tests;
