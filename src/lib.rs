//! `takedown`: a gRPC service that runs a site's notice-and-takedown promise.
//!
//! The layers, from the wire down (arrows only point down):
//! - [`api`]: tonic services, one per audience, the auth layer and error mapping;
//! - [`writer`]: the one writer — group commit through the journal into sled;
//! - [`store`]: sled, its keyspace and indexes, and the reads;
//! - [`journal`]: the write-ahead journal that is also the hash-chained audit log;
//! - [`domain`]: the pure workflow rules (state machine, validation, policy);
//! - [`tlog`]: the pure Merkle tree, checkpoint and signed-note formats of the
//!   transparency log over the audit chain.
//!
//! [`server`] puts them together over a [`data_dir`], the data folder that one process
//! at a time locks; `takedownd` and the tests both start it. [`cli`] is
//! `takedownctl`, a client of the generated [`pb`] services. [`notary`] signs the
//! log's checkpoints and issues receipts.

pub mod pb {
    //! The generated protobuf messages and gRPC services of `takedown.v1`.
    #![allow(clippy::all)]
    tonic::include_proto!("takedown.v1");

    /// The encoded descriptor set of every `takedown.v1` file, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("takedown_descriptor");
}

pub mod api;
pub mod cli;
pub mod clock;
pub mod data_dir;
pub mod domain;
pub mod grpc_code;
pub mod journal;
pub mod listener;
pub mod notary;
pub mod notify;
pub mod pdata;
pub mod replica;
pub mod server;
pub mod store;
pub mod telemetry;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod tlog;
pub mod web;
pub mod writer;
