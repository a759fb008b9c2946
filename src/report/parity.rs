//! One fixture run rendered as text, Markdown and HTML: each section of the [`RunDocument`] is in
//! every format, and within it each of the section's figures (as the document formats it,
//! escaped as the format escapes workload text). A figure added to the document but left out of
//! a writer fails here.
#![allow(clippy::unwrap_used)]

use super::document::{
    budget_figures, diagnostics_summary, direction_with_source, mark_time, parameter_figures,
    parameter_series, progress_series, series_figures, timer_figures, RunDocument,
};
use super::fixture::record;
use super::units::{html_escape, md_escape, printable};
use crate::analyze::analyze;
use crate::model::{BudgetViolation, RunRecord};

/// The sections after the header, in the order every format writes them.
const SECTIONS: [&str; 8] = [
    "timers",
    "series",
    "parameters",
    "resources",
    "findings",
    "budgets",
    "diagnostics",
    "marks",
];

struct Format {
    name: &'static str,
    out: String,
    esc: fn(&str) -> String,
    /// The heading that opens each of [`SECTIONS`].
    headings: [&'static str; 8],
}

impl Format {
    /// The text of a section: from its heading to the next heading (the header and totals are
    /// what precedes the first).
    fn section(&self, name: &str) -> &str {
        let starts: Vec<Option<usize>> = self.headings.iter().map(|h| self.out.find(h)).collect();
        let start = match SECTIONS.iter().position(|s| *s == name) {
            Some(i) => starts[i].unwrap_or_else(|| {
                panic!("{}: no section {name} ({:?})", self.name, self.headings[i])
            }),
            None => 0,
        };
        let end = starts
            .iter()
            .flatten()
            .copied()
            .filter(|s| *s > start)
            .min()
            .unwrap_or(self.out.len());
        &self.out[start..end]
    }

    fn assert_shows(&self, section: &str, figure: &str) {
        let text = self.section(section);
        assert!(
            text.contains(figure) || text.contains(&(self.esc)(figure)),
            "{}: {section} lacks {figure:?}:\n{text}",
            self.name
        );
    }
}

/// The fixture with a budget crossed too, so that every section has something to show.
fn full_record() -> RunRecord {
    let mut rec = record();
    rec.violations.push(BudgetViolation {
        metric: "peak_tree_rss".into(),
        limit: (1u64 << 30) as f64,
        value: 1_190.0 * (1u64 << 20) as f64,
        t_s: 24.5,
    });
    rec
}

/// Every figure of the document, by section (`header` for the header and the totals).
fn figures(doc: &RunDocument) -> Vec<(&'static str, String)> {
    let mut f: Vec<(&'static str, String)> = Vec::new();
    let mut put = |s: &'static str, v: String| f.push((s, v));
    let h = &doc.header;
    put("header", format!("perfmon run {}", h.id));
    put("header", h.name.clone().unwrap());
    put("header", h.status_line());
    put("header", h.command.clone());
    put("header", h.started.clone());
    for part in [&h.hostname, &h.os, &h.kernel] {
        put("header", part.clone());
    }
    put("header", format!("{} cores", h.cores));
    put("header", super::units::fmt_bytes(h.memory_bytes));
    put("header", h.git(printable).unwrap());
    for (k, v) in &h.tags {
        put("header", format!("{k}={v}"));
    }
    let t = &doc.totals;
    for v in [
        t.wall(),
        t.cpu_user(),
        t.cpu_system(),
        t.peak_rss(),
        t.peak_tree_rss(),
        t.io(),
        t.io_source().to_string(),
        t.faults(),
        t.context_switches(),
        t.processes(),
        t.left_behind(printable).unwrap(),
        t.perfmon_overhead(),
    ] {
        put("header", v);
    }
    for g in t.gpu_lines(printable) {
        put("header", g);
    }
    for r in &doc.timers.rows {
        put("timers", r.name.clone());
        for v in timer_figures(r) {
            put("timers", v);
        }
    }
    put("timers", super::document::STILL_OPEN.to_string());
    for s in progress_series(&doc.series) {
        put("series", s.name.clone());
        put("series", s.algorithm.clone().unwrap());
        put("series", s.direction_source.as_str().to_string());
        put("series", direction_with_source(s, true)[..3].to_string());
        for v in series_figures(s) {
            put("series", v);
        }
    }
    for s in parameter_series(&doc.series) {
        put("parameters", s.name.clone());
        put("parameters", s.algorithm.clone().unwrap());
        for v in parameter_figures(s) {
            put("parameters", v);
        }
    }
    let r = &doc.resources;
    put("resources", r.sampling());
    put("resources", r.cpu_mean());
    put("resources", r.cpu_peak());
    put("resources", r.cpu_share_pct());
    put("resources", r.rss_mean());
    put("resources", r.rss_peak());
    let ((rm, rp), (wm, wp)) = (r.read(), r.write());
    for v in [rm, rp, wm, wp] {
        put("resources", v);
    }
    for x in &doc.findings {
        put("findings", x.message.clone());
    }
    for b in &doc.budgets {
        put("budgets", b.metric.clone());
        for v in budget_figures(b) {
            put("budgets", v);
        }
    }
    let d = &doc.diagnostics;
    put("diagnostics", diagnostics_summary(d));
    for x in d.malformed_examples.iter().chain(&d.warnings) {
        put("diagnostics", x.clone());
    }
    for m in &doc.marks {
        put("marks", mark_time(m));
        put("marks", m.text.clone());
    }
    f
}

#[test]
fn every_format_shows_every_section_and_figure() {
    let rec = full_record();
    let an = analyze(&rec);
    let doc = RunDocument::build(&rec, &an);
    let formats = [
        Format {
            name: "text",
            out: super::text::render_text(&rec, &an),
            esc: printable,
            headings: [
                "\nTimers (",
                "\nProgress series (",
                "\nParameters (",
                "\nResources (",
                "\nFindings\n",
                "\nBudgets crossed\n",
                "\nDiagnostics\n",
                "\nMarks (",
            ],
        },
        Format {
            name: "markdown",
            out: super::markdown::render_markdown(&rec, &an, None),
            esc: md_escape,
            headings: [
                "\n## Timers",
                "\n## Progress series",
                "\n## Parameters",
                "\n## Resources",
                "\n## Findings",
                "\n## Budgets crossed",
                "\n## Diagnostics",
                "\n## Marks",
            ],
        },
        Format {
            name: "html",
            out: super::html::render_html(&rec, &an, &[]),
            esc: html_escape,
            headings: [
                "<h2>Timers</h2>",
                "<h2>Progress series</h2>",
                "<h2>Parameters",
                "<h2>Resources</h2>",
                "<h2>Findings</h2>",
                "<h2>Budgets crossed</h2>",
                "<h2>Diagnostics</h2>",
                "<h2>Marks",
            ],
        },
    ];
    let figs = figures(&doc);
    assert!(figs.len() > 100, "{}", figs.len());
    for f in &formats {
        // The sections come in the same order in every format.
        let at: Vec<usize> = f.headings.iter().map(|h| f.out.find(h).unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{}: {at:?}", f.name);
        for (section, figure) in &figs {
            f.assert_shows(section, figure);
        }
    }
}

/// The writers show what the document holds, not what the record held: a figure changed in
/// the document changes every format.
#[test]
fn writers_take_their_figures_from_the_document() {
    let rec = full_record();
    let an = analyze(&rec);
    let mut doc = RunDocument::build(&rec, &an);
    doc.totals.t.voluntary_ctxsw = 987_654_321;
    doc.marks[0].text = "a mark only the document has".into();
    let outs = [
        super::text::write_text(&doc),
        super::markdown::write_markdown(&doc, None),
        super::html::write_html(&doc, &[]),
    ];
    for o in &outs {
        assert!(o.contains("987654321 voluntary"), "{o}");
        assert!(o.contains("a mark only the document has"), "{o}");
    }
    let json = super::json::from_document(&doc, &rec, false, 0.01);
    assert_eq!(json.context_switches.voluntary, 987_654_321);
    assert_eq!(json.marks[0].text, "a mark only the document has");
}
