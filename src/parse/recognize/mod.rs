//! Automatic recognition of the progress that libraries print without the protocol. Each
//! recognizer reads one line shape into a [`Rec`] (names, values, maybe an iteration):
//!
//! - [`json`]: one JSON object per line → `auto:json`
//! - [`bracket`]: `[N]` then pairs → `auto:bracket`
//! - [`table`]: a header row then numeric rows → `auto:table`
//! - [`sentence`]: an iteration phrase (`Iteration 3, loss = 0.52`) → `auto:sentence`
//! - [`kv`]: `key=value` / `key: value` pairs → `auto:kv`
//!
//! Records then gather per name in the [`Store`], which turns a name into a series only when it
//! repeats with increasing iterations (see [`crate::parse::series`]), so one-off log lines with
//! numbers never become series. Lines redrawn with `\r` or coloured with ANSI sequences come
//! here one terminal state at a time ([`crate::parse::term`]).
//!
//! Cost: the dispatch looks at the first non-blank byte (`{`, `[`, digit/sign/`|`, letter) and
//! uses `memchr` for `=`/`:`; a line with none of these shapes costs one short scan.

pub mod bracket;
pub mod cells;
pub mod header;
pub mod json;
pub mod kv;
pub mod sentence;
pub mod table;

use super::lex::{iter_phrase, scan_pairs, Pair, ITER_WORDS};
use super::series::{Rec, Store, MAX_VALUES};

/// What the recognizers made of a line.
pub struct Outcome {
    pub taken: &'static str,
    /// A candidate of the record (see [`crate::parse::series::Group`]; its lines are ignored
    /// unless it is confirmed).
    pub group: Option<usize>,
    /// A table header (by line number) that this row confirmed.
    pub header_line: Option<u64>,
}

#[derive(Default)]
pub struct Auto {
    table: table::Table,
    pairs: Vec<Pair>,
    rec: Rec,
    /// The last iteration seen on a line, for value lines that carry none.
    ctx_iter: Option<i64>,
}

fn out(taken: &'static str, group: Option<usize>) -> Option<Outcome> {
    Some(Outcome {
        taken,
        group,
        header_line: None,
    })
}

impl Auto {
    pub fn feed(&mut self, s: &[u8], line_no: u64, t_s: f64, store: &mut Store) -> Option<Outcome> {
        let lead = s.iter().position(|&c| c != b' ' && c != b'\t')?;
        let body = &s[lead..];
        let c = body[0];
        match c {
            b'{' => {
                self.table.other(s, line_no);
                if json::read(body, &mut self.rec) {
                    self.rec.take_iter();
                    if self.rec.is_empty() {
                        return None;
                    }
                    return out("auto:json", store.add_record("auto:json", &self.rec, t_s));
                }
                // not JSON (a Python dict repr, say): read it for pairs below
            }
            b'[' if body.get(1).is_some_and(u8::is_ascii_digit) => {
                self.table.other(s, line_no);
                if bracket::read(body, &mut self.pairs, &mut self.rec) {
                    self.ctx_iter = self.rec.iter;
                    return out(
                        "auto:bracket",
                        store.add_record("auto:bracket", &self.rec, t_s),
                    );
                }
                return None;
            }
            b'0'..=b'9' | b'-' | b'+' | b'.' | b'|' => {
                if let table::Seen::Row(bound) = self.table.row(s, &mut self.rec) {
                    let group = store.add_record("auto:table", &self.rec, t_s);
                    return Some(Outcome {
                        taken: "auto:table row",
                        group,
                        header_line: bound,
                    });
                }
            }
            _ => {}
        }
        if memchr::memchr2(b'=', b':', body).is_some() {
            self.pairs.clear();
            scan_pairs(body, &mut self.pairs, MAX_VALUES);
            if !self.pairs.is_empty() {
                self.table.other(s, line_no);
                let from = kv::fill(body, &self.pairs, self.ctx_iter, &mut self.rec);
                let source = match from {
                    kv::IterFrom::Phrase => "auto:sentence",
                    _ => "auto:kv",
                };
                if matches!(from, kv::IterFrom::Key | kv::IterFrom::Phrase) {
                    self.ctx_iter = self.rec.iter;
                }
                if self.rec.is_empty() {
                    return None;
                }
                return out(source, store.add_record(source, &self.rec, t_s));
            }
            // (such lines open with a word: timestamped log lines stop here without a call)
            if c.is_ascii_alphabetic() && kv::spaced(body, &mut self.rec) {
                self.table.other(s, line_no);
                self.ctx_iter = self.rec.iter;
                let source = "auto:sentence";
                return out(source, store.add_record(source, &self.rec, t_s));
            }
        }
        if let Some(it) = iteration_line(body) {
            self.ctx_iter = Some(it);
            self.table.other(s, line_no);
            return out("auto:iteration", None);
        }
        self.table.other(s, line_no);
        None
    }

    /// True when [`Auto::feed`] would take nothing from `s` and do no more than
    /// [`Auto::skip`] does: a line that starts with a letter, holds no `=`, `:`, `\r` or `ESC`
    /// (`special`, found by the caller's block scan) and is not an iteration line. Such a line
    /// reaches none of the recognizers; only the table recognizer remembers it (as a possible
    /// header), and of a run of such lines only the last one counts (see [`table::Table::other`]).
    #[inline]
    pub fn plain(s: &[u8], special: bool) -> bool {
        !special && s.first().is_some_and(u8::is_ascii_alphabetic) && iteration_line(s).is_none()
    }

    /// What [`Auto::feed`] does with a [`Auto::plain`] line.
    pub fn skip(&mut self, s: &[u8], line_no: u64) {
        self.table.other(s, line_no);
    }
}

/// An iteration marker alone on its line (`body` starts at its first non-blank byte):
/// `Epoch 3/10`, `-- Epoch 5`, `=== iteration 3 ===`, `Generation 12:`, `[trial 7]`. Its
/// iteration is that of the value lines that follow (records over several lines).
#[inline]
fn iteration_line(body: &[u8]) -> Option<i64> {
    let deco = |c: &u8| {
        matches!(
            c,
            b'-' | b'='
                | b'*'
                | b'#'
                | b'>'
                | b'<'
                | b'['
                | b']'
                | b'('
                | b')'
                | b':'
                | b' '
                | b'\t'
        )
    };
    let body = match body.first() {
        Some(c) if c.is_ascii_alphabetic() => body,
        Some(c) if deco(c) => {
            let a = body.iter().position(|c| !deco(c))?;
            &body[a..]
        }
        _ => return None,
    };
    if !body.first().is_some_and(u8::is_ascii_alphabetic) || body.len() > 64 {
        return None;
    }
    let w = body
        .iter()
        .position(|c| !c.is_ascii_alphabetic())
        .unwrap_or(body.len());
    // A phrase at the start needs an iteration word there; checking that first spares
    // `iter_phrase` a scan of the whole line (most short log lines start with a word).
    if !(3..=10).contains(&w) || !ITER_WORDS.iter().any(|k| body[..w].eq_ignore_ascii_case(k)) {
        return None;
    }
    match iter_phrase(body) {
        Some((it, 0, end)) if body[end..].iter().all(|c| !c.is_ascii_digit()) => Some(it),
        _ => None,
    }
}
