//! `PublisherService.WatchEvents` over a real tonic streaming client: replay then
//! follow, resume after a disconnect with no gap and no duplicate, a stalled consumer
//! that does not hold filing back, filters, what each role sees, access, and shutdown
//! with a stream open (UNAVAILABLE, so clients reconnect).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::common::fixtures::{self, ARTICLE_ID};
use crate::common::flow::{Flow, violated_fields};
use crate::common::{TestServer, code};
use takedown::pb::{self, ClaimState, Role};
use tokio::task::JoinSet;
use tonic::{Code, Status, Streaming};

type Feed = Streaming<pb::WatchEventsResponse>;

const OTHER_ARTICLE: &str = "news-2024-02-01-ministry-briefing";

/// Opens a feed as the holder of `token`.
async fn try_watch(
    s: &TestServer,
    token: &str,
    req: pb::WatchEventsRequest,
) -> Result<Feed, Status> {
    s.publisher(token)
        .await
        .watch_events(req)
        .await
        .map(|r| r.into_inner())
}

async fn watch(s: &TestServer, token: &str, req: pb::WatchEventsRequest) -> Feed {
    try_watch(s, token, req).await.expect("watch events")
}

fn after(seq: u64) -> pb::WatchEventsRequest {
    pb::WatchEventsRequest {
        after_seq: seq,
        ..Default::default()
    }
}

/// The next entry of the feed, which must come within 20 s (messages that carry only
/// a checkpoint are passed over; `receipts.rs` checks them).
async fn next(feed: &mut Feed) -> pb::AuditEntry {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(20), feed.message())
            .await
            .expect("an entry within 20 s")
            .expect("the feed carries no error")
            .expect("the feed is still open");
        if let Some(entry) = m.entry {
            return entry;
        }
        assert!(
            !m.checkpoint.is_empty(),
            "a message with neither entry nor checkpoint"
        );
    }
}

async fn take(feed: &mut Feed, n: usize) -> Vec<pb::AuditEntry> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(next(feed).await);
    }
    v
}

/// No further entry arrives for a short while (a checkpoint may).
async fn quiet(feed: &mut Feed) {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
    while let Ok(m) = tokio::time::timeout_at(deadline, feed.message()).await {
        if !matches!(&m, Ok(Some(r)) if r.entry.is_none()) {
            panic!("expected no further entry, got {m:?}");
        }
    }
}

/// Every audit entry so far, as the auditor lists them (large pages).
async fn all_entries(flow: &Flow) -> Vec<pb::AuditEntry> {
    let mut all = Vec::new();
    let mut req = pb::ListAuditEntriesRequest {
        page_size: 500,
        ..Default::default()
    };
    loop {
        let page = flow
            .audit()
            .list_audit_entries(req.clone())
            .await
            .expect("list audit entries")
            .into_inner();
        all.extend(page.entries);
        if page.next_page_token.is_empty() {
            return all;
        }
        req.page_token = page.next_page_token;
    }
}

/// The principal directory: entries a publisher's feed leaves out.
const DIRECTORY: [&str; 6] = [
    "CreatePrincipal",
    "RevokePrincipal",
    "SuspendPrincipal",
    "UnsuspendPrincipal",
    "WarnParty",
    "SuspendParty",
];

/// The entries of `all` that a publisher sees.
fn publisher_view(all: &[pb::AuditEntry]) -> Vec<pb::AuditEntry> {
    all.iter()
        .filter(|e| !DIRECTORY.contains(&e.action.as_str()))
        .cloned()
        .collect()
}

fn seqs(entries: &[pb::AuditEntry]) -> Vec<u64> {
    entries.iter().map(|e| e.seq).collect()
}

#[track_caller]
fn assert_contiguous(entries: &[pb::AuditEntry], from: u64, to: u64) {
    assert_eq!(
        seqs(entries),
        (from..=to).collect::<Vec<_>>(),
        "seqs {from}..={to}, in order, no gap, no duplicate"
    );
}

/// A little history: claims in several states on the seed article.
async fn history(flow: &Flow) {
    flow.claim_in(ARTICLE_ID, ClaimState::Corrected).await;
    flow.claim_in(ARTICLE_ID, ClaimState::Rejected).await;
    flow.claim_in(ARTICLE_ID, ClaimState::Withdrawn).await;
}

#[tokio::test]
async fn replays_the_log_in_order_then_follows_live() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    history(&flow).await;
    let all = all_entries(&flow).await;
    let head = all.last().expect("entries").seq;
    assert_contiguous(&all, 1, head);

    let visible = publisher_view(&all);
    assert!(
        visible.len() < all.len(),
        "the cast's principals are left out"
    );
    let mut feed = watch(&s, &flow.desk.publisher, after(0)).await;
    let replay = take(&mut feed, visible.len()).await;
    assert_eq!(
        replay, visible,
        "the replay is ListAuditEntries as a publisher may see it, entry for entry"
    );
    quiet(&mut feed).await;

    // A write made after the replay arrives on the same stream.
    let c = flow.file_claim().await;
    let live = next(&mut feed).await;
    assert_eq!(live.seq, head + 1);
    assert_eq!(live.action, "FileClaim");
    assert_eq!(live.claim_id, c.id);
    assert_eq!(live.article_id, ARTICLE_ID);
    assert_eq!(live.to_state(), ClaimState::Received);
    let c = flow.start_review(&c).await;
    let c = flow.decide(&c, pb::DecisionOutcome::Delete).await;
    let live = take(&mut feed, 2).await;
    assert_eq!(
        live.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["StartReview", "DecideClaim"]
    );
    assert_eq!(live[1].to_state(), ClaimState::Deleted);
    assert_eq!(live[1].claim_id, c.id);
    quiet(&mut feed).await;

    // What followed live is what the log holds.
    let listed = all_entries(&flow).await;
    assert_eq!(listed.len(), all.len() + 3);
    let mut seen = replay;
    seen.push(listed[all.len()].clone());
    seen.extend(live);
    assert_eq!(seen, publisher_view(&listed));

    // A feed starting mid-log starts right after that seq.
    let mut feed = watch(&s, &flow.desk.publisher, after(head)).await;
    assert_eq!(take(&mut feed, 3).await, listed[all.len()..]);
    quiet(&mut feed).await;

    // after_seq at (or beyond) the head: nothing until the next write.
    let head = listed.last().unwrap().seq;
    let mut feed = watch(&s, &flow.desk.publisher, after(head)).await;
    quiet(&mut feed).await;
    flow.file_claim().await;
    assert_eq!(next(&mut feed).await.seq, head + 1);
    s.stop().await;
}

#[tokio::test]
async fn a_consumer_resumes_after_a_disconnect_without_gap_or_duplicate() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    history(&flow).await;
    // The auditor's feed has every seq (a publisher's skips the principal directory).
    let before = all_entries(&flow).await;
    let k = before.len() / 2;
    assert!(k >= 5, "enough history to cut: {}", before.len());

    let mut feed = watch(&s, &flow.desk.auditor, after(0)).await;
    let first = take(&mut feed, k).await;
    drop(feed);
    let last = first.last().unwrap().seq;

    // The log moves on while the consumer is away.
    flow.claim_in(ARTICLE_ID, ClaimState::Deleted).await;
    flow.file_claim().await;
    let all = all_entries(&flow).await;
    let head = all.last().unwrap().seq;

    let mut feed = watch(&s, &flow.desk.auditor, after(last)).await;
    let rest = take(&mut feed, all.len() - k).await;
    quiet(&mut feed).await;

    let union: Vec<_> = first.into_iter().chain(rest).collect();
    assert_contiguous(&union, 1, head);
    assert_eq!(union, all);

    // Resuming a second time, mid-stream again, live.
    let mut feed = watch(&s, &flow.desk.auditor, after(head - 2)).await;
    let two = take(&mut feed, 2).await;
    assert_eq!(two, all[all.len() - 2..]);
    drop(feed);
    let c = flow.file_claim().await;
    let mut feed = watch(&s, &flow.desk.auditor, after(head)).await;
    let e = next(&mut feed).await;
    assert_eq!((e.seq, e.claim_id.as_str()), (head + 1, c.id.as_str()));
    quiet(&mut feed).await;
    s.stop().await;
}

#[tokio::test]
async fn a_stalled_consumer_does_not_block_filing() {
    const CLAIMS: usize = 600;
    const WORKERS: usize = 8;
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let start_head = all_entries(&flow).await.last().unwrap().seq;

    // Opened and never read while the claims are filed; the auditor's feed has every
    // seq.
    let mut stalled = watch(&s, &flow.desk.auditor, after(0)).await;

    let started = Instant::now();
    let mut workers = JoinSet::new();
    for w in 0..WORKERS {
        let mut client = flow.claimant();
        workers.spawn(async move {
            let mut ids = Vec::new();
            for _ in 0..CLAIMS / WORKERS {
                let c = client
                    .file_claim(pb::FileClaimRequest {
                        request_id: String::new(),
                        claim: Some(fixtures::dmca_notice()),
                    })
                    .await
                    .unwrap_or_else(|e| panic!("worker {w}: file claim: {e:?}"))
                    .into_inner()
                    .claim
                    .expect("claim");
                ids.push(c.id);
            }
            ids
        });
    }
    let filed: BTreeSet<String> = tokio::time::timeout(Duration::from_secs(60), async {
        let mut filed = BTreeSet::new();
        while let Some(ids) = workers.join_next().await {
            filed.extend(ids.expect("worker"));
        }
        filed
    })
    .await
    .expect("600 claims filed within 60 s while a consumer stalls");
    assert_eq!(filed.len(), CLAIMS);
    eprintln!(
        "filed {CLAIMS} claims in {:?} with a stalled feed open",
        started.elapsed()
    );

    let head = flow.verify().await.head_seq;
    assert_eq!(head, start_head + CLAIMS as u64);
    // Now the consumer reads: everything, in order, none missing.
    let got = take(&mut stalled, head as usize).await;
    assert_contiguous(&got, 1, head);
    let got_claims: BTreeSet<String> = got
        .iter()
        .filter(|e| e.action == "FileClaim")
        .map(|e| e.claim_id.clone())
        .collect();
    assert_eq!(got_claims, filed);
    assert_eq!(got, all_entries(&flow).await);
    // And it follows live afterwards.
    quiet(&mut stalled).await;
    let c = flow.file_claim().await;
    let e = next(&mut stalled).await;
    assert_eq!((e.seq, e.claim_id.as_str()), (head + 1, c.id.as_str()));
    s.stop().await;
}

#[tokio::test]
async fn filters_narrow_the_feed() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    flow.register(fixtures::article(
        OTHER_ARTICLE,
        "https://news.example.org/2024/02/01/ministry-briefing",
    ))
    .await;
    flow.claim_in(ARTICLE_ID, ClaimState::Corrected).await;
    flow.claim_in(OTHER_ARTICLE, ClaimState::Deleted).await;
    flow.claim_in(ARTICLE_ID, ClaimState::Rejected).await;
    flow.claim_in(OTHER_ARTICLE, ClaimState::CorrectionPending)
        .await;
    let all = all_entries(&flow).await;
    let publisher = flow.desk.publisher.clone();

    // By article.
    let on_other: Vec<_> = all
        .iter()
        .filter(|e| e.article_id == OTHER_ARTICLE)
        .cloned()
        .collect();
    assert!(on_other.len() >= 7, "{on_other:?}");
    let req = pb::WatchEventsRequest {
        article_ids: vec![OTHER_ARTICLE.to_string()],
        ..Default::default()
    };
    let mut by_article = watch(&s, &publisher, req).await;
    assert_eq!(take(&mut by_article, on_other.len()).await, on_other);
    quiet(&mut by_article).await;

    // By action.
    let actions = ["DecideClaim", "RecordCorrection"];
    let acted: Vec<_> = all
        .iter()
        .filter(|e| actions.contains(&e.action.as_str()))
        .cloned()
        .collect();
    assert_eq!(acted.len(), 5, "4 decisions and 1 correction");
    let req = pb::WatchEventsRequest {
        actions: actions.iter().map(|a| a.to_string()).collect(),
        ..Default::default()
    };
    let mut by_action = watch(&s, &publisher, req).await;
    assert_eq!(take(&mut by_action, acted.len()).await, acted);
    quiet(&mut by_action).await;

    // Both: AND.
    let both: Vec<_> = on_other
        .iter()
        .filter(|e| e.action == "DecideClaim")
        .cloned()
        .collect();
    assert_eq!(both.len(), 2);
    let req = pb::WatchEventsRequest {
        after_seq: 0,
        article_ids: vec![OTHER_ARTICLE.to_string(), "unknown-article".to_string()],
        actions: vec!["DecideClaim".to_string()],
    };
    let mut by_both = watch(&s, &publisher, req).await;
    assert_eq!(take(&mut by_both, 2).await, both);
    quiet(&mut by_both).await;

    // Live: a claim on the seed article reaches none of the article-filtered feeds;
    // one on the other article does.
    let seed_claim = flow.file_claim().await;
    let other = flow
        .file(fixtures::notice(OTHER_ARTICLE, pb::Regime::Dmca))
        .await;
    let e = next(&mut by_article).await;
    assert_eq!(
        (e.action.as_str(), e.claim_id.as_str()),
        ("FileClaim", other.id.as_str())
    );
    let other = flow.start_review(&other).await;
    let seed = flow.start_review(&seed_claim).await;
    flow.decide(&seed, pb::DecisionOutcome::Reject).await;
    flow.decide(&other, pb::DecisionOutcome::Delete).await;
    let e = next(&mut by_article).await;
    assert_eq!(e.action, "StartReview");
    let e = next(&mut by_article).await;
    assert_eq!(
        (e.action.as_str(), e.claim_id.as_str()),
        ("DecideClaim", other.id.as_str())
    );
    quiet(&mut by_article).await;
    let seed_decision = next(&mut by_action).await;
    assert_eq!(seed_decision.claim_id, seed_claim.id);
    let other_decision = next(&mut by_action).await;
    assert_eq!(other_decision.claim_id, other.id);
    quiet(&mut by_action).await;
    assert_eq!(next(&mut by_both).await, other_decision);
    quiet(&mut by_both).await;
    s.stop().await;
}

#[tokio::test]
async fn invalid_filters_are_invalid_argument() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let publisher = flow.desk.publisher.clone();
    let cases: Vec<(pb::WatchEventsRequest, &str)> = vec![
        (
            pb::WatchEventsRequest {
                article_ids: vec![ARTICLE_ID.to_string(), "not an id!".to_string()],
                ..Default::default()
            },
            "article_ids[1]",
        ),
        (
            pb::WatchEventsRequest {
                article_ids: vec![String::new()],
                ..Default::default()
            },
            "article_ids[0]",
        ),
        (
            pb::WatchEventsRequest {
                article_ids: vec!["a".repeat(129)],
                ..Default::default()
            },
            "article_ids[0]",
        ),
        (
            pb::WatchEventsRequest {
                article_ids: (0..1001).map(|i| format!("article-{i}")).collect(),
                ..Default::default()
            },
            "article_ids",
        ),
        (
            pb::WatchEventsRequest {
                actions: vec!["Decide-Claim".to_string()],
                ..Default::default()
            },
            "actions[0]",
        ),
        (
            pb::WatchEventsRequest {
                actions: vec!["DecideClaim".to_string(), String::new()],
                ..Default::default()
            },
            "actions[1]",
        ),
        (
            pb::WatchEventsRequest {
                actions: vec!["DecideClaim; DROP TABLE".to_string()],
                ..Default::default()
            },
            "actions[0]",
        ),
        (
            pb::WatchEventsRequest {
                actions: vec!["A".repeat(65)],
                ..Default::default()
            },
            "actions[0]",
        ),
        (
            pb::WatchEventsRequest {
                actions: vec!["DecideClaim".to_string(), "decideclaim".to_string()],
                ..Default::default()
            },
            "actions[1]",
        ),
        (
            pb::WatchEventsRequest {
                actions: vec!["Action0".to_string()],
                ..Default::default()
            },
            "actions[0]",
        ),
        (
            pb::WatchEventsRequest {
                actions: (0..51).map(|_| "DecideClaim".to_string()).collect(),
                ..Default::default()
            },
            "actions",
        ),
    ];
    for (req, field) in cases {
        let status = try_watch(&s, &publisher, req.clone())
            .await
            .expect_err("invalid filter is refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert!(
            violated_fields(&status).contains(&field.to_string()),
            "{field} named in {:?}",
            violated_fields(&status)
        );
        if field.starts_with("actions[") {
            // An unknown action is answered with the list of valid ones.
            assert!(
                status.message().contains("FileClaim, StartReview")
                    && status.message().contains("UpsertArticle"),
                "{status:?}"
            );
        }
    }
    // At the limits is fine.
    let actions = [
        "FileClaim",
        "DecideClaim",
        "RecordCorrection",
        "ExpireDeadline",
        "UpsertArticle",
    ];
    let ok = pb::WatchEventsRequest {
        after_seq: 0,
        article_ids: (0..1000).map(|i| format!("article-{i}")).collect(),
        actions: (0..50)
            .map(|i| actions[i % actions.len()].to_string())
            .collect(),
    };
    let mut feed = watch(&s, &publisher, ok).await;
    quiet(&mut feed).await;
    s.stop().await;
}

#[tokio::test]
async fn only_publishers_auditors_and_admins_may_watch() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let desk = &flow.desk;
    for (who, token) in [("claimant", &desk.claimant), ("reviewer", &desk.reviewer)] {
        let r = try_watch(&s, token, after(0)).await;
        assert_eq!(code(r), Code::PermissionDenied, "{who}");
    }
    let (_, admin_reviewer) = s
        .principal("Reviewer and claimant", &[Role::Reviewer, Role::Claimant])
        .await;
    assert_eq!(
        code(try_watch(&s, &admin_reviewer, after(0)).await),
        Code::PermissionDenied
    );
    let bad = s
        .publisher("tdk_not_a_token")
        .await
        .watch_events(after(0))
        .await;
    assert_eq!(code(bad), Code::Unauthenticated);

    let all = all_entries(&flow).await;
    let first_for_publishers = publisher_view(&all).remove(0);
    for (who, token, first) in [
        ("publisher", &desk.publisher, &first_for_publishers),
        ("auditor", &desk.auditor, &all[0]),
        ("admin", &s.admin_token, &all[0]),
    ] {
        let mut feed = try_watch(&s, token, after(0))
            .await
            .unwrap_or_else(|e| panic!("{who} may watch: {e:?}"));
        assert_eq!(next(&mut feed).await, *first, "{who}");
    }
    s.stop().await;
}

#[tokio::test]
async fn shutdown_ends_an_open_stream_with_unavailable() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let n = publisher_view(&all_entries(&flow).await).len();
    let mut feed = watch(&s, &flow.desk.publisher, after(0)).await;
    take(&mut feed, n).await;
    // The reader waits for the next entry while the server stops.
    let reader = tokio::spawn(async move {
        loop {
            match feed.message().await {
                Ok(Some(_)) => continue,
                Ok(None) => return Ok(()),
                Err(status) => return Err(status),
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    tokio::time::timeout(Duration::from_secs(30), s.stop())
        .await
        .expect("the server stops within 30 s with a stream open");
    let ended = tokio::time::timeout(Duration::from_secs(30), reader)
        .await
        .expect("the stream ends when the server stops")
        .expect("reader task");
    // Not OK, which would read as "nothing more will ever come": UNAVAILABLE tells
    // the client to reconnect from its last seq.
    let status = ended.expect_err("the stream ends with a status, not OK");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(
        status.message(),
        "server shutting down; reconnect with after_seq = the last seq you received"
    );
}

#[tokio::test]
async fn a_stream_ends_with_unavailable_after_the_entries_it_buffered() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    // Entries pile up unread on the stream, then the server stops: the reader still
    // gets every one of them, in order, and then UNAVAILABLE.
    let mut feed = watch(&s, &flow.desk.auditor, after(0)).await;
    for _ in 0..20 {
        flow.file_claim().await;
    }
    let head = flow.verify().await.head_seq;
    tokio::time::sleep(Duration::from_millis(200)).await;
    tokio::time::timeout(Duration::from_secs(30), s.stop())
        .await
        .expect("the server stops within 30 s");
    let mut got = Vec::new();
    let status = loop {
        match tokio::time::timeout(Duration::from_secs(20), feed.message())
            .await
            .expect("the stream moves")
        {
            Ok(Some(m)) => got.extend(m.entry),
            Ok(None) => panic!("the stream ended with OK after {} entries", got.len()),
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_contiguous(&got, 1, head);
}

#[tokio::test]
async fn publishers_do_not_see_the_principal_directory() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let admin = s.admin(&s.admin_token).await;
    let until = crate::common::start_time() + Duration::from_secs(30 * 24 * 3600);
    const REASON: &str = "5 manifestly unfounded notices in January after the warning";
    crate::common::warn_principal(&s, &flow.desk.other_claimant_id).await;
    let notifier = pb::PartyKey {
        key: Some(pb::party_key::Key::NotifierEmail(
            "abuser@example.org".to_string(),
        )),
    };
    admin
        .clone()
        .warn_party(pb::WarnPartyRequest {
            party: Some(notifier.clone()),
            reason: REASON.to_string(),
        })
        .await
        .expect("warn a notifier");
    admin
        .clone()
        .suspend_party(pb::SuspendPartyRequest {
            party: Some(notifier),
            reason: REASON.to_string(),
            until: Some(until.into()),
        })
        .await
        .expect("suspend a notifier");
    admin
        .clone()
        .suspend_principal(pb::SuspendPrincipalRequest {
            principal_id: flow.desk.other_claimant_id.clone(),
            reason: REASON.to_string(),
            until: Some(until.into()),
        })
        .await
        .expect("suspend");
    admin
        .clone()
        .unsuspend_principal(pb::UnsuspendPrincipalRequest {
            principal_id: flow.desk.other_claimant_id.clone(),
            reason: "the agency explained".to_string(),
        })
        .await
        .expect("unsuspend");
    let (gone, _) = s.principal("Former CMS", &[Role::Publisher]).await;
    admin
        .clone()
        .revoke_principal(pb::RevokePrincipalRequest { principal_id: gone })
        .await
        .expect("revoke");
    flow.file_claim().await;
    let all = all_entries(&flow).await;
    let actions: BTreeSet<&str> = all.iter().map(|e| e.action.as_str()).collect();
    assert!(
        DIRECTORY.iter().all(|a| actions.contains(a)),
        "every directory action is in the log: {actions:?}"
    );

    // The publisher's feed: everything but the directory, replayed and live.
    let visible = publisher_view(&all);
    let mut feed = watch(&s, &flow.desk.publisher, after(0)).await;
    let got = take(&mut feed, visible.len()).await;
    assert_eq!(got, visible);
    assert!(
        got.iter().all(|e| !e.detail.contains(REASON)),
        "no suspension reason reaches a publisher"
    );
    quiet(&mut feed).await;
    admin
        .clone()
        .suspend_principal(pb::SuspendPrincipalRequest {
            principal_id: flow.desk.other_claimant_id.clone(),
            reason: REASON.to_string(),
            until: Some(until.into()),
        })
        .await
        .expect("suspend again");
    let c = flow.file_claim().await;
    let e = next(&mut feed).await;
    assert_eq!(
        (e.action.as_str(), e.claim_id.as_str()),
        ("FileClaim", c.id.as_str()),
        "the live suspension was skipped"
    );

    // Asking for the directory outright is refused, not answered with silence.
    for action in DIRECTORY {
        let r = try_watch(
            &s,
            &flow.desk.publisher,
            pb::WatchEventsRequest {
                actions: vec!["FileClaim".to_string(), action.to_string()],
                ..Default::default()
            },
        )
        .await;
        let status = r.expect_err("a publisher may not ask for the directory");
        assert_eq!(
            status.code(),
            Code::PermissionDenied,
            "{action}: {status:?}"
        );
        assert!(status.message().contains(action), "{status:?}");
    }

    // Auditors and admins see all of it, suspension reasons included.
    let all = all_entries(&flow).await;
    for (who, token) in [("auditor", &flow.desk.auditor), ("admin", &s.admin_token)] {
        let mut feed = watch(&s, token, after(0)).await;
        assert_eq!(take(&mut feed, all.len()).await, all, "{who}");
        quiet(&mut feed).await;
        let mut suspensions = watch(
            &s,
            token,
            pb::WatchEventsRequest {
                actions: vec!["SuspendPrincipal".to_string()],
                ..Default::default()
            },
        )
        .await;
        let e = next(&mut suspensions).await;
        assert!(e.detail.contains(REASON), "{who}: {e:?}");
    }
    s.stop().await;
}

#[tokio::test]
async fn shutdown_ends_a_stalled_stream() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    // Opened and never read; more entries than the per-stream buffer pile up.
    let _stalled = watch(&s, &flow.desk.publisher, after(0)).await;
    let mut client = flow.claimant();
    for _ in 0..400 {
        client
            .file_claim(pb::FileClaimRequest {
                request_id: String::new(),
                claim: Some(fixtures::dmca_notice()),
            })
            .await
            .expect("file claim");
    }
    tokio::time::timeout(Duration::from_secs(30), s.stop())
        .await
        .expect("the server stops within 30 s with a stalled stream open");
}
