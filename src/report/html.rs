//! `--format html`: one self-contained file. The Markdown-like sections are rendered as HTML
//! tables, the PNG charts are inlined as base64 `data:` URIs, the style sheet is inline, and
//! nothing refers to any external URL. All workload text is HTML-escaped.

use std::fmt::Write;

use super::png::{render_png, PngOptions};
use super::text::{gpu_lines, io_source_text};
use super::units::{fmt_bytes, fmt_num, fmt_secs, html_escape as e, opt, truncate};
use super::{Renderer, ReportError};
use crate::analyze::Analysis;
use crate::model::RunRecord;

pub struct HtmlRenderer {
    pub png: PngOptions,
}

impl Renderer for HtmlRenderer {
    fn render(&self, rec: &RunRecord, an: &Analysis) -> Result<Vec<u8>, ReportError> {
        let charts = render_png(rec, an, &self.png)?;
        Ok(render_html(rec, an, &charts.files, &charts.skipped).into_bytes())
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

fn table(o: &mut String, head: &[&str], rows: &[Vec<String>], left: usize) {
    o.push_str("<table><tr>");
    for h in head {
        let _ = write!(o, "<th>{h}</th>");
    }
    o.push_str("</tr>\n");
    for r in rows {
        o.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            if i < left {
                let _ = write!(o, "<td>{c}</td>");
            } else {
                let _ = write!(o, "<td class=\"n\">{c}</td>");
            }
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table>\n");
}

/// The page; `charts` are (file name, PNG bytes), `skipped` the notes of charts not drawn.
pub fn render_html(
    rec: &RunRecord,
    an: &Analysis,
    charts: &[(String, Vec<u8>)],
    skipped: &[String],
) -> String {
    let m = &rec.meta;
    let t = &rec.totals;
    let title = format!(
        "perfmon run {}{}",
        m.id,
        m.name
            .as_deref()
            .map(|n| format!(": {}", e(n)))
            .unwrap_or_default()
    );
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\
<title>{title}</title><style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n"
    );
    let mut kv: Vec<Vec<String>> = Vec::new();
    let mut add = |k: &str, v: String| kv.push(vec![k.to_string(), v]);
    add(
        "status",
        format!(
            "{}{}",
            m.status.as_str(),
            m.exit_code
                .map(|c| format!(" (exit {c})"))
                .unwrap_or_default()
        ),
    );
    add(
        "command",
        format!("<code>{}</code>", e(&truncate(&m.command.join(" "), 500))),
    );
    for (k, v) in crate::report::units::meta_rows(m, e) {
        add(k, v);
    }
    add("wall", opt(m.wall_s, fmt_secs));
    add(
        "CPU user / system",
        format!(
            "{} / {} (rusage of reaped processes)",
            fmt_secs(t.cpu_user_us as f64 / 1e6),
            fmt_secs(t.cpu_system_us as f64 / 1e6)
        ),
    );
    add(
        "peak RSS",
        format!(
            "{} (largest single process, rusage)",
            fmt_bytes(t.peak_rss_bytes)
        ),
    );
    add(
        "peak tree RSS",
        format!(
            "{} (largest sampled sum over the tree)",
            fmt_bytes(t.peak_tree_rss_bytes)
        ),
    );
    add(
        "IO read / write",
        format!(
            "{} / {} ({})",
            fmt_bytes(t.io_read_bytes),
            fmt_bytes(t.io_write_bytes),
            e(io_source_text(t.io_source))
        ),
    );
    add(
        "page faults",
        format!("{} minor, {} major", t.minor_faults, t.major_faults),
    );
    add(
        "processes",
        format!(
            "{} seen, {} reaped, {} left behind{}",
            t.processes_seen,
            t.processes_reaped,
            t.left_behind.len(),
            t.left_behind
                .iter()
                .map(|(p, n)| format!(" {p} {}", e(n)))
                .collect::<String>()
        ),
    );
    add(
        "perfmon overhead",
        format!(
            "{} CPU, {} peak RSS",
            fmt_secs(t.perfmon_cpu_us as f64 / 1e6),
            fmt_bytes(t.perfmon_peak_rss_kib * 1024)
        ),
    );
    add(
        "GPU",
        gpu_lines(rec, an)
            .iter()
            .map(|l| e(l))
            .collect::<Vec<_>>()
            .join("<br>"),
    );
    table(&mut o, &["", ""], &kv, 2);

    if !an.timers.is_empty() {
        o.push_str("<h2>Timers</h2>\n");
        let rows: Vec<Vec<String>> = an
            .timers
            .iter()
            .map(|s| {
                vec![
                    format!(
                        "{}{}",
                        "&nbsp;&nbsp;".repeat(s.min_depth as usize),
                        e(&s.name)
                    ),
                    s.count.to_string(),
                    fmt_secs(s.total_s),
                    fmt_secs(s.mean_s),
                    fmt_secs(s.min_s),
                    fmt_secs(s.max_s),
                    fmt_secs(s.self_s),
                    format!("{:.1}%", s.share_of_wall * 100.0),
                ]
            })
            .collect();
        table(
            &mut o,
            &[
                "timer",
                "count",
                "total",
                "mean",
                "min",
                "max",
                "self",
                "share of wall",
            ],
            &rows,
            1,
        );
    }
    if !an.series.is_empty() {
        o.push_str("<h2>Progress series</h2>\n");
        let at = |i: Option<i64>, t: Option<f64>| match (i, t) {
            (Some(i), Some(t)) => format!("#{i} @ {}", fmt_secs(t)),
            _ => "-".into(),
        };
        let rows: Vec<Vec<String>> = an
            .series
            .iter()
            .map(|s| {
                vec![
                    e(&s.name),
                    e(s.algorithm.as_deref().unwrap_or("-")),
                    s.points.to_string(),
                    opt(s.first, fmt_num),
                    opt(s.best, fmt_num),
                    opt(s.final_value, fmt_num),
                    at(s.best_iter, s.best_t_s),
                    at(s.converged_iter, s.converged_t_s),
                ]
            })
            .collect();
        table(
            &mut o,
            &[
                "series",
                "algorithm",
                "points",
                "first",
                "best",
                "final",
                "best at",
                "converged at",
            ],
            &rows,
            2,
        );
    }
    o.push_str("<h2>Findings</h2>\n<ul>\n");
    if an.findings.is_empty() {
        o.push_str("<li>None: no measurement crossed a threshold.</li>\n");
    }
    for f in &an.findings {
        let _ = writeln!(o, "<li><b>{}</b>: {}</li>", f.kind.as_str(), e(&f.message));
    }
    o.push_str("</ul>\n");
    let d = &rec.diagnostics;
    let _ = writeln!(
        o,
        "<h2>Diagnostics</h2>\n<p>{} output lines read, {} malformed protocol lines, {} unmatched timer stops, {} truncated lines.</p>",
        d.lines_seen, d.malformed_lines, d.unmatched_stops, d.truncated_lines
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
    if !charts.is_empty() || !skipped.is_empty() {
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
    for s in skipped {
        let _ = writeln!(o, "<p>{}</p>", e(s));
    }
    o.push_str("</body></html>\n");
    o
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_known() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
    }
}
