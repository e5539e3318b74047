//! The journal's one writer: appends sealed entries, rotates segments, syncs.
//!
//! It is owned by the store's writer thread, which groups commands: it appends every
//! entry of a group (buffered), calls [`Journal::sync`] once, and only then applies
//! the group to sled and answers. Appends check that each entry extends the chain
//! head, so a bug upstream cannot write a broken chain. After a failed write or sync
//! the journal refuses further writes: what reached the disk past the last successful
//! sync is then unknown. A failed `fdatasync` is never retried (the kernel may have
//! dropped the pages it could not write and report the next sync clean);
//! [`Journal::reopen`] instead cuts the files back to what the last successful sync
//! covered, syncs that, and runs the recovery scan again.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use prost::Message;

use super::JournalError;
use super::chain::ChainHead;
use super::recovery::{Scope, recover};
use super::segment::{SegmentFile, list_segments, sync_dir, write_frame};
use super::tail::TornTail;
use crate::pb;

/// How the journal lays out its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalOptions {
    /// A segment this big or bigger gets no more entries; the next goes to a new one.
    pub segment_max_bytes: u64,
}

impl Default for JournalOptions {
    fn default() -> Self {
        JournalOptions {
            segment_max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// The writer side of the journal. See the module docs.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    options: JournalOptions,
    head: ChainHead,
    current: Option<OpenSegment>,
    closed_bytes: u64,
    torn_tail: Option<TornTail>,
    encoded: Vec<u8>,
    poisoned: Option<String>,
    /// What the last successful sync (or the recovery scan) made durable.
    synced: Synced,
}

/// The durable end of the journal: the segment and its length that the last
/// successful sync covered, and the entry there. Everything past it is unknown after
/// a failure, and [`Journal::reopen`] cuts it off.
#[derive(Debug, Clone)]
struct Synced {
    /// `None` while the journal has no segment that was synced.
    segment: Option<SegmentFile>,
    len: u64,
    head: ChainHead,
}

/// The segment being appended to.
#[derive(Debug)]
struct OpenSegment {
    segment: SegmentFile,
    out: BufWriter<File>,
    /// Bytes appended, including those still buffered.
    len: u64,
}

impl Journal {
    /// Opens the journal in `dir` (creating the folder if missing), runs the recovery
    /// scan and returns the writer with the chain head to continue from.
    ///
    /// A torn tail is cut off into the quarantine folder, logged, and kept for
    /// [`Journal::torn_tail`]; any other damage is an error that names the segment,
    /// byte offset and seq, and nothing is changed. For a journal that backs a store,
    /// use [`Journal::recover`], which also protects what the store has applied.
    pub fn open(dir: &Path, options: JournalOptions) -> Result<(Journal, ChainHead), JournalError> {
        Self::recover(dir, options, 0)
    }

    /// As [`Journal::open`], for a journal whose store says it applied every entry up
    /// to `applied_seq`: those entries were acknowledged, so a damaged record among
    /// them is never cut off as a torn tail, however it looks.
    pub fn recover(
        dir: &Path,
        options: JournalOptions,
        applied_seq: u64,
    ) -> Result<(Journal, ChainHead), JournalError> {
        Self::recover_scope(dir, options, applied_seq, Scope::Full)
    }

    /// As [`Journal::recover`], reading only the newest segment (and the one before,
    /// if the newest holds no whole entry): what a start needs, in a time that does not
    /// grow with the journal. Damage in older segments is not found here; check them
    /// with [`super::verify()`] (the server does so right after it starts).
    pub fn recover_tail(
        dir: &Path,
        options: JournalOptions,
        applied_seq: u64,
    ) -> Result<(Journal, ChainHead), JournalError> {
        Self::recover_scope(dir, options, applied_seq, Scope::Tail)
    }

    fn recover_scope(
        dir: &Path,
        options: JournalOptions,
        applied_seq: u64,
        scope: Scope,
    ) -> Result<(Journal, ChainHead), JournalError> {
        let recovered = recover(dir, applied_seq, scope)?;
        let synced = Synced {
            segment: recovered.tail.as_ref().map(|(segment, _)| segment.clone()),
            len: recovered.tail.as_ref().map_or(0, |(_, len)| *len),
            head: recovered.head,
        };
        let current = match recovered.tail {
            Some((segment, len)) => {
                let file = OpenOptions::new()
                    .append(true)
                    .open(&segment.path)
                    .map_err(|source| JournalError::Io {
                        action: "open for appending",
                        path: segment.path.clone(),
                        source,
                    })?;
                Some(OpenSegment {
                    segment,
                    out: BufWriter::with_capacity(256 * 1024, file),
                    len,
                })
            }
            None => None,
        };
        let journal = Journal {
            dir: dir.to_path_buf(),
            options,
            head: recovered.head,
            current,
            closed_bytes: recovered.closed_bytes,
            torn_tail: recovered.torn_tail,
            encoded: Vec::new(),
            poisoned: None,
            synced,
        };
        Ok((journal, recovered.head))
    }

    /// Appends one entry, sealed by the caller against [`Journal::head`], as one framed
    /// record. The write is buffered: it is durable only after [`Journal::sync`].
    /// Starts a new segment first if the current one has reached `segment_max_bytes`.
    pub fn append(&mut self, entry: &pb::JournalEntry) -> Result<(), JournalError> {
        self.refuse_if_poisoned()?;
        let next = self.check_extends_head(entry)?;
        self.encoded.clear();
        entry.encode_raw(&mut self.encoded);
        let bytes = self.encoded.len();
        if u32::try_from(bytes).is_err() {
            return Err(JournalError::TooLarge {
                seq: next.seq,
                bytes,
            });
        }
        let result = self.append_encoded(next.seq);
        self.poison_on_error(result)?;
        self.head = next;
        Ok(())
    }

    /// Writes out buffered records and `fdatasync`s the current segment (earlier
    /// segments were synced when the journal moved past them).
    pub fn sync(&mut self) -> Result<(), JournalError> {
        self.refuse_if_poisoned()?;
        let Some(current) = self.current.as_mut() else {
            return Ok(());
        };
        let result = sync_segment(current);
        if result.is_ok() {
            self.synced = Synced {
                segment: Some(current.segment.clone()),
                len: current.len,
                head: self.head,
            };
        }
        self.poison_on_error(result)
    }

    /// The last entry that a successful sync made durable.
    pub fn synced_head(&self) -> ChainHead {
        self.synced.head
    }

    /// True if the journal takes writes and holds nothing beyond its last sync: no
    /// failure since, and no appended entry left unsynced.
    pub fn is_clean(&self) -> bool {
        self.poisoned.is_none() && self.head == self.synced.head
    }

    /// After a failed write or sync: throws away what was appended since the last
    /// successful sync (buffered bytes, the tail of the segment, segments started
    /// since), syncs the cut, and reopens the journal through the recovery scan, which
    /// re-verifies it. The reopened journal must end exactly at the last synced entry,
    /// which is returned; then it takes writes again. Failed syncs are never retried.
    ///
    /// `applied_seq` is what the store says it applied, as for [`Journal::recover`].
    /// On an error the journal stays as it was (refusing writes), and calling this
    /// again is safe.
    pub fn reopen(&mut self, applied_seq: u64) -> Result<ChainHead, JournalError> {
        if let Some(current) = self.current.take() {
            // Dropping the BufWriter would write out its buffer: those bytes were never
            // synced and must not reach the file now.
            let (file, _unwritten) = current.out.into_parts();
            drop(file);
        }
        self.poisoned.get_or_insert_with(|| "reopening".to_string());
        let synced = self.synced.clone();
        let io_err = |action, path: &Path| {
            let path = path.to_path_buf();
            move |source| JournalError::Io {
                action,
                path,
                source,
            }
        };
        for segment in list_segments(&self.dir)? {
            let unsynced = synced
                .segment
                .as_ref()
                .is_none_or(|s| segment.first_seq > s.first_seq);
            if unsynced {
                std::fs::remove_file(&segment.path)
                    .map_err(io_err("remove the unsynced segment", &segment.path))?;
            }
        }
        if let Some(segment) = &synced.segment {
            let file = OpenOptions::new()
                .write(true)
                .open(&segment.path)
                .map_err(io_err("open for cutting", &segment.path))?;
            file.set_len(synced.len)
                .map_err(io_err("cut back to its last sync", &segment.path))?;
            file.sync_all()
                .map_err(io_err("fsync after the cut", &segment.path))?;
        }
        sync_dir(&self.dir)?;
        let (journal, head) = Journal::recover_tail(&self.dir, self.options, applied_seq)?;
        if head != synced.head {
            return Err(JournalError::ReopenedElsewhere {
                expected: synced.head.seq,
                found: head.seq,
            });
        }
        *self = journal;
        Ok(head)
    }

    /// Cuts every entry after `seq` off the journal (keeping a copy in the quarantine
    /// folder, see [`super::Cut`]), syncs the cut and reopens through the recovery scan.
    /// For a replicated node's entries that the stream never acknowledged
    /// (`docs/architecture.md`, "Replication"); unsynced appends are dropped too.
    pub fn cut_after(&mut self, seq: u64) -> Result<Option<super::Cut>, JournalError> {
        if seq >= self.head.seq {
            return Ok(None);
        }
        if let Some(current) = self.current.take() {
            // Unsynced bytes must not reach the file now.
            let (file, _unwritten) = current.out.into_parts();
            drop(file);
        }
        self.poisoned.get_or_insert_with(|| "cutting".to_string());
        let cut = super::cut::cut_after(&self.dir, seq, self.head.seq)?;
        let (journal, head) = Journal::recover_tail(&self.dir, self.options, seq)?;
        if head.seq != seq {
            return Err(JournalError::ReopenedElsewhere {
                expected: seq,
                found: head.seq,
            });
        }
        *self = journal;
        Ok(cut)
    }

    /// The last appended entry (synced or not).
    pub fn head(&self) -> ChainHead {
        self.head
    }

    /// The journal folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes in all segments, counting appended records not yet written out.
    pub fn size_bytes(&self) -> u64 {
        self.closed_bytes + self.current.as_ref().map_or(0, |c| c.len)
    }

    /// The torn tail that `open` cut off, if it found one.
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.torn_tail.as_ref()
    }

    fn check_extends_head(&self, entry: &pb::JournalEntry) -> Result<ChainHead, JournalError> {
        let not_sealed = |seq, why: String| Err(JournalError::NotSealed { seq, why });
        let Some(audit) = entry.audit.as_ref() else {
            return not_sealed(0, "it has no audit entry".into());
        };
        let seq = audit.seq;
        if seq != self.head.seq + 1 {
            return not_sealed(seq, format!("the journal head is seq {}", self.head.seq));
        }
        if audit.prev_hash.as_slice() != self.head.hash.as_slice() {
            return not_sealed(
                seq,
                format!("its prev_hash is not the hash of seq {}", self.head.seq),
            );
        }
        match <[u8; 32]>::try_from(audit.hash.as_slice()) {
            Ok(hash) => Ok(ChainHead { seq, hash }),
            Err(_) => not_sealed(
                seq,
                format!("its hash has {} bytes, not 32", audit.hash.len()),
            ),
        }
    }

    fn append_encoded(&mut self, seq: u64) -> Result<(), JournalError> {
        let full = self
            .current
            .as_ref()
            .is_some_and(|c| c.len > 0 && c.len >= self.options.segment_max_bytes);
        if full && let Some(mut old) = self.current.take() {
            sync_segment(&mut old)?;
            self.synced = Synced {
                segment: Some(old.segment.clone()),
                len: old.len,
                head: self.head,
            };
            self.closed_bytes += old.len;
        }
        let current = match self.current.as_mut() {
            Some(current) => current,
            None => self.current.insert(create_segment(&self.dir, seq)?),
        };
        write_frame(&mut current.out, &self.encoded).map_err(|source| JournalError::Io {
            action: "append to",
            path: current.segment.path.clone(),
            source,
        })?;
        current.len += super::segment::HEADER_LEN + self.encoded.len() as u64;
        Ok(())
    }

    fn refuse_if_poisoned(&self) -> Result<(), JournalError> {
        match &self.poisoned {
            Some(first) => Err(JournalError::Poisoned {
                first: first.clone(),
            }),
            None => Ok(()),
        }
    }

    fn poison_on_error(&mut self, result: Result<(), JournalError>) -> Result<(), JournalError> {
        if let Err(e) = &result {
            self.poisoned = Some(e.to_string());
        }
        result
    }
}

fn sync_segment(current: &mut OpenSegment) -> Result<(), JournalError> {
    let io_err = |action| {
        let path = current.segment.path.clone();
        move |source| JournalError::Io {
            action,
            path,
            source,
        }
    };
    current.out.flush().map_err(io_err("write out"))?;
    current
        .out
        .get_ref()
        .sync_data()
        .map_err(io_err("fdatasync"))
}

/// Creates the segment whose first entry is `first_seq`, readable by the owner only
/// (it holds claimants' addresses), and fsyncs the folder so that the new file
/// survives a crash.
fn create_segment(dir: &Path, first_seq: u64) -> Result<OpenSegment, JournalError> {
    let segment = SegmentFile::new(dir, first_seq);
    let file = OpenOptions::new()
        .append(true)
        .create_new(true)
        .mode(0o600)
        .open(&segment.path)
        .map_err(|source| JournalError::Io {
            action: "create",
            path: segment.path.clone(),
            source,
        })?;
    sync_dir(dir)?;
    Ok(OpenSegment {
        segment,
        out: BufWriter::with_capacity(256 * 1024, file),
        len: 0,
    })
}
