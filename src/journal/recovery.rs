//! The recovery scan that `Journal::open` runs before any write.
//!
//! It walks every entry, checking framing, checksums, seq continuity and the hash
//! chain, and finds the chain head the writer continues from. At the first bad record
//! it asks [`super::tail`] whether that is a torn tail, which is cut off (into the
//! quarantine folder) and logged; any other damage stops the start with an error
//! naming the segment, offset and seq: an acknowledged write may depend on it, and
//! nothing is silently dropped.

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use super::JournalError;
use super::chain::{ChainHead, GENESIS, check_link};
use super::scan::{Cursor, Step};
use super::segment::{SegmentFile, list_segments, sync_dir};
use super::tail::{TornTail, cut_torn_tail};

/// What recovery found: the chain head and where the writer continues.
pub(super) struct Recovered {
    pub head: ChainHead,
    pub torn_tail: Option<TornTail>,
    /// The last segment and its length, which the writer appends to.
    pub tail: Option<(SegmentFile, u64)>,
    /// Bytes in every other segment.
    pub closed_bytes: u64,
}

/// Checks the journal in `dir` (creating the folder if missing) and cuts a torn tail
/// that lies beyond `applied_seq`, the last entry the store says it applied.
pub(super) fn recover(dir: &Path, applied_seq: u64) -> Result<Recovered, JournalError> {
    create_dir(dir)?;
    let mut cursor = Cursor::new(dir, 1)?;
    let mut head = ChainHead {
        seq: 0,
        hash: GENESIS,
    };
    let torn_tail = loop {
        match cursor.next_step()? {
            Step::Entry(located) => {
                let seq = located.seq();
                match check_link(&head.hash, &located.entry, &located.payload) {
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
            Step::Bad(fault) => break Some(cut_torn_tail(fault, applied_seq)?),
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

/// Creates the journal folder (and any missing parents) readable by the owner only.
fn create_dir(dir: &Path) -> Result<(), JournalError> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| JournalError::Io {
            action: "create folder",
            path: dir.to_path_buf(),
            source,
        })?;
    match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_dir(parent),
        _ => Ok(()),
    }
}

pub(super) fn file_len(path: &Path) -> Result<u64, JournalError> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|source| JournalError::Io {
            action: "read the size of",
            path: path.to_path_buf(),
            source,
        })
}
