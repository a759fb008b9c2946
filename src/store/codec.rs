//! The sample codec: integer columns to compact bytes and back. Pure functions, no SQL.
//!
//! A column is encoded as:
//!
//! ```text
//! tag byte      bit 0: the column has MISSING values; bits 1..: 0 = delta, 1 = delta-of-delta
//! [runs]        only when bit 0 is set: varint run count, then alternating run lengths of
//!               present / missing values, starting with a present run (possibly 0 long)
//! values        the present values only: the first one, the gcd g of their deltas, then the
//!               deltas / g (or the differences of those), all zigzag varints
//! ```
//!
//! Arithmetic wraps, so any i64 (extremes included) round-trips. Both integer encodings are
//! tried per column and the smaller kept. A *chunk* (one row of `sample_chunks`) is the time
//! column followed by named columns, all of the same length, compressed together with zstd.
//! Decoding never trusts its input: every length is checked against what remains, and
//! decompression is bounded by a size computed from the row's declared shape.

use std::collections::BTreeMap;

use crate::model::MISSING;

/// Samples per sealed chunk (one hour at 1 Hz, six minutes at 10 Hz).
pub const CHUNK: usize = 3600;
/// Longest metric name accepted in a chunk.
pub const MAX_NAME: usize = 1024;
/// zstd level of sealed (written once) blobs; tails rewritten at each flush use a cheaper one.
/// 9 rather than 19: on the store_bench run 19 saves only 2% of the file (0.970 vs 0.991
/// bytes/value) but makes a sealing flush take up to ~60 ms instead of ~25 ms on the sampler
/// thread.
pub const LEVEL_SEALED: i32 = 9;
pub const LEVEL_TAIL: i32 = 3;

const MODE_DELTA: u8 = 0;
const MODE_DOD: u8 = 1;
const CHUNK_FORMAT: u8 = 1;

/// A blob that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

/// Data that could not be encoded (zstd failed to compress it). Never written as an empty
/// blob: the flush fails instead, so the samples stay in memory for the next one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot compress {0}")]
pub struct EncodeError(pub String);

fn bad(what: &str) -> DecodeError {
    DecodeError(what.to_string())
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

pub fn put_varint(out: &mut Vec<u8>, mut u: u64) {
    while u >= 0x80 {
        out.push((u as u8) | 0x80);
        u >>= 7;
    }
    out.push(u as u8);
}

/// A cursor over untrusted bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    pub fn is_done(&self) -> bool {
        self.pos == self.buf.len()
    }

    pub fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| bad("truncated data"))?;
        self.pos += 1;
        Ok(b)
    }

    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut u = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            u |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(u);
            }
        }
        Err(bad("varint too long"))
    }

    /// A varint that counts something, at most `max`.
    pub fn count(&mut self, max: usize) -> Result<usize, DecodeError> {
        let u = self.varint()?;
        usize::try_from(u)
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| bad("count out of range"))
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| bad("length overflow"))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| bad("truncated data"))?;
        self.pos = end;
        Ok(s)
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Integers as: the first value, the gcd `g` of the deltas, then the deltas divided by `g`
/// (delta mode) or the differences of those (delta-of-delta mode), all zigzag varints. The gcd
/// turns page-sized RSS (×4 KiB), tick-based CPU and block-sized IO into small numbers.
fn encode_ints(values: &[i64], mode: u8, out: &mut Vec<u8>) {
    let Some((&first, rest)) = values.split_first() else {
        return;
    };
    put_varint(out, zigzag(first));
    let mut g = 0u64;
    let mut prev = first;
    for &v in rest {
        g = gcd(g, v.wrapping_sub(prev).unsigned_abs());
        prev = v;
    }
    let g = g.max(1);
    put_varint(out, g);
    let (mut prev, mut prev_q) = (first, 0i64);
    for &v in rest {
        let d = v.wrapping_sub(prev);
        // g divides d exactly. g = 2^63 (as i64: MIN) only when every delta is 0 or MIN.
        let q = d.wrapping_div(g as i64);
        let x = if mode == MODE_DOD {
            q.wrapping_sub(prev_q)
        } else {
            q
        };
        put_varint(out, zigzag(x));
        prev = v;
        prev_q = q;
    }
}

fn decode_ints(r: &mut Reader, n: usize, mode: u8, out: &mut Vec<i64>) -> Result<(), DecodeError> {
    if n == 0 {
        return Ok(());
    }
    let mut prev = unzigzag(r.varint()?);
    out.push(prev);
    let g = r.varint()?;
    if g == 0 {
        return Err(bad("zero scale"));
    }
    let mut prev_q = 0i64;
    for _ in 1..n {
        let x = unzigzag(r.varint()?);
        let q = if mode == MODE_DOD {
            prev_q.wrapping_add(x)
        } else {
            x
        };
        let d = q.wrapping_mul(g as i64);
        let v = prev.wrapping_add(d);
        out.push(v);
        prev = v;
        prev_q = q;
    }
    Ok(())
}

/// Appends the encoding of one column to `out`.
pub fn encode_column(values: &[i64], out: &mut Vec<u8>) {
    let has_missing = values.contains(&MISSING);
    let mut present = Vec::new();
    let mut runs = Vec::new();
    let body: &[i64] = if has_missing {
        let mut want_present = true;
        let mut run = 0u64;
        for &v in values {
            if (v != MISSING) != want_present {
                runs.push(run);
                run = 0;
                want_present = !want_present;
            }
            run += 1;
            if v != MISSING {
                present.push(v);
            }
        }
        runs.push(run);
        &present
    } else {
        values
    };
    let mut delta = Vec::with_capacity(body.len() * 2);
    encode_ints(body, MODE_DELTA, &mut delta);
    let mut dod = Vec::with_capacity(body.len() * 2);
    encode_ints(body, MODE_DOD, &mut dod);
    let (mode, ints) = if dod.len() < delta.len() {
        (MODE_DOD, dod)
    } else {
        (MODE_DELTA, delta)
    };
    out.push(u8::from(has_missing) | (mode << 1));
    if has_missing {
        put_varint(out, runs.len() as u64);
        for r in runs {
            put_varint(out, r);
        }
    }
    out.extend_from_slice(&ints);
}

/// Decodes one column of `n` values.
pub fn decode_column(r: &mut Reader, n: usize) -> Result<Vec<i64>, DecodeError> {
    let tag = r.byte()?;
    let has_missing = tag & 1 == 1;
    let mode = tag >> 1;
    if mode > MODE_DOD {
        return Err(bad("unknown column encoding"));
    }
    let mut out = Vec::with_capacity(n);
    if !has_missing {
        decode_ints(r, n, mode, &mut out)?;
        return Ok(out);
    }
    let nruns = r.count(n + 1)?;
    let mut runs = Vec::with_capacity(nruns);
    let mut total = 0usize;
    let mut n_present = 0usize;
    for i in 0..nruns {
        let len = r.count(n)?;
        total += len;
        if total > n {
            return Err(bad("runs longer than the column"));
        }
        if i % 2 == 0 {
            n_present += len;
        }
        runs.push(len);
    }
    if total != n {
        return Err(bad("runs shorter than the column"));
    }
    let mut present = Vec::with_capacity(n_present);
    decode_ints(r, n_present, mode, &mut present)?;
    let mut it = present.into_iter();
    for (i, len) in runs.into_iter().enumerate() {
        for _ in 0..len {
            out.push(if i % 2 == 0 {
                it.next().ok_or_else(|| bad("missing values"))?
            } else {
                MISSING
            });
        }
    }
    Ok(out)
}

/// Upper bound of the raw (uncompressed) size of `cols` encoded columns of `n` values, names
/// included: what decompression may produce at most.
pub fn raw_bound(n: usize, cols: usize) -> usize {
    // tag + run count + runs (≤ n+1 varints of ≤ 3 bytes at CHUNK) + values (≤ 10 bytes each).
    // Saturating: n and cols come from a database row, which may be damaged.
    let per_col = n
        .saturating_mul(20)
        .saturating_add(1 + 10 + 10 + 10 + MAX_NAME);
    16usize.saturating_add(cols.saturating_add(1).saturating_mul(per_col))
}

thread_local! {
    /// One zstd context per thread, reused: a run compresses one chunk per metric at each
    /// flush, and making a context each time (allocating and clearing its tables) was a fifth
    /// of the final save's instructions.
    static COMPRESSOR: std::cell::RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> =
        const { std::cell::RefCell::new(None) };
    /// The same for reading: `compare` over 100,000 runs decodes a few blobs per run, and a
    /// decoder context made for each was 14% of its time.
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// zstd-compresses `raw`.
pub fn compress(raw: &[u8], level: i32) -> Result<Vec<u8>, EncodeError> {
    let reused = COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.as_ref().map(|(l, _)| *l) != Some(level) {
            *c = zstd::bulk::Compressor::new(level).ok().map(|z| (level, z));
        }
        c.as_mut().map(|(_, z)| z.compress(raw))
    });
    match reused {
        Some(Ok(out)) => Ok(out),
        // Compressing an in-memory buffer fails only when zstd cannot allocate: try once more
        // with a fresh context; an error then is the caller's (never an empty blob, which
        // would be a chunk of samples lost without a word).
        _ => zstd::bulk::compress(raw, 1)
            .map_err(|e| EncodeError(format!("{} bytes: zstd: {e}", raw.len()))),
    }
}

/// zstd-decompresses at most `limit` bytes (no decompression bomb).
/// Streams, so memory follows what the frame really holds: zstd's bulk API reserves `limit`
/// bytes up front, which for a damaged row's huge declared shape is a capacity-overflow panic
/// or gigabytes of address space.
pub fn decompress(blob: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    use std::io::Read;
    let zerr = |e: std::io::Error| DecodeError(format!("zstd: {e}"));
    // The frame states its size (perfmon's always do): above the bound it is refused unread;
    // within it, one reused context decodes into a buffer of exactly that size.
    if let Ok(Some(size)) = zstd::zstd_safe::get_frame_content_size(blob) {
        if size > limit as u64 {
            return Err(bad("decompressed data larger than its row declares"));
        }
        let out = DECOMPRESSOR.with(|d| {
            let mut d = d.borrow_mut();
            if d.is_none() {
                *d = zstd::bulk::Decompressor::new().ok();
            }
            d.as_mut().map(|z| z.decompress(blob, size as usize))
        });
        match out {
            Some(Ok(out)) if out.len() as u64 == size => return Ok(out),
            Some(Ok(_)) => return Err(bad("decompressed data shorter than its frame states")),
            Some(Err(e)) => return Err(zerr(e)),
            // No context could be made: the streaming path below makes its own.
            None => {}
        }
    }
    let dec = zstd::stream::read::Decoder::with_buffer(blob).map_err(zerr)?;
    let mut out = Vec::new();
    dec.take((limit as u64).saturating_add(1))
        .read_to_end(&mut out)
        .map_err(zerr)?;
    if out.len() > limit {
        return Err(bad("decompressed data larger than its row declares"));
    }
    Ok(out)
}

/// Encodes rows `range` of a sample set (time column plus named columns) into one blob.
pub fn encode_chunk(
    t_us: &[i64],
    columns: &BTreeMap<String, Vec<i64>>,
    range: std::ops::Range<usize>,
    level: i32,
) -> Result<Vec<u8>, EncodeError> {
    let n = range.len();
    let mut raw = Vec::with_capacity(n * (columns.len() + 1) * 2);
    raw.push(CHUNK_FORMAT);
    put_varint(&mut raw, n as u64);
    put_varint(&mut raw, columns.len() as u64);
    encode_column(&t_us[range.clone()], &mut raw);
    for (name, col) in columns {
        let name = truncate_name(name);
        put_varint(&mut raw, name.len() as u64);
        raw.extend_from_slice(name.as_bytes());
        match col.get(range.clone()) {
            Some(vals) => encode_column(vals, &mut raw),
            // A column shorter than the time column (a caller bug): store what exists, padded.
            None => {
                let mut vals: Vec<i64> = col.get(range.start..).unwrap_or(&[]).to_vec();
                vals.resize(n, MISSING);
                encode_column(&vals, &mut raw);
            }
        }
    }
    compress(&raw, level)
}

fn truncate_name(name: &str) -> &str {
    if name.len() <= MAX_NAME {
        return name;
    }
    let mut end = MAX_NAME;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// A decoded chunk: `n` samples of time and named columns.
#[derive(Debug, Default, PartialEq)]
pub struct Chunk {
    pub t_us: Vec<i64>,
    pub columns: Vec<(String, Vec<i64>)>,
}

/// Decodes a chunk blob of the declared shape (`n` samples, `cols` named columns).
pub fn decode_chunk(blob: &[u8], n: usize, cols: usize) -> Result<Chunk, DecodeError> {
    let raw = decompress(blob, raw_bound(n, cols))?;
    let mut r = Reader::new(&raw);
    if r.byte()? != CHUNK_FORMAT {
        return Err(bad("unknown chunk format"));
    }
    if r.count(n)? != n || r.count(cols)? != cols {
        return Err(bad("chunk shape differs from its row"));
    }
    let t_us = decode_column(&mut r, n)?;
    let mut columns = Vec::with_capacity(cols);
    for _ in 0..cols {
        let len = r.count(MAX_NAME)?;
        let name = std::str::from_utf8(r.bytes(len)?)
            .map_err(|_| bad("metric name is not UTF-8"))?
            .to_string();
        columns.push((name, decode_column(&mut r, n)?));
    }
    if !r.is_done() {
        return Err(bad("trailing bytes in chunk"));
    }
    Ok(Chunk { t_us, columns })
}

/// Encodes two equally long integer columns (a process track's cpu and rss values).
pub fn encode_pair(a: &[i64], b: &[i64], level: i32) -> Result<Vec<u8>, EncodeError> {
    let mut raw = Vec::with_capacity((a.len() + b.len()) * 2 + 2);
    encode_column(a, &mut raw);
    encode_column(b, &mut raw);
    compress(&raw, level)
}

pub fn decode_pair(blob: &[u8], n: usize) -> Result<(Vec<i64>, Vec<i64>), DecodeError> {
    let raw = decompress(blob, raw_bound(n, 2))?;
    let mut r = Reader::new(&raw);
    let a = decode_column(&mut r, n)?;
    let b = decode_column(&mut r, n)?;
    if !r.is_done() {
        return Err(bad("trailing bytes in track"));
    }
    Ok((a, b))
}

/// Encodes f64 values exactly, as their bit patterns in an integer column (the bits of
/// similar floats are close, so their deltas are small).
pub fn encode_f64s(values: &[f64], out: &mut Vec<u8>) {
    let ints: Vec<i64> = values.iter().map(|v| v.to_bits() as i64).collect();
    encode_column(&ints, out);
}

pub fn decode_f64s(r: &mut Reader, n: usize) -> Result<Vec<f64>, DecodeError> {
    let ints = decode_column(r, n)?;
    Ok(ints.into_iter().map(|x| f64::from_bits(x as u64)).collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn round_trip(values: &[i64]) {
        let mut buf = Vec::new();
        encode_column(values, &mut buf);
        let mut r = Reader::new(&buf);
        assert_eq!(decode_column(&mut r, values.len()).unwrap(), values);
        assert!(r.is_done());
    }

    #[test]
    fn column_edge_cases_round_trip() {
        round_trip(&[]);
        round_trip(&[0]);
        round_trip(&[42]);
        round_trip(&[MISSING]);
        round_trip(&[MISSING; 10]);
        round_trip(&[i64::MAX, i64::MIN + 1, i64::MAX, 0, -1, i64::MIN + 1]);
        round_trip(&[i64::MAX, MISSING, i64::MIN + 1, MISSING, MISSING, 7]);
        round_trip(&[MISSING, MISSING, 1, 2, 3, MISSING, 5, MISSING]);
        // Counter resets (a restarted process): large negative deltas.
        round_trip(&[100, 200, 300, 0, 100, 200, 1 << 40, 5, 10]);
        // Scaled deltas (gcd > 1), including ones that wrap.
        round_trip(&[0, 4096, 8192, 4096, 1 << 62, -(1 << 62), 0]);
        round_trip(&[i64::MIN + 1, 0, i64::MAX - 1]);
        round_trip(&[0, i64::MIN + 2, 0]);
        round_trip(&[-(1 << 62), 1 << 62, -(1 << 62)]);
        round_trip(&[5, 5, 5, 5]);
    }

    #[test]
    fn page_multiples_are_scaled_down() {
        let v: Vec<i64> = (0..100)
            .map(|i| 2_000_000 + ((i * 37) % 11) * 4096)
            .collect();
        let mut buf = Vec::new();
        encode_column(&v, &mut buf);
        assert!(buf.len() < 4 + 4 + 100 * 2, "{}", buf.len());
    }

    #[test]
    fn random_columns_round_trip() {
        let mut rng = crate::analyze::changepoint::XorShift(7);
        for case in 0..300 {
            let n = rng.below(500) as usize;
            let mut v = Vec::with_capacity(n);
            let mut acc = 0i64;
            for _ in 0..n {
                let x = match case % 4 {
                    0 => rng.next() as i64,
                    1 => {
                        acc += rng.below(1000) as i64;
                        acc
                    }
                    2 => rng.below(5) as i64 - 2,
                    _ => {
                        if rng.below(3) == 0 {
                            MISSING
                        } else {
                            acc += rng.below(100_000) as i64;
                            acc
                        }
                    }
                };
                v.push(x);
            }
            round_trip(&v);
        }
    }

    #[test]
    fn steady_counters_are_small_and_accelerating_ones_pick_delta_of_delta() {
        let v: Vec<i64> = (0..1000).map(|i| i * 100_000).collect();
        let mut buf = Vec::new();
        encode_column(&v, &mut buf);
        assert!(buf.len() < 1010, "{}", buf.len());
        let v: Vec<i64> = (0..1000).map(|i| i * i).collect();
        let mut buf = Vec::new();
        encode_column(&v, &mut buf);
        assert_eq!(buf[0] >> 1, MODE_DOD);
        assert!(buf.len() < 1010, "{}", buf.len());
    }

    #[test]
    fn chunk_round_trips_and_rejects_damage() {
        let t: Vec<i64> = (0..50).map(|i| i * 100_000 + (i % 3)).collect();
        let mut cols = BTreeMap::new();
        cols.insert("a".to_string(), (0..50).collect::<Vec<i64>>());
        let mut b = vec![MISSING; 20];
        b.extend(0..30);
        cols.insert("b".to_string(), b);
        let blob = encode_chunk(&t, &cols, 10..50, LEVEL_TAIL).unwrap();
        let c = decode_chunk(&blob, 40, 2).unwrap();
        assert_eq!(c.t_us, t[10..]);
        assert_eq!(c.columns[0], ("a".to_string(), (10..50).collect()));
        assert_eq!(c.columns[1].1, cols["b"][10..]);
        // Wrong declared shape, garbage, truncation: errors, never panics.
        assert!(decode_chunk(&blob, 41, 2).is_err());
        assert!(decode_chunk(&blob, 40, 3).is_err());
        assert!(decode_chunk(b"garbage", 40, 2).is_err());
        assert!(decode_chunk(&blob[..blob.len() / 2], 40, 2).is_err());
        assert!(decode_chunk(&[], 0, 0).is_err());
    }

    #[test]
    fn absurd_declared_shapes_are_errors_not_panics() {
        // Found by the randomized decoder test: (n + 1) * 10 overflowed for a huge n.
        assert!(raw_bound(usize::MAX, usize::MAX) > 0);
        assert!(decode_chunk(b"\x28\xb5\x2f\xfd\x00\x00", usize::MAX, 3).is_err());
        assert!(decode_pair(b"x", usize::MAX).is_err());
    }

    #[test]
    fn decompression_is_bounded() {
        // 10 MB of zeros compresses to a few bytes; a chunk row claiming 1 sample must refuse it.
        let bomb = compress(&vec![0u8; 10 << 20], 3).unwrap();
        assert!(bomb.len() < 2000);
        assert!(decode_chunk(&bomb, 1, 1).is_err());
    }

    #[test]
    fn random_garbage_never_panics() {
        let mut rng = crate::analyze::changepoint::XorShift(99);
        for _ in 0..2000 {
            let n = rng.below(64) as usize;
            let buf: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            let mut r = Reader::new(&buf);
            let _ = decode_column(&mut r, rng.below(100) as usize);
        }
    }

    #[test]
    fn floats_round_trip_exactly() {
        let v = [
            0.0,
            -0.0,
            1.5,
            f64::MAX,
            f64::MIN_POSITIVE,
            0.1 + 0.2,
            1e-300,
        ];
        let mut buf = Vec::new();
        encode_f64s(&v, &mut buf);
        let got = decode_f64s(&mut Reader::new(&buf), v.len()).unwrap();
        let bits = |x: &[f64]| x.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&v));
        let nan = decode_f64s(
            &mut Reader::new(&{
                let mut b = Vec::new();
                encode_f64s(&[f64::NAN], &mut b);
                b
            }),
            1,
        )
        .unwrap();
        assert!(nan[0].is_nan());
    }
}
