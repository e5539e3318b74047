//! Party records (DSA Art. 23, DMCA 512(f)): what the service counts about each
//! notifier and complainant, moved by the writer in the same journal entry as the
//! change it counts; an operator warns before suspending; a suspended notifier e-mail
//! can neither file nor complain; the journal alone rebuilds every record.

use std::time::Duration;

use crate::common::fixtures::{self, ARTICLE_ID};
use crate::common::flow::{Flow, assert_state, decide_request, error_info, violated_fields};
use crate::common::{TestServer, start_time, warn_principal};
use takedown::pb::{self, ClaimState, DecisionOutcome, Regime, Role, party_key::Key};
use tonic::Code;

const DAY: Duration = Duration::from_secs(86_400);
const NOTIFIER: &str = "rights@legaldaily.example.cn";

fn email(address: &str) -> pb::PartyKey {
    pb::PartyKey {
        key: Some(Key::NotifierEmail(address.to_string())),
    }
}

fn principal(id: &str) -> pb::PartyKey {
    pb::PartyKey {
        key: Some(Key::PrincipalId(id.to_string())),
    }
}

/// A DSA notice from `address`.
fn notice_from(address: &str) -> pb::Claim {
    let mut n = fixtures::notice(ARTICLE_ID, Regime::Dsa);
    n.claimant.as_mut().expect("claimant").email = address.to_string();
    n
}

async fn record(s: &TestServer, party: pb::PartyKey) -> pb::PartyRecord {
    s.admin(&s.admin_token)
        .await
        .get_party_record(pb::GetPartyRecordRequest { party: Some(party) })
        .await
        .expect("get party record")
        .into_inner()
        .record
        .expect("record")
}

async fn warn(s: &TestServer, party: pb::PartyKey) -> pb::PartyRecord {
    s.admin(&s.admin_token)
        .await
        .warn_party(pb::WarnPartyRequest {
            party: Some(party),
            reason: "3 manifestly unfounded notices in January".into(),
        })
        .await
        .expect("warn")
        .into_inner()
        .record
        .expect("record")
}

fn suspend_request(party: pb::PartyKey) -> pb::SuspendPartyRequest {
    pb::SuspendPartyRequest {
        party: Some(party),
        reason: "5 manifestly unfounded notices after the warning".into(),
        until: Some((start_time() + 30 * DAY).into()),
    }
}

/// Files a notice from `address` and decides it.
async fn decided(
    flow: &Flow,
    address: &str,
    request: impl Fn(&pb::Claim) -> pb::DecideClaimRequest,
) -> pb::Claim {
    let c = flow.file(notice_from(address)).await;
    let c = flow.start_review(&c).await;
    flow.review()
        .decide_claim(request(&c))
        .await
        .expect("decide")
        .into_inner()
        .claim
        .expect("claim")
}

fn complaint(c: &pb::Claim) -> pb::FileComplaintRequest {
    pb::FileComplaintRequest {
        claim_id: c.id.clone(),
        etag: String::new(),
        text: "Please look again.".into(),
    }
}

/// The counts of a record, without its key and warning/suspension fields.
fn counts(r: &pb::PartyRecord) -> [u64; 7] {
    [
        r.notices_filed,
        r.notices_upheld,
        r.notices_rejected,
        r.notices_manifestly_unfounded,
        r.misrepresentation_suspected,
        r.complaints_filed,
        r.complaints_unfounded,
    ]
}

#[tokio::test]
async fn counts_follow_notices_decisions_and_complaints_and_survive_a_rebuild() {
    let mut s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let (_, second_token) = s.principal("Second reviewer", &[Role::Reviewer]).await;
    let mut second = s.review(&second_token).await;

    // c1: rejected as manifestly unfounded and suspected misrepresentation; the
    // e-mail is written differently but is the same notifier.
    decided(&flow, "Rights@LegalDaily.example.CN", |c| {
        pb::DecideClaimRequest {
            manifestly_unfounded: true,
            misrepresentation_suspected: true,
            ..decide_request(c, DecisionOutcome::Reject)
        }
    })
    .await;
    // c2: rejected; the complaint is decided without change.
    let c2 = decided(&flow, NOTIFIER, |c| {
        decide_request(c, DecisionOutcome::Reject)
    })
    .await;
    // c3: rejected; the complaint reverses it to a correction.
    let c3 = decided(&flow, NOTIFIER, |c| {
        decide_request(c, DecisionOutcome::Reject)
    })
    .await;
    // c4: a correction ordered; c5: not decided yet.
    decided(&flow, NOTIFIER, |c| {
        decide_request(c, DecisionOutcome::Correct)
    })
    .await;
    flow.file(notice_from(NOTIFIER)).await;
    // Another notifier's notice counts on its own record only.
    flow.file(notice_from("someone@else.example")).await;

    s.clock.advance(DAY);
    for c in [&c2, &c3] {
        flow.claimant()
            .file_complaint(complaint(c))
            .await
            .expect("complaint");
    }
    let c2 = flow.get(&c2.id).await;
    second
        .decide_claim(decide_request(&c2, DecisionOutcome::Reject))
        .await
        .expect("complaint decided without change");
    let c3 = flow.get(&c3.id).await;
    let c3 = second
        .decide_claim(decide_request(&c3, DecisionOutcome::Correct))
        .await
        .expect("complaint reverses the rejection")
        .into_inner()
        .claim
        .expect("claim");
    assert_state(&c3, ClaimState::CorrectionPending);

    let claimant = principal(&flow.desk.claimant_id);
    // filed, upheld, rejected, manifestly unfounded, misrepresentation, complaints
    // filed, complaints unfounded.
    let by_principal = [6, 2, 2, 1, 1, 2, 1];
    let by_email = [5, 2, 2, 1, 1, 0, 0];
    let before = record(&s, claimant.clone()).await;
    assert_eq!(counts(&before), by_principal, "{before:?}");
    let mail = record(&s, email(NOTIFIER)).await;
    assert_eq!(counts(&mail), by_email, "{mail:?}");
    assert_eq!(
        mail.party,
        Some(email(NOTIFIER)),
        "the key comes back normalised"
    );
    assert_eq!(
        counts(&record(&s, email("SOMEONE@else.example")).await),
        [1, 0, 0, 0, 0, 0, 0]
    );
    // A party never seen has an all-zero record.
    let unknown = record(&s, email("nobody@example.org")).await;
    assert_eq!(counts(&unknown), [0; 7]);
    assert_eq!(unknown.warnings, 0);

    // The journal is the record: without sled, the counts come back the same.
    s.restart_with(|dir| {
        std::fs::remove_dir_all(takedown::writer::sled_dir(dir)).expect("remove sled");
    })
    .await;
    assert_eq!(record(&s, claimant).await, before);
    assert_eq!(record(&s, email(NOTIFIER)).await, mail);
    s.stop().await;
}

#[tokio::test]
async fn a_notifier_is_warned_before_it_is_suspended_and_then_cannot_file_or_complain() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let mut admin = s.admin(&s.admin_token).await;
    let rejected = decided(&flow, NOTIFIER, |c| pb::DecideClaimRequest {
        manifestly_unfounded: true,
        ..decide_request(c, DecisionOutcome::Reject)
    })
    .await;

    let e = admin
        .suspend_party(suspend_request(email(NOTIFIER)))
        .await
        .expect_err("no warning yet");
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    assert_eq!(error_info(&e).0, "NO_PRIOR_WARNING");
    assert_eq!(record(&s, email(NOTIFIER)).await.suspensions, 0);

    let warned = warn(&s, email(" RIGHTS@legaldaily.example.cn")).await;
    assert_eq!(warned.warnings, 1);
    assert_eq!(warned.last_warning_time, Some(start_time().into()));
    assert!(warned.last_warning_reason.contains("manifestly unfounded"));
    let suspended = admin
        .suspend_party(suspend_request(email(NOTIFIER)))
        .await
        .expect("suspend after the warning")
        .into_inner()
        .record
        .expect("record");
    assert_eq!(suspended.suspensions, 1);
    assert_eq!(
        suspended.suspended_until,
        Some((start_time() + 30 * DAY).into())
    );
    assert_eq!(suspended.notices_manifestly_unfounded, 1);

    // Any principal filing with that e-mail is refused, whatever its case.
    let e = flow
        .other_claimant()
        .file_claim(pb::FileClaimRequest {
            request_id: String::new(),
            claim: Some(notice_from("Rights@LegalDaily.example.cn")),
        })
        .await
        .expect_err("suspended e-mail");
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    assert_eq!(error_info(&e).0, "PARTY_SUSPENDED");
    assert!(e.message().contains("suspended until"), "{e:?}");
    // ... and so is its complaint.
    let e = flow
        .claimant()
        .file_complaint(complaint(&rejected))
        .await
        .expect_err("suspended notifier complains");
    assert_eq!(error_info(&e).0, "PARTY_SUSPENDED");
    // Another e-mail files as usual.
    flow.file(notice_from("clean@example.org")).await;
    assert_eq!(record(&s, email(NOTIFIER)).await.notices_filed, 1);

    // A principal is suspended with SuspendPrincipal, not SuspendParty.
    let e = admin
        .suspend_party(suspend_request(principal(&flow.desk.claimant_id)))
        .await
        .expect_err("principal key");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&e), ["party.principal_id"]);

    let actions: Vec<String> = flow
        .audit_entries(pb::ListAuditEntriesRequest::default())
        .await
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.contains(&"WarnParty".to_string()));
    assert!(actions.contains(&"SuspendParty".to_string()));
    let details: Vec<String> = flow
        .audit_entries(pb::ListAuditEntriesRequest::default())
        .await
        .into_iter()
        .map(|e| e.detail)
        .collect();
    assert!(
        details
            .iter()
            .all(|d| !d.to_lowercase().contains("legaldaily.example.cn")),
        "the audit log names an e-mail only by its hash: {details:?}"
    );
    flow.verify().await;
    s.stop().await;
}

#[tokio::test]
async fn suspend_principal_needs_a_prior_warning() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let mut admin = s.admin(&s.admin_token).await;
    let request = pb::SuspendPrincipalRequest {
        principal_id: flow.desk.claimant_id.clone(),
        reason: "5 manifestly unfounded notices".into(),
        until: Some((start_time() + 30 * DAY).into()),
    };
    let e = admin
        .suspend_principal(request.clone())
        .await
        .expect_err("no warning yet");
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    assert_eq!(error_info(&e).0, "NO_PRIOR_WARNING");
    flow.file_claim().await;

    warn_principal(&s, &flow.desk.claimant_id).await;
    admin.suspend_principal(request).await.expect("suspend");
    let r = record(&s, principal(&flow.desk.claimant_id)).await;
    assert_eq!((r.warnings, r.suspensions), (1, 1));
    assert_eq!(r.suspended_until, Some((start_time() + 30 * DAY).into()));

    // Ending it early ends it on the party record too.
    admin
        .unsuspend_principal(pb::UnsuspendPrincipalRequest {
            principal_id: flow.desk.claimant_id.clone(),
            reason: String::new(),
        })
        .await
        .expect("unsuspend");
    let r = record(&s, principal(&flow.desk.claimant_id)).await;
    assert_eq!(r.suspended_until, Some(start_time().into()));
    assert_eq!(r.suspensions, 1);
    s.stop().await;
}

#[tokio::test]
async fn manifestly_unfounded_goes_only_with_a_rejection() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = flow.file(notice_from(NOTIFIER)).await;
    let c = flow.start_review(&c).await;
    let e = flow
        .review()
        .decide_claim(pb::DecideClaimRequest {
            manifestly_unfounded: true,
            ..decide_request(&c, DecisionOutcome::Correct)
        })
        .await
        .expect_err("manifestly unfounded with CORRECT");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&e), ["manifestly_unfounded"]);
    assert_state(&flow.get(&c.id).await, ClaimState::UnderReview);
    assert_eq!(record(&s, email(NOTIFIER)).await.notices_upheld, 0);

    // Bad keys are named.
    let mut admin = s.admin(&s.admin_token).await;
    for (party, field) in [
        (None, "party"),
        (Some(pb::PartyKey { key: None }), "party"),
        (Some(principal("not-a-uuid")), "party.principal_id"),
        (Some(email("no-at-sign")), "party.notifier_email"),
    ] {
        let e = admin
            .get_party_record(pb::GetPartyRecordRequest { party })
            .await
            .expect_err("bad key");
        assert_eq!(e.code(), Code::InvalidArgument);
        assert_eq!(violated_fields(&e), [field]);
    }
    s.stop().await;
}
