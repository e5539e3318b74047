//! Request decoding, validation and the claim state machine over arbitrary bytes.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::requests(data));
