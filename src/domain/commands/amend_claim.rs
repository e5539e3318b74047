//! AmendClaim: the claim's claimant answers a request for information by replacing
//! the notice fields an `update_mask` names (all of them if it is empty); the amended
//! notice is validated again and goes back into the review queue.

use super::{ClaimVerb, Step};
use crate::domain::AuditAction;
use crate::domain::transitions::Verb;
use crate::domain::{Actor, DomainError, FieldViolation, validation};
use crate::pb;

/// The notice fields an amendment may replace.
pub const AMENDABLE: [&str; 11] = [
    "claimant",
    "rights_owner",
    "works",
    "items",
    "requested_remedy",
    "evidence",
    "good_faith_statement",
    "accuracy_statement",
    "signature",
    "explanation",
    "authority_statement",
];

#[derive(Debug, Clone, PartialEq)]
pub struct AmendClaim {
    /// The new values of the fields in `update_mask`.
    pub amendment: pb::Claim,
    pub update_mask: Vec<String>,
    /// The claimant's answer to the request for information.
    pub reply: String,
}

impl AmendClaim {
    fn unknown_paths(&self) -> Vec<FieldViolation> {
        self.update_mask
            .iter()
            .filter(|p| !AMENDABLE.contains(&p.as_str()))
            .map(|p| {
                FieldViolation::new(
                    "update_mask",
                    format!(
                        "{p:?} cannot be amended; use any of {}",
                        AMENDABLE.join(", ")
                    ),
                )
            })
            .collect()
    }

    /// Replaces the fields named in the mask (all of them if it is empty).
    fn amend(&self, claim: &mut pb::Claim) {
        let a = &self.amendment;
        let all = self.update_mask.is_empty();
        let want = |f: &str| all || self.update_mask.iter().any(|p| p == f);
        if want("claimant") {
            claim.claimant = a.claimant.clone();
        }
        if want("rights_owner") {
            claim.rights_owner = a.rights_owner.clone();
        }
        if want("works") {
            claim.works = a.works.clone();
        }
        if want("items") {
            claim.items = a.items.clone();
        }
        if want("requested_remedy") {
            claim.requested_remedy = a.requested_remedy;
        }
        if want("evidence") {
            claim.evidence = a.evidence.clone();
        }
        if want("good_faith_statement") {
            claim.good_faith_statement = a.good_faith_statement;
        }
        if want("accuracy_statement") {
            claim.accuracy_statement = a.accuracy_statement;
        }
        if want("signature") {
            claim.signature = a.signature.clone();
        }
        if want("explanation") {
            claim.explanation = a.explanation.clone();
        }
        if want("authority_statement") {
            claim.authority_statement = a.authority_statement;
        }
    }
}

impl ClaimVerb for AmendClaim {
    fn action(&self) -> AuditAction {
        AuditAction::AmendClaim
    }

    fn verb(&self) -> Verb {
        Verb::AmendClaim
    }

    fn permitted(&self, actor: &Actor, claim: &pb::Claim) -> bool {
        actor.owns(claim)
    }

    fn check(&self, claim: &pb::Claim, _: &pb::Article) -> Vec<FieldViolation> {
        let mut v = validation::optional_text("reply", &self.reply);
        if self.update_mask.len() > AMENDABLE.len() {
            // One violation for the list, not one per path.
            v.push(FieldViolation::new(
                "update_mask",
                format!(
                    "at most {} paths (the amendable fields: {}), got {}",
                    AMENDABLE.len(),
                    AMENDABLE.join(", "),
                    self.update_mask.len()
                ),
            ));
            return v;
        }
        let unknown = self.unknown_paths();
        if unknown.is_empty() {
            let mut amended = claim.clone();
            self.amend(&mut amended);
            v.extend(validation::notice(&amended));
        }
        v.extend(unknown);
        v
    }

    fn effect(&self, s: &mut Step) -> Result<String, DomainError> {
        self.amend(&mut s.next);
        validation::normalize_notice(&mut s.next);
        s.next.assignee.clear();
        if let Some(req) = s.next.information_request.as_mut() {
            req.reply = self.reply.clone();
        }
        s.review_deadline();
        Ok("claim amended by the claimant".to_string())
    }
}
