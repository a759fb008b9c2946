//! `--format text`: the terminal summary, a writer of the [`RunDocument`]. Every total names its
//! source; workload text has its control characters replaced so it cannot drive the terminal.

use std::fmt::Write;

use super::document::{
    assumed, budget_figures, diagnostics_summary, direction_with_source, main_marker, mark_time,
    parameter_figures, parameter_series, progress_series, series_figures, timer_figures,
    timer_marker, RunDocument, DIRECTION_ASSUMED, MARKS_SHOWN, NO_FINDINGS, PEAK_RSS_SOURCE,
    PEAK_TREE_RSS_SOURCE, RUSAGE, STILL_OPEN,
};
use super::table::Table;
use super::units::{printable, truncate};
use super::{Renderer, ReportError};
use crate::analyze::Analysis;
use crate::model::RunRecord;

pub struct TextRenderer;

impl Renderer for TextRenderer {
    fn render(&self, rec: &RunRecord, an: &Analysis) -> Result<Vec<u8>, ReportError> {
        Ok(render_text(rec, an).into_bytes())
    }
}

pub fn render_text(rec: &RunRecord, an: &Analysis) -> String {
    write_text(&RunDocument::build(rec, an))
}

fn kv(o: &mut String, k: &str, v: String) {
    let _ = writeln!(o, "  {k:<18}{v}");
}

/// The summary of a run document.
pub fn write_text(doc: &RunDocument) -> String {
    let mut o = String::new();
    header(&mut o, doc);
    totals(&mut o, doc);
    timers(&mut o, doc);
    series(&mut o, doc);
    resources(&mut o, doc);
    findings(&mut o, doc);
    budgets(&mut o, doc);
    diagnostics(&mut o, doc);
    marks(&mut o, doc);
    o
}

fn header(o: &mut String, doc: &RunDocument) {
    let h = &doc.header;
    let _ = writeln!(
        o,
        "{}  {}",
        doc.title(|n| format!(" \"{}\"", printable(n))),
        h.status_line()
    );
    kv(o, "command", printable(&truncate(&h.command, 200)));
    kv(o, "started", h.started.clone());
    kv(o, "host", h.host(printable));
    if let Some(g) = h.git(printable) {
        kv(o, "git", g);
    }
    if let Some(t) = h.tags(printable) {
        kv(o, "tags", t);
    }
}

fn totals(o: &mut String, doc: &RunDocument) {
    let t = &doc.totals;
    o.push_str("\nTotals\n");
    kv(o, "wall", t.wall());
    kv(o, "CPU user", format!("{}  ({RUSAGE})", t.cpu_user()));
    kv(o, "CPU system", format!("{}  ({RUSAGE})", t.cpu_system()));
    kv(
        o,
        "peak RSS",
        format!("{}  ({PEAK_RSS_SOURCE})", t.peak_rss()),
    );
    kv(
        o,
        "peak tree RSS",
        format!("{}  ({PEAK_TREE_RSS_SOURCE})", t.peak_tree_rss()),
    );
    kv(
        o,
        "IO read / write",
        format!("{}  ({})", t.io(), t.io_source()),
    );
    kv(o, "page faults", format!("{}  ({RUSAGE})", t.faults()));
    kv(
        o,
        "context switches",
        format!("{}  ({RUSAGE})", t.context_switches()),
    );
    kv(o, "processes", t.processes());
    if let Some(l) = t.left_behind(printable) {
        kv(o, "left behind", l);
    }
    kv(o, "perfmon overhead", t.perfmon_overhead());
    for (i, g) in t.gpu_lines(printable).into_iter().enumerate() {
        kv(o, if i == 0 { "GPU" } else { "" }, g);
    }
}

fn timers(o: &mut String, doc: &RunDocument) {
    let tm = &doc.timers;
    if tm.rows.is_empty() {
        return;
    }
    let _ = writeln!(o, "\nTimers ({} names, {} spans)", tm.rows.len(), tm.spans);
    let mut t = Table::new(
        &[
            "NAME", "COUNT", "TOTAL", "MEAN", "MIN", "MAX", "SELF", "WALL%",
        ],
        1,
    );
    for s in &tm.rows {
        let mut row = vec![format!(
            "{}{}{}",
            "  ".repeat(s.min_depth as usize),
            printable(&truncate(&s.name, 40)),
            timer_marker(s)
        )];
        row.extend(timer_figures(s));
        t.row(row);
    }
    o.push_str(&t.text(2));
    if tm.any_still_open() {
        let _ = writeln!(o, "  * {STILL_OPEN}");
    }
}

fn series(o: &mut String, doc: &RunDocument) {
    let shown: Vec<_> = progress_series(&doc.series).collect();
    if !shown.is_empty() {
        let _ = writeln!(o, "\nProgress series ({})", shown.len());
        let mut t = Table::new(
            &[
                "SERIES",
                "ALGO",
                "DIR",
                "POINTS",
                "FIRST",
                "BEST",
                "FINAL",
                "BEST AT",
                "CONVERGED AT",
                "FLAT FOR",
                "STAGNANT",
                "PER ITER",
            ],
            3,
        );
        for s in &shown {
            let mut row = vec![
                format!("{}{}", printable(&truncate(&s.name, 30)), main_marker(s)),
                printable(&truncate(s.algorithm.as_deref().unwrap_or("-"), 20)),
                direction_with_source(s, true),
            ];
            row.extend(series_figures(s));
            t.row(row);
        }
        o.push_str(&t.text(2));
        if shown.iter().any(|s| assumed(s)) {
            let _ = writeln!(o, "  (assumed): {DIRECTION_ASSUMED}");
        }
    }
    parameters(o, doc);
}

fn parameters(o: &mut String, doc: &RunDocument) {
    let params: Vec<_> = parameter_series(&doc.series).collect();
    if params.is_empty() {
        return;
    }
    let _ = writeln!(o, "\nParameters ({}, per iteration)", params.len());
    let mut t = Table::new(
        &[
            "PARAMETER",
            "ALGO",
            "POINTS",
            "FIRST",
            "FINAL",
            "MIN",
            "MAX",
        ],
        2,
    );
    for s in params {
        let mut row = vec![
            printable(&truncate(&s.name, 30)),
            printable(&truncate(s.algorithm.as_deref().unwrap_or("-"), 20)),
        ];
        row.extend(parameter_figures(s));
        t.row(row);
    }
    o.push_str(&t.text(2));
}

fn resources(o: &mut String, doc: &RunDocument) {
    let r = &doc.resources;
    let _ = writeln!(o, "\nResources ({})", r.sampling());
    let (cores, rss) = (
        (r.r.cpu_cores_mean, r.r.cpu_cores_peak),
        (r.r.rss_mean_bytes, r.r.rss_peak_bytes),
    );
    kv(
        o,
        "CPU",
        match cores {
            (Some(_), Some(_)) => format!(
                "{} cores mean, {} peak, of {} cores ({})",
                r.cpu_mean(),
                r.cpu_peak(),
                r.r.host_cores,
                r.cpu_share()
            ),
            _ => "-".into(),
        },
    );
    kv(
        o,
        "tree RSS",
        match rss {
            (Some(_), Some(_)) => format!("{} mean, {} peak", r.rss_mean(), r.rss_peak()),
            _ => "-".into(),
        },
    );
    let mbs = |(a, p): (String, String)| {
        if a == "-" || p == "-" {
            "-".to_string()
        } else {
            format!("{a} MB/s mean, {p} MB/s peak")
        }
    };
    kv(o, "disk read", mbs(r.read()));
    kv(o, "disk write", mbs(r.write()));
}

fn findings(o: &mut String, doc: &RunDocument) {
    o.push_str("\nFindings\n");
    if doc.findings.is_empty() {
        let _ = writeln!(o, "  none: {NO_FINDINGS}");
    }
    for f in &doc.findings {
        let _ = writeln!(o, "  - [{}] {}", f.kind.as_str(), printable(&f.message));
    }
}

fn budgets(o: &mut String, doc: &RunDocument) {
    if doc.budgets.is_empty() {
        return;
    }
    o.push_str("\nBudgets crossed\n");
    for v in &doc.budgets {
        let [value, limit, at] = budget_figures(v);
        let _ = writeln!(
            o,
            "  - {} = {value} > {limit} at {at}",
            printable(&v.metric)
        );
    }
}

fn diagnostics(o: &mut String, doc: &RunDocument) {
    let d = &doc.diagnostics;
    o.push_str("\nDiagnostics\n");
    let _ = writeln!(o, "  {}", diagnostics_summary(d));
    for ex in &d.malformed_examples {
        let _ = writeln!(o, "    malformed: {}", printable(&truncate(ex, 120)));
    }
    for w in &d.warnings {
        let _ = writeln!(o, "  warning: {}", printable(w));
    }
}

fn marks(o: &mut String, doc: &RunDocument) {
    if doc.marks.is_empty() {
        return;
    }
    let _ = writeln!(o, "\nMarks ({})", doc.marks.len());
    for k in doc.marks.iter().take(MARKS_SHOWN) {
        let _ = writeln!(
            o,
            "  {:>10}  {}",
            mark_time(k),
            printable(&truncate(&k.text, 100))
        );
    }
    if doc.marks.len() > MARKS_SHOWN {
        let _ = writeln!(o, "  ... {} more", doc.marks.len() - MARKS_SHOWN);
    }
}
