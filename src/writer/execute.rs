//! Turns one write command into the journal entry it implies, against the store as the
//! group being committed leaves it. A command that is refused produces nothing.

use std::collections::HashMap;
use std::time::SystemTime;

use uuid::Uuid;

use super::{WriteCommand, WriteError, Written, principals};
use crate::domain::{self, Policy, validation};
use crate::pb::{self, ClaimState, stored_record::Kind};
use crate::store::{Store, StoreError, keyspace};

/// The store plus what earlier commands of the current group changed.
pub(super) struct View<'a> {
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

    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// Remembers the after-images of an accepted command for later commands.
    pub fn remember(&mut self, records: &[pb::StoredRecord]) {
        for r in records {
            let key = crate::store::record_key(r);
            if let (Some(key), Some(kind)) = (key, r.kind.clone()) {
                self.pending.insert(key, kind);
            }
        }
    }

    fn claim(&self, id: &Uuid) -> Result<Option<pb::Claim>, StoreError> {
        match self.pending.get(&keyspace::claim(id)) {
            Some(Kind::Claim(c)) => Ok(Some(c.clone())),
            _ => self.store.claim(id),
        }
    }

    fn article(&self, id: &str) -> Result<Option<pb::Article>, StoreError> {
        match self.pending.get(&keyspace::article(id)) {
            Some(Kind::Article(a)) => Ok(Some(a.clone())),
            _ => self.store.article(id),
        }
    }

    fn article_by_url(&self, url: &str) -> Result<Option<pb::Article>, StoreError> {
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

    pub(super) fn principal(&self, id: &Uuid) -> Result<Option<pb::StoredPrincipal>, StoreError> {
        match self.pending.get(&keyspace::principal(id)) {
            Some(Kind::Principal(p)) => Ok(Some(p.clone())),
            _ => self.store.principal(id),
        }
    }

    fn idempotency_key(
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

/// What executing a command produced: the entry to journal (none for a no-op such as
/// an idempotent retry) and the answer for the caller.
pub(super) struct Executed {
    pub entry: Option<pb::JournalEntry>,
    pub written: Written,
}

pub(super) fn record(kind: Kind) -> pb::StoredRecord {
    pb::StoredRecord { kind: Some(kind) }
}

pub(super) fn audit(now: SystemTime, actor: &str, action: &str) -> pb::AuditEntry {
    pb::AuditEntry {
        time: Some(now.into()),
        actor: actor.to_string(),
        action: action.to_string(),
        ..Default::default()
    }
}

fn parse_claim_id(id: &str) -> Result<Uuid, WriteError> {
    Uuid::parse_str(id).map_err(|_| WriteError::NotFound {
        what: "claim",
        id: id.to_string(),
    })
}

/// Executes `command` as the entry with sequence number `seq` would.
pub(super) fn execute(
    view: &View<'_>,
    command: &WriteCommand,
    seq: u64,
    now: SystemTime,
    policy: &Policy,
) -> Result<Executed, WriteError> {
    let etag = seq.to_string();
    match command {
        WriteCommand::CreatePrincipal {
            display_name,
            roles,
            trusted_flagger,
            token_sha256,
            actor,
        } => Ok(principals::create(
            principals::NewPrincipal {
                display_name,
                roles,
                trusted_flagger: *trusted_flagger,
                token_sha256,
                actor,
            },
            now,
        )),
        WriteCommand::RevokePrincipal {
            principal_id,
            actor,
        } => principals::revoke(view, principal_id, actor, now),
        WriteCommand::SuspendPrincipal {
            principal_id,
            reason,
            until,
            actor,
        } => principals::suspend(view, principal_id, reason, *until, actor, now),
        WriteCommand::UnsuspendPrincipal {
            principal_id,
            reason,
            actor,
        } => principals::unsuspend(view, principal_id, reason, actor, now),
        WriteCommand::UpsertArticle { article, .. } => {
            if let Some(other) = view.article_by_url(&article.url)?
                && other.id != article.id
            {
                return Err(WriteError::UrlTaken {
                    url: article.url.clone(),
                    article_id: other.id,
                });
            }
            let existing = view.article(&article.id)?;
            let mut next = existing.clone().unwrap_or_else(|| pb::Article {
                id: article.id.clone(),
                revision: 1,
                create_time: Some(now.into()),
                ..Default::default()
            });
            next.url = article.url.clone();
            next.title = article.title.clone();
            next.source = article.source.clone();
            next.content_origin = article.content_origin;
            next.publish_time = article.publish_time;
            if let Some(old) = &existing
                && *old == next
            {
                return Ok(Executed {
                    entry: None,
                    written: Written::Article(next),
                });
            }
            domain::article_status::refresh(&mut next, now);
            let mut a = audit(now, command.actor(), "UpsertArticle");
            a.article_id = next.id.clone();
            a.detail = match existing {
                Some(_) => format!("article {} updated", next.id),
                None => format!("article {} registered at {}", next.id, next.url),
            };
            Ok(Executed {
                entry: Some(pb::JournalEntry {
                    audit: Some(a),
                    records: vec![record(Kind::Article(next.clone()))],
                }),
                written: Written::Article(next),
            })
        }
        WriteCommand::FileClaim {
            request_id,
            notice,
            filed_by,
        } => {
            let filer_id = Uuid::parse_str(filed_by).map_err(|_| WriteError::NotFound {
                what: "principal",
                id: filed_by.clone(),
            })?;
            if !request_id.is_empty()
                && let Some(key) = view.idempotency_key(&filer_id, request_id)?
            {
                let id = parse_claim_id(&key.claim_id)?;
                let claim = view.claim(&id)?.ok_or(WriteError::NotFound {
                    what: "claim",
                    id: key.claim_id.clone(),
                })?;
                return Ok(Executed {
                    entry: None,
                    written: Written::Claim {
                        claim,
                        article: None,
                    },
                });
            }
            // After the idempotency check: a retry of a claim filed before the
            // suspension still gets its first answer.
            let filer = view.principal(&filer_id)?.and_then(|p| p.principal);
            principals::check_may_file(filer.as_ref(), now)?;
            let article = if !notice.article_id.is_empty() {
                view.article(&notice.article_id)?
            } else {
                view.article_by_url(&notice.article_url)?
            };
            let Some(article) = article else {
                let v = validation::notice(notice);
                if !v.is_empty() {
                    return Err(domain::DomainError::Invalid(v).into());
                }
                return Err(WriteError::NotFound {
                    what: "article",
                    id: if notice.article_id.is_empty() {
                        notice.article_url.clone()
                    } else {
                        notice.article_id.clone()
                    },
                });
            };
            let id = Uuid::now_v7();
            // Claims of trusted flaggers (DSA Art. 22) go first in the review queue.
            let trusted_flagger = filer.as_ref().is_some_and(|p| p.trusted_flagger);
            let mut claim = domain::file_claim(
                notice,
                &article,
                filed_by,
                trusted_flagger,
                &id.to_string(),
                request_id,
                now,
                policy,
            )?;
            claim.etag = etag;
            let mut a = audit(now, filed_by, "FileClaim");
            a.claim_id = claim.id.clone();
            a.article_id = article.id.clone();
            a.to_state = ClaimState::Received as i32;
            a.request_id = request_id.clone();
            a.detail = format!(
                "claim filed under {} against article {}",
                claim.regime().as_str_name(),
                article.id
            );
            let mut records = vec![record(Kind::Claim(claim.clone()))];
            if !request_id.is_empty() {
                records.push(record(Kind::IdempotencyKey(pb::IdempotencyKey {
                    principal_id: filed_by.clone(),
                    request_id: request_id.clone(),
                    claim_id: claim.id.clone(),
                })));
            }
            Ok(Executed {
                entry: Some(pb::JournalEntry {
                    audit: Some(a),
                    records,
                }),
                written: Written::Claim {
                    claim,
                    article: None,
                },
            })
        }
        WriteCommand::Transition {
            claim_id,
            etag: expected,
            command,
            actor,
        } => {
            let id = parse_claim_id(claim_id)?;
            let claim = view.claim(&id)?.ok_or(WriteError::NotFound {
                what: "claim",
                id: claim_id.clone(),
            })?;
            if !expected.is_empty() && *expected != claim.etag {
                return Err(WriteError::EtagMismatch {
                    claim_id: claim_id.clone(),
                    current: claim.etag,
                });
            }
            let article = view.article(&claim.article_id)?.ok_or_else(|| {
                WriteError::Inconsistent(format!(
                    "claim {claim_id} names article {} which is not in the store",
                    claim.article_id
                ))
            })?;
            if matches!(command, domain::Command::FileComplaint { .. })
                && let Ok(actor_id) = Uuid::parse_str(actor.id())
            {
                // DSA Art. 23(2): a suspension covers complaints as well as notices.
                let complainant = view.principal(&actor_id)?.and_then(|p| p.principal);
                principals::check_may_file(complainant.as_ref(), now)?;
            }
            let t = domain::apply(&claim, &article, command, actor, now, policy)?;
            let mut next = t.claim;
            next.etag = etag;
            let mut a = audit(now, actor.id(), t.action);
            a.claim_id = next.id.clone();
            a.article_id = next.article_id.clone();
            a.from_state = claim.state;
            a.to_state = next.state;
            a.detail = t.detail;
            let mut records = vec![record(Kind::Claim(next.clone()))];
            let article = if t.article_changed {
                records.push(record(Kind::Article(t.article.clone())));
                Some(t.article)
            } else {
                None
            };
            Ok(Executed {
                entry: Some(pb::JournalEntry {
                    audit: Some(a),
                    records,
                }),
                written: Written::Claim {
                    claim: next,
                    article,
                },
            })
        }
    }
}
