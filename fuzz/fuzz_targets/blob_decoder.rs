//! The sample-blob decoder (see `perfmon::fuzzing::blob_decoder`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| perfmon::fuzzing::blob_decoder(data));
