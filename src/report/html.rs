//! `--format html`: one self-contained file, a writer of the [`RunDocument`]. The sections are
//! the Markdown writer's tables ([`super::markup`]) as HTML tables, the PNG charts are inlined as
//! base64 `data:` URIs, the style sheet is inline, and nothing refers to any external URL. All
//! workload text is HTML-escaped.

use std::fmt::Write;

use super::document::{
    budget_figures, diagnostics_summary, parameter_series, progress_series, RunDocument,
    MARKS_SHOWN, NO_FINDINGS, STILL_OPEN,
};
use super::markup;
use super::png::{render_png, PngOptions};
use super::units::{html_escape as e, truncate};
use super::{Renderer, ReportError};
use crate::analyze::Analysis;
use crate::model::RunRecord;

pub struct HtmlRenderer {
    pub png: PngOptions,
}

impl Renderer for HtmlRenderer {
    fn render(&self, rec: &RunRecord, an: &Analysis) -> Result<Vec<u8>, ReportError> {
        let charts = render_png(rec, an, &self.png)?;
        // The notes of charts not drawn ("timers.png skipped: no timers") are for the PNG
        // command's stderr: the page's sections already say what the run lacks.
        Ok(render_html(rec, an, &charts.files).into_bytes())
    }
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut o = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                o.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                o.push('=');
            }
        }
    }
    o
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px}\
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}\
img{max-width:100%;border:1px solid #ddd;margin:1em 0}code{background:#f3f3f3}";

/// The page of a run; `charts` are (file name, PNG bytes).
pub fn render_html(rec: &RunRecord, an: &Analysis, charts: &[(String, Vec<u8>)]) -> String {
    write_html(&RunDocument::build(rec, an), charts)
}

/// The page of a run document.
pub fn write_html(doc: &RunDocument, charts: &[(String, Vec<u8>)]) -> String {
    let title = doc.title(|n| format!(": {}", e(n)));
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\
<title>{title}</title><style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n"
    );
    let command = format!("<code>{}</code>", e(&truncate(&doc.header.command, 500)));
    o.push_str(&markup::header_table(doc, e, command).html());
    if !doc.timers.rows.is_empty() {
        o.push_str("<h2>Timers</h2>\n");
        o.push_str(&markup::timers_table(doc, e, "&nbsp;&nbsp;").html());
        if doc.timers.any_still_open() {
            let _ = writeln!(o, "<p>* {STILL_OPEN}</p>");
        }
    }
    if progress_series(&doc.series).next().is_some() {
        o.push_str("<h2>Progress series</h2>\n");
        o.push_str(&markup::series_table(doc, e).html());
    }
    if parameter_series(&doc.series).next().is_some() {
        o.push_str("<h2>Parameters (per iteration)</h2>\n");
        o.push_str(&markup::parameters_table(doc, e).html());
    }
    let _ = writeln!(
        o,
        "<h2>Resources</h2>\n<p>{}.</p>",
        doc.resources.sampling()
    );
    o.push_str(&markup::resources_table(doc).html());
    o.push_str("<h2>Findings</h2>\n<ul>\n");
    if doc.findings.is_empty() {
        let _ = writeln!(o, "<li>None: {NO_FINDINGS}.</li>");
    }
    for f in &doc.findings {
        let _ = writeln!(o, "<li><b>{}</b>: {}</li>", f.kind.as_str(), e(&f.message));
    }
    o.push_str("</ul>\n");
    if !doc.budgets.is_empty() {
        o.push_str("<h2>Budgets crossed</h2>\n<ul>\n");
        for v in &doc.budgets {
            let [value, limit, at] = budget_figures(v);
            let _ = writeln!(
                o,
                "<li><b>{}</b> = {value} &gt; {limit} at {at}</li>",
                e(&v.metric)
            );
        }
        o.push_str("</ul>\n");
    }
    let d = &doc.diagnostics;
    let _ = writeln!(
        o,
        "<h2>Diagnostics</h2>\n<p>{}.</p>",
        diagnostics_summary(d)
    );
    for ex in &d.malformed_examples {
        let _ = writeln!(
            o,
            "<p>malformed: <code>{}</code></p>",
            e(&truncate(ex, 120))
        );
    }
    for w in &d.warnings {
        let _ = writeln!(o, "<p class=\"warning\"><b>warning</b>: {}</p>", e(w));
    }
    if !doc.marks.is_empty() {
        let _ = writeln!(o, "<h2>Marks ({})</h2>", doc.marks.len());
        o.push_str(&markup::marks_table(doc, e).html());
        if doc.marks.len() > MARKS_SHOWN {
            let _ = writeln!(o, "<p>… {} more</p>", doc.marks.len() - MARKS_SHOWN);
        }
    }
    if !charts.is_empty() {
        o.push_str("<h2>Charts</h2>\n");
    }
    for (name, png) in charts {
        let _ = writeln!(
            o,
            "<figure><img alt=\"{}\" src=\"data:image/png;base64,{}\"></figure>",
            e(name),
            base64(png)
        );
    }
    o.push_str("</body></html>\n");
    o
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A run without timers: the page is the whole report (resources table, each series'
    /// direction and its source, the main series, stagnation, the parameters) with its charts,
    /// and no note meant for the PNG command.
    #[test]
    fn the_page_is_a_complete_report_without_internal_notes() {
        let mut rec = crate::report::fixture::record();
        rec.timers.clear();
        let an = crate::analyze::analyze(&rec);
        let page = HtmlRenderer {
            png: PngOptions::default(),
        }
        .render(&rec, &an)
        .unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(!page.contains("skipped"), "{page}");
        assert!(!page.contains("<h2>Timers</h2>"));
        for want in [
            "<h2>Resources</h2>",
            "<th>resource</th>",
            "loss (main)",
            "minimize (recorded)",
            "maximize (name)",
            "<th>stagnant iters</th>",
            "<th>flat for</th>",
            "still improving",
            "<h2>Parameters (per iteration)</h2>",
            "alt=\"convergence.png\"",
            "alt=\"resources.png\"",
        ] {
            assert!(page.contains(want), "{want}: {page}");
        }
    }

    #[test]
    fn base64_known() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
    }
}
