//! The text of a line as a terminal shows it: progress displays redraw a line with `\r` and ANSI
//! control sequences (colours `ESC[…m`, erase line `ESC[2K`/`ESC[K`, cursor up `ESC[A`), and
//! Keras' old progbar with backspaces. [`states`] turns one `\n`-line into the successive
//! states a terminal would show, control sequences removed; the bytes forwarded to the caller
//! are never touched (this works on the parser's copy).

const ESC: u8 = 0x1b;
const BS: u8 = 0x08;

/// True when the line holds a `\r`, an ESC or a backspace: more than one state, or bytes that
/// [`clean`] would change.
#[inline]
pub fn unusual(s: &[u8]) -> bool {
    memchr::memchr3(b'\r', ESC, BS, s).is_some()
}

/// True when the line holds bytes that [`clean`] would change.
#[inline]
pub fn has_controls(s: &[u8]) -> bool {
    memchr::memchr2(ESC, BS, s).is_some()
}

/// Copies `s` into `out` without control sequences. A sequence that moves to the line's start
/// or erases it (`ESC[K`, `ESC[2K`, cursor up/down/column: finals `K A B E F G`) becomes a
/// `\r`, a state boundary; other CSI sequences (colours), OSC sequences (`ESC]…BEL`) and
/// two-byte escapes are dropped; a backspace removes the byte before it.
pub fn clean(s: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == BS {
            out.pop();
            i += 1;
        } else if c != ESC {
            out.push(c);
            i += 1;
        } else {
            match s.get(i + 1) {
                Some(b'[') => {
                    let mut j = i + 2;
                    while j < s.len() && !(0x40..=0x7e).contains(&s[j]) {
                        j += 1;
                    }
                    if matches!(s.get(j), Some(b'K' | b'A' | b'B' | b'E' | b'F' | b'G')) {
                        out.push(b'\r');
                    }
                    i = j + 1;
                }
                Some(b']') => {
                    let mut j = i + 2;
                    while j < s.len()
                        && s[j] != 0x07
                        && !(s[j] == ESC && s.get(j + 1) == Some(&b'\\'))
                    {
                        j += 1;
                    }
                    i = if s.get(j) == Some(&ESC) { j + 2 } else { j + 1 };
                }
                Some(_) => i += 2,
                None => i += 1,
            }
        }
    }
}

/// Calls `f` on each non-blank `\r`-separated state of `s`, in order.
pub fn states(s: &[u8], mut f: impl FnMut(&[u8])) {
    for seg in s.split(|&c| c == b'\r') {
        if seg.iter().any(|&c| c != b' ' && c != b'\t') {
            f(seg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(s: &[u8]) -> Vec<String> {
        let mut buf = Vec::new();
        clean(s, &mut buf);
        let mut v = Vec::new();
        states(&buf, |x| v.push(String::from_utf8_lossy(x).into_owned()));
        v
    }

    #[test]
    fn removes_sequences_and_splits_states() {
        assert_eq!(
            shown(b"\x1b[2K\x1b[1mloss\x1b[0m=0.5\r\x1b[Kloss=0.4\x1b]0;title\x07"),
            vec!["loss=0.5", "loss=0.4"]
        );
        assert_eq!(
            shown(b"1/3 [=>.]\x08\x08\x08\x08\x08\x08\x08\x08\x082/3 [==>]"),
            vec!["2/3 [==>]"]
        );
        assert_eq!(shown(b"a\x1b[1Ab\x1b"), vec!["a", "b"]);
        assert!(!has_controls(b"plain\rtext"));
    }
}
