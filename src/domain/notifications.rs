//! Who must be told what, as data: for each change a claim goes through, the kinds
//! of notification it gives rise to and the parties each goes to (`TELLS`), how a
//! party is reached (`addressees`), and what each recipient is told (`facts`, a
//! snapshot that holds only what that recipient may see). The writer journals the
//! notifications with the change (see `docs/architecture.md`, "Notifications");
//! `docs/notifications.md` shows the table (a test keeps the doc and the table equal).

use std::time::SystemTime;

use super::Policy;
use super::transitions::{Stage, Verb};
use super::validation;
use crate::pb::{
    self, ClaimState, DeadlineKind, DecisionOutcome, NotificationChannel as Channel,
    NotificationKind as Kind, NotificationRecipient as Recipient, RedressKind, Regime,
};

/// What happened to a claim, as far as telling goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A notice became a claim.
    Filed,
    /// A verb of the transition table moved the claim out of `from`.
    Moved { from: Stage, verb: Verb },
}

/// Which parties a kind goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Notifier,
    /// The contributor if the claim has one with an e-mail, else the publisher (who
    /// can pass it on).
    ContributorElsePublisher,
    Publisher,
    /// The notifier, the contributor (if reachable) and the publisher.
    Everyone,
}

impl Audience {
    pub fn label(self) -> &'static str {
        match self {
            Audience::Notifier => "notifier",
            Audience::ContributorElsePublisher => "contributor (else publisher)",
            Audience::Publisher => "publisher",
            Audience::Everyone => "every party",
        }
    }
}

/// One rule: on `verb` (from `from`, or from any stage when `None`), tell `kind` to
/// `audience`. `verb: None` is the filing of a notice.
#[derive(Debug, Clone, Copy)]
pub struct Tell {
    pub verb: Option<Verb>,
    pub from: Option<Stage>,
    pub kind: Kind,
    pub audience: Audience,
}

const fn tell(verb: Option<Verb>, from: Option<Stage>, kind: Kind, audience: Audience) -> Tell {
    Tell {
        verb,
        from,
        kind,
        audience,
    }
}

use Audience::{ContributorElsePublisher, Everyone, Notifier, Publisher};

/// Every notification a change gives rise to. A change with no row tells no one
/// (StartReview, AmendClaim, ReportLegalAction, FileComplaint: the parties acting
/// know, and the decision that follows is told).
#[rustfmt::skip]
pub const TELLS: &[Tell] = &[
    tell(None, None, Kind::Receipt, Notifier),
    tell(None, None, Kind::NoticeForwarded, ContributorElsePublisher),
    tell(Some(Verb::RequestInformation), None, Kind::InformationRequested, Notifier),
    tell(Some(Verb::DecideReject), Some(Stage::UnderReview), Kind::Decision, Notifier),
    tell(Some(Verb::DecideReject), Some(Stage::UnderReview), Kind::Decision, ContributorElsePublisher),
    tell(Some(Verb::DecideCorrect), Some(Stage::UnderReview), Kind::Decision, Notifier),
    tell(Some(Verb::DecideCorrect), Some(Stage::UnderReview), Kind::Decision, ContributorElsePublisher),
    tell(Some(Verb::DecideCorrect), None, Kind::CorrectionDue, Publisher),
    tell(Some(Verb::DecideDelete), Some(Stage::UnderReview), Kind::Decision, Notifier),
    tell(Some(Verb::DecideDelete), Some(Stage::UnderReview), Kind::Decision, ContributorElsePublisher),
    tell(Some(Verb::DecideReject), Some(Stage::Reopened), Kind::ComplaintDecided, Everyone),
    tell(Some(Verb::DecideCorrect), Some(Stage::Reopened), Kind::ComplaintDecided, Everyone),
    tell(Some(Verb::DecideDelete), Some(Stage::Reopened), Kind::ComplaintDecided, Everyone),
    tell(Some(Verb::RecordCorrection), None, Kind::Corrected, Notifier),
    tell(Some(Verb::ExpireDeadline), Some(Stage::CorrectionPending), Kind::CorrectionMissed, Everyone),
    tell(Some(Verb::FileCounterNotice), None, Kind::CounterNoticeForwarded, Notifier),
    tell(Some(Verb::ExpireDeadline), Some(Stage::CounterNoticed), Kind::Restored, Everyone),
    tell(Some(Verb::ResolveUpheld), None, Kind::LegalActionResolved, Everyone),
    tell(Some(Verb::ResolveDismissed), None, Kind::LegalActionResolved, Everyone),
    tell(Some(Verb::WithdrawClaim), None, Kind::Closed, Everyone),
    tell(Some(Verb::ExpireDeadline), Some(Stage::NeedsInfo), Kind::Closed, Everyone),
];

/// The rows that apply to `change`.
pub fn tells(change: Change) -> impl Iterator<Item = &'static Tell> {
    TELLS.iter().filter(move |t| match change {
        Change::Filed => t.verb.is_none(),
        Change::Moved { from, verb } => t.verb == Some(verb) && t.from.is_none_or(|f| f == from),
    })
}

/// One way to reach one party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressee {
    pub recipient: Recipient,
    pub channel: Channel,
    /// The e-mail address or a principal's webhook URL; empty for the site's webhook.
    pub address: String,
    /// For a principal's webhook: the principal, whose secret signs it.
    pub principal_id: String,
}

/// What the writer knows beyond the claim about how parties are reached.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reach<'a> {
    pub channels: Channels,
    /// The filing principal's webhook (its id and URL), if it has one.
    pub notifier_webhook: Option<(&'a str, &'a str)>,
}

/// How `audience` is reached on `claim`: the notifier by the notice's e-mail (and by
/// its principal's webhook, if it has one), the contributor by the e-mail the CMS
/// registered, the publisher by the site's webhook.
pub fn addressees(claim: &pb::Claim, audience: Audience, reach: Reach<'_>) -> Vec<Addressee> {
    let notifier = || {
        let email = claim.claimant.as_ref().map_or("", |c| c.email.trim());
        let by_email = (!email.is_empty()).then(|| Addressee {
            recipient: Recipient::Notifier,
            channel: Channel::Email,
            address: email.to_string(),
            principal_id: String::new(),
        });
        let by_webhook = reach.notifier_webhook.map(|(id, url)| Addressee {
            recipient: Recipient::Notifier,
            channel: Channel::Webhook,
            address: url.to_string(),
            principal_id: id.to_string(),
        });
        by_email.into_iter().chain(by_webhook)
    };
    let contributor = || {
        let email = claim.contributor.as_ref().map_or("", |c| c.email.trim());
        (!email.is_empty()).then(|| Addressee {
            recipient: Recipient::Contributor,
            channel: Channel::Email,
            address: email.to_string(),
            principal_id: String::new(),
        })
    };
    let publisher = || Addressee {
        recipient: Recipient::Publisher,
        channel: Channel::Webhook,
        address: String::new(),
        principal_id: String::new(),
    };
    match audience {
        Notifier => notifier().collect(),
        ContributorElsePublisher => vec![contributor().unwrap_or_else(publisher)],
        Publisher => vec![publisher()],
        Everyone => notifier()
            .chain(contributor())
            .chain(Some(publisher()))
            .collect(),
    }
}

/// The language notifications about `claim` are written in: the notice's choice, else
/// Simplified Chinese for PRC notices and English for the rest.
pub fn language(claim: &pb::Claim) -> &'static str {
    validation::language(&claim.language).unwrap_or(match claim.regime() {
        Regime::PrcCivilCode => "zh-CN",
        _ => "en",
    })
}

/// What `recipient` is told by a `kind` notification about `claim` (as the change
/// left it, on `article`). Only what that recipient may see: the notifier's postal
/// address and phone are in no one's facts, and the counter-notice (the notifier is
/// owed a copy) only in the notifier's.
pub fn facts(
    kind: Kind,
    recipient: Recipient,
    claim: &pb::Claim,
    article: &pb::Article,
    policy: &Policy,
) -> pb::NotificationFacts {
    let claimant = claim.claimant.clone().unwrap_or_default();
    let mut f = pb::NotificationFacts {
        claim_id: claim.id.clone(),
        article_id: article.id.clone(),
        article_url: article.url.clone(),
        article_title: article.title.clone(),
        regime: claim.regime,
        state: claim.state,
        recipient_name: match recipient {
            Recipient::Notifier => claimant.name.clone(),
            Recipient::Contributor => claim
                .contributor
                .as_ref()
                .map_or(String::new(), |c| c.display_name.clone()),
            _ => String::new(),
        },
        notifier_name: claimant.name.clone(),
        rights_owner: claim.rights_owner.clone(),
        works: claim.works.iter().map(|w| w.description.clone()).collect(),
        items: claim.items.clone(),
        ..Default::default()
    };
    let running = |want: DeadlineKind| {
        claim
            .next_deadline
            .as_ref()
            .filter(|d| d.kind() == want)
            .and_then(|d| d.due_time)
    };
    match kind {
        Kind::InformationRequested => {
            f.information_request = claim
                .information_request
                .as_ref()
                .map_or(String::new(), |r| r.message.clone());
            f.deadline = running(DeadlineKind::InformationReply);
            f.deadline_kind = DeadlineKind::InformationReply as i32;
        }
        Kind::Decision | Kind::ComplaintDecided | Kind::CorrectionDue => {
            if let Some(d) = &claim.decision {
                f.outcome = d.outcome;
                f.statement_of_reasons = d.statement_of_reasons.clone();
                if kind == Kind::CorrectionDue {
                    f.items_to_change = items_to_change(claim, d);
                }
            }
            if claim.state() == ClaimState::CorrectionPending {
                f.deadline = running(DeadlineKind::CorrectionWindow);
                f.deadline_kind = DeadlineKind::CorrectionWindow as i32;
            }
        }
        Kind::CounterNoticeForwarded => {
            if recipient == Recipient::Notifier {
                f.counter_notice = claim.counter_notice.clone();
            }
            f.deadline = running(DeadlineKind::Restoration);
            f.deadline_kind = DeadlineKind::Restoration as i32;
        }
        Kind::LegalActionResolved => {
            f.legal_action_outcome = claim.legal_action.as_ref().map_or(0, |l| l.outcome);
        }
        Kind::Closed => {
            f.close_reason = match &claim.withdrawal {
                Some(w) => w.reason.clone(),
                None => "the information requested was not provided in time".to_string(),
            };
        }
        Kind::Corrected => {
            f.correction_summary = claim
                .correction
                .as_ref()
                .map_or(String::new(), |c| c.summary.clone());
        }
        _ => {}
    }
    f.redress = redress(kind, recipient, claim, policy);
    f
}

/// The items a CORRECT decision names (all of them when it names none).
fn items_to_change(claim: &pb::Claim, d: &pb::Decision) -> Vec<pb::Item> {
    if d.items_to_change.is_empty() {
        return claim.items.clone();
    }
    d.items_to_change
        .iter()
        .filter_map(|&i| claim.items.get(i as usize))
        .cloned()
        .collect()
}

/// The ways `recipient` may contest what a `kind` notification tells, with their
/// deadlines. A complaint (DSA Art. 20) is open until the complaint window after the
/// decision closes; a counter-notice where the regime has one and the content was
/// taken down; the notifier's legal action until the restoration date; out-of-court
/// settlement (DSA Art. 21) for DSA notices; the courts always.
fn redress(
    kind: Kind,
    recipient: Recipient,
    claim: &pb::Claim,
    policy: &Policy,
) -> Vec<pb::Redress> {
    let regime = claim.regime();
    let dsa = regime == Regime::Dsa;
    let outcome = claim.decision.as_ref().map(|d| d.outcome());
    let complaint = || {
        let decided = claim
            .decision
            .as_ref()
            .and_then(|d| d.decide_time)
            .and_then(|t| SystemTime::try_from(t).ok())?;
        Some(way(
            RedressKind::Complaint,
            Some(policy.complaint_open_until(regime, decided)),
        ))
    };
    let counter_notice = || {
        (policy.timers(regime).restoration.is_some()).then(|| way(RedressKind::CounterNotice, None))
    };
    let mut ways = Vec::new();
    let answering = matches!(recipient, Recipient::Contributor | Recipient::Publisher);
    match kind {
        Kind::Decision => {
            let against_recipient = match recipient {
                Recipient::Notifier => outcome != Some(DecisionOutcome::Delete),
                _ => outcome != Some(DecisionOutcome::Reject),
            };
            if against_recipient {
                ways.extend(complaint());
                if answering && outcome == Some(DecisionOutcome::Delete) {
                    ways.extend(counter_notice());
                }
            }
        }
        Kind::CorrectionMissed if answering => ways.extend(counter_notice()),
        Kind::CounterNoticeForwarded if recipient == Recipient::Notifier => {
            let until = claim
                .next_deadline
                .as_ref()
                .filter(|d| d.kind() == DeadlineKind::Restoration)
                .and_then(|d| d.due_time)
                .and_then(|t| SystemTime::try_from(t).ok());
            ways.push(way(RedressKind::LegalAction, until));
        }
        _ => {}
    }
    let settled = matches!(
        kind,
        Kind::Decision
            | Kind::ComplaintDecided
            | Kind::CorrectionMissed
            | Kind::Restored
            | Kind::LegalActionResolved
    );
    if settled {
        if dsa {
            ways.push(way(RedressKind::OutOfCourt, None));
        }
        ways.push(way(RedressKind::Court, None));
    }
    ways
}

fn way(kind: RedressKind, until: Option<SystemTime>) -> pb::Redress {
    pb::Redress {
        kind: kind as i32,
        until: until.map(Into::into),
    }
}

/// Which channels this server can deliver on (`takedownd`'s `--smtp-url` and
/// `--webhook-url`). A notification on a missing channel is recorded UNDELIVERABLE,
/// with the reason, in the entry that creates it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Channels {
    pub email: bool,
    pub webhook: bool,
    /// Statements of reasons are submitted to the DSA Transparency Database
    /// (`--dsa-tdb-url`): each restriction journals a PENDING submission.
    pub dsa_tdb: bool,
}

impl Channels {
    /// Why `to` cannot be reached from here, if it cannot. A principal's own webhook
    /// needs no server setting.
    pub fn missing(self, to: &Addressee) -> Option<&'static str> {
        match to.channel {
            Channel::Webhook if !to.principal_id.is_empty() => None,
            Channel::Email if !self.email => Some(
                "no --smtp-url is configured; set it, restart, and retry with `takedownctl notifications retry`",
            ),
            Channel::Webhook if !self.webhook => Some(
                "no --webhook-url is configured for the site; set it (with --webhook-secret-file), restart, and retry with `takedownctl notifications retry`",
            ),
            Channel::Unspecified => Some("the notification has no channel"),
            _ => None,
        }
    }
}

/// A notification to `to`, before the writer gives it an id and a seq: PENDING and
/// due now, or UNDELIVERABLE if `channels` lacks its channel.
pub fn notification(
    kind: Kind,
    to: Addressee,
    claim: &pb::Claim,
    article: &pb::Article,
    now: SystemTime,
    policy: &Policy,
    channels: Channels,
) -> pb::Notification {
    let missing = channels.missing(&to);
    pb::Notification {
        claim_id: claim.id.clone(),
        kind: kind as i32,
        recipient: to.recipient as i32,
        channel: to.channel as i32,
        address: to.address,
        principal_id: to.principal_id,
        language: language(claim).to_string(),
        status: match missing {
            Some(_) => pb::NotificationStatus::Undeliverable,
            None => pb::NotificationStatus::Pending,
        } as i32,
        last_error: missing.unwrap_or_default().to_string(),
        create_time: Some(now.into()),
        next_attempt_time: missing.is_none().then(|| now.into()),
        facts: Some(facts(kind, to.recipient, claim, article, policy)),
        ..Default::default()
    }
}

/// Every notification `change` gives rise to on `claim` (as the change left it).
pub fn plan(
    change: Change,
    claim: &pb::Claim,
    article: &pb::Article,
    now: SystemTime,
    policy: &Policy,
    reach: Reach<'_>,
) -> Vec<pb::Notification> {
    tells(change)
        .flat_map(|t| {
            addressees(claim, t.audience, reach)
                .into_iter()
                .map(move |to| {
                    notification(t.kind, to, claim, article, now, policy, reach.channels)
                })
        })
        .collect()
}

/// For a PRC claim whose counter-notice forwarding just reached the notifier: the
/// claim with its restoration clock started at `delivered` (E-Commerce Law Art. 43
/// counts from when the declaration reaches the right holder). `None` when nothing
/// changes: another regime (DMCA counts from receipt), the clock already running, or
/// the claim moved on.
pub fn start_restoration_clock(
    claim: &pb::Claim,
    n: &pb::Notification,
    delivered: SystemTime,
    policy: &Policy,
) -> Option<pb::Claim> {
    let waiting = claim.regime() == Regime::PrcCivilCode
        && n.kind() == Kind::CounterNoticeForwarded
        && n.recipient() == Recipient::Notifier
        && claim.state() == ClaimState::CounterNoticed
        && claim
            .next_deadline
            .as_ref()
            .is_some_and(|d| d.kind() == DeadlineKind::Restoration && d.due_time.is_none());
    if !waiting {
        return None;
    }
    let due = policy.restoration_due(claim.regime(), delivered)?;
    let mut next = claim.clone();
    next.next_deadline = Some(pb::Deadline {
        kind: DeadlineKind::Restoration as i32,
        due_time: Some(due.into()),
    });
    next.update_time = Some(delivered.into());
    Some(next)
}

/// The table as the Markdown table `docs/notifications.md` shows.
pub fn markdown() -> String {
    let mut out = String::from("| change | from | kind | to |\n|---|---|---|---|\n");
    for t in TELLS {
        out.push_str(&format!(
            "| {} | {} | `{}` | {} |\n",
            t.verb.map_or("FileClaim", Verb::label),
            t.from.map_or("any", Stage::label),
            t.kind.as_str_name(),
            t.audience.label()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::fixtures;

    fn claim_with_contributor(email: &str) -> (pb::Claim, pb::Article) {
        let mut article = fixtures::seed_article();
        article.contributor = Some(pb::Contributor {
            account_id: "user:ying".to_string(),
            display_name: "Ying Ying".to_string(),
            email: email.to_string(),
        });
        let mut claim = fixtures::dmca_notice();
        claim.id = "0190d8a0-0000-7000-8000-000000000001".to_string();
        claim.contributor = article.contributor.clone();
        claim.counter_notice = Some(fixtures::counter_notice());
        (claim, article)
    }

    #[test]
    fn every_kind_is_told_by_some_change() {
        for kind in (1..=12).filter_map(|k| Kind::try_from(k).ok()) {
            assert!(
                TELLS.iter().any(|t| t.kind == kind),
                "{kind:?} is never sent"
            );
        }
    }

    #[test]
    fn the_contributor_is_told_else_the_publisher() {
        let (claim, _) = claim_with_contributor("ying@readers.example.org");
        let to = addressees(&claim, ContributorElsePublisher, Reach::default());
        assert_eq!(to.len(), 1);
        assert_eq!(to[0].recipient, Recipient::Contributor);
        assert_eq!(to[0].address, "ying@readers.example.org");
        let (claim, _) = claim_with_contributor("");
        let to = addressees(&claim, ContributorElsePublisher, Reach::default());
        assert_eq!(to[0].recipient, Recipient::Publisher);
        assert_eq!(to[0].channel, Channel::Webhook);
        let (claim, _) = claim_with_contributor("ying@readers.example.org");
        let everyone: Vec<_> = addressees(&claim, Everyone, Reach::default())
            .into_iter()
            .map(|a| a.recipient)
            .collect();
        assert_eq!(
            everyone,
            [
                Recipient::Notifier,
                Recipient::Contributor,
                Recipient::Publisher
            ]
        );
    }

    #[test]
    fn only_the_notifier_gets_the_counter_notice_and_nobody_the_notifiers_address() {
        let (claim, article) = claim_with_contributor("ying@readers.example.org");
        let policy = Policy::default();
        for t in TELLS {
            for to in [
                Recipient::Notifier,
                Recipient::Contributor,
                Recipient::Publisher,
            ] {
                let f = facts(t.kind, to, &claim, &article, &policy);
                let text = format!("{f:?}");
                let claimant = claim.claimant.as_ref().expect("claimant");
                assert!(
                    !text.contains(&claimant.postal_address),
                    "{:?} to {to:?}",
                    t.kind
                );
                assert!(!text.contains(&claimant.phone), "{:?} to {to:?}", t.kind);
                assert!(!text.contains(&claimant.email), "{:?} to {to:?}", t.kind);
                if to != Recipient::Notifier {
                    assert!(f.counter_notice.is_none(), "{:?} to {to:?}", t.kind);
                }
            }
        }
    }

    #[test]
    fn the_language_is_the_notices_else_the_regimes() {
        let mut claim = fixtures::dmca_notice();
        assert_eq!(language(&claim), "en");
        claim.regime = Regime::PrcCivilCode as i32;
        assert_eq!(language(&claim), "zh-CN");
        claim.language = "EN".to_string();
        assert_eq!(language(&claim), "en");
    }

    #[test]
    fn docs_notifications_md_shows_the_table() {
        let doc = include_str!("../../docs/notifications.md");
        assert!(
            doc.contains(&markdown()),
            "docs/notifications.md does not show the table as `notifications::markdown()` prints it:\n{}",
            markdown()
        );
    }
}
