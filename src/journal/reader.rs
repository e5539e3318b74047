//! Streams a seq range of the journal while the writer keeps appending.
//!
//! Start-up replay (`writer::open_state` and `rebuild`) reads the entries that sled has
//! not applied yet through here; API reads (`ListAuditEntries`, `WatchEvents`) come from
//! sled, not from the journal. A reader has its own file handles and checks framing,
//! checksums and seq continuity but not the hash chain (recovery and [`super::verify()`]
//! do that). It stops at `up_to_seq` without reading further, so a record the writer is
//! half-way through writing after it is never seen; `up_to_seq` must therefore be an
//! entry that was appended and synced (or at least written out).

use std::path::{Path, PathBuf};

use super::scan::{Cursor, Step};
use super::{Damage, JournalError};
use crate::pb;

/// Entries with `after_seq < seq <= up_to_seq`, in seq order, one at a time.
pub fn read_entries(dir: &Path, after_seq: u64, up_to_seq: u64) -> EntryReader {
    EntryReader {
        dir: dir.to_path_buf(),
        after_seq,
        up_to_seq,
        cursor: None,
        done: up_to_seq <= after_seq,
    }
}

/// The iterator [`read_entries`] returns. After an error it yields nothing more.
pub struct EntryReader {
    dir: PathBuf,
    after_seq: u64,
    up_to_seq: u64,
    /// Opened on the first `next`, so that creating a reader does no I/O.
    cursor: Option<Cursor>,
    done: bool,
}

impl Iterator for EntryReader {
    type Item = Result<pb::JournalEntry, JournalError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.next_entry();
        if !matches!(&item, Ok(entry) if entry_seq(entry) < self.up_to_seq) {
            self.done = true;
        }
        Some(item)
    }
}

impl EntryReader {
    fn next_entry(&mut self) -> Result<pb::JournalEntry, JournalError> {
        let cursor = match self.cursor.as_mut() {
            Some(cursor) => cursor,
            None => self
                .cursor
                .insert(Cursor::new(&self.dir, self.after_seq + 1)?),
        };
        loop {
            match cursor.next_step()? {
                Step::Entry(located) if located.seq() <= self.after_seq => continue,
                Step::Entry(located) => return Ok(located.entry),
                Step::End { next_seq } => {
                    return Err(JournalError::EndsEarly {
                        last_seq: next_seq.saturating_sub(1),
                        wanted: self.up_to_seq,
                    });
                }
                Step::Bad(fault)
                    if fault.in_last_segment
                        && matches!(fault.damage, Damage::Truncated { .. }) =>
                {
                    let last_seq = fault.seq.saturating_sub(1);
                    return Err(JournalError::EndsEarly {
                        last_seq,
                        wanted: self.up_to_seq,
                    });
                }
                Step::Bad(fault) => return Err(fault.into_error()),
            }
        }
    }
}

fn entry_seq(entry: &pb::JournalEntry) -> u64 {
    entry.audit.as_ref().map_or(0, |a| a.seq)
}
