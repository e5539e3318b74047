//! ErasePersonalData (GDPR Art. 17): journals the erasure of one party's personal
//! data; the writer then deletes its data key (`pdata::Vault::erase`), after which
//! its sealed fields read as erased. Refused while the law still needs the contact.

use super::super::{Exec, Executed, WriteCommand, WriteError};
use crate::domain::{AuditAction, DomainError};
use crate::pb::{self, ClaimState, Regime, stored_record::Kind};
use crate::pdata::Subject;

#[derive(Debug, Clone)]
pub struct ErasePersonalData {
    pub subject: Subject,
    /// How the party is named in the log: "notifier e-mail", "contributor", with the
    /// subject's first bytes; never the value.
    pub label: String,
    pub reason: String,
    pub actor: String,
}

/// How many claims the erasure reached, and whether it changed anything.
#[derive(Debug, Clone, Copy)]
pub struct Erased {
    pub claims: u32,
    pub erased_now: bool,
}

impl WriteCommand for ErasePersonalData {
    type Reply = Erased;

    fn execute(&self, cx: &Exec<'_>) -> Result<Executed<Erased>, WriteError> {
        let claims = cx.view.claims_of_subject(&self.subject)?;
        let count = claims.len() as u32;
        let Some(key_check) = cx.view.key_check(&self.subject) else {
            // No key: never seen, or erased and nothing new since.
            return Ok(Executed::unchanged(Erased {
                claims: count,
                erased_now: false,
            }));
        };
        for id in &claims {
            let Some(claim) = cx.view.claim(id)? else {
                continue;
            };
            if contact_needed(&claim) {
                return Err(WriteError::Domain(DomainError::Refused {
                    reason: "CONTACT_NEEDED",
                    message: format!(
                        "claim {} is {} under a DMCA counter-notice: the notifier and the counter-notifier must be able to reach each other (17 U.S.C. 512(g)(2)) until it is restored or the legal action is resolved; erase after that",
                        claim.id,
                        claim.state().as_str_name()
                    ),
                }));
            }
        }
        let mut a = cx.audit(&self.actor, AuditAction::ErasePersonalData);
        a.detail = format!(
            "personal data of {} erased ({} claims): {}",
            self.label, count, self.reason
        );
        let record = pb::ErasedSubject {
            subject: self.subject.to_vec(),
            erase_time: Some(cx.now.into()),
            reason: self.reason.clone(),
            key_check: key_check.to_vec(),
        };
        Ok(Executed::changed(
            a,
            vec![Kind::ErasedSubject(record)],
            Erased {
                claims: count,
                erased_now: true,
            },
        ))
    }
}

/// Whether the law still needs the parties' contact on `claim`: a DMCA counter-notice
/// whose restoration period runs, or whose legal action is pending.
fn contact_needed(claim: &pb::Claim) -> bool {
    claim.regime() == Regime::Dmca
        && matches!(
            claim.state(),
            ClaimState::CounterNoticed | ClaimState::LegalActionPending
        )
}
