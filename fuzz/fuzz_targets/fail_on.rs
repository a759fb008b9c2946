//! The `--fail-on` and `--budget` spec parsers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use perfmon::analyze::spec::{parse_budget, parse_fail_on};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let _ = parse_fail_on(&s);
    let _ = parse_budget(&s);
});
