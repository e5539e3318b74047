//! The journal writer: append, sync, reopen and read back; segment rotation; file
//! modes; appends that do not extend the chain head.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use super::segment::{SegmentFile, list_segments};
use super::testkit::{entry, write_journal};
use super::{Journal, JournalError, JournalOptions, read_entries, seal, verify};
use crate::pb;

fn read_all(dir: &Path, after: u64, up_to: u64) -> Vec<pb::JournalEntry> {
    read_entries(dir, after, up_to)
        .collect::<Result<_, _>>()
        .expect("read entries")
}

#[test]
fn append_sync_reopen_and_read_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let written = write_journal(dir.path(), 6, u64::MAX);

    let (journal, head) = Journal::open(dir.path(), JournalOptions::default()).expect("reopen");
    assert_eq!(head.seq, 6);
    assert_eq!(
        head.hash.to_vec(),
        written[5]
            .audit
            .as_ref()
            .map(|a| a.hash.clone())
            .unwrap_or_default()
    );
    assert_eq!(journal.head(), head);
    assert_eq!(journal.torn_tail(), None);
    let on_disk = std::fs::metadata(SegmentFile::new(dir.path(), 1).path)
        .expect("stat")
        .len();
    assert_eq!(journal.size_bytes(), on_disk);
    assert_eq!(read_all(dir.path(), 0, 6), written);
    assert_eq!(read_all(dir.path(), 2, 4), written[2..4]);
}

#[test]
fn segments_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    write_journal(dir.path(), 6, 200);
    for segment in list_segments(dir.path()).expect("list") {
        let mode = std::fs::metadata(&segment.path)
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{}", segment.name());
    }
}

#[test]
fn segments_rotate_and_reads_cross_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let written = write_journal(dir.path(), 20, 300);
    let segments = list_segments(dir.path()).expect("list");
    assert!(
        segments.len() >= 4,
        "expected several segments, got {}",
        segments.len()
    );
    assert_eq!(segments[0].first_seq, 1);

    let options = JournalOptions {
        segment_max_bytes: 300,
    };
    let (mut journal, head) = Journal::open(dir.path(), options).expect("reopen");
    assert_eq!(head.seq, 20);
    let mut next = entry(21);
    seal(&mut next, 21, &head.hash);
    journal.append(&next).expect("append");
    journal.sync().expect("sync");

    let all: Vec<_> = written.iter().cloned().chain([next]).collect();
    assert_eq!(read_all(dir.path(), 0, 21), all);
    for after in [0, 1, 7, 13, 19, 20] {
        assert_eq!(
            read_all(dir.path(), after, 21),
            all[after as usize..],
            "after {after}"
        );
    }
    assert_eq!(read_all(dir.path(), 9, 12), all[9..12]);
    assert!(verify(dir.path(), 21).ok);
}

#[test]
fn reading_stops_at_up_to_seq_while_a_record_is_half_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let written = write_journal(dir.path(), 3, u64::MAX);
    let path = SegmentFile::new(dir.path(), 1).path;
    let mut file = OpenOptions::new().append(true).open(&path).expect("open");
    file.write_all(&[200, 0, 0, 0, 1, 2]).expect("write");

    assert_eq!(read_all(dir.path(), 1, 3), written[1..]);
    let beyond: Vec<_> = read_entries(dir.path(), 0, 4).collect();
    assert!(matches!(
        beyond.last(),
        Some(Err(JournalError::EndsEarly {
            last_seq: 3,
            wanted: 4
        }))
    ));
}

#[test]
fn appends_that_do_not_extend_the_head_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut journal, head) = Journal::open(dir.path(), JournalOptions::default()).expect("open");
    let mut skipping = entry(2);
    seal(&mut skipping, 2, &head.hash);
    assert!(matches!(
        journal.append(&skipping),
        Err(JournalError::NotSealed { seq: 2, .. })
    ));
    let mut unlinked = entry(1);
    seal(&mut unlinked, 1, &[1; 32]);
    assert!(matches!(
        journal.append(&unlinked),
        Err(JournalError::NotSealed { seq: 1, .. })
    ));
    assert_eq!((journal.head(), journal.size_bytes()), (head, 0));
}
