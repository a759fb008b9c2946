//! Measures redaction: `cargo run --release --example redact_bench [LINES]`.
//!
//! The first redaction of a run is its command line, before the command starts, so the first
//! call on a command line without secrets must compile nothing. It times that first call, the
//! first call on the command line of issue 15 (which compiles the forms it holds), steady calls
//! on both, and free text (marks, environment values) with and without secrets.

use std::time::Instant;

use perfmon::redact::{redact_args, redact_text};

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|s| s.to_string()).collect()
}

/// Microseconds per call of `f` over `n` calls.
fn per_call(n: u32, mut f: impl FnMut() -> usize) -> f64 {
    let t = Instant::now();
    let mut sink = 0;
    for _ in 0..n {
        sink += f();
    }
    std::hint::black_box(sink);
    t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
}

fn main() {
    let lines: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let clean = argv(&[
        "python",
        "train.py",
        "--lr",
        "0.001",
        "--data",
        "/data/imagenet",
        "--device",
        "cuda:0",
        "--resume",
        "https://example.com/ckpt/9ca5623e.pt",
    ]);
    let issue = argv(&[
        "sh",
        "-c",
        "true",
        "-H",
        "Authorization: Bearer abcdef123456",
        "-H",
        "X-Api-Key: xyz789",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "AKIAIOSFODNN7EXAMPLE",
    ]);
    let t = Instant::now();
    let n = redact_args(&clean).len();
    println!(
        "first call, {n} arguments without secrets: {:.1} µs",
        t.elapsed().as_secs_f64() * 1e6
    );
    let t = Instant::now();
    let n = redact_args(&issue).len();
    println!(
        "first call, issue 15's {n} arguments: {:.1} µs",
        t.elapsed().as_secs_f64() * 1e6
    );
    println!(
        "steady: clean command line {:.2} µs, issue 15's {:.2} µs",
        per_call(lines / 10, || redact_args(&clean).len()),
        per_call(lines / 10, || redact_args(&issue).len())
    );
    let plain =
        "epoch 3/10 - loss: 0.25 - val_loss: 0.31 saved /home/ana/ga/run_0042/checkpoint.pt";
    let secret = "deploy with X-Auth-Token: abc and eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln";
    for (what, s) in [("without secrets", plain), ("with two secrets", secret)] {
        let us = per_call(lines, || redact_text(s).len());
        println!(
            "text {what} ({} bytes): {us:.2} µs a line, {:.0} MB/s",
            s.len(),
            s.len() as f64 / us
        );
    }
}
