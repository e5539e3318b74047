//! `PublisherService.WatchEvents`: the audit log as an event feed. Each stream has its
//! own task that reads committed entries from sled's copies and sends them through a
//! bounded channel. The writer only publishes its durable seq; a slow reader fills its
//! own channel, stops reading, and later catches up from the store, so it never holds
//! the writer back.

use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::status;
use crate::domain::{FieldViolation, validation};
use crate::pb;
use crate::store::Store;

/// Entries buffered per stream before its task waits for the reader.
const BUFFER: usize = 256;
pub const MAX_ARTICLE_FILTERS: usize = 1_000;
pub const MAX_ACTION_FILTERS: usize = 50;

pub type EventStream = ReceiverStream<Result<pb::WatchEventsResponse, Status>>;

struct Filter {
    article_ids: Vec<String>,
    actions: Vec<String>,
}

impl Filter {
    fn wants(&self, e: &pb::AuditEntry) -> bool {
        (self.article_ids.is_empty() || self.article_ids.contains(&e.article_id))
            && (self.actions.is_empty() || self.actions.contains(&e.action))
    }
}

fn check(req: &pb::WatchEventsRequest) -> Result<(), Status> {
    let mut v = Vec::new();
    if req.article_ids.len() > MAX_ARTICLE_FILTERS {
        v.push(FieldViolation::new(
            "article_ids",
            format!(
                "at most {MAX_ARTICLE_FILTERS} ids (got {})",
                req.article_ids.len()
            ),
        ));
    }
    for (i, id) in req.article_ids.iter().enumerate() {
        if !validation::is_article_id(id) {
            v.push(FieldViolation::new(
                format!("article_ids[{i}]"),
                "must be 1-128 letters, digits or . _ : / -",
            ));
        }
    }
    if req.actions.len() > MAX_ACTION_FILTERS {
        v.push(FieldViolation::new(
            "actions",
            format!(
                "at most {MAX_ACTION_FILTERS} actions (got {})",
                req.actions.len()
            ),
        ));
    }
    for (i, a) in req.actions.iter().enumerate() {
        if a.is_empty() || a.len() > 64 || !a.chars().all(|c| c.is_ascii_alphanumeric()) {
            v.push(FieldViolation::new(
                format!("actions[{i}]"),
                "an action is an RPC name such as DecideClaim or ExpireDeadline",
            ));
        }
    }
    status::check(v)
}

/// Starts the feed for one request. It ends when the reader goes away or the server
/// shuts down.
pub fn watch(
    store: Store,
    mut durable: watch::Receiver<u64>,
    mut shutdown: watch::Receiver<bool>,
    req: pb::WatchEventsRequest,
) -> Result<EventStream, Status> {
    check(&req)?;
    let filter = Filter {
        article_ids: req.article_ids,
        actions: req.actions,
    };
    let (tx, rx) = mpsc::channel(BUFFER);
    tokio::spawn(async move {
        let mut cursor = req.after_seq;
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
                        r = tx.send(Ok(pb::WatchEventsResponse { entry: Some(entry) })) => r.is_ok(),
                        _ = shutdown.changed() => false,
                    };
                    if !sent {
                        return;
                    }
                }
            }
            tokio::select! {
                changed = durable.changed() => if changed.is_err() { return },
                _ = shutdown.changed() => return,
                _ = tx.closed() => return,
            }
        }
    });
    Ok(ReceiverStream::new(rx))
}
