//! Iterations that are counters rather than named iterations (issue 13, class 5 and the bars of
//! class 1): `minimum #3: f=63.7` and `#12 loss=…` (the number after `#`), and a progress bar's
//! `45/100` (tqdm `| 45/100 [`, Keras `32/32 [===`, rich `━━ 45/100`). Both are *weak*: they
//! confirm a series only beside an objective-like name (see [`crate::parse::series::Rec::weak`]).

/// The number after a `#` that starts the line or follows a blank or an opening bracket, itself
/// followed by the end, a blank or `:`/`,`/`]`/`)`.
pub fn hash_count(s: &[u8]) -> Option<i64> {
    let mut from = 0;
    while let Some(off) = memchr::memchr(b'#', &s[from..]) {
        let p = from + off;
        from = p + 1;
        if p > 0 && !matches!(s[p - 1], b' ' | b'\t' | b'[' | b'(') {
            continue;
        }
        let d = p + 1;
        let mut e = d;
        while e < s.len() && s[e].is_ascii_digit() && e - d < 12 {
            e += 1;
        }
        if e > d
            && matches!(
                s.get(e),
                None | Some(b' ' | b'\t' | b':' | b',' | b']' | b')')
            )
        {
            return super::lex::parse_int(&s[d..e]);
        }
    }
    None
}

/// A progress bar's count `N/M` (integers, N ≤ M): a token after a `|` or a bar glyph, or
/// followed by ` [` or a bar glyph. Dates (`01/05/2024`) and sizes (`1.2/5.0 MB`) are not.
pub fn bar_count(s: &[u8]) -> Option<i64> {
    let mut from = 0;
    while let Some(off) = memchr::memchr(b'/', &s[from..]) {
        let p = from + off;
        from = p + 1;
        let mut a = p;
        while a > 0 && s[a - 1].is_ascii_digit() {
            a -= 1;
        }
        let mut b = p + 1;
        while b < s.len() && s[b].is_ascii_digit() {
            b += 1;
        }
        if a == p || b == p + 1 || p - a > 12 || b - p > 13 {
            continue;
        }
        let before = s[..a].iter().rev().find(|&&c| c != b' ').copied();
        let after = s[b..].iter().find(|&&c| c != b' ').copied();
        let token_ok = a == 0 || s[a - 1] == b' ' || s[a - 1] == b'|';
        let end_ok = b == s.len() || s[b] == b' ';
        let bar = matches!(before, None | Some(b'|')) && a == 0
            || matches!(before, Some(b'|'))
            || before.is_some_and(|c| c >= 0x80)
            || matches!(after, Some(b'['))
            || after.is_some_and(|c| c >= 0x80);
        if token_ok && end_ok && bar {
            let n = super::lex::parse_int(&s[a..p])?;
            let m = super::lex::parse_int(&s[p + 1..b])?;
            if n <= m && m > 0 {
                return Some(n);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters() {
        assert_eq!(hash_count(b"minimum #3: f=63.7"), Some(3));
        assert_eq!(hash_count(b"#12 loss=0.3"), Some(12));
        assert_eq!(hash_count(b"see issue#12 x=1"), None);
        assert_eq!(hash_count(b"#include <a.h>"), None);
        assert_eq!(
            bar_count("train:  45%|████▌     | 45/100 [00:02<00:02, loss=0.4]".as_bytes()),
            Some(45)
        );
        assert_eq!(
            bar_count(b"32/32 [==============================] - 0s - loss: 0.41"),
            Some(32)
        );
        assert_eq!(bar_count("━━━━━━━━ 45/100 0:00:02".as_bytes()), Some(45));
        assert_eq!(bar_count(b"[01/May/2024:12:00:01 +0000] GET /a/1/2"), None);
        assert_eq!(bar_count("━━━━ 1.2/5.0 MB 3.1 MB/s".as_bytes()), None);
        assert_eq!(bar_count(b"date 01/05/2024 x"), None);
    }
}
