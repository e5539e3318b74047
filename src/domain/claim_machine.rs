//! The claim state machine: `(claim, article, command, actor, now) -> (claim', article')`.
//! Pure: the writer supplies the records and the time and journals what comes back.
//! Every verb runs the same steps: who may run it (`ClaimVerb::permitted`), its
//! payload (`ClaimVerb::check`), the transition table (`transitions::TABLE`: allowed
//! here? where to?), its own effect, and the table's effect on the article.

use std::time::SystemTime;

use crate::pb;

use super::commands::{Command, Step};
use super::transitions::{self, ArticleEffect, Stage};
use super::{Actor, DomainError, Policy, Transition};

/// Applies `command` to `claim` (whose article is `article`).
pub fn apply(
    claim: &pb::Claim,
    article: &pb::Article,
    command: &Command,
    actor: &Actor,
    now: SystemTime,
    policy: &Policy,
) -> Result<Transition, DomainError> {
    let verb = command.verb();
    if !verb.permitted(actor, claim) {
        return Err(DomainError::NotYours(claim.id.clone()));
    }
    let violations = verb.check(claim, article);
    if !violations.is_empty() {
        return Err(DomainError::Invalid(violations));
    }
    let stage = Stage::of(claim);
    let row = stage
        .and_then(|s| transitions::find(s, verb.verb()))
        .ok_or_else(|| DomainError::InvalidTransition {
            command: verb.action().as_str(),
            state: claim.state(),
            hint: transitions::hint(stage, verb.verb()),
        })?;
    let mut step = Step {
        claim,
        next: claim.clone(),
        article: article.clone(),
        article_changed: false,
        to: row.to,
        actor,
        now,
        policy,
    };
    step.next.state = row.to.state() as i32;
    step.next.update_time = Some(now.into());
    let detail = verb.effect(&mut step)?;
    match row.article {
        ArticleEffect::Keep => {}
        ArticleEffect::TakeDown => step.hold(),
        ArticleEffect::Release => step.release(),
        ArticleEffect::Revise => step.revise(article.revision + 1),
    }
    Ok(Transition {
        claim: step.next,
        article: step.article,
        article_changed: step.article_changed,
        action: verb.action(),
        detail,
    })
}
