//! `AdminService`: principals and their tokens, party records (counts, warnings,
//! suspensions of notifier e-mails and contributors), and the notification outbox.

use std::time::SystemTime;

use tonic::{Request, Response, Status};

use super::caller::Caller;
use super::{Context, auth, paging, status};
use crate::domain::{FieldViolation, party_record, validation};
use crate::pb::{self, Role, admin_service_server::AdminService};
use crate::store::NotificationQuery;
use crate::writer::commands::{
    CreatePrincipal, ErasePersonalData, RetryNotification, RevokePrincipal, SuspendParty,
    SuspendPrincipal, UnsuspendPrincipal, WarnParty,
};

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
    } else {
        v.extend(validation::one_line("display_name", name, 200));
    }
    if req.roles.len() > MAX_ROLES {
        v.push(FieldViolation::new(
            "roles",
            format!("at most {MAX_ROLES} roles, got {}", req.roles.len()),
        ));
        return Err(status::invalid(v));
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
    let webhook_url = req.webhook_url.trim();
    if !webhook_url.is_empty() {
        if !validation::is_http_url(webhook_url) || webhook_url.len() > 2_000 {
            v.push(FieldViolation::new(
                "webhook_url",
                "must be an http(s) URL of at most 2000 characters, such as https://rights.example.org/hooks/takedown, or empty",
            ));
        } else if !roles.contains(&Role::Claimant) {
            v.push(FieldViolation::new(
                "webhook_url",
                "only a claimant is sent notifications as a notifier; add ROLE_CLAIMANT or leave it empty",
            ));
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
fn principal_id(id: &str) -> Result<uuid::Uuid, FieldViolation> {
    uuid::Uuid::parse_str(id).map_err(|_| {
        FieldViolation::new(
            "principal_id",
            "must be a principal id (a UUID) as returned by CreatePrincipal",
        )
    })
}

/// The filters of a ListNotifications request, each checked.
fn notification_query(
    req: &pb::ListNotificationsRequest,
) -> Result<NotificationQuery, Vec<FieldViolation>> {
    let mut v = Vec::new();
    let claim_id = match req.claim_id.trim() {
        "" => None,
        id => match uuid::Uuid::parse_str(id) {
            Ok(id) => Some(id),
            Err(_) => {
                v.push(FieldViolation::new(
                    "claim_id",
                    "must be a claim id (a UUID) as FileClaim returned it, or empty for every claim",
                ));
                None
            }
        },
    };
    let status = match pb::NotificationStatus::try_from(req.status) {
        Ok(pb::NotificationStatus::Unspecified) => None,
        Ok(s) => Some(s),
        Err(_) => {
            v.push(FieldViolation::new(
                "status",
                "not a status; use NOTIFICATION_STATUS_PENDING, _DELIVERED, _DEAD or _UNDELIVERABLE, or leave it unset",
            ));
            None
        }
    };
    let kind = match pb::NotificationKind::try_from(req.kind) {
        Ok(pb::NotificationKind::Unspecified) => None,
        Ok(k) => Some(k),
        Err(_) => {
            v.push(FieldViolation::new(
                "kind",
                "not a notification kind; use one of the NOTIFICATION_KIND_* values, or leave it unset",
            ));
            None
        }
    };
    if !v.is_empty() {
        return Err(v);
    }
    Ok(NotificationQuery {
        claim_id,
        status,
        kind,
    })
}

/// Longest reason for a suspension or its end, in bytes.
const MAX_REASON: usize = 2_000;
/// Most roles one request may name (there are five).
const MAX_ROLES: usize = 10;

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
    } else {
        v.extend(validation::one_line("reason", reason, MAX_REASON));
    }
}

fn suspend_request(req: &pb::SuspendPrincipalRequest) -> Result<(uuid::Uuid, SystemTime), Status> {
    let mut v = Vec::new();
    let id = principal_id(&req.principal_id);
    v.extend(id.clone().err());
    reason(&mut v, &req.reason, true);
    let until = until(&mut v, req.until);
    status::check(v)?;
    match (id, until) {
        (Ok(id), Some(until)) => Ok((id, until)),
        _ => Err(status::invalid_field("until", "not a valid timestamp")),
    }
}

/// A party key from a request, normalised (`party`: the field's name).
fn party(v: &mut Vec<FieldViolation>, key: Option<&pb::PartyKey>) -> Option<pb::PartyKey> {
    let bad = party_record::check_key("party", key);
    let ok = bad.is_empty();
    v.extend(bad);
    key.filter(|_| ok).map(party_record::normalise)
}

fn suspend_party_request(
    req: &pb::SuspendPartyRequest,
) -> Result<(pb::PartyKey, SystemTime), Status> {
    let mut v = Vec::new();
    let key = party(&mut v, req.party.as_ref());
    if let Some(pb::PartyKey {
        key: Some(pb::party_key::Key::PrincipalId(_)),
    }) = &key
    {
        v.push(FieldViolation::new(
            "party.principal_id",
            "suspend a principal with SuspendPrincipal (`takedownctl principals suspend`); SuspendParty takes a notifier_email or contributor_account_id",
        ));
    }
    reason(&mut v, &req.reason, true);
    let until = until(&mut v, req.until);
    status::check(v)?;
    match (key, until) {
        (Some(key), Some(until)) => Ok((key, until)),
        _ => Err(status::invalid_field("until", "not a valid timestamp")),
    }
}

/// A suspension's end from a request.
fn until(v: &mut Vec<FieldViolation>, until: Option<prost_types::Timestamp>) -> Option<SystemTime> {
    match until {
        None => {
            v.push(FieldViolation::new(
                "until",
                "when the suspension ends is required, such as 2024-06-01T00:00:00Z",
            ));
            None
        }
        Some(t) => {
            let bad = validation::timestamp("until", Some(&t));
            let t = SystemTime::try_from(t).ok().filter(|_| bad.is_empty());
            if t.is_none() {
                v.extend(bad);
                if v.iter().all(|f| f.field != "until") {
                    v.push(FieldViolation::new("until", "not a valid timestamp"));
                }
            }
            t
        }
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
        let webhook_url = req.webhook_url.trim();
        let secret = (!webhook_url.is_empty()).then(crate::notify::WebhookSecret::generate);
        let principal = self
            .cx
            .writer
            .submit(CreatePrincipal {
                display_name: req.display_name.trim().to_string(),
                roles,
                trusted_flagger: req.trusted_flagger,
                token_sha256: auth::token_sha256(&token),
                webhook: secret
                    .as_ref()
                    .map(|s| (webhook_url.to_string(), s.key().to_vec())),
                actor: caller.principal_id,
            })
            .await?;
        Ok(Response::new(pb::CreatePrincipalResponse {
            principal: Some(principal),
            token,
            webhook_secret: secret.map_or(String::new(), |s| s.to_string()),
        }))
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
        let principal_id = principal_id(&req.principal_id).map_err(|v| status::invalid(vec![v]))?;
        let principal = self
            .cx
            .writer
            .submit(RevokePrincipal {
                principal_id,
                actor: caller.principal_id,
            })
            .await?;
        Ok(Response::new(pb::RevokePrincipalResponse {
            principal: Some(principal),
        }))
    }

    async fn suspend_principal(
        &self,
        request: Request<pb::SuspendPrincipalRequest>,
    ) -> Result<Response<pb::SuspendPrincipalResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let (principal_id, until) = suspend_request(&req)?;
        let principal = self
            .cx
            .writer
            .submit(SuspendPrincipal {
                principal_id,
                reason: req.reason.trim().to_string(),
                until,
                actor: caller.principal_id,
            })
            .await?;
        Ok(Response::new(pb::SuspendPrincipalResponse {
            principal: Some(principal),
        }))
    }

    async fn unsuspend_principal(
        &self,
        request: Request<pb::UnsuspendPrincipalRequest>,
    ) -> Result<Response<pb::UnsuspendPrincipalResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let id = principal_id(&req.principal_id);
        let mut v: Vec<FieldViolation> = id.clone().err().into_iter().collect();
        reason(&mut v, &req.reason, false);
        status::check(v)?;
        let principal_id = id.map_err(|v| status::invalid(vec![v]))?;
        let principal = self
            .cx
            .writer
            .submit(UnsuspendPrincipal {
                principal_id,
                reason: req.reason.trim().to_string(),
                actor: caller.principal_id,
            })
            .await?;
        Ok(Response::new(pb::UnsuspendPrincipalResponse {
            principal: Some(principal),
        }))
    }

    async fn get_party_record(
        &self,
        request: Request<pb::GetPartyRecordRequest>,
    ) -> Result<Response<pb::GetPartyRecordResponse>, Status> {
        let req = request.into_inner();
        let mut v = Vec::new();
        let key = party(&mut v, req.party.as_ref());
        status::check(v)?;
        let key = key.ok_or_else(|| status::invalid_field("party", "required"))?;
        let record = self
            .cx
            .store
            .party_record(&key)?
            .unwrap_or_else(|| party_record::empty(&key));
        Ok(Response::new(pb::GetPartyRecordResponse {
            record: Some(record),
        }))
    }

    async fn warn_party(
        &self,
        request: Request<pb::WarnPartyRequest>,
    ) -> Result<Response<pb::WarnPartyResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let mut v = Vec::new();
        let key = party(&mut v, req.party.as_ref());
        reason(&mut v, &req.reason, true);
        status::check(v)?;
        let key = key.ok_or_else(|| status::invalid_field("party", "required"))?;
        let record = self
            .cx
            .writer
            .submit(WarnParty {
                party: key,
                reason: req.reason.trim().to_string(),
                actor: caller.principal_id,
            })
            .await?;
        Ok(Response::new(pb::WarnPartyResponse {
            record: Some(record),
        }))
    }

    async fn suspend_party(
        &self,
        request: Request<pb::SuspendPartyRequest>,
    ) -> Result<Response<pb::SuspendPartyResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let (party, until) = suspend_party_request(&req)?;
        let record = self
            .cx
            .writer
            .submit(SuspendParty {
                party,
                reason: req.reason.trim().to_string(),
                until,
                actor: caller.principal_id,
            })
            .await?;
        Ok(Response::new(pb::SuspendPartyResponse {
            record: Some(record),
        }))
    }

    async fn list_notifications(
        &self,
        request: Request<pb::ListNotificationsRequest>,
    ) -> Result<Response<pb::ListNotificationsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let query = notification_query(&req).map_err(status::invalid)?;
        let listing = paging::Listing::new(&caller, &query.canonical());
        let tokens = &self.cx.page_tokens;
        let position = tokens.position(req.page_size, &req.page_token, listing)?;
        let page = self.cx.store.list_notifications(&query, &position)?;
        let next_page_token = tokens.next_token(&page, listing);
        Ok(Response::new(pb::ListNotificationsResponse {
            notifications: page.items,
            next_page_token,
        }))
    }

    async fn retry_notification(
        &self,
        request: Request<pb::RetryNotificationRequest>,
    ) -> Result<Response<pb::RetryNotificationResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let notification_id = uuid::Uuid::parse_str(req.notification_id.trim()).map_err(|_| {
            status::invalid(vec![FieldViolation::new(
                "notification_id",
                "must be a notification id (a UUID) as ListNotifications shows it",
            )])
        })?;
        let notification = self
            .cx
            .writer
            .submit(RetryNotification {
                notification_id,
                actor: caller.principal_id,
            })
            .await?;
        Ok(Response::new(pb::RetryNotificationResponse {
            notification: Some(notification),
        }))
    }

    async fn erase_personal_data(
        &self,
        request: Request<pb::ErasePersonalDataRequest>,
    ) -> Result<Response<pb::ErasePersonalDataResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let mut v = Vec::new();
        reason(&mut v, &req.reason, true);
        let subject = self.subject(req.party.as_ref());
        let (subject, label) = match subject {
            Ok(s) => s,
            Err(violation) => {
                v.push(violation);
                return Err(status::invalid(v));
            }
        };
        if !v.is_empty() {
            return Err(status::invalid(v));
        }
        let erased = self
            .cx
            .writer
            .submit(ErasePersonalData {
                subject,
                label,
                reason: req.reason.trim().to_string(),
                actor: caller.principal_id,
            })
            .await?;
        Ok(Response::new(pb::ErasePersonalDataResponse {
            claims: erased.claims,
            erased_now: erased.erased_now,
        }))
    }

    async fn export_personal_data(
        &self,
        request: Request<pb::ExportPersonalDataRequest>,
    ) -> Result<Response<pb::ExportPersonalDataResponse>, Status> {
        let req = request.into_inner();
        let (subject, _) = self
            .subject(req.party.as_ref())
            .map_err(|v| status::invalid(vec![v]))?;
        let store = &self.cx.store;
        let mut claims = Vec::new();
        let mut notifications = Vec::new();
        for id in store.claims_of_subject(&subject)? {
            let Some(claim) = store.claim(&id)? else {
                continue;
            };
            let query = NotificationQuery {
                claim_id: Some(id),
                ..Default::default()
            };
            let mut position = crate::store::PagePosition {
                after: None,
                limit: 500,
            };
            loop {
                let page = store.list_notifications(&query, &position)?;
                notifications.extend(page.items);
                match page.next {
                    Some(next) => position.after = Some(next),
                    None => break,
                }
            }
            claims.push(claim);
        }
        let party = req.party.unwrap_or_default();
        let record = store.party_record(&party_record::normalise(&party))?;
        Ok(Response::new(pb::ExportPersonalDataResponse {
            claims,
            notifications,
            record,
            erased: store.erased_subject(&subject)?.is_some(),
        }))
    }
}

impl AdminApi {
    /// The subject a party key names, and how the log names it; a principal is an
    /// account, not a person's data.
    fn subject(
        &self,
        party: Option<&pb::PartyKey>,
    ) -> Result<(crate::pdata::Subject, String), FieldViolation> {
        use crate::pdata::SubjectKind;
        use pb::party_key::Key;
        let vault = self.cx.store.vault().ok_or_else(|| {
            FieldViolation::new("party", "this server keeps no personal data key store")
        })?;
        let (kind, value, what) = match party.and_then(|p| p.key.as_ref()) {
            Some(Key::NotifierEmail(e)) if !e.trim().is_empty() => {
                (SubjectKind::Email, e.as_str(), "e-mail")
            }
            Some(Key::ContributorAccountId(id)) if !id.trim().is_empty() => {
                (SubjectKind::Contributor, id.as_str(), "contributor")
            }
            Some(Key::PrincipalId(_)) => {
                return Err(FieldViolation::new(
                    "party.principal_id",
                    "a principal is an account, not a person's data: name the person by party.notifier_email (the e-mail in the notices or counter-notices) or party.contributor_account_id",
                ));
            }
            _ => {
                return Err(FieldViolation::new(
                    "party",
                    "name the person: party.notifier_email (an e-mail from a notice or counter-notice) or party.contributor_account_id",
                ));
            }
        };
        let subject = vault.subject(kind, value);
        Ok((subject, format!("{what} {}", &hex::encode(subject)[..12])))
    }
}
