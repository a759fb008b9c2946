//! The verdict of a comparison in one line, the line `compare` opens with: the gate's outcome
//! and, per threshold, the change of its metric against it (`FAILED: wall +83.2% (> 5%), p
//! 0.008`); without thresholds, how many metrics regressed and improved. Also the notes a
//! reader needs before the figures (the same runs on both sides).

use super::undecided_text;
use crate::analyze::compare::{Row, Verdict};
use crate::analyze::sides::Comparison;
use crate::analyze::spec::Threshold;
use crate::report::units::fmt_metric;
use crate::report::Selection;

/// `p 0.008`, `p < 0.001`, or why there is no p.
fn p_text(r: &Row) -> String {
    match r.p {
        Some(p) if p < 0.001 => "p < 0.001".into(),
        Some(p) => format!("p {p:.3}"),
        None if r.test == "ratio" => "no test (fewer than 3 runs a side)".into(),
        None => "no p (constant values)".into(),
    }
}

/// One threshold against its row: `wall +83.2% (> 5%), p 0.008`.
fn item(c: &Comparison, t: &Threshold, esc: fn(&str) -> String) -> String {
    let name = esc(&c.label(&t.metric));
    let Some(r) = c.rows.iter().find(|r| r.metric == t.metric) else {
        return format!("{name} not measured");
    };
    let metric = t.metric.to_string();
    let change = match r.change_pct {
        Some(x) => format!("{x:+.1}%"),
        None if r.cand.median == r.base.median => "unchanged at 0".into(),
        None => format!("from 0 to {}", fmt_metric(&metric, r.cand.median)),
    };
    let failed = c.failures.iter().any(|f| f.threshold == *t);
    let undecided = c.undecided.iter().any(|u| u.threshold == *t);
    let limit = if failed || undecided {
        format!("> {}%", t.pct)
    } else if r.verdict == Verdict::Improved {
        "improved".into()
    } else {
        format!("limit {}%", t.pct)
    };
    let not_sig = if undecided { " not significant" } else { "" };
    format!("{name} {change} ({limit}){not_sig}, {}", p_text(r))
}

/// The verdict line; `esc` escapes workload text (metric names) for the format.
pub fn verdict_line(c: &Comparison, esc: fn(&str) -> String) -> String {
    if c.thresholds.is_empty() {
        let names = |v: Verdict| -> Vec<String> {
            c.rows
                .iter()
                .filter(|r| r.verdict == v)
                .map(|r| esc(&c.label(&r.metric)))
                .collect()
        };
        let (worse, better) = (names(Verdict::Regressed), names(Verdict::Improved));
        let list = |n: &[String]| {
            if n.is_empty() {
                String::new()
            } else {
                format!(" ({})", n.join(", "))
            }
        };
        return format!(
            "no gate (no --fail-on): {} regressed{}, {} improved{}, {} unchanged",
            worse.len(),
            list(&worse),
            better.len(),
            list(&better),
            c.rows.len() - worse.len() - better.len()
        );
    }
    let head = if !c.passed() {
        "FAILED"
    } else if !c.undecided.is_empty() {
        "passed, inconclusive"
    } else {
        "passed"
    };
    let items: Vec<String> = c.thresholds.iter().map(|t| item(c, t, esc)).collect();
    format!("{head}: {}", items.join("; "))
}

/// The lines under the verdict: each undecided threshold's sentence, and a warning when the
/// sides share runs (comparing a selection with itself can only find no change).
pub fn notes(c: &Comparison, base: &Selection, cand: &Selection) -> Vec<String> {
    let mut out: Vec<String> = c
        .undecided
        .iter()
        .map(|u| format!("inconclusive: {}", undecided_text(u)))
        .collect();
    if let Some(s) = shared_note(base, cand) {
        out.push(s);
    }
    out
}

/// What the sides share, when they share runs.
pub fn shared_note(base: &Selection, cand: &Selection) -> Option<String> {
    let shared: Vec<i64> = base
        .ids
        .iter()
        .copied()
        .filter(|i| cand.ids.contains(i))
        .collect();
    if shared.is_empty() {
        return None;
    }
    let (mut b, mut k) = (base.ids.clone(), cand.ids.clone());
    b.sort_unstable();
    k.sort_unstable();
    Some(if b == k {
        format!(
            "note: base and candidate are the same {}: a selection compared with itself shows no change; compare it with another selection",
            super::ids(&b)
        )
    } else {
        format!(
            "note: base and candidate share {}: a run on both sides pulls them together",
            super::ids(&shared)
        )
    })
}
