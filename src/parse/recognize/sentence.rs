//! Sentence forms: progress written as prose around an iteration phrase —
//! `Iteration 3, loss = 0.52` (scikit-learn), `differential_evolution step 4: f(x)= 1.2` (SciPy),
//! `Trial 7 finished with value: 0.12 … Best is trial 5 with value: 0.11` (Optuna),
//! `Epoch 2: loss=0.3` (Lightning-like). The iteration comes from the first phrase
//! ([`crate::parse::lex::iter_phrase`]); values from the pairs. A value in a clause that starts
//! with "Best" is named `best_<name>` (Optuna's running best), so it does not collide with the
//! current value of the same name.

use crate::parse::lex::Pair;
use crate::parse::series::Rec;

/// The clause a position belongs to starts after the last `. ` / `; ` / `, ` before it; true
/// when its first word is `best`.
fn in_best_clause(s: &[u8], pos: usize) -> bool {
    let mut a = pos;
    while a > 0 {
        let c = s[a - 1];
        if matches!(c, b'.' | b';' | b',') && s.get(a) == Some(&b' ') {
            break;
        }
        a -= 1;
    }
    let w = s[a..pos]
        .iter()
        .skip_while(|c| c.is_ascii_whitespace())
        .take(5)
        .copied()
        .collect::<Vec<u8>>();
    w.len() >= 4
        && w[..4].eq_ignore_ascii_case(b"best")
        && w.get(4).is_none_or(|c| !c.is_ascii_alphanumeric())
}

/// Fills `rec` from the pairs of a sentence line.
pub fn fill(s: &[u8], pairs: &[Pair], rec: &mut Rec) {
    rec.clear();
    let mut buf = Vec::new();
    for p in pairs {
        let name = &s[p.name.0..p.name.1];
        let lower_has_best = name.windows(4).any(|w| w.eq_ignore_ascii_case(b"best"));
        if !lower_has_best && in_best_clause(s, p.name.0) {
            buf.clear();
            buf.extend_from_slice(b"best_");
            buf.extend_from_slice(name);
            rec.push(&buf, p.value);
        } else {
            rec.push(name, p.value);
        }
    }
}
