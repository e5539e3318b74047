//! `ReviewService`: the compliance desk's verbs on claims.

use tonic::{Request, Response, Status};

use super::Context;
use super::caller::Caller;
use crate::domain::Command;
use crate::domain::commands::{DecideClaim, RequestInformation, ResolveLegalAction, StartReview};
use crate::pb::{self, review_service_server::ReviewService};

pub struct ReviewApi {
    pub(super) cx: Context,
}

#[tonic::async_trait]
impl ReviewService for ReviewApi {
    async fn start_review(
        &self,
        request: Request<pb::StartReviewRequest>,
    ) -> Result<Response<pb::StartReviewResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let (claim, _, receipt) = self
            .cx
            .transition(
                &caller,
                &req.claim_id,
                &req.etag,
                Command::StartReview(StartReview),
            )
            .await?;
        Ok(Response::new(pb::StartReviewResponse {
            claim: Some(claim),
            receipt,
        }))
    }

    async fn request_information(
        &self,
        request: Request<pb::RequestInformationRequest>,
    ) -> Result<Response<pb::RequestInformationResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let command = Command::RequestInformation(RequestInformation {
            message: req.message,
        });
        let (claim, _, receipt) = self
            .cx
            .transition(&caller, &req.claim_id, &req.etag, command)
            .await?;
        Ok(Response::new(pb::RequestInformationResponse {
            claim: Some(claim),
            receipt,
        }))
    }

    async fn decide_claim(
        &self,
        request: Request<pb::DecideClaimRequest>,
    ) -> Result<Response<pb::DecideClaimResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let command = Command::DecideClaim(DecideClaim {
            outcome: req.outcome,
            statement_of_reasons: req.statement_of_reasons,
            items_to_change: req.items_to_change,
            manifestly_unfounded: req.manifestly_unfounded,
            misrepresentation_suspected: req.misrepresentation_suspected,
        });
        let (claim, _, receipt) = self
            .cx
            .transition(&caller, &req.claim_id, &req.etag, command)
            .await?;
        Ok(Response::new(pb::DecideClaimResponse {
            claim: Some(claim),
            receipt,
        }))
    }

    async fn resolve_legal_action(
        &self,
        request: Request<pb::ResolveLegalActionRequest>,
    ) -> Result<Response<pb::ResolveLegalActionResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let command = Command::ResolveLegalAction(ResolveLegalAction {
            outcome: req.outcome,
            note: req.note,
        });
        let (claim, _, receipt) = self
            .cx
            .transition(&caller, &req.claim_id, &req.etag, command)
            .await?;
        Ok(Response::new(pb::ResolveLegalActionResponse {
            claim: Some(claim),
            receipt,
        }))
    }

    async fn list_reason_templates(
        &self,
        request: Request<pb::ListReasonTemplatesRequest>,
    ) -> Result<Response<pb::ListReasonTemplatesResponse>, Status> {
        let regime = match pb::Regime::try_from(request.get_ref().regime) {
            Ok(r) => r,
            Err(_) => {
                return Err(super::status::invalid_field(
                    "regime",
                    "not a regime; use REGIME_DMCA, REGIME_DSA, REGIME_PRC_CIVIL_CODE, or leave it unset for all",
                ));
            }
        };
        let templates = self
            .cx
            .policy
            .reason_templates
            .iter()
            .filter(|t| regime == pb::Regime::Unspecified || t.fits(regime))
            .map(|t| t.to_proto())
            .collect();
        Ok(Response::new(pb::ListReasonTemplatesResponse { templates }))
    }
}
