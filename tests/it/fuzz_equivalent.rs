//! The fuzz targets (`fuzz/targets.rs`) run as bounded, deterministic property tests,
//! so CI exercises them on every run: a fixed seed and case count, random bytes and
//! mutations of valid inputs. Long runs use cargo-fuzz (see the README).
//!
//! `FUZZ_CASES=<n>` changes the case count (`FUZZ_CASES=100000 cargo test --test it
//! fuzz_equivalent::`); `cargo run --example fuzz_seed_corpus` writes the valid inputs
//! as a cargo-fuzz seed corpus.

#[path = "../../fuzz/targets.rs"]
mod targets;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn cases(default: u32) -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default)
}

fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &[0x7a; 32]),
    )
}

/// Random bytes, or a seed with some bytes changed, cut or added.
fn inputs(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let mutated = (
        proptest::sample::select(seeds),
        proptest::collection::vec((any::<u16>(), any::<u8>(), 0u8..4), 0..8),
    )
        .prop_map(|(mut seed, edits)| {
            for (at, byte, op) in edits {
                let at = usize::from(at) % (seed.len() + 1);
                match op {
                    0 if at < seed.len() => seed[at] = byte,
                    1 => seed.insert(at, byte),
                    2 if at < seed.len() => {
                        seed.remove(at);
                    }
                    _ => seed.truncate(at.max(1)),
                }
            }
            seed
        });
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..512),
        3 => mutated,
    ]
}

#[test]
fn requests_never_panic() {
    runner(cases(4_000))
        .run(&inputs(targets::request_seeds()), |data| {
            targets::requests(&data);
            Ok(())
        })
        .expect("requests target");
}

#[test]
fn every_request_seed_runs_clean() {
    for seed in targets::request_seeds() {
        targets::requests(&seed);
    }
}

#[test]
fn journal_recovery_never_panics_nor_drops_acknowledged_entries() {
    runner(cases(400))
        .run(&inputs(targets::journal_seeds()), |data| {
            targets::journal_recovery(&data);
            Ok(())
        })
        .expect("journal recovery target");
}
