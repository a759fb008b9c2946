//! Scanning a block of complete lines 64 bytes at a time: a bit per `\n` and a bit per byte that
//! can make a line more than plain text (`\r`, `=`, `:`), so that [`crate::parse::Parser::feed_lines`]
//! classifies an ordinary line with a few bit operations instead of several scans of its bytes.

/// Bytes that send a line to the full per-line path: `\r` (a progress bar redraw), `ESC` (a
/// control sequence, removed before recognition), and the pair separators `=` and `:` that the
/// kv, sentence, bracket and JSON recognizers read.
#[cfg(any(test, not(target_arch = "x86_64")))]
#[inline]
fn is_special(c: u8) -> bool {
    matches!(c, b'\r' | b'=' | b':' | 0x1b)
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
        let (vn, vr, ve, vc, vx) = (
            _mm_set1_epi8(b'\n' as i8),
            _mm_set1_epi8(b'\r' as i8),
            _mm_set1_epi8(b'=' as i8),
            _mm_set1_epi8(b':' as i8),
            _mm_set1_epi8(0x1b),
        );
        for k in 0..4 {
            let v = _mm_loadu_si128(b.as_ptr().add(16 * k).cast::<__m128i>());
            let n = _mm_movemask_epi8(_mm_cmpeq_epi8(v, vn)) as u16;
            let s = _mm_movemask_epi8(_mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, vr), _mm_cmpeq_epi8(v, ve)),
                _mm_or_si128(_mm_cmpeq_epi8(v, vc), _mm_cmpeq_epi8(v, vx)),
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

/// The masks of a 64-byte window as 32-bit halves: `\n` bits 0..32, 32..64, then special bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Masks([u32; 4]);

impl Masks {
    #[inline]
    fn new((nl, sp): (u64, u64)) -> Masks {
        Masks([nl as u32, (nl >> 32) as u32, sp as u32, (sp >> 32) as u32])
    }

    #[inline]
    fn get(self) -> (u64, u64) {
        let [a, b, c, d] = self.0;
        (
            u64::from(a) | u64::from(b) << 32,
            u64::from(c) | u64::from(d) << 32,
        )
    }
}

/// Bytes of a block whose masks are computed in one go (64 KiB, as the runner reads): the
/// scratch space of [`for_each_line`] stays at 16 KiB whatever the block's size.
const GROUP: usize = 64 * 1024;

/// Calls `f(line, special)` for each `\n`-terminated line of `block` (without its `\n`), where
/// `special` tells whether the line holds a `\r`, `ESC`, `=` or `:`. Bytes after the last `\n` are
/// ignored. `scratch` holds the masks of up to 64 KiB of the block at a time.
///
/// The masks are computed first, in a loop of their own (with AVX2 where the CPU has it), and
/// the lines are then walked with bit operations; `f` is inlined into that walk.
#[inline]
pub fn for_each_line<'a>(
    block: &'a [u8],
    scratch: &mut Vec<Masks>,
    mut f: impl FnMut(&'a [u8], bool),
) {
    let mut start = 0; // start of the current line
    let mut special = false; // the current line holds a special byte in an earlier window
    let mut group_base = 0;
    while group_base < block.len() {
        let group = &block[group_base..block.len().min(group_base + GROUP)];
        fill(group, scratch);
        for (k, m) in scratch.iter().enumerate() {
            let base = group_base + 64 * k;
            let (mut nl, mut sp) = m.get();
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
        }
        group_base += GROUP;
    }
}

/// The masks of each 64-byte window of `group` (the last one padded with zeros) into `out`.
fn fill(group: &[u8], out: &mut Vec<Masks>) {
    out.clear();
    out.reserve(group.len().div_ceil(64));
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        unsafe { fill_avx2(group, out) };
        return;
    }
    fill_with(group, out, masks);
}

/// [`fill_with`] [`masks`], 32 bytes a compare instead of 16.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn fill_avx2(group: &[u8], out: &mut Vec<Masks>) {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8,
    };
    let vn = _mm256_set1_epi8(b'\n' as i8);
    let vr = _mm256_set1_epi8(b'\r' as i8);
    let ve = _mm256_set1_epi8(b'=' as i8);
    let vc = _mm256_set1_epi8(b':' as i8);
    let vx = _mm256_set1_epi8(0x1b);
    let mut windows = group.chunks_exact(64);
    for w in &mut windows {
        // SAFETY: `w` holds 64 bytes; the loads read bytes 0..32 and 32..64 of it.
        let (a, b) = unsafe {
            (
                _mm256_loadu_si256(w.as_ptr().cast::<__m256i>()),
                _mm256_loadu_si256(w.as_ptr().add(32).cast::<__m256i>()),
            )
        };
        let na = _mm256_movemask_epi8(_mm256_cmpeq_epi8(a, vn)) as u32;
        let nb = _mm256_movemask_epi8(_mm256_cmpeq_epi8(b, vn)) as u32;
        let sa = _mm256_movemask_epi8(_mm256_or_si256(
            _mm256_or_si256(_mm256_cmpeq_epi8(a, vr), _mm256_cmpeq_epi8(a, ve)),
            _mm256_or_si256(_mm256_cmpeq_epi8(a, vc), _mm256_cmpeq_epi8(a, vx)),
        )) as u32;
        let sb = _mm256_movemask_epi8(_mm256_or_si256(
            _mm256_or_si256(_mm256_cmpeq_epi8(b, vr), _mm256_cmpeq_epi8(b, ve)),
            _mm256_or_si256(_mm256_cmpeq_epi8(b, vc), _mm256_cmpeq_epi8(b, vx)),
        )) as u32;
        // Joined into 64-bit masks here, LLVM turns the movemasks into a 64-lane bool vector
        // that AVX2 has no register for, and assembles it a byte at a time; kept as halves,
        // the walk in `for_each_line` joins them.
        out.push(Masks([na, nb, sa, sb]));
    }
    let rest = windows.remainder();
    if !rest.is_empty() {
        let mut tail = [0u8; 64];
        tail[..rest.len()].copy_from_slice(rest);
        out.push(Masks::new(masks(&tail)));
    }
}

#[inline(always)]
fn fill_with(group: &[u8], out: &mut Vec<Masks>, masks: impl Fn(&[u8; 64]) -> (u64, u64)) {
    let mut windows = group.chunks_exact(64);
    for w in &mut windows {
        if let Ok(w) = w.try_into() {
            out.push(Masks::new(masks(w)));
        }
    }
    let rest = windows.remainder();
    if !rest.is_empty() {
        let mut tail = [0u8; 64];
        tail[..rest.len()].copy_from_slice(rest);
        out.push(Masks::new(masks(&tail)));
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
            for_each_line(block, &mut Vec::new(), f);
            // the portable masks give the same as the ones the CPU picked
            let (mut a, mut b) = (Vec::new(), Vec::new());
            fill(block, &mut a);
            fill_with(block, &mut b, masks);
            assert_eq!(a, b);
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
                        3 => 0x1b,
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
