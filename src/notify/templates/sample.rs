//! The sample facts every template is rendered against when it is loaded (and that
//! the tests render): every field set, so that every branch that tests one is taken.

use crate::pb::{self, NotificationKind, NotificationRecipient};

pub(super) fn sample_notification(
    kind: NotificationKind,
    recipient: NotificationRecipient,
    language: &str,
    facts: pb::NotificationFacts,
) -> pb::Notification {
    let mut n = pb::Notification {
        id: "0190f5a2-0000-7000-8000-000000000000".into(),
        claim_id: facts.claim_id.clone(),
        language: language.into(),
        facts: Some(facts),
        ..Default::default()
    };
    n.set_kind(kind);
    n.set_recipient(recipient);
    n
}

/// Facts with every field set, so that every branch that tests one is taken.
pub fn sample_facts() -> pb::NotificationFacts {
    let t = |seconds| prost_types::Timestamp { seconds, nanos: 0 };
    let item = |kind: pb::ItemKind, locator: &str, excerpt: &str| {
        let mut i = pb::Item {
            locator: locator.into(),
            excerpt: excerpt.into(),
            ..Default::default()
        };
        i.set_kind(kind);
        i
    };
    let redress = |kind: pb::RedressKind, until: Option<i64>| {
        let mut r = pb::Redress {
            until: until.map(t),
            ..Default::default()
        };
        r.set_kind(kind);
        r
    };
    let mut facts = pb::NotificationFacts {
        claim_id: "0190f5a1-0000-7000-8000-000000000000".into(),
        article_id: "cms-4711".into(),
        article_url: "https://news.example.org/2026/justice-bureaus".into(),
        article_title: "National meeting of justice bureaus".into(),
        recipient_name: "Rights Desk".into(),
        notifier_name: "Legal Daily rights desk".into(),
        rights_owner: "Legal Daily".into(),
        works: vec!["National meeting of justice bureaus (Legal Daily)".into()],
        items: vec![
            item(pb::ItemKind::Text, "paragraph 3", "The meeting opened ..."),
            item(
                pb::ItemKind::Image,
                "https://news.example.org/a.jpg",
                "photo",
            ),
            item(pb::ItemKind::WholeArticle, "", ""),
        ],
        statement_of_reasons: Some(pb::StatementOfReasons {
            facts: "The article copies the report whole.".into(),
            legal_ground: "Copyright Law of the PRC, Art. 10".into(),
            explanation: "No licence or exception covers the copy.".into(),
            redress: "You may complain or counter-notify.".into(),
            automated_decision: pb::AutomatedDecision::Partially as i32,
            ..Default::default()
        }),
        items_to_change: vec![item(
            pb::ItemKind::Text,
            "paragraph 3",
            "The meeting opened ...",
        )],
        information_request: "Please show that you hold the rights.".into(),
        deadline: Some(t(1_800_000_000)),
        redress: vec![
            redress(pb::RedressKind::Complaint, Some(1_810_000_000)),
            redress(pb::RedressKind::CounterNotice, None),
            redress(pb::RedressKind::LegalAction, Some(1_800_000_000)),
            redress(pb::RedressKind::OutOfCourt, None),
            redress(pb::RedressKind::Court, None),
        ],
        counter_notice: Some(pb::CounterNotice {
            removed_material: "The article, at https://news.example.org/a".into(),
            perjury_statement: true,
            accepts_service_of_process: true,
            evidence: Vec::new(),
            name: "Wang Fang".into(),
            email: "wang.fang@example.net".into(),
            postal_address: "1 Example Road, Beijing".into(),
            phone: "+86 10 5555 0100".into(),
            statement: "The text is my own report.".into(),
            consent_to_jurisdiction: true,
            signature: "Wang Fang".into(),
            file_time: Some(t(1_799_000_000)),
            filed_by: "contributor".into(),
        }),
        close_reason: "withdrawn: settled with the publisher".into(),
        status_url: "https://takedown.example.org/claims/0190f5a1".into(),
        correction_summary: "Paragraph 3 now quotes with attribution.".into(),
        ..Default::default()
    };
    facts.set_regime(pb::Regime::PrcCivilCode);
    facts.set_state(pb::ClaimState::Deleted);
    facts.set_outcome(pb::DecisionOutcome::Correct);
    facts.set_deadline_kind(pb::DeadlineKind::CorrectionWindow);
    facts.set_legal_action_outcome(pb::LegalActionOutcome::Upheld);
    facts
}
