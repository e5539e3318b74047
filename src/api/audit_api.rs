//! `AuditService`: reading the audit log from sled's copies, and verifying the chain
//! from the journal on disk.

use tonic::{Request, Response, Status};

use super::{Context, claim_api::claim_id, paging, status};
use crate::domain::validation;
use crate::journal;
use crate::pb::{self, audit_service_server::AuditService};
use crate::store::keyspace;

pub struct AuditApi {
    pub(super) cx: Context,
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn list_audit_entries(
        &self,
        request: Request<pb::ListAuditEntriesRequest>,
    ) -> Result<Response<pb::ListAuditEntriesResponse>, Status> {
        let req = request.into_inner();
        if !req.claim_id.is_empty() && !req.article_id.is_empty() {
            return Err(status::invalid_field(
                "article_id",
                "filter by claim_id or by article_id, not both",
            ));
        }
        let prefix = if !req.claim_id.is_empty() {
            keyspace::audit_by_claim_prefix(&claim_id("claim_id", &req.claim_id)?)
        } else if !req.article_id.is_empty() {
            if !validation::is_article_id(&req.article_id) {
                return Err(status::invalid_field(
                    "article_id",
                    "must be 1-128 letters, digits or . _ : / -",
                ));
            }
            keyspace::audit_by_article_prefix(&req.article_id)
        } else {
            vec![keyspace::AUDIT]
        };
        let filters = format!(
            "audit|{}|{}|{}",
            req.claim_id, req.article_id, req.after_seq
        );
        let mut query = paging::query(req.page_size, &req.page_token, &prefix, &filters)?;
        if query.after.is_none() && prefix == [keyspace::AUDIT] && req.after_seq > 0 {
            // Seq order is key order: start right after `after_seq`.
            query.after = Some(keyspace::audit(req.after_seq));
        }
        let page = self.cx.store.audit_page(&prefix, &query, req.after_seq)?;
        let next_page_token = paging::next_token(&page, &filters);
        Ok(Response::new(pb::ListAuditEntriesResponse {
            entries: page.items,
            next_page_token,
        }))
    }

    async fn verify_audit_log(
        &self,
        _request: Request<pb::VerifyAuditLogRequest>,
    ) -> Result<Response<pb::VerifyAuditLogResponse>, Status> {
        let dir = self.cx.journal_dir.clone();
        let up_to = self.cx.writer.durable_seq();
        let report = tokio::task::spawn_blocking(move || journal::verify(&dir, up_to))
            .await
            .map_err(|e| Status::internal(format!("verification task failed: {e}")))?;
        Ok(Response::new(pb::VerifyAuditLogResponse {
            ok: report.ok,
            entries_checked: report.entries_checked,
            head_seq: report.head_seq,
            head_hash: hex::encode(report.head_hash),
            first_bad_seq: report.first_bad_seq,
            problem: report.problem,
        }))
    }

    async fn get_transparency_report(
        &self,
        request: Request<pb::GetTransparencyReportRequest>,
    ) -> Result<Response<pb::GetTransparencyReportResponse>, Status> {
        let req = request.into_inner();
        let time = |field: &str, t: Option<prost_types::Timestamp>| {
            t.map(|t| {
                std::time::SystemTime::try_from(t)
                    .map_err(|_| status::invalid_field(field, "not a valid timestamp"))
            })
            .transpose()
        };
        let start = time("start_time", req.start_time)?;
        let end = time("end_time", req.end_time)?;
        let now = self.cx.clock.now();
        if start.is_some_and(|s| s >= end.unwrap_or(now)) {
            return Err(status::invalid_field(
                "end_time",
                "must be after start_time",
            ));
        }
        let head = self.cx.writer.durable_seq();
        let store = self.cx.store.clone();
        let report =
            tokio::task::spawn_blocking(move || store.transparency_report(start, end, now, head))
                .await
                .map_err(|e| Status::internal(format!("report task failed: {e}")))??;
        Ok(Response::new(pb::GetTransparencyReportResponse {
            report: Some(report),
        }))
    }
}
