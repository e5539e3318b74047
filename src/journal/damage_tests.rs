//! Damaged journals: what recovery (`Journal::open`) and `verify` make of altered,
//! dropped, reordered and truncated entries. Both must find the same first bad seq,
//! neither may panic, and recovery may cut only a torn tail.

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use prost::Message;

use super::segment::{SegmentFile, list_segments, write_frame};
use super::testkit::{frame_spans, write_journal};
use super::{Damage, Journal, JournalError, JournalOptions, read_entries, verify};
use crate::pb;

/// The records of a segment file, each as its framed bytes.
fn records_of(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).expect("read segment");
    frame_spans(path)
        .iter()
        .map(|&(start, end)| bytes[start as usize..end as usize].to_vec())
        .collect()
}

fn write_records(path: &Path, records: &[Vec<u8>]) {
    std::fs::write(path, records.concat()).expect("write segment");
}

/// Opens `dir`, expects a `Corrupt` error, and returns its parts after checking that
/// its message names the segment and offset and says to restore from backup.
fn expect_corrupt(dir: &Path) -> (String, u64, u64, Damage) {
    match Journal::open(dir, JournalOptions::default()) {
        Err(e @ JournalError::Corrupt { .. }) => {
            let message = e.to_string();
            let JournalError::Corrupt {
                segment,
                offset,
                seq,
                damage,
            } = e
            else {
                unreachable!()
            };
            assert!(message.contains(&segment), "{message}");
            assert!(
                message.contains(&format!("byte offset {offset}")),
                "{message}"
            );
            assert!(
                message.contains("restore the journal folder from backup"),
                "{message}"
            );
            (segment, offset, seq, damage)
        }
        Err(other) => panic!("expected corruption, got {other}"),
        Ok((_, head)) => panic!("expected corruption, but the journal opened at {head:?}"),
    }
}

fn assert_verify_fails_at(dir: &Path, up_to: u64, first_bad_seq: u64) {
    let report = verify(dir, up_to);
    assert!(!report.ok, "{report:?}");
    assert_eq!(
        (
            report.first_bad_seq,
            report.head_seq,
            report.entries_checked
        ),
        (first_bad_seq, first_bad_seq - 1, first_bad_seq - 1)
    );
    assert!(!report.problem.is_empty());
}

/// A one-segment journal of `n` entries.
fn journal_of(n: u64) -> (tempfile::TempDir, SegmentFile) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_journal(dir.path(), n, u64::MAX);
    let segment = SegmentFile::new(dir.path(), 1);
    (dir, segment)
}

#[test]
fn a_flipped_byte_in_a_middle_record_stops_recovery_and_fails_verify() {
    let (dir, segment) = journal_of(6);
    let spans = frame_spans(&segment.path);
    let mut bytes = std::fs::read(&segment.path).expect("read");
    bytes[spans[2].0 as usize + 20] ^= 0x01;
    std::fs::write(&segment.path, &bytes).expect("write");

    let (name, offset, seq, damage) = expect_corrupt(dir.path());
    assert_eq!((name, offset, seq), (segment.name(), spans[2].0, 3));
    assert!(matches!(damage, Damage::BadChecksum { .. }), "{damage:?}");
    assert_eq!(
        std::fs::read(&segment.path).expect("read"),
        bytes,
        "recovery must not cut anything"
    );
    assert_verify_fails_at(dir.path(), 6, 3);
}

#[test]
fn a_dropped_entry_is_detected() {
    let (dir, segment) = journal_of(6);
    let mut records = records_of(&segment.path);
    records.remove(3);
    write_records(&segment.path, &records);

    let (_, _, seq, damage) = expect_corrupt(dir.path());
    assert_eq!(
        (seq, damage),
        (
            4,
            Damage::SeqMismatch {
                expected: 4,
                found: 5
            }
        )
    );
    assert_verify_fails_at(dir.path(), 6, 4);
}

#[test]
fn two_swapped_entries_are_detected() {
    let (dir, segment) = journal_of(6);
    let mut records = records_of(&segment.path);
    records.swap(1, 2);
    write_records(&segment.path, &records);

    let (_, _, seq, damage) = expect_corrupt(dir.path());
    assert_eq!(
        (seq, damage),
        (
            2,
            Damage::SeqMismatch {
                expected: 2,
                found: 3
            }
        )
    );
    assert_verify_fails_at(dir.path(), 6, 2);
}

/// Rewrites entry `index` through `alter`, re-encoded with a valid checksum.
fn alter_entry(path: &Path, index: usize, alter: impl FnOnce(&mut pb::JournalEntry)) {
    let mut records = records_of(path);
    let mut entry = pb::JournalEntry::decode(&records[index][8..]).expect("decode");
    alter(&mut entry);
    records[index].clear();
    write_frame(&mut records[index], &entry.encode_to_vec()).expect("frame");
    write_records(path, &records);
}

#[test]
fn an_altered_audit_entry_with_a_valid_checksum_is_detected() {
    let (dir, segment) = journal_of(6);
    alter_entry(&segment.path, 4, |e| {
        if let Some(audit) = e.audit.as_mut() {
            audit.actor = "someone-else".into();
        }
    });
    let (_, _, seq, damage) = expect_corrupt(dir.path());
    assert_eq!((seq, damage), (5, Damage::HashMismatch));
    assert_verify_fails_at(dir.path(), 6, 5);
    assert!(
        verify(dir.path(), 4).ok,
        "entries before the altered one still verify"
    );
}

#[test]
fn altered_records_with_a_valid_checksum_are_detected() {
    let (dir, segment) = journal_of(6);
    alter_entry(&segment.path, 5, |e| e.records.truncate(0));
    // Even the last record: a valid checksum means it is no torn tail.
    let (_, _, seq, damage) = expect_corrupt(dir.path());
    assert_eq!((seq, damage), (6, Damage::RecordsAltered));
    assert_verify_fails_at(dir.path(), 6, 6);
}

#[test]
fn an_entry_rehashed_after_alteration_breaks_the_next_link() {
    let (dir, segment) = journal_of(6);
    alter_entry(&segment.path, 1, |e| {
        let prev = e
            .audit
            .as_ref()
            .map(|a| a.prev_hash.clone())
            .unwrap_or_default();
        if let Some(audit) = e.audit.as_mut() {
            audit.detail = "nothing happened".into();
        }
        let prev: [u8; 32] = prev.try_into().expect("32-byte prev_hash");
        super::seal(e, 2, &prev);
    });
    let (_, _, seq, damage) = expect_corrupt(dir.path());
    assert_eq!((seq, damage), (3, Damage::BrokenLink));
    assert_verify_fails_at(dir.path(), 6, 3);
}

#[test]
fn damage_in_an_earlier_segment_is_never_cut() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_journal(dir.path(), 12, 300);
    let segments = list_segments(dir.path()).expect("list");
    let first = &segments[0];
    let spans = frame_spans(&first.path);
    let (start, end) = spans[spans.len() - 1];
    let cut_file = std::fs::OpenOptions::new()
        .write(true)
        .open(&first.path)
        .expect("open");
    cut_file.set_len(end - 2).expect("truncate");

    let (name, offset, seq, damage) = expect_corrupt(dir.path());
    assert_eq!(
        (name, offset, seq),
        (first.name(), start, spans.len() as u64)
    );
    assert!(matches!(damage, Damage::Truncated { .. }), "{damage:?}");
    assert_verify_fails_at(dir.path(), 12, spans.len() as u64);
}

#[test]
fn a_missing_segment_is_detected() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_journal(dir.path(), 12, 300);
    let segments = list_segments(dir.path()).expect("list");
    std::fs::remove_file(&segments[1].path).expect("remove");

    let (name, offset, seq, damage) = expect_corrupt(dir.path());
    assert_eq!(
        (name, offset, seq),
        (segments[2].name(), 0, segments[1].first_seq)
    );
    assert!(matches!(damage, Damage::SegmentName { .. }), "{damage:?}");
    assert_verify_fails_at(dir.path(), 12, segments[1].first_seq);
}

/// Cuts a copy of a valid multi-segment journal at every kind of point. Cutting the
/// whole journal (dropping later segments) always opens with exactly the records that
/// lie fully before the cut; cutting one segment that is not the last always fails
/// cleanly and changes nothing.
#[test]
fn random_truncation_keeps_every_record_before_the_cut_or_fails_cleanly() {
    let template = tempfile::tempdir().expect("tempdir");
    let written = write_journal(template.path(), 14, 400);
    let segments = list_segments(template.path()).expect("list");
    let mut files = Vec::new();
    let mut total = 0u64;
    for segment in &segments {
        let bytes = std::fs::read(&segment.path).expect("read");
        let spans = frame_spans(&segment.path);
        files.push((segment.clone(), total, bytes, spans));
        total += files.last().map_or(0, |f| f.2.len() as u64);
    }

    let mut runner = TestRunner::new(Config {
        cases: 128,
        ..Config::default()
    });
    let strategy = (0..total, any::<bool>());
    let result = runner.run(&strategy, |(cut, whole_journal)| {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut records_before_cut = 0u64;
        let mut cut_in_last = false;
        for (index, (segment, start, bytes, spans)) in files.iter().enumerate() {
            let end = start + bytes.len() as u64;
            let path = dir.path().join(segment.path.file_name().expect("name"));
            if end <= cut {
                std::fs::write(&path, bytes).expect("write");
                records_before_cut += spans.len() as u64;
            } else if *start <= cut {
                let local = (cut - start) as usize;
                std::fs::write(&path, &bytes[..local]).expect("write");
                records_before_cut += spans.iter().filter(|s| s.1 <= local as u64).count() as u64;
                cut_in_last = whole_journal || index + 1 == files.len();
            } else if !whole_journal {
                std::fs::write(&path, bytes).expect("write");
            }
        }
        let before: Vec<_> = list_segments(dir.path())
            .expect("list")
            .iter()
            .map(|s| std::fs::read(&s.path).expect("read"))
            .collect();

        match Journal::open(dir.path(), JournalOptions::default()) {
            Ok((_, head)) => {
                prop_assert!(
                    cut_in_last,
                    "opened although a non-last segment was cut at {cut}"
                );
                prop_assert_eq!(head.seq, records_before_cut);
                let read: Vec<_> = read_entries(dir.path(), 0, head.seq)
                    .collect::<Result<_, _>>()
                    .expect("read");
                prop_assert_eq!(&read[..], &written[..records_before_cut as usize]);
                prop_assert!(verify(dir.path(), head.seq).ok);
            }
            Err(e) => {
                prop_assert!(
                    !cut_in_last,
                    "failed to open a journal cut at its end ({cut}): {e}"
                );
                prop_assert!(matches!(e, JournalError::Corrupt { .. }), "{e}");
                let after: Vec<_> = list_segments(dir.path())
                    .expect("list")
                    .iter()
                    .map(|s| std::fs::read(&s.path).expect("read"))
                    .collect();
                prop_assert_eq!(before, after, "a failed recovery must not change any file");
                let report = verify(dir.path(), written.len() as u64);
                prop_assert_eq!(report.first_bad_seq, records_before_cut + 1);
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
