//! `PublisherService.WatchEvents`: the audit log as an event feed. Each stream has its
//! own task that reads committed entries from sled's copies and sends them through a
//! bounded channel. The writer only publishes its durable seq; a slow reader fills its
//! own channel, stops reading, and later catches up from the store, so it never holds
//! the writer back.
//!
//! A feed shows what the caller's role may see: publishers do not get the principal
//! directory (who was created, revoked or suspended, and why); auditors and admins get
//! every entry. The feed never ends by itself: when it ends while its reader is still
//! there (the server shuts down), its last message is UNAVAILABLE, so the client
//! reconnects from the last seq it received.
//!
//! Each time the feed has caught up with the log, it sends a signed checkpoint of the
//! tree (a message without an entry) if the tree grew since the last one it sent, so
//! that the CMS and any witness can keep them (`docs/receipts.md`).

use std::pin::Pin;

use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::Status;

use super::caller::Caller;
use super::status;
use crate::domain::audit_action::AuditAction;
use crate::domain::{FieldViolation, validation};
use crate::pb::{self, Role};
use crate::store::Store;

/// Entries buffered per stream before its task waits for the reader.
const BUFFER: usize = 256;
pub const MAX_ARTICLE_FILTERS: usize = 1_000;
pub const MAX_ACTION_FILTERS: usize = 50;

pub type EventStream = BoxStream<pb::WatchEventsResponse>;

/// A server stream of `T`, as tonic's generated traits take it.
pub type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// What one feed lets through.
struct Filter {
    article_ids: Vec<String>,
    actions: Vec<AuditAction>,
    /// Whether the caller may see principal directory events.
    principal_directory: bool,
}

impl Filter {
    fn wants(&self, e: &pb::AuditEntry) -> bool {
        let action = AuditAction::parse(&e.action);
        if !self.principal_directory && action.is_some_and(AuditAction::is_principal_directory) {
            return false;
        }
        (self.article_ids.is_empty() || self.article_ids.contains(&e.article_id))
            && (self.actions.is_empty() || action.is_some_and(|a| self.actions.contains(&a)))
    }
}

/// Auditors and admins see the principal directory; publishers (the CMS) do not.
fn sees_principal_directory(caller: &Caller) -> bool {
    caller.has(Role::Auditor) || caller.has(Role::Admin)
}

/// Checks the request's filters and turns them into the feed's filter.
fn filter(caller: &Caller, req: &pb::WatchEventsRequest) -> Result<Filter, Status> {
    let mut v = Vec::new();
    if req.article_ids.len() > MAX_ARTICLE_FILTERS {
        v.push(FieldViolation::new(
            "article_ids",
            format!(
                "at most {MAX_ARTICLE_FILTERS} ids (got {})",
                req.article_ids.len()
            ),
        ));
    } else {
        for (i, id) in req.article_ids.iter().enumerate() {
            if !validation::is_article_id(id) {
                v.push(FieldViolation::new(
                    format!("article_ids[{i}]"),
                    "must be 1-128 letters, digits or . _ : / -",
                ));
            }
        }
    }
    let mut actions = Vec::with_capacity(req.actions.len());
    if req.actions.len() > MAX_ACTION_FILTERS {
        v.push(FieldViolation::new(
            "actions",
            format!(
                "at most {MAX_ACTION_FILTERS} actions (got {})",
                req.actions.len()
            ),
        ));
    } else {
        for (i, name) in req.actions.iter().enumerate() {
            match AuditAction::parse(name) {
                Some(a) => actions.push(a),
                None => v.push(FieldViolation::new(
                    format!("actions[{i}]"),
                    format!(
                        "not an audit action; send action names as they appear in audit entries: {}",
                        AuditAction::names()
                    ),
                )),
            }
        }
    }
    status::check(v)?;
    let principal_directory = sees_principal_directory(caller);
    if !principal_directory
        && let Some(hidden) = actions.iter().find(|a| a.is_principal_directory())
    {
        return Err(Status::permission_denied(format!(
            "{hidden} events belong to the principal directory, which publishers do not see; drop it from actions, or watch with an auditor's or admin's token"
        )));
    }
    Ok(Filter {
        article_ids: req.article_ids.clone(),
        actions,
        principal_directory,
    })
}

/// The last message of a feed that ends while its reader is still there.
fn ended() -> Status {
    Status::unavailable(
        "server shutting down; reconnect with after_seq = the last seq you received",
    )
}

/// Starts the feed for one request. It ends when the reader goes away or the server
/// shuts down.
pub fn watch(
    store: Store,
    notary: std::sync::Arc<crate::notary::Notary>,
    mut durable: watch::Receiver<u64>,
    mut shutdown: watch::Receiver<bool>,
    caller: &Caller,
    req: pb::WatchEventsRequest,
) -> Result<EventStream, Status> {
    let filter = filter(caller, &req)?;
    let (tx, rx) = mpsc::channel(BUFFER);
    tokio::spawn(async move {
        let mut cursor = req.after_seq;
        // The size of the last checkpoint sent; each catch-up ends with a newer one.
        let mut signed = 0;
        loop {
            let head = *durable.borrow_and_update();
            while cursor < head {
                cursor += 1;
                let entry = match store.audit_entry(cursor) {
                    Ok(Some(e)) => e,
                    Ok(None) => continue,
                    Err(e) => {
                        let _ = tx.send(Err(Status::from(e))).await;
                        return;
                    }
                };
                if filter.wants(&entry) {
                    let sent = tokio::select! {
                        r = tx.send(Ok(pb::WatchEventsResponse {
                            entry: Some(entry),
                            checkpoint: String::new(),
                        })) => r.is_ok(),
                        _ = shutdown.changed() => false,
                    };
                    if !sent {
                        return;
                    }
                }
            }
            if head > signed {
                let checkpoint = match notary.checkpoint() {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = tx.send(Err(super::status::notary(e))).await;
                        return;
                    }
                };
                signed = checkpoint.size;
                let message = pb::WatchEventsResponse {
                    entry: None,
                    checkpoint: checkpoint.note.clone(),
                };
                let sent = tokio::select! {
                    r = tx.send(Ok(message)) => r.is_ok(),
                    _ = shutdown.changed() => false,
                };
                if !sent {
                    return;
                }
            }
            tokio::select! {
                changed = durable.changed() => if changed.is_err() { return },
                _ = shutdown.changed() => return,
                _ = tx.closed() => return,
            }
        }
    });
    // The task only stops early for the server (an error it sent ends the stream
    // first): after whatever it buffered, tell the reader to come back.
    let feed = ReceiverStream::new(rx).chain(tokio_stream::once(Err(ended())));
    Ok(Box::pin(feed))
}
