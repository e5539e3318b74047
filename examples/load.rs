//! Load benchmark: durable `FileClaim` and `GetClaim` throughput and latency at 1, 8
//! and 64 concurrent callers, beside a bare tonic server of the same shape (it echoes
//! the same messages without storing anything), measured in the same run over
//! loopback.
//!
//!     cargo run --release --example load            # 3 s per measurement
//!     cargo run --release --example load -- 10      # 10 s per measurement
//!     cargo build --release --bin takedownd && \
//!       cargo run --release --example load -- --pinned 5
//!
//!     cargo build --release --bin takedownd && source scripts/tools.sh && \
//!       cargo run --release --example load -- --replicated 3
//!
//! `--pinned` measures the release `takedownd` process (logs, allocator and all, as
//! deployed) and a bare tonic server process, each on core 0, with the load on core 1,
//! as grpc_bench does: the ratio is then comparable from run to run.
//!
//! `--replicated` measures durable `FileClaim` against a single-node release
//! `takedownd` and against a release `takedownd` leading with `--replicate` on a fresh
//! three-node NATS JetStream cluster (R3, the test kit's `NatsCluster`, so it needs
//! `nats-server` from `scripts/tools.sh`) with a second `takedownd` following as a
//! standby, the two modes in turn, three rounds each; it prints the medians and the
//! replicated/local throughput ratio.
//!
//! The data folder is a temp dir on the same disk as the system temp folder; set
//! TMPDIR to measure another disk.

#[path = "support/daemon.rs"]
mod daemon;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use takedown::clock::SystemClock;
use takedown::pb::{
    self, Role,
    admin_service_client::AdminServiceClient,
    claim_service_client::ClaimServiceClient,
    claim_service_server::{ClaimService, ClaimServiceServer},
    publisher_service_client::PublisherServiceClient,
};
use takedown::testkit::nats::NatsCluster;
use takedown::testkit::{Authed, Bearer, TestServer, authed, create_principal, fixtures};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

const CONCURRENCY: [usize; 3] = [1, 8, 64];

/// Rounds of each mode in `--replicated`, alternated, of which the median is printed.
const ROUNDS: usize = 3;

/// Numbers each `file_claims` run, so that no run reuses another's request_ids: a
/// reused request_id with the same notice is answered from the first answer, without
/// a write.
static FILE_RUN: AtomicU64 = AtomicU64::new(0);

/// The bare server: same service, same messages, no storage, no auth.
struct Echo {
    claim: pb::Claim,
}

#[tonic::async_trait]
impl ClaimService for Echo {
    async fn file_claim(
        &self,
        request: Request<pb::FileClaimRequest>,
    ) -> Result<Response<pb::FileClaimResponse>, Status> {
        Ok(Response::new(pb::FileClaimResponse {
            claim: request.into_inner().claim,
            access_token: String::new(),
            receipt: None,
        }))
    }
    async fn get_claim(
        &self,
        _: Request<pb::GetClaimRequest>,
    ) -> Result<Response<pb::GetClaimResponse>, Status> {
        Ok(Response::new(pb::GetClaimResponse {
            claim: Some(self.claim.clone()),
        }))
    }
    async fn list_claims(
        &self,
        _: Request<pb::ListClaimsRequest>,
    ) -> Result<Response<pb::ListClaimsResponse>, Status> {
        Err(Status::unimplemented("echo"))
    }
    async fn list_claim_events(
        &self,
        _: Request<pb::ListClaimEventsRequest>,
    ) -> Result<Response<pb::ListClaimEventsResponse>, Status> {
        Err(Status::unimplemented("echo"))
    }
    async fn amend_claim(
        &self,
        _: Request<pb::AmendClaimRequest>,
    ) -> Result<Response<pb::AmendClaimResponse>, Status> {
        Err(Status::unimplemented("echo"))
    }
    async fn withdraw_claim(
        &self,
        _: Request<pb::WithdrawClaimRequest>,
    ) -> Result<Response<pb::WithdrawClaimResponse>, Status> {
        Err(Status::unimplemented("echo"))
    }
    async fn report_legal_action(
        &self,
        _: Request<pb::ReportLegalActionRequest>,
    ) -> Result<Response<pb::ReportLegalActionResponse>, Status> {
        Err(Status::unimplemented("echo"))
    }
    async fn file_complaint(
        &self,
        _: Request<pb::FileComplaintRequest>,
    ) -> Result<Response<pb::FileComplaintResponse>, Status> {
        Err(Status::unimplemented("echo"))
    }
    async fn get_receipt(
        &self,
        _: Request<pb::GetReceiptRequest>,
    ) -> Result<Response<pb::GetReceiptResponse>, Status> {
        Err(Status::unimplemented("echo"))
    }
}

/// The test kit's notice against `article_id`, its excerpt long enough that a request
/// is the size of a real one (about 1 KiB).
fn notice(article_id: &str) -> pb::Claim {
    let mut notice = fixtures::notice(article_id, pb::Regime::Dmca);
    for item in &mut notice.items {
        item.excerpt = format!("{}. ", item.excerpt).repeat(8);
    }
    notice
}

struct Figures {
    ops: u64,
    secs: f64,
    p50_us: u64,
    p99_us: u64,
}

impl Figures {
    fn rate(&self) -> f64 {
        self.ops as f64 / self.secs
    }
}

/// Runs `op` from `callers` tasks for `secs` seconds.
async fn measure<F, Fut>(callers: usize, secs: f64, op: F) -> Figures
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), Status>> + Send,
{
    let op = Arc::new(op);
    let counter = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for _ in 0..callers {
        let op = op.clone();
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < until {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                if let Err(e) = op(n).await {
                    eprintln!("request failed: {e}");
                    break;
                }
                lat.push(t.elapsed().as_micros() as u64);
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    Figures {
        ops: all.len() as u64,
        secs,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
    }
}

/// A ClaimService client that sends no credentials (public intake, the bare server).
fn anonymous(channel: &Channel) -> ClaimServiceClient<Authed> {
    ClaimServiceClient::new(tonic::service::interceptor::InterceptedService::new(
        channel.clone(),
        Bearer(None),
    ))
}

/// FileClaim of numbered notices from `callers` tasks for `secs`; each with its own
/// request_id, or none (as a public notice is often sent).
async fn file_claims(
    client: ClaimServiceClient<Authed>,
    callers: usize,
    secs: f64,
    with_request_id: bool,
) -> Figures {
    let run = FILE_RUN.fetch_add(1, Ordering::Relaxed);
    measure(callers, secs, move |n| {
        let mut c = client.clone();
        async move {
            c.file_claim(pb::FileClaimRequest {
                request_id: if with_request_id {
                    format!("load-{run:04}-{n:027}")
                } else {
                    String::new()
                },
                claim: Some(notice(&format!("a-{}", n % 100))),
            })
            .await
            .map(|_| ())
        }
    })
    .await
}

/// GetClaim of `ids` in turn from `callers` tasks for `secs`.
async fn get_claims(
    client: ClaimServiceClient<Authed>,
    ids: Arc<Vec<String>>,
    callers: usize,
    secs: f64,
) -> Figures {
    measure(callers, secs, move |n| {
        let mut c = client.clone();
        let id = ids[n as usize % ids.len()].clone();
        async move {
            c.get_claim(pb::GetClaimRequest { claim_id: id })
                .await
                .map(|_| ())
        }
    })
    .await
}

fn row(name: &str, callers: usize, f: &Figures, bare: &Figures) {
    println!(
        "{name:<22} {callers:>3} callers  {:>9.0} req/s  p50 {:>7} us  p99 {:>7} us   | bare {:>9.0} req/s  p50 {:>6} us  p99 {:>6} us  | throughput {:>5.1}% of bare",
        f.rate(),
        f.p50_us,
        f.p99_us,
        bare.rate(),
        bare.p50_us,
        bare.p99_us,
        100.0 * f.rate() / bare.rate()
    );
}

/// What a lookup and a one-page list cost at the store's current size.
struct StoreCosts {
    claims: u64,
    get: Figures,
    by_state: Figures,
    by_article: Figures,
}

async fn store_costs(client: ClaimServiceClient<Authed>, secs: f64) -> StoreCosts {
    let list = |req: pb::ListClaimsRequest| {
        let mut c = client.clone();
        async move { c.list_claims(req).await.map(|r| r.into_inner()) }
    };
    let first = list(pb::ListClaimsRequest {
        page_size: 500,
        ..Default::default()
    })
    .await
    .expect("list");
    let ids: Arc<Vec<String>> = Arc::new(first.claims.iter().map(|c| c.id.clone()).collect());
    // Count the claims by walking the pages, as a report would.
    let mut claims = first.claims.len() as u64;
    let mut token_page = first.next_page_token;
    while !token_page.is_empty() {
        let page = list(pb::ListClaimsRequest {
            page_size: 500,
            page_token: token_page,
            ..Default::default()
        })
        .await
        .expect("list");
        claims += page.claims.len() as u64;
        token_page = page.next_page_token;
    }
    let (c, i) = (client.clone(), ids.clone());
    let get = measure(1, secs, move |n| {
        let mut c = c.clone();
        let id = i[n as usize % i.len()].clone();
        async move {
            c.get_claim(pb::GetClaimRequest { claim_id: id })
                .await
                .map(|_| ())
        }
    })
    .await;
    let one_page = |req: pb::ListClaimsRequest| {
        let c = client.clone();
        move |_n: u64| {
            let mut c = c.clone();
            let req = req.clone();
            async move { c.list_claims(req).await.map(|_| ()) }
        }
    };
    let by_state = measure(
        1,
        secs,
        one_page(pb::ListClaimsRequest {
            page_size: 50,
            state: pb::ClaimState::Received as i32,
            ..Default::default()
        }),
    )
    .await;
    let by_article = measure(
        1,
        secs,
        one_page(pb::ListClaimsRequest {
            page_size: 50,
            article_id: "a-7".into(),
            ..Default::default()
        }),
    )
    .await;
    StoreCosts {
        claims,
        get,
        by_state,
        by_article,
    }
}

async fn connect(url: String) -> Channel {
    Channel::from_shared(url)
        .expect("url")
        .connect()
        .await
        .expect("connect")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
    };
    match args.first().map(String::as_str) {
        Some("--echo-server") => {
            let [_, addr_file, claim_file] = &args[..] else {
                panic!("usage: load --echo-server ADDR_FILE CLAIM_FILE");
            };
            runtime().block_on(echo_server(addr_file.into(), claim_file.into()));
        }
        Some("--replicated") => {
            let secs = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(3.0);
            runtime().block_on(replicated(secs));
        }
        Some("--pinned") => {
            let secs = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(3.0);
            // The load on core 1; the servers go on core 0 (grpc_bench's setup).
            pin_this_thread(1);
            runtime().block_on(pinned(secs));
        }
        _ => {
            let secs = args.first().and_then(|s| s.parse().ok()).unwrap_or(3.0);
            runtime().block_on(in_process(secs));
        }
    }
}

/// Pins the calling thread, and every thread it starts from now on, to `core`.
fn pin_this_thread(core: usize) {
    let mut set = nix::sched::CpuSet::new();
    set.set(core).expect("core number");
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set).expect("pin to a core");
}

/// The bare server as a process of its own (for `--pinned`): serves [`Echo`] with the
/// claim in `claim_file` on 127.0.0.1:0 and writes its address to `addr_file`.
async fn echo_server(addr_file: std::path::PathBuf, claim_file: std::path::PathBuf) {
    let bytes = std::fs::read(&claim_file).expect("read the sample claim");
    let claim = <pb::Claim as prost::Message>::decode(bytes.as_slice()).expect("a claim");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::fs::write(&addr_file, addr.to_string()).expect("write the address");
    tonic::transport::Server::builder()
        .add_service(ClaimServiceServer::new(Echo { claim }))
        .serve_with_incoming(
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
        )
        .await
        .expect("serve");
}

/// Makes a claimant and a publisher on the `takedownd` serving `channel` (with the
/// first admin's token from `data`), and the 100 articles the notices name; returns
/// the claimant's ClaimService client and token. A replicating node makes its first
/// admin only once it leads, so this waits (at most 60 s) until the token is there
/// and the admin's first call succeeds.
async fn prepare(channel: &Channel, data: &Path) -> (ClaimServiceClient<Authed>, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let (admin, claimant) = loop {
        let admin = std::fs::read_to_string(data.join("admin.token")).unwrap_or_default();
        let admin = admin.trim();
        let made = if admin.is_empty() {
            Err(Status::unavailable("no admin.token yet"))
        } else {
            AdminServiceClient::new(authed(channel, admin))
                .create_principal(pb::CreatePrincipalRequest {
                    display_name: "claimant".into(),
                    roles: vec![Role::Claimant as i32],
                    ..Default::default()
                })
                .await
        };
        match made {
            Ok(r) => break (admin.to_string(), r.into_inner().token),
            Err(e) if Instant::now() > deadline => panic!(
                "no first admin in {} after 60 s ({e}); see the server log beside it",
                data.display()
            ),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    let (_, publisher) = create_principal(channel, &admin, "publisher", &[Role::Publisher]).await;
    let mut pubc = PublisherServiceClient::new(authed(channel, &publisher));
    for i in 0..100 {
        pubc.upsert_article(pb::UpsertArticleRequest {
            article: Some(fixtures::article(
                &format!("a-{i}"),
                &format!("https://news.example.org/a/{i}"),
            )),
        })
        .await
        .expect("article");
    }
    (
        ClaimServiceClient::new(authed(channel, &claimant)),
        claimant,
    )
}

/// The median of each figure over a mode's rounds.
struct Medians {
    rate: f64,
    p50_us: u64,
    p99_us: u64,
}

impl Medians {
    fn of(runs: &[Figures]) -> Medians {
        let mut rates: Vec<f64> = runs.iter().map(Figures::rate).collect();
        rates.sort_by(f64::total_cmp);
        let mid = |f: fn(&Figures) -> u64| {
            let mut v: Vec<u64> = runs.iter().map(f).collect();
            v.sort_unstable();
            v[v.len() / 2]
        };
        Medians {
            rate: rates[rates.len() / 2],
            p50_us: mid(|f| f.p50_us),
            p99_us: mid(|f| f.p99_us),
        }
    }
}

/// `load --replicated [secs]`: durable FileClaim against a single-node release
/// `takedownd` and against one leading a replicated pair on a fresh three-node
/// JetStream cluster, in turn; see the module docs.
async fn replicated(secs: f64) {
    let temp = tempfile::tempdir().expect("temp dir");
    let bin = daemon::takedownd_beside_me();
    // Every replicating node seals personal data with the same data key.
    let key = temp.path().join("data.key");
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&key)
            .expect("create the data key file");
        writeln!(file, "{}", hex::encode(rand::random::<[u8; 32]>())).expect("write the key");
    }

    let local_data = temp.path().join("local");
    let mut local = daemon::Daemon::spawn(&bin, &local_data, &[], None);
    let local_channel = local.channel().await;
    let (local_claims, _) = prepare(&local_channel, &local_data).await;

    // Started from this thread, which lives as long as the run: the servers get
    // SIGKILL when the thread that started them ends.
    let nats = NatsCluster::start(3);
    let urls = nats.urls();
    let key_arg = key.to_str().expect("a UTF-8 temp path");
    let flags = [
        "--replicate",
        &urls,
        "--replicate-replicas",
        "3",
        "--data-key-file",
        key_arg,
    ];
    let leader_data = temp.path().join("leader");
    let mut leader = daemon::Daemon::spawn(&bin, &leader_data, &flags, None);
    let leader_channel = leader.channel().await;
    let (repl_claims, claimant) = prepare(&leader_channel, &leader_data).await;
    // The standby starts once the leader holds the lease (it made the first admin),
    // so it follows.
    let standby_data = temp.path().join("standby");
    let mut standby = daemon::Daemon::spawn(&bin, &standby_data, &flags, None);
    let standby_channel = standby.channel().await;

    println!(
        "takedown load benchmark, replicated: durable FileClaim, {secs} s per measurement, \
         {ROUNDS} rounds of each mode in turn (local, replicated, local, ...), medians"
    );
    println!(
        "local: one takedownd; replicated: a takedownd leading with --replicate on a \
         3-node NATS JetStream cluster (R3) on loopback, a second one following as a standby"
    );
    println!(
        "{:<11} {:>7} {:>9} {:>9} {:>9} {:>17}   req/s per round",
        "mode", "callers", "req/s", "p50 us", "p99 us", "replicated/local"
    );
    for &callers in &CONCURRENCY {
        let (mut local_runs, mut repl_runs) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            local_runs.push(file_claims(local_claims.clone(), callers, secs, true).await);
            repl_runs.push(file_claims(repl_claims.clone(), callers, secs, true).await);
        }
        let (l, r) = (Medians::of(&local_runs), Medians::of(&repl_runs));
        let rounds = |runs: &[Figures]| {
            runs.iter()
                .map(|f| format!("{:.0}", f.rate()))
                .collect::<Vec<_>>()
                .join(" / ")
        };
        println!(
            "{:<11} {callers:>7} {:>9.0} {:>9} {:>9} {:>17}   {}",
            "local",
            l.rate,
            l.p50_us,
            l.p99_us,
            "",
            rounds(&local_runs)
        );
        println!(
            "{:<11} {callers:>7} {:>9.0} {:>9} {:>9} {:>16.1}%   {}",
            "replicated",
            r.rate,
            r.p50_us,
            r.p99_us,
            100.0 * r.rate / l.rate,
            rounds(&repl_runs)
        );
    }

    // The cluster is as deployed: the standby follows (the leader's newest claim is
    // readable there) and each NATS node holds its own copy of the stream.
    let newest = repl_claims
        .clone()
        .file_claim(pb::FileClaimRequest {
            request_id: "load-replicated-last".into(),
            claim: Some(notice("a-0")),
        })
        .await
        .expect("a last claim on the leader")
        .into_inner()
        .claim
        .expect("claim")
        .id;
    let mut on_standby = ClaimServiceClient::new(authed(&standby_channel, &claimant));
    let asked = Instant::now();
    let followed = loop {
        let read = on_standby
            .get_claim(pb::GetClaimRequest {
                claim_id: newest.clone(),
            })
            .await;
        if read.is_ok() || asked.elapsed() > Duration::from_secs(30) {
            break read.map(|_| asked.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    match followed {
        Ok(after) => println!(
            "standby: the leader's newest claim readable there {} ms after its answer",
            after.as_millis()
        ),
        Err(e) => println!("standby: the leader's newest claim not readable after 30 s: {e}"),
    }
    for i in 0..3 {
        match nats.stream_state(i, "takedown-journal") {
            Some(s) => println!(
                "NATS node {i}: {} entries in its copy of the stream, last seq {}",
                s.messages, s.last_seq
            ),
            None => println!("NATS node {i}: no copy of the stream reported"),
        }
    }
    println!(
        "peak RSS: local {:.0} MiB, leader {:.0} MiB, standby {:.0} MiB",
        local.peak_rss_mib(),
        leader.peak_rss_mib(),
        standby.peak_rss_mib()
    );
    drop((local_channel, leader_channel, standby_channel));
    drop((local_claims, repl_claims, on_standby));
    standby.stop();
    leader.stop();
    local.stop();
    drop(nats);
}

/// `load --pinned [secs]`: the release `takedownd` (durable, as deployed) and the bare
/// server each on core 0, one measured at a time, the load on core 1; so the ratio to
/// bare is comparable from run to run on a machine with other work on it.
async fn pinned(secs: f64) {
    let temp = tempfile::tempdir().expect("temp dir");
    let data = temp.path().join("data");
    let bin = daemon::takedownd_beside_me();
    let mut d = daemon::Daemon::spawn(&bin, &data, &[], Some(0));
    let channel = d.channel().await;
    let (claims, _) = prepare(&channel, &data).await;
    let sample = claims
        .clone()
        .file_claim(pb::FileClaimRequest {
            request_id: String::new(),
            claim: Some(notice("a-0")),
        })
        .await
        .expect("sample claim")
        .into_inner()
        .claim
        .expect("claim");
    let claim_file = temp.path().join("sample.claim");
    std::fs::write(&claim_file, prost::Message::encode_to_vec(&sample)).expect("write sample");
    let addr_file = temp.path().join("echo.addr");
    let mut echo = std::process::Command::new("taskset")
        .args(["-c", "0"])
        .arg(std::env::current_exe().expect("own path"))
        .arg("--echo-server")
        .arg(&addr_file)
        .arg(&claim_file)
        .spawn()
        .expect("start the bare server");
    let echo_addr = loop {
        match std::fs::read_to_string(&addr_file) {
            Ok(a) if !a.is_empty() => break a,
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    };
    let echo_channel = connect(format!("http://{echo_addr}")).await;
    println!(
        "takedown load benchmark, pinned: takedownd and the bare server on core 0, the load on core 1, {secs} s per measurement"
    );
    let bare_claims = anonymous(&echo_channel);
    for &callers in &CONCURRENCY {
        let f = file_claims(claims.clone(), callers, secs, true).await;
        let bare = file_claims(bare_claims.clone(), callers, secs, true).await;
        row("FileClaim (durable)", callers, &f, &bare);
    }
    let ids: Arc<Vec<String>> = Arc::new(
        claims
            .clone()
            .list_claims(pb::ListClaimsRequest {
                page_size: 500,
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner()
            .claims
            .into_iter()
            .map(|c| c.id)
            .collect(),
    );
    for &callers in &CONCURRENCY {
        let f = get_claims(claims.clone(), ids.clone(), callers, secs).await;
        let bare = get_claims(bare_claims.clone(), ids.clone(), callers, secs).await;
        row("GetClaim", callers, &f, &bare);
    }
    println!("takedownd peak RSS {:.0} MiB", d.peak_rss_mib());
    let _ = echo.kill();
    let _ = echo.wait();
    drop(channel);
    d.stop();
}

/// The default mode: the test kit's server in this process, beside the bare server.
async fn in_process(secs: f64) {
    // The test kit's server, but with the real clock and sled's default cache, as
    // `takedownd` runs.
    let server = TestServer::start_with(|config| {
        config.clock = Arc::new(SystemClock);
        config.cache_capacity = 64 * 1024 * 1024;
        // Throughput, not the limits: public notices are not rate-limited here.
        config.limits.public_intake.per_client = None;
        config.limits.public_intake.total = None;
    })
    .await;
    let channel = server.channel().await;
    let (_, claimant) = server.principal("claimant", &[Role::Claimant]).await;
    let (_, publisher) = server.principal("publisher", &[Role::Publisher]).await;
    let mut pubc = PublisherServiceClient::new(authed(&channel, &publisher));
    for i in 0..100 {
        pubc.upsert_article(pb::UpsertArticleRequest {
            article: Some(pb::Article {
                id: format!("a-{i}"),
                url: format!("https://news.example.org/a/{i}"),
                content_origin: pb::ContentOrigin::Editorial as i32,
                ..Default::default()
            }),
        })
        .await
        .expect("article");
    }

    // The bare server of the same shape, in the same process.
    let sample = ClaimServiceClient::new(authed(&channel, &claimant))
        .file_claim(pb::FileClaimRequest {
            request_id: String::new(),
            claim: Some(notice("a-0")),
        })
        .await
        .expect("sample claim")
        .into_inner()
        .claim
        .expect("claim");
    let sample_id = sample.id.clone();
    let echo_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let echo_addr = echo_listener.local_addr().expect("addr");
    let (stop_echo, echo_stopped) = tokio::sync::oneshot::channel::<()>();
    let echo = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(ClaimServiceServer::new(Echo { claim: sample }))
            .serve_with_incoming_shutdown(
                tonic::transport::server::TcpIncoming::from(echo_listener).with_nodelay(Some(true)),
                async {
                    let _ = echo_stopped.await;
                },
            ),
    );
    let echo_channel = connect(format!("http://{echo_addr}")).await;

    let req_bytes = prost::Message::encoded_len(&pb::FileClaimRequest {
        request_id: "x".repeat(36),
        claim: Some(notice("a-0")),
    });
    println!(
        "takedown load benchmark: {secs} s per measurement, FileClaim request ~{req_bytes} bytes, data in {}",
        server.dir.path().display()
    );
    println!("each takedown FileClaim is journaled and fdatasync'ed before its answer");

    // A store of 5,000 claims (50 per article), so that a page of 50 is full at both
    // sizes and only the store's size differs.
    let claims = ClaimServiceClient::new(authed(&channel, &claimant));
    let mut filing = tokio::task::JoinSet::new();
    for worker in 0..64u64 {
        let client = claims.clone();
        filing.spawn(async move {
            for n in (worker..5_000).step_by(64) {
                let mut c = client.clone();
                let request = pb::FileClaimRequest {
                    request_id: format!("seed-{n}"),
                    claim: Some(notice(&format!("a-{}", n % 100))),
                };
                c.file_claim(request).await.expect("seed claim");
            }
        });
    }
    while filing.join_next().await.is_some() {}
    let publisher_claims = ClaimServiceClient::new(authed(&channel, &publisher));
    let small = store_costs(publisher_claims.clone(), secs / 3.0).await;

    let mut ids = vec![sample_id];
    let bare_claims = anonymous(&echo_channel);
    for &callers in &CONCURRENCY {
        let f = file_claims(claims.clone(), callers, secs, true).await;
        let bare = file_claims(bare_claims.clone(), callers, secs, true).await;
        row("FileClaim (durable)", callers, &f, &bare);
        // The same notice without credentials (public intake): the notifier is named
        // by its e-mail and each answer carries a new claim token.
        let p = file_claims(anonymous(&channel), callers, secs, false).await;
        row("FileClaim (public)", callers, &p, &bare);
    }
    // Some ids to read back.
    let list = claims
        .clone()
        .list_claims(pb::ListClaimsRequest {
            page_size: 500,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    ids.extend(list.claims.into_iter().map(|c| c.id));
    let ids = Arc::new(ids);
    for &callers in &CONCURRENCY {
        let f = get_claims(claims.clone(), ids.clone(), callers, secs).await;
        let bare = get_claims(bare_claims.clone(), ids.clone(), callers, secs).await;
        row("GetClaim", callers, &f, &bare);
    }
    let large = store_costs(publisher_claims, secs / 3.0).await;
    println!("lookup and list costs as the store grows (1 caller, p50 / p99):");
    for c in [&small, &large] {
        println!(
            "  {:>7} claims: GetClaim {:>5} / {:>5} us   ListClaims (50 of one state) {:>5} / {:>5} us   ListClaims (50 of one article) {:>5} / {:>5} us",
            c.claims,
            c.get.p50_us,
            c.get.p99_us,
            c.by_state.p50_us,
            c.by_state.p99_us,
            c.by_article.p50_us,
            c.by_article.p99_us
        );
    }
    let _ = stop_echo.send(());
    let _ = echo.await;
    server.stop().await;
}
