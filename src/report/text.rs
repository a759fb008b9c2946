//! `--format text`: the terminal summary. Every total names its source; workload text has its
//! control characters replaced so it cannot drive the terminal.

use std::fmt::Write;

use super::units::{fmt_bytes, fmt_num, fmt_secs, opt, printable, truncate};
use super::{fmt_rfc3339, Renderer, ReportError};
use crate::analyze::Analysis;
use crate::model::{RunRecord, TotalSource};

pub struct TextRenderer;

impl Renderer for TextRenderer {
    fn render(&self, rec: &RunRecord, an: &Analysis) -> Result<Vec<u8>, ReportError> {
        Ok(render_text(rec, an).into_bytes())
    }
}

/// Columns: the first `left` are left-aligned, the others right-aligned.
pub fn table(head: &[&str], rows: &[Vec<String>], left: usize) -> String {
    let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        out.push_str("  ");
        let n = cells.len();
        for (i, c) in cells.into_iter().enumerate() {
            let pad = w[i].saturating_sub(c.chars().count());
            if i < left {
                out.push_str(c);
                if i + 1 < n {
                    out.push_str(&" ".repeat(pad));
                }
            } else {
                out.push_str(&" ".repeat(pad));
                out.push_str(c);
            }
            if i + 1 < n {
                out.push_str("  ");
            }
        }
        out.push('\n');
    };
    line(head.to_vec(), &mut out);
    for r in rows {
        line(r.iter().map(|s| s.as_str()).collect(), &mut out);
    }
    out
}

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

pub(crate) fn io_source_text(s: Option<TotalSource>) -> &'static str {
    match s {
        Some(TotalSource::ReaperIo) => "perfmon's /proc/self/io, into which reaped children fold",
        Some(TotalSource::Cgroup) => "the run's cgroup",
        Some(TotalSource::Sampled) => "sampled, last value",
        Some(TotalSource::Rusage) => "rusage of reaped processes",
        None => "source unknown",
    }
}

/// One line per GPU, or the reason there is none.
pub(crate) fn gpu_lines(rec: &RunRecord, an: &Analysis) -> Vec<String> {
    if an.resources.gpus.is_empty() {
        return vec![format!("none ({})", printable(&rec.gpu_status))];
    }
    an.resources
        .gpus
        .iter()
        .map(|g| {
            format!(
                "{}: {}  util mean {} peak {}  memory peak {}{}",
                g.index,
                printable(&g.name),
                opt(g.util_mean_pct, |v| format!("{v:.0}%")),
                opt(g.util_peak_pct, |v| format!("{v:.0}%")),
                opt(g.mem_peak_bytes, fmt_bytes),
                g.mem_total_bytes
                    .map(|b| format!(" of {}", fmt_bytes(b)))
                    .unwrap_or_default()
            )
        })
        .collect()
}

pub fn render_text(rec: &RunRecord, an: &Analysis) -> String {
    let m = &rec.meta;
    let t = &rec.totals;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "perfmon run {}{}  {}{}",
        m.id,
        m.name
            .as_deref()
            .map(|n| format!(" \"{}\"", printable(n)))
            .unwrap_or_default(),
        m.status.as_str(),
        match (m.exit_code, m.signal) {
            (Some(c), Some(s)) => format!(" (exit {c}, signal {s})"),
            (Some(c), None) => format!(" (exit {c})"),
            (None, Some(s)) => format!(" (signal {s})"),
            (None, None) => String::new(),
        }
    );
    let kv = |o: &mut String, k: &str, v: String| {
        let _ = writeln!(o, "  {k:<18}{v}");
    };
    kv(
        &mut o,
        "command",
        printable(&truncate(&m.command.join(" "), 200)),
    );
    kv(&mut o, "started", fmt_rfc3339(m.started_at_ms));
    kv(
        &mut o,
        "host",
        format!(
            "{} ({} cores, {}, {} {})",
            printable(&m.host.hostname),
            m.host.cores,
            fmt_bytes(m.host.memory_bytes),
            printable(&m.host.os),
            printable(&m.host.kernel)
        ),
    );
    if let Some(g) = &m.git {
        kv(&mut o, "git", super::units::git_summary(g, printable));
    }
    if !m.tags.is_empty() {
        let tags: Vec<String> = m.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        kv(&mut o, "tags", printable(&tags.join(", ")));
    }
    o.push_str("\nTotals\n");
    kv(&mut o, "wall", opt(m.wall_s, fmt_secs));
    let rus = "rusage of reaped processes";
    kv(
        &mut o,
        "CPU user",
        format!("{}  ({rus})", fmt_secs(t.cpu_user_us as f64 / 1e6)),
    );
    kv(
        &mut o,
        "CPU system",
        format!("{}  ({rus})", fmt_secs(t.cpu_system_us as f64 / 1e6)),
    );
    kv(
        &mut o,
        "peak RSS",
        format!(
            "{}  (largest single process, rusage)",
            fmt_bytes(t.peak_rss_bytes)
        ),
    );
    kv(
        &mut o,
        "peak tree RSS",
        format!(
            "{}  (largest sampled sum over the tree)",
            fmt_bytes(t.peak_tree_rss_bytes)
        ),
    );
    kv(
        &mut o,
        "IO read / write",
        format!(
            "{} / {}  ({})",
            fmt_bytes(t.io_read_bytes),
            fmt_bytes(t.io_write_bytes),
            io_source_text(t.io_source)
        ),
    );
    kv(
        &mut o,
        "page faults",
        format!(
            "{} minor, {} major  ({rus})",
            t.minor_faults, t.major_faults
        ),
    );
    kv(
        &mut o,
        "context switches",
        format!(
            "{} voluntary, {} involuntary  ({rus})",
            t.voluntary_ctxsw, t.involuntary_ctxsw
        ),
    );
    kv(
        &mut o,
        "processes",
        format!("{} seen, {} reaped", t.processes_seen, t.processes_reaped),
    );
    if !t.left_behind.is_empty() {
        let l: Vec<String> = t
            .left_behind
            .iter()
            .map(|(p, n)| format!("{p} {}", printable(n)))
            .collect();
        kv(&mut o, "left behind", l.join(", "));
    }
    kv(
        &mut o,
        "perfmon overhead",
        format!(
            "{} CPU, {} peak RSS",
            fmt_secs(t.perfmon_cpu_us as f64 / 1e6),
            fmt_bytes(t.perfmon_peak_rss_kib * 1024)
        ),
    );
    for (i, g) in gpu_lines(rec, an).into_iter().enumerate() {
        kv(&mut o, if i == 0 { "GPU" } else { "" }, g);
    }

    if !an.timers.is_empty() {
        let _ = writeln!(
            o,
            "\nTimers ({} names, {} spans)",
            an.timers.len(),
            rec.timers.len()
        );
        let rows: Vec<Vec<String>> = an
            .timers
            .iter()
            .map(|s| {
                vec![
                    format!(
                        "{}{}{}",
                        "  ".repeat(s.min_depth as usize),
                        printable(&truncate(&s.name, 40)),
                        if s.closed_at_exit > 0 { " *" } else { "" }
                    ),
                    s.count.to_string(),
                    fmt_secs(s.total_s),
                    fmt_secs(s.mean_s),
                    fmt_secs(s.min_s),
                    fmt_secs(s.max_s),
                    fmt_secs(s.self_s),
                    pct(s.share_of_wall),
                ]
            })
            .collect();
        o.push_str(&table(
            &[
                "NAME", "COUNT", "TOTAL", "MEAN", "MIN", "MAX", "SELF", "WALL%",
            ],
            &rows,
            1,
        ));
        if an.timers.iter().any(|s| s.closed_at_exit > 0) {
            o.push_str("  * still open at exit, closed by perfmon\n");
        }
    }

    if !an.series.is_empty() {
        let _ = writeln!(o, "\nProgress series ({})", an.series.len());
        let rows: Vec<Vec<String>> = an
            .series
            .iter()
            .map(|s| {
                vec![
                    format!(
                        "{}{}",
                        printable(&truncate(&s.name, 30)),
                        if s.main { " (main)" } else { "" }
                    ),
                    printable(&truncate(s.algorithm.as_deref().unwrap_or("-"), 20)),
                    format!(
                        "{}{}",
                        match s.direction {
                            crate::model::Direction::Minimize => "min",
                            crate::model::Direction::Maximize => "max",
                        },
                        if s.direction_source == crate::analyze::DirectionSource::Assumed {
                            "?"
                        } else {
                            ""
                        }
                    ),
                    s.points.to_string(),
                    opt(s.first, fmt_num),
                    opt(s.best, fmt_num),
                    opt(s.final_value, fmt_num),
                    match (s.best_iter, s.best_t_s) {
                        (Some(i), Some(t)) => format!("#{i} @ {}", fmt_secs(t)),
                        _ => "-".into(),
                    },
                    match (s.converged_iter, s.converged_t_s) {
                        (Some(i), Some(t)) => format!("#{i} @ {}", fmt_secs(t)),
                        _ => "-".into(),
                    },
                    opt(s.stagnation_iters, |v| v.to_string()),
                    opt(s.mean_s_per_iter, fmt_secs),
                ]
            })
            .collect();
        o.push_str(&table(
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
                "STAGNANT",
                "PER ITER",
            ],
            &rows,
            3,
        ));
        if an
            .series
            .iter()
            .any(|s| s.direction_source == crate::analyze::DirectionSource::Assumed)
        {
            o.push_str("  ? direction unknown, minimize assumed\n");
        }
    }

    let r = &an.resources;
    let _ = writeln!(
        o,
        "\nResources ({} samples every {} ms)",
        r.samples, m.interval_ms
    );
    kv(
        &mut o,
        "CPU",
        match (r.cpu_cores_mean, r.cpu_cores_peak) {
            (Some(mean), Some(peak)) => format!(
                "{mean:.2} cores mean, {peak:.2} peak, of {} cores ({})",
                r.host_cores,
                opt(r.cpu_host_share_pct, |p| format!("{p:.1}% of the host"))
            ),
            _ => "-".into(),
        },
    );
    kv(
        &mut o,
        "tree RSS",
        match (r.rss_mean_bytes, r.rss_peak_bytes) {
            (Some(a), Some(p)) => format!("{} mean, {} peak", fmt_bytes(a), fmt_bytes(p)),
            _ => "-".into(),
        },
    );
    let mbs = |a: Option<f64>, p: Option<f64>| match (a, p) {
        (Some(a), Some(p)) => format!("{a:.2} MB/s mean, {p:.2} MB/s peak"),
        _ => "-".into(),
    };
    kv(&mut o, "disk read", mbs(r.read_mb_s_mean, r.read_mb_s_peak));
    kv(
        &mut o,
        "disk write",
        mbs(r.write_mb_s_mean, r.write_mb_s_peak),
    );

    o.push_str("\nFindings\n");
    if an.findings.is_empty() {
        o.push_str("  none: no measurement crossed a threshold\n");
    }
    for f in &an.findings {
        let _ = writeln!(o, "  - [{}] {}", f.kind.as_str(), printable(&f.message));
    }

    if !rec.violations.is_empty() {
        o.push_str("\nBudgets crossed\n");
        for v in &rec.violations {
            let _ = writeln!(
                o,
                "  - {} = {} > {} at {}",
                printable(&v.metric),
                crate::report::units::fmt_metric(&v.metric, v.value),
                crate::report::units::fmt_metric(&v.metric, v.limit),
                fmt_secs(v.t_s)
            );
        }
    }

    let d = &rec.diagnostics;
    o.push_str("\nDiagnostics\n");
    let _ = writeln!(
        o,
        "  {} output lines read, {} malformed protocol lines, {} unmatched timer stops, {} truncated lines",
        d.lines_seen, d.malformed_lines, d.unmatched_stops, d.truncated_lines
    );
    for ex in &d.malformed_examples {
        let _ = writeln!(o, "    malformed: {}", printable(&truncate(ex, 120)));
    }
    for w in &d.warnings {
        let _ = writeln!(o, "  warning: {}", printable(w));
    }
    if !rec.marks.is_empty() {
        let _ = writeln!(o, "\nMarks ({})", rec.marks.len());
        for k in rec.marks.iter().take(20) {
            let _ = writeln!(
                o,
                "  {:>10}  {}",
                fmt_secs(k.t_s),
                printable(&truncate(&k.text, 100))
            );
        }
        if rec.marks.len() > 20 {
            let _ = writeln!(o, "  ... {} more", rec.marks.len() - 20);
        }
    }
    o
}
