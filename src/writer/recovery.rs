//! Start-up: open sled, open the journal (which checks it and cuts a torn tail beyond
//! what sled applied), and replay every journal entry sled has not applied yet.
//! `rebuild` does the same from an empty sled, for when sled itself is lost or damaged.

use std::sync::Arc;

use crate::pdata::Vault;
use std::path::Path;

use crate::data_dir::DataDir;
pub use crate::data_dir::{journal_dir, sled_dir};
use crate::journal::{self, ChainHead, Journal, JournalOptions};
use crate::store::Store;

/// Entries applied per sled batch during replay: large, so that a record changed
/// several times within it is written once, but bounded in memory (entries average a
/// few KiB).
const REPLAY_BATCH: usize = 1_024;

#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(
        "the sled store says it applied up to seq {applied}, but the journal ends at seq {journal}: \
         the journal is the record and entries are missing from it; restore the journal folder \
         from backup, or run `takedownd rebuild` to rebuild sled from the journal as it is"
    )]
    StoreAhead { applied: u64, journal: u64 },
    #[error(transparent)]
    DataDir(#[from] crate::data_dir::DataDirError),
    #[error("could not remove the old sled folder {path}: {source}")]
    Remove {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Vault(#[from] crate::pdata::VaultError),
    #[error("replaying the journal failed: {0}")]
    Replay(String),
}

/// The recovered journal, its head and the store, ready for the writer.
pub struct OpenedState {
    pub journal: Journal,
    pub head: ChainHead,
    pub store: Store,
    /// Entries replayed into sled at this start.
    pub replayed: u64,
}

/// Opens the (locked) data folder and brings sled up to the journal's head.
pub fn open_state(
    data_dir: &DataDir,
    cache_capacity: u64,
    options: JournalOptions,
    vault: &Arc<Vault>,
) -> Result<OpenedState, RecoveryError> {
    open_state_with(data_dir, cache_capacity, options, vault, true)
}

/// As [`open_state`], for a node that replicates and has followed its stream before:
/// sled is not brought up to the journal's head, because the entries past what sled
/// applied may never have been acknowledged; `replica::start` checks them against
/// the stream first (`docs/architecture.md`, "Replication").
pub fn open_state_unreplayed(
    data_dir: &DataDir,
    cache_capacity: u64,
    options: JournalOptions,
    vault: &Arc<Vault>,
) -> Result<OpenedState, RecoveryError> {
    open_state_with(data_dir, cache_capacity, options, vault, false)
}

fn open_state_with(
    data_dir: &DataDir,
    cache_capacity: u64,
    options: JournalOptions,
    vault: &Arc<Vault>,
    replay_all: bool,
) -> Result<OpenedState, RecoveryError> {
    // sled first: what it has applied was acknowledged, and recovery must not cut it
    // off the journal as a torn tail.
    let mut store = open_store(data_dir, cache_capacity)?.with_vault(vault.clone());
    // Only the newest segment is read here, so that a start takes the same time at any
    // size; the server checks the older ones right after (`docs/architecture.md`).
    let (journal, head) =
        Journal::recover_tail(&data_dir.journal(), options, store.applied_seq()?)?;
    if store.schema_outdated()? {
        // An older takedown laid out the indexes differently: the journal is the
        // record, so sled is simply rebuilt from it.
        tracing::warn!("the sled store has an older key layout; rebuilding it from the journal");
        drop(store);
        store = empty_store(data_dir, cache_capacity)?.with_vault(vault.clone());
    }
    let applied = store.applied_seq()?;
    if applied > head.seq {
        return Err(RecoveryError::StoreAhead {
            applied,
            journal: head.seq,
        });
    }
    let replayed = if replay_all {
        replay(
            &data_dir.journal(),
            &store,
            applied,
            head.seq,
            &indicatif::ProgressBar::hidden(),
        )?
    } else {
        0
    };
    // An erasure is journaled before its key is deleted: finish any a crash cut short.
    for (subject, check) in store.erased_subjects()? {
        vault.erase_checked(&subject, &check)?;
    }
    if replayed > 0 {
        tracing::info!(
            replayed,
            head_seq = head.seq,
            "replayed journal entries into sled"
        );
    }
    Ok(OpenedState {
        journal,
        head,
        store,
        replayed,
    })
}

/// Applies journal entries `after + 1..=up_to` to `store` as a bulk load: one thread
/// reads and decodes the journal while this one applies what it read, in batches of
/// `REPLAY_BATCH` entries (a record changed several times in a batch is written once,
/// with its final index keys), with no flush until the end. `progress` shows entries/s
/// on a terminal.
pub fn replay(
    dir: &Path,
    store: &Store,
    after: u64,
    up_to: u64,
    progress: &indicatif::ProgressBar,
) -> Result<u64, RecoveryError> {
    let (batches, received) = std::sync::mpsc::sync_channel::<Vec<crate::pb::JournalEntry>>(2);
    let mut count = 0;
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || -> Result<(), RecoveryError> {
            let mut batch = Vec::with_capacity(REPLAY_BATCH);
            for entry in journal::read_entries(dir, after, up_to) {
                batch.push(entry?);
                if batch.len() == REPLAY_BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(REPLAY_BATCH));
                    if batches.send(full).is_err() {
                        return Ok(()); // the applier stopped on an error of its own
                    }
                }
            }
            let _ = batches.send(batch);
            Ok(())
        });
        let applied = received.iter().try_for_each(|batch| {
            store.apply(&batch)?;
            count += batch.len() as u64;
            progress.inc(batch.len() as u64);
            Ok::<(), RecoveryError>(())
        });
        // An apply error drops the receiver, which stops the reader.
        drop(received);
        let read = reader.join().unwrap_or_else(|_| {
            Err(RecoveryError::Replay(
                "the journal reader thread panicked".into(),
            ))
        });
        applied.and(read)
    })?;
    store.flush()?;
    progress.finish_and_clear();
    Ok(count)
}

/// A progress bar for `entries` on stderr, drawn only on a terminal.
fn progress_bar(entries: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(entries);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} {wide_bar} {pos}/{len} entries, {per_sec}, {eta} left",
    ) {
        bar.set_style(style);
    }
    bar.set_message("replaying the journal into sled");
    bar
}

/// Throws sled away and rebuilds it from the journal. Returns the entries replayed.
/// The whole journal is verified first (on every core), so nothing altered is applied.
pub fn rebuild(
    data_dir: &DataDir,
    cache_capacity: u64,
    options: JournalOptions,
    vault: &Arc<Vault>,
) -> Result<u64, RecoveryError> {
    let applied = old_applied_seq(data_dir, cache_capacity);
    let (_journal, head) = Journal::recover_tail(&data_dir.journal(), options, applied)?;
    let report = journal::verify(&data_dir.journal(), head.seq);
    if !report.ok {
        return Err(RecoveryError::Replay(format!(
            "the journal does not verify at seq {}: {}; restore the journal folder from \
             backup (keep a copy of the damaged one) and run the rebuild again",
            report.first_bad_seq, report.problem
        )));
    }
    let store = empty_store(data_dir, cache_capacity)?.with_vault(vault.clone());
    let replayed = replay(
        &data_dir.journal(),
        &store,
        0,
        head.seq,
        &progress_bar(head.seq),
    )?;
    for (subject, check) in store.erased_subjects()? {
        vault.erase_checked(&subject, &check)?;
    }
    Ok(replayed)
}

/// Opens sled and makes the files it just created private (sled creates them with the
/// process's umask).
fn open_store(data_dir: &DataDir, cache_capacity: u64) -> Result<Store, RecoveryError> {
    let store = Store::open(&data_dir.sled(), cache_capacity)?;
    for (path, old) in data_dir.make_private(&data_dir.sled())? {
        tracing::debug!(path = %path.display(), old_mode = format!("{old:04o}"), "made a sled file private");
    }
    Ok(store)
}

/// What the sled store about to be thrown away says it applied, so that recovery does
/// not cut an acknowledged entry; 0 if there is no store or it cannot be read.
fn old_applied_seq(data_dir: &DataDir, cache_capacity: u64) -> u64 {
    let sled = data_dir.sled();
    if !sled.exists() {
        return 0;
    }
    // The store is being rebuilt because it may be damaged, and sled can panic on a
    // damaged store: that must not stop the rebuild.
    let read = std::panic::catch_unwind(|| {
        Store::open(&sled, cache_capacity).and_then(|store| store.applied_seq())
    });
    match read {
        Ok(Ok(applied)) => applied,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "the old sled store cannot be read; rebuilding without its applied seq");
            0
        }
        Err(_) => {
            tracing::warn!(
                "the old sled store panicked when read; rebuilding without its applied seq"
            );
            0
        }
    }
}

/// Removes the sled folder and opens a new, empty store in its place.
fn empty_store(data_dir: &DataDir, cache_capacity: u64) -> Result<Store, RecoveryError> {
    let sled = data_dir.sled();
    if sled.exists() {
        std::fs::remove_dir_all(&sled).map_err(|source| RecoveryError::Remove {
            path: sled.display().to_string(),
            source,
        })?;
    }
    open_store(data_dir, cache_capacity)
}
