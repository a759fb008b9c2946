//! `--format markdown`: GitHub-flavoured Markdown tables, with links to the PNG charts when
//! `--png-dir` names where they are. Every workload-provided text is escaped.

use std::fmt::Write;

use super::text::{gpu_lines, io_source_text};
use super::units::{fmt_bytes, fmt_num, fmt_secs, md_escape as e, opt, truncate};
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

fn row(cells: &[String]) -> String {
    format!("| {} |\n", cells.join(" | "))
}

fn head(cols: &[&str], right_from: usize) -> String {
    let mut s = row(&cols.iter().map(|c| c.to_string()).collect::<Vec<_>>());
    let seps: Vec<String> = (0..cols.len())
        .map(|i| {
            if i >= right_from {
                "---:".into()
            } else {
                "---".into()
            }
        })
        .collect();
    s.push_str(&row(&seps));
    s
}

pub fn render_markdown(rec: &RunRecord, an: &Analysis, png_dir: Option<&str>) -> String {
    let m = &rec.meta;
    let t = &rec.totals;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# perfmon run {}{}\n",
        m.id,
        m.name
            .as_deref()
            .map(|n| format!(": {}", e(n)))
            .unwrap_or_default()
    );
    o.push_str(&head(&["", ""], 9));
    let mut kv = |k: &str, v: String| o.push_str(&row(&[k.to_string(), v]));
    kv(
        "status",
        format!(
            "{}{}",
            m.status.as_str(),
            m.exit_code
                .map(|c| format!(" (exit {c})"))
                .unwrap_or_default()
        ),
    );
    kv(
        "command",
        format!(
            "`{}`",
            truncate(&m.command.join(" "), 300)
                .replace('`', "'")
                .replace('|', "\\|")
        ),
    );
    for (k, v) in crate::report::units::meta_rows(m, e) {
        kv(k, v);
    }
    kv("wall", opt(m.wall_s, fmt_secs));
    kv(
        "CPU user / system",
        format!(
            "{} / {} (rusage of reaped processes)",
            fmt_secs(t.cpu_user_us as f64 / 1e6),
            fmt_secs(t.cpu_system_us as f64 / 1e6)
        ),
    );
    kv(
        "peak RSS",
        format!(
            "{} (largest single process, rusage)",
            fmt_bytes(t.peak_rss_bytes)
        ),
    );
    kv(
        "peak tree RSS",
        format!(
            "{} (largest sampled sum over the tree)",
            fmt_bytes(t.peak_tree_rss_bytes)
        ),
    );
    kv(
        "IO read / write",
        format!(
            "{} / {} ({})",
            fmt_bytes(t.io_read_bytes),
            fmt_bytes(t.io_write_bytes),
            e(io_source_text(t.io_source))
        ),
    );
    kv(
        "page faults",
        format!("{} minor, {} major", t.minor_faults, t.major_faults),
    );
    kv(
        "context switches",
        format!(
            "{} voluntary, {} involuntary",
            t.voluntary_ctxsw, t.involuntary_ctxsw
        ),
    );
    kv(
        "processes",
        format!(
            "{} seen, {} reaped, {} left behind{}",
            t.processes_seen,
            t.processes_reaped,
            t.left_behind.len(),
            if t.left_behind.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}",
                    t.left_behind
                        .iter()
                        .map(|(p, n)| format!("{p} {}", e(n)))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ),
    );
    kv(
        "perfmon overhead",
        format!(
            "{} CPU, {} peak RSS",
            fmt_secs(t.perfmon_cpu_us as f64 / 1e6),
            fmt_bytes(t.perfmon_peak_rss_kib * 1024)
        ),
    );
    kv(
        "GPU",
        gpu_lines(rec, an)
            .iter()
            .map(|l| e(l))
            .collect::<Vec<_>>()
            .join("<br>"),
    );

    if !an.timers.is_empty() {
        o.push_str("\n## Timers\n\n");
        o.push_str(&head(
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
            1,
        ));
        for s in &an.timers {
            o.push_str(&row(&[
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
            ]));
        }
    }
    if !an.series.is_empty() {
        o.push_str("\n## Progress series\n\n");
        o.push_str(&head(
            &[
                "series",
                "algorithm",
                "direction",
                "points",
                "first",
                "best",
                "final",
                "best at",
                "converged at",
                "stagnant iters",
            ],
            3,
        ));
        for s in &an.series {
            let at = |i: Option<i64>, t: Option<f64>| match (i, t) {
                (Some(i), Some(t)) => format!("#{i} @ {}", fmt_secs(t)),
                _ => "-".into(),
            };
            o.push_str(&row(&[
                format!("{}{}", e(&s.name), if s.main { " (main)" } else { "" }),
                e(s.algorithm.as_deref().unwrap_or("-")),
                format!(
                    "{} ({})",
                    match s.direction {
                        crate::model::Direction::Minimize => "minimize",
                        crate::model::Direction::Maximize => "maximize",
                    },
                    s.direction_source.as_str()
                ),
                s.points.to_string(),
                opt(s.first, fmt_num),
                opt(s.best, fmt_num),
                opt(s.final_value, fmt_num),
                at(s.best_iter, s.best_t_s),
                at(s.converged_iter, s.converged_t_s),
                opt(s.stagnation_iters, |v| v.to_string()),
            ]));
        }
    }
    let r = &an.resources;
    o.push_str("\n## Resources\n\n");
    o.push_str(&head(&["resource", "mean", "peak"], 1));
    o.push_str(&row(&[
        "CPU (cores)".into(),
        opt(r.cpu_cores_mean, |v| format!("{v:.2} of {}", r.host_cores)),
        opt(r.cpu_cores_peak, |v| format!("{v:.2}")),
    ]));
    o.push_str(&row(&[
        "tree RSS".into(),
        opt(r.rss_mean_bytes, fmt_bytes),
        opt(r.rss_peak_bytes, fmt_bytes),
    ]));
    o.push_str(&row(&[
        "disk read (MB/s)".into(),
        opt(r.read_mb_s_mean, |v| format!("{v:.2}")),
        opt(r.read_mb_s_peak, |v| format!("{v:.2}")),
    ]));
    o.push_str(&row(&[
        "disk write (MB/s)".into(),
        opt(r.write_mb_s_mean, |v| format!("{v:.2}")),
        opt(r.write_mb_s_peak, |v| format!("{v:.2}")),
    ]));
    for g in &r.gpus {
        o.push_str(&row(&[
            format!("GPU {} util", g.index),
            opt(g.util_mean_pct, |v| format!("{v:.0}%")),
            opt(g.util_peak_pct, |v| format!("{v:.0}%")),
        ]));
        o.push_str(&row(&[
            format!("GPU {} memory", g.index),
            "-".into(),
            opt(g.mem_peak_bytes, fmt_bytes),
        ]));
    }
    o.push_str("\n## Findings\n\n");
    if an.findings.is_empty() {
        o.push_str("None: no measurement crossed a threshold.\n");
    }
    for f in &an.findings {
        let _ = writeln!(
            o,
            "- **{}**: {}",
            f.kind.as_str().replace('_', " "),
            e(&f.message)
        );
    }
    if !rec.violations.is_empty() {
        o.push_str("\n## Budgets crossed\n\n");
        for v in &rec.violations {
            let _ = writeln!(
                o,
                "- **{}** = {} > {} at {:.1} s",
                e(&v.metric),
                crate::report::units::fmt_metric(&v.metric, v.value),
                crate::report::units::fmt_metric(&v.metric, v.limit),
                v.t_s
            );
        }
    }
    let d = &rec.diagnostics;
    o.push_str("\n## Diagnostics\n\n");
    let _ = writeln!(o, "{} output lines read, {} malformed protocol lines, {} unmatched timer stops, {} truncated lines.", d.lines_seen, d.malformed_lines, d.unmatched_stops, d.truncated_lines);
    for ex in &d.malformed_examples {
        let _ = writeln!(o, "- malformed: {}", e(&truncate(ex, 120)));
    }
    for w in &d.warnings {
        let _ = writeln!(o, "- **warning**: {}", e(w));
    }
    if let Some(dir) = png_dir {
        o.push_str("\n## Charts\n\n");
        for (file, what) in super::png::planned(rec) {
            let _ = writeln!(o, "![{what}]({})\n", link_path(dir, file));
        }
    }
    o
}
