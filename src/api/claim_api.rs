//! `ClaimService`: translates between the wire and the writer/store for claimants,
//! and scopes every read to what the caller may see.

use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::caller::Caller;
use super::{Context, auth, paging, status};
use crate::domain::commands::{AmendClaim, FileComplaint, ReportLegalAction, WithdrawClaim};
use crate::domain::{Command, FieldViolation, Notice, validation};
use crate::pb::{self, claim_service_server::ClaimService};
use crate::store::{AuditQuery, AuditSubject, ClaimOrder, ClaimQuery};
use crate::writer::commands::{ClaimChanged, ClaimTransition, FileClaim};

pub struct ClaimApi {
    pub(super) cx: Context,
}

/// Parses a claim id; a malformed one is INVALID_ARGUMENT.
pub(super) fn claim_id(field: &str, id: &str) -> Result<Uuid, Status> {
    let parsed = Uuid::parse_str(id);
    if parsed.is_ok() {
        super::telemetry::record_claim_id(id);
    }
    parsed.map_err(|_| {
        status::invalid_field(
            field,
            format!("{id:?} is not a claim id; claim ids are UUIDs as returned by FileClaim"),
        )
    })
}

impl Context {
    /// Loads a claim the caller may see (as it may see it), or NOT_FOUND.
    pub(super) fn visible_claim(&self, caller: &Caller, id: &str) -> Result<pb::Claim, Status> {
        let uuid = claim_id("claim_id", id)?;
        self.store
            .claim(&uuid)?
            .and_then(|c| caller.view(c))
            .ok_or_else(|| status::not_found("claim", id))
    }

    /// Runs a claim transition for the caller after checking it may see the claim.
    pub(super) async fn transition(
        &self,
        caller: &Caller,
        claim_id: &str,
        etag: &str,
        command: Command,
    ) -> Result<(pb::Claim, Option<pb::Article>, Option<pb::Receipt>), Status> {
        let id = self::claim_id("claim_id", claim_id)?;
        self.visible_claim(caller, claim_id)?;
        let ClaimChanged { claim, article } = self
            .writer
            .submit(ClaimTransition {
                claim_id: id,
                etag: etag.to_string(),
                command,
                actor: caller.actor(),
            })
            .await?;
        let claim = caller
            .view(claim)
            .ok_or_else(|| status::not_found("claim", claim_id))?;
        let receipt = self.receipt_of_change(&claim);
        Ok((claim, article, receipt))
    }

    /// The receipt of the entry that last changed `claim` (its etag is that entry's
    /// seq). The change is durable already, so a receipt that cannot be made is
    /// logged and left out rather than failing the call; GetReceipt re-issues it.
    pub(super) fn receipt_of_change(&self, claim: &pb::Claim) -> Option<pb::Receipt> {
        let seq = claim.etag.parse::<u64>().ok()?;
        match self.notary.receipt_of_commit(seq) {
            Ok(receipt) => Some(receipt),
            Err(error) => {
                tracing::error!(seq, %error, "no receipt for a committed change");
                None
            }
        }
    }
}

#[tonic::async_trait]
impl ClaimService for ClaimApi {
    async fn file_claim(
        &self,
        request: Request<pb::FileClaimRequest>,
    ) -> Result<Response<pb::FileClaimResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let mut violations = Vec::new();
        if req.request_id.len() > 128 || req.request_id.chars().any(char::is_control) {
            violations.push(FieldViolation::new(
                "request_id",
                "must be at most 128 characters without control characters; a UUID is ideal",
            ));
        }
        // The one validation of the notice: the writer only takes a parsed `Notice`.
        let notice = match req.claim {
            Some(claim) => Notice::parse(claim).map_err(|e| match e {
                crate::domain::DomainError::Invalid(v) => v,
                _ => Vec::new(),
            }),
            None => Err(vec![FieldViolation::new("claim", "the notice is required")]),
        };
        if let Err(v) = &notice {
            violations.extend(v.iter().cloned());
        }
        status::check(violations)?;
        let notice = notice.map_err(status::invalid)?;
        // A notice without an account is filed by its notifier, named by its e-mail,
        // and answered with a claim token for that notifier.
        let (filed_by, token) = if caller.is_public() {
            let token = auth::new_token();
            let vault = self
                .cx
                .store
                .vault()
                .ok_or_else(|| Status::internal("no personal data key store"))?;
            let subject = vault.subject(crate::pdata::SubjectKind::Email, notice.notifier_email());
            (Notice::notifier_id(&subject), Some(token))
        } else {
            let id = Uuid::parse_str(&caller.principal_id)
                .map_err(|_| Status::internal("caller without a principal id"))?;
            (id, None)
        };
        let filed = self
            .cx
            .writer
            .submit(FileClaim {
                request_id: req.request_id,
                notice,
                filed_by,
                notifier_token_sha256: token.as_deref().map(auth::token_sha256),
            })
            .await?;
        let access_token = match token {
            Some(t) if filed.created => t,
            _ => String::new(),
        };
        let receipt = self.cx.receipt_of_change(&filed.claim);
        Ok(Response::new(pb::FileClaimResponse {
            claim: Some(filed.claim),
            access_token,
            receipt,
        }))
    }

    async fn get_claim(
        &self,
        request: Request<pb::GetClaimRequest>,
    ) -> Result<Response<pb::GetClaimResponse>, Status> {
        let caller = Caller::of(&request)?;
        let claim = self
            .cx
            .visible_claim(&caller, &request.get_ref().claim_id)?;
        Ok(Response::new(pb::GetClaimResponse { claim: Some(claim) }))
    }

    async fn list_claims(
        &self,
        request: Request<pb::ListClaimsRequest>,
    ) -> Result<Response<pb::ListClaimsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let state = pb::ClaimState::try_from(req.state).map_err(|_| {
            status::invalid_field("state", format!("{} is not a ClaimState", req.state))
        })?;
        if !req.article_id.is_empty() && !validation::is_article_id(&req.article_id) {
            return Err(status::invalid_field(
                "article_id",
                "must be 1-128 letters, digits or . _ : / -",
            ));
        }
        let assignee = if req.assignee.is_empty() {
            None
        } else {
            Some(Uuid::parse_str(&req.assignee).map_err(|_| {
                status::invalid_field("assignee", "must be a principal id (a UUID)")
            })?)
        };
        let by_deadline = match req.order_by.trim() {
            "" => false,
            "next_deadline" => true,
            other => {
                return Err(status::invalid_field(
                    "order_by",
                    format!("{other:?} is not an order; send \"next_deadline\" or nothing"),
                ));
            }
        };
        // What the caller may list: a claimant only its own claims, whatever the
        // filters; reviewers work the queue when they filter on nothing.
        let filed_by = if caller.sees_all_claims() || caller.has(pb::Role::Publisher) {
            None
        } else {
            Some(
                Uuid::parse_str(&caller.principal_id)
                    .map_err(|_| Status::internal("caller without a principal id"))?,
            )
        };
        let order = if by_deadline {
            ClaimOrder::Deadline
        } else if caller.has(pb::Role::Reviewer) {
            ClaimOrder::Queue
        } else {
            ClaimOrder::Filing
        };
        let query = ClaimQuery {
            state: (state != pb::ClaimState::Unspecified).then_some(state),
            article_id: (!req.article_id.is_empty()).then_some(req.article_id),
            assignee,
            filed_by,
            overdue: req.overdue,
            order,
        };
        let listing = paging::Listing::new(&caller, &query.canonical());
        let tokens = &self.cx.page_tokens;
        let position = tokens.position(req.page_size, &req.page_token, listing)?;
        let page = self
            .cx
            .store
            .list_claims(&query, &position, self.cx.clock.now())?;
        let next_page_token = tokens.next_token(&page, listing);
        let claims = page
            .items
            .into_iter()
            .filter_map(|c| caller.view(c))
            .collect();
        Ok(Response::new(pb::ListClaimsResponse {
            claims,
            next_page_token,
        }))
    }

    async fn list_claim_events(
        &self,
        request: Request<pb::ListClaimEventsRequest>,
    ) -> Result<Response<pb::ListClaimEventsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let claim = self.cx.visible_claim(&caller, &req.claim_id)?;
        let id = claim_id("claim_id", &claim.id)?;
        let query = AuditQuery {
            subject: AuditSubject::Claim(id),
            after_seq: 0,
        };
        let listing = paging::Listing::new(&caller, &query.canonical());
        let tokens = &self.cx.page_tokens;
        let position = tokens.position(req.page_size, &req.page_token, listing)?;
        let page = self.cx.store.list_audit_entries(&query, &position)?;
        let next_page_token = tokens.next_token(&page, listing);
        let events = page
            .items
            .into_iter()
            .map(|e| caller.event_view(e, &claim))
            .collect();
        Ok(Response::new(pb::ListClaimEventsResponse {
            events,
            next_page_token,
        }))
    }

    async fn amend_claim(
        &self,
        request: Request<pb::AmendClaimRequest>,
    ) -> Result<Response<pb::AmendClaimResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let command = Command::AmendClaim(AmendClaim {
            amendment: req.claim.unwrap_or_default(),
            update_mask: req.update_mask.map(|m| m.paths).unwrap_or_default(),
            reply: req.reply,
        });
        let (claim, _, receipt) = self
            .cx
            .transition(&caller, &req.claim_id, &req.etag, command)
            .await?;
        Ok(Response::new(pb::AmendClaimResponse {
            claim: Some(claim),
            receipt,
        }))
    }

    async fn withdraw_claim(
        &self,
        request: Request<pb::WithdrawClaimRequest>,
    ) -> Result<Response<pb::WithdrawClaimResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let command = Command::WithdrawClaim(WithdrawClaim { reason: req.reason });
        let (claim, _, receipt) = self
            .cx
            .transition(&caller, &req.claim_id, &req.etag, command)
            .await?;
        Ok(Response::new(pb::WithdrawClaimResponse {
            claim: Some(claim),
            receipt,
        }))
    }

    async fn report_legal_action(
        &self,
        request: Request<pb::ReportLegalActionRequest>,
    ) -> Result<Response<pb::ReportLegalActionResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let command = Command::ReportLegalAction(ReportLegalAction {
            authority: req.authority,
            case_reference: req.case_reference,
            filed_date: req.filed_date,
        });
        let (claim, _, receipt) = self
            .cx
            .transition(&caller, &req.claim_id, &req.etag, command)
            .await?;
        Ok(Response::new(pb::ReportLegalActionResponse {
            claim: Some(claim),
            receipt,
        }))
    }

    async fn file_complaint(
        &self,
        request: Request<pb::FileComplaintRequest>,
    ) -> Result<Response<pb::FileComplaintResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let command = Command::FileComplaint(FileComplaint { text: req.text });
        let (claim, _, receipt) = self
            .cx
            .transition(&caller, &req.claim_id, &req.etag, command)
            .await?;
        Ok(Response::new(pb::FileComplaintResponse {
            claim: Some(claim),
            receipt,
        }))
    }

    async fn get_receipt(
        &self,
        request: Request<pb::GetReceiptRequest>,
    ) -> Result<Response<pb::GetReceiptResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let claim = self.cx.visible_claim(&caller, &req.claim_id)?;
        let id = claim_id("claim_id", &claim.id)?;
        let not_its = || {
            status::invalid_field(
                "seq",
                format!(
                    "audit entry {} is not an entry of claim {}; ListClaimEvents lists the claim's entries",
                    req.seq, claim.id
                ),
            )
        };
        let seq = if req.seq == 0 {
            let query = AuditQuery {
                subject: AuditSubject::Claim(id),
                after_seq: 0,
            };
            let first = crate::store::PagePosition {
                after: None,
                limit: 1,
            };
            let page = self.cx.store.list_audit_entries(&query, &first)?;
            page.items.first().map(|e| e.seq).ok_or_else(not_its)?
        } else {
            match self.cx.store.audit_entry(req.seq)? {
                Some(e) if e.claim_id == claim.id => req.seq,
                _ => return Err(not_its()),
            }
        };
        let receipt = self.cx.notary.receipt(seq).map_err(status::notary)?;
        Ok(Response::new(pb::GetReceiptResponse {
            receipt: Some(receipt),
        }))
    }
}
