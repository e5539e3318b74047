//! A server running in this process for tests: a temp data folder, a manual clock
//! starting at [`start_time`](super::start_time), 127.0.0.1:0, and gRPC clients that
//! send a bearer token.

use std::sync::Arc;

use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Request, Status};

use super::start_time;
use crate::clock::{Clock, ManualClock};
use crate::pb::{
    self, Role, admin_service_client::AdminServiceClient, audit_service_client::AuditServiceClient,
    claim_service_client::ClaimServiceClient, publisher_service_client::PublisherServiceClient,
    review_service_client::ReviewServiceClient,
};
use crate::server::{Config, RunningServer};

/// Adds `authorization: Bearer <token>` to every request.
#[derive(Clone)]
pub struct Bearer(pub Option<MetadataValue<tonic::metadata::Ascii>>);

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(v) = &self.0 {
            request.metadata_mut().insert("authorization", v.clone());
        }
        Ok(request)
    }
}

/// A channel whose requests carry a bearer token (or none).
pub type Authed = InterceptedService<Channel, Bearer>;

/// `channel` with `authorization: Bearer <token>` on every request, for clients of any
/// server (in this process or a `takedownd` child).
pub fn authed(channel: &Channel, token: &str) -> Authed {
    let value = format!("Bearer {token}").parse().expect("ascii token");
    InterceptedService::new(channel.clone(), Bearer(Some(value)))
}

/// Creates a principal with `roles` as the admin whose token is `admin_token`; returns
/// (id, token).
pub async fn create_principal(
    channel: &Channel,
    admin_token: &str,
    name: &str,
    roles: &[Role],
) -> (String, String) {
    let r = AdminServiceClient::new(authed(channel, admin_token))
        .create_principal(pb::CreatePrincipalRequest {
            display_name: name.to_string(),
            roles: roles.iter().map(|r| *r as i32).collect(),
            ..Default::default()
        })
        .await
        .expect("create principal")
        .into_inner();
    (r.principal.expect("principal").id, r.token)
}

/// A server in this process, its temp data folder, and its clock.
pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub server: Option<RunningServer>,
    pub clock: Arc<ManualClock>,
    pub admin_token: String,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// A server whose config `configure` changes first (limits, TLS, ...). A restart
    /// goes back to the plain test config.
    pub async fn start_with(configure: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::new(start_time()));
        let mut config = Self::config(dir.path(), clock.clone());
        configure(&mut config);
        let server = RunningServer::start(config).await.expect("server starts");
        let admin_token = server.admin_token.clone();
        TestServer {
            dir,
            server: Some(server),
            clock,
            admin_token,
        }
    }

    pub fn config(dir: &std::path::Path, clock: Arc<ManualClock>) -> Config {
        let mut config = Config::new(dir);
        config.cache_capacity = 8 * 1024 * 1024;
        config.clock = clock as Arc<dyn Clock>;
        config
    }

    /// Stops the server (draining the writer) and starts a new one on the same folder.
    pub async fn restart(&mut self) {
        self.restart_with(|_| {}).await;
    }

    /// Stops the server, lets `between` do something to the data folder (delete sled,
    /// ...), and starts a new server on it.
    pub async fn restart_with(&mut self, between: impl FnOnce(&std::path::Path)) {
        if let Some(s) = self.server.take() {
            s.stop().await.expect("server stops cleanly");
        }
        between(self.dir.path());
        let server = RunningServer::start(Self::config(self.dir.path(), self.clock.clone()))
            .await
            .expect("server restarts");
        assert_eq!(server.admin_token, self.admin_token, "admin token survives");
        self.server = Some(server);
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await.expect("server stops cleanly");
        }
    }

    pub async fn channel(&self) -> Channel {
        let url = self.server.as_ref().expect("running").url();
        Channel::from_shared(url)
            .expect("url")
            .connect()
            .await
            .expect("connect")
    }

    async fn authed(&self, token: Option<&str>) -> Authed {
        let value = token.map(|t| format!("Bearer {t}").parse().expect("ascii token"));
        InterceptedService::new(self.channel().await, Bearer(value))
    }

    pub async fn claims(&self, token: &str) -> ClaimServiceClient<Authed> {
        ClaimServiceClient::new(self.authed(Some(token)).await)
    }

    pub async fn review(&self, token: &str) -> ReviewServiceClient<Authed> {
        ReviewServiceClient::new(self.authed(Some(token)).await)
    }

    pub async fn publisher(&self, token: &str) -> PublisherServiceClient<Authed> {
        PublisherServiceClient::new(self.authed(Some(token)).await)
    }

    pub async fn admin(&self, token: &str) -> AdminServiceClient<Authed> {
        AdminServiceClient::new(self.authed(Some(token)).await)
    }

    pub async fn audit(&self, token: &str) -> AuditServiceClient<Authed> {
        AuditServiceClient::new(self.authed(Some(token)).await)
    }

    /// A client with no token at all.
    pub async fn anonymous_claims(&self) -> ClaimServiceClient<Authed> {
        ClaimServiceClient::new(self.authed(None).await)
    }

    /// Creates a principal with `roles`; returns (id, token).
    pub async fn principal(&self, name: &str, roles: &[Role]) -> (String, String) {
        create_principal(&self.channel().await, &self.admin_token, name, roles).await
    }
}

/// The cast of a typical lifecycle.
pub struct Desk {
    pub claimant: String,
    pub claimant_id: String,
    pub other_claimant: String,
    pub other_claimant_id: String,
    pub reviewer: String,
    pub reviewer_id: String,
    pub publisher: String,
    pub auditor: String,
}

impl Desk {
    pub async fn new(s: &TestServer) -> Desk {
        let (claimant_id, claimant) = s
            .principal("Legal Daily rights desk", &[Role::Claimant])
            .await;
        let (other_claimant_id, other_claimant) =
            s.principal("Another agency", &[Role::Claimant]).await;
        let (reviewer_id, reviewer) = s.principal("Compliance desk", &[Role::Reviewer]).await;
        let (_, publisher) = s.principal("CMS", &[Role::Publisher]).await;
        let (_, auditor) = s.principal("Auditor", &[Role::Auditor]).await;
        Desk {
            claimant,
            claimant_id,
            other_claimant,
            other_claimant_id,
            reviewer,
            reviewer_id,
            publisher,
            auditor,
        }
    }
}
