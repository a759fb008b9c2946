//! The line protocol and progress recognizers (see `perfmon::fuzzing::line_parser`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| perfmon::fuzzing::line_parser(data));
