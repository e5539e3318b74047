//! The recovery scan that `Journal::open` runs before any write.
//!
//! It walks every entry, checking framing, checksums, seq continuity and the hash
//! chain, and finds the chain head the writer continues from. A torn tail, the part
//! of the last record that a crash left half-written, was never acknowledged (the
//! writer answers only after `fdatasync`), so it is cut off and logged. Any other
//! damage stops the start with an error naming the segment, offset and seq: an
//! acknowledged write may depend on it, and nothing is silently dropped.

use std::fs::{File, OpenOptions};
use std::path::Path;

use super::chain::{ChainHead, GENESIS, check_link};
use super::scan::{Cursor, Fault, Step};
use super::segment::{SegmentFile, find_valid_frame, list_segments, rest_is_zero, sync_dir};
use super::{Damage, JournalError};

/// A torn tail that `Journal::open` cut off: the bytes from `offset` to the end of
/// the last segment, which held no complete record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The segment file's path.
    pub segment: String,
    /// Where the cut was made: the end of the last good record.
    pub offset: u64,
    /// How many bytes were cut off.
    pub bytes_cut: u64,
    /// What the first bad record looked like, for the log.
    pub damage: Damage,
}

/// What recovery found: the chain head and where the writer continues.
pub(super) struct Recovered {
    pub head: ChainHead,
    pub torn_tail: Option<TornTail>,
    /// The last segment and its length, which the writer appends to.
    pub tail: Option<(SegmentFile, u64)>,
    /// Bytes in every other segment.
    pub closed_bytes: u64,
}

pub(super) fn recover(dir: &Path) -> Result<Recovered, JournalError> {
    create_dir(dir)?;
    let mut cursor = Cursor::new(dir, 1)?;
    let mut head = ChainHead {
        seq: 0,
        hash: GENESIS,
    };
    let torn_tail = loop {
        match cursor.next_step()? {
            Step::Entry(mut located) => {
                let seq = located.seq();
                match check_link(&head.hash, &mut located.entry) {
                    Ok(hash) => head = ChainHead { seq, hash },
                    Err(damage) => {
                        let segment = located.segment.name();
                        return Err(JournalError::Corrupt {
                            segment,
                            offset: located.offset,
                            seq,
                            damage,
                        });
                    }
                }
            }
            Step::End { .. } => break None,
            Step::Bad(fault) => break Some(cut_torn_tail(fault)?),
        }
    };

    let mut segments = list_segments(dir)?;
    let tail = match segments.pop() {
        Some(last) => Some((file_len(&last.path)?, last)),
        None => None,
    };
    let mut closed_bytes = 0;
    for segment in &segments {
        closed_bytes += file_len(&segment.path)?;
    }
    Ok(Recovered {
        head,
        torn_tail,
        tail: tail.map(|(len, s)| (s, len)),
        closed_bytes,
    })
}

/// Cuts the fault off if it is a torn tail; otherwise returns the error it is.
///
/// A torn tail is a bad record in the last segment that is cut short, or whose
/// checksum or decoding fails and that ends exactly at the end of the file, or a run
/// of zero bytes to the end of the file (a crash can persist a file's size before its
/// data); and in every case no valid record may start anywhere after it.
fn cut_torn_tail(fault: Fault) -> Result<TornTail, JournalError> {
    let shaped_like_torn = match fault.damage {
        Damage::Truncated { .. } => true,
        Damage::BadChecksum { .. } | Damage::Undecodable(_) => fault.end >= fault.file_len,
        Damage::SeqMismatch { .. } | Damage::MissingAudit => false,
        _ => return Err(fault.into_error()),
    };
    if !fault.in_last_segment {
        return Err(fault.into_error());
    }
    let path = fault.segment.path.clone();
    let io_err = |action: &'static str| {
        let path = path.clone();
        move |source| JournalError::Io {
            action,
            path,
            source,
        }
    };
    let file = File::open(&path).map_err(io_err("open"))?;
    let file_len = file.metadata().map_err(io_err("read the size of"))?.len();
    if !shaped_like_torn && !rest_is_zero(&file, fault.offset, file_len).map_err(io_err("read"))? {
        return Err(fault.into_error());
    }
    if let Some(valid) =
        find_valid_frame(&file, fault.offset + 1, file_len).map_err(io_err("read"))?
    {
        let damage = Damage::FollowedByValid(Box::new(fault.damage.clone()), valid);
        return Err(Fault { damage, ..fault }.into_error());
    }
    drop(file);

    let file = OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(io_err("open for writing"))?;
    file.set_len(fault.offset).map_err(io_err("truncate"))?;
    file.sync_all().map_err(io_err("fsync"))?;
    let torn = TornTail {
        segment: fault.segment.name(),
        offset: fault.offset,
        bytes_cut: file_len - fault.offset,
        damage: fault.damage,
    };
    tracing::warn!(
        segment = %torn.segment,
        offset = torn.offset,
        bytes_cut = torn.bytes_cut,
        seq = fault.seq,
        damage = %torn.damage,
        "cut a torn tail off the journal: a write that was never acknowledged"
    );
    Ok(torn)
}

fn create_dir(dir: &Path) -> Result<(), JournalError> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|source| JournalError::Io {
        action: "create folder",
        path: dir.to_path_buf(),
        source,
    })?;
    match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_dir(parent),
        _ => Ok(()),
    }
}

fn file_len(path: &Path) -> Result<u64, JournalError> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|source| JournalError::Io {
            action: "read the size of",
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::testkit::{frame_spans, write_journal};
    use crate::journal::{Journal, JournalOptions, read_entries};

    fn reopen(dir: &Path) -> (Journal, ChainHead) {
        Journal::open(dir, JournalOptions::default()).expect("reopen")
    }

    #[test]
    fn a_record_cut_short_at_the_end_is_cut_off_and_the_chain_continues() {
        let dir = tempfile::tempdir().expect("tempdir");
        let written = write_journal(dir.path(), 5, u64::MAX);
        let segment = SegmentFile::new(dir.path(), 1);
        let spans = frame_spans(&segment.path);
        let full = spans[4].1;
        let file = OpenOptions::new()
            .write(true)
            .open(&segment.path)
            .expect("open");
        file.set_len(full - 3).expect("truncate");

        let (mut journal, head) = reopen(dir.path());
        assert_eq!(head.seq, 4);
        let torn = journal.torn_tail().cloned().expect("a torn tail");
        assert_eq!(
            (torn.segment, torn.offset, torn.bytes_cut),
            (segment.name(), spans[4].0, full - 3 - spans[4].0)
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
    fn garbage_after_the_last_record_is_cut_off() {
        for garbage in [vec![0xff; 13], vec![0; 40], vec![7; 3]] {
            let dir = tempfile::tempdir().expect("tempdir");
            write_journal(dir.path(), 3, u64::MAX);
            let path = SegmentFile::new(dir.path(), 1).path;
            let len = file_len(&path).expect("len");
            let mut bytes = std::fs::read(&path).expect("read");
            bytes.extend(&garbage);
            std::fs::write(&path, bytes).expect("write");

            let (journal, head) = reopen(dir.path());
            assert_eq!(head.seq, 3, "garbage {garbage:?}");
            assert_eq!(
                journal.torn_tail().map(|t| (t.offset, t.bytes_cut)),
                Some((len, garbage.len() as u64))
            );
            assert_eq!(file_len(&path).expect("len"), len);
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

        match Journal::open(dir.path(), JournalOptions::default()) {
            Err(JournalError::Corrupt {
                offset,
                seq: 2,
                damage: Damage::FollowedByValid(..),
                ..
            }) => {
                assert_eq!(offset, spans[1].0);
            }
            other => panic!("expected corruption at seq 2, got {other:?}"),
        }
        assert_eq!(
            std::fs::read(&path).expect("read"),
            bytes,
            "nothing may be cut"
        );
    }

    #[test]
    fn a_journal_folder_is_created_and_starts_from_genesis() {
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
    }
}
