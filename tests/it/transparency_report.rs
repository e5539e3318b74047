//! `AuditService.GetTransparencyReport` over a known mix of claims, built through the
//! real API with the manual clock so that every figure, durations included, is known
//! exactly. The mix is in two phases cut at a known instant, so that a period filter
//! can be checked against each half.
//!
//! The mix (receipt → first reviewer action / first decision, in minutes):
//!
//! | claim | regime | items | path                                                         | fa  | dd  |
//! |-------|--------|-------|--------------------------------------------------------------|-----|-----|
//! | A     | DMCA   | 1     | CORRECT, correction recorded                                 | 5   | 45  |
//! | B     | DMCA   | 2 (one an image) | DELETE, counter-notice, restored by the sweeper (phase 2) | 20 | 120 |
//! | D     | PRC    | 1     | REJECT                                                       | 100 | 300 |
//! | G     | DMCA   | 1     | DELETE, counter-notice, legal action; dismissed (phase 2)    | 1   | 60  |
//! | H     | PRC    | 2     | DELETE (terms, other violation, partly automated); counter-notice, legal action, upheld (phase 2) | 200 | 240 |
//! | I     | DSA    | 1     | DELETE (fully automated); publisher complains, 2nd reviewer REJECTs (phase 2) | 25 | 30 |
//! | J     | DSA    | 2     | CORRECT, corrected; claimant complains, 2nd reviewer CORRECTs, corrected again (phase 2) | 40 | 180 |
//! | E     | PRC    | 3     | withdrawn                                                    | -   | -   |
//! | F     | DSA    | 1     | information requested; closed incomplete by the sweeper (ph. 2) | 50 | - |
//! | C     | DMCA   | 1     | CORRECT; deleted by the sweeper after the window (phase 2)   | 10  | 15  |
//! | K     | DSA    | 1     | phase 2: REJECT; claimant complains, 2nd reviewer DELETEs    | 30  | 90  |
//! | T     | DSA    | 1     | phase 2: filed by a trusted flagger, left RECEIVED           | -   | -   |
//!
//! Plus one suspension in each phase. Every other decision uses the fixture statement
//! of reasons: illegal content, intellectual property, not automated. Complaints are
//! decided a minute after they are filed.

use std::time::{Duration, SystemTime};

use crate::common::flow::{Flow, assert_state, decide_request};
use crate::common::{Authed, TestServer, fixtures};
use takedown::clock::Clock;
use takedown::pb::{
    self, AutomatedDecision, ClaimState, ContentType, DecisionGround, DecisionOutcome,
    LegalActionOutcome, NoticeSource, Regime, Role, StatementCategory,
    claim_service_client::ClaimServiceClient, review_service_client::ReviewServiceClient,
};
use tonic::Code;

const MINUTE: u64 = 60;

fn minutes(m: u64) -> Duration {
    Duration::from_secs(m * MINUTE)
}

fn tick(s: &TestServer, m: u64) {
    s.clock.advance(minutes(m));
}

/// A proto Duration of `m` minutes.
fn dur(m: u64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration {
        seconds: (m * MINUTE) as i64,
        nanos: 0,
    })
}

fn ts(t: SystemTime) -> Option<prost_types::Timestamp> {
    Some(t.into())
}

fn time(t: &Option<prost_types::Timestamp>) -> SystemTime {
    SystemTime::try_from(t.expect("timestamp set")).expect("valid timestamp")
}

/// A notice under `regime` against its own article, with `items` items.
fn notice(article_id: &str, regime: Regime, items: usize) -> pb::Claim {
    let mut n = fixtures::notice(article_id, regime);
    let first = n.items[0].clone();
    n.items = (0..items)
        .map(|i| pb::Item {
            locator: format!("paragraph {}", i + 1),
            ..first.clone()
        })
        .collect();
    n
}

/// Everyone the mix needs beyond the desk.
struct Extra {
    second_review: ReviewServiceClient<Authed>,
    publisher_claims: ClaimServiceClient<Authed>,
    trusted: ClaimServiceClient<Authed>,
    admin: pb::admin_service_client::AdminServiceClient<Authed>,
    audit: pb::audit_service_client::AuditServiceClient<Authed>,
}

struct Mix<'a> {
    s: &'a TestServer,
    flow: Flow,
    x: Extra,
    next_article: u32,
}

impl Mix<'_> {
    /// Registers a fresh article for one claim and returns its id.
    async fn article(&mut self) -> String {
        self.next_article += 1;
        let id = format!("report-article-{}", self.next_article);
        let url = format!("https://news.example.org/report/{}", self.next_article);
        self.flow.register(fixtures::article(&id, &url)).await;
        id
    }

    /// Files a notice now (on its own article).
    async fn file(&mut self, regime: Regime, items: usize) -> pb::Claim {
        self.file_with(regime, items, &[]).await
    }

    /// The same, with the items at `images` pictures.
    async fn file_with(&mut self, regime: Regime, items: usize, images: &[usize]) -> pb::Claim {
        let id = self.article().await;
        let mut n = notice(&id, regime, items);
        for &i in images {
            n.items[i].kind = pb::ItemKind::Image as i32;
            n.items[i].locator = format!("figure {}", i + 1);
        }
        self.flow.file(n).await
    }

    /// Files a notice, takes it for review after `fa` minutes and decides it `dd`
    /// minutes after receipt.
    async fn decided(
        &mut self,
        regime: Regime,
        items: usize,
        fa: u64,
        dd: u64,
        outcome: DecisionOutcome,
    ) -> pb::Claim {
        self.decided_with(regime, items, fa, dd, outcome, &[], fixtures::reasons())
            .await
    }

    /// The same, with the items at `images` pictures and the statement `reasons`.
    #[allow(clippy::too_many_arguments)]
    async fn decided_with(
        &mut self,
        regime: Regime,
        items: usize,
        fa: u64,
        dd: u64,
        outcome: DecisionOutcome,
        images: &[usize],
        reasons: pb::StatementOfReasons,
    ) -> pb::Claim {
        let c = self.file_with(regime, items, images).await;
        tick(self.s, fa);
        let c = self.flow.start_review(&c).await;
        tick(self.s, dd - fa);
        let c = self
            .flow
            .review()
            .decide_claim(pb::DecideClaimRequest {
                statement_of_reasons: Some(reasons),
                ..decide_request(&c, outcome)
            })
            .await
            .expect("decide claim")
            .into_inner()
            .claim
            .expect("claim");
        let received = time(&c.create_time);
        assert_eq!(time(&c.first_action_time), received + minutes(fa));
        assert_eq!(
            time(&c.decision.as_ref().unwrap().decide_time),
            received + minutes(dd)
        );
        c
    }

    /// `by` complains about the decision; the second reviewer decides `outcome`.
    async fn complaint(
        &mut self,
        c: &pb::Claim,
        mut by: ClaimServiceClient<Authed>,
        outcome: DecisionOutcome,
    ) -> pb::Claim {
        let reopened = by
            .file_complaint(pb::FileComplaintRequest {
                claim_id: c.id.clone(),
                etag: String::new(),
                text: "The decision overlooks the syndication licence.".to_string(),
            })
            .await
            .expect("file complaint")
            .into_inner()
            .claim
            .expect("claim");
        assert_state(&reopened, ClaimState::UnderReview);
        tick(self.s, 1);
        // The first reviewer may not decide the complaint.
        let same = self
            .flow
            .review()
            .decide_claim(decide_request(&reopened, outcome))
            .await;
        assert_eq!(
            same.expect_err("same reviewer").code(),
            Code::FailedPrecondition
        );
        self.x
            .second_review
            .decide_claim(decide_request(&reopened, outcome))
            .await
            .expect("second reviewer decides the complaint")
            .into_inner()
            .claim
            .expect("claim")
    }

    async fn suspend(&mut self, name: &str) {
        let (id, _) = self.s.principal(name, &[Role::Claimant]).await;
        crate::common::warn_principal(self.s, &id).await;
        self.x
            .admin
            .suspend_principal(pb::SuspendPrincipalRequest {
                principal_id: id,
                reason: "5 manifestly unfounded notices after the warning of 2024-01-02"
                    .to_string(),
                until: ts(self.s.clock.now() + Duration::from_secs(30 * 86_400)),
            })
            .await
            .expect("suspend principal");
    }

    async fn sweep(&self) {
        self.s
            .server
            .as_ref()
            .expect("running")
            .sweep()
            .await
            .expect("sweep");
    }

    async fn report(
        &self,
        start: Option<SystemTime>,
        end: Option<SystemTime>,
    ) -> pb::TransparencyReport {
        self.x
            .audit
            .clone()
            .get_transparency_report(pb::GetTransparencyReportRequest {
                start_time: start.map(Into::into),
                end_time: end.map(Into::into),
            })
            .await
            .expect("transparency report")
            .into_inner()
            .report
            .expect("report")
    }
}

fn count(regime: Regime, source: NoticeSource, notices: u64, items: u64) -> pb::NoticeCount {
    pb::NoticeCount {
        regime: regime as i32,
        source: source as i32,
        notices,
        items_requested: items,
    }
}

/// Notices by category: intellectual property, not yet decided, other violation of
/// the terms.
fn categories(ip: u64, undecided: u64, terms: u64) -> Vec<pb::CategoryCount> {
    [
        (StatementCategory::IntellectualPropertyInfringements, ip),
        (StatementCategory::NotSpecifiedNotice, undecided),
        (StatementCategory::OtherViolationTc, terms),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(c, count)| pb::CategoryCount {
        category: c as i32,
        count,
    })
    .collect()
}

fn content_types(text: u64, image: u64) -> Vec<pb::ContentTypeCount> {
    [(ContentType::Text, text), (ContentType::Image, image)]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(t, count)| pb::ContentTypeCount {
            content_type: t as i32,
            count,
        })
        .collect()
}

fn grounds(illegal: u64, terms: u64) -> Vec<pb::GroundCount> {
    [
        (DecisionGround::IllegalContent, illegal),
        (DecisionGround::IncompatibleContent, terms),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(g, count)| pb::GroundCount {
        decision_ground: g as i32,
        count,
    })
    .collect()
}

fn complaint_outcomes(upheld: u64, reversed: u64, withdrawn: u64) -> Option<pb::ComplaintOutcomes> {
    Some(pb::ComplaintOutcomes {
        upheld,
        reversed,
        withdrawn,
    })
}

fn suspensions(
    notifiers: u64,
    complainants: u64,
    contributors: u64,
) -> Option<pb::SuspensionCounts> {
    Some(pb::SuspensionCounts {
        notifiers,
        complainants,
        contributors,
    })
}

fn outcomes(
    corrected: u64,
    deleted: u64,
    rejected: u64,
    withdrawn: u64,
    closed_incomplete: u64,
    restored: u64,
) -> Option<pb::OutcomeCounts> {
    Some(pb::OutcomeCounts {
        corrected,
        deleted,
        rejected,
        withdrawn,
        closed_incomplete,
        restored,
    })
}

#[tokio::test]
async fn a_known_mix_gives_every_figure() {
    use DecisionOutcome::{Correct, Delete, Reject};
    use Regime::{Dmca, Dsa, PrcCivilCode as Prc};

    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let (_, second_reviewer) = s
        .principal("Compliance desk, second reader", &[Role::Reviewer])
        .await;
    let trusted = s
        .admin(&s.admin_token)
        .await
        .create_principal(pb::CreatePrincipalRequest {
            display_name: "Trusted flagger (DSA Art. 22)".to_string(),
            roles: vec![Role::Claimant as i32],
            trusted_flagger: true,
            ..Default::default()
        })
        .await
        .expect("create trusted flagger")
        .into_inner()
        .token;
    let x = Extra {
        second_review: s.review(&second_reviewer).await,
        publisher_claims: s.claims(&flow.desk.publisher).await,
        trusted: s.claims(&trusted).await,
        admin: s.admin(&s.admin_token).await,
        audit: s.audit(&flow.desk.auditor).await,
    };
    let mut m = Mix {
        s: &s,
        flow,
        x,
        next_article: 0,
    };

    // ---- Phase 1 -------------------------------------------------------------
    m.suspend("Spam agency").await;
    let a = m.decided(Dmca, 1, 5, 45, Correct).await;
    m.flow.record_correction(&a).await;
    let b = m
        .decided_with(Dmca, 2, 20, 120, Delete, &[1], fixtures::reasons())
        .await;
    let b = m.flow.counter_notice(&b).await;
    let d = m.decided(Prc, 1, 100, 300, Reject).await;
    assert_state(&d, ClaimState::Rejected);
    let g = m.decided(Dmca, 1, 1, 60, Delete).await;
    m.flow.counter_notice(&g).await;
    let g = m.flow.report_legal_action(&g).await;
    let on_the_terms = pb::StatementOfReasons {
        decision_ground: DecisionGround::IncompatibleContent as i32,
        incompatible_content_ground: "Terms of use 4.2: no republication of wire copy".to_string(),
        category: StatementCategory::OtherViolationTc as i32,
        automated_decision: AutomatedDecision::Partially as i32,
        ..fixtures::reasons()
    };
    let h = m
        .decided_with(Prc, 2, 200, 240, Delete, &[], on_the_terms)
        .await;
    let by_machine = pb::StatementOfReasons {
        automated_detection: true,
        automated_decision: AutomatedDecision::Fully as i32,
        ..fixtures::reasons()
    };
    let i = m
        .decided_with(Dsa, 1, 25, 30, Delete, &[], by_machine)
        .await;
    let j = m.decided(Dsa, 2, 40, 180, Correct).await;
    m.flow.record_correction(&j).await;
    let e = m.file(Prc, 3).await;
    tick(&s, 10);
    m.flow.withdraw(&e).await;
    let f = m.file(Dsa, 1).await;
    tick(&s, 50);
    let f = m
        .flow
        .request_information(&f, "Which paragraph exactly?")
        .await;
    let c = m.decided(Dmca, 1, 10, 15, Correct).await;
    tick(&s, 60);
    let cut = s.clock.now();

    // ---- Phase 2 (the first entry falls exactly on the cut) ----------------------
    let k = m.decided(Dsa, 1, 30, 90, Reject).await;
    assert_eq!(time(&k.create_time), cut);
    tick(&s, 1);
    let t_article = m.article().await;
    let t =
        m.x.trusted
            .file_claim(pb::FileClaimRequest {
                request_id: String::new(),
                claim: Some(notice(&t_article, Dsa, 1)),
            })
            .await
            .expect("trusted flagger files")
            .into_inner()
            .claim
            .expect("claim");
    assert!(t.trusted_flagger);
    tick(&s, 1);
    let claimant = m.flow.claimant();
    let publisher = m.x.publisher_claims.clone();
    let k = m.complaint(&k, claimant.clone(), Delete).await;
    assert_state(&k, ClaimState::Deleted);
    assert!(k.complaints[0].decision_changed);
    tick(&s, 1);
    let i = m.complaint(&i, publisher, Reject).await;
    assert_state(&i, ClaimState::Rejected);
    assert!(i.complaints[0].decision_changed);
    tick(&s, 1);
    let j = m.complaint(&j, claimant, Correct).await;
    assert_state(&j, ClaimState::CorrectionPending);
    assert!(!j.complaints[0].decision_changed);
    tick(&s, 1);
    m.flow.record_correction(&j).await;
    tick(&s, 1);
    m.flow.counter_notice(&h).await;
    tick(&s, 1);
    let h = m.flow.report_legal_action(&h).await;
    tick(&s, 1);
    let h = m.flow.resolve(&h, LegalActionOutcome::Upheld).await;
    assert_state(&h, ClaimState::Deleted);
    tick(&s, 1);
    let g = m.flow.resolve(&g, LegalActionOutcome::Dismissed).await;
    assert_state(&g, ClaimState::Restored);
    tick(&s, 1);
    m.suspend("Another spam agency").await;
    // A day later C's correction window (1 business day) has passed.
    s.clock.advance(Duration::from_secs(86_400));
    m.sweep().await;
    assert_state(&m.flow.get(&c.id).await, ClaimState::Deleted);
    assert_state(&m.flow.get(&b.id).await, ClaimState::CounterNoticed);
    assert_state(&m.flow.get(&f.id).await, ClaimState::NeedsInfo);
    // Two weeks later B's restoration period (10 business days) and F's reply window
    // (14 days) have passed.
    s.clock.advance(Duration::from_secs(15 * 86_400));
    m.sweep().await;
    assert_state(&m.flow.get(&b.id).await, ClaimState::Restored);
    assert_state(&m.flow.get(&f.id).await, ClaimState::ClosedIncomplete);
    tick(&s, 1);
    let now = s.clock.now();

    let verified = m.flow.verify().await;

    // ---- The whole log -------------------------------------------------------
    let all = m.report(None, None).await;
    let want = pb::TransparencyReport {
        start_time: None,
        end_time: ts(now),
        notices: vec![
            count(Dmca, NoticeSource::Notice, 4, 5),
            count(Dsa, NoticeSource::Notice, 4, 5),
            count(Dsa, NoticeSource::TrustedFlagger, 1, 1),
            count(Prc, NoticeSource::Notice, 3, 6),
        ],
        items_requested: 17,
        // corrected A, J, J again; deleted B, G, H, I by decision, C by the sweeper,
        // H upheld, K on complaint; rejected D, K, I on complaint; withdrawn E;
        // closed incomplete F; restored G (dismissed) and B (sweeper).
        outcomes: outcomes(3, 7, 3, 1, 1, 2),
        decisions: 9,
        // 15 30 45 60 [90] 120 180 240 [300]
        median_time_to_decision: dur(90),
        p90_time_to_decision: dur(300),
        // 1 5 10 20 [25] 30 40 50 [100] 200
        median_time_to_first_action: dur(25),
        p90_time_to_first_action: dur(100),
        counter_notices: 3,
        counter_notices_restored: 2,
        legal_actions: 2,
        legal_actions_upheld: 1,
        legal_actions_dismissed: 1,
        complaints: 3,
        complaint_decisions: Some(pb::ComplaintDecisions {
            reject: 1,
            correct: 1,
            delete: 1,
        }),
        complaint_reversals: 2,
        suspensions: 2,
        head_seq: verified.head_seq,
        head_hash: verified.head_hash.clone(),
        repeat_infringers: 0,
        party_suspensions: 0,
        // Decided by the statements: H on the terms; E, F and T undecided.
        notices_by_category: categories(8, 3, 1),
        // Every notice has text; B also a picture.
        notices_by_content_type: content_types(12, 1),
        // First decisions: H on the terms.
        decisions_by_ground: grounds(8, 1),
        // H partly, I fully.
        automated_decisions: 2,
        median_time_to_complaint_decision: dur(1),
        // J's decision stood; I's and K's were reversed.
        complaint_outcomes: complaint_outcomes(1, 2, 0),
        // The two spam agencies filed no notices.
        suspensions_by_kind: suspensions(0, 2, 0),
    };
    assert_eq!(all, want);
    assert_eq!(all.head_hash.len(), 64);

    // ---- Phase 1: [beginning, cut) ------------------------------------------
    let first = m.report(None, Some(cut)).await;
    let want_first = pb::TransparencyReport {
        start_time: None,
        end_time: ts(cut),
        notices: vec![
            count(Dmca, NoticeSource::Notice, 4, 5),
            count(Dsa, NoticeSource::Notice, 3, 4),
            count(Prc, NoticeSource::Notice, 3, 6),
        ],
        items_requested: 15,
        outcomes: outcomes(2, 4, 1, 1, 0, 0),
        decisions: 8,
        // 15 30 45 [60] 120 180 240 [300]
        median_time_to_decision: dur(60),
        p90_time_to_decision: dur(300),
        // 1 5 10 20 [25] 40 50 100 [200]
        median_time_to_first_action: dur(25),
        p90_time_to_first_action: dur(200),
        counter_notices: 2,
        counter_notices_restored: 0,
        legal_actions: 1,
        legal_actions_upheld: 0,
        legal_actions_dismissed: 0,
        complaints: 0,
        complaint_decisions: Some(pb::ComplaintDecisions::default()),
        complaint_reversals: 0,
        suspensions: 1,
        head_seq: verified.head_seq,
        head_hash: verified.head_hash.clone(),
        repeat_infringers: 0,
        party_suspensions: 0,
        notices_by_category: categories(7, 2, 1),
        notices_by_content_type: content_types(10, 1),
        decisions_by_ground: grounds(7, 1),
        automated_decisions: 2,
        median_time_to_complaint_decision: None,
        complaint_outcomes: complaint_outcomes(0, 0, 0),
        suspensions_by_kind: suspensions(0, 1, 0),
    };
    assert_eq!(first, want_first);

    // ---- Phase 2: [cut, now) ------------------------------------------------
    let second = m.report(Some(cut), Some(now)).await;
    let want_second = pb::TransparencyReport {
        start_time: ts(cut),
        end_time: ts(now),
        notices: vec![
            count(Dsa, NoticeSource::Notice, 1, 1),
            count(Dsa, NoticeSource::TrustedFlagger, 1, 1),
        ],
        items_requested: 2,
        outcomes: outcomes(1, 3, 2, 0, 1, 2),
        decisions: 1,
        median_time_to_decision: dur(90),
        p90_time_to_decision: dur(90),
        median_time_to_first_action: dur(30),
        p90_time_to_first_action: dur(30),
        counter_notices: 1,
        counter_notices_restored: 2,
        legal_actions: 1,
        legal_actions_upheld: 1,
        legal_actions_dismissed: 1,
        complaints: 3,
        complaint_decisions: Some(pb::ComplaintDecisions {
            reject: 1,
            correct: 1,
            delete: 1,
        }),
        complaint_reversals: 2,
        suspensions: 1,
        head_seq: verified.head_seq,
        head_hash: verified.head_hash.clone(),
        repeat_infringers: 0,
        party_suspensions: 0,
        notices_by_category: categories(1, 1, 0),
        notices_by_content_type: content_types(2, 0),
        decisions_by_ground: grounds(1, 0),
        automated_decisions: 0,
        median_time_to_complaint_decision: dur(1),
        complaint_outcomes: complaint_outcomes(1, 2, 0),
        suspensions_by_kind: suspensions(0, 1, 0),
    };
    assert_eq!(second, want_second);
    // Start only: the same as [cut, now).
    assert_eq!(m.report(Some(cut), None).await, want_second);

    // The halves add up to the whole for every count.
    let o = |r: &pb::TransparencyReport| r.outcomes.unwrap();
    let cd = |r: &pb::TransparencyReport| r.complaint_decisions.unwrap();
    for (name, whole, parts) in [
        (
            "items",
            all.items_requested,
            first.items_requested + second.items_requested,
        ),
        (
            "decisions",
            all.decisions,
            first.decisions + second.decisions,
        ),
        (
            "corrected",
            o(&all).corrected,
            o(&first).corrected + o(&second).corrected,
        ),
        (
            "deleted",
            o(&all).deleted,
            o(&first).deleted + o(&second).deleted,
        ),
        (
            "rejected",
            o(&all).rejected,
            o(&first).rejected + o(&second).rejected,
        ),
        (
            "restored",
            o(&all).restored,
            o(&first).restored + o(&second).restored,
        ),
        (
            "counter_notices",
            all.counter_notices,
            first.counter_notices + second.counter_notices,
        ),
        (
            "legal_actions",
            all.legal_actions,
            first.legal_actions + second.legal_actions,
        ),
        (
            "complaint reject",
            cd(&all).reject,
            cd(&first).reject + cd(&second).reject,
        ),
        (
            "suspensions",
            all.suspensions,
            first.suspensions + second.suspensions,
        ),
        (
            "automated_decisions",
            all.automated_decisions,
            first.automated_decisions + second.automated_decisions,
        ),
        (
            "notices by category",
            all.notices_by_category.iter().map(|c| c.count).sum(),
            [&first, &second]
                .iter()
                .flat_map(|r| &r.notices_by_category)
                .map(|c| c.count)
                .sum(),
        ),
    ] {
        assert_eq!(whole, parts, "{name}");
    }

    // A period with nothing in it: zeros and no durations, same head.
    let later = now + Duration::from_secs(86_400);
    let empty = m
        .report(Some(later), Some(later + Duration::from_secs(60)))
        .await;
    assert_eq!(
        empty,
        pb::TransparencyReport {
            start_time: ts(later),
            end_time: ts(later + Duration::from_secs(60)),
            outcomes: outcomes(0, 0, 0, 0, 0, 0),
            complaint_decisions: Some(pb::ComplaintDecisions::default()),
            complaint_outcomes: complaint_outcomes(0, 0, 0),
            suspensions_by_kind: suspensions(0, 0, 0),
            head_seq: verified.head_seq,
            head_hash: verified.head_hash.clone(),
            ..Default::default()
        }
    );
    s.stop().await;
}

#[tokio::test]
async fn end_before_start_is_invalid_argument() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let now = s.clock.now();
    let r = flow
        .audit()
        .get_transparency_report(pb::GetTransparencyReportRequest {
            start_time: ts(now),
            end_time: ts(now - Duration::from_secs(1)),
        })
        .await;
    let status = r.expect_err("end before start");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        crate::common::flow::violated_fields(&status).contains(&"end_time".to_string()),
        "{status:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn who_may_read_the_report() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let req = pb::GetTransparencyReportRequest::default;
    for (who, token, want) in [
        (
            "claimant",
            &flow.desk.claimant,
            Some(Code::PermissionDenied),
        ),
        (
            "publisher",
            &flow.desk.publisher,
            Some(Code::PermissionDenied),
        ),
        ("reviewer", &flow.desk.reviewer, None),
        ("auditor", &flow.desk.auditor, None),
        ("admin", &s.admin_token, None),
    ] {
        let r = s.audit(token).await.get_transparency_report(req()).await;
        assert_eq!(r.err().map(|e| e.code()), want, "{who}");
    }
    s.stop().await;
}

/// A claim started and decided in the same instant (one write group shares one time)
/// counts once towards the time to first action.
#[tokio::test]
async fn a_first_action_counts_once_per_claim() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let mut claims = Vec::new();
    for _ in 0..3 {
        claims.push(flow.file_claim().await);
    }
    tick(&s, 10);
    let a = flow.start_review(&claims[0]).await;
    flow.decide(&a, DecisionOutcome::Reject).await;
    tick(&s, 10);
    flow.start_review(&claims[1]).await;
    tick(&s, 10);
    flow.start_review(&claims[2]).await;
    tick(&s, 1);
    let report = flow
        .audit()
        .get_transparency_report(pb::GetTransparencyReportRequest::default())
        .await
        .expect("report")
        .into_inner()
        .report
        .expect("report");
    assert_eq!(report.median_time_to_first_action, dur(20));
    assert_eq!(report.p90_time_to_first_action, dur(30));
    assert_eq!(report.decisions, 1);
    assert_eq!(report.median_time_to_decision, dur(10));
    s.stop().await;
}

/// Without an end, the report covers everything up to the head it names, even an
/// entry written at this very instant.
#[tokio::test]
async fn an_open_ended_report_includes_the_head() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    flow.file_claim().await;
    let report = flow
        .audit()
        .get_transparency_report(pb::GetTransparencyReportRequest::default())
        .await
        .expect("report")
        .into_inner()
        .report
        .expect("report");
    assert_eq!(report.notices.iter().map(|n| n.notices).sum::<u64>(), 1);
    assert_eq!(report.head_seq, flow.verify().await.head_seq);
    s.stop().await;
}

/// Complaints settled three ways, and suspensions told apart by whom they hit: a
/// principal that filed notices and a notifier e-mail are notifiers, a principal that
/// filed none a complainant, and a contributor a contributor.
#[tokio::test]
async fn complaint_outcomes_and_suspensions_by_kind() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let (_, second) = s
        .principal("Compliance desk, second reader", &[Role::Reviewer])
        .await;
    let second = s.review(&second).await;
    let dsa = || fixtures::notice(fixtures::ARTICLE_ID, Regime::Dsa);
    let complain = |c: pb::Claim, mut by: ClaimServiceClient<crate::common::Authed>| async move {
        by.file_complaint(pb::FileComplaintRequest {
            claim_id: c.id.clone(),
            etag: String::new(),
            text: "The decision overlooks the syndication licence.".to_string(),
        })
        .await
        .expect("file complaint")
        .into_inner()
        .claim
        .expect("claim")
    };
    let decide_complaint = |c: pb::Claim, outcome: DecisionOutcome| {
        let mut second = second.clone();
        async move {
            second
                .decide_claim(decide_request(&c, outcome))
                .await
                .expect("second reviewer decides")
                .into_inner()
                .claim
                .expect("claim")
        }
    };

    // Reversed after 30 minutes.
    let p = flow.file(dsa()).await;
    let p = flow.start_review(&p).await;
    let p = flow.decide(&p, DecisionOutcome::Reject).await;
    let p = complain(p, flow.claimant()).await;
    tick(&s, 30);
    let p = decide_complaint(p, DecisionOutcome::Delete).await;
    assert!(p.complaints[0].decision_changed);
    // Upheld after 10 minutes.
    let q = flow.file(dsa()).await;
    let q = flow.start_review(&q).await;
    let q = flow.decide(&q, DecisionOutcome::Reject).await;
    let q = complain(q, flow.claimant()).await;
    tick(&s, 10);
    let q = decide_complaint(q, DecisionOutcome::Reject).await;
    assert!(!q.complaints[0].decision_changed);
    // Withdrawn while the complaint is open.
    let r = flow.file(dsa()).await;
    let r = flow.start_review(&r).await;
    let r = flow.decide(&r, DecisionOutcome::Reject).await;
    complain(r.clone(), flow.claimant()).await;
    tick(&s, 5);
    assert_state(&flow.withdraw(&r).await, ClaimState::Withdrawn);

    let admin = s.admin(&s.admin_token).await;
    let until = ts(s.clock.now() + Duration::from_secs(30 * 86_400));
    for id in [&flow.desk.claimant_id, &flow.desk.other_claimant_id] {
        crate::common::warn_principal(&s, id).await;
        admin
            .clone()
            .suspend_principal(pb::SuspendPrincipalRequest {
                principal_id: id.clone(),
                reason: "manifestly unfounded notices after the warning".to_string(),
                until,
            })
            .await
            .expect("suspend principal");
    }
    for key in [
        pb::party_key::Key::NotifierEmail("spam@agency.example.com".to_string()),
        pb::party_key::Key::ContributorAccountId("contributor-77".to_string()),
    ] {
        let party = Some(pb::PartyKey { key: Some(key) });
        admin
            .clone()
            .warn_party(pb::WarnPartyRequest {
                party: party.clone(),
                reason: "a first warning".to_string(),
            })
            .await
            .expect("warn party");
        admin
            .clone()
            .suspend_party(pb::SuspendPartyRequest {
                party,
                reason: "after the warning".to_string(),
                until,
            })
            .await
            .expect("suspend party");
    }

    let report = flow
        .audit()
        .get_transparency_report(pb::GetTransparencyReportRequest::default())
        .await
        .expect("report")
        .into_inner()
        .report
        .expect("report");
    assert_eq!(report.complaints, 3);
    assert_eq!(report.complaint_outcomes, complaint_outcomes(1, 1, 1));
    // 10 and 30 minutes: the lower median.
    assert_eq!(report.median_time_to_complaint_decision, dur(10));
    assert_eq!((report.suspensions, report.party_suspensions), (2, 2));
    assert_eq!(report.suspensions_by_kind, suspensions(2, 1, 1));
    // All three were decided on the fixture statement; R is withdrawn, so the
    // statement that decided it still names its category.
    assert_eq!(report.notices_by_category, categories(3, 0, 0));
    assert_eq!(report.decisions_by_ground, grounds(3, 0));
    assert_eq!(report.automated_decisions, 0);
    s.stop().await;
}
