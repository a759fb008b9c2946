//! Sentence forms: progress written as prose around an iteration phrase —
//! `Iteration 3, loss = 0.52` (scikit-learn), `differential_evolution step 4: f(x)= 1.2` (SciPy),
//! `Trial 7 finished with value: 0.12 … Best is trial 5 with value: 0.11` (Optuna),
//! `Epoch 2: loss=0.3` (Lightning-like). The iteration comes from the first phrase
//! ([`crate::parse::lex::iter_phrase`]); values from the pairs. A value in a clause that starts
//! with "Best" is named `best_<name>` (Optuna's running best), so it does not collide with the
//! current value of the same name. Values inside a `parameters: {...}` (or `params`) dict are
//! flagged as the trial's parameters ([`Rec::params`]).

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

/// The byte range of the `{...}` or `(...)` after the word `parameters`/`params`
/// (`and parameters: {'C': 0.17, 'gamma': 5.6}`), if the line has one.
fn param_region(s: &[u8]) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&s[from..], b"param").map(|i| i + from) {
        from = i + 5;
        if i > 0 && s[i - 1].is_ascii_alphanumeric() {
            continue;
        }
        let mut j = i + 5;
        for tail in [&b"eters"[..], b"s"] {
            if s[j..].starts_with(tail) {
                j += tail.len();
                break;
            }
        }
        while s.get(j).is_some_and(|c| b" '\":=".contains(c)) {
            j += 1;
        }
        let close = match s.get(j) {
            Some(b'{') => b'}',
            Some(b'(') => b')',
            _ => continue,
        };
        let end = memchr::memchr(close, &s[j..]).map_or(s.len(), |e| j + e);
        return Some((j, end));
    }
    None
}

/// Fills `rec` from the pairs of a sentence line.
pub fn fill(s: &[u8], pairs: &[Pair], rec: &mut Rec) {
    rec.clear();
    let params = param_region(s);
    let mut buf = Vec::new();
    for p in pairs {
        let before = rec.len();
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
        if rec.len() > before && params.is_some_and(|(a, b)| p.name.0 > a && p.name.0 < b) {
            rec.params |= 1u64 << before;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parameter_dicts() {
        let line = b"Trial 2 finished with value: 0.1 and parameters: {'C': 0.001, 'gamma': 7.0}. Best is trial 0 with value: 0.1.";
        let (a, b) = super::param_region(line).unwrap_or((0, 0));
        assert_eq!(&line[a..=b], b"{'C': 0.001, 'gamma': 7.0}");
        assert!(super::param_region(b"params=(lr=0.1, depth=3) loss=2").is_some());
        assert_eq!(super::param_region(b"paramset: {a: 1}"), None);
        assert_eq!(super::param_region(b"Trial 3 value: 0.5"), None);
    }
}
