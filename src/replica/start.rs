//! What a replicating node does with its data folder before its writer starts
//! (`docs/architecture.md`, "Replication"):
//!
//! - a folder that has followed the stream before (it holds the marker file
//!   `replicated-stream`) must agree with the stream at the last entry sled applied,
//!   which was acknowledged; entries after it that the stream does not hold the same
//!   were never acknowledged and are cut (kept in the journal's quarantine folder);
//! - a new, empty folder follows the stream from its first entry;
//! - a folder that ran alone (no marker) with a journal: if the stream is empty, this
//!   node takes the lease and puts its journal into the stream; if the stream already
//!   holds that history, the node follows on from it; any other history is refused.

use std::path::Path;
use std::sync::Arc;

use super::{Link, ReplicaError};
use crate::data_dir::DataDir;
use crate::journal::{self, JournalOptions};
use crate::pb;
use crate::pdata::{KEY_RECORD_LEN, Vault};
use crate::writer::{self, OpenedState};

/// The file, in the data folder, naming the stream the folder follows.
pub const MARKER: &str = "replicated-stream";

/// Entries published per round when a journal is put into an empty stream.
const UPLOAD_BATCH: u64 = 256;
/// Key records sent with one entry (about 380 KB).
const KEYS_PER_ENTRY: usize = 4_096;

/// A data folder ready for a replicating writer.
pub struct Prepared {
    pub state: OpenedState,
    /// The lease's revision, if this node took it to put its journal into the stream.
    pub lease: Option<u64>,
}

/// See the module docs.
pub async fn prepare(
    link: &Link,
    data_dir: &DataDir,
    cache_capacity: u64,
    options: JournalOptions,
    vault: &Arc<Vault>,
) -> Result<Prepared, ReplicaError> {
    let stream_name = link.config().stream.clone();
    let marker_path = data_dir.path().join(MARKER);
    let marker = match std::fs::read_to_string(&marker_path) {
        Ok(s) => Some(s.trim().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(ReplicaError::Io {
                path: marker_path.display().to_string(),
                source,
            });
        }
    };
    if let Some(followed) = marker.as_deref()
        && followed != stream_name
    {
        return Err(ReplicaError::Disagrees(format!(
            "this data folder follows the stream {followed:?}, not {stream_name:?}; start it \
             with --replicate-stream {followed}, or with an empty data folder to follow \
             {stream_name:?}"
        )));
    }
    let mut state = if marker.is_some() {
        writer::open_state_unreplayed(data_dir, cache_capacity, options, vault)?
    } else {
        writer::open_state(data_dir, cache_capacity, options, vault)?
    };
    let journal_dir = data_dir.journal();
    let applied = state.store.applied_seq()?;
    let head = state.head.seq;
    let (first, last) = link.bounds().await?;
    if last > 0 && first > 1 {
        return Err(ReplicaError::Disagrees(format!(
            "the stream {stream_name:?} starts at seq {first}: entries were removed from it, \
             and a new node could not rebuild the record from it; it must keep every entry \
             (no limits, no purge)"
        )));
    }
    let mut lease = None;
    if marker.is_some() {
        if last < applied {
            return Err(ReplicaError::Disagrees(format!(
                "the stream {stream_name:?} ends at seq {last}, but this node applied entries \
                 up to seq {applied} from it: the stream was deleted or replaced. This data \
                 folder holds acknowledged entries: keep it, and restore the stream, or start \
                 this node on an empty data folder to follow the stream as it is"
            )));
        }
        if applied > 0 && !same_at(link, &journal_dir, applied).await? {
            return Err(ReplicaError::Disagrees(format!(
                "this node's journal and the stream {stream_name:?} differ at seq {applied}, \
                 an entry both acknowledged: they are not the same record. Keep this data \
                 folder for inspection; start the node on an empty data folder to follow the \
                 stream"
            )));
        }
        let mut keep = applied;
        while keep < head.min(last) && same_at(link, &journal_dir, keep + 1).await? {
            keep += 1;
        }
        if keep < head {
            if let Some(cut) = state.journal.cut_after(keep)? {
                tracing::warn!(
                    first_seq = cut.first_seq,
                    last_seq = cut.last_seq,
                    quarantined = %cut.quarantined.display(),
                    "cut entries the stream never acknowledged off the journal before following; their bytes are kept in the quarantine file"
                );
            }
            state.head = state.journal.head();
        }
        if keep > applied {
            let replayed = writer::replay(
                &journal_dir,
                &state.store,
                applied,
                keep,
                &indicatif::ProgressBar::hidden(),
            )?;
            state.replayed += replayed;
        }
    } else if head > 0 {
        if last == 0 {
            lease = Some(upload(link, &journal_dir, head, vault).await?);
        } else if head > last || !same_at(link, &journal_dir, head).await? {
            return Err(ReplicaError::Disagrees(format!(
                "this data folder ran without replication and its journal (seq 1 to {head}) is \
                 not what the stream {stream_name:?} holds (seq 1 to {last}); a node joins a \
                 stream with an empty data folder, or puts its journal into an empty stream"
            )));
        }
    }
    write_marker(data_dir.path(), &stream_name)?;
    Ok(Prepared { state, lease })
}

/// Whether the stream's entry at `seq` is the local journal's, hash for hash.
async fn same_at(link: &Link, journal_dir: &Path, seq: u64) -> Result<bool, ReplicaError> {
    let local = journal::read_entries(journal_dir, seq - 1, seq)
        .next()
        .transpose()?
        .and_then(|e| e.audit.map(|a| a.hash));
    let remote = link
        .get(seq)
        .await?
        .and_then(|r| r.entry.audit.map(|a| a.hash));
    Ok(local.is_some() && local == remote)
}

/// Takes the lease and publishes the journal, `1..=head`, into the empty stream, with
/// every key record spread over the first entries; answers the lease's revision.
async fn upload(
    link: &Link,
    journal_dir: &Path,
    head: u64,
    vault: &Vault,
) -> Result<u64, ReplicaError> {
    let Some(mut revision) = link.try_take().await? else {
        return Err(ReplicaError::Disagrees(
            "this data folder ran without replication and holds a journal the empty stream \
             does not, but another node holds the lease: stop that node (and clear the \
             stream) to put this journal into the stream, or start this node on an empty \
             data folder to follow"
                .into(),
        ));
    };
    tracing::info!(
        entries = head,
        "putting this node's journal into the empty stream"
    );
    let mut keys = vault.blind_record();
    keys.extend(vault.party_records());
    let mut chunks = keys
        .chunks(KEYS_PER_ENTRY * KEY_RECORD_LEN)
        .map(<[u8]>::to_vec)
        .collect::<Vec<_>>()
        .into_iter();
    let mut after = 0;
    while after < head {
        let up_to = (after + UPLOAD_BATCH).min(head);
        let entries: Vec<pb::JournalEntry> =
            journal::read_entries(journal_dir, after, up_to).collect::<Result<_, _>>()?;
        let keys: Vec<Vec<u8>> = entries
            .iter()
            .map(|_| chunks.next().unwrap_or_default())
            .collect();
        link.publish_entries(&entries, keys).await.map_err(|e| {
            ReplicaError::js("putting the journal into the stream", format!("{e:?}"))
        })?;
        after = up_to;
        // The lease must not run out during a long upload.
        match link.renew(revision).await? {
            Some(r) => revision = r,
            None => {
                return Err(ReplicaError::Disagrees(
                    "another node took the lease while this journal was being put into the \
                     stream; start again"
                        .into(),
                ));
            }
        }
        if !link.lease_valid() {
            return Err(ReplicaError::Disagrees(
                "the lease ran out while the journal was being put into the stream; start again"
                    .into(),
            ));
        }
    }
    Ok(revision)
}

fn write_marker(dir: &Path, stream: &str) -> Result<(), ReplicaError> {
    let path = dir.join(MARKER);
    let io = |source| ReplicaError::Io {
        path: path.display().to_string(),
        source,
    };
    if std::fs::read_to_string(&path).is_ok_and(|s| s.trim() == stream) {
        return Ok(());
    }
    let tmp = dir.join(format!("{MARKER}.tmp"));
    std::fs::write(&tmp, format!("{stream}\n")).map_err(io)?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)?;
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(io)
}
