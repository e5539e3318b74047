//! The exports of `AuditService`: a period's statements of reasons in the DSA
//! Transparency Database's JSON, and its notices and counter-notices as Lumen
//! documents. The period becomes a seq range by binary search over sled's copies of
//! the audit entries (their times never decrease with seq); the entries themselves
//! are read from the journal, so that each restriction exports as its own entry left
//! the claim, even if a complaint changed the decision later. Results stream as they
//! are read. The mappings are `domain::dsa_statement` and `domain::lumen`.

use std::path::PathBuf;
use std::time::SystemTime;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;
use uuid::Uuid;

use super::events::BoxStream;
use super::status;
use crate::domain::dsa_statement::Found;
use crate::domain::{AuditAction, lumen, validation};
use crate::journal;
use crate::pb;
use crate::store::Store;

/// Responses buffered ahead of a slow reader.
const BUFFER: usize = 64;

/// A checked period: `[start, end)`; no end (none given, or one after now) runs to
/// the head of the log.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub start: Option<SystemTime>,
    pub end: Option<SystemTime>,
}

impl Period {
    /// The period a request asks for, or INVALID_ARGUMENT saying what is wrong.
    pub fn of(
        start: Option<prost_types::Timestamp>,
        end: Option<prost_types::Timestamp>,
        now: SystemTime,
    ) -> Result<Period, Status> {
        let time = |field: &str, t: Option<prost_types::Timestamp>| {
            status::check(validation::timestamp(field, t.as_ref()))?;
            t.map(|t| {
                SystemTime::try_from(t).map_err(|_| {
                    status::invalid_field(
                        field,
                        "not a valid timestamp, such as 2024-01-15T00:00:00Z",
                    )
                })
            })
            .transpose()
        };
        let start = time("start_time", start)?;
        let end = time("end_time", end)?;
        if let (Some(s), Some(e)) = (start, end)
            && s >= e
        {
            return Err(status::invalid_field(
                "end_time",
                "must be after start_time (the period is [start_time, end_time)); swap them or widen the period",
            ));
        }
        if start.is_some_and(|s| s > now) {
            return Err(status::invalid_field(
                "start_time",
                "is in the future: nothing has been journaled in this period yet; choose a start before now",
            ));
        }
        Ok(Period {
            start,
            end: end.filter(|e| *e <= now),
        })
    }
}

/// The entries `(after, up_to]` journaled within `period`, among the first `head`.
pub fn seq_range(store: &Store, period: Period, head: u64) -> Result<(u64, u64), Status> {
    let after = match period.start {
        Some(start) => first_at_or_after(store, start, head)? - 1,
        None => 0,
    };
    let up_to = match period.end {
        Some(end) => first_at_or_after(store, end, head)? - 1,
        None => head,
    };
    Ok((after, up_to.max(after)))
}

/// The first seq in `1..=head` whose entry's time is at or after `t`; `head + 1` if
/// none is.
fn first_at_or_after(store: &Store, t: SystemTime, head: u64) -> Result<u64, Status> {
    let (mut lo, mut hi) = (1u64, head + 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let entry = store.audit_entry(mid)?.ok_or_else(|| {
            Status::internal(format!(
                "audit entry {mid} is missing from the store; run `takedownd rebuild`"
            ))
        })?;
        let time = entry
            .time
            .and_then(|t| SystemTime::try_from(t).ok())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        if time < t {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

/// Reads the journal entries `(after, up_to]` on a blocking thread and streams what
/// `each` makes of them.
fn stream<T: Send + 'static>(
    dir: PathBuf,
    (after, up_to): (u64, u64),
    mut each: impl FnMut(&pb::JournalEntry) -> Result<Vec<T>, Status> + Send + 'static,
) -> BoxStream<T> {
    let (tx, rx) = mpsc::channel(BUFFER);
    tokio::task::spawn_blocking(move || {
        for entry in journal::read_entries(&dir, after, up_to) {
            let items = match entry {
                Ok(entry) => each(&entry),
                Err(e) => Err(Status::internal(format!("reading the journal: {e}"))),
            };
            let failed = items.is_err();
            for item in items.map_or_else(|e| vec![Err(e)], |v| v.into_iter().map(Ok).collect()) {
                if tx.blocking_send(item).is_err() {
                    return; // The caller went away.
                }
            }
            if failed {
                return;
            }
        }
    });
    Box::pin(ReceiverStream::new(rx))
}

/// The restrictions journaled in `range`, each with its submission record.
pub fn statements(
    store: Store,
    dir: PathBuf,
    range: (u64, u64),
) -> BoxStream<pb::ExportStatementsOfReasonsResponse> {
    stream(dir, range, move |entry| {
        let Some(found) = Found::in_entry(entry) else {
            return Ok(Vec::new());
        };
        let article = match found.article {
            Some(_) => None,
            None => store.article(&found.claim.article_id)?,
        };
        let submission = match Uuid::parse_str(&found.claim.id) {
            Ok(id) => store.submission(&id, found.seq)?,
            Err(_) => None,
        };
        Ok(vec![pb::ExportStatementsOfReasonsResponse {
            puid: found.puid(),
            claim_id: found.claim.id.clone(),
            seq: found.seq,
            statement_json: found.statement(article.as_ref()).to_string(),
            submission,
        }])
    })
}

/// The notices filed and counter-notices received in `range`, as Lumen documents of
/// the claims as they stand now (so that `action_taken` tells the outcome).
pub fn notices(
    store: Store,
    dir: PathBuf,
    range: (u64, u64),
) -> BoxStream<pb::ExportNoticesResponse> {
    stream(dir, range, move |entry| {
        let Some(audit) = &entry.audit else {
            return Ok(Vec::new());
        };
        let counter = if audit.action == AuditAction::FileClaim.as_str() {
            false
        } else if audit.action == AuditAction::FileCounterNotice.as_str() {
            true
        } else {
            return Ok(Vec::new());
        };
        let journaled = entry.records.iter().find_map(|r| match &r.kind {
            Some(pb::stored_record::Kind::Claim(c)) if c.id == audit.claim_id => Some(c.clone()),
            _ => None,
        });
        let current = match Uuid::parse_str(&audit.claim_id) {
            Ok(id) => store.claim(&id)?,
            Err(_) => None,
        };
        let Some(claim) = current.or(journaled) else {
            return Ok(Vec::new());
        };
        let article = store.article(&claim.article_id)?;
        let document = if counter {
            lumen::counter_notice(&claim, article.as_ref(), "")
        } else {
            Some(lumen::notice(&claim, article.as_ref(), ""))
        };
        Ok(document
            .map(|d| pb::ExportNoticesResponse {
                claim_id: claim.id.clone(),
                counter_notice: counter,
                document_json: d.to_string(),
            })
            .into_iter()
            .collect())
    })
}
