//! The append-only write-ahead journal, which is also the hash-chained audit log.
//!
//! sled alone cannot back an acknowledgement (it flushes its own log in the background;
//! see the write path in `docs/architecture.md`), so every accepted command is first
//! appended here as one `JournalEntry` (its audit entry plus the after-images of the
//! records it changed) and `fdatasync`ed. Replaying the journal rebuilds the store;
//! recomputing its hash chain proves that no entry was altered, dropped or reordered.
//!
//! - [`chain`]: the hash chain (`seal`, `entry_hash`, `records_digest`).
//! - [`Journal`]: the single writer (`open` runs recovery, then `append`/`sync`).
//! - [`read_entries`]: streams a seq range while the writer keeps appending.
//! - [`verify()`]: recomputes the chain and reports the first bad seq.
//! - [`patrol`]: re-verifies the newest segment every few minutes while the server runs.
//!
//! On disk: `<journal dir>/{first_seq:020}.wal` segments of records framed as
//! `[u32 LE payload length][u32 LE CRC32C of payload][prost-encoded JournalEntry]`, and
//! `<journal dir>/quarantine/`, which keeps whatever recovery cut off as a torn tail.

pub mod chain;
mod cut;
mod patrol;
mod reader;
mod recovery;
mod scan;
mod segment;
mod tail;
mod verify;
mod writer;

#[cfg(test)]
mod damage_tests;
#[cfg(test)]
mod recovery_tests;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod writer_tests;

use std::path::PathBuf;

pub use chain::{ChainHead, GENESIS, entry_hash, records_digest, seal};
pub use cut::Cut;
pub use patrol::{VERIFY_FAILURES, check_at_start, patrol};
pub use reader::{EntryReader, read_entries};
pub use tail::{QUARANTINE_DIR, TornTail};
pub use verify::{VerifyReport, verify, verify_newest_segment};
pub use writer::{Journal, JournalOptions};

/// Everything that can go wrong with the journal. Each message names what is wrong
/// and where, and says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The operating system refused a read, write, sync or directory operation.
    #[error(
        "journal I/O failed: could not {action} {path}: {source}; check that the disk is \
         present, writable and not full, then retry or restart"
    )]
    Io {
        /// What was being done, such as "read" or "fsync".
        action: &'static str,
        /// The file or folder concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// A record that is not an unacknowledged torn tail is damaged, missing or out of
    /// place. Nothing was cut off or skipped.
    #[error(
        "journal segment {segment} is damaged at byte offset {offset}, where entry seq {seq} \
         should be: {damage}. Acknowledged writes may depend on it, so nothing was cut off or \
         skipped: restore the journal folder from backup (keep a copy of the damaged one) and \
         start again"
    )]
    Corrupt {
        /// The segment file's path.
        segment: String,
        /// Byte offset of the bad record (or 0 for a misnamed segment).
        offset: u64,
        /// The seq expected at that position.
        seq: u64,
        /// What is wrong there.
        damage: Damage,
    },

    /// A `.wal` file whose name is not a 20-digit first seq.
    #[error(
        "unexpected file {path} in the journal folder: segment files are named \
         <first seq as 20 digits>.wal; move the file out of the journal folder"
    )]
    StrayFile {
        /// The file.
        path: PathBuf,
    },

    /// A reader was asked for entries the journal does not (yet) hold.
    #[error(
        "the journal ends after seq {last_seq}, but entries up to seq {wanted} were asked for; \
         read only entries that have been appended and synced"
    )]
    EndsEarly {
        /// The last entry present.
        last_seq: u64,
        /// The last entry asked for.
        wanted: u64,
    },

    /// `append` was given an entry that does not extend the chain head.
    #[error(
        "entry seq {seq} cannot be appended to the journal: {why}; seal each entry with \
         journal::seal(entry, head.seq + 1, &head.hash) against Journal::head()"
    )]
    NotSealed {
        /// The entry's seq (0 if it has no audit entry).
        seq: u64,
        /// What does not fit.
        why: String,
    },

    /// The entry does not fit in one record.
    #[error(
        "entry seq {seq} encodes to {bytes} bytes, more than one journal record can hold \
         (4 GiB); split the command"
    )]
    TooLarge {
        /// The entry's seq.
        seq: u64,
        /// Its encoded size.
        bytes: usize,
    },

    /// An earlier write or sync failed, so what reached the disk is unknown.
    #[error(
        "the journal refuses writes because an earlier write or sync failed ({first}); \
         the writer cuts it back to its last sync and checks it again once a test write \
         succeeds, or restart the server so that recovery can check it"
    )]
    Poisoned {
        /// The first failure.
        first: String,
    },

    /// A cut after `after` found another entry where `after + 1` should start.
    #[error(
        "cannot cut the journal after seq {after}: seq {found} lies where the next entry \
         should start; stop the server, keep a copy of the journal folder, and run \
         `takedownd verify` on it"
    )]
    CutMisplaced {
        /// The last entry to keep.
        after: u64,
        /// What was found instead of the next one.
        found: u64,
    },

    /// Reopened after a failure, the journal does not end at its last synced entry.
    #[error(
        "after cutting the journal back to its last successful sync (seq {expected}), the \
         recovery scan found it ending at seq {found}; writes stay refused: stop the server, \
         keep a copy of the journal folder, and start it again so that recovery can check it"
    )]
    ReopenedElsewhere {
        /// The last entry the writer had synced.
        expected: u64,
        /// Where the reopened journal ends.
        found: u64,
    },
}

/// What is wrong with a record, in [`JournalError::Corrupt`] and verify reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Damage {
    /// The header or payload runs past the end of the file.
    #[error(
        "the record is cut short: it needs {needed} bytes but only {available} remain in the file"
    )]
    Truncated {
        /// Bytes the record needs (header plus payload).
        needed: u64,
        /// Bytes left in the file from the record's offset.
        available: u64,
    },
    /// The payload's CRC32C does not match the header.
    #[error(
        "the record's checksum does not match (stored {stored:#010x}, computed {computed:#010x})"
    )]
    BadChecksum {
        /// CRC32C in the header.
        stored: u32,
        /// CRC32C of the payload as read.
        computed: u32,
    },
    /// The checksum matches but the payload is not a `JournalEntry`.
    #[error("the record's checksum matches but it does not decode as a JournalEntry: {0}")]
    Undecodable(String),
    /// The entry has no audit entry, so it has no seq and no hash.
    #[error("the entry has no audit entry")]
    MissingAudit,
    /// The entry's seq is not the next one.
    #[error(
        "found entry seq {found} where seq {expected} belongs (an entry is missing, duplicated \
         or out of order)"
    )]
    SeqMismatch {
        /// The seq that belongs here.
        expected: u64,
        /// The seq found.
        found: u64,
    },
    /// A segment's name does not match the seq that follows the previous segment.
    #[error(
        "the segment's file name says it starts at seq {named}, but the next entry is seq \
         {expected} (a segment is missing, misnamed, cut short or empty)"
    )]
    SegmentName {
        /// The first seq in the file name.
        named: u64,
        /// The seq that follows the previous segment.
        expected: u64,
    },
    /// A record follows a bad record in the last segment, so it is no torn tail.
    #[error("{0}, and valid records follow it at byte offset {1}")]
    FollowedByValid(Box<Damage>, u64),
    /// The last record is complete but damaged: a crash cannot leave that behind.
    #[error(
        "{0}; the record is complete and ends where the file ends, so it is damage, not a \
         write cut short by a crash"
    )]
    CompleteRecord(Box<Damage>),
    /// A torn-looking last record whose entry sled has already applied, so it was
    /// acknowledged.
    #[error(
        "{0}; the sled store has applied entries up to seq {1}, so this entry was \
         acknowledged and must not be cut off"
    )]
    Applied(Box<Damage>, u64),
    /// `prev_hash` is not the previous entry's hash.
    #[error(
        "prev_hash does not match the previous entry's hash: the chain is broken (an earlier \
         entry was altered, dropped or reordered)"
    )]
    BrokenLink,
    /// `records_sha256` does not match the records.
    #[error(
        "records_sha256 does not match the entry's records: the records were altered after sealing"
    )]
    RecordsAltered,
    /// `hash` does not match the recomputed hash.
    #[error(
        "the stored hash does not match the recomputed hash: the entry was altered after sealing"
    )]
    HashMismatch,
}
