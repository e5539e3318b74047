//! The gRPC face: one thin module per service that translates between the wire and
//! the writer/store, the auth layer, paging and the one error mapping.

mod admin_api;
mod audit_api;
pub mod auth;
pub mod caller;
mod claim_api;
mod events;
mod exports;
pub mod health;
pub mod limits;
mod paging;
mod publisher_api;
mod review_api;
pub mod status;
pub mod telemetry;
pub mod wire;

use std::path::PathBuf;

use crate::pb::{
    admin_service_server::AdminServiceServer, audit_service_server::AuditServiceServer,
    claim_service_server::ClaimServiceServer, publisher_service_server::PublisherServiceServer,
    review_service_server::ReviewServiceServer,
};
use crate::store::Store;
use crate::writer::WriterHandle;

pub use paging::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageKeyError, PageTokens};

/// What every service needs: the store for reads, the writer for changes, the
/// journal folder for verification, and the key of page tokens.
#[derive(Clone)]
pub struct Context {
    pub store: Store,
    /// "Now" for overdue filters (the same clock as the writer's).
    pub clock: std::sync::Arc<dyn crate::clock::Clock>,
    /// Becomes true when the server starts shutting down; long-lived streams end.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    pub writer: WriterHandle,
    pub journal_dir: PathBuf,
    /// Signs and checks page tokens with the data folder's key.
    pub page_tokens: PageTokens,
    /// The workflow's policy (for what it offers to read, such as reason templates).
    pub policy: std::sync::Arc<crate::domain::Policy>,
    /// Signs the audit log's checkpoints and issues receipts.
    pub notary: std::sync::Arc<crate::notary::Notary>,
}

/// The five `takedown.v1` services over one context, with request size limits.
pub struct Services {
    pub claim: ClaimServiceServer<claim_api::ClaimApi>,
    pub review: ReviewServiceServer<review_api::ReviewApi>,
    pub publisher: PublisherServiceServer<publisher_api::PublisherApi>,
    pub admin: AdminServiceServer<admin_api::AdminApi>,
    pub audit: AuditServiceServer<audit_api::AuditApi>,
}

impl Services {
    pub fn new(cx: Context, max_request_bytes: usize) -> Self {
        Self {
            claim: ClaimServiceServer::new(claim_api::ClaimApi { cx: cx.clone() })
                .max_decoding_message_size(max_request_bytes),
            review: ReviewServiceServer::new(review_api::ReviewApi { cx: cx.clone() })
                .max_decoding_message_size(max_request_bytes),
            publisher: PublisherServiceServer::new(publisher_api::PublisherApi { cx: cx.clone() })
                .max_decoding_message_size(max_request_bytes),
            admin: AdminServiceServer::new(admin_api::AdminApi { cx: cx.clone() })
                .max_decoding_message_size(max_request_bytes),
            audit: AuditServiceServer::new(audit_api::AuditApi { cx })
                .max_decoding_message_size(max_request_bytes),
        }
    }
}
