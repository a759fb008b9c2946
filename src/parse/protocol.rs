//! The `@perfmon` line protocol, a contract between a program and perfmon.
//!
//! ```text
//! line     = "@perfmon" SP command [CR]
//! command  = "timer" SP ("start" | "stop") SP name
//!          | "progress" 1*(SP field)
//!          | "mark" SP text
//! name     = DQUOTE 1*(any byte but DQUOTE) DQUOTE      ; "Data Loading"
//!          | 1*byte                                     ; the rest of the line, trimmed
//! field    = "algo=" (word | quoted)                     ; algorithm the values belong to
//!          | "iter=" integer                             ; iteration (optional: default last+1)
//!          | "direction=" ("min" | "max" | "minimize" | "maximize")
//!          | key "=" number                              ; one point of series `key`
//! key      = letter *(letter | digit | "_" | "-" | "." | "/")
//! number   = decimal or scientific float, "nan", "inf", "-inf"
//! SP       = 1*(" " | TAB)
//! ```
//!
//! Semantics: timers nest (a start inside an open timer becomes its child: depth+1, parent = the
//! enclosing span's index in the span list); the same name may run many times; `stop NAME`
//! closes the innermost open timer of that name (timers opened inside it and still open stay
//! open); a stop with no open timer of that name counts as an unmatched stop; timers open at the
//! end are closed at the end time with `closed_at_exit`. Each progress key is a series named
//! `key` of algorithm `algo` (none when absent), so one run may carry several algorithms.
//! `direction=` applies to every key on its line. Any other `@perfmon ` line is malformed: it is
//! counted (with the first few kept as examples) and otherwise ignored. Lines from stdout and
//! stderr are read alike; times are the arrival times the runner gives.

use crate::model::{Direction, Mark, ParseDiagnostics, TimerSpan};

use super::lex::{parse_int, parse_num};
use super::series::{Class, Store};

/// Malformed lines kept as examples.
const MAX_EXAMPLES: usize = 5;

/// What a protocol line was, for explain.
pub const TIMER_START: &str = "protocol timer start";
pub const TIMER_STOP: &str = "protocol timer stop";
pub const PROGRESS: &str = "protocol progress";
pub const MARK: &str = "protocol mark";
pub const MALFORMED: &str = "protocol malformed";

#[derive(Default)]
pub struct Protocol {
    pub timers: Vec<TimerSpan>,
    /// Indices of open spans, innermost last.
    open: Vec<usize>,
    pub marks: Vec<Mark>,
    /// Scratch (key span, value) of the line being read.
    fields: Vec<((usize, usize), f64)>,
}

fn is_space(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn trim(s: &[u8]) -> &[u8] {
    let a = s.iter().position(|&c| !is_space(c)).unwrap_or(s.len());
    let b = s.iter().rposition(|&c| !is_space(c)).map_or(a, |p| p + 1);
    &s[a..b.max(a)]
}

/// A timer name: quoted, or the rest trimmed.
fn name_of(rest: &[u8]) -> Option<&[u8]> {
    let r = trim(rest);
    if let Some(q) = r.strip_prefix(b"\"") {
        let end = memchr::memchr(b'"', q)?;
        if !trim(&q[end + 1..]).is_empty() || end == 0 {
            return None;
        }
        return Some(&q[..end]);
    }
    (!r.is_empty()).then_some(r)
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Protocol {
    /// Reads one protocol line (after `@perfmon `); returns what it was taken as.
    pub fn feed(
        &mut self,
        body: &[u8],
        t_s: f64,
        store: &mut Store,
        diag: &mut ParseDiagnostics,
        whole: &[u8],
    ) -> &'static str {
        let taken = self.feed_inner(body, t_s, store, diag);
        if taken == MALFORMED {
            diag.malformed_lines += 1;
            if diag.malformed_examples.len() < MAX_EXAMPLES {
                let mut ex = lossy(&whole[..whole.len().min(200)]);
                if whole.len() > 200 {
                    ex.push('…');
                }
                diag.malformed_examples.push(ex);
            }
        }
        taken
    }

    fn feed_inner(
        &mut self,
        body: &[u8],
        t_s: f64,
        store: &mut Store,
        diag: &mut ParseDiagnostics,
    ) -> &'static str {
        let body = trim(body);
        if let Some(rest) = body.strip_prefix(b"progress") {
            if rest.first().is_some_and(|&c| is_space(c)) && self.progress(rest, t_s, store) {
                return PROGRESS;
            }
        } else if let Some(rest) = body.strip_prefix(b"timer") {
            let rest = trim(rest);
            if let Some(n) = rest
                .strip_prefix(b"start")
                .filter(|n| n.first().is_some_and(|&c| is_space(c)))
            {
                if let Some(name) = name_of(n) {
                    self.start(lossy(name), t_s);
                    return TIMER_START;
                }
            } else if let Some(n) = rest
                .strip_prefix(b"stop")
                .filter(|n| n.first().is_some_and(|&c| is_space(c)))
            {
                if let Some(name) = name_of(n) {
                    self.stop(name, t_s, diag);
                    return TIMER_STOP;
                }
            }
        } else if let Some(rest) = body.strip_prefix(b"mark") {
            let text = trim(rest);
            if rest.first().is_some_and(|&c| is_space(c)) && !text.is_empty() {
                self.marks.push(Mark {
                    t_s,
                    text: lossy(text),
                });
                return MARK;
            }
        }
        MALFORMED
    }

    /// The innermost timer still open: its name and start (seconds since the run started).
    pub fn innermost_open(&self) -> Option<(&str, f64)> {
        let t = &self.timers[*self.open.last()?];
        Some((t.name.as_str(), t.start_s))
    }

    fn start(&mut self, name: String, t_s: f64) {
        let parent = self.open.last().copied();
        self.timers.push(TimerSpan {
            name,
            start_s: t_s,
            end_s: f64::NAN,
            depth: self.open.len() as u32,
            parent,
            closed_at_exit: false,
        });
        self.open.push(self.timers.len() - 1);
    }

    fn stop(&mut self, name: &[u8], t_s: f64, diag: &mut ParseDiagnostics) {
        let name = String::from_utf8_lossy(name);
        match self.open.iter().rposition(|&i| self.timers[i].name == name) {
            Some(k) => {
                let i = self.open.remove(k);
                self.timers[i].end_s = t_s;
            }
            None => diag.unmatched_stops += 1,
        }
    }

    /// Parses the fields of a progress line; false when malformed (nothing is recorded then).
    fn progress(&mut self, rest: &[u8], t_s: f64, store: &mut Store) -> bool {
        let mut algo: Option<&[u8]> = None;
        let mut iter: Option<i64> = None;
        let mut dir: Option<Direction> = None;
        self.fields.clear();
        let n = rest.len();
        let mut i = 0;
        loop {
            while i < n && is_space(rest[i]) {
                i += 1;
            }
            if i >= n {
                break;
            }
            let ks = i;
            while i < n && rest[i] != b'=' && !is_space(rest[i]) {
                i += 1;
            }
            if i >= n || rest[i] != b'=' || i == ks {
                return false;
            }
            let key = &rest[ks..i];
            i += 1;
            let vs = i;
            let value: &[u8] = if rest.get(i) == Some(&b'"') {
                let Some(e) = memchr::memchr(b'"', &rest[i + 1..]) else {
                    return false;
                };
                i += e + 2;
                &rest[vs + 1..vs + 1 + e]
            } else {
                while i < n && !is_space(rest[i]) {
                    i += 1;
                }
                &rest[vs..i]
            };
            match key {
                b"algo" => algo = Some(value).filter(|v| !v.is_empty()),
                b"iter" => match parse_int(value) {
                    Some(v) => iter = Some(v),
                    None => return false,
                },
                b"direction" => {
                    dir = match value {
                        b"min" | b"minimize" => Some(Direction::Minimize),
                        b"max" | b"maximize" => Some(Direction::Maximize),
                        _ => return false,
                    }
                }
                _ => {
                    let ok = key[0].is_ascii_alphabetic()
                        && key.iter().all(|&c| {
                            c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'/')
                        });
                    if !ok {
                        return false;
                    }
                    match parse_num(value) {
                        Some(v) => self.fields.push(((ks, ks + key.len()), v)),
                        None => return false,
                    }
                }
            }
        }
        if self.fields.is_empty() {
            return false;
        }
        for (pos, &((a, b), v)) in self.fields.iter().enumerate() {
            store.add_keyed(
                pos.min(63),
                Class::Protocol,
                "protocol",
                algo,
                &rest[a..b],
                iter,
                t_s,
                v,
                dir,
            );
        }
        true
    }

    /// Closes the timers still open at `end_s`.
    pub fn finish(&mut self, end_s: f64) {
        for i in self.open.drain(..) {
            let t = &mut self.timers[i];
            t.end_s = end_s.max(t.start_s);
            t.closed_at_exit = true;
        }
    }
}
