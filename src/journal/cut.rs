//! Cutting synced entries off the end of the journal: what a replicated node does with
//! entries it wrote and synced but the replicated stream does not hold, so they were
//! never acknowledged (`docs/architecture.md`, "Replication"). As with a torn tail,
//! the cut bytes are never deleted: they are copied to
//! `<journal dir>/quarantine/unreplicated-<first seq>-<last seq>.wal` and synced before
//! the segments are cut.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::JournalError;
use super::scan::{Cursor, Step};
use super::segment::{list_segments, sync_dir};
use super::tail::{io_err, quarantine_dir};

/// What a cut removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// The first and last seq cut off.
    pub first_seq: u64,
    pub last_seq: u64,
    /// The file that keeps the cut bytes (frames as they were in the segments).
    pub quarantined: PathBuf,
}

/// Cuts every entry after `seq` off the journal in `dir` (which no writer holds open),
/// given that it ends at `head_seq`. `None` if nothing lies after `seq`.
pub(super) fn cut_after(dir: &Path, seq: u64, head_seq: u64) -> Result<Option<Cut>, JournalError> {
    if head_seq <= seq {
        return Ok(None);
    }
    let first = seq + 1;
    let mut cursor = Cursor::new(dir, first)?.audit_only();
    let start = loop {
        match cursor.next_step()? {
            Step::Entry(located) if located.seq() == first => {
                break (located.segment, located.offset);
            }
            Step::Entry(located) if located.seq() < first => {}
            Step::Entry(located) => {
                return Err(JournalError::CutMisplaced {
                    after: seq,
                    found: located.seq(),
                });
            }
            Step::End { next_seq } => {
                return Err(JournalError::CutMisplaced {
                    after: seq,
                    found: next_seq,
                });
            }
            Step::Bad(fault) => return Err(fault.into_error()),
        }
    };
    let (segment, offset) = start;
    let later: Vec<_> = list_segments(dir)?
        .into_iter()
        .filter(|s| s.first_seq > segment.first_seq)
        .collect();
    // Keep a copy of everything cut, synced, before anything is cut.
    let quarantined = quarantine_path(dir, first, head_seq)?;
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&quarantined)
        .map_err(io_err("create", &quarantined))?;
    let mut copy = |path: &Path, from: u64| -> Result<(), JournalError> {
        let mut f = File::open(path).map_err(io_err("open", path))?;
        f.seek(SeekFrom::Start(from))
            .map_err(io_err("seek", path))?;
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).map_err(io_err("read", path))?;
        out.write_all(&bytes).map_err(io_err("write", &quarantined))
    };
    copy(&segment.path, offset)?;
    for s in &later {
        copy(&s.path, 0)?;
    }
    out.sync_all().map_err(io_err("fsync", &quarantined))?;
    if let Some(q) = quarantined.parent() {
        sync_dir(q)?;
    }
    // Newest first, so that a crash midway leaves a journal that ends at an entry.
    for s in later.iter().rev() {
        std::fs::remove_file(&s.path).map_err(io_err("remove", &s.path))?;
    }
    if offset == 0 {
        std::fs::remove_file(&segment.path).map_err(io_err("remove", &segment.path))?;
    } else {
        let f = OpenOptions::new()
            .write(true)
            .open(&segment.path)
            .map_err(io_err("open for cutting", &segment.path))?;
        f.set_len(offset).map_err(io_err("cut", &segment.path))?;
        f.sync_all()
            .map_err(io_err("fsync after the cut", &segment.path))?;
    }
    sync_dir(dir)?;
    Ok(Some(Cut {
        first_seq: first,
        last_seq: head_seq,
        quarantined,
    }))
}

fn quarantine_path(dir: &Path, first: u64, last: u64) -> Result<PathBuf, JournalError> {
    let folder = quarantine_dir(dir)?;
    let mut n = 0u32;
    loop {
        let name = match n {
            0 => format!("unreplicated-{first}-{last}.wal"),
            n => format!("unreplicated-{first}-{last}.{n}.wal"),
        };
        let path = folder.join(name);
        if !path.exists() {
            return Ok(path);
        }
        n += 1;
    }
}
