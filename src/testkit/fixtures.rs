//! Realistic requests, as clients send them: the Legal Daily story republished on the
//! site, notices against it under each regime, and what the reviewer and the CMS
//! answer with.

use crate::pb::{self, ContentOrigin, ItemKind, Regime, Remedy};

/// 2024-01-15T09:00:00Z, a Monday: the seed article's date, and where a test server's
/// manual clock starts.
pub fn start_time() -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_705_309_200)
}

pub const ARTICLE_ID: &str = "news-2024-01-15-justice-bureau";
pub const ARTICLE_URL: &str = "https://news.example.org/2024/01/15/justice-bureau-conference";

pub fn seed_article() -> pb::Article {
    article(ARTICLE_ID, ARTICLE_URL)
}

pub fn article(id: &str, url: &str) -> pb::Article {
    pb::Article {
        id: id.to_string(),
        url: url.to_string(),
        title:
            "The National Conference of Ministers of the Department of Justice (Bureau) was held"
                .to_string(),
        source: "http://www.legaldaily.com.cn".to_string(),
        content_origin: ContentOrigin::Editorial as i32,
        publish_time: Some(prost_types::Timestamp {
            seconds: 1_705_276_800,
            nanos: 0,
        }),
        ..Default::default()
    }
}

/// A complete DMCA notice against the seed article.
pub fn dmca_notice() -> pb::Claim {
    notice(ARTICLE_ID, Regime::Dmca)
}

pub fn notice(article_id: &str, regime: Regime) -> pb::Claim {
    pb::Claim {
        article_id: article_id.to_string(),
        claimant: Some(pb::Claimant {
            name: "Shen Chen".to_string(),
            organization: "Legal Daily".to_string(),
            email: "rights@legaldaily.example.cn".to_string(),
            postal_address: "10 Beisanhuan Rd, Beijing".to_string(),
            phone: "+86 10 8413 0000".to_string(),
        }),
        rights_owner: "Legal Daily".to_string(),
        works: vec![pb::Work {
            description:
                "Report on the national meeting of heads of judicial departments, 2024-01-14"
                    .to_string(),
            original_url: "http://www.legaldaily.com.cn/index/content/2024-01/14/content_1.html"
                .to_string(),
        }],
        items: vec![pb::Item {
            kind: ItemKind::Text as i32,
            locator: "paragraph 1".to_string(),
            excerpt:
                "On the afternoon of January 14th, the Ministry of Justice held a national meeting"
                    .to_string(),
        }],
        requested_remedy: Remedy::Deletion as i32,
        evidence: vec![pb::Evidence {
            uri: "https://evidence.example.cn/legaldaily/2024-01-14.pdf".to_string(),
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_string(),
            description: "Archived original with publication date".to_string(),
        }],
        regime: regime as i32,
        good_faith_statement: true,
        accuracy_statement: true,
        signature: "Shen Chen".to_string(),
        explanation: "The article copies the first paragraph of the claimant's report verbatim."
            .to_string(),
        authority_statement: true,
        ..Default::default()
    }
}

pub fn reasons() -> pb::StatementOfReasons {
    pb::StatementOfReasons {
        facts: "The article reproduces the claimant's report verbatim without licence.".to_string(),
        legal_ground: "17 U.S.C. 512(c)".to_string(),
        explanation: "The text matches the original and no licence is on file.".to_string(),
        redress: String::new(),
        ..Default::default()
    }
}

pub fn counter_notice() -> pb::CounterNotice {
    pb::CounterNotice {
        name: "Ying Ying".to_string(),
        email: "editor@news.example.org".to_string(),
        postal_address: "1 Newsroom Way, Springfield".to_string(),
        phone: "+1 555 0100".to_string(),
        statement: "The article was republished under a syndication licence.".to_string(),
        consent_to_jurisdiction: true,
        signature: "Ying Ying".to_string(),
        perjury_statement: true,
        accepts_service_of_process: true,
        removed_material: "The article news-2024-01-15-justice-bureau, paragraph 1.".to_string(),
        evidence: vec![pb::Evidence {
            uri: "https://news.example.org/licences/syndication-2024.pdf".to_string(),
            sha256: String::new(),
            description: "The syndication licence".to_string(),
        }],
        ..Default::default()
    }
}
