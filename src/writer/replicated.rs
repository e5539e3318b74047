//! The writer's side of replication (`docs/architecture.md`, "Replication"). A leader
//! publishes each synced group through a [`Replicator`] and answers only once the
//! replicated stream has stored it; a group the stream refuses or may not have stored
//! is cut off the local journal before anything reads it. A standby takes no commands:
//! it appends the leader's entries, exactly as they were sealed, through
//! [`WriterHandle::follow`](super::WriterHandle::follow).

use tokio::sync::oneshot;

use super::command::{Exec, Job, Replicated};
use super::{Loop, WriteError, stall};
use crate::journal::{self, ChainHead};
use crate::pb;

/// Why a publish failed.
#[derive(Debug)]
pub enum PublishFailure {
    /// The stream holds other entries at these seqs: another node leads now, and this
    /// group was not recorded. The node has stepped down.
    Refused { leader: Option<String> },
    /// The stream may or may not have stored the group (no answer in time, the
    /// connection lost).
    Unknown(String),
}

/// What the writer asks of the replication layer (`crate::replica`).
pub trait Replicator: Send + Sync {
    /// `Ok` while this node leads and may take writes; otherwise the refusal to answer
    /// with, naming the leader if known.
    fn admit(&self) -> Result<(), WriteError>;
    /// Publishes a synced group (entries `first..` in order, with the key records the
    /// group made) and waits until the stream has stored every entry on a quorum.
    fn publish(&self, entries: &[pb::JournalEntry], keys: Vec<u8>) -> Result<(), PublishFailure>;
}

/// A batch of the leader's entries to append, queued with the commands.
pub(super) struct FollowJob {
    pub batch: Option<Vec<Replicated>>,
    pub reply: oneshot::Sender<Result<u64, WriteError>>,
    pub outcome: Option<Result<u64, WriteError>>,
}

impl Job for FollowJob {
    fn execute(&mut self, _cx: &Exec<'_>) -> Vec<pb::JournalEntry> {
        Vec::new()
    }

    fn take_replicated(&mut self) -> Option<Vec<Replicated>> {
        self.batch.take()
    }

    fn settle(&mut self, outcome: Result<u64, WriteError>) {
        self.outcome = Some(outcome);
    }

    fn answer(self: Box<Self>, failure: Option<WriteError>) {
        let answer = match (failure, self.outcome) {
            (Some(f), _) => Err(f),
            (None, Some(outcome)) => outcome,
            (None, None) => Err(WriteError::Stopped),
        };
        let _ = self.reply.send(answer);
    }
}

impl Loop {
    /// Appends the leader's entries after the head (those at or before it are skipped:
    /// a batch may overlap what was followed already), checking that each links to the
    /// one before and that its hashes recompute over its bytes: syncs, applies, and
    /// answers the new head. A mismatch changes nothing and is an `Inconsistent` error.
    pub(super) fn follow(
        &mut self,
        batch: Vec<Replicated>,
    ) -> Result<Result<u64, WriteError>, stall::Failure> {
        if self.replica.as_ref().is_none_or(|r| r.admit().is_ok()) {
            return Ok(Err(WriteError::Inconsistent(
                "this node leads (or does not replicate), so it does not follow".into(),
            )));
        }
        let mut head = self.head;
        let mut entries = Vec::with_capacity(batch.len());
        let mut keys = Vec::new();
        for r in batch {
            let seq = r.seq();
            if seq <= head.seq {
                continue;
            }
            if seq != head.seq + 1 {
                return Ok(Err(WriteError::Inconsistent(format!(
                    "the stream gave seq {seq} after seq {}",
                    head.seq
                ))));
            }
            match journal::chain::check_link(&head.hash, &r.entry, &r.payload) {
                Ok(hash) => head = ChainHead { seq, hash },
                Err(damage) => {
                    return Ok(Err(WriteError::Inconsistent(format!(
                        "the stream's seq {seq} does not extend this node's journal: {damage}"
                    ))));
                }
            }
            keys.extend(r.keys);
            entries.push(r.entry);
        }
        if entries.is_empty() {
            return Ok(Ok(self.head.seq));
        }
        if let Err(e) = self.vault.adopt(&keys) {
            return match e {
                crate::pdata::VaultError::Foreign { .. } => {
                    Ok(Err(WriteError::Inconsistent(e.to_string())))
                }
                other => Err(other.into()),
            };
        }
        for entry in &entries {
            self.journal.append(entry)?;
        }
        self.journal.sync()?;
        self.store.apply(&entries)?;
        self.erase_keys(&entries);
        super::instruments::followed(&entries, self.journal.size_bytes());
        self.head = head;
        self.durable.send_replace(head.seq);
        Ok(Ok(head.seq))
    }

    /// After a publish failed: cuts the group (synced locally, never acknowledged) off
    /// the journal, so that the node holds only what the stream holds. If even the cut
    /// fails, the writer stalls, which reopens the journal from disk.
    pub(super) fn unpublish(&mut self) -> Result<(), stall::Failure> {
        if let Some(cut) = self.journal.cut_after(self.head.seq)? {
            tracing::warn!(
                first_seq = cut.first_seq,
                last_seq = cut.last_seq,
                quarantined = %cut.quarantined.display(),
                "cut a group the replicated stream did not acknowledge off the journal; its bytes are kept in the quarantine file"
            );
        }
        Ok(())
    }
}
