//! Scanning a block of complete lines 64 bytes at a time: a bit per `\n` and a bit per byte that
//! can make a line more than plain text (`\r`, `=`, `:`), so that [`crate::parse::Parser::feed_lines`]
//! classifies an ordinary line with a few bit operations instead of several scans of its bytes.

/// Bytes that send a line to the full per-line path: `\r` (a progress bar redraw), and the pair
/// separators `=` and `:` that the kv, sentence, bracket and JSON recognizers read.
#[cfg(any(test, not(target_arch = "x86_64")))]
#[inline]
fn is_special(c: u8) -> bool {
    matches!(c, b'\r' | b'=' | b':')
}

/// For the 64 bytes at `b`: (bit k set when byte k is `\n`, bit k set when byte k is special).
#[cfg(target_arch = "x86_64")]
#[inline]
pub fn masks(b: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let mut nl = 0u64;
    let mut sp = 0u64;
    // SAFETY: SSE2 is part of the x86_64 baseline; each load reads 16 bytes inside `b`.
    unsafe {
        let (vn, vr, ve, vc) = (
            _mm_set1_epi8(b'\n' as i8),
            _mm_set1_epi8(b'\r' as i8),
            _mm_set1_epi8(b'=' as i8),
            _mm_set1_epi8(b':' as i8),
        );
        for k in 0..4 {
            let v = _mm_loadu_si128(b.as_ptr().add(16 * k).cast::<__m128i>());
            let n = _mm_movemask_epi8(_mm_cmpeq_epi8(v, vn)) as u16;
            let s = _mm_movemask_epi8(_mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, vr), _mm_cmpeq_epi8(v, ve)),
                _mm_cmpeq_epi8(v, vc),
            )) as u16;
            nl |= u64::from(n) << (16 * k);
            sp |= u64::from(s) << (16 * k);
        }
    }
    (nl, sp)
}

/// For the 64 bytes at `b`: (bit k set when byte k is `\n`, bit k set when byte k is special).
#[cfg(not(target_arch = "x86_64"))]
#[inline]
pub fn masks(b: &[u8; 64]) -> (u64, u64) {
    let mut nl = 0u64;
    let mut sp = 0u64;
    for (k, &c) in b.iter().enumerate() {
        nl |= u64::from(c == b'\n') << k;
        sp |= u64::from(is_special(c)) << k;
    }
    (nl, sp)
}

/// Calls `f(line, special)` for each `\n`-terminated line of `block` (without its `\n`), where
/// `special` tells whether the line holds a `\r`, `=` or `:`. Bytes after the last `\n` are
/// ignored.
#[inline]
pub fn for_each_line<'a>(block: &'a [u8], mut f: impl FnMut(&'a [u8], bool)) {
    let mut start = 0; // start of the current line
    let mut special = false; // the current line holds a special byte in an earlier window
    let mut base = 0;
    let mut tail = [0u8; 64];
    while base < block.len() {
        let w: &[u8; 64] = match block.get(base..base + 64) {
            Some(w) => w.try_into().unwrap_or(&tail),
            None => {
                let rest = &block[base..];
                tail[..rest.len()].copy_from_slice(rest);
                tail[rest.len()..].fill(0);
                &tail
            }
        };
        let (mut nl, mut sp) = masks(w);
        while nl != 0 {
            let bit = nl.trailing_zeros();
            let end = base + bit as usize;
            let below = (1u64 << bit) - 1;
            f(&block[start..end], special || sp & below != 0);
            special = false;
            start = end + 1;
            nl &= nl - 1;
            sp &= !below; // (the `\n` itself is not special)
        }
        special |= sp != 0;
        base += 64;
    }
}

/// The same as [`for_each_line`], one byte at a time (for tests).
#[cfg(test)]
pub fn for_each_line_slow(block: &[u8], mut f: impl FnMut(&[u8], bool)) {
    let mut rest = block;
    while let Some(i) = memchr::memchr(b'\n', rest) {
        let line = &rest[..i];
        f(line, line.iter().any(|&c| is_special(c)));
        rest = &rest[i + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(block: &[u8], fast: bool) -> Vec<(Vec<u8>, bool)> {
        let mut v = Vec::new();
        let f = |l: &[u8], s: bool| v.push((l.to_vec(), s));
        if fast {
            for_each_line(block, f);
        } else {
            for_each_line_slow(block, f);
        }
        v
    }

    #[test]
    fn matches_a_byte_by_byte_scan() {
        // lines of every length around the 64-byte windows, special bytes at either end
        let mut block = Vec::new();
        let mut seed = 7u64;
        for len in 0..300 {
            for _ in 0..3 {
                for _ in 0..len {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let r = (seed >> 33) % 40;
                    block.push(match r {
                        0 => b'=',
                        1 => b':',
                        2 => b'\r',
                        _ => b'a' + (r as u8 % 26),
                    });
                }
                block.push(b'\n');
            }
        }
        block.extend_from_slice(b"x=1\n\n\n=\n:\n\r\nabc\n==\n");
        for cut in [0, 1, 63, 64, 65, 127, 128, 1000] {
            let b = &block[cut..];
            assert_eq!(collect(b, true), collect(b, false), "cut {cut}");
        }
        assert_eq!(collect(b"no newline=", true), vec![]);
        assert_eq!(
            collect(b"a\nb=\nc", true),
            vec![(b"a".to_vec(), false), (b"b=".to_vec(), true)]
        );
    }
}
