//! What the writer does after a write group fails (a full disk, an I/O error): it
//! stalls instead of stopping, and resumes by itself once the disk takes writes again.
//!
//! While stalled it answers every queued command at once with
//! [`WriteError::Paused`], which names the cause, and publishes the cause on a watch
//! channel that turns the health service NOT_SERVING (`server.rs`). The group that
//! failed is answered with [`WriteError::OutcomeUnknown`]: some of it may have reached
//! the journal, and a retry with the same `request_id` is safe because idempotency
//! keys are journaled with the entries.
//!
//! Now and then it tries to resume ([`Loop::resume`]): a probe file is written and
//! `fdatasync`ed in the journal folder; the journal is cut back to its last successful
//! sync and reopened through its recovery scan (a failed `fdatasync` is never
//! retried); entries the journal holds and sled has not applied are replayed into
//! sled, after reopening sled if it refuses writes (sled 0.34 keeps an I/O error of
//! its background flusher until reopened; readers wait until the reopened sled has
//! caught up). Only then are writes taken again.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{self, error::TryRecvError};

use super::{Loop, WriteError, command, recovery};
use crate::journal::JournalError;
use crate::pdata::VaultError;
use crate::store::{Store, StoreError};

/// How long the writer waits for new commands between checks while stalled.
const POLL: Duration = Duration::from_millis(20);
/// The first resume attempt comes this soon after the failure; the wait doubles up to
/// [`PROBE_MAX`].
const PROBE_FIRST: Duration = Duration::from_millis(200);
const PROBE_MAX: Duration = Duration::from_secs(2);
/// What the probe writes: room for a few groups, so that writes do not resume only
/// to fail again at once.
const PROBE_BYTES: usize = 1 << 20;
/// The probe's file in the journal folder (not a `.wal`, so the journal ignores it).
pub const PROBE_FILE: &str = "space-probe.tmp";

/// Why a write group failed: the message for the log, and what the callers are told.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The full error, for the log.
    detail: String,
    /// What callers and operators are told: the cause in a few words.
    cause: String,
    disk_full: bool,
    /// The disk takes writes again, but the journal or sled could not be brought back.
    check_failed: bool,
}

impl Failure {
    fn new(what: &str, error: &(dyn std::error::Error + 'static)) -> Self {
        let io = io_error(error);
        let disk_full = io.is_some_and(|e| {
            matches!(
                e.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            )
        });
        // "No space left on device (os error 28)" reads better inside parentheses as
        // "No space left on device, os error 28".
        // sled wraps the operating system's error in its own, whose text is a Debug
        // dump: name the kind then.
        let os = |io: &std::io::Error| match (io.raw_os_error(), io.kind()) {
            (Some(_), _) => io.to_string().replace(" (os error", ", os error"),
            (None, std::io::ErrorKind::StorageFull) => "No space left on device".to_string(),
            (None, std::io::ErrorKind::QuotaExceeded) => "Disk quota exceeded".to_string(),
            (None, _) => io.to_string(),
        };
        let cause = match (disk_full, io) {
            (true, Some(io)) => format!(
                "the disk holding the {what} is full ({})",
                os(io).trim_end_matches(')')
            ),
            (false, Some(io)) => format!(
                "writing the {what} failed ({})",
                os(io).trim_end_matches(')')
            ),
            _ => format!("writing the {what} failed ({error})"),
        };
        Failure {
            detail: error.to_string(),
            cause,
            disk_full,
            check_failed: false,
        }
    }

    /// The disk takes writes again, but resuming failed with `error`.
    fn check_failed(error: &str) -> Self {
        Failure {
            detail: error.to_string(),
            cause: format!(
                "after a storage failure the data folder could not be checked ({error})"
            ),
            disk_full: false,
            check_failed: true,
        }
    }

    /// What brings writes back, for the callers.
    fn remedy(&self) -> &'static str {
        if self.check_failed {
            "The server tries again by itself; if this lasts, the operator should restart it so that recovery checks the data folder"
        } else if self.disk_full {
            "Writes resume by themselves once space is freed on that disk"
        } else {
            "Writes resume by themselves once a test write to the data folder succeeds; if this lasts, the operator should check the disk and the server log"
        }
    }

    /// The answer to each command of the group that failed.
    pub fn outcome_unknown(&self) -> WriteError {
        WriteError::OutcomeUnknown {
            cause: self.cause.clone(),
            remedy: self.remedy(),
        }
    }

    /// The answer to each command that arrives while the writer is stalled.
    pub(super) fn paused(&self) -> WriteError {
        WriteError::Paused {
            cause: self.cause.clone(),
            remedy: self.remedy(),
        }
    }
}

impl From<JournalError> for Failure {
    fn from(e: JournalError) -> Self {
        Failure::new("journal", &e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::new("sled store", &e)
    }
}

impl From<VaultError> for Failure {
    fn from(e: VaultError) -> Self {
        Failure::new("personal data keys", &e)
    }
}

/// The operating system's error under `error`, if there is one. sled keeps its own
/// copy of an I/O error, which is not a `source`.
fn io_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        if let Some(sled::Error::Io(io)) = e.downcast_ref::<sled::Error>() {
            return Some(io);
        }
        next = e.source();
    }
    None
}

/// Why a resume failed: the disk still refuses the probe, or it takes writes but the
/// journal or sled could not be brought back.
enum Resume {
    NoRoom(String),
    CheckFailed(String),
}

impl std::fmt::Display for Resume {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resume::NoRoom(e) | Resume::CheckFailed(e) => f.write_str(e),
        }
    }
}

/// How a stall ended.
pub(super) enum Flow {
    /// The writer takes writes again.
    Resumed,
    /// Every handle is gone (shutdown): the writer exits.
    Closed,
}

impl Loop {
    /// Refuses writes after `failure` until a resume succeeds or the queue closes.
    pub(super) fn stall(
        &mut self,
        rx: &mut mpsc::Receiver<Box<dyn command::Job>>,
        mut failure: Failure,
    ) -> Flow {
        tracing::error!(
            error = %failure.detail,
            reason = %failure.cause,
            "a write group failed; writes are refused until the disk takes writes again (health is NOT_SERVING)"
        );
        metrics::gauge!("takedown_writer_stalled").set(1.0);
        self.stall
            .send_replace(Some(format!("{}. {}", failure.cause, failure.remedy())));
        let mut wait = PROBE_FIRST;
        let mut next_try = Instant::now() + wait;
        let mut last_error = String::new();
        loop {
            loop {
                match rx.try_recv() {
                    Ok(job) => job.answer(Some(failure.paused())),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return Flow::Closed,
                }
            }
            if Instant::now() >= next_try {
                match self.resume() {
                    Ok(()) => {
                        // What sled answered before the resume is over with.
                        let _ = self.store.take_fault();
                        tracing::info!(
                            head_seq = self.head.seq,
                            "the disk takes writes again; the journal was checked and the writer resumed (health is SERVING)"
                        );
                        metrics::gauge!("takedown_writer_stalled").set(0.0);
                        self.stall.send_replace(None);
                        return Flow::Resumed;
                    }
                    Err(e) if e.to_string() != last_error => {
                        tracing::warn!(error = %e, "the writer cannot resume yet");
                        last_error = e.to_string();
                        if let Resume::CheckFailed(e) = e {
                            // No longer (only) a question of space: say so.
                            failure = Failure::check_failed(&e);
                            self.stall.send_replace(Some(format!(
                                "{}. {}",
                                failure.cause,
                                failure.remedy()
                            )));
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "the writer cannot resume yet"),
                }
                wait = (wait * 2).min(PROBE_MAX);
                next_try = Instant::now() + wait;
            }
            std::thread::sleep(POLL);
        }
    }

    /// Makes the journal and sled take writes again, if the disk lets it. See the
    /// module docs for the steps.
    fn resume(&mut self) -> Result<(), Resume> {
        let dir = self.journal.dir().to_path_buf();
        probe(&dir).map_err(|e| {
            Resume::NoRoom(format!("a test write to {} failed: {e}", dir.display()))
        })?;
        self.catch_up(&dir).map_err(Resume::CheckFailed)
    }

    /// After a successful probe: reopens the journal if it failed, reopens sled if it
    /// kept an error, and replays into sled what it lacks.
    fn catch_up(&mut self, dir: &Path) -> Result<(), String> {
        // Everything up to the writer's head was acknowledged: recovery must not cut it.
        let head = if self.journal.is_clean() {
            self.journal.head()
        } else {
            self.journal
                .reopen(self.head.seq)
                .map_err(|e| e.to_string())?
        };
        if head.seq < self.head.seq {
            return Err(format!(
                "the reopened journal ends at seq {}, but the writer had acknowledged up to seq {}; restart the server so that recovery can check the data folder",
                head.seq, self.head.seq
            ));
        }
        let replay_into = |store: &Store| -> Result<u64, recovery::RecoveryError> {
            let applied = store.applied_seq()?;
            if applied > head.seq {
                return Err(recovery::RecoveryError::StoreAhead {
                    applied,
                    journal: head.seq,
                });
            }
            recovery::replay(
                dir,
                store,
                applied,
                head.seq,
                &indicatif::ProgressBar::hidden(),
            )
        };
        let replayed = if self.store.accepts_writes() {
            replay_into(&self.store).map_err(|e| e.to_string())?
        } else {
            // Readers see the reopened sled only once it has caught up.
            let replayed = self.store.reopen(replay_into).map_err(|e| e.to_string())?;
            tracing::info!("reopened the sled store, which kept an I/O error");
            replayed
        };
        if replayed > 0 {
            tracing::info!(
                replayed,
                head_seq = head.seq,
                "replayed journaled entries into sled"
            );
            crate::telemetry::seed_gauges(&self.store, self.journal.size_bytes());
        }
        self.head = head;
        self.durable.send_if_modified(|durable| {
            let moved = *durable != head.seq;
            *durable = head.seq;
            moved
        });
        Ok(())
    }
}

/// Writes [`PROBE_BYTES`] into a new file in `dir`, `fdatasync`s it and removes it.
fn probe(dir: &Path) -> std::io::Result<()> {
    let path = dir.join(PROBE_FILE);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut file| {
            file.write_all(&vec![0; PROBE_BYTES])?;
            file.sync_data()
        });
    let removed = std::fs::remove_file(&path);
    written?;
    match removed {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
