//! `takedownd`: the takedown gRPC server. Flags (each with an environment variable)
//! become a `server::Config`; SIGINT or SIGTERM stop it gracefully. `takedownd
//! rebuild` recreates the sled store from the journal; `takedownd admin-token` mints
//! a new admin token. Each locks the data folder for as long as it runs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use takedown::data_dir::DataDir;
use takedown::domain::policy::{Policy, Timer, TimerName, days_from_date};
use takedown::server::{Config, Server};
use takedown::telemetry::{self, LogFormat};

/// mimalloc, not the system allocator: sled and prost allocate and free many small
/// buffers per write, and glibc's malloc took about a third of a rebuild's time
/// (`docs/architecture.md`, "Scale").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "takedownd",
    version,
    about = "The takedown notice-and-takedown gRPC server"
)]
struct Cli {
    /// Address to serve gRPC on.
    #[arg(
        long,
        env = "TAKEDOWN_LISTEN",
        default_value = "127.0.0.1:50051",
        global = true
    )]
    listen: SocketAddr,
    /// Data folder: the journal (the record), the sled store and admin.token.
    #[arg(
        long,
        env = "TAKEDOWN_DATA_DIR",
        default_value = "./takedown-data",
        global = true
    )]
    data_dir: PathBuf,
    /// sled page cache in MiB (sled's memory use is several times this).
    #[arg(
        long,
        env = "TAKEDOWN_SLED_CACHE_MIB",
        default_value_t = 64,
        global = true
    )]
    sled_cache_mib: u64,
    /// Largest request message accepted, in KiB.
    #[arg(
        long,
        env = "TAKEDOWN_MAX_REQUEST_KIB",
        default_value_t = 256,
        global = true
    )]
    max_request_kib: usize,
    /// On SIGTERM/SIGINT, seconds that in-flight requests may take to finish.
    #[arg(
        long,
        env = "TAKEDOWN_SHUTDOWN_GRACE_SECS",
        default_value_t = 10,
        global = true
    )]
    shutdown_grace_secs: u64,
    /// Log lines on stderr as `text` or `json`; RUST_LOG filters them (default info).
    #[arg(
        long,
        env = "TAKEDOWN_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text,
        global = true
    )]
    log_format: LogFormat,
    /// Seconds between checks of the newest journal segment while serving (health
    /// turns NOT_SERVING if it no longer verifies); 0 turns the check off.
    #[arg(
        long,
        env = "TAKEDOWN_VERIFY_INTERVAL_SECS",
        default_value_t = 300,
        global = true
    )]
    verify_interval_secs: u64,
    /// A journal segment this many MiB or larger gets no more entries; the next goes
    /// to a new segment. Smaller segments make the periodic check and a start's read
    /// of the newest segment shorter.
    #[arg(
        long,
        env = "TAKEDOWN_JOURNAL_SEGMENT_MIB",
        default_value_t = 64,
        value_parser = clap::value_parser!(u64).range(1..=4096),
        global = true
    )]
    journal_segment_mib: u64,
    /// Replicate the journal through NATS JetStream: the NATS servers, comma-separated
    /// (nats://host:4222,nats://host2:4222; user:password@ or a token in the URL as NATS
    /// clients take them). A node then leads (takes writes) or follows as a standby;
    /// see docs/operations.md, "Replication". Unset: a single node.
    #[arg(long, env = "TAKEDOWN_REPLICATE", global = true)]
    replicate: Option<String>,
    /// The JetStream stream that holds the journal (made if missing, with the lease
    /// bucket <stream>-lease beside it).
    #[arg(
        long,
        env = "TAKEDOWN_REPLICATE_STREAM",
        default_value = "takedown-journal",
        global = true
    )]
    replicate_stream: String,
    /// Copies of the stream and of the lease bucket that JetStream keeps, when this
    /// node makes them: 3 survives the loss of one NATS server.
    #[arg(
        long,
        env = "TAKEDOWN_REPLICATE_REPLICAS",
        default_value_t = 3,
        value_parser = clap::value_parser!(u64).range(1..=5),
        global = true
    )]
    replicate_replicas: u64,
    /// Seconds a leader's lease lasts unless renewed (it renews every quarter of it);
    /// a standby takes over about this long after the leader dies.
    #[arg(
        long,
        env = "TAKEDOWN_REPLICATE_LEASE_SECS",
        default_value_t = 3,
        value_parser = clap::value_parser!(u64).range(1..=60),
        global = true
    )]
    replicate_lease_secs: u64,
    /// A NATS credentials file (.creds: user JWT and NKey seed) for --replicate.
    #[arg(long, env = "TAKEDOWN_REPLICATE_CREDS", global = true)]
    replicate_creds: Option<PathBuf>,
    /// The address clients reach this node at (http://host:port or https://...):
    /// the lease names it, and a standby's NOT_LEADER answers point writers to it.
    /// Unset: the address --listen bound.
    #[arg(long, env = "TAKEDOWN_ADVERTISE_ADDR", global = true)]
    advertise_addr: Option<String>,
    /// Serve Prometheus metrics over HTTP on this address (such as 127.0.0.1:9464);
    /// off when unset.
    #[arg(long, env = "TAKEDOWN_METRICS_LISTEN", global = true)]
    metrics_listen: Option<SocketAddr>,
    /// Once serving, write the bound address (such as 127.0.0.1:43121) to this file,
    /// atomically; with --listen 127.0.0.1:0 it tells which port was picked.
    #[arg(long, env = "TAKEDOWN_READY_FILE", global = true)]
    ready_file: Option<PathBuf>,
    /// The master key that wraps every party's data key (64 hex digits, mode 0600).
    /// Unset: pdata/data.key in the data folder, made at first start. Keep a copy apart
    /// from the data folder's backups: without it the personal data cannot be read.
    #[arg(long, env = "TAKEDOWN_DATA_KEY_FILE", global = true)]
    data_key_file: Option<PathBuf>,
    /// The Ed25519 key (a file of 32 raw bytes or 64 hex digits: the seed) that signs
    /// the audit log's checkpoints and receipts; default: log-signing.key in the data
    /// folder, made at first start (docs/receipts.md).
    #[arg(long, env = "TAKEDOWN_LOG_SIGNING_KEY", global = true)]
    log_signing_key: Option<PathBuf>,
    /// The log's origin, the first line of its checkpoints and the name of its key
    /// (no spaces, no '+'); default: this host's name plus /takedown.
    #[arg(long, env = "TAKEDOWN_LOG_ORIGIN", global = true)]
    log_origin: Option<String>,
    #[command(flatten)]
    policy: PolicyArgs,
    #[command(flatten)]
    security: SecurityArgs,
    #[command(flatten)]
    notify: NotifyArgs,
    #[command(flatten)]
    dsa_tdb: DsaTdbArgs,
    /// An origin (such as https://cms.example.org) whose pages may call the HTTP/JSON
    /// API from a browser; repeat, or separate with commas. None: CORS is off.
    #[arg(long, env = "TAKEDOWN_CORS_ORIGIN", value_delimiter = ',', global = true, value_parser = cors_origin)]
    cors_origin: Vec<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

/// The workflow's clocks. A timer is a duration ("48h", "14days", "30s") or business
/// days ("1 business day"). Flags override the policy file for every regime.
#[derive(clap::Args, Debug)]
struct PolicyArgs {
    /// Policy file (TOML) with per-regime timers and holidays; see docs/policy.md.
    #[arg(long, env = "TAKEDOWN_POLICY_FILE", global = true)]
    policy_file: Option<PathBuf>,
    /// Review target from receipt to decision [policy default: 48h].
    #[arg(long, env = "TAKEDOWN_REVIEW_TARGET", global = true, value_parser = Timer::parse)]
    review_target: Option<Timer>,
    /// Review target for trusted flaggers [policy default: 24h].
    #[arg(long, env = "TAKEDOWN_TRUSTED_REVIEW_TARGET", global = true, value_parser = Timer::parse)]
    trusted_review_target: Option<Timer>,
    /// Time to answer a request for information [policy default: 14days].
    #[arg(long, env = "TAKEDOWN_INFORMATION_REPLY_WINDOW", global = true, value_parser = Timer::parse)]
    information_reply_window: Option<Timer>,
    /// Time to correct after a CORRECT decision [policy default: 1 business day].
    #[arg(long, env = "TAKEDOWN_CORRECTION_WINDOW", global = true, value_parser = Timer::parse)]
    correction_window: Option<Timer>,
    /// Counter-notice to restoration, where the regime has counter-notices
    /// [policy default: DMCA 10 business days, PRC Civil Code 15days].
    #[arg(long, env = "TAKEDOWN_RESTORATION_PERIOD", global = true, value_parser = Timer::parse)]
    restoration_period: Option<Timer>,
    /// How long after a decision a complaint is accepted [policy default: 6months].
    #[arg(long, env = "TAKEDOWN_COMPLAINT_WINDOW", global = true, value_parser = Timer::parse)]
    complaint_window: Option<Timer>,
    /// Contributions found infringing that make a contributor a repeat infringer
    /// (DMCA 512(i)) [policy default: 3].
    #[arg(long, env = "TAKEDOWN_REPEAT_INFRINGER_THRESHOLD", global = true, value_parser = clap::value_parser!(u32).range(1..))]
    repeat_infringer_threshold: Option<u32>,
    /// Within how long they count [policy default: 365days].
    #[arg(long, env = "TAKEDOWN_REPEAT_INFRINGER_WINDOW", global = true, value_parser = humantime::parse_duration)]
    repeat_infringer_window: Option<std::time::Duration>,
    /// How long a party's personal data is kept after the last claim it is part of
    /// closed; then it is erased [policy default: 1095days].
    #[arg(long, env = "TAKEDOWN_PERSONAL_DATA_RETENTION", global = true, value_parser = humantime::parse_duration)]
    personal_data_retention: Option<std::time::Duration>,
    /// Holidays that are not business days, comma-separated YYYY-MM-DD.
    #[arg(long, env = "TAKEDOWN_HOLIDAYS", global = true, value_delimiter = ',')]
    holidays: Vec<String>,
    /// How often the deadline sweeper looks for due deadlines.
    #[arg(long, env = "TAKEDOWN_SWEEP_INTERVAL", default_value = "1s", global = true, value_parser = humantime::parse_duration)]
    sweep_interval: std::time::Duration,
}

impl PolicyArgs {
    fn policy(&self) -> Result<Policy, String> {
        let mut policy = match &self.policy_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read the policy file {}: {e}", path.display()))?;
                Policy::from_toml(&text)
                    .map_err(|e| format!("policy file {}: {e}", path.display()))?
            }
            None => Policy::default(),
        };
        for (name, timer) in [
            (TimerName::Review, self.review_target),
            (TimerName::TrustedReview, self.trusted_review_target),
            (TimerName::InformationReply, self.information_reply_window),
            (TimerName::CorrectionWindow, self.correction_window),
            (TimerName::Restoration, self.restoration_period),
            (TimerName::ComplaintWindow, self.complaint_window),
        ] {
            if let Some(timer) = timer {
                policy.set_all(name, timer);
            }
        }
        if let Some(n) = self.repeat_infringer_threshold {
            policy.repeat_infringer.threshold = n;
        }
        if let Some(w) = self.repeat_infringer_window {
            policy.repeat_infringer.window = w;
        }
        if let Some(r) = self.personal_data_retention {
            policy.personal_data_retention = r;
        }
        for day in &self.holidays {
            policy.holidays.push(
                days_from_date(day).ok_or_else(|| {
                    format!("--holidays: {day:?} is not a date; write YYYY-MM-DD")
                })?,
            );
        }
        // The flags may have moved the DMCA restoration window out of 10-14 business days.
        policy.check()?;
        Ok(policy)
    }
}

/// TLS, abuse limits and connection limits. Plaintext is the default, for localhost.
#[derive(clap::Args, Debug)]
struct SecurityArgs {
    /// Serve TLS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, env = "TAKEDOWN_TLS_CERT", global = true, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "TAKEDOWN_TLS_KEY", global = true, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Require client certificates signed by this CA (PEM): mutual TLS.
    #[arg(
        long,
        env = "TAKEDOWN_TLS_CLIENT_CA",
        global = true,
        requires = "tls_cert"
    )]
    tls_client_ca: Option<PathBuf>,
    /// FileClaim requests per minute per principal (token bucket); 0 turns it off.
    #[arg(
        long,
        env = "TAKEDOWN_FILE_CLAIM_RATE",
        default_value_t = 60,
        global = true
    )]
    file_claim_rate: u32,
    /// FileClaim requests a principal may send at once before the rate applies.
    #[arg(
        long,
        env = "TAKEDOWN_FILE_CLAIM_BURST",
        default_value_t = 20,
        global = true
    )]
    file_claim_burst: u32,
    /// Requests handled at once, all connections together; more wait their turn.
    #[arg(
        long,
        env = "TAKEDOWN_MAX_CONCURRENT_REQUESTS",
        default_value_t = 256,
        global = true
    )]
    max_concurrent_requests: usize,
    /// Open connections at most. When all are taken, a new one takes the slot of the
    /// oldest connection that has not sent a request yet, else waits in the backlog.
    #[arg(
        long,
        env = "TAKEDOWN_MAX_CONNECTIONS",
        default_value_t = 1024,
        global = true
    )]
    max_connections: usize,
    /// Open connections from one client IP at most; more are closed at once. Behind
    /// a proxy every client has the proxy's address: raise it, or 0 for no cap.
    #[arg(
        long,
        env = "TAKEDOWN_MAX_CONNECTIONS_PER_IP",
        default_value_t = 64,
        global = true
    )]
    max_connections_per_ip: usize,
    /// Seconds from accepting a connection to its first request (TLS handshake,
    /// HTTP/2 preface and settings, request headers) before it is closed.
    #[arg(
        long,
        env = "TAKEDOWN_HANDSHAKE_TIMEOUT_SECS",
        default_value_t = 10,
        global = true
    )]
    handshake_timeout_secs: u64,
    /// Seconds a connection with no open request stays open; 0 keeps it forever.
    #[arg(
        long,
        env = "TAKEDOWN_IDLE_TIMEOUT_SECS",
        default_value_t = 300,
        global = true
    )]
    idle_timeout_secs: u64,
    /// Seconds of silence before an HTTP/2 PING; a peer that does not answer within
    /// as long (20 s at most) is closed. 0 turns pings off.
    #[arg(
        long,
        env = "TAKEDOWN_KEEPALIVE_SECS",
        default_value_t = 60,
        global = true
    )]
    keepalive_secs: u64,
    /// Accept FileClaim without credentials (a notice from anyone, DSA Art. 16(1)),
    /// answered with a claim token for the notifier. `false` to require a principal.
    #[arg(
        long,
        env = "TAKEDOWN_PUBLIC_INTAKE",
        default_value_t = true,
        action = clap::ArgAction::Set,
        global = true
    )]
    public_intake: bool,
    /// Notices without credentials per minute from one client IP; 0 for no limit.
    #[arg(
        long,
        env = "TAKEDOWN_PUBLIC_INTAKE_RATE",
        default_value_t = 10,
        global = true
    )]
    public_intake_rate: u32,
    /// Notices without credentials one client IP may send at once.
    #[arg(
        long,
        env = "TAKEDOWN_PUBLIC_INTAKE_BURST",
        default_value_t = 5,
        global = true
    )]
    public_intake_burst: u32,
    /// Notices without credentials per minute from all clients together; 0 for no
    /// limit (bursts of a sixth of it).
    #[arg(
        long,
        env = "TAKEDOWN_PUBLIC_INTAKE_TOTAL_RATE",
        default_value_t = 600,
        global = true
    )]
    public_intake_total_rate: u32,
    /// Longest a request may take, queueing included (DEADLINE_EXCEEDED after).
    #[arg(long, env = "TAKEDOWN_REQUEST_TIMEOUT", default_value = "30s", global = true, value_parser = humantime::parse_duration)]
    request_timeout: std::time::Duration,
}

impl SecurityArgs {
    fn limits(&self) -> takedown::api::limits::Limits {
        takedown::api::limits::Limits {
            request_timeout: self.request_timeout,
            max_concurrent_requests: self.max_concurrent_requests.max(1),
            file_claim: takedown::api::limits::RateLimit::per_minute(
                self.file_claim_rate,
                self.file_claim_burst,
            ),
            public_intake: takedown::api::limits::PublicIntakeLimits {
                enabled: self.public_intake,
                per_client: takedown::api::limits::RateLimit::per_minute(
                    self.public_intake_rate,
                    self.public_intake_burst,
                ),
                total: takedown::api::limits::RateLimit::per_minute(
                    self.public_intake_total_rate,
                    (self.public_intake_total_rate / 6).max(1),
                ),
            },
        }
    }

    fn connections(&self) -> takedown::listener::ConnectionLimits {
        let secs = |s: u64| (s > 0).then(|| std::time::Duration::from_secs(s));
        takedown::listener::ConnectionLimits {
            max_connections: self.max_connections.max(1),
            max_per_ip: self.max_connections_per_ip,
            // A deadline of 0 would close every connection before its first request.
            handshake_timeout: std::time::Duration::from_secs(self.handshake_timeout_secs.max(1)),
            idle_timeout: secs(self.idle_timeout_secs),
            keepalive: secs(self.keepalive_secs),
        }
    }

    fn tls(&self) -> Option<takedown::listener::TlsFiles> {
        Some(takedown::listener::TlsFiles {
            cert: self.tls_cert.clone()?,
            key: self.tls_key.clone()?,
            client_ca: self.tls_client_ca.clone(),
        })
    }
}

/// Telling the parties: e-mail through an SMTP server, signed webhooks to the site.
/// Without --smtp-url or --webhook-url, notifications are still recorded, as
/// UNDELIVERABLE with the reason (`takedownctl notifications list`).
#[derive(clap::Args, Debug)]
struct NotifyArgs {
    /// The SMTP server e-mails go through: smtp://host:port (plain),
    /// smtp://host:port?tls=required (STARTTLS), smtps://host:port (TLS); a user and
    /// password may be given as smtp://user:pass@host:port.
    #[arg(long, env = "TAKEDOWN_SMTP_URL", global = true)]
    smtp_url: Option<String>,
    /// The From address of every e-mail, such as "Legal Daily <takedown@example.com>".
    #[arg(
        long,
        env = "TAKEDOWN_SMTP_FROM",
        default_value = "takedown@localhost",
        global = true
    )]
    smtp_from: String,
    /// The site's (CMS's) webhook receiver: every notification to the publisher is
    /// POSTed here, signed as Standard Webhooks says. Needs --webhook-secret-file.
    #[arg(
        long,
        env = "TAKEDOWN_WEBHOOK_URL",
        global = true,
        requires = "webhook_secret_file"
    )]
    webhook_url: Option<String>,
    /// A file holding the webhook signing secret (whsec_<base64>); make one with
    /// `takedownd webhook-secret > FILE` and give the receiver the same.
    #[arg(long, env = "TAKEDOWN_WEBHOOK_SECRET_FILE", global = true)]
    webhook_secret_file: Option<PathBuf>,
    /// Delivery attempts before a notification is DEAD (then `takedownctl
    /// notifications retry` queues it again).
    #[arg(long, env = "TAKEDOWN_NOTIFY_MAX_ATTEMPTS", default_value_t = 8, global = true, value_parser = clap::value_parser!(u32).range(1..=50))]
    notify_max_attempts: u32,
    /// The wait after a first failed attempt; it doubles with each further attempt
    /// (with jitter), up to 6 hours.
    #[arg(long, env = "TAKEDOWN_NOTIFY_RETRY_BASE", default_value = "30s", global = true, value_parser = humantime::parse_duration)]
    notify_retry_base: std::time::Duration,
    /// A folder of templates (<kind>.<language>.txt, such as decision.en.txt) that
    /// override the built-in ones; each is checked at start.
    #[arg(long, env = "TAKEDOWN_TEMPLATES_DIR", global = true)]
    templates_dir: Option<PathBuf>,
    /// The public address of the site's claim pages; notifications link to
    /// <URL>/claims/<claim id>.
    #[arg(long, env = "TAKEDOWN_PUBLIC_BASE_URL", global = true)]
    public_base_url: Option<String>,
}

impl NotifyArgs {
    fn config(&self) -> Result<takedown::notify::NotifyConfig, String> {
        let webhook_secret = match &self.webhook_secret_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    format!("cannot read --webhook-secret-file {}: {e}", path.display())
                })?;
                Some(
                    takedown::notify::WebhookSecret::parse(text.trim())
                        .map_err(|e| format!("--webhook-secret-file {}: {e}", path.display()))?,
                )
            }
            None => None,
        };
        if let Some(url) = &self.public_base_url
            && !takedown::domain::validation::is_http_url(url)
        {
            return Err(format!(
                "--public-base-url {url:?} is not an http(s) URL; give the address of the site's claim pages, such as https://example.com/takedown"
            ));
        }
        Ok(takedown::notify::NotifyConfig {
            smtp_url: self.smtp_url.clone(),
            smtp_from: self.smtp_from.clone(),
            webhook_url: self.webhook_url.clone(),
            webhook_secret,
            max_attempts: self.notify_max_attempts,
            retry_base: self.notify_retry_base,
            templates_dir: self.templates_dir.clone(),
            public_base_url: self.public_base_url.clone(),
            ..Default::default()
        })
    }
}

/// Submitting statements of reasons to the DSA Transparency Database (DSA Art.
/// 24(5)). Without these flags nothing is submitted; `takedownctl export dsa-tdb`
/// writes the same statements to a file for manual upload.
#[derive(clap::Args, Debug)]
struct DsaTdbArgs {
    /// The database's base URL, such as https://transparency.dsa.ec.europa.eu (its
    /// sandbox for trials); statements go to <URL>/api/v1/statements in batches of at
    /// most 100. Needs --dsa-tdb-token-file.
    #[arg(
        long,
        env = "TAKEDOWN_DSA_TDB_URL",
        global = true,
        requires = "dsa_tdb_token_file"
    )]
    dsa_tdb_url: Option<String>,
    /// A file holding the platform's API token for the database (sent as a bearer
    /// token).
    #[arg(
        long,
        env = "TAKEDOWN_DSA_TDB_TOKEN_FILE",
        global = true,
        requires = "dsa_tdb_url"
    )]
    dsa_tdb_token_file: Option<PathBuf>,
}

impl DsaTdbArgs {
    fn config(&self) -> Result<Option<takedown::notify::dsa_tdb::DsaTdbConfig>, String> {
        let (Some(url), Some(path)) = (&self.dsa_tdb_url, &self.dsa_tdb_token_file) else {
            return Ok(None);
        };
        if !takedown::domain::validation::is_http_url(url) {
            return Err(format!(
                "--dsa-tdb-url {url:?} is not an http(s) URL; give the database's base URL, such as https://transparency.dsa.ec.europa.eu"
            ));
        }
        let token = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read --dsa-tdb-token-file {}: {e}", path.display()))?;
        let token = token.trim();
        if token.is_empty() || token.contains(char::is_whitespace) {
            return Err(format!(
                "--dsa-tdb-token-file {} must hold the API token alone (one word, no spaces)",
                path.display()
            ));
        }
        Ok(Some(takedown::notify::dsa_tdb::DsaTdbConfig::new(
            url.clone(),
            token,
        )))
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve gRPC (the default).
    Serve,
    /// Throw away the sled store and rebuild it from the journal, then exit. Refused
    /// while another takedownd process uses the data folder.
    Rebuild,
    /// Create a new admin principal (journaled and audited as created by `system`)
    /// and write its token into admin.token, then exit: for when no admin token works.
    /// Refused while another takedownd process uses the data folder: stop the server
    /// first.
    AdminToken,
    /// Re-wrap every party's data key with the master key in FILE (made if missing),
    /// then exit. Refused while a server uses the data folder.
    RotateDataKey {
        /// The new master key file.
        file: PathBuf,
    },
    /// Print a new webhook signing secret (whsec_<base64>) and exit: put it in the
    /// file --webhook-secret-file names, and give the webhook receiver the same.
    WebhookSecret,
}

fn config(cli: &Cli) -> Result<Config, String> {
    let mut config = Config::new(&cli.data_dir);
    config.cache_capacity = cli.sled_cache_mib * 1024 * 1024;
    config.max_request_bytes = cli.max_request_kib * 1024;
    config.policy = cli.policy.policy()?;
    config.sweep_interval = cli.policy.sweep_interval;
    config.verify_interval = std::time::Duration::from_secs(cli.verify_interval_secs);
    config.segment_max_bytes = cli.journal_segment_mib * 1024 * 1024;
    config.shutdown_grace = std::time::Duration::from_secs(cli.shutdown_grace_secs);
    config.limits = cli.security.limits();
    config.connections = cli.security.connections();
    config.tls = cli.security.tls();
    config.notify = cli.notify.config()?;
    config.dsa_tdb = cli.dsa_tdb.config()?;
    config.data_key_file = cli.data_key_file.clone();
    config.web.cors_origins = cli.cors_origin.clone();
    config.log_signing_key = cli.log_signing_key.clone();
    config.log_origin = cli.log_origin.clone();
    config.replica = cli
        .replicate
        .clone()
        .map(|urls| takedown::replica::ReplicaConfig {
            urls,
            stream: cli.replicate_stream.clone(),
            replicas: cli.replicate_replicas as usize,
            lease: std::time::Duration::from_secs(cli.replicate_lease_secs),
            advertise: cli.advertise_addr.clone(),
            creds: cli.replicate_creds.clone(),
            publish_timeout: std::time::Duration::from_secs(5),
        });
    Ok(config)
}

/// An origin is a scheme, a host and maybe a port: no path, no trailing slash.
fn cors_origin(text: &str) -> Result<String, String> {
    let origin = text.trim().trim_end_matches('/');
    match url::Url::parse(origin) {
        Ok(url)
            if matches!(url.scheme(), "http" | "https")
                && url.host().is_some()
                && url.path() == "/"
                && url.query().is_none()
                && url.origin().ascii_serialization() == origin.to_ascii_lowercase() =>
        {
            Ok(origin.to_string())
        }
        _ => Err(format!(
            "{text:?} is not an origin; give a scheme and a host, such as https://cms.example.org"
        )),
    }
}

/// `takedownd rebuild`: with the data folder locked (so never beside a server), throws
/// sled away and replays the journal into a new one.
fn rebuild(config: &Config) -> Result<u64, String> {
    let data_dir = DataDir::open(&config.data_dir).map_err(|e| e.to_string())?;
    let vault = takedown::pdata::open_vault(data_dir.path(), config.data_key_file.as_deref())
        .map_err(|e| e.to_string())?;
    takedown::writer::rebuild(
        &data_dir,
        config.cache_capacity,
        config.journal_options(),
        &vault,
    )
    .map_err(|e| e.to_string())
}

/// `takedownd rotate-data-key NEW_KEY_FILE`: with the data folder locked, re-wraps every
/// party key with the master key in `new` (made, 0600, if the file does not exist), so
/// that the old master key can be retired. Start with `--data-key-file NEW_KEY_FILE`
/// afterwards (or, without `--data-key-file`, the new key replaces pdata/data.key).
fn rotate_data_key(config: &Config, new: &std::path::Path) -> Result<(), String> {
    let data_dir = DataDir::open(&config.data_dir).map_err(|e| e.to_string())?;
    let vault = takedown::pdata::open_vault(data_dir.path(), config.data_key_file.as_deref())
        .map_err(|e| e.to_string())?;
    let dir = data_dir.path().join("pdata");
    let key = takedown::pdata::vault::master_key(&dir, Some(new))
        .or_else(|_| takedown::pdata::vault::new_key_file(new).map_err(|e| e.to_string()))?;
    vault.rewrap(key).map_err(|e| e.to_string())?;
    if config.data_key_file.is_none() {
        std::fs::copy(new, dir.join("data.key")).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Telling a supervisor (or a test) that the server serves, and where.
mod ready {
    use std::net::SocketAddr;
    use std::path::Path;

    use takedown::server::Config;

    /// Before recovery: removes a ready file left by an earlier run, so that the file
    /// appearing means this process serves, and checks the TLS files, the one setting
    /// that could still fail after the ready file is written.
    pub fn prepare(ready_file: Option<&Path>, config: &Config) -> Result<(), String> {
        if let Some(path) = ready_file {
            match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(format!(
                        "cannot remove the old ready file {}: {e}",
                        path.display()
                    ));
                }
                _ => {}
            }
        }
        if let Some(tls) = &config.tls {
            let tls = tls.server_config().map_err(|e| e.to_string())?;
            tonic::transport::Server::builder()
                .tls_config(tls)
                .map_err(|e| format!("the TLS certificate or key is not usable: {e}"))?;
        }
        Ok(())
    }

    /// Writes the bound address to `ready_file` (temp file, then rename, so a reader
    /// never sees half an address); the server itself logs `listening on ADDR with ...`.
    pub fn announce(
        listener: &tokio::net::TcpListener,
        ready_file: Option<&Path>,
    ) -> Result<(), String> {
        let addr: SocketAddr = listener
            .local_addr()
            .map_err(|e| format!("cannot read the bound address: {e}"))?;
        let Some(path) = ready_file else {
            return Ok(());
        };
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        std::fs::write(&tmp, format!("{addr}\n"))
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| format!("cannot write the ready file {}: {e}", path.display()))
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::WebhookSecret) = cli.command {
        println!("{}", takedown::notify::WebhookSecret::generate());
        return ExitCode::SUCCESS;
    }
    // Everything this process creates (sled's files included) is for its owner only:
    // the journal and the store hold claimants' postal addresses.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    // Held until main returns: dropping it writes out the queued log lines.
    let _logs = telemetry::init_logs(cli.log_format);
    let config = match config(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("takedownd: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Some(Command::Rebuild) => match rebuild(&config) {
            Ok(n) => {
                eprintln!("rebuilt the sled store from {n} journal entries");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("takedownd rebuild: {e}");
                ExitCode::FAILURE
            }
        },
        Some(Command::AdminToken) => match Server::mint_admin_token(&config).await {
            Ok(path) => {
                eprintln!(
                    "created a new admin principal; its token is in {}",
                    path.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("takedownd admin-token: {e}");
                ExitCode::FAILURE
            }
        },
        Some(Command::WebhookSecret) => ExitCode::SUCCESS,
        Some(Command::RotateDataKey { file }) => match rotate_data_key(&config, &file) {
            Ok(()) => {
                eprintln!(
                    "every party key is now wrapped with the key in {}",
                    file.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("takedownd rotate-data-key: {e}");
                ExitCode::FAILURE
            }
        },
        Some(Command::Serve) | None => {
            if let Some(addr) = cli.metrics_listen {
                if let Err(e) = telemetry::install_metrics(addr) {
                    eprintln!("takedownd: {e}");
                    return ExitCode::FAILURE;
                }
                tracing::info!(%addr, "serving Prometheus metrics");
            }
            if let Err(e) = ready::prepare(cli.ready_file.as_deref(), &config) {
                eprintln!("takedownd: {e}");
                return ExitCode::FAILURE;
            }
            // Recover first, then listen: a client that can connect is answered. A
            // replicating node with no --advertise-addr listens first, to name the
            // address it bound in its lease.
            let bind = || async {
                tokio::net::TcpListener::bind(cli.listen)
                    .await
                    .map_err(|e| format!("cannot listen on {}: {e}", cli.listen))
            };
            let mut config = config;
            let mut early = None;
            if let Some(replica) = config.replica.as_mut()
                && replica.advertise.is_none()
            {
                let listener = match bind().await {
                    Ok(l) => l,
                    Err(e) => {
                        eprintln!("takedownd: {e}");
                        return ExitCode::FAILURE;
                    }
                };
                let scheme = if config.tls.is_some() {
                    "https"
                } else {
                    "http"
                };
                if let Ok(addr) = listener.local_addr() {
                    replica.advertise = Some(format!("{scheme}://{addr}"));
                }
                early = Some(listener);
            }
            let server = match Server::open(config).await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("takedownd: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let listener = match early {
                Some(l) => l,
                None => match bind().await {
                    Ok(l) => l,
                    Err(e) => {
                        eprintln!("takedownd: {e}");
                        return ExitCode::FAILURE;
                    }
                },
            };
            if let Err(e) = ready::announce(&listener, cli.ready_file.as_deref()) {
                eprintln!("takedownd: {e}");
                return ExitCode::FAILURE;
            }
            match server.serve(listener, shutdown_signal()).await {
                Ok(()) => {
                    tracing::info!("takedownd stopped");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("takedownd: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
