//! A notice and a counter-notice as Lumen (lumendatabase.org) takes them: the body of
//! its `POST /notices`, `{"notice": {...}}`, without the submitter's
//! `authentication_token`. Pure: `AuditService.ExportNotices` and `takedownctl export
//! lumen` call [`notice`] and [`counter_notice`]. Field by field in
//! `docs/exports.md`.
//!
//! Lumen publishes what it receives and redacts addresses, phone numbers and e-mail
//! addresses of the parties; those are left out here, so they never leave the
//! service. Names stay: Lumen shows who sent a notice and on whose behalf.

use std::time::SystemTime;

use serde_json::{Value, json};

use super::dsa_statement::{cut, redact};
use super::reasons;
use crate::pb::{self, ClaimState, DecisionOutcome, Regime};

/// Lumen's limit on an entity notice role's names.
const NAME_MAX: usize = 255;
/// Lumen's limit on one URL (8 KiB).
const URL_MAX: usize = 8 * 1024;

/// Lumen's notice type and jurisdiction for a claim's regime: DMCA notices have a type
/// of their own; DSA and PRC notices are `Other`, told apart by their jurisdiction.
fn kind(regime: Regime) -> (&'static str, &'static str, &'static str) {
    match regime {
        Regime::Dsa => ("Other", "EU", "DSA"),
        Regime::PrcCivilCode => ("Other", "CN", "PRC Civil Code"),
        Regime::Dmca | Regime::Unspecified => ("DMCA", "US", "DMCA"),
    }
}

/// `action_taken` of a notice, from the claim's decision: the article withdrawn
/// (`Yes`), corrected (`Partial`), left as it was (`No`), or not decided
/// (`Unspecified`, also for a claim withdrawn or closed before a decision).
pub fn action_taken(claim: &pb::Claim) -> &'static str {
    match claim.decision.as_ref().map(|d| d.outcome()) {
        Some(DecisionOutcome::Delete) => "Yes",
        Some(DecisionOutcome::Correct) => "Partial",
        Some(DecisionOutcome::Reject) => "No",
        _ => "Unspecified",
    }
}

/// `action_taken` of a counter-notice: whether the material came back (`Yes`), stays
/// down (`No`: legal action upheld), or the restoration period still runs.
pub fn counter_action_taken(claim: &pb::Claim) -> &'static str {
    match claim.state() {
        ClaimState::Restored => "Yes",
        ClaimState::Deleted => "No",
        _ => "Unspecified",
    }
}

/// The Lumen document of `claim`'s notice; `site` names the recipient (the host of the
/// article's URL if empty).
pub fn notice(claim: &pb::Claim, article: Option<&pb::Article>, site: &str) -> Value {
    let (lumen_type, jurisdiction, regime) = kind(claim.regime());
    let claimant = claim.claimant.clone().unwrap_or_default();
    let sender = if claimant.organization.trim().is_empty() {
        entity(&claimant.name, "individual")
    } else {
        entity(&claimant.organization, "organization")
    };
    let mut roles = vec![role("sender", sender)];
    if !claim.rights_owner.trim().is_empty() {
        roles.push(role(
            "principal",
            entity(&claim.rights_owner, "organization"),
        ));
    }
    roles.push(role(
        "recipient",
        entity(&recipient(claim, site), "organization"),
    ));
    let filed = date(claim.create_time);
    json!({"notice": {
        "type": lumen_type,
        "title": cut(&format!("{regime} notice to {}: {}", recipient(claim, site), subject(claim, article)), 255),
        "date_sent": filed,
        "date_received": filed,
        "jurisdiction_list": jurisdiction,
        "action_taken": action_taken(claim),
        "works_attributes": works(claim),
        "entity_notice_roles_attributes": roles,
    }})
}

/// The Lumen document of `claim`'s counter-notice (`None` if it has none): the
/// publisher's answer, sent to the site, about the same works.
pub fn counter_notice(
    claim: &pb::Claim,
    article: Option<&pb::Article>,
    site: &str,
) -> Option<Value> {
    let n = claim.counter_notice.as_ref()?;
    let (_, jurisdiction, regime) = kind(claim.regime());
    let filed = date(n.file_time);
    let roles = vec![
        role("sender", entity(&n.name, "individual")),
        role("recipient", entity(&recipient(claim, site), "organization")),
    ];
    Some(json!({"notice": {
        "type": "Counternotice",
        "title": cut(&format!("{regime} counter-notice to {}: {}", recipient(claim, site), subject(claim, article)), 255),
        "date_sent": filed,
        "date_received": filed,
        "jurisdiction_list": jurisdiction,
        "action_taken": counter_action_taken(claim),
        "works_attributes": works(claim),
        "entity_notice_roles_attributes": roles,
    }}))
}

/// One work per work the notice names (the original, copyrighted, URL) with the
/// article as the infringing URL.
fn works(claim: &pb::Claim) -> Vec<Value> {
    let infringing: Vec<Value> = [claim.article_url.as_str()]
        .into_iter()
        .filter(|u| !u.is_empty() && u.len() <= URL_MAX)
        .map(|u| json!({"url": u}))
        .collect();
    let mut works: Vec<Value> = claim
        .works
        .iter()
        .map(|w| {
            let copyrighted: Vec<Value> = [w.original_url.as_str()]
                .into_iter()
                .filter(|u| !u.is_empty() && u.len() <= URL_MAX)
                .map(|u| json!({"url": u}))
                .collect();
            json!({
                "description": redact(&w.description, claim),
                "copyrighted_urls_attributes": copyrighted,
                "infringing_urls_attributes": infringing,
            })
        })
        .collect();
    if works.is_empty() {
        works.push(json!({
            "description": "Unknown work",
            "copyrighted_urls_attributes": [],
            "infringing_urls_attributes": infringing,
        }));
    }
    works
}

/// What the notice is about: the article's title, else its id.
fn subject(claim: &pb::Claim, article: Option<&pb::Article>) -> String {
    article
        .map(|a| a.title.trim())
        .filter(|t| !t.is_empty())
        .map_or_else(|| format!("article {}", claim.article_id), str::to_string)
}

/// The site: `site`, or the host of the article's URL.
fn recipient(claim: &pb::Claim, site: &str) -> String {
    if !site.trim().is_empty() {
        return site.trim().to_string();
    }
    url::Url::parse(&claim.article_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "the site".to_string())
}

fn entity(name: &str, kind: &str) -> Value {
    let name = name.trim();
    let name = if name.is_empty() { "Unknown" } else { name };
    json!({"name": cut(name, NAME_MAX), "kind": kind, "country_code": null})
}

fn role(name: &str, entity: Value) -> Value {
    json!({"name": name, "entity_attributes": entity})
}

/// YYYY-MM-DD of `t`, or null when unknown.
fn date(t: Option<prost_types::Timestamp>) -> Value {
    t.and_then(|t| SystemTime::try_from(t).ok())
        .map_or(Value::Null, |t| json!(reasons::date(t)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::fixtures;
    use crate::testkit::lumen::violations;

    fn claim(regime: Regime) -> pb::Claim {
        let mut c = fixtures::notice(fixtures::ARTICLE_ID, regime);
        c.id = "0190a1b2-0000-7000-8000-000000000001".to_string();
        c.article_url = fixtures::ARTICLE_URL.to_string();
        c.create_time = Some(fixtures::start_time().into());
        c
    }

    fn decided(mut c: pb::Claim, outcome: DecisionOutcome) -> pb::Claim {
        c.decision = Some(pb::Decision {
            outcome: outcome as i32,
            ..Default::default()
        });
        c
    }

    #[test]
    fn a_dmca_notice_maps_every_field() {
        let article = fixtures::seed_article();
        let c = decided(claim(Regime::Dmca), DecisionOutcome::Delete);
        let doc = notice(&c, Some(&article), "");
        let n = &doc["notice"];
        assert_eq!(n["type"], "DMCA");
        assert_eq!(n["jurisdiction_list"], "US");
        assert_eq!(n["action_taken"], "Yes");
        assert_eq!(n["date_sent"], "2024-01-15");
        assert_eq!(n["date_received"], "2024-01-15");
        assert!(
            n["title"]
                .as_str()
                .unwrap()
                .starts_with("DMCA notice to news.example.org: The National Conference")
        );
        assert_eq!(
            n["works_attributes"],
            json!([{
                "description": "Report on the national meeting of heads of judicial departments, 2024-01-14",
                "copyrighted_urls_attributes": [{"url": "http://www.legaldaily.com.cn/index/content/2024-01/14/content_1.html"}],
                "infringing_urls_attributes": [{"url": fixtures::ARTICLE_URL}],
            }])
        );
        assert_eq!(
            n["entity_notice_roles_attributes"],
            json!([
                {"name": "sender", "entity_attributes": {"name": "Legal Daily", "kind": "organization", "country_code": null}},
                {"name": "principal", "entity_attributes": {"name": "Legal Daily", "kind": "organization", "country_code": null}},
                {"name": "recipient", "entity_attributes": {"name": "news.example.org", "kind": "organization", "country_code": null}},
            ])
        );
        assert_eq!(violations(&doc), Vec::<String>::new());
    }

    #[test]
    fn dsa_and_prc_notices_are_other_with_their_jurisdiction() {
        for (regime, jurisdiction) in [(Regime::Dsa, "EU"), (Regime::PrcCivilCode, "CN")] {
            let doc = notice(&claim(regime), None, "Example News");
            assert_eq!(doc["notice"]["type"], "Other");
            assert_eq!(doc["notice"]["jurisdiction_list"], jurisdiction);
            assert_eq!(doc["notice"]["action_taken"], "Unspecified");
            assert_eq!(
                doc["notice"]["entity_notice_roles_attributes"][2]["entity_attributes"]["name"],
                "Example News"
            );
            assert_eq!(violations(&doc), Vec::<String>::new());
        }
    }

    #[test]
    fn action_taken_follows_the_outcome() {
        let c = claim(Regime::Dmca);
        assert_eq!(
            action_taken(&decided(c.clone(), DecisionOutcome::Correct)),
            "Partial"
        );
        assert_eq!(
            action_taken(&decided(c.clone(), DecisionOutcome::Reject)),
            "No"
        );
        assert_eq!(action_taken(&c), "Unspecified");
    }

    #[test]
    fn a_counter_notice_is_a_counternotice_without_contact_details() {
        let mut c = decided(claim(Regime::Dmca), DecisionOutcome::Delete);
        assert!(counter_notice(&c, None, "").is_none());
        let mut n = fixtures::counter_notice();
        n.file_time =
            Some((fixtures::start_time() + std::time::Duration::from_secs(3 * 86_400)).into());
        c.counter_notice = Some(n);
        c.state = ClaimState::Restored as i32;
        let doc = counter_notice(&c, None, "").unwrap();
        assert_eq!(doc["notice"]["type"], "Counternotice");
        assert_eq!(doc["notice"]["date_sent"], "2024-01-18");
        assert_eq!(doc["notice"]["action_taken"], "Yes");
        assert_eq!(
            doc["notice"]["entity_notice_roles_attributes"][0]["entity_attributes"]["name"],
            "Ying Ying"
        );
        let text = doc.to_string();
        for contact in [
            "editor@news.example.org",
            "Newsroom Way",
            "+1 555 0100",
            "rights@legaldaily",
            "Beisanhuan",
            "+86",
        ] {
            assert!(!text.contains(contact), "{contact} leaked: {text}");
        }
        assert_eq!(violations(&doc), Vec::<String>::new());
    }
}
