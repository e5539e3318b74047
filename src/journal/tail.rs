//! The torn tail: what recovery may cut off the end of the journal, and where the cut
//! bytes go.
//!
//! A crash in the middle of an append leaves the last record of the last segment
//! half-written. The writer answers only after `fdatasync`, so such a record was never
//! acknowledged and recovery cuts it off. Everything else that is wrong is damage, and
//! an acknowledged write may depend on it, so recovery refuses to start instead. The
//! decision is made before anything on disk changes. A bad record is a torn tail only
//! if all of these hold:
//!
//! - it lies in the last segment and no valid record starts anywhere after it;
//! - it is *short* (its header or payload runs past the end of the file), or the bytes
//!   from it, or from its end, to the end of the file are all zero (a crash can persist
//!   a file's new size before its data). A complete record whose checksum fails and
//!   that ends where the file ends is damage: a crash cannot produce it;
//! - its seq is beyond what sled says it applied: sled applies an entry only after the
//!   entry was synced and acknowledged.
//!
//! The cut bytes are never deleted: they are copied to
//! `<journal dir>/quarantine/<segment>-<offset>.bin` and synced before the segment is
//! truncated, so an operator can always look at what was cut.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::scan::Fault;
use super::segment::{find_valid_frame, rest_is_zero, sync_dir};
use super::{Damage, JournalError};

/// The folder, inside the journal folder, that holds the bytes recovery cut off.
pub const QUARANTINE_DIR: &str = "quarantine";

/// A torn tail that recovery cut off: the bytes from `offset` to the end of the last
/// segment, which held no complete record, now in the file `quarantined`.
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
    /// The file that holds the cut bytes.
    pub quarantined: PathBuf,
}

/// Cuts the fault off if it is a torn tail (see the module docs) that lies beyond
/// `applied_seq`; otherwise returns the error it is, having changed nothing.
pub(super) fn cut_torn_tail(fault: Fault, applied_seq: u64) -> Result<TornTail, JournalError> {
    let may_be_torn = matches!(
        fault.damage,
        Damage::Truncated { .. }
            | Damage::BadChecksum { .. }
            | Damage::Undecodable(_)
            | Damage::MissingAudit
            | Damage::SeqMismatch { .. }
    );
    if !fault.in_last_segment || !may_be_torn {
        return Err(fault.into_error());
    }
    let path = fault.segment.path.clone();
    let file = File::open(&path).map_err(io_err("open", &path))?;
    let file_len = file
        .metadata()
        .map_err(io_err("read the size of", &path))?
        .len();
    let zeros_from = |from: u64| rest_is_zero(&file, from, file_len).map_err(io_err("read", &path));
    let torn = zeros_from(fault.offset)?
        || matches!(fault.damage, Damage::Truncated { .. })
        || (matches!(fault.damage, Damage::BadChecksum { .. })
            && fault.end < file_len
            && zeros_from(fault.end)?);
    if !torn {
        if fault.end >= file_len && matches!(fault.damage, Damage::BadChecksum { .. }) {
            let damage = Damage::CompleteRecord(Box::new(fault.damage.clone()));
            return Err(Fault { damage, ..fault }.into_error());
        }
        return Err(fault.into_error());
    }
    if let Some(valid) =
        find_valid_frame(&file, fault.offset + 1, file_len).map_err(io_err("read", &path))?
    {
        let damage = Damage::FollowedByValid(Box::new(fault.damage.clone()), valid);
        return Err(Fault { damage, ..fault }.into_error());
    }
    if fault.seq <= applied_seq {
        let damage = Damage::Applied(Box::new(fault.damage.clone()), applied_seq);
        return Err(Fault { damage, ..fault }.into_error());
    }

    let quarantined = quarantine(&file, &fault, file_len)?;
    drop(file);
    let file = OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(io_err("open for writing", &path))?;
    file.set_len(fault.offset)
        .map_err(io_err("truncate", &path))?;
    file.sync_all().map_err(io_err("fsync", &path))?;
    let torn = TornTail {
        segment: fault.segment.name(),
        offset: fault.offset,
        bytes_cut: file_len - fault.offset,
        damage: fault.damage,
        quarantined,
    };
    tracing::warn!(
        segment = %torn.segment,
        offset = torn.offset,
        bytes_cut = torn.bytes_cut,
        seq = fault.seq,
        damage = %torn.damage,
        quarantined = %torn.quarantined.display(),
        "cut a torn tail off the journal: a write that was never acknowledged; the cut bytes are kept in the quarantine file"
    );
    Ok(torn)
}

/// Copies the bytes from the fault to the end of the file into a new quarantine file
/// and syncs it and its folder; returns its path.
fn quarantine(segment: &File, fault: &Fault, file_len: u64) -> Result<PathBuf, JournalError> {
    let journal_dir = fault.segment.path.parent().unwrap_or(Path::new("."));
    let dir = quarantine_dir(journal_dir)?;
    let stem = fault
        .segment
        .path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("segment");
    // A crash between quarantining and truncating repeats the cut at the next start:
    // the earlier copy stays, and this one gets the next free name.
    let mut attempt = 0u32;
    let (path, mut file) = loop {
        let name = match attempt {
            0 => format!("{stem}-{}.bin", fault.offset),
            n => format!("{stem}-{}.{n}.bin", fault.offset),
        };
        let path = dir.join(name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(file) => break (path, file),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 1000 => {
                attempt += 1;
            }
            Err(e) => return Err(io_err("create", &path)(e)),
        }
    };
    let mut buf = vec![0u8; 64 * 1024];
    let mut pos = fault.offset;
    while pos < file_len {
        let n = (file_len - pos).min(buf.len() as u64) as usize;
        segment
            .read_exact_at(&mut buf[..n], pos)
            .map_err(io_err("read", &fault.segment.path))?;
        file.write_all(&buf[..n]).map_err(io_err("write", &path))?;
        pos += n as u64;
    }
    file.sync_all().map_err(io_err("fsync", &path))?;
    sync_dir(&dir)?;
    Ok(path)
}

/// The quarantine folder of `journal_dir`, made (0700, the journal folder synced) if
/// missing.
pub(super) fn quarantine_dir(journal_dir: &Path) -> Result<PathBuf, JournalError> {
    let dir = journal_dir.join(QUARANTINE_DIR);
    if !dir.is_dir() {
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(io_err("create folder", &dir))?;
        sync_dir(journal_dir)?;
    }
    Ok(dir)
}

pub(super) fn io_err(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(std::io::Error) -> JournalError {
    let path = path.to_path_buf();
    move |source| JournalError::Io {
        action,
        path,
        source,
    }
}
