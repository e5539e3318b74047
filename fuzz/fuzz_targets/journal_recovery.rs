//! Journal recovery over arbitrary segment contents and damaged valid journals.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::journal_recovery(data));
