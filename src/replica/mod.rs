//! Replication of the journal through NATS JetStream (`docs/architecture.md`,
//! "Replication"). With `--replicate`, the stream is the record of what was
//! acknowledged: the leader publishes every synced group there (each entry at the
//! stream sequence equal to its journal seq, with the expected last sequence set, so a
//! replaced leader cannot append) and answers only once JetStream has stored it on a
//! quorum. Leadership is a lease in a JetStream key-value bucket. Standbys follow the
//! stream into their own journal and sled and serve reads.
//!
//! - [`link`]: the connection, the stream and the lease bucket, and the writer's
//!   [`Replicator`](crate::writer::Replicator);
//! - [`start`]: what a node does with its data folder before the writer starts
//!   (agree with the stream, cut an unacknowledged tail, put a journal kept alone into
//!   an empty stream);
//! - [`controller`]: the lease, following and taking over while the server runs.

pub mod controller;
pub mod link;
pub mod start;

use std::path::PathBuf;
use std::time::Duration;

pub use controller::Controller;
pub use link::{Link, Role};

/// How a node replicates, from `takedownd --replicate ...`.
#[derive(Debug, Clone)]
pub struct ReplicaConfig {
    /// NATS servers, comma-separated `nats://host:port` (credentials in the URL, as
    /// NATS clients take them, or in `creds`).
    pub urls: String,
    /// The JetStream stream holding the journal.
    pub stream: String,
    /// Replicas of the stream and of the lease bucket when this node creates them.
    pub replicas: usize,
    /// How long a lease lasts unless renewed.
    pub lease: Duration,
    /// The address clients reach this node at, named in the lease and in NOT_LEADER
    /// answers; `None`: the address the server listens on.
    pub advertise: Option<String>,
    /// A NATS credentials file (`.creds`: a user JWT and its NKey seed).
    pub creds: Option<PathBuf>,
    /// How long a publish may wait for JetStream's acknowledgement.
    pub publish_timeout: Duration,
}

impl ReplicaConfig {
    /// The stream's one subject.
    pub fn subject(&self) -> String {
        format!("{}.entries", self.stream)
    }

    /// The lease bucket's name.
    pub fn lease_bucket(&self) -> String {
        format!("{}-lease", self.stream)
    }
}

/// Why replication could not start, or stopped a node.
#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    #[error(
        "cannot reach NATS at {urls}: {cause}; check --replicate and that the NATS servers run with JetStream"
    )]
    Connect { urls: String, cause: String },
    #[error("JetStream {what}: {cause}")]
    JetStream { what: String, cause: String },
    #[error("{0}")]
    Disagrees(String),
    #[error(transparent)]
    Journal(#[from] crate::journal::JournalError),
    #[error(transparent)]
    Recovery(#[from] crate::writer::RecoveryError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Vault(#[from] crate::pdata::VaultError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl ReplicaError {
    pub(crate) fn js(what: impl Into<String>, cause: impl std::fmt::Display) -> ReplicaError {
        ReplicaError::JetStream {
            what: what.into(),
            cause: cause.to_string(),
        }
    }
}
