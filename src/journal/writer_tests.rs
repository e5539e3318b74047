//! The journal writer: append, sync, reopen and read back; segment rotation; file
//! modes; appends that do not extend the chain head.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use super::segment::{SegmentFile, list_segments};
use super::testkit::{entry, sealed_entries, write_journal};
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

/// A journal with the first `synced` of `entries` appended and synced, and the rest
/// appended without a sync.
fn synced_then_appended(
    dir: &Path,
    options: JournalOptions,
    entries: &[pb::JournalEntry],
    synced: usize,
) -> Journal {
    let (mut journal, _) = Journal::open(dir, options).expect("open");
    for e in &entries[..synced] {
        journal.append(e).expect("append");
    }
    journal.sync().expect("sync");
    assert!(journal.is_clean());
    for e in &entries[synced..] {
        journal.append(e).expect("append");
    }
    assert!(!journal.is_clean());
    journal
}

#[test]
fn reopen_cuts_what_a_failed_write_left_past_the_last_sync() {
    let dir = tempfile::tempdir().expect("tempdir");
    let entries = sealed_entries(15);
    let mut journal = synced_then_appended(dir.path(), JournalOptions::default(), &entries, 10);
    let synced = journal.synced_head();
    assert_eq!(synced.seq, 10);
    let path = SegmentFile::new(dir.path(), 1).path;
    let synced_len = std::fs::metadata(&path).expect("stat").len();
    // What a write-out cut short by a full disk leaves: part of a record.
    OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(&[200, 0, 0, 0, 1, 2, 3]))
        .expect("write a partial record");

    assert_eq!(journal.reopen(0).expect("reopen"), synced);
    assert!(journal.is_clean());
    assert_eq!(std::fs::metadata(&path).expect("stat").len(), synced_len);
    assert_eq!(
        journal.torn_tail(),
        None,
        "nothing was left to cut at the reopen"
    );

    // The buffered entries 11..=15 never reach the file; 11 is appended again.
    journal
        .append(&entries[10])
        .expect("append after the reopen");
    journal.sync().expect("sync");
    drop(journal);
    let (_, head) = Journal::open(dir.path(), JournalOptions::default()).expect("open again");
    assert_eq!(head.seq, 11);
    assert_eq!(read_all(dir.path(), 0, 11), entries[..11]);
    assert!(verify(dir.path(), 11).ok);
}

#[test]
fn reopen_removes_segments_started_after_the_last_sync() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = JournalOptions {
        segment_max_bytes: 300,
    };
    let entries = sealed_entries(20);
    let mut journal = synced_then_appended(dir.path(), options, &entries, 4);
    // Rotation syncs the segment it closes, so the last sync is past seq 4 now.
    let synced = journal.synced_head();
    assert!(synced.seq > 4 && synced.seq < 20, "{synced:?}");
    let before = list_segments(dir.path()).expect("list");
    assert!(before.last().expect("a segment").first_seq > synced.seq);

    assert_eq!(journal.reopen(0).expect("reopen"), synced);
    let after = list_segments(dir.path()).expect("list");
    assert!(after.iter().all(|s| s.first_seq <= synced.seq), "{after:?}");
    assert_eq!(
        read_all(dir.path(), 0, synced.seq),
        entries[..synced.seq as usize]
    );

    for e in &entries[synced.seq as usize..] {
        journal.append(e).expect("append after the reopen");
    }
    journal.sync().expect("sync");
    drop(journal);
    let (_, head) = Journal::open(dir.path(), options).expect("open again");
    assert_eq!(head.seq, 20);
    assert!(verify(dir.path(), 20).ok);
}

#[test]
fn cut_after_keeps_the_entries_up_to_seq_and_quarantines_the_rest() {
    // Small segments, so that the cut spans a rotation: entries 5.. lie in several.
    for (segment_max, keep) in [(u64::MAX, 4), (200, 4), (200, 0), (200, 9)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let options = JournalOptions {
            segment_max_bytes: segment_max,
        };
        let written = write_journal(dir.path(), 9, segment_max);
        let (mut journal, _) = Journal::open(dir.path(), options).expect("open");
        let cut = journal.cut_after(keep).expect("cut");
        assert_eq!(journal.head().seq, keep);
        assert_eq!(read_all(dir.path(), 0, keep), written[..keep as usize]);
        match cut {
            None => assert_eq!(keep, 9, "nothing lies after the head"),
            Some(cut) => {
                assert_eq!((cut.first_seq, cut.last_seq), (keep + 1, 9));
                let kept = std::fs::read(&cut.quarantined).expect("the quarantine file");
                assert!(!kept.is_empty(), "the cut frames are kept");
            }
        }
        // The journal takes the next entry at keep + 1, and reopens there.
        let head = journal.head();
        let mut next = entry(keep + 1);
        seal(&mut next, keep + 1, &head.hash);
        journal.append(&next).expect("append after the cut");
        journal.sync().expect("sync");
        let (_, reopened) = Journal::open(dir.path(), options).expect("reopen");
        assert_eq!(reopened.seq, keep + 1);
        assert!(verify(dir.path(), keep + 1).ok);
    }
}
