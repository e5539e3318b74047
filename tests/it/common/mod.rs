//! What the integration tests share beyond the crate's test kit (`takedown::testkit`,
//! re-exported here: the fixtures, the in-process server, authed clients): the
//! workflow as steps ([`flow`]), the `takedownd` binary as a child process
//! ([`daemon`]) and throwaway TLS certificates ([`certs`]).

pub mod certs;
pub mod daemon;
pub mod flow;

pub use takedown::testkit::{
    Authed, Bearer, Desk, TestServer, authed, create_principal, fixtures, start_time,
};
use tonic::Status;

/// The gRPC code of a failed call.
pub fn code<T: std::fmt::Debug>(r: Result<T, Status>) -> tonic::Code {
    r.expect_err("call should fail").code()
}
