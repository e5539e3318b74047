//! The notification transports against real receivers: `Mailer` to an aiosmtpd server
//! (`testkit::smtp`), read back by Python's e-mail parser; `WebhookSender` to an HTTP
//! receiver that verifies the Standard Webhooks signature with its own HMAC
//! (`testkit::webhook_receiver`). A tampered body, a wrong secret and an old timestamp
//! must fail that check; each kind of refusal must come back as the right
//! `DeliveryError`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use takedown::notify::templates::{language, sample_facts};
use takedown::notify::{
    DeliveryError, Mailer, Rendered, Templates, WebhookSecret, WebhookSender, payload,
};
use takedown::pb;
use takedown::testkit::smtp::{SmtpSink, reserve_port};
use takedown::testkit::webhook_receiver::WebhookReceiver;

const WAIT: Duration = Duration::from_secs(10);
const FROM: &str = "Takedown <takedown@news.example.org>";

fn decision(id: &str, lang: &str) -> (pb::Notification, Rendered) {
    let mut n = pb::Notification {
        id: id.into(),
        language: lang.into(),
        create_time: Some(prost_types::Timestamp {
            seconds: 1_800_000_000,
            nanos: 0,
        }),
        facts: Some(sample_facts()),
        ..Default::default()
    };
    n.claim_id = n.facts.as_ref().unwrap().claim_id.clone();
    n.set_kind(pb::NotificationKind::Decision);
    n.set_recipient(pb::NotificationRecipient::Contributor);
    n.set_channel(pb::NotificationChannel::Email);
    let rendered = Templates::builtin().render(&n).unwrap();
    (n, rendered)
}

fn sender() -> WebhookSender {
    WebhookSender::new(Duration::from_secs(5)).unwrap()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn an_email_in_chinese_arrives_whole_with_its_id_and_language() {
    let sink = SmtpSink::start();
    let mailer = Mailer::from_url(&sink.url(), FROM).unwrap();
    let (n, rendered) = decision("0190f5a3-0000-7000-8000-00000000000a", "zh-CN");
    assert!(
        rendered.subject.contains("处理决定"),
        "{}",
        rendered.subject
    );

    mailer
        .send(&n.id, "wang.fang@example.net", &n.language, &rendered)
        .await
        .unwrap();

    let mails = sink.wait_for(1, WAIT).await;
    let mail = &mails[0];
    assert_eq!(mail.envelope_to, ["wang.fang@example.net"]);
    assert_eq!(mail.envelope_from, "takedown@news.example.org");
    assert_eq!(mail.to, "wang.fang@example.net");
    assert_eq!(mail.from, FROM);
    assert_eq!(mail.subject, rendered.subject);
    assert_eq!(
        mail.message_id,
        "<0190f5a3-0000-7000-8000-00000000000a@takedown>"
    );
    assert_eq!(mail.content_language, "zh-CN");
    assert_eq!(
        mail.header("X-Takedown-Notification"),
        Some("0190f5a3-0000-7000-8000-00000000000a")
    );
    assert!(
        mail.content_type.starts_with("text/plain"),
        "{}",
        mail.content_type
    );
    assert!(
        mail.content_type
            .to_ascii_lowercase()
            .replace('"', "")
            .contains("charset=utf-8"),
        "{}",
        mail.content_type
    );
    assert_eq!(mail.body.replace("\r\n", "\n"), rendered.body);
    assert!(mail.body.contains("理由说明"), "{}", mail.body);
}

#[tokio::test]
async fn an_unknown_language_goes_out_as_english_and_says_so() {
    let sink = SmtpSink::start();
    let mailer = Mailer::from_url(&sink.url(), FROM).unwrap();
    let (n, rendered) = decision("n-fr", "fr");
    assert_eq!(language(&n.language), "en");
    mailer
        .send(&n.id, "notifier@example.com", &n.language, &rendered)
        .await
        .unwrap();
    let mails = sink.wait_for(1, WAIT).await;
    assert_eq!(mails[0].content_language, "en");
    assert!(
        mails[0].subject.starts_with("Decision on claim"),
        "{}",
        mails[0].subject
    );
}

#[tokio::test]
async fn smtp_refusals_are_permanent_for_5xx_and_transient_for_4xx() {
    let sink = SmtpSink::start();
    let mailer = Mailer::from_url(&sink.url(), FROM).unwrap();
    let (n, rendered) = decision("n-refused", "en");

    let e = mailer
        .send(&n.id, "reject-permanent@example.net", "en", &rendered)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, DeliveryError::Permanent(m) if m.contains("550")),
        "{e:?}"
    );

    let e = mailer
        .send(&n.id, "reject-transient@example.net", "en", &rendered)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, DeliveryError::Transient(m) if m.contains("451")),
        "{e:?}"
    );

    let e = mailer
        .send(&n.id, "not an address", "en", &rendered)
        .await
        .unwrap_err();
    assert!(matches!(e, DeliveryError::Permanent(_)), "{e:?}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn smtp_down_is_transient_and_the_same_mailer_delivers_once_it_is_up() {
    let port = reserve_port();
    let mailer = Mailer::from_url(&format!("smtp://127.0.0.1:{port}"), FROM).unwrap();
    let (n, rendered) = decision("n-later", "en");

    let e = mailer
        .send(&n.id, "a@example.net", "en", &rendered)
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e:?}");

    let sink = SmtpSink::start_on(port);
    mailer
        .send(&n.id, "a@example.net", "en", &rendered)
        .await
        .unwrap();
    assert_eq!(
        sink.wait_for(1, WAIT).await[0].message_id,
        "<n-later@takedown>"
    );
}

#[tokio::test]
async fn a_signed_webhook_verifies_and_carries_the_notification() {
    let receiver = WebhookReceiver::start().await;
    let (n, rendered) = decision("0190f5a3-0000-7000-8000-00000000000b", "en");
    let body = payload(&n, &rendered);

    sender()
        .send(&receiver.url(), &receiver.secret(), &n.id, &body)
        .await
        .unwrap();

    let received = receiver.wait_for(1, WAIT).await;
    let r = &received[0];
    assert!(r.verified, "{r:?}");
    assert_eq!(r.status, 200);
    assert_eq!(r.id, n.id);
    assert!((unix_now() - r.timestamp).abs() < 60, "{r:?}");
    assert_eq!(r.body["type"], "notification.decision");
    assert_eq!(r.body["timestamp"], "2027-01-15T08:00:00Z");
    assert_eq!(r.body["data"]["notification"]["id"], n.id.as_str());
    assert_eq!(
        r.body["data"]["notification"]["facts"]["claimId"],
        n.claim_id.as_str()
    );
    assert_eq!(r.body["data"]["subject"], rendered.subject.as_str());
    assert_eq!(r.body["data"]["body"], rendered.body.as_str());
}

#[tokio::test]
async fn a_wrong_secret_fails_verification_and_is_permanent() {
    let receiver = WebhookReceiver::start().await;
    let (n, rendered) = decision("n-wrong-secret", "en");
    let other = WebhookSecret::generate();

    let e = sender()
        .send(&receiver.url(), &other, &n.id, &payload(&n, &rendered))
        .await
        .unwrap_err();

    assert!(
        matches!(&e, DeliveryError::Permanent(m) if m.contains("401")),
        "{e:?}"
    );
    let r = &receiver.received()[0];
    assert!(!r.verified);
    assert_eq!(r.status, 401);
    assert!(
        r.error.as_deref().unwrap().contains("no v1 signature"),
        "{r:?}"
    );
}

/// Posts `body` with headers signed over `signed_body` at `timestamp` by the
/// specification's own crate, bypassing `WebhookSender`.
async fn post_signed(
    receiver: &WebhookReceiver,
    id: &str,
    timestamp: i64,
    signed_body: &[u8],
    body: &[u8],
) -> u16 {
    let signature = standardwebhooks::Webhook::from_bytes(receiver.secret().key().to_vec())
        .unwrap()
        .sign(id, timestamp, signed_body)
        .unwrap();
    reqwest::Client::new()
        .post(receiver.url())
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_body_changed_after_signing_fails_verification() {
    let receiver = WebhookReceiver::start().await;
    let signed = br#"{"type":"notification.decision","data":{"outcome":"REJECT"}}"#;
    let changed = br#"{"type":"notification.decision","data":{"outcome":"DELETE"}}"#;

    // The untouched body passes the same path, so the failure below is the change.
    assert_eq!(
        post_signed(&receiver, "n-1", unix_now(), signed, signed).await,
        200
    );
    assert_eq!(
        post_signed(&receiver, "n-2", unix_now(), signed, changed).await,
        401
    );

    let received = receiver.received();
    assert!(received[0].verified, "{:?}", received[0]);
    assert!(!received[1].verified);
    assert!(
        received[1]
            .error
            .as_deref()
            .unwrap()
            .contains("no v1 signature"),
        "{:?}",
        received[1]
    );
    assert_eq!(received[1].body["data"]["outcome"], "DELETE");
}

#[tokio::test]
async fn an_old_or_future_timestamp_fails_verification() {
    let receiver = WebhookReceiver::start().await;
    let body = br#"{"type":"notification.receipt"}"#;
    assert_eq!(
        post_signed(&receiver, "n-old", unix_now() - 6 * 60, body, body).await,
        401
    );
    assert_eq!(
        post_signed(&receiver, "n-new", unix_now() + 6 * 60, body, body).await,
        401
    );
    assert_eq!(
        post_signed(&receiver, "n-now", unix_now() - 4 * 60, body, body).await,
        200
    );
    for r in &receiver.received()[..2] {
        assert!(!r.verified);
        assert!(
            r.error
                .as_deref()
                .unwrap()
                .contains("more than the 300 s allowed"),
            "{r:?}"
        );
    }
}

#[tokio::test]
async fn a_503_is_transient_and_the_retry_is_delivered() {
    let receiver = WebhookReceiver::start().await;
    receiver.respond_next(503, 1);
    let (n, rendered) = decision("n-retry", "en");
    let body = payload(&n, &rendered);

    let e = sender()
        .send(&receiver.url(), &receiver.secret(), &n.id, &body)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, DeliveryError::Transient(m) if m.contains("503")),
        "{e:?}"
    );

    sender()
        .send(&receiver.url(), &receiver.secret(), &n.id, &body)
        .await
        .unwrap();
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    assert_eq!((received[0].status, received[1].status), (503, 200));
    // Both attempts carry the same id, for the receiver to de-duplicate.
    assert_eq!(received[0].id, received[1].id);
}

#[tokio::test]
async fn statuses_map_to_transient_or_permanent() {
    let receiver = WebhookReceiver::start().await;
    let (n, rendered) = decision("n-status", "en");
    let body = payload(&n, &rendered);
    for (status, transient) in [
        (400, false),
        (404, false),
        (302, false),
        (408, true),
        (429, true),
        (500, true),
    ] {
        receiver.respond_next(status, 1);
        let e = sender()
            .send(&receiver.url(), &receiver.secret(), &n.id, &body)
            .await
            .unwrap_err();
        assert_eq!(e.is_transient(), transient, "{status}: {e:?}");
    }
}

#[tokio::test]
async fn a_receiver_that_is_not_listening_is_transient() {
    let port = reserve_port();
    let e = sender()
        .send(
            &format!("http://127.0.0.1:{port}/webhook"),
            &WebhookSecret::generate(),
            "n-down",
            b"{}",
        )
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e:?}");
}
