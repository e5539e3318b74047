//! `AuditService`: reading the audit log from sled's copies, verifying the chain
//! from the journal on disk, and the exports (`exports`).

use tonic::{Request, Response, Status};

use super::caller::Caller;
use super::{Context, claim_api::claim_id, exports, paging, status};
use crate::domain::validation;
use crate::journal;
use crate::pb::{self, audit_service_server::AuditService};
use crate::store::{AuditQuery, AuditSubject};

pub struct AuditApi {
    pub(super) cx: Context,
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn get_checkpoint(
        &self,
        _request: Request<pb::GetCheckpointRequest>,
    ) -> Result<Response<pb::GetCheckpointResponse>, Status> {
        let checkpoint = self.cx.notary.checkpoint().map_err(status::notary)?;
        Ok(Response::new(pb::GetCheckpointResponse {
            checkpoint: checkpoint.note.clone(),
            verifier_key: self.cx.notary.verifier_key(),
        }))
    }

    async fn get_inclusion_proof(
        &self,
        request: Request<pb::GetInclusionProofRequest>,
    ) -> Result<Response<pb::GetInclusionProofResponse>, Status> {
        let req = request.into_inner();
        if req.seq == 0 {
            return Err(status::invalid_field(
                "seq",
                "must be the seq of an audit entry (1 or more)",
            ));
        }
        if req.tree_size != 0 && req.tree_size < req.seq {
            return Err(status::invalid_field(
                "tree_size",
                format!(
                    "must be at least seq ({}) for the tree to hold the entry, or 0 for the current tree",
                    req.seq
                ),
            ));
        }
        let (tree_size, hashes) = self.cx.store.inclusion_proof(req.seq, req.tree_size)?;
        Ok(Response::new(pb::GetInclusionProofResponse {
            leaf_index: req.seq - 1,
            tree_size,
            hashes: hashes.iter().map(|h| h.to_vec()).collect(),
        }))
    }

    async fn get_consistency_proof(
        &self,
        request: Request<pb::GetConsistencyProofRequest>,
    ) -> Result<Response<pb::GetConsistencyProofResponse>, Status> {
        let req = request.into_inner();
        if req.first_size == 0 {
            return Err(status::invalid_field(
                "first_size",
                "must be the size of an older checkpoint's tree (1 or more)",
            ));
        }
        if req.second_size != 0 && req.second_size < req.first_size {
            return Err(status::invalid_field(
                "second_size",
                format!(
                    "must be at least first_size ({}), or 0 for the current tree",
                    req.first_size
                ),
            ));
        }
        let (second_size, hashes) = self
            .cx
            .store
            .consistency_proof(req.first_size, req.second_size)?;
        Ok(Response::new(pb::GetConsistencyProofResponse {
            first_size: req.first_size,
            second_size,
            hashes: hashes.iter().map(|h| h.to_vec()).collect(),
        }))
    }

    async fn list_audit_entries(
        &self,
        request: Request<pb::ListAuditEntriesRequest>,
    ) -> Result<Response<pb::ListAuditEntriesResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        if !req.claim_id.is_empty() && !req.article_id.is_empty() {
            return Err(status::invalid_field(
                "article_id",
                "filter by claim_id or by article_id, not both",
            ));
        }
        let subject = if !req.claim_id.is_empty() {
            AuditSubject::Claim(claim_id("claim_id", &req.claim_id)?)
        } else if !req.article_id.is_empty() {
            if !validation::is_article_id(&req.article_id) {
                return Err(status::invalid_field(
                    "article_id",
                    "must be 1-128 letters, digits or . _ : / -",
                ));
            }
            AuditSubject::Article(req.article_id)
        } else {
            AuditSubject::Everything
        };
        let query = AuditQuery {
            subject,
            after_seq: req.after_seq,
        };
        let listing = paging::Listing::new(&caller, &query.canonical());
        let tokens = &self.cx.page_tokens;
        let position = tokens.position(req.page_size, &req.page_token, listing)?;
        let page = self.cx.store.list_audit_entries(&query, &position)?;
        let next_page_token = tokens.next_token(&page, listing);
        Ok(Response::new(pb::ListAuditEntriesResponse {
            entries: page.items,
            next_page_token,
        }))
    }

    async fn verify_audit_log(
        &self,
        request: Request<pb::VerifyAuditLogRequest>,
    ) -> Result<Response<pb::VerifyAuditLogResponse>, Status> {
        let dir = self.cx.journal_dir.clone();
        let head = self.cx.writer.durable_seq();
        let up_to = match request.get_ref().up_to_seq {
            0 => head,
            n if n > head => {
                return Err(status::invalid_field(
                    "up_to_seq",
                    format!("the log ends at seq {head}; send at most {head}, or 0 for the head"),
                ));
            }
            n => n,
        };
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
            status::check(validation::timestamp(field, t.as_ref()))?;
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

    type ExportStatementsOfReasonsStream =
        super::events::BoxStream<pb::ExportStatementsOfReasonsResponse>;

    async fn export_statements_of_reasons(
        &self,
        request: Request<pb::ExportStatementsOfReasonsRequest>,
    ) -> Result<Response<Self::ExportStatementsOfReasonsStream>, Status> {
        let req = request.into_inner();
        let period = exports::Period::of(req.start_time, req.end_time, self.cx.clock.now())?;
        let head = self.cx.writer.durable_seq();
        let range = exports::seq_range(&self.cx.store, period, head)?;
        Ok(Response::new(exports::statements(
            self.cx.store.clone(),
            self.cx.journal_dir.clone(),
            range,
        )))
    }

    type ExportNoticesStream = super::events::BoxStream<pb::ExportNoticesResponse>;

    async fn export_notices(
        &self,
        request: Request<pb::ExportNoticesRequest>,
    ) -> Result<Response<Self::ExportNoticesStream>, Status> {
        let req = request.into_inner();
        if req.format() != pb::ExportFormat::Lumen {
            return Err(status::invalid_field(
                "format",
                "required: EXPORT_FORMAT_LUMEN (the only format so far)",
            ));
        }
        let period = exports::Period::of(req.start_time, req.end_time, self.cx.clock.now())?;
        let head = self.cx.writer.durable_seq();
        let range = exports::seq_range(&self.cx.store, period, head)?;
        Ok(Response::new(exports::notices(
            self.cx.store.clone(),
            self.cx.journal_dir.clone(),
            range,
        )))
    }
}
