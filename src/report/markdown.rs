//! `--format markdown`: GitHub-flavoured Markdown tables, a writer of the [`RunDocument`], with
//! links to the PNG charts when `--png-dir` names where they are. Every workload-provided text is
//! escaped.

use std::fmt::Write;

use super::document::{
    budget_figures, diagnostics_summary, parameter_series, progress_series, RunDocument,
    MARKS_SHOWN, NO_FINDINGS, STILL_OPEN,
};
use super::markup;
use super::units::{md_escape as e, truncate};
use super::{Renderer, ReportError};
use crate::analyze::Analysis;
use crate::model::RunRecord;

pub struct MarkdownRenderer {
    /// Directory (as it should appear in links) holding the PNG charts.
    pub png_dir: Option<String>,
}

impl Renderer for MarkdownRenderer {
    fn render(&self, rec: &RunRecord, an: &Analysis) -> Result<Vec<u8>, ReportError> {
        Ok(render_markdown(rec, an, self.png_dir.as_deref()).into_bytes())
    }
}

/// A link destination: characters that would end or break it are percent-encoded.
fn link_path(dir: &str, file: &str) -> String {
    let mut p = dir.trim_end_matches('/').to_string();
    p.push('/');
    p.push_str(file);
    let mut o = String::new();
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"/._-~".contains(&b) {
            o.push(b as char);
        } else {
            let _ = write!(o, "%{b:02X}");
        }
    }
    o
}

pub fn render_markdown(rec: &RunRecord, an: &Analysis, png_dir: Option<&str>) -> String {
    let charts: Vec<(&str, &str)> = match png_dir {
        Some(_) => super::png::planned(rec),
        None => Vec::new(),
    };
    write_markdown(&RunDocument::build(rec, an), png_dir.map(|d| (d, charts)))
}

/// The Markdown of a run document; `charts` is the directory of the PNG charts and the charts
/// (file name, what it shows) to link.
pub fn write_markdown(doc: &RunDocument, charts: Option<(&str, Vec<(&str, &str)>)>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {}\n", doc.title(|n| format!(": {}", e(n))));
    let command = format!(
        "`{}`",
        truncate(&doc.header.command, 300)
            .replace('`', "'")
            .replace('|', "\\|")
    );
    o.push_str(&markup::header_table(doc, e, command).markdown());
    if !doc.timers.rows.is_empty() {
        o.push_str("\n## Timers\n\n");
        o.push_str(&markup::timers_table(doc, e, "&nbsp;&nbsp;").markdown());
        if doc.timers.any_still_open() {
            let _ = writeln!(o, "\n{} {STILL_OPEN}", e("*"));
        }
    }
    if progress_series(&doc.series).next().is_some() {
        o.push_str("\n## Progress series\n\n");
        o.push_str(&markup::series_table(doc, e).markdown());
    }
    if parameter_series(&doc.series).next().is_some() {
        o.push_str("\n## Parameters (per iteration)\n\n");
        o.push_str(&markup::parameters_table(doc, e).markdown());
    }
    let _ = writeln!(o, "\n## Resources\n\n{}.\n", doc.resources.sampling());
    o.push_str(&markup::resources_table(doc).markdown());
    o.push_str("\n## Findings\n\n");
    if doc.findings.is_empty() {
        let _ = writeln!(o, "None: {NO_FINDINGS}.");
    }
    for f in &doc.findings {
        let _ = writeln!(
            o,
            "- **{}**: {}",
            f.kind.as_str().replace('_', " "),
            e(&f.message)
        );
    }
    if !doc.budgets.is_empty() {
        o.push_str("\n## Budgets crossed\n\n");
        for v in &doc.budgets {
            let [value, limit, at] = budget_figures(v);
            let _ = writeln!(o, "- **{}** = {value} > {limit} at {at}", e(&v.metric));
        }
    }
    let d = &doc.diagnostics;
    let _ = writeln!(o, "\n## Diagnostics\n\n{}.", diagnostics_summary(d));
    for ex in &d.malformed_examples {
        let _ = writeln!(o, "- malformed: {}", e(&truncate(ex, 120)));
    }
    for w in &d.warnings {
        let _ = writeln!(o, "- **warning**: {}", e(w));
    }
    if !doc.marks.is_empty() {
        let _ = writeln!(o, "\n## Marks ({})\n", doc.marks.len());
        o.push_str(&markup::marks_table(doc, e).markdown());
        if doc.marks.len() > MARKS_SHOWN {
            let _ = writeln!(o, "\n… {} more", doc.marks.len() - MARKS_SHOWN);
        }
    }
    if let Some((dir, charts)) = charts {
        o.push_str("\n## Charts\n\n");
        for (file, what) in charts {
            let _ = writeln!(o, "![{what}]({})\n", link_path(dir, file));
        }
    }
    o
}
