//! Randomized twins of the cargo-fuzz targets in fuzz/ that run on stable Rust in CI: a small
//! xorshift generator with fixed seeds mutates realistic seeds (protocol and library progress
//! lines, real sample blobs, `--fail-on`/`--budget` specs) and feeds a few thousand inputs to
//! each entry point. They must never panic; each crash that fuzzing finds becomes a fixed case
//! here (see `regressions`).

use std::collections::BTreeMap;

use crate::analyze::changepoint::XorShift;
use crate::fuzzing::{blob_decoder, line_parser, specs};
use crate::store::{decode_chunk, decode_pair, encode_chunk};

/// A value below `n` (0 when `n` is 0).
fn below(rng: &mut XorShift, n: usize) -> usize {
    (rng.next() % n.max(1) as u64) as usize
}

/// Bytes that matter to the parsers: separators, digits, signs, quotes, UTF-8 lead bytes.
const INTERESTING: &[u8] = b" =:%/<>,.-+eE0123456789\"'\t\r\n\\[]()|@\x00\xff\xc3\xe2";

/// A mutation of `seed`: byte flips, insertions of interesting bytes, deletions, splices.
fn mutate(rng: &mut XorShift, seed: &[u8], pool: &[&[u8]]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + below(rng, 6) {
        let len = v.len();
        match below(rng, 6) {
            0 if len > 0 => {
                let i = below(rng, len);
                v[i] ^= 1 << below(rng, 8);
            }
            1 => {
                let i = below(rng, len + 1);
                v.insert(i, INTERESTING[below(rng, INTERESTING.len())]);
            }
            2 if len > 0 => {
                let i = below(rng, len);
                let j = (i + 1 + below(rng, 8)).min(len);
                v.drain(i..j);
            }
            3 => {
                let other = pool[below(rng, pool.len())];
                let i = below(rng, len + 1);
                let j = below(rng, other.len() + 1);
                v.splice(i..i, other[..j].iter().copied());
            }
            4 if len > 0 => {
                let i = below(rng, len);
                v.truncate(i);
            }
            _ => {
                let i = below(rng, len + 1);
                let digits = format!("{}", rng.next() as i64);
                v.splice(i..i, digits.bytes());
            }
        }
    }
    v
}

/// Seeds for the line parser: the protocol and library progress formats.
const LINES: &[&[u8]] = &[
    b"@perfmon timer start load",
    b"@perfmon timer stop \"Data Loading\"",
    b"@perfmon progress algo=ga iter=12 best=0.5 mean=-1e-3",
    b"@perfmon progress iter=3 loss=nan acc=inf",
    b"@perfmon mark restart with <script>",
    b"gen\tnevals\tavg\tstd\tmin\tmax",
    b"12 \t300   \t0.51\t0.02\t0.4\t0.9",
    b" 45%|####5     | 45/100 [00:03<00:04, 12.3it/s, loss=0.123]",
    b"[I 2024-01-01 12:00:00,000] Trial 7 finished with value: 0.25 and parameters: {'x': 1}. Best is trial 3 with value: 0.2.",
    b"Iteration 50, loss = 0.34567",
    b"[10]\tvalidation_0-rmse:0.45\tvalidation_1-rmse:0.5",
    b"differential_evolution step 4: f(x)= 1.25",
    b"{\"iter\": 5, \"loss\": 0.1, \"name\": \"x\"}",
    b"epoch=3 step=100 loss=0.5 lr=1e-4",
];

/// One real blob per shape, and its (n, cols).
fn blob_seeds() -> Vec<(Vec<u8>, usize, usize)> {
    let mut out = Vec::new();
    for (n, cols) in [(1usize, 1usize), (40, 3), (300, 8)] {
        let t: Vec<i64> = (0..n as i64).map(|i| i * 100_000 + i % 7).collect();
        let mut columns = BTreeMap::new();
        for c in 0..cols {
            let v: Vec<i64> = (0..n as i64)
                .map(|i| (i * i * (c as i64 + 1)) % 1000 - 500)
                .collect();
            columns.insert(format!("col{c}"), v);
        }
        let blob = encode_chunk(&t, &columns, 0..n, 3).expect("in-memory compression");
        out.push((blob, n, cols));
    }
    out
}

const SPECS: &[&[u8]] = &[
    b"wall>5%",
    b"wall>5%,peak_rss>10%,timer:Data Loading>10%,best>1%",
    b"cpu>2s,io_read>1GiB,gpu_mem>500MiB",
    b"final:loss>0.01,converge_iter:loss>10%",
    b"wall<10m,peak_rss<4GiB",
    b"timer:train<1h,best:acc<0.5",
];

#[test]
fn line_parser_never_panics_on_mutated_lines() {
    for seed in [1u64, 2, 3] {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ seed);
        for _ in 0..400 {
            let lines: Vec<Vec<u8>> = (0..1 + below(&mut rng, 8))
                .map(|_| {
                    let s = LINES[below(&mut rng, LINES.len())];
                    mutate(&mut rng, s, LINES)
                })
                .collect();
            line_parser(&lines.join(&b'\n'));
        }
    }
}

#[test]
fn blob_decoder_never_panics_on_mutated_blobs() {
    let seeds = blob_seeds();
    for (blob, n, cols) in &seeds {
        let c = decode_chunk(blob, *n, *cols).expect("a fresh blob decodes");
        assert_eq!(c.t_us.len(), *n);
    }
    let pool: Vec<&[u8]> = seeds.iter().map(|(b, _, _)| b.as_slice()).collect();
    let mut rng = XorShift(0xDEAD_BEEF_CAFE_F00D);
    for _ in 0..3000 {
        let (blob, n, cols) = &seeds[below(&mut rng, seeds.len())];
        let m = mutate(&mut rng, blob, &pool);
        let _ = decode_chunk(&m, *n, *cols);
        let mut framed = vec![rng.next() as u8, rng.next() as u8];
        framed.extend_from_slice(&m);
        blob_decoder(&framed);
    }
}

#[test]
fn spec_parsers_never_panic_on_mutated_specs() {
    let mut rng = XorShift(0x0123_4567_89AB_CDEF);
    for _ in 0..4000 {
        let seed = SPECS[below(&mut rng, SPECS.len())];
        let m = mutate(&mut rng, seed, SPECS);
        specs(&m);
    }
}

/// Inputs that once crashed (found by the randomized tests or cargo fuzz) stay fixed here.
#[test]
fn regressions() {
    // A shape past what the row allows used to overflow raw_bound and zstd's preallocation.
    let _ = decode_chunk(b"\x28\xb5\x2f\xfd\x00\x00", usize::MAX, 3);
    let _ = decode_pair(b"\x28\xb5\x2f\xfd", usize::MAX);
    for s in [
        "wall>99999999999999999999s",
        "wall>1e400%",
        "wall<1e999h",
        "cpu>-0s",
    ] {
        specs(s.as_bytes());
    }
}
