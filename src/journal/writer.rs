//! The journal's one writer: appends sealed entries, rotates segments, syncs.
//!
//! It is owned by the store's writer thread, which groups commands: it appends every
//! entry of a group (buffered), calls [`Journal::sync`] once, and only then applies
//! the group to sled and answers. Appends check that each entry extends the chain
//! head, so a bug upstream cannot write a broken chain. After a failed write or sync
//! the journal refuses further writes: what reached the disk is then unknown, and
//! only the recovery scan of a restart can tell.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use prost::Message;

use super::JournalError;
use super::chain::ChainHead;
use super::recovery::recover;
use super::segment::{SegmentFile, sync_dir, write_frame};
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
        let recovered = recover(dir, applied_seq)?;
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
        self.poison_on_error(result)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::testkit::{entry, write_journal};
    use crate::journal::{read_entries, verify};

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
        for segment in super::super::segment::list_segments(dir.path()).expect("list") {
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
        let segments = super::super::segment::list_segments(dir.path()).expect("list");
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
        crate::journal::seal(&mut next, 21, &head.hash);
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
        let (mut journal, head) =
            Journal::open(dir.path(), JournalOptions::default()).expect("open");
        let mut skipping = entry(2);
        crate::journal::seal(&mut skipping, 2, &head.hash);
        assert!(matches!(
            journal.append(&skipping),
            Err(JournalError::NotSealed { seq: 2, .. })
        ));
        let mut unlinked = entry(1);
        crate::journal::seal(&mut unlinked, 1, &[1; 32]);
        assert!(matches!(
            journal.append(&unlinked),
            Err(JournalError::NotSealed { seq: 1, .. })
        ));
        assert_eq!((journal.head(), journal.size_bytes()), (head, 0));
    }
}
