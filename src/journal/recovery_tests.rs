//! Recovery at the end of the journal: which damaged last records are cut off as a
//! torn tail (into the quarantine folder) and which refuse the start, changing nothing.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use super::chain::{ChainHead, GENESIS};
use super::recovery::file_len;
use super::segment::{SegmentFile, list_segments};
use super::testkit::{frame_spans, write_journal};
use super::{Damage, Journal, JournalError, JournalOptions, QUARANTINE_DIR, read_entries};

fn reopen(dir: &Path) -> (Journal, ChainHead) {
    Journal::open(dir, JournalOptions::default()).expect("reopen")
}

fn quarantine_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(listing) = std::fs::read_dir(dir.join(QUARANTINE_DIR)) else {
        return Vec::new();
    };
    let mut files: Vec<_> = listing.map(|e| e.expect("entry").path()).collect();
    files.sort();
    files
}

/// Opens `dir` as a journal whose store applied up to `applied`, expects a refusal,
/// and checks that the segment is unchanged and nothing was quarantined.
fn expect_refused(dir: &Path, applied: u64) -> (u64, u64, Damage) {
    let segment = SegmentFile::new(dir, 1);
    let before = std::fs::read(&segment.path).expect("read");
    let result = Journal::recover(dir, JournalOptions::default(), applied);
    let after = std::fs::read(&segment.path).expect("read");
    assert_eq!(
        before, after,
        "a refused recovery must not change the segment"
    );
    assert_eq!(quarantine_files(dir), Vec::<PathBuf>::new());
    match result {
        Err(JournalError::Corrupt {
            offset,
            seq,
            damage,
            ..
        }) => (offset, seq, damage),
        Err(other) => panic!("expected corruption, got {other}"),
        Ok((_, head)) => panic!("expected a refusal, but the journal opened at {head:?}"),
    }
}

#[test]
fn a_record_cut_short_at_the_end_is_quarantined_and_the_chain_continues() {
    let dir = tempfile::tempdir().expect("tempdir");
    let written = write_journal(dir.path(), 5, u64::MAX);
    let segment = SegmentFile::new(dir.path(), 1);
    let original = std::fs::read(&segment.path).expect("read");
    let spans = frame_spans(&segment.path);
    let full = spans[4].1;
    let file = OpenOptions::new()
        .write(true)
        .open(&segment.path)
        .expect("open");
    file.set_len(full - 3).expect("truncate");

    let (mut journal, head) = Journal::recover(dir.path(), JournalOptions::default(), 4)
        .expect("a short last record beyond what the store applied is cut");
    assert_eq!(head.seq, 4);
    let torn = journal.torn_tail().cloned().expect("a torn tail");
    assert_eq!(
        (torn.segment, torn.offset, torn.bytes_cut),
        (segment.name(), spans[4].0, full - 3 - spans[4].0)
    );
    assert_eq!(quarantine_files(dir.path()), vec![torn.quarantined.clone()]);
    assert_eq!(
        std::fs::read(&torn.quarantined).expect("read quarantine"),
        original[spans[4].0 as usize..(full - 3) as usize],
        "the quarantine file holds exactly the cut bytes"
    );
    assert!(
        torn.quarantined.ends_with(format!(
            "quarantine/00000000000000000001-{}.bin",
            spans[4].0
        )),
        "{}",
        torn.quarantined.display()
    );

    let mut again = written[4].clone();
    crate::journal::seal(&mut again, 5, &head.hash);
    journal.append(&again).expect("append");
    journal.sync().expect("sync");
    drop(journal);
    let (journal, head) = reopen(dir.path());
    assert_eq!((head.seq, journal.torn_tail()), (5, None));
    assert_eq!(crate::journal::verify(dir.path(), 5).entries_checked, 5);
}

#[test]
fn garbage_or_zeros_after_the_last_record_are_cut_off() {
    for garbage in [vec![0xff; 13], vec![0; 40], vec![7; 3], vec![0; 5]] {
        let dir = tempfile::tempdir().expect("tempdir");
        write_journal(dir.path(), 3, u64::MAX);
        let path = SegmentFile::new(dir.path(), 1).path;
        let len = file_len(&path).expect("len");
        let mut bytes = std::fs::read(&path).expect("read");
        bytes.extend(&garbage);
        std::fs::write(&path, bytes).expect("write");

        let (journal, head) = Journal::recover(dir.path(), JournalOptions::default(), 3)
            .unwrap_or_else(|e| panic!("garbage {garbage:?}: {e}"));
        assert_eq!(head.seq, 3, "garbage {garbage:?}");
        let torn = journal.torn_tail().expect("a torn tail");
        assert_eq!((torn.offset, torn.bytes_cut), (len, garbage.len() as u64));
        assert_eq!(file_len(&path).expect("len"), len);
        assert_eq!(std::fs::read(&torn.quarantined).expect("read"), garbage);
    }
}

#[test]
fn a_damaged_last_record_followed_by_zero_fill_is_cut_off() {
    // A crash can persist a file's new size before its data: the last record is
    // partly written and zeros follow it.
    let dir = tempfile::tempdir().expect("tempdir");
    write_journal(dir.path(), 4, u64::MAX);
    let path = SegmentFile::new(dir.path(), 1).path;
    let spans = frame_spans(&path);
    let mut bytes = std::fs::read(&path).expect("read");
    let last = spans[3];
    for b in &mut bytes[(last.1 - 10) as usize..last.1 as usize] {
        *b = 0;
    }
    bytes.extend([0u8; 300]);
    std::fs::write(&path, &bytes).expect("write");

    let (journal, head) =
        Journal::recover(dir.path(), JournalOptions::default(), 3).expect("cut at seq 4");
    assert_eq!(head.seq, 3);
    let torn = journal.torn_tail().expect("a torn tail");
    assert!(
        matches!(torn.damage, Damage::BadChecksum { .. }),
        "{torn:?}"
    );
    assert_eq!(torn.offset, last.0);
    assert_eq!(
        std::fs::read(&torn.quarantined).expect("read"),
        bytes[last.0 as usize..]
    );
}

#[test]
fn a_complete_last_record_with_a_flipped_byte_is_refused_even_without_a_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_journal(dir.path(), 5, u64::MAX);
    let path = SegmentFile::new(dir.path(), 1).path;
    let spans = frame_spans(&path);
    let mut bytes = std::fs::read(&path).expect("read");
    let at = spans[4].1 as usize - 1;
    bytes[at] ^= 0x01;
    std::fs::write(&path, &bytes).expect("write");

    let (offset, seq, damage) = expect_refused(dir.path(), 0);
    assert_eq!((offset, seq), (spans[4].0, 5));
    match damage {
        Damage::CompleteRecord(inner) => {
            assert!(matches!(*inner, Damage::BadChecksum { .. }), "{inner:?}")
        }
        other => panic!("expected a complete damaged record, got {other:?}"),
    }
    let message = expect_refused_message(dir.path());
    assert!(message.contains("not a write cut short"), "{message}");
    assert!(
        message.contains(&format!("byte offset {}", spans[4].0)),
        "{message}"
    );
}

fn expect_refused_message(dir: &Path) -> String {
    match Journal::open(dir, JournalOptions::default()) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("expected a refusal"),
    }
}

#[test]
fn a_short_last_record_the_store_already_applied_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_journal(dir.path(), 5, u64::MAX);
    let path = SegmentFile::new(dir.path(), 1).path;
    let spans = frame_spans(&path);
    let file = OpenOptions::new().write(true).open(&path).expect("open");
    file.set_len(spans[4].1 - 3).expect("truncate");
    drop(file);

    for applied in [5, 6] {
        let (offset, seq, damage) = expect_refused(dir.path(), applied);
        assert_eq!((offset, seq), (spans[4].0, 5));
        match damage {
            Damage::Applied(inner, seq) => {
                assert_eq!(seq, applied);
                assert!(matches!(*inner, Damage::Truncated { .. }), "{inner:?}");
            }
            other => panic!("expected an applied entry, got {other:?}"),
        }
    }
}

#[test]
fn a_huge_length_in_the_middle_of_the_last_segment_is_no_torn_tail() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_journal(dir.path(), 4, u64::MAX);
    let path = SegmentFile::new(dir.path(), 1).path;
    let spans = frame_spans(&path);
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[spans[1].0 as usize + 3] = 0x7f;
    std::fs::write(&path, &bytes).expect("write");

    let (offset, seq, damage) = expect_refused(dir.path(), 0);
    assert_eq!((offset, seq), (spans[1].0, 2));
    assert!(matches!(damage, Damage::FollowedByValid(..)), "{damage:?}");
}

#[test]
fn a_journal_folder_is_created_private_and_starts_from_genesis() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let journal_dir = dir.path().join("data").join("journal");
    let (journal, head) = reopen(&journal_dir);
    assert_eq!(
        head,
        ChainHead {
            seq: 0,
            hash: GENESIS
        }
    );
    assert_eq!(
        (journal.size_bytes(), journal.dir()),
        (0, journal_dir.as_path())
    );
    assert_eq!(read_entries(&journal_dir, 0, 0).count(), 0);
    let mode = std::fs::metadata(&journal_dir)
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
}

// Tail recovery (`Journal::recover_tail`): what a start reads.

#[test]
fn tail_recovery_finds_the_same_head_as_a_full_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_journal(dir.path(), 40, 300);
    assert!(list_segments(dir.path()).expect("list").len() > 3);
    let (_, full) = Journal::recover(dir.path(), JournalOptions::default(), 40).expect("full");
    let (mut journal, tail) =
        Journal::recover_tail(dir.path(), JournalOptions::default(), 40).expect("tail");
    assert_eq!(tail, full);
    assert_eq!(tail.seq, 40);
    // The writer continues the chain from there.
    let mut next = super::testkit::entry(41);
    super::seal(&mut next, 41, &tail.hash);
    journal.append(&next).expect("append");
    journal.sync().expect("sync");
    drop(journal);
    assert!(super::verify(dir.path(), 41).ok);
}

#[test]
fn tail_recovery_reads_the_segment_before_an_empty_newest_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_journal(dir.path(), 12, 300);
    let (_, full) = Journal::recover(dir.path(), JournalOptions::default(), 12).expect("full");
    // A segment just started, with nothing in it yet (a crash right after rotating).
    let empty = dir.path().join(format!("{:020}.wal", 13));
    std::fs::write(&empty, b"").expect("empty segment");
    let (_, tail) = Journal::recover_tail(dir.path(), JournalOptions::default(), 12).expect("tail");
    assert_eq!(tail, full);
}

#[test]
fn tail_recovery_cuts_a_torn_newest_segment_and_continues_from_the_one_before() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_journal(dir.path(), 12, 300);
    let segments = list_segments(dir.path()).expect("list");
    let last = segments.last().expect("a segment");
    // Only a torn first record in the newest segment: its entries were never synced.
    let spans = frame_spans(&last.path);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&last.path)
        .expect("open");
    f.set_len(spans[0].1 - 3).expect("tear");
    let applied = last.first_seq - 1;
    let (_, tail) =
        Journal::recover_tail(dir.path(), JournalOptions::default(), applied).expect("tail");
    assert_eq!(tail.seq, applied);
    let (_, full) = Journal::recover(dir.path(), JournalOptions::default(), applied).expect("full");
    assert_eq!(tail, full);
}

#[test]
fn damage_in_an_older_segment_is_left_to_verify_by_tail_recovery() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_journal(dir.path(), 12, 300);
    let first = list_segments(dir.path()).expect("list").remove(0);
    let mut bytes = std::fs::read(&first.path).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&first.path, &bytes).expect("write");
    // A start reads only the newest segment...
    let (_, tail) = Journal::recover_tail(dir.path(), JournalOptions::default(), 12).expect("tail");
    assert_eq!(tail.seq, 12);
    // ...and the check that follows it finds the damage, as a full scan does.
    let report = super::verify(dir.path(), 12);
    assert!(!report.ok, "{report:?}");
    assert!(Journal::recover(dir.path(), JournalOptions::default(), 12).is_err());
}
