//! Key-value recognizer: `gen=12 best=0.031`, `Epoch 3/10 - loss: 0.52 - acc: 0.81`,
//! `INFO:root:step=5 loss=0.3`, `loss: 0.07 - accuracy: 0.97` (Keras, whose epoch is on the line
//! before). Pairs come from [`crate::parse::lex::scan_pairs`]; the iteration is, in order, a pair
//! named like an iteration (`gen=`, `epoch=`, `step=`), an iteration phrase on the line (then the
//! line counts as a sentence, see [`super::sentence`]), or the *context iteration*: the last
//! iteration seen on an earlier line (`Epoch 3/10` alone, or scikit-learn's
//! `Validation score: 0.19` after `Iteration 1, loss = …`).

use crate::parse::counters;
use crate::parse::lex::{iter_phrase, iter_rank, parse_num, Pair};
use crate::parse::names::objective_like;
use crate::parse::series::Rec;

/// How the iteration of a kv line was found.
pub enum IterFrom {
    Key,
    Phrase,
    /// `#12` on the line, or a progress bar's `12/100` ([`crate::parse::counters`]): weak.
    Counter,
    Context,
    None,
}

/// Fills `rec` from the pairs of the line and finds its iteration.
pub fn fill(s: &[u8], pairs: &[Pair], ctx: Option<i64>, rec: &mut Rec) -> IterFrom {
    rec.clear();
    for p in pairs {
        rec.push(&s[p.name.0..p.name.1], p.value);
    }
    rec.take_iter();
    if rec.iter.is_some() {
        return IterFrom::Key;
    }
    if let Some((it, start, _)) = iter_phrase(s) {
        if pairs.first().is_none_or(|p| start < p.name.0) {
            super::sentence::fill(s, pairs, rec);
            rec.iter = Some(it);
            return IterFrom::Phrase;
        }
    }
    let counter = || counters::hash_count(s);
    if let Some(n) = counter() {
        (rec.iter, rec.weak) = (Some(n), true);
        return IterFrom::Counter;
    }
    // a line with its own (fractional) progress key, `'epoch': 0.25`, is not in the context's
    let own_progress = || (0..rec.len()).any(|k| iter_rank(rec.name(k)) > 0);
    if ctx.is_some() && !own_progress() {
        // weak: a marker (`--- Step 2 ---`) then `Files: 12` is a report, not progress, unless
        // an objective-like name is there (`Avg. loss: 0.79`, `Validation score: 0.19`)
        (rec.iter, rec.from_ctx, rec.weak) = (ctx, true, true);
        return IterFrom::Context;
    }
    if let Some(n) = counters::bar_count(s) {
        (rec.iter, rec.weak) = (Some(n), true);
        return IterFrom::Counter;
    }
    IterFrom::None
}

/// `basinhopping step 3: f 1.2 trial_f 3.4 accepted True lowest_f 1.2`: after an iteration
/// phrase that ends in `:`, `name number` pairs without `=` or `:`. Taken only when a name is
/// objective-like (prose such as `took 3 seconds` is not progress).
pub fn spaced(s: &[u8], rec: &mut Rec) -> bool {
    // such lines open with a word (`basinhopping step 3:`, `Generation 5:`); timestamped log
    // lines, the common lines with a colon and no pair, open with a digit and stop here
    if !s.first().is_some_and(u8::is_ascii_alphabetic) {
        return false;
    }
    let Some((it, end)) = phrase_before_colon(s) else {
        return false;
    };
    rec.clear();
    let toks: Vec<&[u8]> = s[end + 1..]
        .split(|&c| matches!(c, b' ' | b'\t' | b','))
        .filter(|t| !t.is_empty())
        .collect();
    let mut i = 0;
    let mut objective = false;
    while i + 1 < toks.len() {
        let (n, v) = (toks[i], toks[i + 1]);
        let name_like =
            n[0].is_ascii_alphabetic() && n.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_');
        match parse_num(v) {
            Some(x) if name_like => {
                objective |= objective_like(&String::from_utf8_lossy(n));
                rec.push(n, x);
                i += 2;
            }
            _ => i += 1,
        }
    }
    rec.iter = Some(it);
    objective
}

/// The first `:` right after an iteration phrase (`step 3:`, `Generation #4:`): (iteration,
/// position of the `:`). Looks back from each `:` that follows a digit, so a timestamp
/// (`12:00:01`) is rejected after a few bytes rather than a scan of the line's words.
fn phrase_before_colon(s: &[u8]) -> Option<(i64, usize)> {
    let mut from = 0;
    while let Some(off) = memchr::memchr(b':', &s[from..]) {
        let p = from + off;
        from = p + 1;
        let mut d = p;
        while d > 0 && s[d - 1].is_ascii_digit() {
            d -= 1;
        }
        if d == p || d == 0 || !matches!(s[d - 1], b' ' | b'#') {
            continue;
        }
        let mut w = d - 1;
        while w > 0 && matches!(s[w - 1], b' ' | b'#') {
            w -= 1;
        }
        let mut a = w;
        while a > 0 && s[a - 1].is_ascii_alphabetic() {
            a -= 1;
        }
        if a < w && (a == 0 || !s[a - 1].is_ascii_alphanumeric()) && is_iter_word(&s[a..w]) {
            return crate::parse::lex::parse_int(&s[d..p]).map(|it| (it, p));
        }
    }
    None
}

fn is_iter_word(w: &[u8]) -> bool {
    crate::parse::lex::ITER_WORDS
        .iter()
        .any(|k| w.eq_ignore_ascii_case(k))
}
