//! The recovery scan that `Journal::open` runs before any write.
//!
//! It walks the entries ([`Scope::Full`]: all of them; [`Scope::Tail`]: those of the
//! newest segment, which is all a start needs), checking framing, checksums, seq
//! continuity and the hash chain, and finds the chain head the writer continues from. At the first bad record
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

/// How much of the journal recovery reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every entry of every segment: framing, seqs and the whole hash chain.
    Full,
    /// The newest segment that holds an entry, and any after it. Only the segment
    /// being written can hold a torn tail, and the chain head is its last entry;
    /// older segments were checked when they were written and are checked again
    /// after start (`journal::verify`, `docs/architecture.md`, "Recovery").
    Tail,
}

/// Checks the journal in `dir` (creating the folder if missing) and cuts a torn tail
/// that lies beyond `applied_seq`, the last entry the store says it applied.
pub(super) fn recover(
    dir: &Path,
    applied_seq: u64,
    scope: Scope,
) -> Result<Recovered, JournalError> {
    create_dir(dir)?;
    let mut start = match scope {
        Scope::Full => 0,
        Scope::Tail => list_segments(dir)?.len().saturating_sub(1),
    };
    let mut torn_tail = None;
    let head = loop {
        // The first segment is read from seq 1, so that a misnamed one is caught.
        let from = match start {
            0 => 1,
            i => list_segments(dir)?.get(i).map_or(1, |s| s.first_seq),
        };
        let (head, torn) = scan(dir, from, applied_seq)?;
        torn_tail = torn_tail.or(torn);
        match head {
            Some(head) => break head,
            None if start == 0 => {
                break ChainHead {
                    seq: 0,
                    hash: GENESIS,
                };
            }
            // No whole entry there (a segment just started, or cut as a torn tail):
            // the head is in the segment before.
            None => start -= 1,
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

/// Walks the entries from seq `from` to the end, checking each link, and cuts a torn
/// tail. Returns the last entry's head (`None` if there was no whole entry) and the
/// cut tail. The first entry's `prev_hash` is taken as it is when `from` is not 1: the
/// entry before it lies in a segment this scan does not read.
fn scan(
    dir: &Path,
    from: u64,
    applied_seq: u64,
) -> Result<(Option<ChainHead>, Option<TornTail>), JournalError> {
    let mut cursor = Cursor::new(dir, from)?.audit_only();
    let mut head: Option<ChainHead> = None;
    loop {
        match cursor.next_step()? {
            Step::Entry(located) => {
                let seq = located.seq();
                let prev = match head {
                    Some(h) => h.hash,
                    None if from == 1 => GENESIS,
                    None => located
                        .entry
                        .audit
                        .as_ref()
                        .and_then(|a| <[u8; 32]>::try_from(a.prev_hash.as_slice()).ok())
                        .unwrap_or(GENESIS),
                };
                match check_link(&prev, &located.entry, &located.payload) {
                    Ok(hash) => head = Some(ChainHead { seq, hash }),
                    Err(damage) => {
                        return Err(JournalError::Corrupt {
                            segment: located.segment.name(),
                            offset: located.offset,
                            seq,
                            damage,
                        });
                    }
                }
            }
            Step::End { .. } => return Ok((head, None)),
            Step::Bad(fault) => return Ok((head, Some(cut_torn_tail(fault, applied_seq)?))),
        }
    }
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
