//! Crash tests: the real `takedownd` binary under writes from several clients, killed
//! with SIGKILL at random moments and restarted on the same data folder, again and
//! again.
//!
//! After each kill, while the server is down, the sled store exactly as the dead
//! process left it must be self-consistent: every index key (state, article, claimant,
//! assignee, deadline, article URL, audit by claim and by article) is implied by a
//! record and every record's index keys are there; audit entries are 1..=applied_seq;
//! article holds match the claims that hold them; idempotency keys point at their
//! claims. After each restart, through the gRPC API: every acknowledged claim and
//! transition is there (same etag and state, or one step further if a call was in
//! flight at the kill), no claim appears that nobody filed, the list indexes agree
//! with the records, acknowledged FileClaim retries return the same claim, every
//! principal's token still works and the audit chain verifies up to at least the last
//! acknowledged seq.
//!
//! The run prints its seed; `CRASH_SEED=<n>` replays the same kill delays and
//! workloads (thread timing still varies). `CRASH_CYCLES=<n>` sets the number of
//! write-and-kill cycles (default 20; every fourth restart is also killed during
//! recovery, so the default run kills the server 25 times).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::daemon::Daemon;
use crate::common::{Authed, authed, create_principal, fixtures};
use nix::sys::signal::Signal;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use takedown::pb::{
    self, ClaimState, DecisionOutcome, LegalActionOutcome, Regime, Role,
    admin_service_client::AdminServiceClient, audit_service_client::AuditServiceClient,
    claim_service_client::ClaimServiceClient, publisher_service_client::PublisherServiceClient,
    review_service_client::ReviewServiceClient,
};
use takedown::store::{PageQuery, Store, indexes, keyspace};
use tonic::transport::Channel;
use tonic::{Code, Status};
use uuid::Uuid;

/// Concurrent writing clients.
const WORKERS: usize = 6;
/// Articles the claims are filed against.
const ARTICLES: usize = 4;
/// How long a (re)start may take before the test gives up.
const START_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------
// The server process.

/// `takedownd` flags for this test: the writers file claims flat out, so no abuse
/// limit on FileClaim.
fn args() -> Vec<String> {
    // 1 MiB segments: the kills also land around segment rotations, and each start
    // reads only the newest segment (`Journal::recover_tail`).
    ["--file-claim-rate", "0", "--journal-segment-mib", "1"]
        .map(String::from)
        .to_vec()
}

/// Starts `takedownd` on `data_dir` and waits until its health service says SERVING.
async fn start(data_dir: &Path, logs: &Path, name: &str) -> Daemon {
    Daemon::start(data_dir, &logs.join(format!("{name}.log")), &args()).await
}

/// Starts `takedownd` without waiting for it (to kill it early).
fn spawn(data_dir: &Path, log: &Path) -> Daemon {
    Daemon::spawn(data_dir, log, &args())
}

// ---------------------------------------------------------------------------------
// Principals and clients.

/// The cast, created once on the first start.
struct Tokens {
    admin: String,
    claimant: String,
    claimant_id: String,
    reviewer: String,
    reviewer_id: String,
    publisher: String,
    auditor: String,
}

impl Tokens {
    async fn create(ch: &Channel, admin: String) -> Tokens {
        let (claimant_id, claimant) =
            create_principal(ch, &admin, "Legal Daily rights desk", &[Role::Claimant]).await;
        let (reviewer_id, reviewer) =
            create_principal(ch, &admin, "Compliance desk", &[Role::Reviewer]).await;
        let (_, publisher) = create_principal(ch, &admin, "CMS", &[Role::Publisher]).await;
        let (_, auditor) = create_principal(ch, &admin, "Auditor", &[Role::Auditor]).await;
        Tokens {
            admin,
            claimant,
            claimant_id,
            reviewer,
            reviewer_id,
            publisher,
            auditor,
        }
    }
}

fn article_ids() -> Vec<String> {
    (0..ARTICLES)
        .map(|i| format!("news-2024-01-15-crash-{i}"))
        .collect()
}

async fn register_articles(ch: &Channel, tokens: &Tokens) {
    let mut publisher = PublisherServiceClient::new(authed(ch, &tokens.publisher));
    for id in article_ids() {
        let url = format!("https://news.example.org/2024/01/15/{id}");
        publisher
            .upsert_article(pb::UpsertArticleRequest {
                article: Some(fixtures::article(&id, &url)),
            })
            .await
            .expect("register article");
    }
}

// ---------------------------------------------------------------------------------
// What the clients were told.

/// The last acknowledged version of a claim.
#[derive(Debug, Clone)]
struct Acked {
    etag: u64,
    state: ClaimState,
}

#[derive(Default)]
struct Ledger {
    /// Claim id -> its last acknowledged etag and state.
    acked: HashMap<String, Acked>,
    /// Claim id -> the state a call whose outcome is unknown (in flight at the kill)
    /// would have moved it to.
    pending: HashMap<String, ClaimState>,
    /// request_ids of FileClaim calls in flight at the kill.
    unknown_files: HashSet<String>,
    /// (request_id, claim id) of every acknowledged FileClaim.
    filed: Vec<(String, String)>,
    /// Acknowledged writes in the current cycle.
    acks: usize,
    /// Calls in flight at the kill in the current cycle.
    unknowns: usize,
    /// Anything that went wrong while the server was alive.
    failures: Vec<String>,
}

impl Ledger {
    fn max_acked_etag(&self) -> u64 {
        self.acked.values().map(|a| a.etag).max().unwrap_or(0)
    }
}

fn etag_of(c: &pb::Claim) -> Option<u64> {
    c.etag.parse().ok()
}

// ---------------------------------------------------------------------------------
// The writing clients.

#[derive(Clone, Copy, Debug)]
enum Step {
    StartReview,
    RequestInfo,
    Amend,
    Decide(DecisionOutcome),
    RecordCorrection,
    CounterNotice,
    ReportLegalAction,
    Resolve(LegalActionOutcome),
    Withdraw,
}

impl Step {
    /// The state an accepted step leaves the claim in.
    fn to(self) -> ClaimState {
        match self {
            Step::StartReview => ClaimState::UnderReview,
            Step::RequestInfo => ClaimState::NeedsInfo,
            Step::Amend => ClaimState::Received,
            Step::Decide(DecisionOutcome::Reject) => ClaimState::Rejected,
            Step::Decide(DecisionOutcome::Correct) => ClaimState::CorrectionPending,
            Step::Decide(_) => ClaimState::Deleted,
            Step::RecordCorrection => ClaimState::Corrected,
            Step::CounterNotice => ClaimState::CounterNoticed,
            Step::ReportLegalAction => ClaimState::LegalActionPending,
            Step::Resolve(LegalActionOutcome::Upheld) => ClaimState::Deleted,
            Step::Resolve(_) => ClaimState::Restored,
            Step::Withdraw => ClaimState::Withdrawn,
        }
    }
}

/// The lifecycles a worker drives its claims through (after FileClaim).
const PLANS: &[&[Step]] = {
    use DecisionOutcome as D;
    use LegalActionOutcome as L;
    use Step::*;
    &[
        &[],
        &[Withdraw],
        &[StartReview],
        &[StartReview, Decide(D::Reject)],
        &[StartReview, Decide(D::Reject)],
        &[
            RequestInfo,
            Amend,
            StartReview,
            Decide(D::Correct),
            RecordCorrection,
        ],
        &[StartReview, Decide(D::Correct)],
        &[
            StartReview,
            Decide(D::Delete),
            CounterNotice,
            ReportLegalAction,
            Resolve(L::Dismissed),
        ],
        &[
            StartReview,
            Decide(D::Delete),
            CounterNotice,
            ReportLegalAction,
            Resolve(L::Upheld),
        ],
        &[StartReview, Decide(D::Delete), Withdraw],
        &[StartReview, RequestInfo, Withdraw],
    ]
};

struct Worker {
    name: String,
    rng: StdRng,
    claims: ClaimServiceClient<Authed>,
    review: ReviewServiceClient<Authed>,
    publisher: PublisherServiceClient<Authed>,
    ledger: Arc<Mutex<Ledger>>,
    killed: Arc<AtomicBool>,
    articles: Vec<String>,
}

impl Worker {
    async fn run(mut self) {
        let mut n = 0;
        while !self.killed.load(Ordering::SeqCst) {
            n += 1;
            let request_id = format!("{}-{n}", self.name);
            let article = self.articles[self.rng.random_range(0..self.articles.len())].clone();
            let filed = self
                .claims
                .file_claim(pb::FileClaimRequest {
                    request_id: request_id.clone(),
                    claim: Some(fixtures::notice(&article, Regime::Dmca)),
                })
                .await;
            let mut claim = match filed {
                Ok(r) => {
                    let c = r.into_inner().claim.unwrap_or_default();
                    if !self.acked_file(&request_id, &c) {
                        return;
                    }
                    c
                }
                Err(s) => {
                    if self.unknown(&s, &format!("FileClaim {request_id}")) {
                        let mut l = self.ledger.lock().unwrap();
                        l.unknown_files.insert(request_id);
                        l.unknowns += 1;
                    }
                    return;
                }
            };
            let plan = PLANS[self.rng.random_range(0..PLANS.len())];
            for &step in plan {
                if self.killed.load(Ordering::SeqCst) {
                    return;
                }
                match self.step(step, &claim).await {
                    Ok(c) => {
                        if !self.acked_step(step, &claim, &c) {
                            return;
                        }
                        claim = c;
                    }
                    Err(s) => {
                        if self.unknown(&s, &format!("{step:?} on claim {}", claim.id)) {
                            let mut l = self.ledger.lock().unwrap();
                            l.pending.insert(claim.id.clone(), step.to());
                            l.unknowns += 1;
                        }
                        return;
                    }
                }
            }
        }
    }

    async fn step(&mut self, step: Step, c: &pb::Claim) -> Result<pb::Claim, Status> {
        let claim_id = c.id.clone();
        let etag = c.etag.clone();
        let claim = match step {
            Step::StartReview => {
                self.review
                    .start_review(pb::StartReviewRequest { claim_id, etag })
                    .await?
                    .into_inner()
                    .claim
            }
            Step::RequestInfo => {
                self.review
                    .request_information(pb::RequestInformationRequest {
                        claim_id,
                        etag,
                        message: "Please send the archived original with its date.".into(),
                    })
                    .await?
                    .into_inner()
                    .claim
            }
            Step::Amend => {
                self.claims
                    .amend_claim(pb::AmendClaimRequest {
                        claim_id,
                        etag,
                        claim: Some(fixtures::notice(&c.article_id, Regime::Dmca)),
                        update_mask: None,
                        reply: "The archived original is attached as evidence.".into(),
                    })
                    .await?
                    .into_inner()
                    .claim
            }
            Step::Decide(outcome) => {
                self.review
                    .decide_claim(pb::DecideClaimRequest {
                        claim_id,
                        etag,
                        outcome: outcome as i32,
                        statement_of_reasons: Some(fixtures::reasons()),
                        items_to_change: vec![],
                        ..Default::default()
                    })
                    .await?
                    .into_inner()
                    .claim
            }
            Step::RecordCorrection => {
                self.publisher
                    .record_correction(pb::RecordCorrectionRequest {
                        claim_id,
                        etag,
                        article_revision: 0,
                        summary: "Removed the reproduced paragraph.".into(),
                    })
                    .await?
                    .into_inner()
                    .claim
            }
            Step::CounterNotice => {
                self.publisher
                    .file_counter_notice(pb::FileCounterNoticeRequest {
                        claim_id,
                        etag,
                        counter_notice: Some(fixtures::counter_notice()),
                    })
                    .await?
                    .into_inner()
                    .claim
            }
            Step::ReportLegalAction => {
                self.claims
                    .report_legal_action(pb::ReportLegalActionRequest {
                        claim_id,
                        etag,
                        authority: "Beijing Internet Court".into(),
                        case_reference: "(2024) Jing 0491 Min Chu 1".into(),
                        filed_date: "2024-02-01".into(),
                    })
                    .await?
                    .into_inner()
                    .claim
            }
            Step::Resolve(outcome) => {
                self.review
                    .resolve_legal_action(pb::ResolveLegalActionRequest {
                        claim_id,
                        etag,
                        outcome: outcome as i32,
                        note: "Judgment of 2024-03-01".into(),
                    })
                    .await?
                    .into_inner()
                    .claim
            }
            Step::Withdraw => {
                self.claims
                    .withdraw_claim(pb::WithdrawClaimRequest {
                        claim_id,
                        etag,
                        reason: "Settled with the publisher.".into(),
                    })
                    .await?
                    .into_inner()
                    .claim
            }
        };
        Ok(claim.unwrap_or_default())
    }

    fn fail(&self, msg: String) {
        self.ledger.lock().unwrap().failures.push(msg);
    }

    fn acked_file(&self, request_id: &str, c: &pb::Claim) -> bool {
        let Some(etag) = etag_of(c) else {
            self.fail(format!(
                "FileClaim {request_id}: etag {:?} is not a seq",
                c.etag
            ));
            return false;
        };
        if c.state() != ClaimState::Received || c.id.is_empty() {
            self.fail(format!("FileClaim {request_id}: answered {c:?}"));
            return false;
        }
        let mut l = self.ledger.lock().unwrap();
        l.acked.insert(
            c.id.clone(),
            Acked {
                etag,
                state: ClaimState::Received,
            },
        );
        l.filed.push((request_id.to_string(), c.id.clone()));
        l.acks += 1;
        true
    }

    fn acked_step(&self, step: Step, before: &pb::Claim, after: &pb::Claim) -> bool {
        let (old, new) = (etag_of(before).unwrap_or(0), etag_of(after));
        if after.id != before.id || after.state() != step.to() || new.is_none_or(|e| e <= old) {
            self.fail(format!(
                "{step:?} on claim {} (etag {old}) answered id {} state {:?} etag {:?}",
                before.id,
                after.id,
                after.state(),
                after.etag
            ));
            return false;
        }
        let mut l = self.ledger.lock().unwrap();
        l.acked.insert(
            after.id.clone(),
            Acked {
                etag: new.unwrap_or(0),
                state: after.state(),
            },
        );
        l.acks += 1;
        true
    }

    /// An error is an unknown outcome if the server was being killed and the error is
    /// a transport-level one; anything else is a failure (recorded) and returns false.
    fn unknown(&self, s: &Status, what: &str) -> bool {
        let transport = matches!(
            s.code(),
            Code::Unavailable | Code::Unknown | Code::Cancelled | Code::Internal
        );
        if self.killed.load(Ordering::SeqCst) && transport {
            return true;
        }
        self.fail(format!(
            "{} {what} failed while the server was up: {:?} {}",
            self.name,
            s.code(),
            s.message()
        ));
        false
    }
}

// ---------------------------------------------------------------------------------
// Checks through the API, after a restart.

/// Every claim visible to the client with the given filters, all pages.
async fn list_all(
    client: &mut ClaimServiceClient<Authed>,
    filter: pb::ListClaimsRequest,
) -> Vec<pb::Claim> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_claims(pb::ListClaimsRequest {
                page_size: 500,
                page_token: token.clone(),
                ..filter.clone()
            })
            .await
            .unwrap_or_else(|s| panic!("ListClaims {filter:?}: {s:?}"))
            .into_inner();
        out.extend(page.claims);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

fn ids(claims: &[pb::Claim]) -> BTreeSet<String> {
    claims.iter().map(|c| c.id.clone()).collect()
}

/// Describes how two id sets differ, or None if they are equal.
fn set_diff(what: &str, expected: &BTreeSet<String>, got: &BTreeSet<String>) -> Option<String> {
    if expected == got {
        return None;
    }
    let missing: Vec<_> = expected.difference(got).take(5).collect();
    let extra: Vec<_> = got.difference(expected).take(5).collect();
    Some(format!(
        "{what}: {} expected, {} listed; missing {missing:?}, unexpected {extra:?}",
        expected.len(),
        got.len()
    ))
}

fn holds(state: ClaimState) -> bool {
    matches!(
        state,
        ClaimState::Deleted | ClaimState::CounterNoticed | ClaimState::LegalActionPending
    )
}

struct ApiSummary {
    claims: usize,
    head_seq: u64,
    entries: u64,
    orphans_found: usize,
}

/// Checks the restarted server against the ledger; panics listing every problem.
/// Afterwards the ledger holds exactly what the server has (pending and unknown
/// outcomes resolved), so the next cycle checks for exact equality.
async fn verify_api(
    d: &Daemon,
    data_dir: &Path,
    tokens: &Tokens,
    ledger: &Mutex<Ledger>,
    rng: &mut StdRng,
) -> ApiSummary {
    let ch = d.channel().await;
    let mut problems: Vec<String> = Vec::new();

    // Tokens: the admin token file is unchanged and every principal still works.
    let file_token = Daemon::admin_token(data_dir);
    if file_token != tokens.admin {
        problems.push("admin.token changed across a restart".into());
    }
    let principals = AdminServiceClient::new(authed(&ch, &tokens.admin))
        .list_principals(pb::ListPrincipalsRequest {
            page_size: 50,
            page_token: String::new(),
        })
        .await
        .map(|r| r.into_inner().principals.len());
    match principals {
        Ok(5) => {}
        other => problems.push(format!("ListPrincipals as admin: {other:?}, want 5")),
    }
    let mut admin_claims = ClaimServiceClient::new(authed(&ch, &tokens.admin));
    let mut claimant = ClaimServiceClient::new(authed(&ch, &tokens.claimant));
    let mut reviewer = ClaimServiceClient::new(authed(&ch, &tokens.reviewer));
    let mut publisher = PublisherServiceClient::new(authed(&ch, &tokens.publisher));
    let mut audit = AuditServiceClient::new(authed(&ch, &tokens.auditor));

    // Records: every acknowledged claim, as acknowledged.
    let all = list_all(&mut admin_claims, Default::default()).await;
    let by_id: BTreeMap<String, pb::Claim> =
        all.iter().map(|c| (c.id.clone(), c.clone())).collect();
    if by_id.len() != all.len() {
        problems.push(format!(
            "unfiltered ListClaims returned {} claims but only {} distinct ids",
            all.len(),
            by_id.len()
        ));
    }
    let mut orphans_found = 0;
    {
        let mut l = ledger.lock().unwrap();
        let l = &mut *l;
        let pending = std::mem::take(&mut l.pending);
        for (id, acked) in l.acked.iter_mut() {
            let Some(c) = by_id.get(id) else {
                problems.push(format!(
                    "LOST: acknowledged claim {id} ({:?}, etag {}) is gone",
                    acked.state, acked.etag
                ));
                continue;
            };
            let etag = etag_of(c).unwrap_or(0);
            let ok = if etag == acked.etag {
                c.state() == acked.state
            } else {
                // Only a call in flight at the kill may have moved it further, and then
                // exactly to where that call leads.
                etag > acked.etag && pending.get(id) == Some(&c.state())
            };
            if !ok {
                problems.push(format!(
                    "claim {id}: acknowledged {:?} at etag {}, stored {:?} at etag {} (in-flight call would lead to {:?})",
                    acked.state,
                    acked.etag,
                    c.state(),
                    c.etag,
                    pending.get(id)
                ));
            }
            *acked = Acked {
                etag,
                state: c.state(),
            };
        }
        // Every stored claim was acknowledged or filed by a call in flight at a kill.
        for c in &all {
            if l.acked.contains_key(&c.id) {
                continue;
            }
            if l.unknown_files.remove(&c.request_id) {
                orphans_found += 1;
                l.acked.insert(
                    c.id.clone(),
                    Acked {
                        etag: etag_of(c).unwrap_or(0),
                        state: c.state(),
                    },
                );
                l.filed.push((c.request_id.clone(), c.id.clone()));
            } else {
                problems.push(format!(
                    "PHANTOM: claim {} (request_id {:?}) was never filed by this test",
                    c.id, c.request_id
                ));
            }
        }
        // Calls in flight at this kill that left nothing are gone for good; their ids
        // are never reused.
        l.unknown_files.clear();
    }

    // Indexes agree with records, through every list filter.
    for s in 1..=12 {
        let state = ClaimState::try_from(s).expect("state");
        let want: BTreeSet<String> = all
            .iter()
            .filter(|c| c.state == s)
            .map(|c| c.id.clone())
            .collect();
        let got = list_all(
            &mut admin_claims,
            pb::ListClaimsRequest {
                state: s,
                ..Default::default()
            },
        )
        .await;
        problems.extend(set_diff(
            &format!("state index {state:?}"),
            &want,
            &ids(&got),
        ));
    }
    for article in article_ids() {
        let want: BTreeSet<String> = all
            .iter()
            .filter(|c| c.article_id == article)
            .map(|c| c.id.clone())
            .collect();
        let got = list_all(
            &mut admin_claims,
            pb::ListClaimsRequest {
                article_id: article.clone(),
                ..Default::default()
            },
        )
        .await;
        problems.extend(set_diff(
            &format!("article index {article}"),
            &want,
            &ids(&got),
        ));
    }
    let want: BTreeSet<String> = all
        .iter()
        .filter(|c| c.assignee == tokens.reviewer_id)
        .map(|c| c.id.clone())
        .collect();
    let got = list_all(
        &mut reviewer,
        pb::ListClaimsRequest {
            assignee: tokens.reviewer_id.clone(),
            ..Default::default()
        },
    )
    .await;
    problems.extend(set_diff("assignee index", &want, &ids(&got)));
    let want: BTreeSet<String> = all
        .iter()
        .filter(|c| c.filed_by == tokens.claimant_id)
        .map(|c| c.id.clone())
        .collect();
    let got = list_all(&mut claimant, Default::default()).await;
    problems.extend(set_diff("claimant index", &want, &ids(&got)));
    if want.len() != all.len() {
        problems.push("a claim is not filed by the test's claimant".into());
    }

    // Article holds agree with the claims that hold them.
    let articles = publisher
        .batch_get_articles(pb::BatchGetArticlesRequest {
            article_ids: article_ids(),
        })
        .await
        .expect("BatchGetArticles")
        .into_inner()
        .articles;
    for a in &articles {
        let want: BTreeSet<String> = all
            .iter()
            .filter(|c| c.article_id == a.id && holds(c.state()))
            .map(|c| c.id.clone())
            .collect();
        let got: BTreeSet<String> = a.holding_claim_ids.iter().cloned().collect();
        problems.extend(set_diff(&format!("holds on article {}", a.id), &want, &got));
        if a.available != want.is_empty() {
            problems.push(format!(
                "article {} available={} with {} holds",
                a.id,
                a.available,
                want.len()
            ));
        }
    }

    // Idempotency survives: retrying acknowledged FileClaims returns the same claim.
    let sample: Vec<(String, String)> = {
        let l = ledger.lock().unwrap();
        let mut s: Vec<_> = l.filed.iter().rev().take(8).cloned().collect();
        for _ in 0..4 {
            if !l.filed.is_empty() {
                s.push(l.filed[rng.random_range(0..l.filed.len())].clone());
            }
        }
        s
    };
    for (request_id, id) in sample {
        let article = &by_id
            .get(&id)
            .map(|c| c.article_id.clone())
            .unwrap_or_default();
        let r = claimant
            .file_claim(pb::FileClaimRequest {
                request_id: request_id.clone(),
                claim: Some(fixtures::notice(article, Regime::Dmca)),
            })
            .await;
        match r {
            Ok(r) if r.get_ref().claim.as_ref().is_some_and(|c| c.id == id) => {}
            other => problems.push(format!(
                "retrying FileClaim {request_id} (claim {id}) answered {other:?}"
            )),
        }
    }

    // The chain verifies, up to at least the last acknowledged write.
    let v = audit
        .verify_audit_log(pb::VerifyAuditLogRequest::default())
        .await
        .expect("VerifyAuditLog")
        .into_inner();
    let max_acked = ledger.lock().unwrap().max_acked_etag();
    if !v.ok || v.head_seq < max_acked || v.entries_checked != v.head_seq {
        problems.push(format!(
            "VerifyAuditLog: ok={} head_seq={} entries_checked={} first_bad_seq={} problem={:?}; max acknowledged etag {max_acked}",
            v.ok, v.head_seq, v.entries_checked, v.first_bad_seq, v.problem
        ));
    }

    report(problems, d);
    ApiSummary {
        claims: all.len(),
        head_seq: v.head_seq,
        entries: v.entries_checked,
        orphans_found,
    }
}

fn report(problems: Vec<String>, d: &Daemon) {
    if !problems.is_empty() {
        let n = problems.len();
        let shown: Vec<String> = problems.into_iter().take(25).collect();
        panic!(
            "{n} problem(s):\n  {}\nserver log tail:\n{}",
            shown.join("\n  "),
            d.log_tail()
        );
    }
}

// ---------------------------------------------------------------------------------
// Checks of the sled store as a killed process left it.

/// Every key under `prefix`.
fn scan_keys(store: &Store, prefix: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut query = PageQuery {
        after: None,
        limit: 5_000,
        until: None,
    };
    loop {
        let page = store
            .page(prefix, &query, |_, k| Ok(Some(k.to_vec())))
            .expect("scan sled");
        out.extend(page.items);
        match page.next {
            Some(next) => query.after = Some(next),
            None => return out,
        }
    }
}

fn key_diff(what: &str, expected: &BTreeSet<Vec<u8>>, got: &BTreeSet<Vec<u8>>) -> Option<String> {
    if expected == got {
        return None;
    }
    let missing: Vec<String> = expected.difference(got).take(3).map(hex::encode).collect();
    let stale: Vec<String> = got.difference(expected).take(3).map(hex::encode).collect();
    Some(format!(
        "{what}: {} keys implied by records, {} stored; missing {missing:?}, stale {stale:?}",
        expected.len(),
        got.len()
    ))
}

struct StoreSummary {
    applied_seq: u64,
    claims: usize,
}

/// Opens the sled store of a stopped server and checks that it agrees with itself.
fn check_store(data_dir: &Path) -> Result<StoreSummary, Vec<String>> {
    let sled = takedown::writer::sled_dir(data_dir);
    if !sled.exists() {
        return Ok(StoreSummary {
            applied_seq: 0,
            claims: 0,
        });
    }
    let store = Store::open(&sled, 8 * 1024 * 1024)
        .map_err(|e| vec![format!("sled does not open after a kill: {e}")])?;
    let mut problems = Vec::new();
    let applied = store.applied_seq().expect("applied_seq");

    // Claims and their indexes.
    let mut claims = Vec::new();
    for k in scan_keys(&store, &[keyspace::CLAIM]) {
        let id = keyspace::trailing_uuid(&k).expect("claim key");
        match store.claim(&id) {
            Ok(Some(c)) => claims.push(c),
            other => problems.push(format!("claim key {} reads as {other:?}", hex::encode(&k))),
        }
    }
    let implied: BTreeSet<Vec<u8>> = claims.iter().flat_map(indexes::claim_keys).collect();
    let mut stored = BTreeSet::new();
    for tag in keyspace::CLAIM_INDEXES {
        stored.extend(scan_keys(&store, &[tag]));
    }
    problems.extend(key_diff("claim indexes", &implied, &stored));

    // Articles, their URL index and their holds.
    let mut articles = Vec::new();
    for k in scan_keys(&store, &[keyspace::ARTICLE]) {
        let id = String::from_utf8(k[1..].to_vec()).expect("article key");
        match store.article(&id) {
            Ok(Some(a)) => articles.push(a),
            other => problems.push(format!("article {id} reads as {other:?}")),
        }
    }
    let implied: BTreeSet<Vec<u8>> = articles.iter().flat_map(indexes::article_keys).collect();
    let stored: BTreeSet<Vec<u8>> = scan_keys(&store, &[keyspace::ARTICLE_BY_URL])
        .into_iter()
        .collect();
    problems.extend(key_diff("article URL index", &implied, &stored));
    for a in &articles {
        let want: BTreeSet<String> = claims
            .iter()
            .filter(|c| c.article_id == a.id && holds(c.state()))
            .map(|c| c.id.clone())
            .collect();
        let got: BTreeSet<String> = a.holding_claim_ids.iter().cloned().collect();
        problems.extend(set_diff(&format!("sled holds on {}", a.id), &want, &got));
    }

    // Audit entries are exactly 1..=applied_seq, and their indexes agree.
    let seqs: Vec<u64> = scan_keys(&store, &[keyspace::AUDIT])
        .iter()
        .filter_map(|k| keyspace::trailing_seq(k))
        .collect();
    if seqs != (1..=applied).collect::<Vec<u64>>() {
        problems.push(format!(
            "audit entries in sled: {} entries, first {:?}, last {:?}; applied_seq {applied}",
            seqs.len(),
            seqs.first(),
            seqs.last()
        ));
    }
    let mut entries = HashMap::new();
    for &seq in &seqs {
        match store.audit_entry(seq) {
            Ok(Some(e)) => {
                entries.insert(seq, e);
            }
            other => problems.push(format!("audit entry {seq} reads as {other:?}")),
        }
    }
    let implied: BTreeSet<Vec<u8>> = entries.values().flat_map(indexes::audit_keys).collect();
    let mut stored = BTreeSet::new();
    for tag in [keyspace::AUDIT_BY_CLAIM, keyspace::AUDIT_BY_ARTICLE] {
        stored.extend(scan_keys(&store, &[tag]));
    }
    problems.extend(key_diff("audit indexes", &implied, &stored));

    // Each claim's etag is the seq of the entry that last changed it, and its
    // FileClaim idempotency key points at it.
    for c in &claims {
        let etag = etag_of(c).unwrap_or(0);
        match entries.get(&etag) {
            Some(e) if e.claim_id == c.id => {}
            other => problems.push(format!(
                "claim {} etag {etag}: audit entry {:?} (applied_seq {applied})",
                c.id,
                other.map(|e| (&e.action, &e.claim_id))
            )),
        }
        if !c.request_id.is_empty() {
            let principal = Uuid::parse_str(&c.filed_by).expect("filed_by");
            match store.idempotency_key(&principal, &c.request_id) {
                Ok(Some(k)) if k.claim_id == c.id => {}
                other => problems.push(format!(
                    "idempotency key {} of claim {}: {other:?}",
                    c.request_id, c.id
                )),
            }
        }
    }
    drop(store);
    if problems.is_empty() {
        Ok(StoreSummary {
            applied_seq: applied,
            claims: claims.len(),
        })
    } else {
        Err(problems)
    }
}

fn check_store_or_panic(data_dir: &Path, when: &str) -> StoreSummary {
    check_store(data_dir).unwrap_or_else(|problems| {
        panic!(
            "sled store after {when}: {} problem(s):\n  {}",
            problems.len(),
            problems
                .into_iter()
                .take(25)
                .collect::<Vec<_>>()
                .join("\n  ")
        )
    })
}

// ---------------------------------------------------------------------------------
// The tests.

fn seed() -> u64 {
    std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_concurrent_writes_loses_no_acknowledged_write() {
    let seed = seed();
    let cycles: usize = std::env::var("CRASH_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    println!("crash test seed {seed} (rerun with CRASH_SEED={seed}), {cycles} cycles");
    let mut rng = StdRng::seed_from_u64(seed);
    let began = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).expect("logs dir");

    let mut d = start(&data_dir, &logs, "start-0").await;
    let admin = Daemon::admin_token(&data_dir);
    let tokens = {
        let ch = d.channel().await;
        let tokens = Tokens::create(&ch, admin).await;
        register_articles(&ch, &tokens).await;
        tokens
    };
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut kills = 0;
    let mut total_acks = 0;

    for cycle in 1..=cycles {
        // Several clients write until the kill.
        let killed = Arc::new(AtomicBool::new(false));
        let ch = d.channel().await;
        let mut workers = Vec::new();
        for w in 0..WORKERS {
            let worker = Worker {
                name: format!("c{cycle}-w{w}"),
                rng: StdRng::seed_from_u64(rng.random()),
                claims: ClaimServiceClient::new(authed(&ch, &tokens.claimant)),
                review: ReviewServiceClient::new(authed(&ch, &tokens.reviewer)),
                publisher: PublisherServiceClient::new(authed(&ch, &tokens.publisher)),
                ledger: ledger.clone(),
                killed: killed.clone(),
                articles: article_ids(),
            };
            workers.push(tokio::spawn(worker.run()));
        }
        let delay = Duration::from_millis(rng.random_range(50..=600));
        tokio::time::sleep(delay).await;
        killed.store(true, Ordering::SeqCst);
        let status = d.kill();
        kills += 1;
        for w in workers {
            tokio::time::timeout(Duration::from_secs(30), w)
                .await
                .expect("a worker hangs after the kill")
                .expect("worker task");
        }
        let (acks, unknowns) = {
            let mut l = ledger.lock().unwrap();
            if !l.failures.is_empty() {
                panic!(
                    "cycle {cycle}: calls failed while the server was up:\n  {}",
                    l.failures.join("\n  ")
                );
            }
            (std::mem::take(&mut l.acks), std::mem::take(&mut l.unknowns))
        };
        total_acks += acks;
        assert!(
            status.is_some_and(|s| {
                use std::os::unix::process::ExitStatusExt;
                s.signal() == Some(Signal::SIGKILL as i32)
            }),
            "cycle {cycle}: takedownd had already exited ({status:?}) before the kill:\n{}",
            d.log_tail()
        );
        let raw = check_store_or_panic(&data_dir, &format!("kill {kills}"));

        // Every fourth restart is killed while it recovers, then restarted again.
        if cycle % 4 == 0 {
            let mut r = spawn(&data_dir, &logs.join(format!("recovery-{cycle}.log")));
            tokio::time::sleep(Duration::from_millis(rng.random_range(0..=40))).await;
            r.kill();
            kills += 1;
            check_store_or_panic(&data_dir, &format!("kill {kills} (during recovery)"));
        }

        d = start(&data_dir, &logs, &format!("start-{cycle}")).await;
        let api = verify_api(&d, &data_dir, &tokens, &ledger, &mut rng).await;
        println!(
            "cycle {cycle:2}: killed after {:3} ms; {acks:4} acked writes, {unknowns} in flight ({} of the filings landed); \
             sled at kill: applied_seq {}, {} claims; after restart: {} claims, head_seq {} ({} entries verified); {kills} kills, {:.1} s",
            delay.as_millis(),
            api.orphans_found,
            raw.applied_seq,
            raw.claims,
            api.claims,
            api.head_seq,
            api.entries,
            began.elapsed().as_secs_f64()
        );
    }
    // Finally: after one more kill, `takedownd rebuild` recreates sled from the journal
    // alone, and the rebuilt store holds everything too.
    d.kill();
    kills += 1;
    let out = Command::new(env!("CARGO_BIN_EXE_takedownd"))
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("rebuild")
        .env_remove("TAKEDOWN_DATA_DIR")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run takedownd rebuild");
    assert!(
        out.status.success(),
        "takedownd rebuild after a kill: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let raw = check_store_or_panic(&data_dir, "rebuild");
    let d = start(&data_dir, &logs, "after-rebuild").await;
    let api = verify_api(&d, &data_dir, &tokens, &ledger, &mut rng).await;
    println!(
        "rebuild: {} ({} claims, applied_seq {}); after restart {} claims, head_seq {}",
        String::from_utf8_lossy(&out.stderr).trim(),
        raw.claims,
        raw.applied_seq,
        api.claims,
        api.head_seq
    );
    drop(d);
    println!(
        "crash test: {kills} SIGKILLs, {total_acks} acknowledged writes, all present; seed {seed}; {:.1} s",
        began.elapsed().as_secs_f64()
    );
    assert!(kills >= 20, "only {kills} kills");
    assert!(total_acks > 0, "no write was ever acknowledged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_first_start_then_a_clean_start_has_a_working_admin() {
    let seed = seed();
    println!("first-start crash test seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("temp dir");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).expect("logs dir");

    // How long a first start takes here, to spread the kills across it.
    let calibration = dir.path().join("calibration");
    let began = Instant::now();
    let mut c = start(&calibration, &logs, "calibration").await;
    let first_start = began.elapsed();
    c.kill();

    // Kills spread over the very first start.
    let data_dir = dir.path().join("data");
    let kills = 8;
    let mut tokens_seen = BTreeSet::new();
    let mut before_token = 0;
    for i in 0..kills {
        let span = first_start.as_micros() as u64;
        let delay = Duration::from_micros(span * i / kills + rng.random_range(0..=span / kills));
        let mut d = spawn(&data_dir, &logs.join(format!("first-{i}.log")));
        tokio::time::sleep(delay).await;
        d.kill();
        match std::fs::read_to_string(data_dir.join("admin.token")) {
            Ok(t) => {
                tokens_seen.insert(t.trim().to_string());
            }
            Err(_) => before_token += 1,
        }
        check_store_or_panic(&data_dir, &format!("first-start kill {i} after {delay:?}"));
    }
    clean_starts(&data_dir, &logs, "spread", &mut tokens_seen).await;

    // Kills aimed at the window between writing admin.token and journaling its
    // principal, on a fresh folder: kill the moment a new token appears. Each kill
    // that lands in the window makes the next start write yet another token.
    let data_dir = dir.path().join("aimed");
    let aimed = 3;
    let mut aimed_tokens = BTreeSet::new();
    for i in 0..aimed {
        let old = std::fs::read_to_string(data_dir.join("admin.token")).unwrap_or_default();
        let mut d = spawn(&data_dir, &logs.join(format!("aimed-{i}.log")));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let now = std::fs::read_to_string(data_dir.join("admin.token")).unwrap_or_default();
            if (!now.trim().is_empty() && now != old)
                || d.exited().is_some()
                || Instant::now() > deadline
            {
                break;
            }
            if !old.is_empty() && d.serving().await {
                break; // the admin principal exists: no new token will come
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        d.kill();
        if let Ok(t) = std::fs::read_to_string(data_dir.join("admin.token")) {
            aimed_tokens.insert(t.trim().to_string());
        }
        check_store_or_panic(&data_dir, &format!("aimed kill {i}"));
    }
    clean_starts(&data_dir, &logs, "aimed", &mut aimed_tokens).await;

    println!(
        "first-start crash test: {kills} kills spread over the first start ({first_start:?}), \
         {before_token} before admin.token existed, {} admin token(s) written; {aimed} kills as \
         admin.token appeared, {} admin token(s) written; clean starts then work",
        tokens_seen.len(),
        aimed_tokens.len()
    );
}

/// Two clean starts on a folder whose first starts were killed: the token in
/// admin.token works, there is exactly one admin, it can create a principal, and the
/// audit chain verifies.
async fn clean_starts(
    data_dir: &Path,
    logs: &Path,
    name: &str,
    tokens_seen: &mut BTreeSet<String>,
) {
    for round in 0..2 {
        let d = start(data_dir, logs, &format!("{name}-clean-{round}")).await;
        let token = Daemon::admin_token(data_dir);
        tokens_seen.insert(token.clone());
        let ch = d.channel().await;
        let principals = AdminServiceClient::new(authed(&ch, &token))
            .list_principals(pb::ListPrincipalsRequest {
                page_size: 50,
                page_token: String::new(),
            })
            .await
            .unwrap_or_else(|s| {
                panic!(
                    "{name} round {round}: the admin token does not work: {s:?}\n{}",
                    d.log_tail()
                )
            })
            .into_inner()
            .principals;
        let admins: Vec<_> = principals
            .iter()
            .filter(|p| p.roles.contains(&(Role::Admin as i32)))
            .collect();
        assert_eq!(
            admins.len(),
            1,
            "{name} round {round}: exactly one admin principal: {principals:?}"
        );
        assert_eq!(
            principals.len(),
            1 + round,
            "{name} round {round}: {principals:?}"
        );
        // The admin can act, and the chain verifies.
        let (_, auditor) = create_principal(&ch, &token, "Auditor", &[Role::Auditor]).await;
        let v = AuditServiceClient::new(authed(&ch, &auditor))
            .verify_audit_log(pb::VerifyAuditLogRequest::default())
            .await
            .expect("VerifyAuditLog")
            .into_inner();
        assert!(
            v.ok,
            "{name} round {round}: the chain does not verify: {v:?}"
        );
        assert_eq!(v.head_seq, 2 + round as u64, "{name} round {round}: {v:?}");
        drop(d); // SIGKILL
        check_store_or_panic(data_dir, &format!("{name} clean start {round}"));
    }
}
