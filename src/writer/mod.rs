//! The one writer. Commands queue up; the writer thread takes whatever is waiting as
//! one group, runs each command through the domain rules against the store plus what
//! the group already changed, appends the accepted ones to the journal, `fdatasync`s
//! once, applies the group to sled in one atomic batch, and only then answers every
//! caller of the group: group commit. A refused command writes nothing.
//!
//! If the journal or sled fails mid-group, nobody in the group is told "done", and
//! the writer stalls: it refuses writes until the disk takes writes again, then cuts
//! the journal back to its last sync, checks it and resumes by itself (`stall`).

mod command;
pub mod commands;
pub mod instruments;
mod recovery;
mod replicated;
mod stall;
pub mod sweeper;
mod view;

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::SystemTime;

use tokio::sync::{mpsc, oneshot, watch};

use crate::clock::Clock;
use crate::domain::notifications::Channels;
use crate::domain::{DomainError, Policy};
use crate::journal::{self, ChainHead, Journal};
use crate::pdata::{self, Vault};
use crate::store::{Store, StoreError};

pub use command::{Exec, Executed, Replicated, WriteCommand};
pub use recovery::{
    OpenedState, RecoveryError, journal_dir, open_state, open_state_unreplayed, rebuild, replay,
    sled_dir,
};
pub use replicated::{PublishFailure, Replicator};

/// Most commands committed in one group.
const MAX_GROUP: usize = 512;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("{what} {id} not found; check the id")]
    NotFound { what: &'static str, id: String },
    #[error(
        "claim {claim_id} changed since you read it (its etag is now {current}); read it again and retry"
    )]
    EtagMismatch { claim_id: String, current: String },
    #[error(
        "principal {principal_id} is suspended until {} (DSA Art. 23) and may not file claims or complaints until then; ask the operator if you believe this is wrong",
        commands::rfc3339(*until)
    )]
    Suspended {
        principal_id: String,
        until: SystemTime,
    },
    #[error(
        "{party} is suspended until {} (DSA Art. 23) and may not file notices or complaints until then; ask the operator if you believe this is wrong",
        commands::rfc3339(*until)
    )]
    PartySuspended { party: String, until: SystemTime },
    #[error("url {url} already belongs to article {article_id}; each article needs its own url")]
    UrlTaken { url: String, article_id: String },
    #[error(
        "principal {principal_id} is the last admin who can act; create another admin first (AdminService.CreatePrincipal with ROLE_ADMIN), or recover access offline with `takedownd admin-token`"
    )]
    LastAdmin { principal_id: String },
    #[error(
        "article {article_id} has open claims ({}); its url cannot change until they are settled, or a notice by the old url would reach another article; register the new address as a new article, or wait",
        claims.join(", ")
    )]
    OpenClaims {
        article_id: String,
        claims: Vec<String>,
    },
    #[error(
        "request_id {request_id:?} was already used for a different notice (claim {claim_id}); send a new request_id for a new notice, or the same notice to retry"
    )]
    RequestIdReused {
        request_id: String,
        claim_id: String,
    },
    #[error(
        "this node is a standby and takes no writes; send writes to the leader{}, or retry in a few seconds if a failover is under way",
        leader.as_deref().map(|l| format!(" at {l}")).unwrap_or_default()
    )]
    NotLeader { leader: Option<String> },
    #[error("the store is inconsistent: {0}")]
    Inconsistent(String),
    #[error("storage failure: {0}")]
    Storage(String),
    #[error(
        "{cause}, so this write's outcome is unknown: it may or may not have been recorded. {remedy}; then retry it with the same request_id (where the call takes one), which is safe: a recorded write is answered with its first response, not done twice"
    )]
    OutcomeUnknown { cause: String, remedy: &'static str },
    #[error(
        "writes are paused: {cause}. {remedy}; retry then with the same request_id (where the call takes one)"
    )]
    Paused { cause: String, remedy: &'static str },
    #[error(
        "the writer has stopped: the server is shutting down (or its writer failed; the server log says why); retry against a running server"
    )]
    Stopped,
}

impl From<StoreError> for WriteError {
    fn from(e: StoreError) -> Self {
        WriteError::Storage(e.to_string())
    }
}

/// A cheap, cloneable handle for submitting commands to the writer.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Box<dyn command::Job>>,
    durable: watch::Receiver<u64>,
    stall: watch::Receiver<Option<String>>,
    replica: Option<Arc<dyn Replicator>>,
}

impl WriterHandle {
    /// Submits a command and waits until it is durable (or refused); answers the
    /// command's own reply.
    pub async fn submit<C: WriteCommand>(&self, command: C) -> Result<C::Reply, WriteError> {
        let (reply, rx) = oneshot::channel();
        let job = command::Queued {
            command,
            reply,
            outcome: None,
        };
        self.tx
            .send(Box::new(job))
            .await
            .map_err(|_| WriteError::Stopped)?;
        rx.await.map_err(|_| WriteError::Stopped)?
    }

    /// Appends the leader's entries on a standby (`replicated`); answers the new head.
    pub async fn follow(&self, batch: Vec<Replicated>) -> Result<u64, WriteError> {
        let (reply, rx) = oneshot::channel();
        let job = replicated::FollowJob {
            batch: Some(batch),
            reply,
            outcome: None,
        };
        self.tx
            .send(Box::new(job))
            .await
            .map_err(|_| WriteError::Stopped)?;
        rx.await.map_err(|_| WriteError::Stopped)?
    }

    /// True while writes would be taken: the writer is not stalled and this node leads
    /// (or does not replicate). Background workers (deadlines, notifications) act only
    /// then, so that a standby never sends what the leader will send.
    pub fn may_write(&self) -> bool {
        !self.is_stalled() && self.replica.as_ref().is_none_or(|r| r.admit().is_ok())
    }

    /// The seq of the last entry that is journaled, synced and applied to sled.
    pub fn durable_seq(&self) -> u64 {
        *self.durable.borrow()
    }

    /// Follows the durable seq as it moves.
    pub fn watch_durable(&self) -> watch::Receiver<u64> {
        self.durable.clone()
    }

    /// Why the writer refuses writes (a full disk, say), or `None` while it takes them.
    pub fn watch_stall(&self) -> watch::Receiver<Option<String>> {
        self.stall.clone()
    }

    /// True while the writer refuses writes after a storage failure (`stall`).
    pub fn is_stalled(&self) -> bool {
        self.stall.borrow().is_some()
    }
}

/// The writer thread. Dropping every handle lets it finish the queue and exit;
/// `join` waits for that.
pub struct Writer {
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer over a recovered journal and store.
    pub fn start(
        opened: OpenedState,
        clock: Arc<dyn Clock>,
        policy: Policy,
        channels: Channels,
        vault: Arc<Vault>,
        replica: Option<Arc<dyn Replicator>>,
    ) -> (Writer, WriterHandle) {
        let OpenedState {
            journal,
            head,
            store,
            ..
        } = opened;
        let (tx, rx) = mpsc::channel(4 * MAX_GROUP);
        let (durable_tx, durable) = watch::channel(head.seq);
        let (stall_tx, stall) = watch::channel(None);
        let state = Loop {
            journal,
            head,
            store,
            clock,
            policy,
            channels,
            vault,
            durable: durable_tx,
            stall: stall_tx,
            replica: replica.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("takedown-writer".into())
            .spawn(move || state.run(rx))
            .ok();
        (
            Writer { thread },
            WriterHandle {
                tx,
                durable,
                stall,
                replica,
            },
        )
    }

    /// True once the writer thread has drained its queue and exited.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Waits for the writer thread to drain and exit (all handles must be dropped).
    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Loop {
    journal: Journal,
    head: ChainHead,
    store: Store,
    clock: Arc<dyn Clock>,
    policy: Policy,
    channels: Channels,
    /// Seals personal fields before they are journaled.
    vault: Arc<Vault>,
    durable: watch::Sender<u64>,
    /// Why writes are refused while stalled (`stall`).
    stall: watch::Sender<Option<String>>,
    /// Set when the journal is replicated (`replicated`).
    replica: Option<Arc<dyn Replicator>>,
}

impl Loop {
    fn run(mut self, mut rx: mpsc::Receiver<Box<dyn command::Job>>) {
        let mut jobs = Vec::with_capacity(MAX_GROUP);
        while let Some(first) = rx.blocking_recv() {
            jobs.push(first);
            while jobs.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            // sled met an I/O error (perhaps on a read, before any write): stall on it
            // now, so that health says so and sled is reopened once the disk has room.
            // A failure before anything was journaled leaves writes merely paused; one
            // while committing leaves the group's outcome unknown.
            let failed = if let Some(fault) = self.store.take_fault() {
                Some((stall::Failure::from(fault), false))
            } else if let Err(failure) = self.follow_jobs(&mut jobs) {
                Some((failure, false))
            } else if let Err(failure) = self.commit(&mut jobs) {
                Some((failure, true))
            } else {
                None
            };
            if let Some((failure, committing)) = failed {
                for job in jobs.drain(..) {
                    job.answer(Some(if committing {
                        failure.outcome_unknown()
                    } else {
                        failure.paused()
                    }));
                }
                if let stall::Flow::Closed = self.stall(&mut rx, failure) {
                    break;
                }
            }
        }
        if let Err(e) = self.store.flush() {
            tracing::error!(error = %e, "final sled flush failed; the journal will be replayed at next start");
        }
    }

    /// Takes the follow jobs (`replicated`) out of `jobs`, appends their entries and
    /// answers them; leaves the commands.
    fn follow_jobs(&mut self, jobs: &mut Vec<Box<dyn command::Job>>) -> Result<(), stall::Failure> {
        let mut i = 0;
        while i < jobs.len() {
            let Some(batch) = jobs[i].take_replicated() else {
                i += 1;
                continue;
            };
            let mut job = jobs.remove(i);
            match self.follow(batch) {
                Ok(outcome) => {
                    job.settle(outcome);
                    job.answer(None);
                }
                Err(failure) => {
                    job.answer(Some(failure.outcome_unknown()));
                    return Err(failure);
                }
            }
        }
        Ok(())
    }

    /// Commits one group. On success every job has been answered.
    fn commit(&mut self, jobs: &mut Vec<Box<dyn command::Job>>) -> Result<(), stall::Failure> {
        if let Some(replica) = &self.replica
            && replica.admit().is_err()
        {
            for job in jobs.drain(..) {
                job.answer(replica.admit().err());
            }
            return Ok(());
        }
        let now = self.clock.now();
        let mut view = view::View::new(&self.store);
        let mut entries = Vec::new();
        let mut head = self.head;
        for job in jobs.iter_mut() {
            let seq = head.seq + 1;
            let cx = Exec {
                view: &view,
                now,
                policy: &self.policy,
                seq,
                channels: self.channels,
            };
            for (n, mut entry) in job.execute(&cx).into_iter().enumerate() {
                let seq = seq + n as u64;
                // Later commands of the group read the records in clear; the journal
                // and sled get them sealed.
                view.remember(&entry.records);
                seal_personal_data(&self.vault, &view, &mut entry);
                head.hash = journal::seal(&mut entry, seq, &head.hash);
                head.seq = seq;
                entries.push(entry);
            }
        }
        drop(view);
        if !entries.is_empty() {
            // The keys the group's sealed fields need are on disk before the entries.
            let mut keys = self.vault.persist()?;
            for entry in &entries {
                self.journal.append(entry)?;
            }
            let fsync_start = std::time::Instant::now();
            self.journal.sync()?;
            let fsync = fsync_start.elapsed();
            if let Some(replica) = self.replica.clone() {
                if self.head.seq == 0 {
                    // The first entry of the stream carries the blind-index key.
                    keys.splice(0..0, self.vault.blind_record());
                }
                if let Err(failure) = replica.publish(&entries, keys) {
                    self.unpublish()?;
                    for job in jobs.drain(..) {
                        job.answer(Some(publish_refusal(&failure)));
                    }
                    return Ok(());
                }
            }
            self.store.apply(&entries)?;
            self.erase_keys(&entries);
            instruments::group_committed(jobs.len(), fsync, self.journal.size_bytes(), &entries);
            self.head = head;
            self.durable.send_replace(head.seq);
        }
        for job in jobs.drain(..) {
            job.answer(None);
        }
        Ok(())
    }
}

impl Loop {
    /// An erasure is journaled: now its key goes (and again at the next start if this
    /// fails or a crash comes first).
    fn erase_keys(&self, entries: &[crate::pb::JournalEntry]) {
        for record in entries.iter().flat_map(|e| &e.records) {
            if let Some(crate::pb::stored_record::Kind::ErasedSubject(e)) = &record.kind
                && let Ok(subject) = <pdata::Subject>::try_from(e.subject.as_slice())
                && let Err(err) = self.vault.erase_checked(&subject, &e.key_check)
            {
                tracing::error!(error = %err, "deleting an erased party's key failed; it is retried at the next start");
            }
        }
    }
}

/// What the callers of a group the stream did not take are told.
fn publish_refusal(failure: &PublishFailure) -> WriteError {
    match failure {
        PublishFailure::Refused { leader } => WriteError::NotLeader {
            leader: leader.clone(),
        },
        PublishFailure::Unknown(cause) => WriteError::OutcomeUnknown {
            cause: format!("the replicated stream did not confirm the write ({cause})"),
            remedy: "the node re-reads the stream and goes on as leader or standby by itself",
        },
    }
}

/// Seals the personal fields of `entry`'s records (`pdata`), reading a notification's
/// claim from `view` and skipping erased subjects.
fn seal_personal_data(vault: &Vault, view: &view::View<'_>, entry: &mut crate::pb::JournalEntry) {
    let claim_of = |id: &str| {
        uuid::Uuid::parse_str(id)
            .ok()
            .and_then(|id| view.claim(&id).ok().flatten())
    };
    let erased = |s: &pdata::Subject| view.erased(s);
    for record in &mut entry.records {
        if let Some(kind) = record.kind.as_mut() {
            pdata::seal_record(vault, kind, &claim_of, &erased);
        }
    }
}
