//! The sample-blob decoder: the first two bytes pick the shape a (possibly damaged) row
//! declares, within the reader's limits; the rest is the blob.
#![no_main]

use libfuzzer_sys::fuzz_target;
use perfmon::store::{decode_chunk, decode_pair, CHUNK};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let n = (usize::from(data[0]) * 31) % (CHUNK + 1);
    let cols = usize::from(data[1]) % 17;
    let _ = decode_chunk(&data[2..], n, cols);
    let _ = decode_pair(&data[2..], n);
});
