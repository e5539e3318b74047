//! What a command executing in the writer reads: the store plus the after-images of
//! the commands before it in the same group, which are not in sled yet.

use std::collections::HashMap;

use uuid::Uuid;

use crate::pb::{self, stored_record::Kind};
use crate::store::{Store, StoreError, keyspace, record_key};

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
}
