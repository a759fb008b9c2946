//! Table recognizer: a header row of names followed by rows of numbers, separated by spaces,
//! tabs or `|` (DEAP logbooks, pymoo, CMA-ES, scikit-learn's gradient boosting, Ray-Tune-like
//! tables). The header may repeat (CMA-ES prints it every 10 rows); separator lines (`=====`,
//! `---+---`) are skipped.
//!
//! A header-like line (2–40 tokens, none starting with a digit) is remembered as *pending*; the
//! next row binds to it when its columns map onto the header ([`super::header`]: by order, or
//! by position for multi-word headers). Later rows of the same width reuse the mapping. Cells
//! are read by [`super::cells`]: numbers, times (`9.60s`, `1m 3s`, `0:00.1`) and percentages
//! become values, `-`/`n/a` missing values, other units are skipped, and one text cell (pymoo's
//! `ideal`) does not make the line no row; a row needs two values and no more text cells than
//! half its values. Columns that held a value or an empty cell in the binding row are series
//! (rows print iterations 1-10, then every 10th, …: each row keeps its own iteration). The
//! iteration column is the one whose name is an iteration key (`gen`, `Iterat`, `n_gen`, …), see
//! [`crate::parse::lex::iter_rank`].

use super::cells::{cell, duration_head, duration_tail, Cell};
use super::header;
use crate::parse::lex::scan_num;
use crate::parse::series::{Rec, MISSING_BITS};

const MAX_COLS: usize = 40;

#[derive(Default)]
pub struct Table {
    pending: Vec<u8>,
    pending_line: Option<u64>,
    active: Option<Active>,
    toks: Vec<(usize, usize)>,
    cells: Vec<Cell>,
}

struct Active {
    names: Vec<String>,
    /// Columns that were numbers in the row that bound the header; later rows give a missing
    /// value (not a different shape) where such a column holds `-`.
    numeric: Vec<bool>,
    pipe: bool,
}

fn is_ws(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Whitespace tokens, or `|` cells (trimmed, outer empty cells dropped) in pipe mode.
fn tokens(s: &[u8], pipe: bool, out: &mut Vec<(usize, usize)>) {
    out.clear();
    if pipe {
        let mut a = 0;
        for (k, &c) in s
            .iter()
            .enumerate()
            .chain(std::iter::once((s.len(), &b'|')))
        {
            if c == b'|' {
                let (mut x, mut y) = (a, k);
                while x < y && is_ws(s[x]) {
                    x += 1;
                }
                while y > x && is_ws(s[y - 1]) {
                    y -= 1;
                }
                out.push((x, y));
                a = k + 1;
            }
        }
        if out.first().is_some_and(|t| t.0 == t.1) {
            out.remove(0);
        }
        if out.last().is_some_and(|t| t.0 == t.1) {
            out.pop();
        }
    } else {
        let mut i = 0;
        while i < s.len() {
            while i < s.len() && is_ws(s[i]) {
                i += 1;
            }
            let a = i;
            while i < s.len() && !is_ws(s[i]) {
                i += 1;
            }
            if i > a {
                // `1m 3s`: one cell
                match out.last_mut() {
                    Some(prev) if duration_head(&s[prev.0..prev.1]) && duration_tail(&s[a..i]) => {
                        prev.1 = i;
                    }
                    _ => out.push((a, i)),
                }
            }
        }
    }
}

fn is_separator(s: &[u8]) -> bool {
    let mut n = 0;
    for &c in s {
        match c {
            b'-' | b'=' | b'+' | b'|' | b':' | b'_' => n += 1,
            b' ' | b'\t' => {}
            _ => return false,
        }
    }
    n >= 3
}

/// True when the line could be a header: 2..=40 name-like tokens (none starts with a digit or a
/// signed digit, each has a letter). Streams over the line and stops at the first bad token.
fn header_like(s: &[u8]) -> bool {
    if s.len() > 512 {
        return false;
    }
    let mut n = 0;
    let mut i = 0;
    while i < s.len() {
        while i < s.len() && (is_ws(s[i]) || s[i] == b'|') {
            i += 1;
        }
        if i >= s.len() {
            break;
        }
        let c = s[i];
        if c.is_ascii_digit()
            || (matches!(c, b'-' | b'+' | b'.') && s.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            return false;
        }
        let a = i;
        let mut letter = false;
        while i < s.len() && !is_ws(s[i]) && s[i] != b'|' {
            letter |= s[i].is_ascii_alphabetic();
            i += 1;
        }
        if !letter || i - a > 40 {
            return false;
        }
        n += 1;
        if n > MAX_COLS {
            return false;
        }
    }
    n >= 2
}

/// Names for each of the row's columns from header `h`, or None when they do not map.
fn map_header(h: &[u8], row: &[u8], rtoks: &[(usize, usize)], pipe: bool) -> Option<Vec<String>> {
    let mut htoks = Vec::new();
    tokens(h, pipe, &mut htoks);
    let tabs = memchr::memchr(b'\t', h).is_some() || memchr::memchr(b'\t', row).is_some();
    header::map(h, &htoks, rtoks, !pipe && !tabs)
}

/// What a line was to the table recognizer.
pub enum Seen {
    /// A numeric row bound to a header; `Some(line_no)` when this row bound a new header.
    Row(Option<u64>),
    Other,
}

impl Table {
    /// Tries the line as a numeric row; fills `rec` when it maps onto the current header.
    pub fn row(&mut self, s: &[u8], rec: &mut Rec) -> Seen {
        let pipe = memchr::memchr(b'|', s).is_some();
        let mut toks = std::mem::take(&mut self.toks);
        let seen = self.row_inner(s, pipe, &mut toks, rec);
        self.toks = toks;
        seen
    }

    fn row_inner(
        &mut self,
        s: &[u8],
        pipe: bool,
        toks: &mut Vec<(usize, usize)>,
        rec: &mut Rec,
    ) -> Seen {
        // cheap reject: the first token must be a number
        let first = s
            .iter()
            .position(|&c| !is_ws(c) && c != b'|')
            .unwrap_or(s.len());
        match scan_num(s, first) {
            Some((_, e)) if s.get(e).is_none_or(|&c| is_ws(c) || c == b'|') => {}
            _ => return Seen::Other,
        }
        tokens(s, pipe, toks);
        if toks.len() < 2 || toks.len() > MAX_COLS {
            return Seen::Other;
        }
        let mut cells = std::mem::take(&mut self.cells);
        cells.clear();
        cells.extend(toks.iter().map(|&(a, b)| cell(&s[a..b])));
        let numeric = cells.iter().filter(|c| matches!(c, Cell::Num(_))).count();
        let text = cells.iter().filter(|c| **c == Cell::Text).count();
        // one odd column does not drop the table; a line of words with two numbers is no row
        if numeric < 2 || text > 1 && text * 2 > numeric {
            self.cells = cells;
            return Seen::Other;
        }
        let mut bound = None;
        if self.pending_line.is_some() {
            if let Some(names) = map_header(&self.pending, s, toks, pipe) {
                let numeric = cells
                    .iter()
                    .map(|c| matches!(c, Cell::Num(_) | Cell::Missing))
                    .collect();
                self.active = Some(Active {
                    names,
                    numeric,
                    pipe,
                });
                bound = self.pending_line.take();
            }
        }
        let seen = match &self.active {
            Some(act) if act.names.len() == toks.len() && act.pipe == pipe => {
                rec.clear();
                for (k, c) in cells.iter().enumerate() {
                    if act.numeric[k] {
                        let v = match c {
                            Cell::Num(v) => *v,
                            _ => f64::from_bits(MISSING_BITS),
                        };
                        rec.push(act.names[k].as_bytes(), v);
                    }
                }
                rec.take_iter();
                Seen::Row(bound)
            }
            _ => Seen::Other,
        };
        self.cells = cells;
        seen
    }

    /// Any line that was not a row: remembers headers, skips separators, forgets a pending
    /// header otherwise.
    pub fn other(&mut self, s: &[u8], line_no: u64) {
        if is_separator(s) {
            return;
        }
        if header_like(s) {
            self.pending.clear();
            self.pending.extend_from_slice(s);
            self.pending_line = Some(line_no);
        } else {
            self.pending_line = None;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn overlap_maps_multiword_headers() {
        let h = b"Iterat #Fevals   function value  axis ratio  sigma  min&max std  t[m:s]";
        let r = b"    1    100 3.785909499887650e+02 1.0e+00 1.51e+00  1e+00  2e+00 0:00.0  ";
        let mut t = Vec::new();
        tokens(r, false, &mut t);
        let m = map_header(h, r, &t, false).unwrap();
        assert_eq!(
            m,
            vec![
                "Iterat",
                "#Fevals",
                "function value",
                "axis ratio",
                "sigma",
                "min&max",
                "std",
                "t[m:s]"
            ]
        );
    }

    #[test]
    fn right_aligned_multiword_headers_and_units() {
        let h = b"      Iter       Train Loss      OOB Improve   Remaining Time ";
        let r = b"        20       14272.1666       -1408.3524            1m 3s";
        let mut t = Vec::new();
        tokens(r, false, &mut t);
        assert_eq!(t.len(), 4);
        let m = map_header(h, r, &t, false).unwrap();
        assert_eq!(
            m,
            vec!["Iter", "Train Loss", "OOB Improve", "Remaining Time"]
        );
        let mut tb = Table::default();
        let mut rec = Rec::default();
        tb.other(h, 1);
        assert!(matches!(tb.row(r, &mut rec), Seen::Row(Some(1))));
        assert_eq!(rec.iter, Some(20));
        assert_eq!(rec.values, vec![14272.1666, -1408.3524, 63.0]);
    }

    #[test]
    fn rows_and_headers() {
        let mut tb = Table::default();
        let mut rec = Rec::default();
        tb.other(b"n_gen  |  n_eval  |     igd      |       gd", 1);
        tb.other(b"==========================================", 2);
        assert!(matches!(
            tb.row(
                b"     1 |      100 |  0.0380483254 |  0.0380483254",
                &mut rec
            ),
            Seen::Row(Some(1))
        ));
        assert_eq!(rec.iter, Some(1));
        assert_eq!(rec.len(), 3);
        assert!(matches!(
            tb.row(b"     2 |      200 |  0.03 |  -", &mut rec),
            Seen::Row(None)
        ));
        assert!(matches!(
            tb.row(b"2024-01-01 12:00 start", &mut rec),
            Seen::Other
        ));
    }
}
