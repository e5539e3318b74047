//! The notification outbox end to end: a real SMTP server (aiosmtpd, started by the
//! test) and a real webhook receiver that checks Standard Webhooks signatures; the
//! server delivers what each change gives rise to, retries while the mail server is
//! down, records what it cannot deliver, and an operator lists and retries.

use std::time::Duration;

use takedown::pb::{
    self, ClaimState, DecisionOutcome, NotificationKind as Kind, NotificationStatus as Status,
    Regime, Role,
};
use takedown::server::Config;
use takedown::testkit::smtp::{ReceivedMail, SmtpSink};
use takedown::testkit::webhook_receiver::WebhookReceiver;

use crate::common::daemon::free_port;
use crate::common::flow::{Flow, assert_state, error_info};
use crate::common::{TestServer, fixtures};

const WAIT: Duration = Duration::from_secs(20);

/// A server that sends e-mail through `smtp_url` and the site's webhooks to
/// `webhook`, retrying quickly.
async fn server(smtp_url: Option<String>, webhook: Option<&WebhookReceiver>) -> TestServer {
    let webhook = webhook.map(|w| (w.url(), w.secret()));
    TestServer::start_with(move |c: &mut Config| {
        c.notify.smtp_url = smtp_url;
        c.notify.smtp_from = "Legal Daily <takedown@news.example.org>".to_string();
        if let Some((url, secret)) = webhook {
            c.notify.webhook_url = Some(url);
            c.notify.webhook_secret = Some(secret);
        }
        c.notify.retry_base = Duration::from_millis(200);
        c.notify.public_base_url = Some("https://news.example.org/takedown".to_string());
    })
    .await
}

/// The seed article as contributed content, with its contributor's e-mail.
fn contributed_article() -> pb::Article {
    let mut a = fixtures::seed_article();
    a.content_origin = pb::ContentOrigin::Contributed as i32;
    a.contributor = Some(pb::Contributor {
        account_id: "user:ying".to_string(),
        display_name: "Ying Ying".to_string(),
        email: "ying@readers.example.org".to_string(),
    });
    a
}

/// Every notification of `claim_id`, as an admin lists them.
async fn notifications(s: &TestServer, claim_id: &str) -> Vec<pb::Notification> {
    let mut admin = s.admin(&s.admin_token).await;
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = admin
            .list_notifications(pb::ListNotificationsRequest {
                claim_id: claim_id.to_string(),
                page_size: 2,
                page_token,
                ..Default::default()
            })
            .await
            .expect("ListNotifications")
            .into_inner();
        all.extend(page.notifications);
        if page.next_page_token.is_empty() {
            return all;
        }
        page_token = page.next_page_token;
    }
}

/// Waits until every notification of `claim_id` has left PENDING. The test clock
/// moves a second per look, so that retries come due.
async fn settled(s: &TestServer, claim_id: &str) -> Vec<pb::Notification> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        s.clock.advance(Duration::from_secs(1));
        let all = notifications(s, claim_id).await;
        if !all.is_empty() && all.iter().all(|n| n.status() != Status::Pending) {
            return all;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still pending after {WAIT:?}: {all:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The mail of `kind` to `to` (each notification's Message-ID is <id@takedown>).
fn mail<'a>(
    mails: &'a [ReceivedMail],
    all: &[pb::Notification],
    kind: Kind,
    to: &str,
) -> &'a ReceivedMail {
    let n = all
        .iter()
        .find(|n| n.kind() == kind && n.address == to)
        .unwrap_or_else(|| panic!("no {kind:?} notification to {to}: {all:#?}"));
    assert_eq!(n.status(), Status::Delivered, "{n:#?}");
    let id = format!("<{}@takedown>", n.id);
    mails
        .iter()
        .find(|m| m.message_id == id)
        .unwrap_or_else(|| panic!("no mail with Message-ID {id}"))
}

#[tokio::test]
async fn every_party_is_told_by_email_what_happened_and_what_it_may_do() {
    let smtp = SmtpSink::start();
    let s = server(Some(smtp.url()), None).await;
    let flow = Flow::new(&s).await;
    flow.register(contributed_article()).await;
    let notifier = "rights@legaldaily.example.cn";
    let contributor = "ying@readers.example.org";

    // Filed: a receipt to the notifier, the notice forwarded to the contributor.
    let c = flow.file_claim().await;
    let all = settled(&s, &c.id).await;
    assert_eq!(all.len(), 2, "{all:#?}");
    let mails = smtp.wait_for(2, WAIT).await;
    let receipt = mail(&mails, &all, Kind::Receipt, notifier);
    assert_eq!(receipt.envelope_to, vec![notifier.to_string()]);
    assert_eq!(receipt.content_language, "en");
    assert!(receipt.body.contains(&c.id), "{}", receipt.body);
    assert!(
        receipt.body.contains(&format!(
            "https://news.example.org/takedown/claims/{}",
            c.id
        )),
        "{}",
        receipt.body
    );
    let forwarded = mail(&mails, &all, Kind::NoticeForwarded, contributor);
    for secret in ["10 Beisanhuan Rd", "+86 10 8413 0000"] {
        assert!(
            !forwarded.body.contains(secret),
            "the contributor was sent the notifier's {secret}: {}",
            forwarded.body
        );
    }

    // Decided DELETE: both are told, with the statement of reasons and their redress.
    let c = flow.start_review(&c).await;
    let c = flow.decide(&c, DecisionOutcome::Delete).await;
    let all = settled(&s, &c.id).await;
    assert_eq!(all.len(), 4, "{all:#?}");
    let mails = smtp.wait_for(4, WAIT).await;
    let to_contributor = mail(&mails, &all, Kind::Decision, contributor);
    let reasons = fixtures::reasons();
    for part in [&reasons.facts, &reasons.legal_ground, &reasons.explanation] {
        assert!(
            to_contributor.body.contains(part.as_str()),
            "{}",
            to_contributor.body
        );
    }
    let facts = all
        .iter()
        .find(|n| n.kind() == Kind::Decision && n.address == contributor)
        .and_then(|n| n.facts.clone())
        .expect("facts");
    let ways: Vec<_> = facts.redress.iter().map(|r| r.kind()).collect();
    assert!(
        ways.contains(&pb::RedressKind::CounterNotice)
            && ways.contains(&pb::RedressKind::Complaint),
        "a contributor whose content was deleted may counter-notify and complain: {ways:?}"
    );
    for secret in ["10 Beisanhuan Rd", "+86 10 8413 0000"] {
        assert!(
            !to_contributor.body.contains(secret),
            "{}",
            to_contributor.body
        );
    }
    mail(&mails, &all, Kind::Decision, notifier);

    // The counter-notice: the notifier gets it whole, with the restoration date.
    let c = flow.counter_notice(&c).await;
    assert_state(&c, ClaimState::CounterNoticed);
    let all = settled(&s, &c.id).await;
    let mails = smtp.wait_for(5, WAIT).await;
    let copy = mail(&mails, &all, Kind::CounterNoticeForwarded, notifier);
    let cn = fixtures::counter_notice();
    assert!(copy.body.contains(&cn.statement), "{}", copy.body);
    assert!(copy.body.contains(&cn.postal_address), "{}", copy.body);
    let due = c
        .next_deadline
        .and_then(|d| d.due_time)
        .expect("DMCA counts from the counter-notice");
    let date =
        takedown::writer::commands::rfc3339(std::time::SystemTime::try_from(due).expect("time"));
    assert!(
        copy.body.contains(&date[..10]),
        "{date} not in {}",
        copy.body
    );

    // Every attempt is in the claim's audit trail, without an address.
    let trail = flow.claim_audit(&c.id).await;
    let attempts: Vec<_> = trail
        .iter()
        .filter(|e| e.action == "DeliverNotification")
        .collect();
    assert_eq!(attempts.len(), 5, "{trail:#?}");
    assert!(
        attempts.iter().all(|e| !e.detail.contains('@')),
        "{attempts:#?}"
    );
    assert!(flow.verify().await.ok);
    s.stop().await;
}

#[tokio::test]
async fn a_prc_notice_is_written_in_chinese_and_its_clock_starts_on_delivery() {
    let smtp = SmtpSink::start();
    let s = server(Some(smtp.url()), None).await;
    let flow = Flow::new(&s).await;
    let c = flow
        .file(fixtures::notice(fixtures::ARTICLE_ID, Regime::PrcCivilCode))
        .await;
    let all = settled(&s, &c.id).await;
    let mails = smtp.wait_for(1, WAIT).await;
    let receipt = mail(&mails, &all, Kind::Receipt, "rights@legaldaily.example.cn");
    assert_eq!(receipt.content_language, "zh-CN");
    assert!(
        receipt
            .subject
            .chars()
            .any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch)),
        "subject {:?}",
        receipt.subject
    );
    let c = flow.start_review(&c).await;
    let c = flow.decide(&c, DecisionOutcome::Delete).await;
    let c = flow.counter_notice(&c).await;
    let waiting = c.next_deadline.expect("a restoration deadline");
    assert_eq!(waiting.kind(), pb::DeadlineKind::Restoration);
    assert_eq!(
        waiting.due_time, None,
        "no clock before the forwarding arrives"
    );
    let all = settled(&s, &c.id).await;
    let forwarded = all
        .iter()
        .find(|n| n.kind() == Kind::CounterNoticeForwarded)
        .expect("forwarded");
    let delivered = forwarded.deliver_time.expect("delivered");
    let c = flow.get(&c.id).await;
    let due = c
        .next_deadline
        .and_then(|d| d.due_time)
        .expect("clock started");
    assert_eq!(due.seconds - delivered.seconds, 15 * 86_400);
    s.stop().await;
}

#[tokio::test]
async fn the_site_is_told_by_a_signed_webhook() {
    let hook = WebhookReceiver::start().await;
    let s = server(None, Some(&hook)).await;
    let flow = Flow::new(&s).await;
    // Editorial content: no contributor, so the publisher is told.
    let c = flow.file_claim().await;
    let all = settled(&s, &c.id).await;
    let to_site: Vec<_> = all
        .iter()
        .filter(|n| n.recipient() == pb::NotificationRecipient::Publisher)
        .collect();
    assert_eq!(to_site.len(), 1, "{all:#?}");
    assert_eq!(to_site[0].status(), Status::Delivered, "{all:#?}");
    // The receipt to the notifier is e-mail, and there is no SMTP server.
    let receipt = all
        .iter()
        .find(|n| n.kind() == Kind::Receipt)
        .expect("receipt");
    assert_eq!(receipt.status(), Status::Undeliverable);
    assert!(receipt.last_error.contains("--smtp-url"), "{receipt:#?}");

    let got = hook.wait_for(1, WAIT).await;
    assert_eq!(
        got[0].id, to_site[0].id,
        "webhook-id is the notification id"
    );
    assert!(got[0].verified, "{:?}", got[0].error);
    assert_eq!(got[0].body["type"], "notification.notice_forwarded");
    assert_eq!(
        got[0].body["data"]["notification"]["claimId"],
        c.id.as_str()
    );

    // Only a DEAD or UNDELIVERABLE notification can be retried.
    let e = s
        .admin(&s.admin_token)
        .await
        .retry_notification(pb::RetryNotificationRequest {
            notification_id: to_site[0].id.clone(),
        })
        .await
        .expect_err("a delivered notification is not retried");
    assert_eq!(e.code(), tonic::Code::FailedPrecondition);
    assert_eq!(error_info(&e).0, "NOT_RETRYABLE");
    s.stop().await;
}

#[tokio::test]
async fn a_mail_server_down_at_first_is_retried_until_it_is_up() {
    let port = free_port();
    let s = server(Some(format!("smtp://127.0.0.1:{port}")), None).await;
    let flow = Flow::new(&s).await;
    let c = flow.file_claim().await;
    // Attempts fail while nothing listens, and are journaled as they fail.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        s.clock.advance(Duration::from_secs(1));
        let all = notifications(&s, &c.id).await;
        let receipt = all
            .iter()
            .find(|n| n.kind() == Kind::Receipt)
            .expect("receipt");
        if receipt.attempt_count >= 2 {
            assert_eq!(receipt.status(), Status::Pending, "{receipt:#?}");
            assert!(!receipt.last_error.is_empty(), "{receipt:#?}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{receipt:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let smtp = SmtpSink::start_on(port);
    let all = settled(&s, &c.id).await;
    let receipt = all
        .iter()
        .find(|n| n.kind() == Kind::Receipt)
        .expect("receipt");
    assert_eq!(receipt.status(), Status::Delivered, "{receipt:#?}");
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails[0].message_id, format!("<{}@takedown>", receipt.id));
    s.stop().await;
}

#[tokio::test]
async fn without_a_channel_nothing_is_lost_and_an_operator_retries() {
    let s = server(None, None).await;
    let flow = Flow::new(&s).await;
    let c = flow.file_claim().await;
    let all = settled(&s, &c.id).await;
    assert_eq!(all.len(), 2, "{all:#?}");
    assert!(
        all.iter().all(|n| n.status() == Status::Undeliverable),
        "{all:#?}"
    );
    let mut admin = s.admin(&s.admin_token).await;
    // Filters: by status and by kind, across claims.
    let dead = admin
        .list_notifications(pb::ListNotificationsRequest {
            status: Status::Undeliverable as i32,
            kind: Kind::Receipt as i32,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .notifications;
    assert_eq!(dead.len(), 1, "{dead:#?}");
    let retried = admin
        .retry_notification(pb::RetryNotificationRequest {
            notification_id: dead[0].id.clone(),
        })
        .await
        .expect("retry")
        .into_inner()
        .notification
        .expect("notification");
    assert_eq!(retried.status(), Status::Pending);
    assert_eq!(retried.attempt_count, 0);
    let all = settled(&s, &c.id).await;
    assert!(all.iter().all(|n| n.status() == Status::Undeliverable));
    let trail = flow.claim_audit(&c.id).await;
    assert!(
        trail.iter().any(|e| e.action == "RetryNotification"),
        "{trail:#?}"
    );

    // Bad requests change nothing and say what was wrong.
    let e = admin
        .retry_notification(pb::RetryNotificationRequest {
            notification_id: "nope".to_string(),
        })
        .await
        .expect_err("invalid");
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    let e = admin
        .retry_notification(pb::RetryNotificationRequest {
            notification_id: uuid::Uuid::now_v7().to_string(),
        })
        .await
        .expect_err("unknown");
    assert_eq!(e.code(), tonic::Code::NotFound);
    let e = admin
        .list_notifications(pb::ListNotificationsRequest {
            claim_id: "x".to_string(),
            status: 99,
            ..Default::default()
        })
        .await
        .expect_err("invalid");
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(e.message().contains("claim_id") || !e.details().is_empty());
    let retried_again = all[0].id.clone();
    // Auditors may list, not retry; claimants neither.
    let (_, auditor) = s.principal("Auditor 2", &[Role::Auditor]).await;
    let mut as_auditor = s.admin(&auditor).await;
    assert!(
        as_auditor
            .list_notifications(pb::ListNotificationsRequest::default())
            .await
            .is_ok()
    );
    let e = as_auditor
        .retry_notification(pb::RetryNotificationRequest {
            notification_id: retried_again,
        })
        .await
        .expect_err("auditors do not retry");
    assert_eq!(
        e.code(),
        tonic::Code::PermissionDenied,
        "{:?}",
        error_info(&e)
    );
    s.stop().await;
}

/// kill -9 of `takedownd` while it files and delivers: after a clean start, every
/// notification of every acknowledged notice is delivered at least once (receivers
/// see its id), none is lost, and none is made twice (each notice has exactly its
/// receipt and its forwarding).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_deliveries_loses_no_notification_and_makes_none_twice() {
    use crate::common::daemon::Daemon;
    use std::collections::BTreeSet;
    use takedown::pb::admin_service_client::AdminServiceClient;
    use takedown::pb::claim_service_client::ClaimServiceClient;
    use takedown::pb::publisher_service_client::PublisherServiceClient;
    use takedown::testkit::{authed, create_principal};

    let smtp = SmtpSink::start();
    let hook = WebhookReceiver::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let secret_file = dir.path().join("webhook.secret");
    std::fs::write(&secret_file, hook.secret().to_string()).expect("secret file");
    let args = vec![
        "--file-claim-rate".to_string(),
        "0".to_string(),
        "--smtp-url".to_string(),
        smtp.url(),
        "--webhook-url".to_string(),
        hook.url(),
        "--webhook-secret-file".to_string(),
        secret_file.display().to_string(),
        "--notify-retry-base".to_string(),
        "100ms".to_string(),
    ];
    let log = |name: &str| dir.path().join(format!("{name}.log"));

    let d = Daemon::start(&data, &log("setup"), &args).await;
    let admin = Daemon::admin_token(&data);
    let ch = d.channel().await;
    let (_, claimant) = create_principal(&ch, &admin, "Rights desk", &[Role::Claimant]).await;
    let (_, publisher) = create_principal(&ch, &admin, "CMS", &[Role::Publisher]).await;
    PublisherServiceClient::new(authed(&ch, &publisher))
        .upsert_article(pb::UpsertArticleRequest {
            article: Some(fixtures::seed_article()),
        })
        .await
        .expect("register the article");
    drop(d);

    let mut acknowledged = BTreeSet::new();
    for round in 0..4u64 {
        let d = Daemon::start(&data, &log(&format!("round-{round}")), &args).await;
        let ch = d.channel().await;
        let filing = {
            let ch = ch.clone();
            let claimant = claimant.clone();
            tokio::spawn(async move {
                let mut client = ClaimServiceClient::new(authed(&ch, &claimant));
                let mut filed = Vec::new();
                loop {
                    let r = client
                        .file_claim(pb::FileClaimRequest {
                            request_id: String::new(),
                            claim: Some(fixtures::dmca_notice()),
                        })
                        .await;
                    match r {
                        Ok(r) => filed.push(r.into_inner().claim.expect("claim").id),
                        Err(_) => return filed,
                    }
                }
            })
        };
        tokio::time::sleep(Duration::from_millis(150 + 100 * round)).await;
        drop(d); // SIGKILL, mid-filing and mid-delivery
        acknowledged.extend(filing.await.expect("filing task"));
    }
    assert!(
        acknowledged.len() >= 4,
        "only {} notices acknowledged",
        acknowledged.len()
    );

    let d = Daemon::start(&data, &log("clean"), &args).await;
    let mut admin = AdminServiceClient::new(authed(&d.channel().await, &admin));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let notifications = loop {
        let mut all = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = admin
                .list_notifications(pb::ListNotificationsRequest {
                    page_size: 500,
                    page_token,
                    ..Default::default()
                })
                .await
                .expect("list")
                .into_inner();
            all.extend(page.notifications);
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        if all.iter().all(|n| n.status() == Status::Delivered) {
            break all;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not all delivered: {:?}",
            all.iter()
                .filter(|n| n.status() != Status::Delivered)
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Exactly a receipt and a forwarding per acknowledged notice.
    for claim in &acknowledged {
        let mine: Vec<_> = notifications
            .iter()
            .filter(|n| &n.claim_id == claim)
            .map(|n| n.kind())
            .collect();
        assert_eq!(
            mine.len(),
            2,
            "claim {claim} has {mine:?}, not one receipt and one forwarding"
        );
        assert!(mine.contains(&Kind::Receipt) && mine.contains(&Kind::NoticeForwarded));
    }
    // Every one reached its receiver at least once, under its own id.
    let mailed: BTreeSet<String> = smtp
        .messages()
        .into_iter()
        .map(|m| {
            m.message_id
                .trim_matches(['<', '>'])
                .trim_end_matches("@takedown")
                .to_string()
        })
        .collect();
    let posted: BTreeSet<String> = hook
        .received()
        .into_iter()
        .filter(|r| r.verified)
        .map(|r| r.id)
        .collect();
    for n in &notifications {
        let seen = match n.channel() {
            pb::NotificationChannel::Email => mailed.contains(&n.id),
            _ => posted.contains(&n.id),
        };
        assert!(seen, "notification {} ({:?}) never arrived", n.id, n.kind());
    }
    println!(
        "{} acknowledged notices, {} notifications, {} mails and {} webhooks received (duplicates allowed)",
        acknowledged.len(),
        notifications.len(),
        smtp.messages().len(),
        hook.received().len()
    );
}

#[tokio::test]
async fn an_organisation_gets_its_notifications_on_its_own_signed_webhook() {
    use takedown::notify::WebhookSecret;
    use takedown::pb::claim_service_client::ClaimServiceClient;
    let s = server(None, None).await;
    let flow = Flow::new(&s).await;
    let mut admin = s.admin(&s.admin_token).await;
    // Its receiver is listening before the principal exists; the secret comes with it.
    let placeholder = WebhookSecret::generate();
    let hook = WebhookReceiver::start_with(placeholder).await;
    let created = admin
        .create_principal(pb::CreatePrincipalRequest {
            display_name: "Rights agency".to_string(),
            roles: vec![Role::Claimant as i32],
            webhook_url: hook.url(),
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner();
    assert_eq!(
        created.principal.as_ref().expect("p").webhook_url,
        hook.url()
    );
    let secret = WebhookSecret::parse(&created.webhook_secret).expect("a whsec_ secret");
    hook.set_secret(secret);
    let mut agency = ClaimServiceClient::new(takedown::testkit::authed(
        &s.channel().await,
        &created.token,
    ));
    let c = agency
        .file_claim(pb::FileClaimRequest {
            request_id: String::new(),
            claim: Some(fixtures::dmca_notice()),
        })
        .await
        .expect("file")
        .into_inner()
        .claim
        .expect("claim");
    let all = settled(&s, &c.id).await;
    let by_hook = all
        .iter()
        .find(|n| n.kind() == Kind::Receipt && n.channel() == pb::NotificationChannel::Webhook)
        .expect("a receipt by the agency's webhook");
    assert_eq!(by_hook.status(), Status::Delivered, "{by_hook:#?}");
    let got = hook.wait_for(1, WAIT).await;
    assert_eq!(got[0].id, by_hook.id);
    assert!(
        got[0].verified,
        "signed with the agency's secret: {:?}",
        got[0].error
    );
    // The principal listing never shows the secret.
    let listed = admin
        .list_principals(pb::ListPrincipalsRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert!(!format!("{listed:?}").contains(&created.webhook_secret));

    // Only a claimant gets a webhook, and only to an http(s) URL.
    for (roles, url) in [
        (vec![Role::Reviewer as i32], "https://example.org/hook"),
        (vec![Role::Claimant as i32], "ftp://example.org/hook"),
    ] {
        let e = admin
            .create_principal(pb::CreatePrincipalRequest {
                display_name: "Bad".to_string(),
                roles,
                webhook_url: url.to_string(),
                ..Default::default()
            })
            .await
            .expect_err("refused");
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        assert_eq!(crate::common::flow::violated_fields(&e), ["webhook_url"]);
    }
    drop(flow);
    s.stop().await;
}
