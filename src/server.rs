//! The in-process server: open the data folder (recovering it), start the writer,
//! create the first admin on an empty store, and serve gRPC (and, on the same listener,
//! the HTTP/JSON API and the pages of `web`) until told to stop. The binary and the
//! tests use the same entry points.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;

use crate::api::{Context, Services, auth, health, limits, telemetry, wire};
use crate::clock::{Clock, SystemClock};
pub use crate::data_dir::admin_token_path;
use crate::data_dir::{DataDir, DataDirError};
use crate::domain::Policy;
use crate::journal::JournalOptions;
use crate::listener::{ActivityLayer, ConnectionLimits};
use crate::pb::{self, Role};
use crate::store::Store;
use crate::writer::commands::CreatePrincipal;
use crate::writer::sweeper::Sweeper;
use crate::writer::{self, Writer};

/// Everything the server needs to run.
#[derive(Clone)]
pub struct Config {
    /// The data folder: `journal/`, `sled/` and `admin.token`.
    pub data_dir: PathBuf,
    /// sled's page cache, in bytes (sled uses several times this in memory).
    pub cache_capacity: u64,
    /// Size at which a journal segment is closed and a new one started.
    pub segment_max_bytes: u64,
    /// Largest request message accepted, in bytes.
    pub max_request_bytes: usize,
    pub policy: Policy,
    pub clock: Arc<dyn Clock>,
    /// How often the deadline sweeper looks for due timed transitions.
    pub sweep_interval: std::time::Duration,
    /// How often the newest journal segment is verified while serving; zero turns
    /// the check off.
    pub verify_interval: std::time::Duration,
    /// On shutdown, how long in-flight requests may take to finish before their
    /// connections are abandoned.
    pub shutdown_grace: std::time::Duration,
    /// Abuse limits: request deadline, concurrency, FileClaim rate.
    pub limits: crate::api::limits::Limits,
    /// How many connections stay open, and for how long.
    pub connections: ConnectionLimits,
    /// Serve TLS (and require client certificates) instead of plaintext.
    pub tls: Option<crate::listener::TlsFiles>,
    /// How notifications are delivered.
    pub notify: crate::notify::NotifyConfig,
    /// The master key of personal data (`--data-key-file`); `data.key` in the data
    /// folder's `pdata/` when unset, made at first start.
    pub data_key_file: Option<PathBuf>,
    /// Where statements of reasons are submitted (DSA Art. 24(5)); none: not at all.
    pub dsa_tdb: Option<crate::notify::dsa_tdb::DsaTdbConfig>,
    /// The web door: the JSON API's CORS origins (the pages' links use
    /// `notify.public_base_url`).
    pub web: crate::web::WebConfig,
    /// The Ed25519 key that signs the audit log's checkpoints; none: the data
    /// folder's own `log-signing.key`, made at first start.
    pub log_signing_key: Option<PathBuf>,
    /// The log's origin line in its checkpoints (and the key's name); none: the host
    /// name plus `/takedown`.
    pub log_origin: Option<String>,
    /// Replicate the journal through NATS JetStream (`docs/architecture.md`,
    /// "Replication"); none: a single node, as by default.
    pub replica: Option<crate::replica::ReplicaConfig>,
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            cache_capacity: 64 * 1024 * 1024,
            segment_max_bytes: JournalOptions::default().segment_max_bytes,
            max_request_bytes: 256 * 1024,
            policy: Policy::default(),
            sweep_interval: std::time::Duration::from_secs(1),
            verify_interval: std::time::Duration::from_secs(300),
            shutdown_grace: std::time::Duration::from_secs(10),
            limits: crate::api::limits::Limits::default(),
            connections: ConnectionLimits::default(),
            tls: None,
            notify: crate::notify::NotifyConfig::default(),
            data_key_file: None,
            dsa_tdb: None,
            web: crate::web::WebConfig::default(),
            log_signing_key: None,
            log_origin: None,
            replica: None,
            clock: Arc::new(SystemClock),
        }
    }

    pub fn journal_options(&self) -> JournalOptions {
        JournalOptions {
            segment_max_bytes: self.segment_max_bytes,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Recovery(#[from] writer::RecoveryError),
    #[error("could not write the admin token to {path}: {source}")]
    AdminToken {
        path: String,
        source: std::io::Error,
    },
    #[error("could not create the first admin principal: {0}")]
    Bootstrap(String),
    #[error("the notification settings cannot be used: {0}")]
    Notify(String),
    #[error("could not create a new admin principal: {0}; admin.token is unchanged")]
    AdminPrincipal(String),
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error(transparent)]
    Tls(#[from] crate::listener::TlsFileError),
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    #[error(transparent)]
    PageTokenKey(#[from] crate::api::PageKeyError),
    #[error(transparent)]
    Web(#[from] crate::web::WebError),
    #[error(transparent)]
    Notary(#[from] crate::notary::NotaryError),
    #[error("replication: {0}")]
    Replica(#[from] crate::replica::ReplicaError),
}

/// Server reflection over our services, health and reflection itself, so that
/// `grpcurl list` shows everything this server answers, and grpcurl can decode the
/// `google.rpc` error details.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
}

/// A data folder opened and recovered, with its writer running and a first admin in
/// place: ready to serve.
pub struct Server {
    config: Config,
    /// Holds the data folder's lock until the server has stopped.
    data_dir: DataDir,
    store: crate::store::Store,
    writer: Writer,
    handle: writer::WriterHandle,
    page_tokens: crate::api::PageTokens,
    transports: crate::notify::Transports,
    notary: Arc<crate::notary::Notary>,
    /// The NATS link and, if this node took the lease at start, its revision.
    replica: Option<(Arc<crate::replica::Link>, Option<u64>)>,
}

impl Server {
    /// Opens the data folder: its lock (refused while another process holds it),
    /// recovery (journal check, torn tail cut, replay into sled), the writer, and the
    /// first admin on an empty store.
    pub async fn open(config: Config) -> Result<Server, ServerError> {
        // Bad notification settings stop the start before anything is opened.
        let transports = crate::notify::Transports::new(config.notify.clone())
            .map_err(|e| ServerError::Notify(e.to_string()))?;
        let data_dir = DataDir::open(&config.data_dir)?;
        let vault = crate::pdata::open_vault(data_dir.path(), config.data_key_file.as_deref())
            .map_err(|e| ServerError::Bootstrap(e.to_string()))?;
        let (state, replica) = match &config.replica {
            None => (
                writer::open_state(
                    &data_dir,
                    config.cache_capacity,
                    config.journal_options(),
                    &vault,
                )?,
                None,
            ),
            Some(replica) => {
                if config.data_key_file.is_none() {
                    return Err(ServerError::Bootstrap(
                        "replication needs --data-key-file: every node seals personal data \
                         with the same data key, so that any node can read it and take over; \
                         make one (umask 077; openssl rand -hex 32 > data.key) and give every \
                         node a copy"
                            .into(),
                    ));
                }
                let advertise = replica.advertise.clone().ok_or_else(|| {
                    ServerError::Bootstrap("replication needs an --advertise-addr".into())
                })?;
                let link = crate::replica::Link::connect(replica.clone(), advertise).await?;
                let prepared = crate::replica::start::prepare(
                    &link,
                    &data_dir,
                    config.cache_capacity,
                    config.journal_options(),
                    &vault,
                )
                .await?;
                (prepared.state, Some((link, prepared.lease)))
            }
        };
        let store = state.store.clone();
        let page_tokens = crate::api::PageTokens::open(&config.data_dir)?;
        let origin = config
            .log_origin
            .clone()
            .unwrap_or_else(crate::notary::default_origin);
        let notary = Arc::new(crate::notary::Notary::open(
            store.clone(),
            &config.data_dir,
            config.log_signing_key.as_deref(),
            &origin,
        )?);
        crate::telemetry::seed_gauges(&store, state.journal.size_bytes());
        let (writer, handle) = Writer::start(
            state,
            config.clock.clone(),
            config.policy.clone(),
            crate::domain::notifications::Channels {
                dsa_tdb: config.dsa_tdb.is_some(),
                ..config.notify.channels()
            },
            vault.clone(),
            replica
                .as_ref()
                .map(|(link, _)| link.clone() as Arc<dyn writer::Replicator>),
        );
        let replicated = replica.is_some();
        let server = Server {
            config,
            data_dir,
            store,
            writer,
            handle,
            page_tokens,
            transports,
            notary,
            replica,
        };
        // A replicating node makes the first admin when it first leads (`serve`).
        if !replicated {
            bootstrap_admin(&server.store, &server.data_dir, &server.handle).await?;
        }
        Ok(server)
    }
}

/// On an empty store, creates the first admin. The token file is written first: if
/// the process dies before the principal is journaled, the next start finds no
/// principal and writes a new token.
async fn bootstrap_admin(
    store: &Store,
    data_dir: &DataDir,
    handle: &writer::WriterHandle,
) -> Result<(), ServerError> {
    if store
        .has_principals()
        .map_err(|e| ServerError::Bootstrap(e.to_string()))?
    {
        return Ok(());
    }
    let token = auth::new_token();
    data_dir
        .write_admin_token(&token)
        .map_err(|source| ServerError::AdminToken {
            path: data_dir.admin_token().display().to_string(),
            source,
        })?;
    create_admin(handle, "admin", &token)
        .await
        .map_err(|e| ServerError::Bootstrap(e.to_string()))?;
    tracing::info!(
        path = %data_dir.admin_token().display(),
        "created the first admin principal; its token is in this file"
    );
    Ok(())
}

impl Server {
    /// `takedownd admin-token`: recovers admin access when no admin token works. With
    /// the data folder locked (so only while no server runs), creates a new admin
    /// principal, journaled and audited as created by `system`, and writes its token
    /// into `admin.token`; returns that file's path.
    ///
    /// Unlike the first start, the principal is journaled before the token file is
    /// replaced: if anything fails, `admin.token` still holds what it held, and a
    /// principal whose token nobody has is harmless.
    pub async fn mint_admin_token(config: &Config) -> Result<PathBuf, ServerError> {
        let data_dir = DataDir::open(&config.data_dir)?;
        if data_dir.path().join(crate::replica::start::MARKER).exists() {
            // A principal journaled here alone would not be in the stream.
            return Err(ServerError::Bootstrap(
                "this data folder replicates through NATS: an entry written here offline would \
                 not be in the stream; create the admin through AdminService.CreatePrincipal \
                 on the leader, with the token in the admin.token of the node that first led"
                    .into(),
            ));
        }
        let vault = crate::pdata::open_vault(data_dir.path(), config.data_key_file.as_deref())
            .map_err(|e| ServerError::Bootstrap(e.to_string()))?;
        let state = writer::open_state(
            &data_dir,
            config.cache_capacity,
            config.journal_options(),
            &vault,
        )?;
        let (writer, handle) = Writer::start(
            state,
            config.clock.clone(),
            config.policy.clone(),
            crate::domain::notifications::Channels {
                dsa_tdb: config.dsa_tdb.is_some(),
                ..config.notify.channels()
            },
            vault.clone(),
            None,
        );
        let token = auth::new_token();
        let created = create_admin(&handle, "admin (takedownd admin-token)", &token).await;
        drop(handle);
        let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        created.map_err(|e| ServerError::AdminPrincipal(e.to_string()))?;
        let path = data_dir.admin_token();
        data_dir
            .write_admin_token(&token)
            .map_err(|source| ServerError::AdminToken {
                path: path.display().to_string(),
                source,
            })?;
        tracing::info!(path = %path.display(), "created a new admin principal; its token is in this file");
        Ok(path)
    }

    /// A sweeper over this server's store and writer (for tests that move the clock).
    pub fn sweeper(&self) -> Sweeper {
        Sweeper::new(
            self.store.clone(),
            self.handle.clone(),
            self.config.clock.clone(),
            self.config.policy.personal_data_retention,
        )
    }

    /// Serves gRPC on `listener` until `shutdown` completes, then drains the writer.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), ServerError> {
        let Server {
            config,
            data_dir,
            store,
            writer,
            handle,
            page_tokens,
            transports,
            notary,
            replica,
        } = self;
        let (stop_sweeper, sweeper_stopped) = tokio::sync::oneshot::channel();
        let (stop_notify, notify_stopped) = tokio::sync::oneshot::channel();
        let notifier = tokio::spawn(
            crate::notify::Worker::new(
                store.clone(),
                handle.clone(),
                config.clock.clone(),
                transports,
                notary.clone(),
            )
            .run(notify_stopped),
        );
        let (stop_submitter, submitter_stopped) = tokio::sync::oneshot::channel();
        let submitter = match config.dsa_tdb.clone() {
            Some(tdb) => {
                let submitter = crate::notify::dsa_tdb::Submitter::new(
                    store.clone(),
                    handle.clone(),
                    config.clock.clone(),
                    data_dir.journal(),
                    tdb,
                );
                Some(tokio::spawn(submitter.run(submitter_stopped)))
            }
            None => None,
        };
        let sweeper = tokio::spawn(
            Sweeper::new(
                store.clone(),
                handle.clone(),
                config.clock.clone(),
                config.policy.personal_data_retention,
            )
            .run(config.sweep_interval, sweeper_stopped),
        );
        // Long-lived streams (WatchEvents) end when shutdown starts, so that the
        // graceful shutdown does not wait for them forever.
        let (streams_stop, streams_stopped) = tokio::sync::watch::channel(false);
        let health_reporter = tonic_health::server::HealthReporter::new();
        let role = replica.as_ref().map(|(link, _)| link.watch_role());
        set_health(&health_reporter, ServingStatus::Serving, role.as_ref()).await;
        // Replication: the controller takes, renews and gives up the lease and follows
        // the stream; the role sets ClaimService's health, and a node that leads an
        // empty store makes the first admin.
        let data_dir = Arc::new(data_dir);
        let (stop_replica, replica_stopped) = tokio::sync::watch::channel(false);
        let replication = replica.map(|(link, lease)| {
            let controller = tokio::spawn(
                crate::replica::Controller::new(link.clone(), handle.clone(), lease)
                    .run(replica_stopped),
            );
            let roles = tokio::spawn(follow_role(
                link.watch_role(),
                health_reporter.clone(),
                store.clone(),
                data_dir.clone(),
                handle.clone(),
            ));
            (controller, roles)
        });
        // Damage in the journal's older segments (checked once, after recovery read
        // the newest) or under the running server turns health NOT_SERVING.
        let damaged = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let patrol = tokio::spawn({
            let (reporter, durable) = (health_reporter.clone(), handle.watch_durable());
            let dir = data_dir.journal();
            let head = *durable.borrow();
            let checked = crate::journal::check_at_start(dir.clone(), head);
            let patrolling = crate::journal::patrol(dir, config.verify_interval, durable);
            let damaged = damaged.clone();
            async move {
                if checked.await.is_some() || patrolling.await.is_some() {
                    damaged.store(true, std::sync::atomic::Ordering::SeqCst);
                    set_health(&reporter, ServingStatus::NotServing, None).await;
                }
            }
        });
        // A stalled writer (a full disk) turns it NOT_SERVING until the writer resumes.
        let stall_watch = tokio::spawn(follow_stall(
            health_reporter.clone(),
            handle.watch_stall(),
            damaged,
            role.clone(),
        ));
        let stall_watch_abort = stall_watch.abort_handle();
        // sled may answer a read with an I/O error before any write meets it (a full
        // disk): wake the writer, so that it stalls on it and reopens sled.
        let nudger = tokio::spawn({
            let (mut faults, handle) = (store.faults(), handle.clone());
            async move {
                while faults.changed().await.is_ok() {
                    if *faults.borrow_and_update() && !handle.is_stalled() {
                        let _ = handle.submit(writer::commands::Nudge).await;
                    }
                }
            }
        });
        let health = health::service(health_reporter.clone(), streams_stopped.clone());
        // Shutdown, in order: health says NOT_SERVING (load balancers stop sending),
        // streams (WatchEvents, health Watch) end, tonic stops accepting (the listen socket closes) and lets
        // in-flight requests finish; `shutdown_grace` bounds that wait below.
        let (draining, drain_started) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            shutdown.await;
            stall_watch_abort.abort();
            set_health(&health_reporter, ServingStatus::NotServing, None).await;
            tracing::info!(
                "health is NOT_SERVING; no new connections, finishing in-flight requests"
            );
            let _ = streams_stop.send(true);
            let _ = draining.send(());
        };
        let cx = Context {
            store: store.clone(),
            clock: config.clock.clone(),
            shutdown: streams_stopped,
            writer: handle,
            journal_dir: writer::journal_dir(&config.data_dir),
            page_tokens,
            policy: Arc::new(config.policy.clone()),
            notary: notary.clone(),
        };
        let services = Services::new(cx, config.max_request_bytes);
        let reflection_v1 = reflection()
            .build_v1()
            .map_err(|e| ServerError::Bootstrap(format!("reflection: {e}")))?;
        let reflection_v1alpha = reflection()
            .build_v1alpha()
            .map_err(|e| ServerError::Bootstrap(format!("reflection: {e}")))?;

        let web = crate::web::WebLayer::new(
            &crate::web::WebConfig {
                public_base_url: config.notify.public_base_url.clone(),
                ..config.web.clone()
            },
            config.max_request_bytes,
        )?;
        let addr = listener
            .local_addr()
            .map_err(|e| ServerError::Bootstrap(format!("the listen socket: {e}")))?;
        tracing::info!(
            "listening on {addr} with {}",
            crate::listener::tls::describe(config.tls.as_ref())
        );
        // Without TCP_NODELAY a small unary answer waits for the peer's delayed ACK (~40 ms).
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let incoming = crate::listener::admit(incoming, config.connections.clone());
        // HTTP/1.1 too: browsers and curl reach the web door over either.
        let mut builder = tonic::transport::Server::builder()
            .accept_http1(true)
            .http2_keepalive_interval(config.connections.keepalive)
            .http2_keepalive_timeout(config.connections.keepalive_timeout());
        if let Some(tls) = &config.tls {
            builder = builder.tls_config(tls.server_config()?)?;
        }
        let serving = builder
            .layer(ActivityLayer)
            // Every request that is not gRPC: the JSON API (transcoded into gRPC calls
            // that go through every layer below) and the pages.
            .layer(web)
            .layer(telemetry::TelemetryLayer)
            .layer(wire::WireErrorLayer::new(config.max_request_bytes))
            .layer(limits::DeadlineLayer::new(config.limits.request_timeout))
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                config.limits.max_concurrent_requests,
            ))
            .layer(auth::AuthLayer::new(
                store,
                config.limits.public_intake.enabled,
            ))
            .layer(limits::FileClaimRateLayer::new(
                config.limits.file_claim,
                &config.limits.public_intake,
                config.clock.clone(),
            ))
            .layer(telemetry::CallerLayer)
            .add_service(health)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(services.claim)
            .add_service(services.review)
            .add_service(services.publisher)
            .add_service(services.admin)
            .add_service(services.audit)
            .serve_with_incoming_shutdown(incoming, shutdown);
        let grace = config.shutdown_grace;
        let mut abandoned = false;
        let result = tokio::select! {
            biased;
            result = serving => result,
            () = async move {
                match drain_started.await {
                    Ok(()) => tokio::time::sleep(grace).await,
                    Err(_) => std::future::pending().await,
                }
            } => {
                tracing::warn!(
                    grace_secs = grace.as_secs_f64(),
                    "requests still in flight after the shutdown grace period; abandoning them"
                );
                abandoned = true;
                Ok(())
            }
        };
        // Every writer handle went with the services and the sweeper: let the writer
        // drain and exit.
        let _ = stop_sweeper.send(());
        let _ = stop_notify.send(());
        let _ = sweeper.await;
        let _ = notifier.await;
        let _ = stop_submitter.send(());
        if let Some(submitter) = submitter {
            let _ = submitter.await;
        }
        // A leader gives its lease up now, so that a standby takes over at once.
        let _ = stop_replica.send(true);
        if let Some((controller, roles)) = replication {
            let _ = controller.await;
            roles.abort();
            let _ = roles.await;
        }
        patrol.abort();
        stall_watch.abort();
        // It holds a writer handle: gone before the writer is waited for.
        nudger.abort();
        let _ = nudger.await;
        // Abandoned connections still hold writer handles, so the writer cannot see
        // its queue close: give whatever it is committing a moment, no more.
        let writer_wait = if abandoned {
            std::time::Duration::from_secs(1).min(grace)
        } else {
            grace
        };
        wait_for_writer(writer, writer_wait, data_dir).await;
        result?;
        Ok(())
    }
}

/// Creates an admin principal whose token is `token`, as `system` does: journaled and
/// audited like any CreatePrincipal.
async fn create_admin(
    handle: &writer::WriterHandle,
    display_name: &str,
    token: &str,
) -> Result<(), writer::WriteError> {
    handle
        .submit(CreatePrincipal {
            display_name: display_name.to_string(),
            roles: vec![Role::Admin],
            trusted_flagger: false,
            token_sha256: auth::token_sha256(token),
            webhook: None,
            actor: "system".to_string(),
        })
        .await
        .map(|_| ())
}

/// The health entry that a standby reports NOT_SERVING: it refuses writes there.
const CLAIM_SERVICE: &str = "takedown.v1.ClaimService";

/// Sets every `takedown.v1` service, and the server as a whole (""), to `status`;
/// ClaimService stays NOT_SERVING on a standby (`role`).
async fn set_health(
    reporter: &tonic_health::server::HealthReporter,
    status: ServingStatus,
    role: Option<&tokio::sync::watch::Receiver<crate::replica::Role>>,
) {
    reporter.set_service_status("", status).await;
    let standby = role.is_some_and(|r| *r.borrow() == crate::replica::Role::Standby);
    for name in telemetry::service_names() {
        let status = if standby && name == CLAIM_SERVICE {
            ServingStatus::NotServing
        } else {
            status
        };
        reporter.set_service_status(name, status).await;
    }
}

/// Follows this node's replication role: ClaimService's health (SERVING only while
/// leading), and the first admin when this node first leads an empty store.
async fn follow_role(
    mut role: tokio::sync::watch::Receiver<crate::replica::Role>,
    reporter: tonic_health::server::HealthReporter,
    store: Store,
    data_dir: Arc<DataDir>,
    handle: writer::WriterHandle,
) {
    loop {
        let now = *role.borrow_and_update();
        let leading = now == crate::replica::Role::Leader;
        let status = if leading {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        tracing::info!(role = ?now, "{CLAIM_SERVICE} health is {status:?}");
        reporter.set_service_status(CLAIM_SERVICE, status).await;
        if leading && let Err(e) = bootstrap_admin(&store, &data_dir, &handle).await {
            tracing::error!(error = %e, "could not create the first admin principal");
        }
        if role.changed().await.is_err() {
            return;
        }
    }
}

/// Follows the writer's stall: NOT_SERVING (with the reason in the log) while it
/// refuses writes, SERVING again once it resumes, unless the patrol found damage.
async fn follow_stall(
    reporter: tonic_health::server::HealthReporter,
    mut stall: tokio::sync::watch::Receiver<Option<String>>,
    damaged: Arc<std::sync::atomic::AtomicBool>,
    role: Option<tokio::sync::watch::Receiver<crate::replica::Role>>,
) {
    while stall.changed().await.is_ok() {
        let reason = stall.borrow_and_update().clone();
        match reason {
            Some(reason) => {
                tracing::warn!(%reason, "health is NOT_SERVING: the writer refuses writes");
                set_health(&reporter, ServingStatus::NotServing, role.as_ref()).await;
            }
            None if !damaged.load(std::sync::atomic::Ordering::SeqCst) => {
                tracing::info!("health is SERVING again: the writer takes writes");
                set_health(&reporter, ServingStatus::Serving, role.as_ref()).await;
            }
            None => {}
        }
    }
}

/// Waits for the writer to drain its queue, sync and exit. Normally that is at once;
/// if abandoned connections still hold writer handles, it waits at most `limit`:
/// every acknowledged write is already in the synced journal, and the next start
/// replays it into sled. The data folder's lock is let go only once the writer has
/// exited: a writer left behind keeps it, so no other process can open the folder
/// while this one may still write (process exit releases it too).
async fn wait_for_writer(writer: Writer, limit: std::time::Duration, data_dir: Arc<DataDir>) {
    let deadline = tokio::time::Instant::now() + limit;
    while !writer.is_finished() {
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(
                "the writer is still busy after the grace period; exiting, the journal has every acknowledged write"
            );
            let _ = std::thread::Builder::new()
                .name("takedown-writer-wait".into())
                .spawn(move || {
                    writer.join();
                    drop(data_dir);
                });
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    writer.join();
    drop(data_dir);
    tracing::info!("writer drained and synced");
}

/// A server running in this process (for tests and benchmarks).
pub struct RunningServer {
    pub addr: SocketAddr,
    /// The first admin's token, read from `admin.token`.
    pub admin_token: String,
    sweeper: Option<Sweeper>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), ServerError>>,
}

impl RunningServer {
    /// Opens `config` (recovery and bootstrap happen before this returns), binds
    /// 127.0.0.1:0 and serves in the background.
    pub async fn start(config: Config) -> Result<Self, ServerError> {
        let token_path = admin_token_path(&config.data_dir);
        let server = Server::open(config).await?;
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| ServerError::Bootstrap(format!("bind: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ServerError::Bootstrap(format!("bind: {e}")))?;
        let admin_token = std::fs::read_to_string(&token_path)
            .map(|t| t.trim().to_string())
            .unwrap_or_default();
        let sweeper = Some(server.sweeper());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.serve(listener, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            addr,
            admin_token,
            sweeper,
            stop: Some(stop),
            task,
        })
    }

    /// `http://127.0.0.1:PORT`, for clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Fires every deadline due by the server's clock now, as the background sweeper
    /// would on its next round; returns how many fired.
    pub async fn sweep(&self) -> Result<usize, crate::writer::WriteError> {
        match &self.sweeper {
            Some(s) => s.sweep().await,
            None => Err(crate::writer::WriteError::Stopped),
        }
    }

    /// Runs the retention pass once now (for tests that move the clock).
    pub async fn expire_personal_data(&self) -> Result<usize, crate::writer::WriteError> {
        match &self.sweeper {
            Some(s) => s.expire_personal_data().await,
            None => Err(crate::writer::WriteError::Stopped),
        }
    }

    /// Stops serving, drains the writer and waits for the server to finish.
    pub async fn stop(mut self) -> Result<(), ServerError> {
        // The sweeper holds a writer handle: drop it so the writer can drain.
        self.sweeper = None;
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match (&mut self.task).await {
            Ok(r) => r,
            Err(e) => Err(ServerError::Bootstrap(format!("server task: {e}"))),
        }
    }
}
