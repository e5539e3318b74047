//! The integration tests, as one test binary: each module is one area of behaviour,
//! driven through the real gRPC API of an in-process server or through the built
//! `takedownd` and `takedownctl` binaries. One binary links the crate once instead of
//! once per file; `cargo test --test it <module>::` runs one area.
//!
//! The modules share a process, so none of them may change process-wide state
//! (environment variables, the global tracing subscriber, a metrics recorder): `logs`
//! captures its lines with a subscriber scoped to its own runtime's threads.

mod common;

mod abuse_limits;
mod access_matrix;
mod auth;
mod complaints;
mod connections;
mod crash;
mod ctl;
mod ctl_replicated;
mod data_folder;
mod deadlines;
mod disk_full;
mod errors;
mod events;
mod exports;
mod fuzz_equivalent;
mod hostile_input;
mod idempotency;
mod journal_recovery;
mod lifecycle;
mod limits;
mod logs;
mod malformed_requests;
mod metrics;
mod nats_cluster;
mod notifications;
mod notify_parts;
mod page_token_filters;
mod paging;
mod party_records;
mod persistence;
mod personal_data;
mod public_intake;
mod readme_grpcurl;
mod ready_file;
mod receipts;
mod replication;
mod report_cli;
mod scoping;
mod shutdown;
mod statements;
mod suspension;
mod takedownd_help;
mod tls;
mod transitions;
mod transparency_report;
mod web_api;
mod web_browser;
