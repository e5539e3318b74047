//! The story for the domain layer's unit tests: the article as the store holds it once
//! the CMS registered it, the notice (two items, one of them an image), and the people
//! around it as domain [`Actor`]s. Its names and values are the ones
//! the domain tests (`src/domain/tests/`) are written against; the wire fixtures
//! ([`super::fixtures`]) tell the same story in the words the integration tests assert.

use std::time::{Duration, SystemTime};

use crate::domain::Actor;
use crate::pb::{self, ArticleStatus, ContentOrigin, ItemKind, Regime, Remedy, Role};

pub const MINUTE: Duration = Duration::from_secs(60);
pub const HOUR: Duration = Duration::from_secs(3_600);
pub const DAY: Duration = Duration::from_secs(86_400);

/// Monday 2024-01-15 09:00 UTC, the day the seed article was published (the same
/// instant as [`super::start_time`]).
pub fn t0() -> SystemTime {
    super::start_time()
}

pub fn ts(t: SystemTime) -> Option<prost_types::Timestamp> {
    Some(t.into())
}

pub const CLAIM_ID: &str = "0194a6b2-5c00-7000-8000-00000000c1a1";
pub const ARTICLE_ID: &str = "legaldaily-20240115-justice-bureaus";
pub const ARTICLE_URL: &str =
    "https://news.example.org/2024/01/15/national-conference-of-justice-bureaus";

pub const CLAIMANT: &str = "principal:legal-daily-rights-desk";
pub const OTHER_CLAIMANT: &str = "principal:another-rights-holder";
pub const REVIEWER: &str = "principal:compliance-desk";
/// A second reviewer: complaints must be decided by someone other than the first.
pub const OTHER_REVIEWER: &str = "principal:compliance-desk-2";
pub const PUBLISHER: &str = "principal:cms";
pub const ADMIN: &str = "principal:operator";

pub fn principal(id: &str, role: Role) -> Actor {
    Actor::Principal {
        id: id.to_string(),
        roles: vec![role],
    }
}
pub fn claimant() -> Actor {
    principal(CLAIMANT, Role::Claimant)
}
pub fn other_claimant() -> Actor {
    principal(OTHER_CLAIMANT, Role::Claimant)
}
pub fn reviewer() -> Actor {
    principal(REVIEWER, Role::Reviewer)
}
pub fn other_reviewer() -> Actor {
    principal(OTHER_REVIEWER, Role::Reviewer)
}
pub fn publisher() -> Actor {
    principal(PUBLISHER, Role::Publisher)
}
pub fn admin() -> Actor {
    principal(ADMIN, Role::Admin)
}

/// The republished article as the CMS registered it: published six hours before
/// [`t0`], revision 1, available, held by no claim.
pub fn seed_article() -> pb::Article {
    pb::Article {
        id: ARTICLE_ID.to_string(),
        url: ARTICLE_URL.to_string(),
        title:
            "The National Conference of Ministers of the Department of Justice (Bureau) was held"
                .to_string(),
        source: "http://www.legaldaily.com.cn".to_string(),
        content_origin: ContentOrigin::Editorial as i32,
        publish_time: ts(t0() - 6 * HOUR),
        status: ArticleStatus::Published as i32,
        revision: 1,
        available: true,
        holding_claim_ids: Vec::new(),
        create_time: ts(t0() - 6 * HOUR),
        update_time: ts(t0() - 6 * HOUR),
        contributor: None,
    }
}

/// Legal Daily's rights desk says the whole report was taken from its site.
pub fn notice(regime: Regime) -> pb::Claim {
    pb::Claim {
        article_id: ARTICLE_ID.to_string(),
        claimant: Some(pb::Claimant {
            name: "Legal Daily rights desk".to_string(),
            organization: "Legal Daily".to_string(),
            email: "rights@legaldaily.com.cn".to_string(),
            postal_address: "Legal Daily, Beijing, China".to_string(),
            phone: "+86 10 8413 0000".to_string(),
        }),
        rights_owner: "Legal Daily".to_string(),
        works: vec![pb::Work {
            description: "Legal Daily report of 2024-01-15 on the national conference of heads \
                          of judicial departments (bureaus)"
                .to_string(),
            original_url: "http://www.legaldaily.com.cn/".to_string(),
        }],
        items: vec![
            pb::Item {
                kind: ItemKind::Text as i32,
                locator: "paragraph 1".to_string(),
                excerpt: "On the afternoon of January 14th, the Ministry of Justice held a \
                          national meeting of heads of judicial departments (bureaus)."
                    .to_string(),
            },
            pb::Item {
                kind: ItemKind::Image as i32,
                locator: "figure 1".to_string(),
                excerpt: String::new(),
            },
        ],
        requested_remedy: Remedy::Deletion as i32,
        evidence: vec![pb::Evidence {
            uri: "https://evidence.example.org/legaldaily/20240115.pdf".to_string(),
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_string(),
            description: "the original report as published by Legal Daily".to_string(),
        }],
        regime: regime as i32,
        good_faith_statement: true,
        accuracy_statement: true,
        signature: "Legal Daily rights desk".to_string(),
        explanation:
            "The article reproduces Legal Daily's report and photograph without a licence."
                .to_string(),
        authority_statement: true,
        ..Default::default()
    }
}

/// The reviewer's statement of reasons for a decision on [`notice`].
pub fn reasons() -> pb::StatementOfReasons {
    pb::StatementOfReasons {
        facts: "Paragraph 1 and figure 1 reproduce Legal Daily's report of 2024-01-15.".to_string(),
        legal_ground: "copyright of the original report".to_string(),
        explanation: "The article is republished without a licence.".to_string(),
        redress: String::new(),
        ..Default::default()
    }
}

/// The publisher's counter-notice: it holds a syndication licence.
pub fn counter_notice() -> pb::CounterNotice {
    pb::CounterNotice {
        name: "News Example editorial desk".to_string(),
        email: "desk@news.example.org".to_string(),
        postal_address: "1 Example Street, Springfield".to_string(),
        phone: "+1 555 0100".to_string(),
        statement: "The report was republished under a syndication licence.".to_string(),
        consent_to_jurisdiction: true,
        signature: "News Example editorial desk".to_string(),
        perjury_statement: true,
        accepts_service_of_process: true,
        removed_material: "The article at https://news.example.org/2024/01/15/justice-bureau-conference, paragraph 1 and figure 1."
            .to_string(),
        evidence: vec![pb::Evidence {
            uri: "https://evidence.example.org/news/syndication-licence.pdf".to_string(),
            sha256: String::new(),
            description: "the syndication licence".to_string(),
        }],
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The domain tests count from t0 in days and hours; it must be the instant the
    /// test server's clock starts at.
    #[test]
    fn t0_is_the_seed_article_monday() {
        assert_eq!(
            t0(),
            std::time::UNIX_EPOCH + 19_737 * DAY + 9 * HOUR,
            "2024-01-15T09:00:00Z"
        );
    }

    #[test]
    fn the_notice_is_valid_under_every_regime() {
        for regime in [Regime::Dmca, Regime::Dsa, Regime::PrcCivilCode] {
            let violations = crate::domain::validation::notice(&notice(regime));
            assert!(violations.is_empty(), "{regime:?}: {violations:?}");
        }
    }
}
