//! AmendClaim's field mask: which notice fields a claimant may replace when answering
//! a request for information.

use crate::pb;

use super::{DomainError, FieldViolation};

/// The notice fields an amendment may replace.
pub const AMENDABLE: [&str; 9] = [
    "claimant",
    "rights_owner",
    "works",
    "items",
    "requested_remedy",
    "evidence",
    "good_faith_statement",
    "accuracy_statement",
    "signature",
];

/// Replaces the notice fields named in `mask` (all of them if empty).
pub fn amend(
    claim: &mut pb::Claim,
    amendment: &pb::Claim,
    mask: &[String],
) -> Result<(), DomainError> {
    let unknown: Vec<FieldViolation> = mask
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
        .collect();
    if !unknown.is_empty() {
        return Err(DomainError::Invalid(unknown));
    }
    let all = mask.is_empty();
    let want = |f: &str| all || mask.iter().any(|p| p == f);
    if want("claimant") {
        claim.claimant = amendment.claimant.clone();
    }
    if want("rights_owner") {
        claim.rights_owner = amendment.rights_owner.clone();
    }
    if want("works") {
        claim.works = amendment.works.clone();
    }
    if want("items") {
        claim.items = amendment.items.clone();
    }
    if want("requested_remedy") {
        claim.requested_remedy = amendment.requested_remedy;
    }
    if want("evidence") {
        claim.evidence = amendment.evidence.clone();
    }
    if want("good_faith_statement") {
        claim.good_faith_statement = amendment.good_faith_statement;
    }
    if want("accuracy_statement") {
        claim.accuracy_statement = amendment.accuracy_statement;
    }
    if want("signature") {
        claim.signature = amendment.signature.clone();
    }
    Ok(())
}
