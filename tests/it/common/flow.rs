//! The workflow as small steps, so that a test reads like the desk's day: file a
//! claim, start review, decide, record the correction, file a counter-notice, ...
//! Each step expects success and returns the claim as the server answered it; error
//! tests call the clients (`flow.review()`, ...) directly and look at the status.

use takedown::pb::{
    self, ClaimState, DecisionOutcome, LegalActionOutcome,
    audit_service_client::AuditServiceClient, claim_service_client::ClaimServiceClient,
    publisher_service_client::PublisherServiceClient, review_service_client::ReviewServiceClient,
};
use tonic::Status;
use tonic_types::StatusExt;

use super::fixtures::{self, ARTICLE_ID};
use super::{Authed, Desk, TestServer};

/// The desk's clients, connected once, with the seed article registered.
pub struct Flow {
    pub desk: Desk,
    claimant: ClaimServiceClient<Authed>,
    other_claimant: ClaimServiceClient<Authed>,
    reviewer_claims: ClaimServiceClient<Authed>,
    review: ReviewServiceClient<Authed>,
    publisher: PublisherServiceClient<Authed>,
    audit: AuditServiceClient<Authed>,
}

/// Takes the claim out of a response, which must carry one.
fn claim(c: Option<pb::Claim>) -> pb::Claim {
    c.expect("the response carries the claim")
}

impl Flow {
    /// Creates the cast and registers the seed article.
    pub async fn new(s: &TestServer) -> Flow {
        let flow = Flow::connect(s, Desk::new(s).await).await;
        flow.register(fixtures::seed_article()).await;
        flow
    }

    /// Clients for an existing cast (after a restart the server has a new port).
    pub async fn connect(s: &TestServer, desk: Desk) -> Flow {
        Flow {
            claimant: s.claims(&desk.claimant).await,
            other_claimant: s.claims(&desk.other_claimant).await,
            reviewer_claims: s.claims(&desk.reviewer).await,
            review: s.review(&desk.reviewer).await,
            publisher: s.publisher(&desk.publisher).await,
            audit: s.audit(&desk.auditor).await,
            desk,
        }
    }

    /// The same cast, connected to the server as it runs now.
    pub async fn reconnect(self, s: &TestServer) -> Flow {
        Flow::connect(s, self.desk).await
    }

    /// The claimant's ClaimService client.
    pub fn claimant(&self) -> ClaimServiceClient<Authed> {
        self.claimant.clone()
    }

    /// The other claimant's ClaimService client.
    pub fn other_claimant(&self) -> ClaimServiceClient<Authed> {
        self.other_claimant.clone()
    }

    /// The reviewer's ReviewService client.
    pub fn review(&self) -> ReviewServiceClient<Authed> {
        self.review.clone()
    }

    /// The reviewer's ClaimService client (sees every claim unredacted).
    pub fn reviewer_claims(&self) -> ClaimServiceClient<Authed> {
        self.reviewer_claims.clone()
    }

    /// The CMS's PublisherService client.
    pub fn publisher(&self) -> PublisherServiceClient<Authed> {
        self.publisher.clone()
    }

    /// The auditor's AuditService client.
    pub fn audit(&self) -> AuditServiceClient<Authed> {
        self.audit.clone()
    }

    /// Registers (or updates) an article as the CMS.
    pub async fn register(&self, article: pb::Article) -> pb::Article {
        self.publisher()
            .upsert_article(pb::UpsertArticleRequest {
                article: Some(article),
            })
            .await
            .expect("register article")
            .into_inner()
            .article
            .expect("article")
    }

    /// The claimant files the complete DMCA notice against the seed article.
    pub async fn file_claim(&self) -> pb::Claim {
        self.file(fixtures::dmca_notice()).await
    }

    /// The claimant files `notice` (no request_id).
    pub async fn file(&self, notice: pb::Claim) -> pb::Claim {
        let c = claim(
            self.claimant()
                .file_claim(pb::FileClaimRequest {
                    request_id: String::new(),
                    claim: Some(notice),
                })
                .await
                .expect("file claim")
                .into_inner()
                .claim,
        );
        assert_state(&c, ClaimState::Received);
        c
    }

    pub async fn start_review(&self, c: &pb::Claim) -> pb::Claim {
        claim(
            self.review()
                .start_review(pb::StartReviewRequest {
                    claim_id: c.id.clone(),
                    etag: c.etag.clone(),
                })
                .await
                .expect("start review")
                .into_inner()
                .claim,
        )
    }

    pub async fn request_information(&self, c: &pb::Claim, message: &str) -> pb::Claim {
        claim(
            self.review()
                .request_information(pb::RequestInformationRequest {
                    claim_id: c.id.clone(),
                    etag: c.etag.clone(),
                    message: message.to_string(),
                })
                .await
                .expect("request information")
                .into_inner()
                .claim,
        )
    }

    /// The reviewer decides with the fixture statement of reasons.
    pub async fn decide(&self, c: &pb::Claim, outcome: DecisionOutcome) -> pb::Claim {
        claim(
            self.review()
                .decide_claim(decide_request(c, outcome))
                .await
                .expect("decide claim")
                .into_inner()
                .claim,
        )
    }

    /// The CMS records the correction (revision 0: let the service number it).
    pub async fn record_correction(&self, c: &pb::Claim) -> pb::RecordCorrectionResponse {
        self.publisher()
            .record_correction(pb::RecordCorrectionRequest {
                claim_id: c.id.clone(),
                etag: c.etag.clone(),
                article_revision: 0,
                summary: "Paragraph 1 rewritten in our own words; quotation attributed."
                    .to_string(),
            })
            .await
            .expect("record correction")
            .into_inner()
    }

    /// The CMS files the fixture counter-notice.
    pub async fn try_counter_notice(&self, c: &pb::Claim) -> Result<pb::Claim, Status> {
        self.publisher()
            .file_counter_notice(pb::FileCounterNoticeRequest {
                claim_id: c.id.clone(),
                etag: String::new(),
                counter_notice: Some(fixtures::counter_notice()),
            })
            .await
            .map(|r| claim(r.into_inner().claim))
    }

    pub async fn counter_notice(&self, c: &pb::Claim) -> pb::Claim {
        self.try_counter_notice(c).await.expect("counter-notice")
    }

    /// The claimant reports a lawsuit.
    pub async fn report_legal_action(&self, c: &pb::Claim) -> pb::Claim {
        claim(
            self.claimant()
                .report_legal_action(legal_action_request(c))
                .await
                .expect("report legal action")
                .into_inner()
                .claim,
        )
    }

    pub async fn resolve(&self, c: &pb::Claim, outcome: LegalActionOutcome) -> pb::Claim {
        claim(
            self.review()
                .resolve_legal_action(pb::ResolveLegalActionRequest {
                    claim_id: c.id.clone(),
                    etag: c.etag.clone(),
                    outcome: outcome as i32,
                    note: "Judgment of 2024-03-01".to_string(),
                })
                .await
                .expect("resolve legal action")
                .into_inner()
                .claim,
        )
    }

    /// The claimant withdraws the claim.
    pub async fn withdraw(&self, c: &pb::Claim) -> pb::Claim {
        claim(
            self.claimant()
                .withdraw_claim(pb::WithdrawClaimRequest {
                    claim_id: c.id.clone(),
                    etag: String::new(),
                    reason: "Settled with the publisher".to_string(),
                })
                .await
                .expect("withdraw claim")
                .into_inner()
                .claim,
        )
    }

    /// Files a fresh claim against `article_id` and drives it into `state` through the
    /// API (only states reachable without the clock). Returns the claim as a reviewer
    /// reads it then (unredacted).
    pub async fn claim_in(&self, article_id: &str, state: ClaimState) -> pb::Claim {
        let c = self.drive(article_id, state).await;
        assert_state(&c, state);
        self.get(&c.id).await
    }

    async fn drive(&self, article_id: &str, state: ClaimState) -> pb::Claim {
        use ClaimState::*;
        let c = self
            .file(fixtures::notice(article_id, pb::Regime::Dmca))
            .await;
        let c = match state {
            Received => return c,
            Withdrawn => return self.withdraw(&c).await,
            NeedsInfo => return self.request_information(&c, "Which paragraph?").await,
            _ => self.start_review(&c).await,
        };
        let c = match state {
            UnderReview => return c,
            Rejected => return self.decide(&c, DecisionOutcome::Reject).await,
            CorrectionPending => return self.decide(&c, DecisionOutcome::Correct).await,
            Corrected => {
                let c = self.decide(&c, DecisionOutcome::Correct).await;
                return claim(self.record_correction(&c).await.claim);
            }
            _ => self.decide(&c, DecisionOutcome::Delete).await,
        };
        let c = match state {
            Deleted => return c,
            _ => self.counter_notice(&c).await,
        };
        let c = match state {
            CounterNoticed => return c,
            _ => self.report_legal_action(&c).await,
        };
        match state {
            LegalActionPending => c,
            Restored => self.resolve(&c, LegalActionOutcome::Dismissed).await,
            other => panic!("claim_in cannot reach {other:?} without the clock"),
        }
    }

    /// The claim as the reviewer reads it now.
    pub async fn get(&self, id: &str) -> pb::Claim {
        claim(
            self.reviewer_claims()
                .get_claim(pb::GetClaimRequest {
                    claim_id: id.to_string(),
                })
                .await
                .expect("get claim")
                .into_inner()
                .claim,
        )
    }

    /// The article as the CMS reads it now.
    pub async fn article(&self, id: &str) -> pb::Article {
        self.publisher()
            .get_article(pb::GetArticleRequest {
                article_id: id.to_string(),
            })
            .await
            .expect("get article")
            .into_inner()
            .article
            .expect("article")
    }

    /// Whether the seed article is on the site now.
    pub async fn seed_available(&self) -> bool {
        self.article(ARTICLE_ID).await.available
    }

    /// Every audit entry matching `filter` (claim_id / article_id / after_seq), all
    /// pages, as the auditor reads them.
    pub async fn audit_entries(&self, filter: pb::ListAuditEntriesRequest) -> Vec<pb::AuditEntry> {
        let mut all = Vec::new();
        let mut req = filter;
        req.page_size = 3;
        loop {
            let page = self
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

    pub async fn claim_audit(&self, claim_id: &str) -> Vec<pb::AuditEntry> {
        self.audit_entries(pb::ListAuditEntriesRequest {
            claim_id: claim_id.to_string(),
            ..Default::default()
        })
        .await
    }

    pub async fn verify(&self) -> pb::VerifyAuditLogResponse {
        let v = self
            .audit()
            .verify_audit_log(pb::VerifyAuditLogRequest::default())
            .await
            .expect("verify audit log")
            .into_inner();
        assert!(v.ok, "audit chain verifies: {v:?}");
        v
    }
}

/// A DecideClaim request with the fixture statement of reasons and the claim's etag.
pub fn decide_request(c: &pb::Claim, outcome: DecisionOutcome) -> pb::DecideClaimRequest {
    pb::DecideClaimRequest {
        claim_id: c.id.clone(),
        etag: c.etag.clone(),
        outcome: outcome as i32,
        statement_of_reasons: Some(fixtures::reasons()),
        items_to_change: vec![],
        ..Default::default()
    }
}

/// A ReportLegalAction request for a US lawsuit.
pub fn legal_action_request(c: &pb::Claim) -> pb::ReportLegalActionRequest {
    pb::ReportLegalActionRequest {
        claim_id: c.id.clone(),
        etag: String::new(),
        authority: "US District Court, N.D. Cal.".to_string(),
        case_reference: "3:24-cv-00123".to_string(),
        filed_date: "2024-01-20".to_string(),
    }
}

#[track_caller]
pub fn assert_state(c: &pb::Claim, state: ClaimState) {
    assert_eq!(c.state(), state, "claim {} state", c.id);
}

/// The fields named by the status's `google.rpc.BadRequest`.
#[track_caller]
pub fn violated_fields(status: &Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .unwrap_or_else(|| panic!("status carries google.rpc.BadRequest: {status:?}"))
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect()
}

/// The reason and current_state of the status's `google.rpc.ErrorInfo`.
#[track_caller]
pub fn error_info(status: &Status) -> (String, String) {
    let info = status
        .get_details_error_info()
        .unwrap_or_else(|| panic!("status carries google.rpc.ErrorInfo: {status:?}"));
    let current = info
        .metadata
        .get("current_state")
        .cloned()
        .unwrap_or_default();
    (info.reason, current)
}
