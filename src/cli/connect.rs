//! Where the server is and how to prove who we are: the address (or the nodes of a
//! replicated pair, of which the leader is preferred), the bearer token (flag,
//! environment or file) and TLS, turned into clients of every service.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Request, Status};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use super::CliError;
use crate::pb::{
    admin_service_client::AdminServiceClient, audit_service_client::AuditServiceClient,
    claim_service_client::ClaimServiceClient, publisher_service_client::PublisherServiceClient,
    review_service_client::ReviewServiceClient,
};

/// Largest response accepted: a page of 500 claims fits many times over.
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// The health entry that only the leader of a replicated pair reports SERVING: a
/// standby refuses writes there.
const LEADER_HEALTH: &str = "takedown.v1.ClaimService";

/// How long the health question to each node of a list may take.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

// The connection flags, shared by every subcommand. (Plain comments here: a doc
// comment would become the CLI's description.) The client's TLS variables are
// `TAKEDOWNCTL_TLS_*`, not `TAKEDOWN_TLS_*`, so that a shell that also runs
// `takedownd` never presents the server's own certificate as a client certificate.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Connection")]
pub struct Connection {
    /// The server: http://host:port for plaintext, https://host:port for TLS. For a
    /// replicated pair, the nodes separated by commas: the leader among those that
    /// answer is used (else the first that answers, for reads), and a write refused by
    /// a standby is sent again to the leader it names.
    #[arg(
        long,
        env = "TAKEDOWN_ADDR",
        default_value = "http://127.0.0.1:50051",
        global = true
    )]
    pub addr: String,
    /// Bearer token. Prefer TAKEDOWN_TOKEN or --token-file: flags show up in `ps`.
    #[arg(long, env = "TAKEDOWN_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// File holding the bearer token, such as takedown-data/admin.token. A flag on
    /// the command line beats the environment; TAKEDOWN_TOKEN beats this variable.
    #[arg(long, env = "TAKEDOWN_TOKEN_FILE", global = true)]
    pub token_file: Option<PathBuf>,
    /// PEM file of the CA that signed the server's certificate (turns TLS on);
    /// without it, https:// trusts the system's root certificates.
    #[arg(long, env = "TAKEDOWNCTL_TLS_CA", global = true)]
    pub tls_ca: Option<PathBuf>,
    /// PEM client certificate, for servers that require mTLS (with --tls-key).
    #[arg(
        long,
        env = "TAKEDOWNCTL_TLS_CERT",
        requires = "tls_key",
        global = true
    )]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(
        long,
        env = "TAKEDOWNCTL_TLS_KEY",
        requires = "tls_cert",
        global = true
    )]
    pub tls_key: Option<PathBuf>,
    /// The name to expect in the server's certificate, if not the host of --addr.
    #[arg(long, env = "TAKEDOWNCTL_TLS_DOMAIN", global = true)]
    pub tls_domain: Option<String>,
    /// Seconds to wait for the connection.
    #[arg(
        long,
        env = "TAKEDOWN_CONNECT_TIMEOUT_SECS",
        default_value_t = 5,
        global = true
    )]
    pub connect_timeout_secs: u64,
}

/// Adds `authorization: Bearer <token>` to every request.
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(v) = &self.0 {
            request.metadata_mut().insert("authorization", v.clone());
        }
        Ok(request)
    }
}

pub type Authed = InterceptedService<Channel, Bearer>;

/// A connected channel and the token: hands out a client per service.
pub struct Clients {
    channel: Channel,
    bearer: Bearer,
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, CliError> {
    std::fs::read(path)
        .map_err(|e| CliError::Usage(format!("cannot read the {what} {}: {e}", path.display())))
}

impl Connection {
    /// The token, from (first found) --token, --token-file, TAKEDOWN_TOKEN,
    /// TAKEDOWN_TOKEN_FILE: a flag on the command line beats the environment.
    fn token(&self) -> Result<Option<String>, CliError> {
        let on_command_line =
            |flag: &str| std::env::args().any(|a| a == flag || a.starts_with(&format!("{flag}=")));
        let file_first = on_command_line("--token-file") && !on_command_line("--token");
        let token = self
            .token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let file_first = file_first || token.is_none();
        if let Some(path) = self.token_file.as_ref().filter(|_| file_first) {
            let bytes = read(path, "token file")?;
            let token = String::from_utf8(bytes).map_err(|_| {
                CliError::Usage(format!("the token file {} is not text", path.display()))
            })?;
            return Ok(Some(token.trim().to_string()));
        }
        Ok(token.map(str::to_string))
    }

    fn tls(&self) -> Result<Option<ClientTlsConfig>, CliError> {
        let wanted = self
            .addr
            .split(',')
            .any(|a| a.trim().starts_with("https://"))
            || self.tls_ca.is_some()
            || self.tls_cert.is_some()
            || self.tls_domain.is_some();
        if !wanted {
            return Ok(None);
        }
        let tls = ClientTlsConfig::new();
        // Without a CA of its own, the server's certificate must chain to one of the
        // system's roots (the platform's store, or SSL_CERT_FILE / SSL_CERT_DIR).
        let mut tls = match &self.tls_ca {
            Some(ca) => tls.ca_certificate(Certificate::from_pem(read(ca, "CA file")?)),
            None => tls.with_native_roots(),
        };
        if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            tls = tls.identity(Identity::from_pem(
                read(cert, "client certificate")?,
                read(key, "client key")?,
            ));
        }
        if let Some(domain) = &self.tls_domain {
            tls = tls.domain_name(domain.clone());
        }
        Ok(Some(tls))
    }

    /// Connects (TLS if asked) and checks the token's form; the server checks the rest.
    pub async fn connect(&self) -> Result<Clients, CliError> {
        let token = self.token()?;
        let bearer = match token {
            Some(t) => Some(
                format!("Bearer {t}")
                    .parse::<MetadataValue<Ascii>>()
                    .map_err(|_| {
                        CliError::Usage("the token has characters a header cannot carry".into())
                    })?,
            ),
            None => None,
        };
        let bearer = Bearer(bearer);
        let addrs: Vec<&str> = self
            .addr
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .collect();
        let [addr] = addrs.as_slice() else {
            return self.connect_to_leader(&addrs, bearer).await;
        };
        Ok(Clients {
            channel: self.channel(addr).await?,
            bearer,
        })
    }

    /// Of several nodes, the one whose health says it leads; if none does (reads
    /// work on a standby), the first that answers. Nodes that cannot be reached are
    /// skipped; if none can, the error names each.
    async fn connect_to_leader(&self, addrs: &[&str], bearer: Bearer) -> Result<Clients, CliError> {
        if addrs.is_empty() {
            return Err(CliError::Usage(
                "--addr is empty; give the server as http://host:port, or the nodes of a \
                 replicated pair separated by commas"
                    .into(),
            ));
        }
        let mut first_reachable = None;
        let mut unreachable = Vec::new();
        for addr in addrs {
            let channel = match self.channel(addr).await {
                Ok(c) => c,
                Err(CliError::Connect(message)) => {
                    unreachable.push(message);
                    continue;
                }
                Err(e) => return Err(e),
            };
            if leads(&channel).await {
                return Ok(Clients { channel, bearer });
            }
            first_reachable.get_or_insert(channel);
        }
        match first_reachable {
            Some(channel) => Ok(Clients { channel, bearer }),
            None => Err(CliError::Connect(format!(
                "none of the {} servers of --addr could be reached: {}",
                addrs.len(),
                unreachable.join("; ")
            ))),
        }
    }

    /// A channel to one address (http:// added if it has no scheme, https:// with
    /// --tls-ca).
    async fn channel(&self, addr: &str) -> Result<Channel, CliError> {
        let mut addr = addr.to_string();
        if !addr.contains("://") {
            let scheme = if self.tls_ca.is_some() {
                "https"
            } else {
                "http"
            };
            addr = format!("{scheme}://{addr}");
        }
        let mut endpoint = Endpoint::from_shared(addr.clone())
            .map_err(|e| CliError::Usage(format!("--addr {addr} is not a URL: {e}")))?
            .connect_timeout(Duration::from_secs(self.connect_timeout_secs))
            .tcp_nodelay(true);
        if let Some(tls) = self.tls()? {
            endpoint = endpoint.tls_config(tls).map_err(|e| {
                CliError::Usage(format!(
                    "TLS settings: {e}; check --tls-ca (without it, the system's root \
                         certificates are used), --tls-cert and --tls-key"
                ))
            })?;
        }
        endpoint.connect().await.map_err(|e| {
            let mut message = format!("cannot reach {addr}: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                let text = s.to_string();
                if !message.contains(&text) {
                    message.push_str(&format!(": {text}"));
                }
                source = s.source();
            }
            CliError::Connect(message)
        })
    }
}

/// True if the node behind `channel` says it takes writes: its ClaimService health
/// entry is SERVING (a standby's is NOT_SERVING). A node that does not answer in time
/// is not taken for the leader.
async fn leads(channel: &Channel) -> bool {
    let mut health = HealthClient::new(channel.clone());
    let check = health.check(HealthCheckRequest {
        service: LEADER_HEALTH.to_string(),
    });
    matches!(
        tokio::time::timeout(HEALTH_TIMEOUT, check).await,
        Ok(Ok(r)) if r.get_ref().status == ServingStatus::Serving as i32
    )
}

impl Clients {
    fn authed(&self) -> Authed {
        InterceptedService::new(self.channel.clone(), self.bearer.clone())
    }

    pub fn claims(&self) -> ClaimServiceClient<Authed> {
        ClaimServiceClient::new(self.authed()).max_decoding_message_size(MAX_RESPONSE_BYTES)
    }

    pub fn review(&self) -> ReviewServiceClient<Authed> {
        ReviewServiceClient::new(self.authed()).max_decoding_message_size(MAX_RESPONSE_BYTES)
    }

    pub fn publisher(&self) -> PublisherServiceClient<Authed> {
        PublisherServiceClient::new(self.authed()).max_decoding_message_size(MAX_RESPONSE_BYTES)
    }

    pub fn audit(&self) -> AuditServiceClient<Authed> {
        AuditServiceClient::new(self.authed()).max_decoding_message_size(MAX_RESPONSE_BYTES)
    }

    pub fn admin(&self) -> AdminServiceClient<Authed> {
        AdminServiceClient::new(self.authed()).max_decoding_message_size(MAX_RESPONSE_BYTES)
    }
}
