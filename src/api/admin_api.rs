//! `AdminService`: principals and their tokens.

use tonic::{Request, Response, Status};

use super::caller::Caller;
use super::{Context, auth, paging, status};
use crate::domain::FieldViolation;
use crate::pb::{self, Role, admin_service_server::AdminService};
use crate::store::keyspace;
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
    status::check(v)?;
    Ok(roles)
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
        let req = request.into_inner();
        let query = paging::query(
            req.page_size,
            &req.page_token,
            &[keyspace::PRINCIPAL],
            "principals",
        )?;
        let page = self.cx.store.principals_page(&query)?;
        let next_page_token = paging::next_token(&page, "principals");
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
        if uuid::Uuid::parse_str(&req.principal_id).is_err() {
            return Err(status::invalid_field(
                "principal_id",
                "must be a principal id (a UUID) as returned by CreatePrincipal",
            ));
        }
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
}
