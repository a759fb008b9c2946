//! Table cells with units or clock formats (issue 13, class 2): `9.60s`, `1.45m`, `1m 3s`,
//! `0:00.1`, `01:02:03`, `12.5%`, `1.2e-03`, and the empty cells `-`, `n/a`, `nan`. Times
//! become seconds and percentages their number; a number with another unit (`4.2k`, `3 MB`)
//! is skipped, so its column is no series but the table still is one.

use crate::parse::lex::{parse_num, scan_num};

/// What a table cell holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// A number (times in seconds, percentages as printed).
    Num(f64),
    /// An empty cell: `-`, `--`, `n/a`, `none`, `null`, `nan`.
    Missing,
    /// A number with a unit that is not known.
    Skip,
    /// Text.
    Text,
}

/// Seconds per unit of a time suffix.
fn time_unit(u: &[u8]) -> Option<f64> {
    Some(match u {
        b"s" | b"sec" | b"secs" => 1.0,
        b"ms" => 1e-3,
        b"us" => 1e-6,
        b"m" | b"min" | b"mins" => 60.0,
        b"h" | b"hr" => 3600.0,
        _ => return None,
    })
}

/// `1m 3s`, `2h5m`, `1m3.5s`: number-unit parts, each a known time unit, into seconds.
fn duration(t: &[u8]) -> Option<f64> {
    let mut i = 0;
    let mut total = 0.0;
    let mut parts = 0;
    while i < t.len() {
        while i < t.len() && t[i] == b' ' {
            i += 1;
        }
        let (v, e) = scan_num(t, i)?;
        let mut u = e;
        while u < t.len() && t[u].is_ascii_alphabetic() {
            u += 1;
        }
        total += v * time_unit(&t[e..u])?;
        parts += 1;
        i = u;
    }
    (parts > 0).then_some(total)
}

/// `m:ss`, `m:ss.f`, `h:mm:ss`: each part after the first below 60.
fn clock(t: &[u8]) -> Option<f64> {
    let mut total = 0.0;
    let mut n = 0;
    for (k, part) in t.split(|&c| c == b':').enumerate() {
        if part.is_empty() || !part.iter().all(|&c| c.is_ascii_digit() || c == b'.') {
            return None;
        }
        let v = parse_num(part)?;
        if k > 0 && (v >= 60.0 || part.len() < 2) {
            return None;
        }
        total = total * 60.0 + v;
        n += 1;
    }
    (2..=3).contains(&n).then_some(total)
}

/// Classifies one cell.
pub fn cell(t: &[u8]) -> Cell {
    if let Some(v) = parse_num(t) {
        return if v.is_nan() {
            Cell::Missing
        } else {
            Cell::Num(v)
        };
    }
    if t.iter().all(|&c| c == b'-')
        || [&b"n/a"[..], b"na", b"none", b"null", b"--"]
            .iter()
            .any(|m| t.eq_ignore_ascii_case(m))
    {
        return Cell::Missing;
    }
    if let Some(p) = t.strip_suffix(b"%") {
        if let Some(v) = parse_num(p) {
            return Cell::Num(v);
        }
    }
    if memchr::memchr(b':', t).is_some() {
        return clock(t).map_or(Cell::Text, Cell::Num);
    }
    if let Some(v) = duration(t) {
        return Cell::Num(v);
    }
    match scan_num(t, 0) {
        Some((_, e)) if t[e..].iter().all(|c| c.is_ascii_alphabetic() || *c == b'/') => Cell::Skip,
        _ => Cell::Text,
    }
}

/// True for a token that is the first part of a two-token duration (`1m` of `1m 3s`).
pub fn duration_head(t: &[u8]) -> bool {
    matches!(t.last(), Some(b'h' | b'm')) && duration(t).is_some()
}

/// True for a token that can end a two-token duration (`3s` of `1m 3s`).
pub fn duration_tail(t: &[u8]) -> bool {
    matches!(t.last(), Some(b's' | b'm')) && duration(t).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells() {
        assert_eq!(cell(b"9.60s"), Cell::Num(9.6));
        assert_eq!(cell(b"1.45m"), Cell::Num(87.0));
        assert_eq!(cell(b"1m 3s"), Cell::Num(63.0));
        assert_eq!(cell(b"0:00.1"), Cell::Num(0.1));
        assert_eq!(cell(b"1:02:03"), Cell::Num(3723.0));
        assert_eq!(cell(b"12.5%"), Cell::Num(12.5));
        assert_eq!(cell(b"1.2e-03"), Cell::Num(0.0012));
        assert_eq!(cell(b"250ms"), Cell::Num(0.25));
        assert_eq!(cell(b"4.2k"), Cell::Skip);
        assert_eq!(cell(b"12it/s"), Cell::Skip);
        assert_eq!(cell(b"n/a"), Cell::Missing);
        assert_eq!(cell(b"-"), Cell::Missing);
        assert_eq!(cell(b"nan"), Cell::Missing);
        assert_eq!(cell(b"ideal"), Cell::Text);
        assert_eq!(cell(b"12:61"), Cell::Text);
        assert_eq!(cell(b"./src"), Cell::Text);
        assert!(duration_head(b"1m") && duration_tail(b"3s") && !duration_head(b"3s"));
    }
}
