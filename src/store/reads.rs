//! Reads for the request handlers: point lookups and one page of an index. A page
//! costs what its keys cost, not what the store holds.

use std::ops::Bound;

use uuid::Uuid;

use super::{Store, StoreError, keyspace};
use crate::pb;
use crate::pdata;

/// A raw scan of one index: where it starts, where it ends and how many keys it
/// returns. The store's listings build these (see `query.rs`); checks of the indexes
/// use them directly.
#[derive(Debug, Clone, Default)]
pub struct PageQuery {
    /// The last key of the previous page (from its token), or none for the first page.
    pub after: Option<Vec<u8>>,
    pub limit: usize,
    /// An exclusive upper bound on the keys, if the range ends before the prefix does.
    pub until: Option<Vec<u8>>,
}

/// One page: the items and, if more may follow, the key to continue after.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Vec<u8>>,
}

/// How many keys a filtered page may examine before it returns short. Keeps a page's
/// cost bounded when a filter rejects most of an index.
const SCAN_BUDGET: usize = 5_000;

impl Store {
    pub fn claim(&self, id: &Uuid) -> Result<Option<pb::Claim>, StoreError> {
        let mut c: Option<pb::Claim> = self.get(&keyspace::claim(id))?;
        if let (Some(v), Some(c)) = (self.vault(), c.as_mut()) {
            pdata::open_claim(v, c);
        }
        Ok(c)
    }

    /// A claim as stored, its personal fields sealed (for erasure and indexes).
    pub fn sealed_claim(&self, id: &Uuid) -> Result<Option<pb::Claim>, StoreError> {
        self.get(&keyspace::claim(id))
    }

    /// The erasure of `subject`, if it was erased.
    pub fn erased_subject(&self, subject: &[u8]) -> Result<Option<pb::ErasedSubject>, StoreError> {
        self.get(&keyspace::erased_subject(subject))
    }

    /// The ids of the claims that hold `subject`'s personal data.
    pub fn claims_of_subject(&self, subject: &[u8]) -> Result<Vec<Uuid>, StoreError> {
        let mut prefix = vec![keyspace::CLAIM_BY_SUBJECT];
        prefix.extend_from_slice(subject);
        let mut ids = Vec::new();
        for kv in self.db.scan_prefix(&prefix) {
            let (k, _) = kv?;
            if let Some(id) = keyspace::trailing_uuid(&k) {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// Claims closed for good at or after `from_secs` and before `until_secs`, with
    /// their close times, oldest first, at most `limit`.
    pub fn closed_claims(
        &self,
        from_secs: i64,
        until_secs: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Uuid)>, StoreError> {
        let start = keyspace::claim_closed_until(from_secs);
        let end = keyspace::claim_closed_until(until_secs);
        let mut out = Vec::new();
        for kv in self.db.range(start..end).take(limit) {
            let (k, _) = kv?;
            if let (Some(secs), Some(id)) =
                (keyspace::timer_due_secs(&k), keyspace::trailing_uuid(&k))
            {
                out.push((secs, id));
            }
        }
        Ok(out)
    }

    /// Every erasure (the subject and its erased key's fingerprint), for the key store
    /// to finish at start.
    pub fn erased_subjects(&self) -> Result<Vec<(pdata::Subject, Vec<u8>)>, StoreError> {
        let mut out = Vec::new();
        for kv in self.db.scan_prefix([keyspace::ERASED_SUBJECT]) {
            let (k, _) = kv?;
            if let (Ok(s), Some(e)) = (k[1..].try_into(), self.get::<pb::ErasedSubject>(&k)?) {
                out.push((s, e.key_check));
            }
        }
        Ok(out)
    }

    pub fn article(&self, id: &str) -> Result<Option<pb::Article>, StoreError> {
        let mut a: Option<pb::Article> = self.get(&keyspace::article(id))?;
        if let (Some(v), Some(a)) = (self.vault(), a.as_mut()) {
            pdata::open_article(v, a);
        }
        Ok(a)
    }

    pub fn article_by_url(&self, url: &str) -> Result<Option<pb::Article>, StoreError> {
        let prefix = keyspace::article_by_url_prefix(url);
        if let Some(kv) = self.db.scan_prefix(&prefix).next() {
            let (k, _) = kv?;
            if let Some(id) = keyspace::suffix_str(&k, prefix.len()) {
                return self.article(&id);
            }
        }
        Ok(None)
    }

    pub fn principal(&self, id: &Uuid) -> Result<Option<pb::StoredPrincipal>, StoreError> {
        self.get(&keyspace::principal(id))
    }

    /// The record of a party (its key normalised), if anything was counted about it.
    pub fn party_record(&self, key: &pb::PartyKey) -> Result<Option<pb::PartyRecord>, StoreError> {
        let key = match self.vault() {
            Some(v) => pdata::party_key_ref(v, key),
            None => key.clone(),
        };
        let mut r: Option<pb::PartyRecord> = match keyspace::party(&key) {
            Some(k) => self.get(&k)?,
            None => None,
        };
        if let (Some(v), Some(r)) = (self.vault(), r.as_mut()) {
            pdata::open_party_record(v, r);
        }
        Ok(r)
    }

    pub fn principal_by_token(
        &self,
        sha256: &[u8],
    ) -> Result<Option<pb::StoredPrincipal>, StoreError> {
        match self.db.get(keyspace::token(sha256))? {
            Some(id) => match Uuid::from_slice(&id) {
                Ok(id) => self.principal(&id),
                Err(_) => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// The claim token whose SHA-256 is `sha256`, if it is the current one of its
    /// (claim, party).
    pub fn claim_token_by_hash(&self, sha256: &[u8]) -> Result<Option<pb::ClaimToken>, StoreError> {
        match self.db.get(keyspace::claim_token_by_hash(sha256))? {
            Some(key) => self.get(&key),
            None => Ok(None),
        }
    }

    pub fn notification(&self, id: &Uuid) -> Result<Option<pb::Notification>, StoreError> {
        let mut n: Option<pb::Notification> = self.get(&keyspace::notification(id))?;
        if let (Some(v), Some(n)) = (self.vault(), n.as_mut()) {
            pdata::open_notification(v, n);
        }
        Ok(n)
    }

    /// PENDING notifications whose next attempt is due before `until_secs`
    /// (exclusive), soonest first, at most `limit`: the delivery worker's queue.
    pub fn due_notifications(
        &self,
        until_secs: i64,
        limit: usize,
    ) -> Result<Vec<pb::Notification>, StoreError> {
        let start = vec![keyspace::NOTIFICATION_DUE];
        let end = keyspace::notification_due_until(until_secs);
        let mut due = Vec::new();
        for kv in self.db.range(start..end).take(limit) {
            let (k, _) = kv?;
            if let Some(id) = keyspace::trailing_uuid(&k)
                && let Some(n) = self.notification(&id)?
            {
                due.push(n);
            }
        }
        Ok(due)
    }

    /// The submission of the statement of the decision journaled at `seq` on `claim`.
    pub fn submission(
        &self,
        claim: &Uuid,
        seq: u64,
    ) -> Result<Option<pb::StatementSubmission>, StoreError> {
        self.get(&keyspace::submission(claim, seq))
    }

    /// PENDING submissions due before `until_secs` (exclusive), soonest first, at most
    /// `limit`.
    pub fn due_submissions(
        &self,
        until_secs: i64,
        limit: usize,
    ) -> Result<Vec<pb::StatementSubmission>, StoreError> {
        let start = vec![keyspace::SUBMISSION_DUE];
        let end = keyspace::submission_due_until(until_secs);
        let mut due = Vec::new();
        for kv in self.db.range(start..end).take(limit) {
            let (k, _) = kv?;
            if let Some(key) = keyspace::submission_of_due(&k)
                && let Some(s) = self.get(&key)?
            {
                due.push(s);
            }
        }
        Ok(due)
    }

    /// When the soonest PENDING notification is next tried (seconds since the epoch),
    /// if any is pending.
    pub fn next_notification_due(&self) -> Result<Option<i64>, StoreError> {
        match self.db.scan_prefix([keyspace::NOTIFICATION_DUE]).next() {
            Some(kv) => {
                let (k, _) = kv?;
                Ok(keyspace::timer_due_secs(&k))
            }
            None => Ok(None),
        }
    }

    /// How many notifications are in `status`, for the gauges at start.
    pub fn count_notifications_in_status(&self, status: i32) -> Result<u64, StoreError> {
        let mut n = 0;
        for kv in self
            .db
            .scan_prefix(keyspace::notification_by_status_prefix(status))
        {
            kv?;
            n += 1;
        }
        Ok(n)
    }

    pub fn has_principals(&self) -> Result<bool, StoreError> {
        Ok(self.db.scan_prefix([keyspace::PRINCIPAL]).next().is_some())
    }

    pub fn idempotency_key(
        &self,
        principal: &Uuid,
        request_id: &str,
    ) -> Result<Option<pb::IdempotencyKey>, StoreError> {
        self.get(&keyspace::idempotency(principal, request_id))
    }

    pub fn audit_entry(&self, seq: u64) -> Result<Option<pb::AuditEntry>, StoreError> {
        self.get(&keyspace::audit(seq))
    }

    /// One page of the keys under `prefix`, each turned into an item by `load` (which
    /// may skip a key by returning `None`). A position outside `prefix` starts at its
    /// first key.
    pub fn page<T>(
        &self,
        prefix: &[u8],
        query: &PageQuery,
        mut load: impl FnMut(&Store, &[u8]) -> Result<Option<T>, StoreError>,
    ) -> Result<Page<T>, StoreError> {
        let start = match &query.after {
            Some(after) if after.starts_with(prefix) => Bound::Excluded(after.clone()),
            _ => Bound::Included(prefix.to_vec()),
        };
        let mut items = Vec::new();
        let mut last: Option<Vec<u8>> = None;
        let keys = self.db.range::<Vec<u8>, _>((start, Bound::Unbounded));
        for (scanned, kv) in keys.enumerate() {
            let (k, _) = kv?;
            let past_until = query
                .until
                .as_ref()
                .is_some_and(|u| k.as_ref() >= u.as_slice());
            if !k.starts_with(prefix) || past_until {
                return Ok(Page { items, next: None });
            }
            if items.len() == query.limit || scanned == SCAN_BUDGET {
                // More keys remain: continue after the last one examined.
                return Ok(Page { items, next: last });
            }
            if let Some(item) = load(self, &k)? {
                items.push(item);
            }
            last = Some(k.to_vec());
        }
        Ok(Page { items, next: None })
    }

    /// [`Store::page`] backwards: from the last key under `prefix` (or the one before
    /// `query.after`) towards the first, for newest-first listings.
    pub fn page_rev<T>(
        &self,
        prefix: &[u8],
        query: &PageQuery,
        mut load: impl FnMut(&Store, &[u8]) -> Result<Option<T>, StoreError>,
    ) -> Result<Page<T>, StoreError> {
        let end = match &query.after {
            Some(after) if after.starts_with(prefix) => Bound::Excluded(after.clone()),
            _ => match prefix_end(prefix) {
                Some(end) => Bound::Excluded(end),
                None => Bound::Unbounded,
            },
        };
        let mut items = Vec::new();
        let mut last: Option<Vec<u8>> = None;
        let keys = self
            .db
            .range::<Vec<u8>, _>((Bound::Included(prefix.to_vec()), end))
            .rev();
        for (scanned, kv) in keys.enumerate() {
            let (k, _) = kv?;
            if items.len() == query.limit || scanned == SCAN_BUDGET {
                return Ok(Page { items, next: last });
            }
            if let Some(item) = load(self, &k)? {
                items.push(item);
            }
            last = Some(k.to_vec());
        }
        Ok(Page { items, next: None })
    }

    /// Claims with a timed transition due before `until_secs` (exclusive), most
    /// overdue first, at most `limit`.
    pub fn due_timers(&self, until_secs: i64, limit: usize) -> Result<Vec<Uuid>, StoreError> {
        let start = vec![keyspace::CLAIM_TIMER];
        let end = keyspace::claim_timer_until(until_secs);
        let mut ids = Vec::new();
        for kv in self.db.range(start..end).take(limit) {
            let (k, _) = kv?;
            if let Some(id) = keyspace::trailing_uuid(&k) {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// How many claims are in `state`: counts the keys of the state index, for the
    /// claims-by-state gauge at start.
    pub fn count_claims_in_state(&self, state: i32) -> Result<u64, StoreError> {
        let mut n = 0;
        for kv in self.db.scan_prefix(keyspace::claim_by_state_prefix(state)) {
            kv?;
            n += 1;
        }
        Ok(n)
    }
}

/// The first key after every key that starts with `prefix`, or `None` if there is no
/// such key (a prefix of 0xFF bytes).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}
