//! The entry points of the cargo-fuzz targets in `fuzz/`, shared with their stable-Rust twins
//! in the test suite (`fuzz_smoke`), so both feed the code the same way. Each takes arbitrary
//! bytes and must never panic.

use crate::analyze::spec::{parse_budget, parse_fail_on};
use crate::parse::{ParseConfig, Parser, Stream};
use crate::store::{decode_chunk, decode_pair, CHUNK};

/// The line protocol and progress recognizers: every line of `data`, alternately on stdout and
/// stderr, through a parser with auto recognition and a user regex on, then finish and explain.
pub fn line_parser(data: &[u8]) {
    let cfg = ParseConfig {
        auto: true,
        regexes: vec![r"step (?P<iter>\d+) cost (?P<cost>[-0-9.e]+)".to_string()],
        explain: true,
    };
    let Ok(mut p) = Parser::new(&cfg) else {
        panic!("the regex compiles");
    };
    let mut n = 0;
    for (i, line) in data.split(|b| *b == b'\n').enumerate() {
        let stream = if i % 3 == 0 {
            Stream::Stderr
        } else {
            Stream::Stdout
        };
        p.feed_line(stream, i as f64 * 0.01, line, i % 7 == 6);
        n = i + 1;
    }
    let _ = p.latest_progress();
    let r = p.finish(n as f64 * 0.01);
    let _ = crate::parse::explain_text(&r);
}

/// The sample-blob decoder: the first two bytes pick the shape a (possibly damaged) row
/// declares, within the reader's limits; the rest is the blob.
pub fn blob_decoder(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let n = (usize::from(data[0]) * 31) % (CHUNK + 1);
    let cols = usize::from(data[1]) % 17;
    let _ = decode_chunk(&data[2..], n, cols);
    let _ = decode_pair(&data[2..], n);
}

/// The `--fail-on` and `--budget` spec parsers.
pub fn specs(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let _ = parse_fail_on(&s);
    let _ = parse_budget(&s);
}
