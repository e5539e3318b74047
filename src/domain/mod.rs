//! The pure rules of the notice-and-takedown workflow: what a valid notice is, which
//! command may move a claim from which state, what that does to the article, and when
//! the next deadline falls. Nothing here does I/O or knows about gRPC transport; the
//! writer calls in with the current records and the time, and gets back new records.
//!
//! - `transitions`: the state machine as a table, the one place a state is checked;
//! - `commands`: one file per verb, with its payload checks and its effect;
//! - `claim_machine`: runs a verb through the table;
//! - `validation`, `policy`, `article_status`: the shared checks, clocks and holds
//!   (`federal_holidays`: the US calendar DMCA business days skip);
//! - `party_record`: which abuse counts a transition moves, warnings, suspensions;
//! - `notifications`: who is told what about each change;
//! - `reasons`: the statement of reasons' checks, defaults and templates;
//! - `dsa_statement`, `lumen`: a restriction and a notice as the DSA Transparency
//!   Database and Lumen take them.
//!
//! The records are the `takedown.v1` protobuf messages themselves (`crate::pb`): one
//! schema for the wire, the journal and the store.

pub mod actor;
pub mod article_status;
pub mod audit_action;
pub mod claim_machine;
pub mod commands;
pub mod dsa_statement;
pub mod error;
pub mod federal_holidays;
pub mod lumen;
pub mod notifications;
pub mod party_record;
pub mod policy;
pub mod reasons;
pub mod transitions;
pub mod transparency;
pub mod validation;

pub use actor::{Actor, Transition};
pub use audit_action::AuditAction;
pub use claim_machine::apply;
pub use commands::{Command, Notice, file_claim};
pub use error::{DomainError, FieldViolation};
pub use policy::Policy;

#[cfg(test)]
mod tests;
