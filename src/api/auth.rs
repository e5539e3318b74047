//! Authentication and role checks for every RPC, as one tower layer: the bearer token
//! names a principal, and one table says which roles may call which method. Row-level
//! rules (a claimant's own claims) live in the services. Paths outside `takedown.v1`
//! (reflection, health) are public.

use std::pin::Pin;
use std::task::{Context, Poll};

use rand::RngCore;
use sha2::{Digest, Sha256};
use tonic::Status;
use tower::{Layer, Service};

use super::caller::Caller;
use crate::pb::{Party, Role};
use crate::store::Store;

use Role::{Admin, Auditor, Claimant, Publisher, Reviewer};

/// Every `takedown.v1` RPC and the roles allowed to call it. An RPC missing here is
/// refused for everybody.
pub const ACCESS: &[(&str, &[Role])] = &[
    ("/takedown.v1.AdminService/CreatePrincipal", &[Admin]),
    ("/takedown.v1.AdminService/ListPrincipals", &[Admin]),
    ("/takedown.v1.AdminService/RevokePrincipal", &[Admin]),
    ("/takedown.v1.AdminService/SuspendPrincipal", &[Admin]),
    ("/takedown.v1.AdminService/UnsuspendPrincipal", &[Admin]),
    ("/takedown.v1.AdminService/GetPartyRecord", &[Admin]),
    ("/takedown.v1.AdminService/WarnParty", &[Admin]),
    ("/takedown.v1.AdminService/SuspendParty", &[Admin]),
    (
        "/takedown.v1.AdminService/ListNotifications",
        &[Auditor, Admin],
    ),
    ("/takedown.v1.AdminService/RetryNotification", &[Admin]),
    ("/takedown.v1.AdminService/ErasePersonalData", &[Admin]),
    ("/takedown.v1.AdminService/ExportPersonalData", &[Admin]),
    (
        "/takedown.v1.ReviewService/ListReasonTemplates",
        &[Reviewer, Auditor, Admin],
    ),
    ("/takedown.v1.ClaimService/FileClaim", &[Claimant, Admin]),
    (
        "/takedown.v1.ClaimService/GetClaim",
        &[Claimant, Reviewer, Publisher, Auditor, Admin],
    ),
    (
        "/takedown.v1.ClaimService/ListClaims",
        &[Claimant, Reviewer, Publisher, Auditor, Admin],
    ),
    (
        "/takedown.v1.ClaimService/ListClaimEvents",
        &[Claimant, Reviewer, Publisher, Auditor, Admin],
    ),
    ("/takedown.v1.ClaimService/AmendClaim", &[Claimant, Admin]),
    (
        "/takedown.v1.ClaimService/WithdrawClaim",
        &[Claimant, Admin],
    ),
    (
        "/takedown.v1.ClaimService/ReportLegalAction",
        &[Claimant, Admin],
    ),
    (
        "/takedown.v1.ClaimService/FileComplaint",
        &[Claimant, Publisher, Admin],
    ),
    ("/takedown.v1.ReviewService/StartReview", &[Reviewer, Admin]),
    (
        "/takedown.v1.ReviewService/RequestInformation",
        &[Reviewer, Admin],
    ),
    ("/takedown.v1.ReviewService/DecideClaim", &[Reviewer, Admin]),
    (
        "/takedown.v1.ReviewService/ResolveLegalAction",
        &[Reviewer, Admin],
    ),
    (
        "/takedown.v1.PublisherService/UpsertArticle",
        &[Publisher, Admin],
    ),
    (
        "/takedown.v1.PublisherService/GetArticle",
        &[Publisher, Reviewer, Auditor, Admin],
    ),
    (
        "/takedown.v1.PublisherService/BatchGetArticles",
        &[Publisher, Reviewer, Auditor, Admin],
    ),
    (
        "/takedown.v1.PublisherService/RecordCorrection",
        &[Publisher, Reviewer, Admin],
    ),
    (
        "/takedown.v1.PublisherService/FileCounterNotice",
        &[Publisher, Admin],
    ),
    (
        "/takedown.v1.PublisherService/IssuePartyToken",
        &[Publisher, Admin],
    ),
    (
        "/takedown.v1.PublisherService/WatchEvents",
        &[Publisher, Auditor, Admin],
    ),
    (
        "/takedown.v1.AuditService/ListAuditEntries",
        &[Auditor, Reviewer, Admin],
    ),
    (
        "/takedown.v1.AuditService/VerifyAuditLog",
        &[Auditor, Reviewer, Admin],
    ),
    (
        "/takedown.v1.AuditService/GetTransparencyReport",
        &[Auditor, Reviewer, Admin],
    ),
    (
        "/takedown.v1.AuditService/ExportStatementsOfReasons",
        &[Auditor, Admin],
    ),
    ("/takedown.v1.AuditService/ExportNotices", &[Auditor, Admin]),
    // The log's checkpoints and proofs are hashes only: every role may check them.
    (
        "/takedown.v1.AuditService/GetCheckpoint",
        &[Claimant, Reviewer, Publisher, Auditor, Admin],
    ),
    (
        "/takedown.v1.AuditService/GetInclusionProof",
        &[Claimant, Reviewer, Publisher, Auditor, Admin],
    ),
    (
        "/takedown.v1.AuditService/GetConsistencyProof",
        &[Claimant, Reviewer, Publisher, Auditor, Admin],
    ),
    (
        "/takedown.v1.ClaimService/GetReceipt",
        &[Claimant, Reviewer, Publisher, Auditor, Admin],
    ),
];

/// What a claim token lets its holder call, per party, on its one claim (the
/// handlers scope every call to that claim). Anything else is PERMISSION_DENIED.
pub const PARTY_ACCESS: &[(Party, &[&str])] = &[
    (
        Party::Notifier,
        &[
            "/takedown.v1.ClaimService/GetClaim",
            "/takedown.v1.ClaimService/ListClaimEvents",
            "/takedown.v1.ClaimService/AmendClaim",
            "/takedown.v1.ClaimService/WithdrawClaim",
            "/takedown.v1.ClaimService/ReportLegalAction",
            "/takedown.v1.ClaimService/FileComplaint",
            "/takedown.v1.ClaimService/GetReceipt",
            "/takedown.v1.AuditService/GetCheckpoint",
            "/takedown.v1.AuditService/GetConsistencyProof",
        ],
    ),
    (
        Party::Contributor,
        &[
            "/takedown.v1.ClaimService/GetClaim",
            "/takedown.v1.ClaimService/ListClaimEvents",
            "/takedown.v1.PublisherService/FileCounterNotice",
            "/takedown.v1.ClaimService/FileComplaint",
            "/takedown.v1.ClaimService/GetReceipt",
            "/takedown.v1.AuditService/GetCheckpoint",
            "/takedown.v1.AuditService/GetConsistencyProof",
        ],
    ),
];

/// What anyone may call without credentials while public intake is on (DSA Art.
/// 16(1): a notice mechanism open to any individual or entity).
pub const PUBLIC_ACCESS: &[&str] = &["/takedown.v1.ClaimService/FileClaim"];

const OUR_PREFIX: &str = "/takedown.v1.";

/// A new bearer token: 256 random bits, hex-encoded, with a recognisable prefix.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("tdk_{}", hex::encode(bytes))
}

/// What is stored instead of the token.
pub fn token_sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Decides who may call `path`, given every `authorization` header of the request:
/// `Ok(None)` for public paths, the caller for an allowed call, or the status to
/// answer.
pub fn authorize(
    store: &Store,
    path: &str,
    authorization: &[&[u8]],
    public: Option<PublicIntake>,
) -> Result<Option<Caller>, Status> {
    if !path.starts_with(OUR_PREFIX) {
        return Ok(None);
    }
    let header = match authorization {
        [] => {
            if let Some(intake) = public
                && PUBLIC_ACCESS.contains(&path)
            {
                return Ok(Some(Caller {
                    principal_id: String::new(),
                    roles: Vec::new(),
                    claim_scope: None,
                    public_client: Some(intake.client),
                }));
            }
            return Err(Status::unauthenticated(
                "missing credentials: send the metadata `authorization: Bearer <token>`",
            ));
        }
        [one] => *one,
        // Proxies and libraries disagree on which of several to use: take none.
        _ => {
            return Err(Status::unauthenticated(
                "more than one authorization header: send exactly one \
                 `authorization: Bearer <token>`",
            ));
        }
    };
    let token = std::str::from_utf8(header)
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Status::unauthenticated(
                "malformed authorization metadata: send `authorization: Bearer <token>`",
            )
        })?;
    let sha256 = token_sha256(token);
    let Some(stored) = store
        .principal_by_token(&sha256)
        .map_err(Status::from)?
        .and_then(|p| p.principal)
        .filter(|p| !p.revoked)
    else {
        return claim_token_caller(store, path, &sha256);
    };
    let caller = Caller::principal(stored.id.clone(), stored.roles().collect());
    let allowed = ACCESS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, roles)| *roles)
        .unwrap_or(&[]);
    if !allowed.iter().any(|r| caller.has(*r)) {
        let method = path.trim_start_matches('/');
        let names: Vec<&str> = allowed.iter().map(|r| r.as_str_name()).collect();
        return Err(Status::permission_denied(if names.is_empty() {
            format!("{method} is not open to any role")
        } else {
            format!(
                "{method} needs one of the roles {}; ask an admin to grant one",
                names.join(", ")
            )
        }));
    }
    Ok(Some(caller))
}

/// The caller holding claim token `sha256`: the party of one claim, allowed only the
/// calls [`PARTY_ACCESS`] lists for it.
fn claim_token_caller(store: &Store, path: &str, sha256: &[u8]) -> Result<Option<Caller>, Status> {
    let unknown =
        || Status::unauthenticated("unknown or revoked token: ask an admin for a valid token");
    let token = store
        .claim_token_by_hash(sha256)
        .map_err(Status::from)?
        .ok_or_else(unknown)?;
    let claim_id = uuid::Uuid::parse_str(&token.claim_id).map_err(|_| unknown())?;
    let claim = store
        .claim(&claim_id)
        .map_err(Status::from)?
        .ok_or_else(unknown)?;
    let party = token.party();
    let allowed = PARTY_ACCESS
        .iter()
        .find(|(p, _)| *p == party)
        .is_some_and(|(_, paths)| paths.contains(&path));
    if !allowed {
        let method = path.trim_start_matches('/');
        return Err(Status::permission_denied(format!(
            "{method} is not open to a claim token of the {}; a claim token opens its own claim for the calls its party may make",
            party.as_str_name()
        )));
    }
    let actor = match (party, &claim.contributor) {
        (Party::Notifier, _) => claim.filed_by,
        (Party::Contributor, Some(c)) => crate::domain::actor::contributor_id(&c.account_id),
        _ => return Err(unknown()),
    };
    Ok(Some(Caller {
        principal_id: actor,
        roles: Vec::new(),
        claim_scope: Some((claim_id, party)),
        public_client: None,
    }))
}

/// Public intake as the auth layer sees one request: on, from this client.
#[derive(Debug, Clone, Copy)]
pub struct PublicIntake {
    pub client: std::net::IpAddr,
}

/// The tower layer that runs [`authorize`] before every request.
#[derive(Clone)]
pub struct AuthLayer {
    store: Store,
    public_intake: bool,
}

impl AuthLayer {
    /// `public_intake`: whether FileClaim without credentials is accepted.
    pub fn new(store: Store, public_intake: bool) -> Self {
        Self {
            store,
            public_intake,
        }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Auth<S> {
        Auth {
            inner,
            store: self.store.clone(),
            public_intake: self.public_intake,
        }
    }
}

#[derive(Clone)]
pub struct Auth<S> {
    inner: S,
    store: Store,
    public_intake: bool,
}

type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<S, B> Service<http::Request<B>> for Auth<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let headers: Vec<&[u8]> = request
            .headers()
            .get_all(http::header::AUTHORIZATION)
            .iter()
            .map(|v| v.as_bytes())
            .collect();
        let public = self.public_intake.then(|| PublicIntake {
            client: request
                .extensions()
                .get::<tonic::transport::server::TcpConnectInfo>()
                .and_then(|i| i.remote_addr())
                .map(|a| a.ip())
                .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
        });
        match authorize(&self.store, request.uri().path(), &headers, public) {
            Ok(caller) => {
                if let Some(caller) = caller {
                    request.extensions_mut().insert(caller);
                }
                Box::pin(self.inner.call(request))
            }
            Err(status) => Box::pin(async move { Ok(status.into_http()) }),
        }
    }
}
