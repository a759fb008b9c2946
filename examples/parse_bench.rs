//! Throughput of the output parser on the forwarding hot path:
//! `cargo run --release --example parse_bench [LINES [KIND-PREFIX]]`.
//!
//! Feeds pre-built lines to one `Parser` (auto recognition on, explain off, as `perfmon run`
//! does) and prints lines/s per kind, line by line (`feed_line`) and as the runner feeds them
//! (each 64 KiB read's whole lines as one block, `feed_lines`), next to a tight scan of the same bytes (a `memchr` for `=`
//! per line) as the floor of what any per-line work costs.

use std::hint::black_box;
use std::time::Instant;

use perfmon::parse::{ParseConfig, Parser, Stream};

fn bench(name: &str, lines: &[Vec<u8>]) {
    if let Some(only) = std::env::args().nth(2) {
        if !name.starts_with(only.as_str()) {
            return;
        }
    }
    // one contiguous buffer, as the runner's read buffer holds the lines it forwards
    let mut buf = Vec::new();
    let mut spans = Vec::with_capacity(lines.len());
    for l in lines {
        spans.push((buf.len(), buf.len() + l.len()));
        buf.extend_from_slice(l);
        buf.push(b'\n');
    }
    let cfg = ParseConfig {
        auto: true,
        regexes: vec![],
        explain: false,
    };
    let per_line = buf.len() as f64 / lines.len() as f64;
    // floor: a tight scan over the same lines
    let t = Instant::now();
    let mut hits = 0usize;
    for &(a, b) in &spans {
        hits += usize::from(memchr::memchr(b'=', black_box(&buf[a..b])).is_some());
    }
    black_box(hits);
    let floor = lines.len() as f64 / t.elapsed().as_secs_f64();
    let mut best = 0.0f64;
    let mut series = 0;
    for _ in 0..3 {
        let mut p = Parser::new(&cfg).expect("parser");
        let t = Instant::now();
        for (k, &(a, b)) in spans.iter().enumerate() {
            p.feed_line(
                Stream::Stdout,
                k as f64 * 1e-6,
                black_box(&buf[a..b]),
                false,
            );
        }
        let el = t.elapsed().as_secs_f64();
        let r = p.finish(1.0);
        series = r.series.len();
        best = best.max(lines.len() as f64 / el);
    }
    // the runner's path: each 64 KiB read's whole lines as one block (`Parser::feed_lines`)
    let mut best_blocks = 0.0f64;
    let mut series_blocks = 0;
    for _ in 0..3 {
        let mut p = Parser::new(&cfg).expect("parser");
        let t = Instant::now();
        let mut rest = &buf[..];
        let mut k = 0;
        while !rest.is_empty() {
            let cut = rest.len().min(64 * 1024);
            let end = memchr::memrchr(b'\n', &rest[..cut]).map_or(cut, |i| i + 1);
            p.feed_lines(Stream::Stdout, k as f64 * 1e-3, black_box(&rest[..end]));
            rest = &rest[end..];
            k += 1;
        }
        let el = t.elapsed().as_secs_f64();
        series_blocks = p.finish(1.0).series.len();
        best_blocks = best_blocks.max(lines.len() as f64 / el);
    }
    println!(
        "{name:<28} {:>7.2} M lines/s  {:>5.0} MB/s  blocks {:>7.2} M lines/s {:>5.0} MB/s  ({per_line:.0} B/line, {series}/{series_blocks} series; tight scan {:.1} M lines/s)",
        best / 1e6,
        best * per_line / 1e6,
        best_blocks / 1e6,
        best_blocks * per_line / 1e6,
        floor / 1e6
    );
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000_000);
    let gen = |f: &dyn Fn(usize) -> String| (0..n).map(|i| f(i).into_bytes()).collect::<Vec<_>>();
    bench(
        "protocol progress",
        &gen(&|i| format!("@perfmon progress algo=GA iter={i} best=0.031 mean=0.2")),
    );
    bench(
        "protocol progress (short)",
        &gen(&|i| format!("@perfmon progress iter={i} loss=0.5")),
    );
    bench(
        "ordinary 47-byte (bench)",
        &gen(&|_| "a 47-byte ordinary log line with no progress i".to_string()),
    );
    bench(
        "ordinary log (digit start)",
        &gen(&|i| format!("2024-05-01 12:00:{:02} INFO worker 3 started ok", i % 60)),
    );
    bench(
        "ordinary log (letter start)",
        &gen(&|i| format!("INFO worker {} started, listening on port 8080", i % 10)),
    );
    bench(
        "kv progress",
        &gen(&|i| format!("gen={i} best=6663.0 mean=5632.21 feasible=0.977")),
    );
    bench(
        "table rows",
        &gen(&|i| {
            if i % 1000 == 0 {
                "gen\tnevals\tavg    \tstd   \tmin\tmax".to_string()
            } else {
                format!("{i}  \t400   \t301.085\t12.196\t269\t336")
            }
        }),
    );
    bench(
        "json lines",
        &gen(&|i| format!("{{\"step\": {i}, \"loss\": 0.3012, \"lr\": 0.001}}")),
    );
}
