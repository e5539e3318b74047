//! The store's listings: typed filters and a page position in, one page out. The
//! store picks the index a listing reads (the narrowest its filters allow), builds
//! every key, and checks the filters the index does not cover on each record. Callers
//! never see a key: a page position is opaque bytes that they hand back unchanged.

use std::time::SystemTime;

use uuid::Uuid;

use super::{Page, PageQuery, Store, StoreError, keyspace};
use crate::pb;

/// Where a listing resumes and how long its page may be. `after` is a previous page's
/// `next`, as it was returned; none starts at the beginning.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PagePosition {
    pub after: Option<Vec<u8>>,
    pub limit: usize,
}

/// The order of a claim listing when no narrower filter decides it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClaimOrder {
    /// Filing order (claim ids are UUID v7).
    #[default]
    Filing,
    /// The review queue: trusted flaggers' claims first (DSA Art. 22), then filing
    /// order.
    Queue,
    /// By next deadline, soonest (most overdue) first.
    Deadline,
}

/// Which claims to list. Filters combine with AND.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClaimQuery {
    pub state: Option<pb::ClaimState>,
    pub article_id: Option<String>,
    pub assignee: Option<Uuid>,
    /// Only the claims this principal filed: what a claimant may list.
    pub filed_by: Option<Uuid>,
    /// Only claims whose next deadline has passed (at the `now` of the listing).
    pub overdue: bool,
    pub order: ClaimOrder,
}

/// Whose audit entries to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum AuditSubject {
    #[default]
    Everything,
    Claim(Uuid),
    Article(String),
}

/// Which audit entries to list: those about `subject` with a seq after `after_seq`,
/// in seq order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    pub subject: AuditSubject,
    pub after_seq: u64,
}

/// Which notifications to list, newest first. Filters combine with AND.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NotificationQuery {
    pub claim_id: Option<Uuid>,
    pub status: Option<pb::NotificationStatus>,
    pub kind: Option<pb::NotificationKind>,
}

/// A byte encoding of a query's filters in which two different queries never
/// coincide: a kind, then every field in order as a presence byte and a
/// length-prefixed value. Page tokens are bound to it.
struct Canonical(Vec<u8>);

impl Canonical {
    fn new(kind: &str) -> Self {
        let mut c = Canonical(Vec::new());
        c.field(Some(kind));
        c
    }

    fn field(&mut self, value: Option<impl AsRef<[u8]>>) -> &mut Self {
        match value {
            None => self.0.push(0),
            Some(v) => {
                let v = v.as_ref();
                self.0.push(1);
                self.0.extend_from_slice(&(v.len() as u64).to_be_bytes());
                self.0.extend_from_slice(v);
            }
        }
        self
    }
}

impl ClaimQuery {
    /// The canonical encoding of these filters (see [`Canonical`]).
    pub fn canonical(&self) -> Vec<u8> {
        // Destructured, so that a new field cannot be left out of the encoding.
        let ClaimQuery {
            state,
            article_id,
            assignee,
            filed_by,
            overdue,
            order,
        } = self;
        let order = match order {
            ClaimOrder::Filing => b"filing".as_slice(),
            ClaimOrder::Queue => b"queue",
            ClaimOrder::Deadline => b"deadline",
        };
        let mut c = Canonical::new("claims");
        c.field(state.map(|s| (s as i32).to_be_bytes()))
            .field(article_id.as_deref())
            .field(assignee.map(|a| *a.as_bytes()))
            .field(filed_by.map(|f| *f.as_bytes()))
            .field(Some([*overdue as u8]))
            .field(Some(order));
        c.0
    }

    /// The index this listing reads and, for overdue claims in deadline order, where
    /// it stops. The narrowest index the filters allow; the others are checked on
    /// each claim.
    fn index(&self, now_secs: i64) -> (Vec<u8>, Option<Vec<u8>>) {
        let unfiltered = self.filed_by.is_none()
            && self.article_id.is_none()
            && self.assignee.is_none()
            && self.state.is_none();
        if self.order == ClaimOrder::Deadline || (self.overdue && unfiltered) {
            // In due order: overdue claims are the ones before now.
            let until = self
                .overdue
                .then(|| keyspace::claim_by_deadline_until(now_secs));
            return (vec![keyspace::CLAIM_BY_DEADLINE], until);
        }
        let prefix = if let Some(own) = &self.filed_by {
            keyspace::claim_by_claimant_prefix(own)
        } else if let Some(article) = &self.article_id {
            keyspace::claim_by_article_prefix(article)
        } else if let Some(assignee) = &self.assignee {
            keyspace::claim_by_assignee_prefix(assignee)
        } else if let Some(state) = self.state {
            keyspace::claim_by_state_prefix(state as i32)
        } else if self.order == ClaimOrder::Queue {
            keyspace::claim_queue_prefix()
        } else {
            vec![keyspace::CLAIM]
        };
        (prefix, None)
    }
}

impl NotificationQuery {
    /// The canonical encoding of these filters (see [`Canonical`]).
    pub fn canonical(&self) -> Vec<u8> {
        let NotificationQuery {
            claim_id,
            status,
            kind,
        } = self;
        let mut c = Canonical::new("notifications");
        c.field(claim_id.map(|id| *id.as_bytes()))
            .field(status.map(|s| (s as i32).to_be_bytes()))
            .field(kind.map(|k| (k as i32).to_be_bytes()));
        c.0
    }

    /// The index this listing reads: the claim's, else the status's, else all.
    fn index(&self) -> Vec<u8> {
        if let Some(claim) = &self.claim_id {
            keyspace::notification_by_claim_prefix(claim)
        } else if let Some(status) = self.status {
            keyspace::notification_by_status_prefix(status as i32)
        } else {
            vec![keyspace::NOTIFICATION]
        }
    }
}

/// Whether the claim's next deadline has passed at `now_secs`.
fn is_overdue(claim: &pb::Claim, now_secs: i64) -> bool {
    claim
        .next_deadline
        .as_ref()
        .and_then(|d| d.due_time)
        .is_some_and(|due| due.seconds < now_secs)
}

impl AuditQuery {
    /// The canonical encoding of these filters (see [`Canonical`]).
    pub fn canonical(&self) -> Vec<u8> {
        let AuditQuery { subject, after_seq } = self;
        let mut c = Canonical::new("audit");
        match subject {
            AuditSubject::Everything => c.field(None::<&[u8]>).field(None::<&[u8]>),
            AuditSubject::Claim(id) => c.field(Some(id.as_bytes())).field(None::<&[u8]>),
            AuditSubject::Article(id) => c.field(None::<&[u8]>).field(Some(id)),
        };
        c.field(Some(after_seq.to_be_bytes()));
        c.0
    }

    /// The index this listing reads, and its key for `seq` (entries sort by seq
    /// within each index).
    fn index(&self, seq: u64) -> (Vec<u8>, Vec<u8>) {
        match &self.subject {
            AuditSubject::Everything => (vec![keyspace::AUDIT], keyspace::audit(seq)),
            AuditSubject::Claim(id) => (
                keyspace::audit_by_claim_prefix(id),
                keyspace::audit_by_claim(id, seq),
            ),
            AuditSubject::Article(id) => (
                keyspace::audit_by_article_prefix(id),
                keyspace::audit_by_article(id, seq),
            ),
        }
    }
}

/// The scan of `prefix` that continues `position`, starting no earlier than after
/// `floor`. A position from another index is refused rather than silently restarted.
fn resume(
    prefix: &[u8],
    position: &PagePosition,
    floor: Option<Vec<u8>>,
    until: Option<Vec<u8>>,
) -> Result<PageQuery, StoreError> {
    if let Some(after) = &position.after
        && !after.starts_with(prefix)
    {
        return Err(StoreError::ForeignPosition);
    }
    let after = match (position.after.clone(), floor) {
        (Some(a), Some(f)) => Some(a.max(f)),
        (a, f) => a.or(f),
    };
    Ok(PageQuery {
        after,
        limit: position.limit,
        until,
    })
}

impl Store {
    /// One page of the claims `query` selects, in the order of the index it reads.
    /// `now` decides which claims are overdue.
    pub fn list_claims(
        &self,
        query: &ClaimQuery,
        position: &PagePosition,
        now: SystemTime,
    ) -> Result<Page<pb::Claim>, StoreError> {
        let now_secs = prost_types::Timestamp::from(now).seconds;
        let (prefix, until) = query.index(now_secs);
        let scan = resume(&prefix, position, None, until)?;
        let state = query.state.map(|s| s as i32);
        let assignee = query.assignee.map(|a| a.to_string());
        let filed_by = query.filed_by.map(|f| f.to_string());
        self.page(&prefix, &scan, |store, key| {
            let Some(id) = keyspace::trailing_uuid(key) else {
                return Ok(None);
            };
            Ok(store.claim(&id)?.filter(|c| {
                state.is_none_or(|s| c.state == s)
                    && query.article_id.as_ref().is_none_or(|a| c.article_id == *a)
                    && assignee.as_ref().is_none_or(|a| c.assignee == *a)
                    && filed_by.as_ref().is_none_or(|f| c.filed_by == *f)
                    && (!query.overdue || is_overdue(c, now_secs))
            }))
        })
    }

    /// One page of the audit entries `query` selects, in seq order.
    pub fn list_audit_entries(
        &self,
        query: &AuditQuery,
        position: &PagePosition,
    ) -> Result<Page<pb::AuditEntry>, StoreError> {
        let (prefix, from) = query.index(query.after_seq);
        // Seq order is key order within an index: start right after `after_seq`.
        let floor = (query.after_seq > 0).then_some(from);
        let scan = resume(&prefix, position, floor, None)?;
        self.page(&prefix, &scan, |store, key| {
            match keyspace::trailing_seq(key) {
                Some(seq) if seq > query.after_seq => store.audit_entry(seq),
                _ => Ok(None),
            }
        })
    }

    /// One page of the notifications `query` selects, newest first (ids are UUID v7).
    pub fn list_notifications(
        &self,
        query: &NotificationQuery,
        position: &PagePosition,
    ) -> Result<Page<pb::Notification>, StoreError> {
        let prefix = query.index();
        let scan = resume(&prefix, position, None, None)?;
        let status = query.status.map(|s| s as i32);
        let kind = query.kind.map(|k| k as i32);
        self.page_rev(&prefix, &scan, |store, key| {
            let Some(id) = keyspace::trailing_uuid(key) else {
                return Ok(None);
            };
            Ok(store.notification(&id)?.filter(|n| {
                status.is_none_or(|s| n.status == s) && kind.is_none_or(|k| n.kind == k)
            }))
        })
    }

    /// One page of principals, oldest first.
    pub fn list_principals(
        &self,
        position: &PagePosition,
    ) -> Result<Page<pb::Principal>, StoreError> {
        let prefix = [keyspace::PRINCIPAL];
        let scan = resume(&prefix, position, None, None)?;
        self.page(&prefix, &scan, |store, key| {
            Ok(store
                .get::<pb::StoredPrincipal>(key)?
                .and_then(|p| p.principal))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn different_filters_encode_differently() {
        let article = |id: &str| ClaimQuery {
            article_id: Some(id.to_string()),
            ..Default::default()
        };
        let queries = [
            ClaimQuery::default(),
            article("a"),
            article("ab"),
            ClaimQuery {
                state: Some(pb::ClaimState::Received),
                ..Default::default()
            },
            ClaimQuery {
                overdue: true,
                ..Default::default()
            },
            ClaimQuery {
                order: ClaimOrder::Queue,
                ..Default::default()
            },
            ClaimQuery {
                assignee: Some(Uuid::nil()),
                ..Default::default()
            },
            ClaimQuery {
                filed_by: Some(Uuid::nil()),
                ..Default::default()
            },
        ];
        let encoded: std::collections::HashSet<_> =
            queries.iter().map(ClaimQuery::canonical).collect();
        assert_eq!(encoded.len(), queries.len());
        assert_eq!(article("a").canonical(), article("a").canonical());

        let audits = [
            AuditQuery::default(),
            AuditQuery {
                after_seq: 3,
                ..Default::default()
            },
            AuditQuery {
                subject: AuditSubject::Claim(Uuid::nil()),
                after_seq: 0,
            },
            AuditQuery {
                subject: AuditSubject::Article("a".into()),
                after_seq: 0,
            },
        ];
        let encoded: std::collections::HashSet<_> =
            audits.iter().map(AuditQuery::canonical).collect();
        assert_eq!(encoded.len(), audits.len());
        assert!(!encoded.contains(&ClaimQuery::default().canonical()));
    }

    #[test]
    fn the_narrowest_index_is_read() {
        let own = Uuid::now_v7();
        let everything = ClaimQuery {
            filed_by: Some(own),
            article_id: Some("a".into()),
            state: Some(pb::ClaimState::Received),
            overdue: true,
            ..Default::default()
        };
        assert_eq!(
            everything.index(0),
            (keyspace::claim_by_claimant_prefix(&own), None)
        );
        let overdue = ClaimQuery {
            overdue: true,
            ..Default::default()
        };
        assert_eq!(
            overdue.index(100),
            (
                vec![keyspace::CLAIM_BY_DEADLINE],
                Some(keyspace::claim_by_deadline_until(100))
            )
        );
        let queue = ClaimQuery {
            order: ClaimOrder::Queue,
            ..Default::default()
        };
        assert_eq!(queue.index(0), (keyspace::claim_queue_prefix(), None));
        assert_eq!(
            ClaimQuery::default().index(0),
            (vec![keyspace::CLAIM], None)
        );
    }

    #[test]
    fn a_position_from_another_index_is_refused() {
        let position = PagePosition {
            after: Some(keyspace::claim(&Uuid::now_v7())),
            limit: 10,
        };
        assert!(matches!(
            resume(&keyspace::claim_queue_prefix(), &position, None, None),
            Err(StoreError::ForeignPosition)
        ));
        let floor = keyspace::audit(5);
        let early = PagePosition {
            after: Some(keyspace::audit(2)),
            limit: 10,
        };
        let scan = resume(&[keyspace::AUDIT], &early, Some(floor.clone()), None).unwrap();
        assert_eq!(scan.after, Some(floor), "never before after_seq");
    }
}
