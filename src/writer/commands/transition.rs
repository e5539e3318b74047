//! A verb on an existing claim: loads the claim and its article as the group leaves
//! them, checks the etag (AIP-154), runs the domain's state machine, and journals the
//! claim's after-image (and the article's, if the verb moved it), with the party
//! records the transition's counts move.

use uuid::Uuid;

use super::super::{Exec, Executed, WriteCommand, WriteError};
use super::principals::check_may_file;
use super::{outbox, parties, submissions};
use crate::domain::notifications::Change;
use crate::domain::transitions::Stage;
use crate::domain::{self, Actor, AuditAction, Command, party_record};
use crate::pb::{self, stored_record::Kind};

#[derive(Debug, Clone)]
pub struct ClaimTransition {
    pub claim_id: Uuid,
    /// The etag the caller read; empty to skip the check.
    pub etag: String,
    pub command: Command,
    pub actor: Actor,
}

/// A claim after a transition, and the article if the transition changed it.
#[derive(Debug, Clone)]
pub struct ClaimChanged {
    pub claim: pb::Claim,
    pub article: Option<pb::Article>,
}

impl WriteCommand for ClaimTransition {
    type Reply = ClaimChanged;

    fn execute(&self, cx: &Exec<'_>) -> Result<Executed<ClaimChanged>, WriteError> {
        let claim = cx.view.claim(&self.claim_id)?.ok_or(WriteError::NotFound {
            what: "claim",
            id: self.claim_id.to_string(),
        })?;
        if !self.etag.is_empty() && self.etag != claim.etag {
            return Err(WriteError::EtagMismatch {
                claim_id: claim.id,
                current: claim.etag,
            });
        }
        let article = cx.view.article(&claim.article_id)?.ok_or_else(|| {
            WriteError::Inconsistent(format!(
                "claim {} names article {} which is not in the store",
                claim.id, claim.article_id
            ))
        })?;
        if matches!(self.command, Command::FileComplaint(_))
            && let Ok(actor_id) = Uuid::parse_str(self.actor.id())
        {
            // DSA Art. 23(2): a suspension covers complaints as well as notices.
            let complainant = cx.view.principal(&actor_id)?.and_then(|p| p.principal);
            check_may_file(complainant.as_ref(), cx.now)?;
            if claim.filed_by == self.actor.id() {
                // The notifier complaining: its e-mail's suspension covers it too.
                let email = claim.claimant.as_ref().map_or("", |c| c.email.as_str());
                parties::check_email_may_file(cx, email)?;
            }
        }
        if matches!(
            self.command,
            Command::FileComplaint(_) | Command::FileCounterNotice(_)
        ) && self.actor.is_contributor_of(&claim)
            && let Some(c) = &claim.contributor
        {
            // A suspended contributor may neither counter-notify nor complain.
            parties::check_contributor_may_answer(cx, &c.account_id)?;
        }
        let t = domain::apply(
            &claim,
            &article,
            &self.command,
            &self.actor,
            cx.now,
            cx.policy,
        )?;
        let mut next = t.claim;
        next.etag = cx.etag();
        let mut a = cx.audit(self.actor.id(), t.action);
        a.claim_id = next.id.clone();
        a.article_id = next.article_id.clone();
        a.from_state = claim.state;
        a.to_state = next.state;
        a.detail = t.detail;
        let mut records = vec![Kind::Claim(next.clone())];
        records.extend(submissions::submission(cx, &a, &next));
        if let Some(from) = Stage::of(&claim) {
            let verb = self.command.verb().verb();
            let change = Change::Moved { from, verb };
            records.extend(outbox::notifications(cx, change, &next, &t.article)?);
        }
        let article = t.article_changed.then(|| {
            records.push(Kind::Article(t.article.clone()));
            t.article
        });
        let moves = party_record::counts(Some(&claim), &next, t.action);
        let (counted, repeat_infringers) = parties::counted_with_events(cx, moves)?;
        records.extend(counted);
        let events = repeat_infringers
            .iter()
            .map(|r| {
                let mut e = cx.audit("system", AuditAction::ContributorRepeatInfringer);
                e.claim_id = next.id.clone();
                e.article_id = next.article_id.clone();
                e.from_state = next.state;
                e.to_state = next.state;
                e.detail = format!(
                    "{}: {} contributions found infringing within {} (threshold {}); the site decides on the account (DMCA 512(i))",
                    parties::label(cx, r.party.as_ref().unwrap_or(&pb::PartyKey::default())),
                    r.infringement_times.len(),
                    humantime::format_duration(cx.policy.repeat_infringer.window),
                    cx.policy.repeat_infringer.threshold
                );
                e
            })
            .collect();
        Ok(Executed::changed(
            a,
            records,
            ClaimChanged {
                claim: next,
                article,
            },
        )
        .with_events(events))
    }
}
