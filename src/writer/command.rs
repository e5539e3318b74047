//! The writer's side of a command: [`WriteCommand`] turns a request into the journal
//! entry it implies, against the store as the group being committed leaves it, and
//! names its own reply type, so a caller gets back exactly what its command produces.
//! A refused command produces nothing.

use std::time::SystemTime;

use tokio::sync::oneshot;
use uuid::Uuid;

use super::WriteError;
use super::view::View;
use crate::domain::notifications::Channels;
use crate::domain::{AuditAction, Policy};
use crate::pb::{self, stored_record::Kind};

/// A change the writer can commit.
pub trait WriteCommand: Send + 'static {
    /// What the caller gets once the change is durable.
    type Reply: Send + 'static;
    /// The entry to journal (none for a no-op such as an idempotent retry) and the
    /// reply, or why the command is refused.
    fn execute(&self, cx: &Exec<'_>) -> Result<Executed<Self::Reply>, WriteError>;
}

/// What executing a command produced.
pub struct Executed<R> {
    pub entry: Option<pb::JournalEntry>,
    /// Entries that follow the command's own, with the next sequence numbers: events
    /// the change gave rise to (a repeat infringer reached), with no records.
    pub events: Vec<pb::AuditEntry>,
    pub reply: R,
}

impl<R> Executed<R> {
    /// Nothing changed; the caller gets `reply`.
    pub fn unchanged(reply: R) -> Self {
        Self {
            entry: None,
            events: Vec::new(),
            reply,
        }
    }

    /// One audited change carrying the after-images in `records`.
    pub fn changed(audit: pb::AuditEntry, records: Vec<Kind>, reply: R) -> Self {
        Self {
            entry: Some(pb::JournalEntry {
                audit: Some(audit),
                records: records
                    .into_iter()
                    .map(|k| pb::StoredRecord { kind: Some(k) })
                    .collect(),
            }),
            events: Vec::new(),
            reply,
        }
    }

    /// Adds an event (an audit entry with no records) journaled right after the
    /// command's own entry.
    pub fn with_events(mut self, events: Vec<pb::AuditEntry>) -> Self {
        self.events.extend(events);
        self
    }
}

/// What a command sees while it executes: the store as the group leaves it, the time
/// of the group, the policy, the sequence number its entry would take, and the
/// notification channels the server has. Ids and
/// etags are made here and nowhere else.
pub struct Exec<'a> {
    pub view: &'a View<'a>,
    pub now: SystemTime,
    pub policy: &'a Policy,
    pub seq: u64,
    /// The channels notifications can be delivered on.
    pub channels: Channels,
}

impl Exec<'_> {
    /// The etag of every record this command changes: the seq of its entry.
    pub fn etag(&self) -> String {
        self.seq.to_string()
    }

    /// A new record id: UUID v7, so ids sort by creation time.
    pub fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }

    /// An audit entry of this command, to be completed by the command.
    pub fn audit(&self, actor: &str, action: AuditAction) -> pb::AuditEntry {
        pb::AuditEntry {
            time: Some(self.now.into()),
            actor: actor.to_string(),
            action: action.as_str().to_string(),
            ..Default::default()
        }
    }
}

/// A queued command with its caller's reply channel, its type erased so one queue
/// carries every kind of command.
pub(super) trait Job: Send {
    /// Executes the command; keeps the reply until `answer` and returns the entries to
    /// journal, in order: none (refused, or nothing to change), its own, and the
    /// events it gave rise to.
    fn execute(&mut self, cx: &Exec<'_>) -> Vec<pb::JournalEntry>;
    /// The leader's entries, if this job appends them (a standby's follow), taken once.
    fn take_replicated(&mut self) -> Option<Vec<Replicated>> {
        None
    }
    /// Keeps the outcome of appending what `take_replicated` gave.
    fn settle(&mut self, _outcome: Result<u64, WriteError>) {}
    /// Sends the kept reply, or `failure` if the group could not be committed.
    fn answer(self: Box<Self>, failure: Option<WriteError>);
}

pub(super) struct Queued<C: WriteCommand> {
    pub command: C,
    pub reply: oneshot::Sender<Result<C::Reply, WriteError>>,
    pub outcome: Option<Result<C::Reply, WriteError>>,
}

impl<C: WriteCommand> Job for Queued<C> {
    fn execute(&mut self, cx: &Exec<'_>) -> Vec<pb::JournalEntry> {
        match self.command.execute(cx) {
            Ok(done) => {
                self.outcome = Some(Ok(done.reply));
                let events = done.events.into_iter().map(|audit| pb::JournalEntry {
                    audit: Some(audit),
                    records: Vec::new(),
                });
                done.entry.into_iter().chain(events).collect()
            }
            Err(e) => {
                self.outcome = Some(Err(e));
                Vec::new()
            }
        }
    }

    fn answer(self: Box<Self>, failure: Option<WriteError>) {
        let answer = match (failure, self.outcome) {
            // A refused command wrote nothing: its refusal stands.
            (_, Some(Err(e))) => Err(e),
            (Some(f), _) => Err(f),
            (None, Some(ok)) => ok,
            (None, None) => Err(WriteError::Stopped),
        };
        let _ = self.reply.send(answer);
    }
}

/// One entry as the stream holds it, decoded, with its bytes and the key records that
/// came with it.
#[derive(Debug, Clone)]
pub struct Replicated {
    pub entry: pb::JournalEntry,
    /// The entry's bytes as published (its journal record's payload).
    pub payload: Vec<u8>,
    /// Key-store records (`pdata::Vault::adopt`).
    pub keys: Vec<u8>,
}

impl Replicated {
    /// The entry's seq.
    pub fn seq(&self) -> u64 {
        self.entry.audit.as_ref().map_or(0, |a| a.seq)
    }
}
