//! A comparison (`perfmon compare BASE CAND`): the rows and the gate of a [`Comparison`] as
//! text and Markdown, verdict first (the gate line and the gated rows, then every row), as
//! JSON ([`json`]) and as a chart ([`png`]).

mod gate;
mod hosts;
mod json;
mod png;

pub use gate::{shared_note, verdict_line};
pub use hosts::cpu_warning;
pub use json::{wire, COMPARE_SCHEMA_VERSION};
pub use png::{overlay_png, COMPARE_PNG};

use super::table::Table;
use super::units::{fmt_metric, md_code, md_escape};
use super::Selection;
use crate::analyze::compare::{Inconclusive, Row, TestKind, Verdict};
use crate::analyze::hosts::SideCpus;
use crate::analyze::sides::Comparison;
use crate::analyze::stats::Summary;

/// A comparison with the selections of its two sides and the CPUs their runs ran on.
pub struct CompareDocument<'a> {
    pub base: &'a Selection,
    pub cand: &'a Selection,
    pub c: &'a Comparison,
    pub cpus: &'a SideCpus,
}

/// The sentence of a gated metric the runs were too noisy to decide.
pub fn undecided_text(u: &Inconclusive) -> String {
    format!(
        "{} is {:.1}% worse (> {}%) but not significantly (p {}; runs spread by up to {:.0}%): too noisy to decide; add runs a side or use a quieter machine",
        u.threshold.metric,
        u.worse_by_pct,
        u.threshold.pct,
        u.p.map_or("-".to_string(), |p| format!("{p:.2}")),
        u.spread_pct
    )
}

/// What a cell whose σ exceeds its median says after the figures.
const WIDE: &str = "(σ > median)";

/// Whether the runs spread more than their median: the ± would mislead without comment.
fn wide(s: &Summary) -> bool {
    s.n > 1 && s.stddev > s.median.abs()
}

/// `median ± σ`, with [`WIDE`] when σ exceeds the median.
fn fmt_summary(metric: &str, s: &Summary) -> String {
    if s.n > 1 {
        format!(
            "{} ± {}{}",
            fmt_metric(metric, s.median),
            fmt_metric(metric, s.stddev),
            if wide(s) {
                format!(" {WIDE}")
            } else {
                String::new()
            }
        )
    } else {
        fmt_metric(metric, s.median)
    }
}

fn fmt_change(r: &Row) -> String {
    match r.change_pct {
        Some(c) => format!("{c:+.1}%"),
        None => "n/a".into(),
    }
}

fn fmt_p(r: &Row) -> String {
    match r.p {
        Some(p) if p < 0.0001 => "<0.0001".into(),
        Some(p) => format!("{p:.4}"),
        None => "-".into(),
    }
}

/// `runs 1 2 3`, or `runs 1 … 40` for many.
fn ids(v: &[i64]) -> String {
    let s: Vec<String> = v.iter().map(|i| i.to_string()).collect();
    if s.len() > 8 {
        format!("runs {} … {}", s[0], s[s.len() - 1])
    } else {
        format!("runs {}", s.join(" "))
    }
}

impl CompareDocument<'_> {
    fn method(&self) -> String {
        let o = &self.c.opts;
        match self.c.test() {
            Some(t) => format!(
                "{} test, alpha {}, min effect {}% on the medians",
                match t {
                    TestKind::MannWhitney => "Mann-Whitney U",
                    _ => "Welch's t",
                },
                o.alpha,
                o.min_effect_pct
            ),
            None => format!(
                "fewer than 3 runs a side: plain ratio of the values, min effect {}% (no significance test)",
                o.min_effect_pct
            ),
        }
    }

    /// The rows that decide the verdict: the gated metrics' (the regressed ones without a
    /// gate), in the order of the table.
    fn verdict_rows(&self) -> Vec<&Row> {
        let c = self.c;
        c.rows
            .iter()
            .filter(|r| {
                if c.thresholds.is_empty() {
                    r.verdict == Verdict::Regressed
                } else {
                    c.thresholds.iter().any(|t| t.metric == r.metric)
                }
            })
            .collect()
    }

    /// A table of `rows`; `verdict` writes a row's verdict.
    fn table<'r>(
        &self,
        rows: impl IntoIterator<Item = &'r Row>,
        esc: fn(&str) -> String,
        verdict: fn(&str) -> String,
    ) -> Table {
        let mut t = Table::new(
            &["metric", "base", "candidate", "change", "p", "verdict"],
            1,
        );
        for r in rows {
            let m = r.metric.to_string();
            t.row(vec![
                esc(&self.c.label(&r.metric)),
                fmt_summary(&m, &r.base),
                fmt_summary(&m, &r.cand),
                fmt_change(r),
                fmt_p(r),
                verdict(r.verdict.as_str()),
            ]);
        }
        t
    }

    /// The footnote of [`WIDE`], when a cell has it.
    fn wide_note(&self) -> Option<String> {
        self.c
            .rows
            .iter()
            .any(|r| wide(&r.base) || wide(&r.cand))
            .then(|| {
                format!(
                    "{WIDE}: the runs spread more than their median (a few outlying runs, or mostly zeros): the median and the p-value speak for them, the ± does not"
                )
            })
    }

    /// The headline, the notes and the gated rows: what a CI log shows first.
    fn verdict_text(&self) -> String {
        let mut o = verdict_line(self.c, str::to_string);
        o.push('\n');
        for n in gate::notes(self.c, self.base, self.cand) {
            o.push_str(&n);
            o.push('\n');
        }
        let rows = self.verdict_rows();
        if !rows.is_empty() {
            o.push('\n');
            o.push_str(&self.table(rows, str::to_string, str::to_string).text(2));
        }
        o
    }

    pub fn text(&self) -> String {
        let mut o = self.verdict_text();
        o.push_str(&format!(
            "\nbase:      {} = {} [{}]\ncandidate: {} = {} [{}]\n{}method:    {}\n\n",
            self.base.spec,
            self.base.label,
            ids(&self.base.ids),
            self.cand.spec,
            self.cand.label,
            ids(&self.cand.ids),
            cpu_warning(self.cpus).map_or(String::new(), |w| format!("warning:   {w}\n")),
            self.method()
        ));
        o.push_str(
            &self
                .table(&self.c.rows, str::to_string, str::to_string)
                .text(2),
        );
        if let Some(n) = self.wide_note() {
            o.push('\n');
            o.push_str(&n);
            o.push('\n');
        }
        o
    }

    pub fn markdown(&self) -> String {
        let esc = md_escape;
        let bold = |v: &str| match v {
            "regressed" => "**regressed**".to_string(),
            s => s.to_string(),
        };
        let mut o = format!("### {}\n\n", verdict_line(self.c, esc));
        for n in gate::notes(self.c, self.base, self.cand) {
            o.push_str(&format!("{}\n\n", esc(&n)));
        }
        let rows = self.verdict_rows();
        if !rows.is_empty() {
            o.push_str(&self.table(rows, esc, bold).last_left().markdown());
            o.push('\n');
        }
        o.push_str(&format!(
            "#### perfmon compare: every metric\n\n- base: {} = {} ({})\n- candidate: {} = {} ({})\n{}- method: {}\n\n",
            md_code(&self.base.spec),
            esc(&self.base.label),
            ids(&self.base.ids),
            md_code(&self.cand.spec),
            esc(&self.cand.label),
            ids(&self.cand.ids),
            cpu_warning(self.cpus).map_or(String::new(), |w| format!("- **warning**: {}\n", esc(&w))),
            esc(&self.method())
        ));
        o.push_str(&self.table(&self.c.rows, esc, bold).last_left().markdown());
        if let Some(n) = self.wide_note() {
            o.push_str(&format!("\n{}\n", esc(&n)));
        }
        o
    }
}

#[cfg(test)]
mod tests;
