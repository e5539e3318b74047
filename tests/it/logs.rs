//! What the request logs say, and what they never say. A whole lifecycle runs against
//! an in-process server while every log line (at debug level, in both the text and
//! the JSON format) is captured: each RPC has its line with the method, the principal,
//! the claim and the status code, and no bearer token, postal address or phone number
//! appears anywhere.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::common::flow::Flow;
use crate::common::{TestServer, fixtures};
use takedown::pb::{ClaimState, LegalActionOutcome};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// A log sink in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

thread_local! {
    /// The scoped subscriber of a runtime thread, for as long as the thread runs.
    static SCOPED: std::cell::RefCell<Option<tracing::dispatcher::DefaultGuard>> =
        const { std::cell::RefCell::new(None) };
}

/// A runtime whose threads (workers and blocking pool) log to `dispatch`. The other
/// tests of this binary run in the same process at the same time, so a global
/// subscriber would capture their lines too; the server under test runs on this
/// runtime's threads, and so do its request logs. (The writer's own thread logs only
/// failures, and none happens here.)
fn runtime_logging_to(dispatch: tracing::Dispatch) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(move || {
            let guard = tracing::dispatcher::set_default(&dispatch);
            SCOPED.with(|s| *s.borrow_mut() = Some(guard));
        })
        .on_thread_stop(|| SCOPED.with(|s| drop(s.borrow_mut().take())))
        .build()
        .expect("test runtime")
}

#[test]
fn request_logs_name_the_call_and_never_the_secrets() {
    let text = Captured::default();
    let json = Captured::default();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("debug"))
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(text.clone()),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_writer(json.clone()),
        );
    let dispatch = tracing::Dispatch::new(subscriber);
    let _on_this_thread = tracing::dispatcher::set_default(&dispatch);
    runtime_logging_to(dispatch.clone()).block_on(async move {
        let s = TestServer::start().await;
        let flow = Flow::new(&s).await;
        // tracing caches per call site whether anyone listens. Another test thread that
        // registered a call site while this dispatcher was being registered may have
        // cached "no one" over it: ask every call site again, now that it is live.
        tracing::callsite::rebuild_interest_cache();
        let claim = flow
            .claim_in(fixtures::ARTICLE_ID, ClaimState::LegalActionPending)
            .await;
        flow.resolve(&claim, LegalActionOutcome::Dismissed).await;
        let read = flow.get(&claim.id).await;
        let _ = flow.claim_audit(&claim.id).await;
        let _ = flow.verify().await;
        // Refused by the auth layer: still one line, with its code.
        let refused = s
            .anonymous_claims()
            .await
            .get_claim(takedown::pb::GetClaimRequest {
                claim_id: claim.id.clone(),
            })
            .await;
        assert_eq!(
            refused.expect_err("no token").code(),
            tonic::Code::Unauthenticated
        );
        // A public notice, followed with its claim token; a contributor with an e-mail.
        let public = s
            .anonymous_claims()
            .await
            .file_claim(takedown::pb::FileClaimRequest {
                request_id: String::new(),
                claim: Some(fixtures::dmca_notice()),
            })
            .await
            .expect("public intake")
            .into_inner();
        let claim_token = public.access_token.clone();
        takedown::pb::claim_service_client::ClaimServiceClient::new(crate::common::authed(
            &s.channel().await,
            &claim_token,
        ))
        .get_claim(takedown::pb::GetClaimRequest {
            claim_id: public.claim.unwrap().id,
        })
        .await
        .expect("the notifier reads its claim");
        let mut contributed = fixtures::article("forum-1", "https://news.example.org/forum/1");
        contributed.content_origin = takedown::pb::ContentOrigin::Contributed as i32;
        contributed.contributor = Some(takedown::pb::Contributor {
            account_id: "user-1".to_string(),
            display_name: "Li Wei".to_string(),
            email: "li.wei@example.org".to_string(),
        });
        flow.register(contributed).await;
        let desk = &flow.desk;
        let admin_token = s.admin_token.clone();
        let secrets = [
            admin_token.as_str(),
            desk.claimant.as_str(),
            desk.other_claimant.as_str(),
            desk.reviewer.as_str(),
            desk.publisher.as_str(),
            desk.auditor.as_str(),
            "10 Beisanhuan Rd",
            "+86 10 8413 0000",
            "1 Newsroom Way",
            "+1 555 0100",
            claim_token.as_str(),
            "li.wei@example.org",
            "rights@legaldaily.example.cn",
        ];
        assert_eq!(
            read.claimant.as_ref().map(|c| c.phone.as_str()),
            Some("+86 10 8413 0000"),
            "the secrets did travel through the server"
        );
        s.stop().await;

        for (format, log) in [("text", text.text()), ("json", json.text())] {
            for secret in secrets {
                assert!(
                    !log.contains(secret),
                    "{format} log contains {secret:?}:\n{log}"
                );
                // Tokens are hex: make sure no long piece of one leaked either.
                if let Some(hex) = secret.strip_prefix("tdk_") {
                    assert!(
                        !log.contains(&hex[..16]),
                        "{format} log has part of a token"
                    );
                }
            }
            let finished: Vec<&str> = log
                .lines()
                .filter(|l| l.contains("request finished"))
                .collect();
            assert!(
                finished.len() >= 10,
                "{format}: one line per request:\n{log}"
            );
            let decide = finished
                .iter()
                .find(|l| l.contains("ReviewService/DecideClaim"))
                .unwrap_or_else(|| panic!("{format}: no DecideClaim line:\n{log}"));
            for field in [
                desk.reviewer_id.as_str(),
                claim.id.as_str(),
                "OK",
                "latency_ms",
            ] {
                assert!(
                    decide.contains(field),
                    "{format}: {field} missing in {decide}"
                );
            }
        }
        // The JSON lines are JSON, with the span's fields under "span".
        let json = json.text();
        let line = json
            .lines()
            .find(|l| l.contains("ClaimService/FileClaim"))
            .expect("a FileClaim line");
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON object");
        assert_eq!(v["span"]["rpc"], "takedown.v1.ClaimService/FileClaim");
        assert_eq!(v["span"]["principal"], desk.claimant_id.as_str());
        assert_eq!(v["span"]["code"], "OK");
        // The refused call is logged with its code and no principal.
        let refused = json
            .lines()
            .find(|l| l.contains("\"code\":\"UNAUTHENTICATED\""))
            .expect("the unauthenticated call is logged");
        assert!(refused.contains("ClaimService/GetClaim") && !refused.contains("principal"));
    });
}
