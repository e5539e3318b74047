//! FileCounterNotice: the publisher answers a deletion (DMCA 512(g)(3), PRC Civil Code
//! 1196); it is forwarded to the claimant and a restoration period starts, unless the
//! regime has none (DSA: the publisher complains instead).

use super::{ClaimVerb, Step, deadline};
use crate::domain::AuditAction;
use crate::domain::transitions::Verb;
use crate::domain::validation::{
    Violations, count, email, evidence_list, limits, line, required, text,
};

/// Longest `removed_material`, in characters.
const REMOVED_MATERIAL_MAX: usize = 2_000;
use crate::domain::{DomainError, FieldViolation};
use crate::pb::{self, DeadlineKind, Regime};

#[derive(Debug, Clone, PartialEq)]
pub struct FileCounterNotice {
    pub counter_notice: Option<pb::CounterNotice>,
}

impl ClaimVerb for FileCounterNotice {
    fn action(&self) -> AuditAction {
        AuditAction::FileCounterNotice
    }

    fn verb(&self) -> Verb {
        Verb::FileCounterNotice
    }

    fn check(&self, claim: &pb::Claim, _: &pb::Article) -> Vec<FieldViolation> {
        check_counter_notice(self.counter_notice.as_ref(), claim.regime())
    }

    fn effect(&self, s: &mut Step) -> Result<String, DomainError> {
        let regime = s.claim.regime();
        let Some(due) = s.policy.restoration_due(regime, s.now) else {
            return Err(DomainError::Refused {
                reason: "NO_COUNTER_NOTICE",
                message: format!(
                    "{} claims have no counter-notice; the publisher may file a complaint \
                     (ClaimService.FileComplaint) within the complaint window instead",
                    regime.as_str_name()
                ),
            });
        };
        let mut cn = self.counter_notice.clone().unwrap_or_default();
        cn.file_time = Some(s.now.into());
        cn.filed_by = s.actor.id().to_string();
        s.next.counter_notice = Some(cn);
        if regime == Regime::PrcCivilCode {
            // E-Commerce Law Art. 43: the period runs from when the declaration
            // reaches the right holder, so the clock starts when the notification
            // forwarding it is delivered (`notifications::start_restoration_clock`).
            s.next.next_deadline = Some(pb::Deadline {
                kind: DeadlineKind::Restoration as i32,
                due_time: None,
            });
            return Ok(
                "counter-notice filed; the restoration clock starts once its forwarding reaches the claimant"
                    .to_string(),
            );
        }
        s.next.next_deadline = deadline(DeadlineKind::Restoration, due);
        Ok("counter-notice filed and forwarded to the claimant".to_string())
    }
}

/// A counter-notice as DMCA 512(g)(3) and PRC Civil Code 1196 ask for it.
fn check_counter_notice(cn: Option<&pb::CounterNotice>, regime: Regime) -> Violations {
    let mut v = Vec::new();
    let Some(cn) = cn else {
        v.push(FieldViolation::new(
            "counter_notice",
            "the counter-notice is required",
        ));
        return v;
    };
    required(
        &mut v,
        "counter_notice.name",
        &cn.name,
        "the name of the person responsible",
    );
    email(&mut v, "counter_notice.email", &cn.email);
    required(
        &mut v,
        "counter_notice.postal_address",
        &cn.postal_address,
        "a postal address",
    );
    required(
        &mut v,
        "counter_notice.phone",
        &cn.phone,
        "a telephone number",
    );
    required(
        &mut v,
        "counter_notice.statement",
        &cn.statement,
        "a statement of why the removal was a mistake or misidentification",
    );
    required(
        &mut v,
        "counter_notice.signature",
        &cn.signature,
        "a signature",
    );
    line(&mut v, "counter_notice.name", &cn.name, limits::NAME);
    text(
        &mut v,
        "counter_notice.postal_address",
        &cn.postal_address,
        limits::POSTAL_ADDRESS,
    );
    line(&mut v, "counter_notice.phone", &cn.phone, limits::PHONE);
    line(
        &mut v,
        "counter_notice.signature",
        &cn.signature,
        limits::NAME,
    );
    text(
        &mut v,
        "counter_notice.statement",
        &cn.statement,
        limits::TEXT,
    );
    text(
        &mut v,
        "counter_notice.removed_material",
        &cn.removed_material,
        REMOVED_MATERIAL_MAX,
    );
    count(
        &mut v,
        "counter_notice.evidence",
        cn.evidence.len(),
        limits::EVIDENCE,
    );
    evidence_list(&mut v, "counter_notice.evidence", &cn.evidence);
    match regime {
        Regime::Dmca => {
            // 17 U.S.C. 512(g)(3)(B)-(D), all at once.
            if !cn.consent_to_jurisdiction {
                v.push(FieldViolation::new(
                    "counter_notice.consent_to_jurisdiction",
                    "a DMCA counter-notice must consent to the jurisdiction of the federal court (17 U.S.C. 512(g)(3)(D))",
                ));
            }
            if !cn.accepts_service_of_process {
                v.push(FieldViolation::new(
                    "counter_notice.accepts_service_of_process",
                    "set to true: a DMCA counter-notice accepts service of process from the notifier (17 U.S.C. 512(g)(3)(D))",
                ));
            }
            if !cn.perjury_statement {
                v.push(FieldViolation::new(
                    "counter_notice.perjury_statement",
                    "set to true to state under penalty of perjury a good-faith belief that the material was removed by mistake or misidentification (17 U.S.C. 512(g)(3)(C))",
                ));
            }
            required(
                &mut v,
                "counter_notice.removed_material",
                &cn.removed_material,
                "what was removed and where it appeared before removal (17 U.S.C. 512(g)(3)(B))",
            );
        }
        Regime::PrcCivilCode if cn.evidence.is_empty() => v.push(FieldViolation::new(
            "counter_notice.evidence",
            "a PRC declaration of non-infringement needs preliminary evidence (Civil Code Art. 1196): at least one piece, with an http(s) URL",
        )),
        _ => {}
    }
    v
}
