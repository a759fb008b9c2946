//! Byte-level lexing shared by the protocol and the recognizers: numbers (with an exact fast
//! path), `name=value` / `name: value` pairs, iteration phrases (`Epoch 3/10`, `step 4:`), and the
//! vocabularies that classify names (iteration keys, objective-like names).
//!
//! Everything here works on `&[u8]` without allocating; invalid UTF-8 simply never matches a name.

/// Longest number token looked at.
const MAX_NUM: usize = 40;

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Scans the longest number starting at `i` (`[+-]? digits [. digits] [e[+-]digits]`, or
/// `nan`/`inf`) and returns its value and end. Correctly rounded: an exact fast path when the
/// mantissa fits 2^53 and the decimal exponent is within ±22, `str::parse` otherwise.
pub fn scan_num(s: &[u8], i: usize) -> Option<(f64, usize)> {
    let n = s.len();
    let mut j = i;
    let neg = match s.get(j) {
        Some(b'-') => {
            j += 1;
            true
        }
        Some(b'+') => {
            j += 1;
            false
        }
        _ => false,
    };
    if let Some(c) = s.get(j) {
        if matches!(c | 0x20, b'n' | b'i') {
            return scan_special(s, i, j, neg);
        }
    }
    let mut mant: u64 = 0;
    let mut digits = 0usize;
    let mut exp: i32 = 0;
    let mut exact = true;
    let start_digits = j;
    while j < n && s[j].is_ascii_digit() {
        if mant < (1 << 53) / 10 {
            mant = mant * 10 + u64::from(s[j] - b'0');
        } else {
            exact = false;
        }
        digits += 1;
        j += 1;
    }
    if j < n && s[j] == b'.' && j + 1 < n && s[j + 1].is_ascii_digit() {
        j += 1;
        while j < n && s[j].is_ascii_digit() {
            if mant < (1 << 53) / 10 {
                mant = mant * 10 + u64::from(s[j] - b'0');
                exp -= 1;
            } else {
                exact = false;
            }
            digits += 1;
            j += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if j < n && (s[j] | 0x20) == b'e' {
        let mut k = j + 1;
        let eneg = match s.get(k) {
            Some(b'-') => {
                k += 1;
                true
            }
            Some(b'+') => {
                k += 1;
                false
            }
            _ => false,
        };
        let es = k;
        let mut e: i32 = 0;
        while k < n && s[k].is_ascii_digit() && k - es < 4 {
            e = e * 10 + i32::from(s[k] - b'0');
            k += 1;
        }
        if k > es {
            exp += if eneg { -e } else { e };
            j = k;
        }
    }
    if j - i > MAX_NUM || j == start_digits {
        return None;
    }
    let v = if exact && (-22..=22).contains(&exp) {
        let m = mant as f64;
        if exp >= 0 {
            m * POW10[exp as usize]
        } else {
            m / POW10[(-exp) as usize]
        }
    } else {
        std::str::from_utf8(&s[if neg || s[i] == b'+' { i + 1 } else { i }..j])
            .ok()?
            .parse::<f64>()
            .ok()?
    };
    Some((if neg { -v } else { v }, j))
}

fn scan_special(s: &[u8], i: usize, j: usize, neg: bool) -> Option<(f64, usize)> {
    let rest = &s[j..];
    for (word, v) in [
        (&b"infinity"[..], f64::INFINITY),
        (b"inf", f64::INFINITY),
        (b"nan", f64::NAN),
    ] {
        if rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word) {
            let end = j + word.len();
            if s.get(end).is_some_and(|c| c.is_ascii_alphanumeric()) {
                return None;
            }
            let _ = i;
            return Some((if neg { -v } else { v }, end));
        }
    }
    None
}

/// The whole slice as one number.
pub fn parse_num(s: &[u8]) -> Option<f64> {
    match scan_num(s, 0) {
        Some((v, end)) if end == s.len() => Some(v),
        _ => None,
    }
}

/// The whole slice as an integer (also `12.0`).
pub fn parse_int(s: &[u8]) -> Option<i64> {
    // fast path: plain digits, the common case for iteration numbers
    if !s.is_empty() && s.len() <= 15 && s.iter().all(u8::is_ascii_digit) {
        return Some(s.iter().fold(0i64, |a, &c| a * 10 + i64::from(c - b'0')));
    }
    let v = parse_num(s)?;
    (v.fract() == 0.0 && v.abs() < 9e15).then_some(v as i64)
}

/// True when a value may end at `s[j]`: end of line, space, or closing punctuation. A dot counts
/// only as a sentence end (followed by the end or a space).
pub fn value_ends(s: &[u8], j: usize) -> bool {
    match s.get(j) {
        None => true,
        Some(b' ' | b'\t' | b',' | b';' | b')' | b']' | b'}' | b'|' | b'"' | b'\'') => true,
        Some(b'.') => matches!(s.get(j + 1), None | Some(b' ' | b'\t')),
        _ => false,
    }
}

#[inline]
fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'/' | b'\'' | b'(' | b')')
}

/// One `name=value` / `name: value` pair found in a line (byte spans into the line).
#[derive(Debug, Clone, Copy)]
pub struct Pair {
    pub name: (usize, usize),
    pub value: f64,
    /// Where the value ends.
    pub end: usize,
}

/// Finds `name=value`, `name = value`, `name: value`, `name:value` pairs whose value is a plain
/// number that ends cleanly (so `12:30:01`, `v1.2.3`, `3.2s`, `a==1.2` and URLs do not count).
/// Names start with a letter (after stripping quotes and dashes); `train's l2:` keeps the
/// possessive word (`train's l2`). At most `max` pairs.
pub fn scan_pairs(s: &[u8], out: &mut Vec<Pair>, max: usize) {
    let mut from = 0;
    while let Some(off) = memchr::memchr2(b'=', b':', &s[from..]) {
        let p = from + off;
        from = p + 1;
        if out.len() >= max {
            return;
        }
        let sep = s[p];
        let next = s.get(p + 1).copied();
        if next == Some(sep)
            || (sep == b'=' && p > 0 && matches!(s[p - 1], b'=' | b'!' | b'<' | b'>'))
        {
            from = (p + 2).min(s.len());
            continue;
        }
        // value
        let mut v = p + 1;
        while v < s.len() && v - p <= 3 && s[v] == b' ' {
            v += 1;
        }
        let Some(&c) = s.get(v) else { return };
        if !(c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'n' | b'N' | b'i' | b'I')) {
            continue;
        }
        let Some((value, end)) = scan_num(s, v) else {
            continue;
        };
        if !value_ends(s, end) {
            continue;
        }
        let Some(mut name) = name_before(s, p) else {
            continue;
        };
        if out.is_empty() && sep == b':' {
            name.0 = leading_words(s, name.0);
        }
        out.push(Pair { name, value, end });
        from = end;
    }
}

/// Where a name that starts at `b` begins when the line opens with one or two more words before
/// it and a `:` after it (`Best fitness: 2.5`, `  Average fitness: 1.5`): those words (letters
/// only, after blanks or a `-`/`*` bullet) become part of the name. Not for `=`: in
/// `checkpoint gen=50` the word before is no part of the key.
fn leading_words(s: &[u8], b: usize) -> usize {
    let mut a = 0;
    while a < b && matches!(s[a], b' ' | b'\t' | b'-' | b'*') {
        a += 1;
    }
    let pre = &s[a..b];
    if a >= b || !pre.ends_with(b" ") {
        return b;
    }
    let words = pre[..pre.len() - 1].split(|&c| c == b' ');
    let mut n = 0;
    for w in words {
        if w.is_empty() || !w.iter().all(u8::is_ascii_alphabetic) {
            return b;
        }
        n += 1;
    }
    if (1..=2).contains(&n) {
        a
    } else {
        b
    }
}

/// The name that ends just before `p` (spaces skipped), or None.
pub fn name_before(s: &[u8], p: usize) -> Option<(usize, usize)> {
    let mut e = p;
    while e > 0 && s[e - 1] == b' ' && p - e < 2 {
        e -= 1;
    }
    let mut b = e;
    while b > 0 && is_name_byte(s[b - 1]) && e - b < 64 {
        b -= 1;
    }
    if b > 0 && matches!(s[b - 1], b'?' | b'&' | b'$' | b'%' | b'@' | b'#' | b'=') {
        return None;
    }
    // trim quotes and leading dashes/dots, trailing quotes
    while b < e && matches!(s[b], b'\'' | b'-' | b'.' | b'/') {
        b += 1;
    }
    while e > b && s[e - 1] == b'\'' {
        e -= 1;
    }
    if b >= e || !(s[b].is_ascii_alphabetic() || s[b] == b'_') {
        return None;
    }
    // `valid_0's l2` / `training's l2`: keep the possessive word
    if b >= 3 && s[b - 1] == b' ' && s[b - 2] == b's' && s[b - 3] == b'\'' {
        let mut pb = b - 3;
        while pb > 0 && (s[pb - 1].is_ascii_alphanumeric() || s[pb - 1] == b'_') {
            pb -= 1;
        }
        if pb < b - 3 && s[pb].is_ascii_alphabetic() {
            return Some((pb, e));
        }
    }
    Some((b, e))
}

/// Words that introduce an iteration number in prose (`Epoch 3/10`, `step 4:`, `Trial 7`).
pub const ITER_WORDS: [&[u8]; 10] = [
    b"iteration",
    b"iter",
    b"epoch",
    b"generation",
    b"gen",
    b"step",
    b"trial",
    b"round",
    b"episode",
    b"iterat",
];

/// Finds the first iteration phrase: an iteration word, spaces or `#`, an integer, optionally
/// `/N` or ` of N`, then a delimiter. Returns (iteration, start of word, end of phrase).
pub fn iter_phrase(s: &[u8]) -> Option<(i64, usize, usize)> {
    let n = s.len();
    let mut i = 0;
    while i < n {
        if !s[i].is_ascii_alphabetic()
            || (i > 0 && (s[i - 1].is_ascii_alphanumeric() || s[i - 1] == b'_'))
        {
            i += 1;
            continue;
        }
        let mut e = i;
        while e < n && s[e].is_ascii_alphabetic() {
            e += 1;
        }
        let w = &s[i..e];
        if w.len() >= 3 && w.len() <= 10 && ITER_WORDS.iter().any(|k| w.eq_ignore_ascii_case(k)) {
            let mut j = e;
            while j < n && (s[j] == b' ' || s[j] == b'#') && j - e < 3 {
                j += 1;
            }
            if j > e {
                let ds = j;
                while j < n && s[j].is_ascii_digit() && j - ds < 12 {
                    j += 1;
                }
                if j > ds {
                    let it = parse_int(&s[ds..j]);
                    let mut k = j;
                    if k < n && s[k] == b'/' {
                        k += 1;
                        while k < n && s[k].is_ascii_digit() {
                            k += 1;
                        }
                    }
                    if matches!(
                        s.get(k),
                        None | Some(b' ' | b'\t' | b',' | b':' | b';' | b']' | b')' | b'|' | b'-')
                    ) {
                        if let Some(it) = it {
                            return Some((it, i, k));
                        }
                    }
                }
            }
        }
        i = e.max(i + 1);
    }
    None
}

/// How strongly a name denotes the iteration: 2 for iteration/generation/epoch/step/trial-like,
/// 1 for evaluation counts (`nfev`, `nevals`), 0 otherwise.
pub fn iter_rank(name: &[u8]) -> u8 {
    let mut n = name;
    while let Some((&c, rest)) = n.split_first() {
        if c == b'#' || c == b'_' {
            n = rest;
        } else {
            break;
        }
    }
    if n.len() > 16 {
        return 0;
    }
    let mut buf = [0u8; 16];
    for (d, s) in buf.iter_mut().zip(n) {
        *d = s.to_ascii_lowercase();
    }
    let l = &buf[..n.len()];
    const PRIMARY: [&[u8]; 20] = [
        b"iter",
        b"iteration",
        b"it",
        b"gen",
        b"generation",
        b"epoch",
        b"step",
        b"trial",
        b"round",
        b"episode",
        b"n_iter",
        b"n_gen",
        b"nit",
        b"niter",
        b"ngen",
        b"global_step",
        b"n_epoch",
        b"iterat",
        b"iters",
        b"num_iter",
    ];
    const SECONDARY: [&[u8]; 10] = [
        b"nfev",
        b"nevals",
        b"n_eval",
        b"n_evals",
        b"evals",
        b"fevals",
        b"nfe",
        b"evaluations",
        b"neval",
        b"fev",
    ];
    if PRIMARY.contains(&l) {
        2
    } else if SECONDARY.contains(&l) {
        1
    } else {
        0
    }
}

/// Lower-case alphanumeric words of a name (`valid_0's l2` → `valid`, `0`, `s`, `l2`).
pub fn words(name: &str) -> impl Iterator<Item = String> + '_ {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_num(b"0.031"), Some(0.031));
        assert_eq!(
            parse_num(b"-3.785909499887650e+02"),
            Some(-378.590949988765)
        );
        assert_eq!(parse_num(b"12"), Some(12.0));
        assert_eq!(parse_num(b"27062.25276049961"), Some(27062.25276049961));
        assert_eq!(parse_num(b"0.10400220579861298"), Some(0.10400220579861298));
        assert_eq!(parse_num(b"1e-300"), Some(1e-300));
        assert!(parse_num(b"nan").unwrap().is_nan());
        assert_eq!(parse_num(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_num(b"1.2.3"), None);
        assert_eq!(parse_num(b"info"), None);
        assert_eq!(parse_num(b"."), None);
        assert_eq!(parse_int(b"7"), Some(7));
        assert_eq!(parse_int(b"7.5"), None);
        for s in [
            "123456789012345678901234",
            "0.1234567890123456789",
            "9007199254740993",
        ] {
            assert_eq!(
                parse_num(s.as_bytes()),
                Some(s.parse::<f64>().unwrap()),
                "{s}"
            );
        }
    }

    fn names(s: &str) -> Vec<(String, f64)> {
        let mut v = Vec::new();
        scan_pairs(s.as_bytes(), &mut v, 64);
        v.iter()
            .map(|p| (s[p.name.0..p.name.1].to_string(), p.value))
            .collect()
    }

    #[test]
    fn pairs() {
        assert_eq!(
            names("gen=12 best=0.031"),
            vec![("gen".into(), 12.0), ("best".into(), 0.031)]
        );
        assert_eq!(
            names("Epoch 3/10 - loss: 0.52 - acc: 0.81"),
            vec![("loss".into(), 0.52), ("acc".into(), 0.81)]
        );
        assert_eq!(
            names("Iteration 3, loss = 0.52"),
            vec![("loss".into(), 0.52)]
        );
        assert_eq!(names("step 4: f(x)= 1.2"), vec![("f(x)".into(), 1.2)]);
        assert_eq!(
            names("  Best fitness: 2.5"),
            vec![("Best fitness".into(), 2.5)]
        );
        assert_eq!(
            names("checkpoint gen=50 elapsed_s=0.6"),
            vec![("gen".into(), 50.0), ("elapsed_s".into(), 0.6)]
        );
        assert_eq!(
            names("[10]\tvalid_0's l2: 0.3"),
            vec![("valid_0's l2".into(), 0.3)]
        );
        assert_eq!(
            names("Best is trial 0 with value: 0.104."),
            vec![("value".into(), 0.104)]
        );
        assert!(names("12:30:01 GET /a?id=5&x=2 took 3.2s v1.2.3 a==1.2").is_empty());
        assert!(names("[28/Nov/2025:06:22:01 +0000] Memory: 1234K").is_empty());
    }

    #[test]
    fn phrases() {
        assert_eq!(iter_phrase(b"Epoch 3/10 - loss: 0.5").map(|x| x.0), Some(3));
        assert_eq!(
            iter_phrase(b"differential_evolution step 4: f(x)= 1").map(|x| x.0),
            Some(4)
        );
        assert_eq!(
            iter_phrase(b"[I 2026] Trial 7 finished").map(|x| x.0),
            Some(7)
        );
        assert_eq!(
            iter_phrase(b"Iteration 3, loss = 0.52").map(|x| x.0),
            Some(3)
        );
        assert_eq!(iter_phrase(b"stepping 3 times"), None);
        assert_eq!(iter_phrase(b"loaded 5000 rows in 0.3 s"), None);
        assert_eq!(iter_rank(b"Iterat"), 2);
        assert_eq!(iter_rank(b"#Fevals"), 1);
        assert_eq!(iter_rank(b"best"), 0);
    }
}
