//! `AdminService`: principals and their tokens.

use std::time::SystemTime;

use tonic::{Request, Response, Status};

use super::caller::Caller;
use super::{Context, auth, paging, status};
use crate::domain::FieldViolation;
use crate::pb::{self, Role, admin_service_server::AdminService};
use crate::writer::{WriteCommand, Written};

pub struct AdminApi {
    pub(super) cx: Context,
}

fn principal_request(req: &pb::CreatePrincipalRequest) -> Result<Vec<Role>, Status> {
    let mut v = Vec::new();
    let name = req.display_name.trim();
    if name.is_empty() || name.len() > 200 {
        v.push(FieldViolation::new(
            "display_name",
            "a name of 1-200 characters is required, such as \"Legal Daily rights desk\"",
        ));
    }
    if req.roles.is_empty() {
        v.push(FieldViolation::new(
            "roles",
            "grant at least one role: ROLE_CLAIMANT, ROLE_REVIEWER, ROLE_PUBLISHER, ROLE_AUDITOR or ROLE_ADMIN",
        ));
    }
    let mut roles = Vec::new();
    for (i, r) in req.roles.iter().enumerate() {
        match Role::try_from(*r) {
            Ok(Role::Unspecified) | Err(_) => v.push(FieldViolation::new(
                format!("roles[{i}]"),
                "not a role; use ROLE_CLAIMANT, ROLE_REVIEWER, ROLE_PUBLISHER, ROLE_AUDITOR or ROLE_ADMIN",
            )),
            Ok(role) if !roles.contains(&role) => roles.push(role),
            Ok(_) => {}
        }
    }
    if req.trusted_flagger && !roles.contains(&Role::Claimant) {
        v.push(FieldViolation::new(
            "trusted_flagger",
            "only a claimant can be a trusted flagger; add ROLE_CLAIMANT or leave it false",
        ));
    }
    status::check(v)?;
    Ok(roles)
}

/// A principal id as returned by CreatePrincipal.
fn principal_id(id: &str) -> Result<(), FieldViolation> {
    uuid::Uuid::parse_str(id).map(|_| ()).map_err(|_| {
        FieldViolation::new(
            "principal_id",
            "must be a principal id (a UUID) as returned by CreatePrincipal",
        )
    })
}

/// Longest reason for a suspension or its end, in bytes.
const MAX_REASON: usize = 2_000;

fn reason(v: &mut Vec<FieldViolation>, reason: &str, required: bool) {
    if required && reason.trim().is_empty() {
        v.push(FieldViolation::new(
            "reason",
            "say why, such as \"5 manifestly unfounded notices after the warning of 2024-03-01\"",
        ));
    }
    if reason.len() > MAX_REASON {
        v.push(FieldViolation::new(
            "reason",
            format!("must be at most {MAX_REASON} bytes, got {}", reason.len()),
        ));
    }
}

fn suspend_request(req: &pb::SuspendPrincipalRequest) -> Result<SystemTime, Status> {
    let mut v = Vec::new();
    v.extend(principal_id(&req.principal_id).err());
    reason(&mut v, &req.reason, true);
    let until = match req.until {
        None => {
            v.push(FieldViolation::new(
                "until",
                "when the suspension ends is required, such as 2024-06-01T00:00:00Z",
            ));
            None
        }
        Some(t) => {
            let t = SystemTime::try_from(t).ok();
            if t.is_none() {
                v.push(FieldViolation::new("until", "not a valid timestamp"));
            }
            t
        }
    };
    status::check(v)?;
    until.ok_or_else(|| status::invalid_field("until", "not a valid timestamp"))
}

fn principal_answer(written: Written) -> Result<pb::Principal, Status> {
    match written {
        Written::Principal(p) => Ok(p),
        _ => Err(Status::internal("unexpected writer answer")),
    }
}

#[tonic::async_trait]
impl AdminService for AdminApi {
    async fn create_principal(
        &self,
        request: Request<pb::CreatePrincipalRequest>,
    ) -> Result<Response<pb::CreatePrincipalResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let roles = principal_request(&req)?;
        let token = auth::new_token();
        let written = self
            .cx
            .writer
            .submit(WriteCommand::CreatePrincipal {
                display_name: req.display_name.trim().to_string(),
                roles,
                trusted_flagger: req.trusted_flagger,
                token_sha256: auth::token_sha256(&token),
                actor: caller.principal_id,
            })
            .await?;
        match written {
            Written::Principal(p) => Ok(Response::new(pb::CreatePrincipalResponse {
                principal: Some(p),
                token,
            })),
            _ => Err(Status::internal("unexpected writer answer")),
        }
    }

    async fn list_principals(
        &self,
        request: Request<pb::ListPrincipalsRequest>,
    ) -> Result<Response<pb::ListPrincipalsResponse>, Status> {
        let listing = paging::Listing::new(&Caller::of(&request)?, b"principals");
        let req = request.into_inner();
        let tokens = &self.cx.page_tokens;
        let position = tokens.position(req.page_size, &req.page_token, listing)?;
        let page = self.cx.store.list_principals(&position)?;
        let next_page_token = tokens.next_token(&page, listing);
        Ok(Response::new(pb::ListPrincipalsResponse {
            principals: page.items,
            next_page_token,
        }))
    }

    async fn revoke_principal(
        &self,
        request: Request<pb::RevokePrincipalRequest>,
    ) -> Result<Response<pb::RevokePrincipalResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        status::check(principal_id(&req.principal_id).err().into_iter().collect())?;
        let written = self
            .cx
            .writer
            .submit(WriteCommand::RevokePrincipal {
                principal_id: req.principal_id,
                actor: caller.principal_id,
            })
            .await?;
        match written {
            Written::Principal(p) => Ok(Response::new(pb::RevokePrincipalResponse {
                principal: Some(p),
            })),
            _ => Err(Status::internal("unexpected writer answer")),
        }
    }

    async fn suspend_principal(
        &self,
        request: Request<pb::SuspendPrincipalRequest>,
    ) -> Result<Response<pb::SuspendPrincipalResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let until = suspend_request(&req)?;
        let written = self
            .cx
            .writer
            .submit(WriteCommand::SuspendPrincipal {
                principal_id: req.principal_id,
                reason: req.reason.trim().to_string(),
                until,
                actor: caller.principal_id,
            })
            .await?;
        Ok(Response::new(pb::SuspendPrincipalResponse {
            principal: Some(principal_answer(written)?),
        }))
    }

    async fn unsuspend_principal(
        &self,
        request: Request<pb::UnsuspendPrincipalRequest>,
    ) -> Result<Response<pb::UnsuspendPrincipalResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let mut v: Vec<FieldViolation> =
            principal_id(&req.principal_id).err().into_iter().collect();
        reason(&mut v, &req.reason, false);
        status::check(v)?;
        let written = self
            .cx
            .writer
            .submit(WriteCommand::UnsuspendPrincipal {
                principal_id: req.principal_id,
                reason: req.reason.trim().to_string(),
                actor: caller.principal_id,
            })
            .await?;
        Ok(Response::new(pb::UnsuspendPrincipalResponse {
            principal: Some(principal_answer(written)?),
        }))
    }
}
