//! Bracketed-iteration recognizer: `[12]\ttrain-rmse:0.3\tvalid-rmse:0.4` (XGBoost),
//! `[10]\tvalid_0's l2: 0.3` (LightGBM), `[5] loss=0.2`. The bracket holds a plain integer (so
//! `[12/345] Building …` or `[ 10%]` are not taken); the rest is read for pairs.

use crate::parse::lex::{parse_int, scan_pairs, Pair};
use crate::parse::series::Rec;

/// Reads `[N] pairs…` into `rec`; false when the line is not of that form or holds no pair.
pub fn read(s: &[u8], pairs: &mut Vec<Pair>, rec: &mut Rec) -> bool {
    let Some(close) = memchr::memchr(b']', &s[..s.len().min(24)]) else {
        return false;
    };
    let Some(it) = parse_int(&s[1..close]) else {
        return false;
    };
    if !s[1..close].iter().all(u8::is_ascii_digit) {
        return false;
    }
    pairs.clear();
    let rest = &s[close + 1..];
    scan_pairs(rest, pairs, crate::parse::series::MAX_VALUES);
    rec.clear();
    for p in pairs.iter() {
        rec.push(&rest[p.name.0..p.name.1], p.value);
    }
    rec.iter = Some(it);
    !rec.is_empty()
}
