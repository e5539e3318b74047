//! Inputs that must not mislead or lock anyone out (findings of an outside probe):
//! the last admin cannot be revoked or suspended; a request_id names one notice; error
//! details stay small however many fields are wrong; every URL follows one rule and is
//! compared in its normal form, so spellings of one address are one article; an
//! article's URL cannot move under an open claim; timestamps and dates stay in range;
//! names and reasons carry no terminal escapes or invisible bidi characters.

use crate::common::flow::{Flow, error_info, violated_fields};
use crate::common::{TestServer, fixtures};
use takedown::pb::{self, Role};
use tonic::Code;

fn suspend_request(principal_id: &str) -> pb::SuspendPrincipalRequest {
    pb::SuspendPrincipalRequest {
        principal_id: principal_id.to_string(),
        reason: "probe".to_string(),
        until: Some(
            (crate::common::start_time() + std::time::Duration::from_secs(30 * 86_400)).into(),
        ),
    }
}

#[tokio::test]
async fn the_last_admin_can_be_neither_revoked_nor_suspended() {
    let s = TestServer::start().await;
    let mut admin = s.admin(&s.admin_token).await;
    let me = admin
        .list_principals(pb::ListPrincipalsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .principals
        .into_iter()
        .find(|p| p.roles.contains(&(Role::Admin as i32)))
        .expect("the first admin");
    let e = admin
        .revoke_principal(pb::RevokePrincipalRequest {
            principal_id: me.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    assert_eq!(error_info(&e).0, "LAST_ADMIN");
    assert!(e.message().contains("admin-token"), "{}", e.message());
    let e = admin
        .suspend_principal(suspend_request(&me.id))
        .await
        .unwrap_err();
    assert_eq!(error_info(&e).0, "LAST_ADMIN");
    // The token still works: nothing was written.
    admin
        .list_principals(pb::ListPrincipalsRequest::default())
        .await
        .expect("still an admin");

    // With a second admin, the first may go; the second then may not.
    let (second_id, second_token) = s.principal("Second operator", &[Role::Admin]).await;
    admin
        .revoke_principal(pb::RevokePrincipalRequest {
            principal_id: me.id.clone(),
        })
        .await
        .expect("another admin remains");
    let mut second = s.admin(&second_token).await;
    let e = second
        .revoke_principal(pb::RevokePrincipalRequest {
            principal_id: second_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(error_info(&e).0, "LAST_ADMIN");
    s.stop().await;
}

#[tokio::test]
async fn a_request_id_names_one_notice() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let request = |notice: pb::Claim| pb::FileClaimRequest {
        request_id: "7f0c1d2e-one-notice".to_string(),
        claim: Some(notice),
    };
    let first = flow
        .claimant()
        .file_claim(request(fixtures::dmca_notice()))
        .await
        .unwrap()
        .into_inner()
        .claim
        .unwrap();
    // The same notice again is a retry: the first claim.
    let again = flow
        .claimant()
        .file_claim(request(fixtures::dmca_notice()))
        .await
        .unwrap()
        .into_inner()
        .claim
        .unwrap();
    assert_eq!(again.id, first.id);
    // Another notice under the same request_id is a client bug, not a retry.
    let mut other = fixtures::dmca_notice();
    other.rights_owner = "Someone else entirely".to_string();
    let e = flow
        .claimant()
        .file_claim(request(other))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists, "{e:?}");
    assert!(e.message().contains(&first.id), "{}", e.message());
    assert!(e.message().contains("new request_id"), "{}", e.message());
    s.stop().await;
}

#[tokio::test]
async fn error_details_stay_small_however_many_fields_are_wrong() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let claim = flow.file_claim().await;
    // 20,000 bogus update_mask paths: one violation for the list.
    let e = flow
        .claimant()
        .amend_claim(pb::AmendClaimRequest {
            claim_id: claim.id.clone(),
            claim: Some(fixtures::dmca_notice()),
            update_mask: Some(prost_types::FieldMask {
                paths: (0..20_000).map(|i| format!("bogus_{i}")).collect(),
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&e), ["update_mask"]);
    assert!(e.details().len() < 4_096, "{} bytes", e.details().len());
    // A notice with 1,000 bad evidence hashes lists at most 100 violations.
    let mut notice = fixtures::dmca_notice();
    notice.evidence = (0..1_000)
        .map(|_| pb::Evidence {
            uri: "https://evidence.example.org/x.pdf".to_string(),
            sha256: "nothex".to_string(),
            description: String::new(),
        })
        .collect();
    notice.works = (0..1_000)
        .map(|_| pb::Work {
            description: String::new(),
            original_url: "javascript:alert(1)".to_string(),
        })
        .collect();
    notice.items = (0..100)
        .map(|_| pb::Item {
            kind: 0,
            locator: String::new(),
            excerpt: String::new(),
        })
        .collect();
    let e = flow
        .claimant()
        .file_claim(pb::FileClaimRequest {
            claim: Some(notice),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    let fields = violated_fields(&e);
    assert!(fields.len() <= 100, "{} violations", fields.len());
    assert!(fields.len() > 50, "{} violations", fields.len());
    assert!(e.message().contains("the first 100"), "{}", e.message());
    s.stop().await;
}

#[tokio::test]
async fn evidence_links_follow_the_url_rule() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    for uri in [
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
        "file:///etc/passwd",
        "not a url",
        "https://user:pw@evidence.example.org/x.pdf",
    ] {
        let mut notice = fixtures::dmca_notice();
        notice.evidence[0].uri = uri.to_string();
        let e = flow
            .claimant()
            .file_claim(pb::FileClaimRequest {
                claim: Some(notice),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{uri}");
        assert_eq!(violated_fields(&e), ["claim.evidence[0].uri"], "{uri}");
    }
    // An accepted link is stored in its normal form.
    let mut notice = fixtures::dmca_notice();
    notice.evidence[0].uri = "HTTPS://Evidence.Example.ORG:443/a/../x.pdf#page=2".to_string();
    let claim = flow.file(notice).await;
    assert_eq!(claim.evidence[0].uri, "https://evidence.example.org/x.pdf");
    s.stop().await;
}

#[tokio::test]
async fn spellings_of_one_url_are_one_article() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let base = "https://news.example.org/story";
    let registered = flow
        .register(fixtures::article(
            "story-1",
            "HTTPS://News.Example.org:443/./story/",
        ))
        .await;
    assert_eq!(registered.url, base, "stored in normal form");
    for (i, alias) in [
        "https://news.example.org/story/",
        "https://news.example.org:443/story",
        "https://NEWS.EXAMPLE.ORG/story",
        "https://news.example.org/./story",
        "https://news.example.org/%73tory",
        "https://news.example.org./story",
        "https://news.example.org/x/../story",
        "https://news.example.org/story#top",
    ]
    .into_iter()
    .enumerate()
    {
        let e = flow
            .publisher()
            .upsert_article(pb::UpsertArticleRequest {
                article: Some(fixtures::article(&format!("alias-{i}"), alias)),
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::AlreadyExists, "{alias}: {e:?}");
        // A notice naming the article by any spelling reaches it.
        let mut notice = fixtures::notice("", pb::Regime::Dmca);
        notice.article_url = alias.to_string();
        let claim = flow.file(notice).await;
        assert_eq!(claim.article_id, "story-1", "{alias}");
    }
    s.stop().await;
}

#[tokio::test]
async fn an_article_url_cannot_move_under_an_open_claim() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let claim = flow.file_claim().await;
    let mut moved = fixtures::seed_article();
    moved.url = "https://news.example.org/elsewhere".to_string();
    let e = flow
        .publisher()
        .upsert_article(pb::UpsertArticleRequest {
            article: Some(moved.clone()),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    assert_eq!(error_info(&e).0, "OPEN_CLAIMS");
    assert!(e.message().contains(&claim.id), "{}", e.message());
    // Once the claim is settled, the article may move.
    flow.withdraw(&claim).await;
    let a = flow
        .publisher()
        .upsert_article(pb::UpsertArticleRequest {
            article: Some(moved),
        })
        .await
        .expect("no open claim")
        .into_inner()
        .article
        .unwrap();
    assert_eq!(a.url, "https://news.example.org/elsewhere");
    s.stop().await;
}

#[tokio::test]
async fn timestamps_and_dates_out_of_range_are_refused() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    for (seconds, nanos) in [
        (1i64 << 62, 0),
        (-(1i64 << 62), 0),
        (0, 2_000_000_000),
        (0, -1),
    ] {
        let mut a = fixtures::article("time-probe", "https://news.example.org/time-probe");
        a.publish_time = Some(prost_types::Timestamp { seconds, nanos });
        let e = flow
            .publisher()
            .upsert_article(pb::UpsertArticleRequest { article: Some(a) })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{seconds} {nanos}");
        assert_eq!(violated_fields(&e), ["article.publish_time"]);
    }
    let e = flow
        .publisher()
        .get_article(pb::GetArticleRequest {
            article_id: "time-probe".to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "nothing was stored");
    let mut admin = s.admin(&s.admin_token).await;
    let (id, _) = s.principal("Probe", &[Role::Claimant]).await;
    let mut req = suspend_request(&id);
    req.until = Some(prost_types::Timestamp {
        seconds: 1 << 62,
        nanos: 0,
    });
    let e = admin.suspend_principal(req).await.unwrap_err();
    assert_eq!(violated_fields(&e), ["until"]);

    // filed_date: a real calendar date in a sane range.
    let claim = flow
        .claim_in(fixtures::ARTICLE_ID, pb::ClaimState::CounterNoticed)
        .await;
    for date in ["0000-01-01", "9999-12-31", "1899-12-31"] {
        let mut req = crate::common::flow::legal_action_request(&claim);
        req.filed_date = date.to_string();
        let e = flow.claimant().report_legal_action(req).await.unwrap_err();
        assert_eq!(violated_fields(&e), ["filed_date"], "{date}");
    }
    s.stop().await;
}

#[tokio::test]
async fn names_and_reasons_carry_no_escapes_or_invisible_characters() {
    let s = TestServer::start().await;
    let mut admin = s.admin(&s.admin_token).await;
    for name in [
        "Evil\u{1b}[2J desk",
        "Carriage\rreturn",
        "nul\u{0}",
        "admin\u{202e}kcab",
        "zero\u{200b}width",
    ] {
        let e = admin
            .create_principal(pb::CreatePrincipalRequest {
                display_name: name.to_string(),
                roles: vec![Role::Claimant as i32],
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&e), ["display_name"], "{name:?}");
    }
    let (id, _) = s.principal("Probe", &[Role::Claimant]).await;
    let mut req = suspend_request(&id);
    req.reason = "spam\u{1b}]0;pwned\u{7}".to_string();
    let e = admin.suspend_principal(req).await.unwrap_err();
    assert_eq!(violated_fields(&e), ["reason"]);
    // In a notice too: a claimant name with a bidi override.
    let flow = Flow::new(&s).await;
    let mut notice = fixtures::dmca_notice();
    if let Some(c) = notice.claimant.as_mut() {
        c.name = "Legal Daily\u{2066} desk".to_string();
        c.email = "rights\u{200d}@legaldaily.com.cn".to_string();
    }
    let e = flow
        .claimant()
        .file_claim(pb::FileClaimRequest {
            claim: Some(notice),
            ..Default::default()
        })
        .await
        .unwrap_err();
    let mut fields = violated_fields(&e);
    fields.sort();
    assert_eq!(fields, ["claim.claimant.email", "claim.claimant.name"]);
    s.stop().await;
}
