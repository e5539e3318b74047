//! A cursor over the journal's entries in seq order, across segments.
//!
//! Recovery, verification and readers all walk the journal the same way: segment by
//! segment, record by record, checking that each segment's name and each entry's seq
//! continue where the previous one stopped. The cursor does that walk and the checks
//! they share; the hash chain is left to its callers (a reader does not need it).
//! It holds one record in memory at a time.

use std::path::{Path, PathBuf};

use super::segment::{Frame, FrameReader, SegmentFile, list_segments};
use super::{Damage, JournalError};
use crate::pb;

/// One step of the walk.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "the entry is the common case; boxing it would cost an allocation per record"
)]
pub(crate) enum Step {
    /// The next entry, with the right seq.
    Entry(Located),
    /// No more segments; `next_seq` would have come next.
    End { next_seq: u64 },
    /// Something is wrong at this position; the cursor is finished.
    Bad(Fault),
}

/// An entry and where it lies.
#[derive(Debug)]
pub(crate) struct Located {
    pub segment: SegmentFile,
    pub offset: u64,
    /// The decoded entry (without its records for an `audit_only` cursor).
    pub entry: pb::JournalEntry,
    /// The entry exactly as stored (the record's payload).
    pub payload: Vec<u8>,
}

impl Located {
    pub fn seq(&self) -> u64 {
        self.entry.audit.as_ref().map_or(0, |a| a.seq)
    }
}

/// A bad position: where, which seq belonged there, and what is wrong.
#[derive(Debug)]
pub(crate) struct Fault {
    pub segment: SegmentFile,
    pub offset: u64,
    /// Where the bad record claims to end (its header's length).
    pub end: u64,
    pub seq: u64,
    pub damage: Damage,
    /// Whether no later segment was known when the fault was found.
    pub in_last_segment: bool,
}

impl Fault {
    pub fn into_error(self) -> JournalError {
        JournalError::Corrupt {
            segment: self.segment.name(),
            offset: self.offset,
            seq: self.seq,
            damage: self.damage,
        }
    }
}

pub(crate) struct Cursor {
    dir: PathBuf,
    segments: Vec<SegmentFile>,
    /// Index into `segments` of the segment to open or being read.
    index: usize,
    frames: Option<FrameReader>,
    next_seq: u64,
    finished: bool,
    /// Entries come with their audit entry only (`FrameReader::audit_only`).
    audit_only: bool,
}

impl Cursor {
    /// A cursor whose first entry is `from_seq`, or, if that lies inside a segment, the
    /// first entry of that segment: callers skip what they do not want. Only the
    /// segments that may hold `from_seq` or later are opened.
    pub fn new(dir: &Path, from_seq: u64) -> Result<Cursor, JournalError> {
        let segments = list_segments(dir)?;
        let index = segments
            .iter()
            .rposition(|s| s.first_seq <= from_seq)
            .unwrap_or(0);
        // When no segment starts at or before `from_seq`, the first one must start
        // exactly there, which the name check on opening it then enforces.
        let next_seq = match segments.get(index) {
            Some(s) if s.first_seq <= from_seq => s.first_seq,
            _ => from_seq,
        };
        Ok(Cursor {
            dir: dir.to_path_buf(),
            segments,
            index,
            frames: None,
            next_seq,
            finished: false,
            audit_only: false,
        })
    }

    /// This cursor, yielding entries with their audit entry only (no records): for
    /// walks that check the chain, which reads the records' bytes from the payload.
    pub fn audit_only(mut self) -> Cursor {
        self.audit_only = true;
        self
    }

    /// The next step. `Err` only for I/O failures; damage is a `Step::Bad`.
    pub fn next_step(&mut self) -> Result<Step, JournalError> {
        if self.finished {
            return Ok(Step::End {
                next_seq: self.next_seq,
            });
        }
        loop {
            if self.frames.is_none()
                && let Some(step) = self.open_next()?
            {
                self.finished = true;
                return Ok(step);
            }
            let Some(frames) = self.frames.as_mut() else {
                continue;
            };
            let segment = &self.segments[self.index];
            let frame = frames.next_frame().map_err(|source| JournalError::Io {
                action: "read",
                path: segment.path.clone(),
                source,
            })?;
            let (offset, end, damage) = match frame {
                Frame::End => {
                    self.frames = None;
                    self.index += 1;
                    continue;
                }
                Frame::Bad {
                    offset,
                    end,
                    damage,
                } => (offset, end, damage),
                Frame::Entry {
                    offset,
                    end,
                    entry,
                    payload,
                } => match entry.audit.as_ref().map(|a| a.seq) {
                    Some(found) if found == self.next_seq => {
                        self.next_seq += 1;
                        let segment = segment.clone();
                        return Ok(Step::Entry(Located {
                            segment,
                            offset,
                            entry,
                            payload,
                        }));
                    }
                    Some(found) => (
                        offset,
                        end,
                        Damage::SeqMismatch {
                            expected: self.next_seq,
                            found,
                        },
                    ),
                    None => (offset, end, Damage::MissingAudit),
                },
            };
            self.finished = true;
            return Ok(Step::Bad(Fault {
                segment: segment.clone(),
                offset,
                end,
                seq: self.next_seq,
                damage,
                in_last_segment: self.index + 1 >= self.segments.len(),
            }));
        }
    }

    /// Opens `segments[index]`, looking for segments created since the listing when
    /// the list is used up. `Some(step)` ends the walk.
    fn open_next(&mut self) -> Result<Option<Step>, JournalError> {
        if self.index >= self.segments.len() {
            let newest = self.segments.last().map(|s| s.first_seq);
            let newer: Vec<_> = list_segments(&self.dir)?
                .into_iter()
                .filter(|s| newest.is_none_or(|n| s.first_seq > n))
                .collect();
            if newer.is_empty() {
                return Ok(Some(Step::End {
                    next_seq: self.next_seq,
                }));
            }
            self.segments.extend(newer);
        }
        let segment = self.segments[self.index].clone();
        if segment.first_seq != self.next_seq {
            let damage = Damage::SegmentName {
                named: segment.first_seq,
                expected: self.next_seq,
            };
            let in_last_segment = self.index + 1 >= self.segments.len();
            let fault = Fault {
                segment,
                offset: 0,
                end: 0,
                seq: self.next_seq,
                damage,
                in_last_segment,
            };
            return Ok(Some(Step::Bad(fault)));
        }
        let mut frames = FrameReader::open(&segment.path).map_err(|source| JournalError::Io {
            action: "open",
            path: segment.path.clone(),
            source,
        })?;
        frames.audit_only = self.audit_only;
        self.frames = Some(frames);
        Ok(None)
    }
}
