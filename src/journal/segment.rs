//! Segment files and record framing: how entries are laid out on disk.
//!
//! A segment is `<journal dir>/{first_seq:020}.wal`; the zero-padded name sorts
//! segments in seq order and lets a reader skip whole segments without opening them.
//! Each record is `[u32 LE payload length][u32 LE CRC32C of payload][payload]`, the
//! payload a prost-encoded `JournalEntry`. The length comes first so that a reader can
//! tell a record cut short by a crash from one that is damaged.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use prost::Message;

use super::{Damage, JournalError};
use crate::pb;

/// Bytes of the header before each payload: length and CRC32C.
pub(crate) const HEADER_LEN: u64 = 8;

/// One segment file, known by the first seq in its name.
#[derive(Debug, Clone)]
pub(crate) struct SegmentFile {
    pub first_seq: u64,
    pub path: PathBuf,
}

impl SegmentFile {
    pub fn new(dir: &Path, first_seq: u64) -> Self {
        SegmentFile {
            first_seq,
            path: dir.join(format!("{first_seq:020}.wal")),
        }
    }

    /// How errors and logs name the segment: its path, so an operator can find it.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }
}

/// The segments in `dir`, in seq order. Files not ending in `.wal` are ignored; a
/// `.wal` file with any other name is an error rather than silently left out.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<SegmentFile>, JournalError> {
    let io_err = |source| JournalError::Io {
        action: "list",
        path: dir.to_path_buf(),
        source,
    };
    let mut segments = Vec::new();
    for dirent in std::fs::read_dir(dir).map_err(io_err)? {
        let dirent = dirent.map_err(io_err)?;
        let name = dirent.file_name();
        let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".wal")) else {
            continue;
        };
        match stem.parse::<u64>() {
            Ok(first_seq) if stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit()) => {
                segments.push(SegmentFile {
                    first_seq,
                    path: dirent.path(),
                });
            }
            _ => {
                return Err(JournalError::StrayFile {
                    path: dirent.path(),
                });
            }
        }
    }
    segments.sort_by_key(|s| s.first_seq);
    Ok(segments)
}

/// fsyncs a folder so that files created (or removed) in it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| JournalError::Io {
            action: "fsync folder",
            path: dir.to_path_buf(),
            source,
        })
}

/// Writes one framed record.
pub(crate) fn write_frame(out: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "record over 4 GiB"))?;
    let mut header = [0u8; HEADER_LEN as usize];
    header[..4].copy_from_slice(&len.to_le_bytes());
    header[4..].copy_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    out.write_all(&header)?;
    out.write_all(payload)
}

/// What the next position of a segment holds.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "the entry is the common case; boxing it would cost an allocation per record"
)]
pub(crate) enum Frame {
    /// A record whose checksum matches, decoded; it spans `offset..end`. `payload`
    /// is the entry exactly as stored, which the hash chain covers.
    Entry {
        offset: u64,
        end: u64,
        entry: pb::JournalEntry,
        payload: Vec<u8>,
    },
    /// The file ends exactly here.
    End,
    /// A bad record at `offset`; its header claims it ends at `end` (or the file's
    /// end if even the header is cut short).
    Bad {
        offset: u64,
        end: u64,
        damage: Damage,
    },
}

/// Streams the records of one segment, one at a time, from the start.
pub(crate) struct FrameReader {
    reader: BufReader<File>,
    file: File,
    offset: u64,
    known_len: u64,
    payload: Vec<u8>,
    /// Decode only each entry's audit entry (and leave `records` empty): all that the
    /// hash chain's checks read, and several times cheaper than the whole entry.
    pub audit_only: bool,
}

/// A `JournalEntry` with only its audit entry: decoding skips the records' bytes.
#[derive(Clone, PartialEq, prost::Message)]
struct AuditOnly {
    #[prost(message, optional, tag = "1")]
    audit: Option<pb::AuditEntry>,
}

impl FrameReader {
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let known_len = file.metadata()?.len();
        Ok(FrameReader {
            reader: BufReader::with_capacity(128 * 1024, file.try_clone()?),
            file,
            offset: 0,
            known_len,
            payload: Vec::new(),
            audit_only: false,
        })
    }

    /// Reads the next record. After `Bad` the reader's position is unspecified.
    pub fn next_frame(&mut self) -> io::Result<Frame> {
        let offset = self.offset;
        let mut header = [0u8; HEADER_LEN as usize];
        let got = read_up_to(&mut self.reader, &mut header)?;
        if got == 0 {
            return Ok(Frame::End);
        }
        if got < header.len() {
            let damage = Damage::Truncated {
                needed: HEADER_LEN,
                available: got as u64,
            };
            return Ok(Frame::Bad {
                offset,
                end: offset + got as u64,
                damage,
            });
        }
        let len = u64::from(u32::from_le_bytes([
            header[0], header[1], header[2], header[3],
        ]));
        let stored = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let end = offset + HEADER_LEN + len;
        if end > self.known_len {
            // Never allocate what the file cannot hold; look again in case a writer
            // has appended since we opened it.
            self.known_len = self.file.metadata()?.len();
        }
        if end > self.known_len {
            let available = self.known_len.saturating_sub(offset);
            let damage = Damage::Truncated {
                needed: HEADER_LEN + len,
                available,
            };
            return Ok(Frame::Bad {
                offset,
                end,
                damage,
            });
        }
        self.payload.resize(len as usize, 0);
        let got = read_up_to(&mut self.reader, &mut self.payload)?;
        if got < self.payload.len() {
            let available = HEADER_LEN + got as u64;
            let damage = Damage::Truncated {
                needed: HEADER_LEN + len,
                available,
            };
            return Ok(Frame::Bad {
                offset,
                end,
                damage,
            });
        }
        self.offset = end;
        let computed = crc32c::crc32c(&self.payload);
        if computed != stored {
            return Ok(Frame::Bad {
                offset,
                end,
                damage: Damage::BadChecksum { stored, computed },
            });
        }
        let decoded = if self.audit_only {
            AuditOnly::decode(self.payload.as_slice()).map(|a| pb::JournalEntry {
                audit: a.audit,
                records: Vec::new(),
            })
        } else {
            pb::JournalEntry::decode(self.payload.as_slice())
        };
        match decoded {
            Ok(entry) => Ok(Frame::Entry {
                offset,
                end,
                entry,
                payload: std::mem::take(&mut self.payload),
            }),
            Err(e) => Ok(Frame::Bad {
                offset,
                end,
                damage: Damage::Undecodable(e.to_string()),
            }),
        }
    }
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Whether every byte of `file` from `from` to `end` is zero: what a crash can leave
/// when the file's size reached the disk but its data did not.
pub(crate) fn rest_is_zero(file: &File, from: u64, end: u64) -> io::Result<bool> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut pos = from;
    while pos < end {
        let n = (end - pos).min(buf.len() as u64) as usize;
        file.read_exact_at(&mut buf[..n], pos)?;
        if buf[..n].iter().any(|&b| b != 0) {
            return Ok(false);
        }
        pos += n as u64;
    }
    Ok(true)
}

/// The first offset in `from..end` where a whole, checksummed, decodable record with
/// an audit entry starts, if any. Used only after a bad record in the last segment,
/// to tell a torn tail (nothing valid after it) from damage in the middle.
///
/// Slides a window over the file rather than reading it whole; only positions whose
/// payload starts like a `JournalEntry` (field 1, length-delimited: 0x0A) and whose
/// length fits in the file have their checksum computed.
pub(crate) fn find_valid_frame(file: &File, from: u64, end: u64) -> io::Result<Option<u64>> {
    const WINDOW: usize = 64 * 1024;
    const PROBE: usize = HEADER_LEN as usize + 1;
    let mut window = vec![0u8; WINDOW + PROBE];
    let mut payload = Vec::new();
    let mut base = from;
    while base + PROBE as u64 <= end {
        let n = (end - base).min(window.len() as u64) as usize;
        file.read_exact_at(&mut window[..n], base)?;
        let candidates = n - PROBE + 1;
        for i in 0..candidates {
            if window[i + PROBE - 1] != 0x0A {
                continue;
            }
            let len = u64::from(u32::from_le_bytes([
                window[i],
                window[i + 1],
                window[i + 2],
                window[i + 3],
            ]));
            let stored =
                u32::from_le_bytes([window[i + 4], window[i + 5], window[i + 6], window[i + 7]]);
            let at = base + i as u64;
            if at + HEADER_LEN + len > end {
                continue;
            }
            payload.resize(len as usize, 0);
            file.read_exact_at(&mut payload, at + HEADER_LEN)?;
            if crc32c::crc32c(&payload) != stored {
                continue;
            }
            if pb::JournalEntry::decode(payload.as_slice()).is_ok_and(|e| e.audit.is_some()) {
                return Ok(Some(at));
            }
        }
        base += candidates as u64;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::testkit::sealed_entries;

    fn framed(entries: &[pb::JournalEntry]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for e in entries {
            write_frame(&mut bytes, &e.encode_to_vec()).expect("write to Vec");
        }
        bytes
    }

    #[test]
    fn frames_read_back_in_order_and_then_end() {
        let dir = tempfile::tempdir().expect("tempdir");
        let entries = sealed_entries(3);
        let path = dir.path().join("x.wal");
        std::fs::write(&path, framed(&entries)).expect("write");

        let mut reader = FrameReader::open(&path).expect("open");
        for want in &entries {
            match reader.next_frame().expect("read") {
                Frame::Entry { entry, .. } => assert_eq!(&entry, want),
                other => panic!("expected an entry, got {other:?}"),
            }
        }
        assert!(matches!(reader.next_frame().expect("read"), Frame::End));
    }

    #[test]
    fn a_huge_length_is_reported_as_truncated_without_allocating_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.wal");
        std::fs::write(&path, [0xff; 12]).expect("write");
        let mut reader = FrameReader::open(&path).expect("open");
        match reader.next_frame().expect("read") {
            Frame::Bad {
                offset: 0,
                damage: Damage::Truncated { available: 12, .. },
                ..
            } => {}
            other => panic!("expected truncated, got {other:?}"),
        }
    }

    #[test]
    fn find_valid_frame_skips_garbage_and_finds_the_next_record() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.wal");
        let mut bytes = vec![0x0A; 37];
        let start = bytes.len() as u64;
        bytes.extend(framed(&sealed_entries(1)));
        std::fs::write(&path, &bytes).expect("write");
        let file = File::open(&path).expect("open");
        let end = bytes.len() as u64;
        assert_eq!(find_valid_frame(&file, 0, end).expect("scan"), Some(start));
        assert_eq!(find_valid_frame(&file, start + 1, end).expect("scan"), None);
    }

    #[test]
    fn segment_names_sort_by_seq_and_stray_wal_files_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        for seq in [10, 2, 1] {
            std::fs::write(SegmentFile::new(dir.path(), seq).path, b"").expect("write");
        }
        std::fs::write(dir.path().join("notes.txt"), b"").expect("write");
        let seqs: Vec<u64> = list_segments(dir.path())
            .expect("list")
            .iter()
            .map(|s| s.first_seq)
            .collect();
        assert_eq!(seqs, [1, 2, 10]);
        let name = SegmentFile::new(dir.path(), 2).name();
        assert!(name.ends_with("/00000000000000000002.wal"), "{name}");

        std::fs::write(dir.path().join("7.wal"), b"").expect("write");
        assert!(matches!(
            list_segments(dir.path()),
            Err(JournalError::StrayFile { .. })
        ));
    }
}
