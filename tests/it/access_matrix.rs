//! The access-control matrix: every `takedown.v1` RPC called by every kind of caller
//! — no token, a malformed header, an unknown token, a revoked token, each role, and
//! another claimant — with a request that would succeed, and the code each must get.
//!
//! The RPC list comes from the compiled descriptor set, so an RPC added to a .proto
//! without a row in [`MATRIX`] (and a request in [`Fixtures::request`]) fails here.
//! The table is written out by hand on purpose: it restates `api::auth::ACCESS` plus
//! the row-level rules, so a change to either shows up as a failing cell.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::common::flow::{Flow, decide_request, legal_action_request};
use crate::common::{TestServer, fixtures, start_time};
use prost::Message;
use prost::bytes::{Buf, BufMut};
use takedown::pb::{self, ClaimState, DecisionOutcome, Role};
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;

/// What a cell expects.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    /// Success.
    Yes,
    /// PERMISSION_DENIED: the role may not call the RPC.
    No,
    /// NOT_FOUND: allowed, but the claim is someone else's (existence is not leaked).
    Nf,
}
use Want::{Nf, No, Yes};

/// The callers with a valid token, in the column order of [`MATRIX`].
#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Claimant,
    Reviewer,
    Publisher,
    Auditor,
    Admin,
    /// A second claimant, acting on the first claimant's claim.
    OtherClaimant,
}
const COLUMNS: [Who; 6] = [
    Who::Claimant,
    Who::Reviewer,
    Who::Publisher,
    Who::Auditor,
    Who::Admin,
    Who::OtherClaimant,
];

/// Every RPC and what each caller with a valid token gets. Without a valid token
/// (none, malformed, unknown, revoked) every RPC is UNAUTHENTICATED, except FileClaim
/// with no token at all: public intake, on by default (`public_intake.rs` checks the
/// claim tokens it hands out, RPC by RPC).
#[rustfmt::skip]
const MATRIX: &[(&str, [Want; 6])] = &[
    //                                     claimant  reviewer  publisher auditor admin other-claimant
    ("AdminService/CreatePrincipal",       [No, No, No, No, Yes, No]),
    ("AdminService/ListPrincipals",        [No, No, No, No, Yes, No]),
    ("AdminService/RevokePrincipal",       [No, No, No, No, Yes, No]),
    ("AdminService/SuspendPrincipal",      [No, No, No, No, Yes, No]),
    ("AdminService/UnsuspendPrincipal",    [No, No, No, No, Yes, No]),
    ("AdminService/GetPartyRecord",        [No, No, No, No, Yes, No]),
    ("AdminService/WarnParty",             [No, No, No, No, Yes, No]),
    ("AdminService/SuspendParty",          [No, No, No, No, Yes, No]),
    ("AdminService/ListNotifications",     [No, No, No, Yes, Yes, No]),
    ("AdminService/RetryNotification",     [No, No, No, No, Yes, No]),
    ("AdminService/ErasePersonalData",     [No, No, No, No, Yes, No]),
    ("AdminService/ExportPersonalData",    [No, No, No, No, Yes, No]),
    ("ReviewService/ListReasonTemplates",  [No, Yes, No, Yes, Yes, No]),
    ("ClaimService/FileClaim",             [Yes, No, No, No, Yes, Yes]),
    ("ClaimService/GetClaim",              [Yes, Yes, Yes, Yes, Yes, Nf]),
    ("ClaimService/ListClaims",            [Yes, Yes, Yes, Yes, Yes, Yes]),
    ("ClaimService/ListClaimEvents",       [Yes, Yes, Yes, Yes, Yes, Nf]),
    ("ClaimService/AmendClaim",            [Yes, No, No, No, Yes, Nf]),
    ("ClaimService/WithdrawClaim",         [Yes, No, No, No, Yes, Nf]),
    ("ClaimService/ReportLegalAction",     [Yes, No, No, No, Yes, Nf]),
    ("ClaimService/FileComplaint",         [Yes, No, Yes, No, Yes, Nf]),
    ("ClaimService/GetReceipt",            [Yes, Yes, Yes, Yes, Yes, Nf]),
    ("ReviewService/StartReview",          [No, Yes, No, No, Yes, No]),
    ("ReviewService/RequestInformation",   [No, Yes, No, No, Yes, No]),
    ("ReviewService/DecideClaim",          [No, Yes, No, No, Yes, No]),
    ("ReviewService/ResolveLegalAction",   [No, Yes, No, No, Yes, No]),
    ("PublisherService/UpsertArticle",     [No, No, Yes, No, Yes, No]),
    ("PublisherService/GetArticle",        [No, Yes, Yes, Yes, Yes, No]),
    ("PublisherService/BatchGetArticles",  [No, Yes, Yes, Yes, Yes, No]),
    ("PublisherService/RecordCorrection",  [No, Yes, Yes, No, Yes, No]),
    ("PublisherService/FileCounterNotice", [No, No, Yes, No, Yes, No]),
    // Asked for the notifier's token: admins only (the publisher may issue the
    // contributor's, public_intake.rs checks that).
    ("PublisherService/IssuePartyToken",   [No, No, No, No, Yes, No]),
    ("PublisherService/WatchEvents",       [No, No, Yes, Yes, Yes, No]),
    ("AuditService/ListAuditEntries",      [No, Yes, No, Yes, Yes, No]),
    ("AuditService/VerifyAuditLog",        [No, Yes, No, Yes, Yes, No]),
    ("AuditService/GetTransparencyReport", [No, Yes, No, Yes, Yes, No]),
    ("AuditService/ExportStatementsOfReasons", [No, No, No, Yes, Yes, No]),
    ("AuditService/ExportNotices",         [No, No, No, Yes, Yes, No]),
    ("AuditService/GetCheckpoint",         [Yes, Yes, Yes, Yes, Yes, Yes]),
    ("AuditService/GetInclusionProof",     [Yes, Yes, Yes, Yes, Yes, Yes]),
    ("AuditService/GetConsistencyProof",   [Yes, Yes, Yes, Yes, Yes, Yes]),
];

/// How an RPC is called.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Shape {
    Unary,
    ServerStreaming,
    /// Client or bidirectional streaming: the harness cannot call these yet.
    Other,
}

/// Every `Service/Method` of `takedown.v1` in the compiled descriptor set.
pub(crate) fn rpcs_in_descriptor_set() -> Vec<(String, Shape)> {
    let set = prost_types::FileDescriptorSet::decode(pb::FILE_DESCRIPTOR_SET)
        .expect("descriptor set decodes");
    let mut rpcs = Vec::new();
    for file in set.file.iter().filter(|f| f.package() == "takedown.v1") {
        for service in &file.service {
            for m in &service.method {
                let shape = match (m.client_streaming(), m.server_streaming()) {
                    (false, false) => Shape::Unary,
                    (false, true) => Shape::ServerStreaming,
                    _ => Shape::Other,
                };
                rpcs.push((format!("{}/{}", service.name(), m.name()), shape));
            }
        }
    }
    rpcs
}

/// Passes already-encoded messages through, so one function can call any RPC.
#[derive(Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

/// Calls `rpc` with the encoded `request` and `authorization` header; the code it got.
/// A server-streaming call counts as answered once its response headers arrive.
pub(crate) async fn call(
    channel: &Channel,
    rpc: &str,
    shape: Shape,
    authorization: Option<&str>,
    request: Vec<u8>,
) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.expect("channel ready");
    let path: http::uri::PathAndQuery = format!("/takedown.v1.{rpc}").parse().expect("path");
    let mut req = tonic::Request::new(request);
    req.set_timeout(Duration::from_secs(10));
    if let Some(value) = authorization {
        req.metadata_mut()
            .insert("authorization", value.parse().expect("ascii header"));
    }
    let result = match shape {
        Shape::Unary => grpc.unary(req, path, Raw).await.map(|_| ()),
        Shape::ServerStreaming => grpc.server_streaming(req, path, Raw).await.map(|_| ()),
        Shape::Other => panic!(
            "{rpc} is client- or bidirectional-streaming: teach tests/it/access_matrix.rs to call it"
        ),
    };
    match result {
        Ok(()) => tonic::Status::ok(""),
        Err(status) => status,
    }
}

/// A notifier e-mail as a party key.
fn email(address: &str) -> pb::PartyKey {
    pb::PartyKey {
        key: Some(pb::party_key::Key::NotifierEmail(address.to_string())),
    }
}

/// The server, the desk's tokens, and the requests that would succeed.
struct Fixtures {
    s: TestServer,
    flow: Flow,
    channel: Channel,
    n: std::sync::atomic::AtomicUsize,
}

impl Fixtures {
    fn token(&self, who: Who) -> &str {
        let d = &self.flow.desk;
        match who {
            Who::Claimant => &d.claimant,
            Who::Reviewer => &d.reviewer,
            Who::Publisher => &d.publisher,
            Who::Auditor => &d.auditor,
            Who::Admin => &self.s.admin_token,
            Who::OtherClaimant => &d.other_claimant,
        }
    }

    fn unique(&self) -> usize {
        self.n.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// A claim of the desk's claimant, driven into `state`.
    async fn claim(&self, state: ClaimState) -> pb::Claim {
        self.flow.claim_in(fixtures::ARTICLE_ID, state).await
    }

    async fn principal(&self) -> String {
        let n = self.unique();
        self.s
            .principal(&format!("Matrix subject {n}"), &[Role::Claimant])
            .await
            .0
    }

    /// A fresh principal with a warning on its party record, so that it may be
    /// suspended (DSA Art. 23(1)).
    async fn warned_principal(&self) -> String {
        let id = self.principal().await;
        crate::common::warn_principal(&self.s, &id).await;
        id
    }

    /// The id of a fresh UNDELIVERABLE notification (this server has no SMTP server,
    /// so a new claim's receipt is one), which RetryNotification accepts.
    async fn undeliverable_notification(&self) -> String {
        let c = self.claim(ClaimState::Received).await;
        let page = self
            .s
            .admin(&self.s.admin_token)
            .await
            .list_notifications(pb::ListNotificationsRequest {
                claim_id: c.id.clone(),
                status: pb::NotificationStatus::Undeliverable as i32,
                ..Default::default()
            })
            .await
            .expect("list notifications")
            .into_inner();
        page.notifications
            .first()
            .map(|n| n.id.clone())
            .expect("an undeliverable notification")
    }

    /// A notifier e-mail with a warning on its party record.
    async fn warned_email(&self) -> pb::PartyKey {
        let key = email(&format!("matrix-{}@example.org", self.unique()));
        self.s
            .admin(&self.s.admin_token)
            .await
            .warn_party(pb::WarnPartyRequest {
                party: Some(key.clone()),
                reason: "3 manifestly unfounded notices".into(),
            })
            .await
            .expect("warn");
        key
    }

    /// A request for `rpc` that succeeds for a caller allowed to make it, with fresh
    /// records where the call changes them.
    async fn request(&self, rpc: &str) -> Vec<u8> {
        use ClaimState::*;
        let ts = |t: std::time::SystemTime| Some(prost_types::Timestamp::from(t));
        match rpc {
            "AdminService/CreatePrincipal" => pb::CreatePrincipalRequest {
                display_name: format!("Matrix principal {}", self.unique()),
                roles: vec![Role::Claimant as i32],
                ..Default::default()
            }
            .encode_to_vec(),
            "AdminService/ListPrincipals" => pb::ListPrincipalsRequest::default().encode_to_vec(),
            "AdminService/RevokePrincipal" => pb::RevokePrincipalRequest {
                principal_id: self.principal().await,
            }
            .encode_to_vec(),
            "AdminService/SuspendPrincipal" => pb::SuspendPrincipalRequest {
                principal_id: self.warned_principal().await,
                reason: "Manifestly unfounded notices after a warning".into(),
                until: ts(start_time() + Duration::from_secs(30 * 86_400)),
            }
            .encode_to_vec(),
            "AdminService/UnsuspendPrincipal" => pb::UnsuspendPrincipalRequest {
                principal_id: self.principal().await,
                reason: String::new(),
            }
            .encode_to_vec(),
            "AdminService/GetPartyRecord" => pb::GetPartyRecordRequest {
                party: Some(email("matrix@example.org")),
            }
            .encode_to_vec(),
            "AdminService/WarnParty" => pb::WarnPartyRequest {
                party: Some(email(&format!("matrix-{}@example.org", self.unique()))),
                reason: "3 manifestly unfounded notices".into(),
            }
            .encode_to_vec(),
            "ReviewService/ListReasonTemplates" => pb::ListReasonTemplatesRequest {
                regime: pb::Regime::Dmca as i32,
            }
            .encode_to_vec(),
            "AdminService/ListNotifications" => pb::ListNotificationsRequest {
                page_size: 5,
                ..Default::default()
            }
            .encode_to_vec(),
            "AdminService/ErasePersonalData" => pb::ErasePersonalDataRequest {
                party: Some(email(&format!(
                    "matrix-erase-{}@example.org",
                    self.unique()
                ))),
                reason: "erasure request".into(),
            }
            .encode_to_vec(),
            "AdminService/ExportPersonalData" => pb::ExportPersonalDataRequest {
                party: Some(email("matrix@example.org")),
            }
            .encode_to_vec(),
            "AdminService/RetryNotification" => pb::RetryNotificationRequest {
                notification_id: self.undeliverable_notification().await,
            }
            .encode_to_vec(),
            "AdminService/SuspendParty" => pb::SuspendPartyRequest {
                party: Some(self.warned_email().await),
                reason: "5 manifestly unfounded notices after a warning".into(),
                until: ts(start_time() + Duration::from_secs(30 * 86_400)),
            }
            .encode_to_vec(),
            "ClaimService/FileClaim" => pb::FileClaimRequest {
                request_id: String::new(),
                claim: Some(fixtures::dmca_notice()),
            }
            .encode_to_vec(),
            "ClaimService/GetClaim" => pb::GetClaimRequest {
                claim_id: self.claim(Received).await.id,
            }
            .encode_to_vec(),
            "ClaimService/ListClaims" => pb::ListClaimsRequest::default().encode_to_vec(),
            "ClaimService/GetReceipt" => pb::GetReceiptRequest {
                claim_id: self.claim(Received).await.id,
                seq: 0,
            }
            .encode_to_vec(),
            "ClaimService/ListClaimEvents" => pb::ListClaimEventsRequest {
                claim_id: self.claim(Received).await.id,
                ..Default::default()
            }
            .encode_to_vec(),
            "ClaimService/AmendClaim" => pb::AmendClaimRequest {
                claim_id: self.claim(NeedsInfo).await.id,
                claim: Some(fixtures::dmca_notice()),
                reply: "Paragraph 1.".into(),
                ..Default::default()
            }
            .encode_to_vec(),
            "ClaimService/WithdrawClaim" => pb::WithdrawClaimRequest {
                claim_id: self.claim(Received).await.id,
                reason: "Settled".into(),
                ..Default::default()
            }
            .encode_to_vec(),
            "ClaimService/ReportLegalAction" => {
                legal_action_request(&self.claim(CounterNoticed).await).encode_to_vec()
            }
            "ClaimService/FileComplaint" => pb::FileComplaintRequest {
                claim_id: self.claim(Rejected).await.id,
                etag: String::new(),
                text: "The decision overlooked the licence on file.".into(),
            }
            .encode_to_vec(),
            "ReviewService/StartReview" => pb::StartReviewRequest {
                claim_id: self.claim(Received).await.id,
                etag: String::new(),
            }
            .encode_to_vec(),
            "ReviewService/RequestInformation" => pb::RequestInformationRequest {
                claim_id: self.claim(Received).await.id,
                etag: String::new(),
                message: "Which paragraph?".into(),
            }
            .encode_to_vec(),
            "ReviewService/DecideClaim" => {
                decide_request(&self.claim(UnderReview).await, DecisionOutcome::Reject)
                    .encode_to_vec()
            }
            "ReviewService/ResolveLegalAction" => pb::ResolveLegalActionRequest {
                claim_id: self.claim(LegalActionPending).await.id,
                etag: String::new(),
                outcome: pb::LegalActionOutcome::Dismissed as i32,
                note: "Dismissed.".into(),
            }
            .encode_to_vec(),
            "PublisherService/UpsertArticle" => {
                let n = self.unique();
                pb::UpsertArticleRequest {
                    article: Some(fixtures::article(
                        &format!("matrix-{n}"),
                        &format!("https://news.example.org/matrix/{n}"),
                    )),
                }
                .encode_to_vec()
            }
            "PublisherService/GetArticle" => pb::GetArticleRequest {
                article_id: fixtures::ARTICLE_ID.into(),
            }
            .encode_to_vec(),
            "PublisherService/BatchGetArticles" => pb::BatchGetArticlesRequest {
                article_ids: vec![fixtures::ARTICLE_ID.into()],
            }
            .encode_to_vec(),
            "PublisherService/RecordCorrection" => pb::RecordCorrectionRequest {
                claim_id: self.claim(CorrectionPending).await.id,
                summary: "Paragraph 1 rewritten.".into(),
                ..Default::default()
            }
            .encode_to_vec(),
            "PublisherService/FileCounterNotice" => pb::FileCounterNoticeRequest {
                claim_id: self.claim(Deleted).await.id,
                etag: String::new(),
                counter_notice: Some(fixtures::counter_notice()),
            }
            .encode_to_vec(),
            "PublisherService/IssuePartyToken" => pb::IssuePartyTokenRequest {
                claim_id: self.claim(Received).await.id,
                party: pb::Party::Notifier as i32,
            }
            .encode_to_vec(),
            "PublisherService/WatchEvents" => pb::WatchEventsRequest::default().encode_to_vec(),
            "AuditService/ListAuditEntries" => {
                pb::ListAuditEntriesRequest::default().encode_to_vec()
            }
            "AuditService/VerifyAuditLog" => pb::VerifyAuditLogRequest::default().encode_to_vec(),
            "AuditService/GetTransparencyReport" => {
                pb::GetTransparencyReportRequest::default().encode_to_vec()
            }
            "AuditService/ExportStatementsOfReasons" => {
                pb::ExportStatementsOfReasonsRequest::default().encode_to_vec()
            }
            "AuditService/ExportNotices" => pb::ExportNoticesRequest {
                format: pb::ExportFormat::Lumen as i32,
                ..Default::default()
            }
            .encode_to_vec(),
            "AuditService/GetCheckpoint" => pb::GetCheckpointRequest {}.encode_to_vec(),
            "AuditService/GetInclusionProof" => pb::GetInclusionProofRequest {
                seq: 1,
                tree_size: 0,
            }
            .encode_to_vec(),
            "AuditService/GetConsistencyProof" => pb::GetConsistencyProofRequest {
                first_size: 1,
                second_size: 0,
            }
            .encode_to_vec(),
            other => panic!(
                "no request for {other}: add its row to MATRIX and its request to \
                 Fixtures::request in tests/it/access_matrix.rs"
            ),
        }
    }
}

#[test]
fn every_rpc_has_a_row_and_every_row_an_rpc() {
    let rpcs: BTreeSet<String> = rpcs_in_descriptor_set()
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    let rows: Vec<&str> = MATRIX.iter().map(|(r, _)| *r).collect();
    let unique: BTreeSet<String> = rows.iter().map(|r| r.to_string()).collect();
    assert_eq!(unique.len(), rows.len(), "an RPC has two rows in MATRIX");
    let missing: Vec<&String> = rpcs.difference(&unique).collect();
    assert!(
        missing.is_empty(),
        "RPCs without a row in MATRIX (tests/it/access_matrix.rs): {missing:?}"
    );
    let stale: Vec<&String> = unique.difference(&rpcs).collect();
    assert!(stale.is_empty(), "MATRIX rows naming no RPC: {stale:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_rpc_answers_every_caller_as_the_matrix_says() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let (revoked_id, revoked) = s.principal("Former operator", &[Role::Admin]).await;
    s.admin(&s.admin_token)
        .await
        .revoke_principal(pb::RevokePrincipalRequest {
            principal_id: revoked_id,
        })
        .await
        .expect("revoke");
    let channel = s.channel().await;
    let fx = Fixtures {
        s,
        flow,
        channel,
        n: Default::default(),
    };
    let unknown = format!("Bearer tdk_{}", "0".repeat(64));
    let revoked = format!("Bearer {revoked}");
    // A valid token under another scheme.
    let malformed = format!("Token {}", fx.flow.desk.claimant);
    let no_token: [(&str, Option<&str>); 4] = [
        ("no token", None),
        ("malformed header", Some(&malformed)),
        ("unknown token", Some(&unknown)),
        ("revoked token", Some(&revoked)),
    ];

    let mut failures = Vec::new();
    let mut cells = 0;
    for (rpc, shape) in rpcs_in_descriptor_set() {
        let Some((_, wants)) = MATRIX.iter().find(|(r, _)| *r == rpc) else {
            failures.push(format!("{rpc}: no row in MATRIX"));
            continue;
        };
        // One request serves every cell that must not reach the service.
        let shared = fx.request(&rpc).await;
        for (label, header) in no_token {
            let got = call(&fx.channel, &rpc, shape, header, shared.clone()).await;
            cells += 1;
            let public = rpc == "ClaimService/FileClaim" && header.is_none();
            if public && got.code() != Code::Ok {
                failures.push(format!(
                    "{rpc} with {label}: want Ok (public intake), got {:?} {:?}",
                    got.code(),
                    got.message()
                ));
            }
            if !public && got.code() != Code::Unauthenticated {
                failures.push(format!(
                    "{rpc} with {label}: want Unauthenticated, got {:?} {:?}",
                    got.code(),
                    got.message()
                ));
            }
        }
        for (who, want) in COLUMNS.iter().zip(wants) {
            let request = match want {
                No => shared.clone(),
                Yes | Nf => fx.request(&rpc).await,
            };
            let header = format!("Bearer {}", fx.token(*who));
            let got = call(&fx.channel, &rpc, shape, Some(&header), request).await;
            cells += 1;
            let want_code = match want {
                Yes => Code::Ok,
                No => Code::PermissionDenied,
                Nf => Code::NotFound,
            };
            if got.code() != want_code {
                failures.push(format!(
                    "{rpc} as {who:?}: want {want_code:?}, got {:?} {:?}",
                    got.code(),
                    got.message()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cells} cells disagree with MATRIX:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(cells >= 10 * 20, "the matrix covered {cells} cells");
    fx.s.stop().await;
}
