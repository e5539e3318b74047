//! What the integration tests share beyond the crate's test kit (`takedown::testkit`,
//! re-exported here: the fixtures, the in-process server, authed clients): the
//! workflow as steps ([`flow`]), the `takedownd` binary as a child process
//! ([`daemon`]) and throwaway TLS certificates ([`certs`]).

pub mod certs;
pub mod daemon;
pub mod flow;

use takedown::pb;
pub use takedown::testkit::{
    Authed, Bearer, Desk, TestServer, authed, create_principal, fixtures, start_time,
};
use tonic::Status;

/// Records a warning for a principal (AdminService.WarnParty): a suspension needs one
/// first (DSA Art. 23(1)).
pub async fn warn_principal(s: &TestServer, principal_id: &str) {
    s.admin(&s.admin_token)
        .await
        .warn_party(pb::WarnPartyRequest {
            party: Some(pb::PartyKey {
                key: Some(pb::party_key::Key::PrincipalId(principal_id.to_string())),
            }),
            reason: "3 manifestly unfounded notices this month".to_string(),
        })
        .await
        .expect("warn principal");
}

/// The gRPC code of a failed call.
pub fn code<T: std::fmt::Debug>(r: Result<T, Status>) -> tonic::Code {
    r.expect_err("call should fail").code()
}
