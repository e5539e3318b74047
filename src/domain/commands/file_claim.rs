//! FileClaim: a notice against an article becomes a RECEIVED claim with a review
//! deadline. The notice is validated once, when it becomes a [`Notice`]; the writer
//! only ever holds notices that passed.

use std::time::SystemTime;

use uuid::Uuid;

use super::deadline;
use crate::domain::{DomainError, FieldViolation, Policy, validation};
use crate::pb::{self, ClaimState, DeadlineKind};

/// A notice that passed validation (`Notice::parse` is the only way to make one).
#[derive(Debug, Clone, PartialEq)]
pub struct Notice(pb::Claim);

impl Notice {
    /// Checks a notice as the law of its regime asks for it, listing every problem,
    /// and puts its URLs in their normal form.
    pub fn parse(mut claim: pb::Claim) -> Result<Notice, DomainError> {
        let v = validation::notice(&claim);
        if v.is_empty() {
            validation::normalize_notice(&mut claim);
            Ok(Notice(claim))
        } else {
            Err(DomainError::Invalid(v))
        }
    }

    pub fn get(&self) -> &pb::Claim {
        &self.0
    }

    /// The e-mail the notice names its notifier by, as given.
    pub fn notifier_email(&self) -> &str {
        self.0.claimant.as_ref().map_or("", |c| c.email.as_str())
    }

    /// The notifier as a party without an account, named by its e-mail's subject (the
    /// keyed hash `pdata::Vault::subject` makes of the normalised address): a UUID of
    /// version 8 (RFC 9562, custom). The same e-mail is the same notifier across
    /// notices; the id cannot be mistaken for a principal's (version 7), nor turned
    /// back into the address, nor checked against a guessed address without the key.
    pub fn notifier_id(subject: &[u8; 16]) -> Uuid {
        uuid::Builder::from_custom_bytes(*subject).into_uuid()
    }
}

/// Creates a claim from `notice` against `article`. The claim id, the filer, whether
/// it is a trusted flagger, and the time come from the writer.
#[allow(clippy::too_many_arguments)]
pub fn file_claim(
    notice: &Notice,
    article: &pb::Article,
    filed_by: &str,
    trusted_flagger: bool,
    claim_id: &str,
    request_id: &str,
    now: SystemTime,
    policy: &Policy,
) -> Result<pb::Claim, DomainError> {
    let notice = notice.get();
    if !notice.article_url.is_empty() && notice.article_url != article.url {
        return Err(DomainError::Invalid(vec![FieldViolation::new(
            "claim.article_url",
            format!(
                "article {} is at {}, not {}; send one of article_id or article_url",
                article.id, article.url, notice.article_url
            ),
        )]));
    }
    let due = policy.review_due(notice.regime(), trusted_flagger, now);
    Ok(pb::Claim {
        id: claim_id.to_string(),
        article_id: article.id.clone(),
        article_url: article.url.clone(),
        claimant: notice.claimant.clone(),
        rights_owner: notice.rights_owner.clone(),
        works: notice.works.clone(),
        items: notice.items.clone(),
        requested_remedy: notice.requested_remedy,
        evidence: notice.evidence.clone(),
        regime: notice.regime,
        good_faith_statement: notice.good_faith_statement,
        accuracy_statement: notice.accuracy_statement,
        signature: notice.signature.clone(),
        state: ClaimState::Received as i32,
        filed_by: filed_by.to_string(),
        trusted_flagger,
        next_deadline: deadline(DeadlineKind::Review, due),
        create_time: Some(now.into()),
        update_time: Some(now.into()),
        request_id: request_id.to_string(),
        contributor: article.contributor.clone(),
        language: notice.language.clone(),
        explanation: notice.explanation.clone(),
        authority_statement: notice.authority_statement,
        ..Default::default()
    })
}
