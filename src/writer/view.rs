//! What a command executing in the writer reads: the store plus the after-images of
//! the commands before it in the same group, which are not in sled yet.

use std::collections::HashMap;

use uuid::Uuid;

use crate::domain::transitions::Stage;
use crate::pb::{self, stored_record::Kind};
use crate::store::{ClaimQuery, PagePosition, Store, StoreError, keyspace, record_key};

/// The store plus what earlier commands of the current group changed.
pub struct View<'a> {
    store: &'a Store,
    pending: HashMap<Vec<u8>, Kind>,
}

impl<'a> View<'a> {
    pub fn new(store: &'a Store) -> Self {
        Self {
            store,
            pending: HashMap::new(),
        }
    }

    /// Remembers the after-images of an accepted command for later commands.
    pub fn remember(&mut self, records: &[pb::StoredRecord]) {
        for r in records {
            if let (Some(key), Some(kind)) = (record_key(r), r.kind.clone()) {
                self.pending.insert(key, kind);
            }
        }
    }

    pub fn claim(&self, id: &Uuid) -> Result<Option<pb::Claim>, StoreError> {
        match self.pending.get(&keyspace::claim(id)) {
            Some(Kind::Claim(c)) => Ok(Some(c.clone())),
            _ => self.store.claim(id),
        }
    }

    pub fn article(&self, id: &str) -> Result<Option<pb::Article>, StoreError> {
        match self.pending.get(&keyspace::article(id)) {
            Some(Kind::Article(a)) => Ok(Some(a.clone())),
            _ => self.store.article(id),
        }
    }

    pub fn article_by_url(&self, url: &str) -> Result<Option<pb::Article>, StoreError> {
        let pending = self.pending.values().find_map(|k| match k {
            Kind::Article(a) if a.url == url => Some(a.clone()),
            _ => None,
        });
        match pending {
            Some(a) => Ok(Some(a)),
            None => match self.store.article_by_url(url)? {
                // The stored mapping may be stale if this group moved the article.
                Some(a) => Ok(self.article(&a.id)?.filter(|a| a.url == url)),
                None => Ok(None),
            },
        }
    }

    pub fn principal(&self, id: &Uuid) -> Result<Option<pb::StoredPrincipal>, StoreError> {
        match self.pending.get(&keyspace::principal(id)) {
            Some(Kind::Principal(p)) => Ok(Some(p.clone())),
            _ => self.store.principal(id),
        }
    }

    /// The claims holding `subject`'s personal data (stored ones; a claim filed in this
    /// group is not erased by it).
    pub fn claims_of_subject(
        &self,
        subject: &crate::pdata::Subject,
    ) -> Result<Vec<Uuid>, StoreError> {
        self.store.claims_of_subject(subject)
    }

    /// Whether `subject`'s personal data is being erased in this group: nothing is
    /// sealed for it again until the group is committed and the key deleted.
    pub fn erased(&self, subject: &crate::pdata::Subject) -> bool {
        let key = crate::store::keyspace::erased_subject(subject);
        matches!(self.pending.get(&key), Some(Kind::ErasedSubject(_)))
    }

    /// The key store personal data is sealed with.
    pub fn vault(&self) -> Option<&crate::pdata::Vault> {
        self.store.vault()
    }

    /// The fingerprint of `subject`'s current data key, if it has one.
    pub fn key_check(&self, subject: &crate::pdata::Subject) -> Option<[u8; 8]> {
        self.store.vault().and_then(|v| v.key_check(subject))
    }

    pub fn notification(&self, id: &Uuid) -> Result<Option<pb::Notification>, StoreError> {
        match self.pending.get(&keyspace::notification(id)) {
            Some(Kind::Notification(n)) => Ok(Some(n.clone())),
            _ => self.store.notification(id),
        }
    }

    pub fn submission(
        &self,
        claim: &Uuid,
        seq: u64,
    ) -> Result<Option<pb::StatementSubmission>, StoreError> {
        match self.pending.get(&keyspace::submission(claim, seq)) {
            Some(Kind::StatementSubmission(s)) => Ok(Some(s.clone())),
            _ => self.store.submission(claim, seq),
        }
    }

    /// A party's record (its key normalised), if anything was counted about it.
    pub fn party_record(&self, key: &pb::PartyKey) -> Result<Option<pb::PartyRecord>, StoreError> {
        match keyspace::party(key).map(|k| self.pending.get(&k)) {
            Some(Some(Kind::PartyRecord(r))) => Ok(Some(r.clone())),
            _ => self.store.party_record(key),
        }
    }

    pub fn idempotency_key(
        &self,
        principal: &Uuid,
        request_id: &str,
    ) -> Result<Option<pb::IdempotencyKey>, StoreError> {
        match self
            .pending
            .get(&keyspace::idempotency(principal, request_id))
        {
            Some(Kind::IdempotencyKey(k)) => Ok(Some(k.clone())),
            _ => self.store.idempotency_key(principal, request_id),
        }
    }

    /// The ids of the open claims (not yet settled) against an article, at most
    /// `limit` of them, as of `now`.
    pub fn open_claims_of_article(
        &self,
        article_id: &str,
        limit: usize,
        now: std::time::SystemTime,
    ) -> Result<Vec<String>, StoreError> {
        let query = ClaimQuery {
            article_id: Some(article_id.to_string()),
            ..Default::default()
        };
        let mut ids = Vec::new();
        let mut position = PagePosition {
            after: None,
            limit: 256,
        };
        loop {
            let page = self.store.list_claims(&query, &position, now)?;
            for stored in page.items {
                let Ok(id) = Uuid::parse_str(&stored.id) else {
                    continue;
                };
                let claim = self.claim(&id)?.unwrap_or(stored);
                if Stage::of(&claim).is_some_and(Stage::is_open) {
                    ids.push(claim.id);
                    if ids.len() == limit {
                        return Ok(ids);
                    }
                }
            }
            match page.next {
                Some(next) => position.after = Some(next),
                None => return Ok(ids),
            }
        }
    }

    /// Whether any admin other than `except` can still act: not revoked and not
    /// suspended at `now`. Principals are few, so this reads them all.
    pub fn another_active_admin(
        &self,
        except: &Uuid,
        now: std::time::SystemTime,
    ) -> Result<bool, StoreError> {
        let mut position = PagePosition {
            after: None,
            limit: 256,
        };
        loop {
            let page = self.store.list_principals(&position)?;
            for stored in page.items {
                let Ok(id) = Uuid::parse_str(&stored.id) else {
                    continue;
                };
                if id == *except {
                    continue;
                }
                let p = self
                    .principal(&id)?
                    .and_then(|p| p.principal)
                    .unwrap_or(stored);
                let admin = p.roles().any(|r| r == pb::Role::Admin);
                let suspended = p
                    .suspended_until
                    .and_then(|t| std::time::SystemTime::try_from(t).ok())
                    .is_some_and(|until| until > now);
                if admin && !p.revoked && !suspended {
                    return Ok(true);
                }
            }
            match page.next {
                Some(next) => position.after = Some(next),
                None => return Ok(false),
            }
        }
    }
}
