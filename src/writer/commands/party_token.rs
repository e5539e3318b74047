//! IssuePartyToken: a fresh claim token for one party of a claim, journaled as the
//! claim's token record for that party, so the previous one stops working at once
//! (its hash leaves the token index in the same batch).

use uuid::Uuid;

use super::super::{Exec, Executed, WriteCommand, WriteError};
use crate::domain::{AuditAction, DomainError};
use crate::pb::{self, Party, stored_record::Kind};

#[derive(Debug, Clone)]
pub struct IssuePartyToken {
    pub claim_id: Uuid,
    pub party: Party,
    /// The hash of the new token (the token itself is answered once and never kept).
    pub token_sha256: [u8; 32],
    pub actor: String,
}

impl WriteCommand for IssuePartyToken {
    type Reply = ();

    fn execute(&self, cx: &Exec<'_>) -> Result<Executed<()>, WriteError> {
        let claim = cx.view.claim(&self.claim_id)?.ok_or(WriteError::NotFound {
            what: "claim",
            id: self.claim_id.to_string(),
        })?;
        if self.party == Party::Contributor && claim.contributor.is_none() {
            return Err(DomainError::Refused {
                reason: "NO_CONTRIBUTOR",
                message: format!(
                    "claim {} is against editorial content or an article registered without a contributor; \
                     only the notifier has a token (register the article's contributor with UpsertArticle before claims are filed)",
                    claim.id
                ),
            }
            .into());
        }
        let mut a = cx.audit(&self.actor, AuditAction::IssuePartyToken);
        a.claim_id = claim.id.clone();
        a.article_id = claim.article_id.clone();
        a.from_state = claim.state;
        a.to_state = claim.state;
        a.detail = format!(
            "a new claim token for the {} of claim {}; the previous one no longer works",
            self.party.as_str_name(),
            claim.id
        );
        let token = pb::ClaimToken {
            token_sha256: self.token_sha256.to_vec(),
            claim_id: claim.id,
            party: self.party as i32,
        };
        Ok(Executed::changed(a, vec![Kind::ClaimToken(token)], ()))
    }
}
