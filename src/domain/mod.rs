//! The pure rules of the notice-and-takedown workflow: what a valid notice is, which
//! command may move a claim from which state, what that does to the article, and when
//! the next deadline falls. Nothing here does I/O or knows about gRPC transport; the
//! writer calls in with the current records and the time, and gets back new records.
//!
//! The records are the `takedown.v1` protobuf messages themselves (`crate::pb`): one
//! schema for the wire, the journal and the store, as the design asks.

pub mod amendment;
pub mod article_status;
pub mod audit_action;
pub mod claim_machine;
pub mod command;
mod decision;
pub mod error;
pub mod policy;
pub mod transparency;
pub mod validation;

pub use claim_machine::{apply, file_claim};
pub use command::{Actor, Command, Transition};
pub use error::{DomainError, FieldViolation};
pub use policy::Policy;
