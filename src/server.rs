//! The in-process server: open the data folder (recovering it), start the writer,
//! create the first admin on an empty store, and serve gRPC until told to stop. The
//! binary and the tests use the same entry points.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;

use crate::api::{Context, Services, auth, limits, telemetry};
use crate::clock::{Clock, SystemClock};
use crate::domain::Policy;
use crate::journal::JournalOptions;
use crate::pb::{self, Role};
use crate::writer::sweeper::Sweeper;
use crate::writer::{self, WriteCommand, Writer};

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
    /// On shutdown, how long in-flight requests may take to finish before their
    /// connections are abandoned.
    pub shutdown_grace: std::time::Duration,
    /// Abuse limits: request deadline, concurrency, connections, FileClaim rate.
    pub limits: crate::api::limits::Limits,
    /// Serve TLS (and require client certificates) instead of plaintext.
    pub tls: Option<crate::listener::TlsFiles>,
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
            shutdown_grace: std::time::Duration::from_secs(10),
            limits: crate::api::limits::Limits::default(),
            tls: None,
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
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error(transparent)]
    Tls(#[from] crate::listener::TlsFileError),
    #[error(transparent)]
    PageTokenKey(#[from] crate::api::PageKeyError),
    #[error("could not create the data folder {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}

/// Where the first admin's token is written.
pub fn admin_token_path(data_dir: &Path) -> PathBuf {
    data_dir.join("admin.token")
}

/// Writes the token with mode 0600, atomically (temp file, fsync, rename).
fn write_admin_token(data_dir: &Path, token: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let path = admin_token_path(data_dir);
    let tmp = path.with_extension("token.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut f = options.open(&tmp)?;
    f.write_all(format!("{token}\n").as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    std::fs::File::open(data_dir)?.sync_all()
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
    store: crate::store::Store,
    writer: Writer,
    handle: writer::WriterHandle,
    page_tokens: crate::api::PageTokens,
}

impl Server {
    /// Opens the data folder: recovery (journal check, torn tail cut, replay into
    /// sled), the writer, and the first admin on an empty store.
    pub async fn open(config: Config) -> Result<Server, ServerError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| ServerError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        })?;
        let state = writer::open_state(
            &config.data_dir,
            config.cache_capacity,
            config.journal_options(),
        )?;
        let store = state.store.clone();
        let page_tokens = crate::api::PageTokens::open(&config.data_dir)?;
        crate::telemetry::seed_gauges(&store, state.journal.size_bytes());
        let (writer, handle) = Writer::start(
            state.journal,
            state.head,
            state.store,
            config.clock.clone(),
            config.policy.clone(),
        );
        let server = Server {
            config,
            store,
            writer,
            handle,
            page_tokens,
        };
        server.bootstrap_admin().await?;
        Ok(server)
    }

    /// On an empty store, creates the first admin. The token file is written first:
    /// if the process dies before the principal is journaled, the next start finds no
    /// principal and writes a new token.
    async fn bootstrap_admin(&self) -> Result<(), ServerError> {
        let data_dir = &self.config.data_dir;
        if self
            .store
            .has_principals()
            .map_err(|e| ServerError::Bootstrap(e.to_string()))?
        {
            return Ok(());
        }
        let token = auth::new_token();
        write_admin_token(data_dir, &token).map_err(|source| ServerError::AdminToken {
            path: admin_token_path(data_dir).display().to_string(),
            source,
        })?;
        self.handle
            .submit(WriteCommand::CreatePrincipal {
                display_name: "admin".to_string(),
                roles: vec![Role::Admin],
                trusted_flagger: false,
                token_sha256: auth::token_sha256(&token),
                actor: "system".to_string(),
            })
            .await
            .map_err(|e| ServerError::Bootstrap(e.to_string()))?;
        tracing::info!(
            path = %admin_token_path(data_dir).display(),
            "created the first admin principal; its token is in this file"
        );
        Ok(())
    }

    /// A sweeper over this server's store and writer (for tests that move the clock).
    pub fn sweeper(&self) -> Sweeper {
        Sweeper::new(
            self.store.clone(),
            self.handle.clone(),
            self.config.clock.clone(),
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
            store,
            writer,
            handle,
            page_tokens,
        } = self;
        let (stop_sweeper, sweeper_stopped) = tokio::sync::oneshot::channel();
        let sweeper = tokio::spawn(
            Sweeper::new(store.clone(), handle.clone(), config.clock.clone())
                .run(config.sweep_interval, sweeper_stopped),
        );
        // Long-lived streams (WatchEvents) end when shutdown starts, so that the
        // graceful shutdown does not wait for them forever.
        let (streams_stop, streams_stopped) = tokio::sync::watch::channel(false);
        let (health_reporter, health) = tonic_health::server::health_reporter();
        set_health(&health_reporter, ServingStatus::Serving).await;
        // Shutdown, in order: health says NOT_SERVING (load balancers stop sending),
        // streams end, tonic stops accepting (the listen socket closes) and lets
        // in-flight requests finish; `shutdown_grace` bounds that wait below.
        let (draining, drain_started) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            shutdown.await;
            set_health(&health_reporter, ServingStatus::NotServing).await;
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
        };
        let services = Services::new(cx, config.max_request_bytes);
        let reflection_v1 = reflection()
            .build_v1()
            .map_err(|e| ServerError::Bootstrap(format!("reflection: {e}")))?;
        let reflection_v1alpha = reflection()
            .build_v1alpha()
            .map_err(|e| ServerError::Bootstrap(format!("reflection: {e}")))?;

        tracing::info!(addr = ?listener.local_addr().ok(), "takedownd serving");
        // Without TCP_NODELAY a small unary answer waits for the peer's delayed ACK (~40 ms).
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let incoming = crate::listener::bounded(incoming, config.limits.max_connections);
        let mut builder = tonic::transport::Server::builder();
        if let Some(tls) = &config.tls {
            builder = builder.tls_config(tls.server_config()?)?;
        }
        let serving = builder
            .layer(telemetry::TelemetryLayer)
            .layer(limits::DeadlineLayer::new(config.limits.request_timeout))
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                config.limits.max_concurrent_requests,
            ))
            .layer(auth::AuthLayer::new(store))
            .layer(limits::FileClaimRateLayer::new(
                config.limits.file_claim,
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
        let _ = sweeper.await;
        // Abandoned connections still hold writer handles, so the writer cannot see
        // its queue close: give whatever it is committing a moment, no more.
        let writer_wait = if abandoned {
            std::time::Duration::from_secs(1).min(grace)
        } else {
            grace
        };
        wait_for_writer(writer, writer_wait).await;
        result?;
        Ok(())
    }
}

/// Sets every `takedown.v1` service, and the server as a whole (""), to `status`.
async fn set_health(reporter: &tonic_health::server::HealthReporter, status: ServingStatus) {
    reporter.set_service_status("", status).await;
    for name in telemetry::service_names() {
        reporter.set_service_status(name, status).await;
    }
}

/// Waits for the writer to drain its queue, sync and exit. Normally that is at once;
/// if abandoned connections still hold writer handles, it waits at most `limit`:
/// every acknowledged write is already in the synced journal, and the next start
/// replays it into sled.
async fn wait_for_writer(writer: Writer, limit: std::time::Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    while !writer.is_finished() {
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(
                "the writer is still busy after the grace period; exiting, the journal has every acknowledged write"
            );
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    writer.join();
    tracing::info!("writer drained and synced");
}

/// Opens `config`'s data folder and serves on `listener` until `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServerError> {
    Server::open(config).await?.serve(listener, shutdown).await
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

    /// Stops serving, drains the writer and waits for the server to finish.
    /// Fires every deadline due by the server's clock now, as the background sweeper
    /// would on its next round; returns how many fired.
    pub async fn sweep(&self) -> Result<usize, crate::writer::WriteError> {
        match &self.sweeper {
            Some(s) => s.sweep().await,
            None => Err(crate::writer::WriteError::Stopped),
        }
    }

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
