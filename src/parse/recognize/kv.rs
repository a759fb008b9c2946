//! Key-value recognizer: `gen=12 best=0.031`, `Epoch 3/10 - loss: 0.52 - acc: 0.81`,
//! `INFO:root:step=5 loss=0.3`, `loss: 0.07 - accuracy: 0.97` (Keras, whose epoch is on the line
//! before). Pairs come from [`crate::parse::lex::scan_pairs`]; the iteration is, in order, a pair
//! named like an iteration (`gen=`, `epoch=`, `step=`), an iteration phrase on the line (then the
//! line counts as a sentence, see [`super::sentence`]), or the *context iteration*: the last
//! iteration seen on an earlier line (`Epoch 3/10` alone, or scikit-learn's
//! `Validation score: 0.19` after `Iteration 1, loss = …`).

use crate::parse::lex::{iter_phrase, Pair};
use crate::parse::series::Rec;

/// How the iteration of a kv line was found.
pub enum IterFrom {
    Key,
    Phrase,
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
    rec.iter = ctx;
    rec.from_ctx = ctx.is_some();
    if ctx.is_some() {
        IterFrom::Context
    } else {
        IterFrom::None
    }
}
