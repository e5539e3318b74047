//! Hostile input: every limit answers with a clear error, all violations of a request
//! at once as `google.rpc.BadRequest`, and nothing is written.

use crate::common::flow::{Flow, violated_fields};
use crate::common::{TestServer, fixtures};
use takedown::domain::validation::limits;
use takedown::pb::{self, ItemKind};
use tonic::Code;

/// The seq of the last audit entry: nothing written means it does not move.
async fn head_seq(flow: &Flow) -> u64 {
    flow.verify().await.head_seq
}

fn item(i: usize) -> pb::Item {
    pb::Item {
        kind: ItemKind::Text as i32,
        locator: format!("paragraph {i}"),
        excerpt: String::new(),
    }
}

#[tokio::test]
async fn an_oversized_notice_is_refused_field_by_field_and_writes_nothing() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let before = head_seq(&flow).await;

    let long = |n: usize| "x".repeat(n + 1);
    let mut notice = fixtures::dmca_notice();
    let claimant = notice.claimant.as_mut().expect("claimant");
    claimant.name = long(limits::NAME);
    claimant.email = format!("{}@example.org", long(limits::EMAIL));
    claimant.phone = long(limits::PHONE);
    claimant.postal_address = long(limits::POSTAL_ADDRESS);
    notice.rights_owner = long(limits::NAME);
    notice.signature = long(limits::NAME);
    notice.works[0].description = long(limits::DESCRIPTION);
    notice.works[0].original_url = format!("https://example.org/{}", long(limits::URL));
    notice.items[0].locator = long(limits::LOCATOR);
    notice.items[0].excerpt = long(limits::DESCRIPTION);
    notice.evidence[0].uri = long(limits::URL);
    notice.evidence[0].sha256 = "z".repeat(64);
    notice.evidence[0].description = long(limits::DESCRIPTION);

    let e = flow
        .claimant()
        .file_claim(pb::FileClaimRequest {
            request_id: long(128),
            claim: Some(notice),
        })
        .await
        .expect_err("every field too long");
    assert_eq!(e.code(), Code::InvalidArgument);
    let mut fields = violated_fields(&e);
    fields.sort();
    assert_eq!(
        fields,
        [
            "claim.claimant.email",
            "claim.claimant.name",
            "claim.claimant.phone",
            "claim.claimant.postal_address",
            "claim.evidence[0].description",
            "claim.evidence[0].sha256",
            "claim.evidence[0].uri",
            "claim.items[0].excerpt",
            "claim.items[0].locator",
            "claim.rights_owner",
            "claim.signature",
            "claim.works[0].description",
            "claim.works[0].original_url",
            "request_id",
        ]
    );
    assert!(
        e.message().contains("14 invalid field(s)") && e.message().contains("9 more"),
        "the message names the first few and counts the rest: {}",
        e.message()
    );
    assert!(e.message().len() < 2_000, "the message stays short");
    assert_eq!(head_seq(&flow).await, before, "nothing was written");
    s.stop().await;
}

#[tokio::test]
async fn lists_longer_than_their_limit_are_reported_once() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let before = head_seq(&flow).await;
    let mut notice = fixtures::dmca_notice();
    notice.items = (0..=limits::ITEMS).map(item).collect();
    notice.works = vec![notice.works[0].clone(); limits::WORKS + 1];
    // Bad entries beyond the limit are not listed one by one.
    notice.evidence = vec![pb::Evidence::default(); limits::EVIDENCE + 1];
    let e = flow
        .claimant()
        .file_claim(pb::FileClaimRequest {
            request_id: String::new(),
            claim: Some(notice.clone()),
        })
        .await
        .expect_err("too many entries");
    assert_eq!(
        violated_fields(&e),
        ["claim.works", "claim.items", "claim.evidence"]
    );
    assert!(
        e.message().contains("at most 100 entries, got 101"),
        "{e:?}"
    );

    // At the limits it is fine.
    notice.items.truncate(limits::ITEMS);
    notice.works.truncate(limits::WORKS);
    notice.evidence = vec![fixtures::dmca_notice().evidence[0].clone(); limits::EVIDENCE];
    flow.file(notice).await;
    assert_eq!(head_seq(&flow).await, before + 1);
    s.stop().await;
}

#[tokio::test]
async fn urls_emails_and_control_characters() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let before = head_seq(&flow).await;
    let mut notice = fixtures::dmca_notice();
    notice.article_id.clear();
    notice.article_url = "javascript:alert(1)".into();
    notice.works[0].original_url = "https://example.org/\u{0}".into();
    notice.evidence[0].uri = "https://evidence.example.cn/\r\nX-Injected: 1".into();
    let c = notice.claimant.as_mut().expect("claimant");
    c.email = "Shen Chen <rights@legaldaily.example.cn>".into();
    c.name = "Shen\u{7}Chen".into();
    notice.items[0].excerpt = "line one\nline two\ttabbed".into(); // fine
    notice.signature = "Shen Chen\u{1b}[2J".into();
    let e = flow
        .claimant()
        .file_claim(pb::FileClaimRequest {
            request_id: "ok\u{0}".into(),
            claim: Some(notice),
        })
        .await
        .expect_err("hostile strings");
    let mut fields = violated_fields(&e);
    fields.sort();
    assert_eq!(
        fields,
        [
            "claim.article_url",
            "claim.claimant.email",
            "claim.claimant.name",
            "claim.evidence[0].uri",
            "claim.signature",
            "claim.works[0].original_url",
            "request_id",
        ]
    );

    let mut article = fixtures::article("news-2024-02-01", "https://news.example.org/\u{0}");
    article.title = "Title\u{0}".into();
    let e = flow
        .publisher()
        .upsert_article(pb::UpsertArticleRequest {
            article: Some(article),
        })
        .await
        .expect_err("control characters in an article");
    assert_eq!(violated_fields(&e), ["article.url", "article.title"]);
    assert_eq!(head_seq(&flow).await, before, "nothing was written");
    s.stop().await;
}

#[tokio::test]
async fn ids_must_be_well_formed() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let e = flow
        .reviewer_claims()
        .get_claim(pb::GetClaimRequest {
            claim_id: "../../etc/passwd".into(),
        })
        .await
        .expect_err("not a claim id");
    assert_eq!(violated_fields(&e), ["claim_id"]);

    let e = flow
        .reviewer_claims()
        .list_claims(pb::ListClaimsRequest {
            article_id: "a b".into(),
            assignee: "nobody".into(),
            ..Default::default()
        })
        .await
        .expect_err("bad filters");
    assert_eq!(e.code(), Code::InvalidArgument);

    let e = flow
        .publisher()
        .get_article(pb::GetArticleRequest {
            article_id: "x".repeat(129),
        })
        .await
        .expect_err("article id too long");
    assert_eq!(e.code(), Code::InvalidArgument);

    let e = s
        .admin(&s.admin_token)
        .await
        .revoke_principal(pb::RevokePrincipalRequest {
            principal_id: "admin".into(),
        })
        .await
        .expect_err("not a principal id");
    assert_eq!(violated_fields(&e), ["principal_id"]);
    s.stop().await;
}

#[tokio::test]
async fn page_size_is_capped_and_never_negative() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    flow.file_claim().await;
    let e = flow
        .reviewer_claims()
        .list_claims(pb::ListClaimsRequest {
            page_size: -1,
            ..Default::default()
        })
        .await
        .expect_err("negative page size");
    assert_eq!(violated_fields(&e), ["page_size"]);
    // A huge page size is read as the cap (500), not refused.
    let page = flow
        .reviewer_claims()
        .list_claims(pb::ListClaimsRequest {
            page_size: i32::MAX,
            ..Default::default()
        })
        .await
        .expect("capped")
        .into_inner();
    assert_eq!(page.claims.len(), 1);
    assert_eq!(takedown::api::MAX_PAGE_SIZE, 500);
    s.stop().await;
}

#[tokio::test]
async fn a_request_over_the_size_limit_is_refused_with_a_clear_error() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let before = head_seq(&flow).await;
    let mut notice = fixtures::dmca_notice();
    notice.items[0].excerpt = "x".repeat(300 * 1024);
    let request = pb::FileClaimRequest {
        request_id: String::new(),
        claim: Some(notice),
    };
    let size = prost::Message::encoded_len(&request);
    let e = flow
        .claimant()
        .file_claim(request)
        .await
        .expect_err("300 KiB request");
    // RESOURCE_EXHAUSTED, as grpc-go and grpc-java answer (tonic's own answer is
    // OUT_OF_RANGE), naming the size, the limit and the flag that sets it.
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    for part in [
        format!("the request is {size} bytes"),
        "262144 bytes (256 KiB)".to_string(),
        "--max-request-kib".to_string(),
    ] {
        assert!(e.message().contains(&part), "{part:?} in {}", e.message());
    }
    assert_eq!(head_seq(&flow).await, before, "nothing was written");
    s.stop().await;
}
