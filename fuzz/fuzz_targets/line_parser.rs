//! The line protocol and progress recognizers: every line of the input, alternately on stdout
//! and stderr, through a parser with auto recognition and a user regex on, then finish/explain.
#![no_main]

use libfuzzer_sys::fuzz_target;
use perfmon::parse::{ParseConfig, Parser, Stream};

fuzz_target!(|data: &[u8]| {
    let cfg = ParseConfig {
        auto: true,
        regexes: vec![r"step (?P<iter>\d+) cost (?P<cost>[-0-9.e]+)".to_string()],
        explain: true,
    };
    let mut p = Parser::new(&cfg).expect("the regex compiles");
    for (i, line) in data.split(|b| *b == b'\n').enumerate() {
        let stream = if i % 3 == 0 { Stream::Stderr } else { Stream::Stdout };
        p.feed_line(stream, i as f64 * 0.01, line, i % 7 == 6);
    }
    let _ = p.latest_progress();
    let r = p.finish(1.0);
    let _ = perfmon::parse::explain_text(&r);
});
