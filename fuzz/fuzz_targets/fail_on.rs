//! The `--fail-on` and `--budget` spec parsers (see `perfmon::fuzzing::specs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| perfmon::fuzzing::specs(data));
