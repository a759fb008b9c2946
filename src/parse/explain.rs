//! The per-line account behind `--explain-progress` and `perfmon parse`, and its rendering.
//!
//! Bounds: the first [`MAX_TAKEN`] recognized lines and the first [`MAX_IGNORED`] ignored lines
//! are kept; the rest are only counted (`ParseResult::explain_omitted`). Lines taken by an auto
//! recognizer whose group was never confirmed are reported at the end as
//! `ignored (unconfirmed auto:…)`.

use std::fmt::Write;

use super::series::Store;
use super::{ExplainLine, ParseResult, Stream};

pub const MAX_TAKEN: usize = 10_000;
pub const MAX_IGNORED: usize = 200;
/// Ignored lines shown by [`explain_text`].
const SHOW_IGNORED: usize = 10;
/// Longest line text kept.
const MAX_TEXT: usize = 300;

/// `regex:K` labels without allocating for the first few regexes.
pub fn regex_label(k: usize) -> &'static str {
    const L: [&str; 8] = [
        "regex:0", "regex:1", "regex:2", "regex:3", "regex:4", "regex:5", "regex:6", "regex:7",
    ];
    L.get(k).copied().unwrap_or("regex:8+")
}

#[derive(Default)]
pub struct Recorder {
    lines: Vec<ExplainLine>,
    groups: Vec<(usize, usize)>,
    taken: usize,
    ignored: usize,
    omitted: u64,
}

impl Recorder {
    pub fn record(
        &mut self,
        line_no: u64,
        stream: Stream,
        taken: &str,
        group: Option<usize>,
        s: &[u8],
    ) {
        let is_ignored = taken == "ignored";
        let room = if is_ignored {
            self.ignored < MAX_IGNORED
        } else {
            self.taken < MAX_TAKEN
        };
        if !room {
            self.omitted += 1;
            return;
        }
        if is_ignored {
            self.ignored += 1;
        } else {
            self.taken += 1;
        }
        if let Some(g) = group {
            self.groups.push((self.lines.len(), g));
        }
        let mut line = String::from_utf8_lossy(&s[..s.len().min(MAX_TEXT)]).into_owned();
        if s.len() > MAX_TEXT {
            line.push('…');
        }
        self.lines.push(ExplainLine {
            line_no,
            stream,
            taken_as: taken.to_string(),
            line,
        });
    }

    /// A table header, seen as an ordinary line earlier, turned out to head the rows of `group`.
    pub fn mark_header(&mut self, line_no: u64, group: Option<usize>) {
        if let Some(k) = self.lines.iter().rposition(|l| l.line_no == line_no) {
            if self.lines[k].taken_as == "ignored" {
                self.ignored -= 1;
                self.taken += 1;
            }
            self.lines[k].taken_as = "auto:table header".to_string();
            if let Some(g) = group {
                self.groups.push((k, g));
            }
        }
    }

    pub fn finish(mut self, store: &Store) -> (Vec<ExplainLine>, u64) {
        for &(k, g) in &self.groups {
            if !store.groups[g].promoted {
                let l = &mut self.lines[k];
                l.taken_as = format!("ignored (unconfirmed {})", l.taken_as);
            }
        }
        (self.lines, self.omitted)
    }
}

fn fmt_value(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A human-readable account of what was taken from the output (`--explain-progress`).
pub fn explain_text(r: &ParseResult) -> String {
    let mut o = String::new();
    if !r.explain.is_empty() {
        o.push_str("Lines (recognized, and the first ignored ones):\n");
        let mut shown_ignored = 0;
        let mut hidden_ignored = 0;
        for l in &r.explain {
            if l.taken_as.starts_with("ignored") {
                if shown_ignored >= SHOW_IGNORED {
                    hidden_ignored += 1;
                    continue;
                }
                shown_ignored += 1;
            }
            let stream = if l.stream == Stream::Stderr {
                " [stderr]"
            } else {
                ""
            };
            let _ = writeln!(
                o,
                "{:>6}  {:<28} {}{}",
                l.line_no, l.taken_as, l.line, stream
            );
        }
        if hidden_ignored > 0 || r.explain_omitted > 0 {
            let _ = writeln!(
                o,
                "        … {} more ignored line(s) not shown, {} line(s) beyond the explain limits",
                hidden_ignored, r.explain_omitted
            );
        }
        o.push('\n');
    }
    let _ = writeln!(o, "Series: {}", r.series.len());
    let dirs = crate::analyze::directions(&r.series);
    for (s, (d, from)) in r.series.iter().zip(dirs) {
        let first = s.points.first();
        let last = s.points.last();
        let _ = writeln!(
            o,
            "  {}{}  source={}  algorithm={}  direction={} ({})  role={}  points={}  first={}  last={}",
            if s.main { "* " } else { "  " },
            s.name,
            s.source,
            s.algorithm.as_deref().unwrap_or("-"),
            match d {
                crate::model::Direction::Minimize => "minimize",
                crate::model::Direction::Maximize => "maximize",
            },
            from.as_str(),
            crate::analyze::role_of(s).as_str(),
            s.points.len(),
            first.map_or("-".into(), |p| format!("{}@{}", fmt_value(p.value), p.iter)),
            last.map_or("-".into(), |p| format!("{}@{}", fmt_value(p.value), p.iter)),
        );
    }
    if r.series.iter().any(|s| s.main) {
        o.push_str("  (* = main series)\n");
    }
    let _ = writeln!(o, "Timers: {}", r.timers.len());
    for t in r.timers.iter().take(50) {
        let _ = writeln!(
            o,
            "  {}{}  {:.3}s..{:.3}s{}",
            "  ".repeat(t.depth as usize),
            t.name,
            t.start_s,
            t.end_s,
            if t.closed_at_exit {
                "  (still open at exit)"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(o, "Marks: {}", r.marks.len());
    for m in r.marks.iter().take(20) {
        let _ = writeln!(o, "  {:.3}s  {}", m.t_s, m.text);
    }
    let d = &r.diagnostics;
    let _ = writeln!(
        o,
        "Diagnostics: {} lines, {} malformed protocol line(s), {} unmatched timer stop(s), {} truncated line(s)",
        d.lines_seen, d.malformed_lines, d.unmatched_stops, d.truncated_lines
    );
    for e in &d.malformed_examples {
        let _ = writeln!(o, "  malformed: {e}");
    }
    o
}
