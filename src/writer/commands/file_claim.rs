//! FileClaim: a claimant's notice becomes a claim. A retry with the same `request_id`
//! answers the first claim and writes nothing (AIP-155); a suspended filer is refused
//! (DSA Art. 23); trusted flaggers' claims go first in the queue (Art. 22).

use prost::Message;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::super::{Exec, Executed, WriteCommand, WriteError};
use super::principals::check_may_file;
use super::{outbox, parties};
use crate::domain::notifications::Change;
use crate::domain::{self, Notice};
use crate::domain::{AuditAction, party_record};
use crate::pb::{self, ClaimState, stored_record::Kind};

#[derive(Debug, Clone)]
pub struct FileClaim {
    /// The caller's idempotency key; empty for none.
    pub request_id: String,
    pub notice: Notice,
    /// A principal's id, or for a notice without an account its notifier's id
    /// (`Notice::notifier_id`).
    pub filed_by: Uuid,
    /// For a notice without an account: the hash of the notifier's new claim token,
    /// stored with the claim.
    pub notifier_token_sha256: Option<[u8; 32]>,
}

/// What FileClaim answers: the claim, and whether this call created it (a retry
/// answers the first claim).
#[derive(Debug, Clone)]
pub struct FiledClaim {
    pub claim: pb::Claim,
    pub created: bool,
}

impl WriteCommand for FileClaim {
    type Reply = FiledClaim;

    fn execute(&self, cx: &Exec<'_>) -> Result<Executed<FiledClaim>, WriteError> {
        let filed_by = self.filed_by.to_string();
        let digest: [u8; 32] = Sha256::digest(self.notice.get().encode_to_vec()).into();
        if !self.request_id.is_empty()
            && let Some(key) = cx.view.idempotency_key(&self.filed_by, &self.request_id)?
        {
            if !key.request_sha256.is_empty() && key.request_sha256 != digest {
                // AIP-155: a request_id names one request; a different body under it is
                // a client bug, not a retry.
                return Err(WriteError::RequestIdReused {
                    request_id: self.request_id.clone(),
                    claim_id: key.claim_id,
                });
            }
            let inconsistent = || {
                WriteError::Inconsistent(format!("idempotency key names claim {}", key.claim_id))
            };
            let id = Uuid::parse_str(&key.claim_id).map_err(|_| inconsistent())?;
            let claim = cx.view.claim(&id)?.ok_or_else(inconsistent)?;
            return Ok(Executed::unchanged(FiledClaim {
                claim,
                created: false,
            }));
        }
        // After the idempotency check: a retry of a claim filed before the suspension
        // still gets its first answer.
        let filer = cx.view.principal(&self.filed_by)?.and_then(|p| p.principal);
        check_may_file(filer.as_ref(), cx.now)?;
        let notice = self.notice.get();
        let email = notice.claimant.as_ref().map_or("", |c| c.email.as_str());
        parties::check_email_may_file(cx, email)?;
        let article = if !notice.article_id.is_empty() {
            cx.view.article(&notice.article_id)?
        } else {
            cx.view.article_by_url(&notice.article_url)?
        };
        let Some(article) = article else {
            return Err(WriteError::NotFound {
                what: "article",
                id: if notice.article_id.is_empty() {
                    notice.article_url.clone()
                } else {
                    notice.article_id.clone()
                },
            });
        };
        let trusted_flagger = filer.as_ref().is_some_and(|p| p.trusted_flagger);
        let mut claim = domain::file_claim(
            &self.notice,
            &article,
            &filed_by,
            trusted_flagger,
            &cx.new_id().to_string(),
            &self.request_id,
            cx.now,
            cx.policy,
        )?;
        claim.etag = cx.etag();
        let mut a = cx.audit(&filed_by, AuditAction::FileClaim);
        a.claim_id = claim.id.clone();
        a.article_id = article.id.clone();
        a.to_state = ClaimState::Received as i32;
        a.request_id = self.request_id.clone();
        a.detail = format!(
            "claim filed under {} against article {}",
            claim.regime().as_str_name(),
            article.id
        );
        let mut records = vec![Kind::Claim(claim.clone())];
        if !self.request_id.is_empty() {
            records.push(Kind::IdempotencyKey(pb::IdempotencyKey {
                principal_id: filed_by,
                request_id: self.request_id.clone(),
                claim_id: claim.id.clone(),
                request_sha256: digest.to_vec(),
            }));
        }
        let moves = party_record::counts(None, &claim, AuditAction::FileClaim);
        records.extend(parties::counted(cx, moves)?);
        records.extend(outbox::notifications(cx, Change::Filed, &claim, &article)?);
        if let Some(sha256) = self.notifier_token_sha256 {
            records.push(Kind::ClaimToken(pb::ClaimToken {
                token_sha256: sha256.to_vec(),
                claim_id: claim.id.clone(),
                party: pb::Party::Notifier as i32,
            }));
        }
        Ok(Executed::changed(
            a,
            records,
            FiledClaim {
                claim,
                created: true,
            },
        ))
    }
}
