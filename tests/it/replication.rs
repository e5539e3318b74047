//! Replication through NATS JetStream, with real servers: a three-node JetStream
//! cluster ([`NatsCluster`]) and `takedownd` processes started with `--replicate`
//! (`docs/architecture.md`, "Replication").
//!
//! - the leader killed (kill -9) under 8 concurrent writers: the standby takes over
//!   within a bound this test measures and prints; every acknowledged claim is there;
//!   the chain verifies and is the same on both nodes; retrying the unacknowledged
//!   request_ids creates no duplicate;
//! - the leader paused past its lease: the standby takes over, and the old leader,
//!   resumed, acknowledges no write after that; every claim either node acknowledged
//!   is in the stream's history, and only those (no split brain);
//! - one NATS node killed: writes go on; restarted, its copy of the stream catches up;
//! - a node rejoining with an entry it journaled but the stream never acknowledged
//!   cuts it (keeping its bytes in quarantine) and follows.
//!
//! Needs nats-server (`source scripts/tools.sh`): outside CI a missing binary prints a
//! loud SKIPPED line; with `CI=true` the test fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use takedown::pb::{
    self, Regime, Role, audit_service_client::AuditServiceClient,
    claim_service_client::ClaimServiceClient, publisher_service_client::PublisherServiceClient,
};
use takedown::testkit::nats::{NatsCluster, nats_server_available};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::common::daemon::Daemon;
use crate::common::{authed, create_principal, fixtures};

/// The lease the nodes run with: short, so that the tests take over quickly.
const LEASE_SECS: u64 = 2;
/// The longest a takeover may take here before the test fails: the lease, the
/// standby's poll and catch-up, with room for a loaded CI machine. The measured time
/// is printed.
const TAKEOVER_BOUND: Duration = Duration::from_secs(12);
const WAIT: Duration = Duration::from_secs(30);
const ARTICLES: usize = 4;
const STREAM: &str = "takedown-journal";

fn cluster_or_skip(test: &str) -> Option<NatsCluster> {
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if !nats_server_available() && !in_ci {
        eprintln!(
            "SKIPPED {test}: nats-server is missing; run `source scripts/tools.sh` to check \
             replication through a real JetStream cluster"
        );
        return None;
    }
    Some(NatsCluster::start(3))
}

/// The data key every node shares.
fn key_file(dir: &Path) -> PathBuf {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join("data.key");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .expect("create the data key");
    let key: String = (0..32)
        .map(|i| format!("{:02x}", (i * 37 + 11) % 256))
        .collect();
    writeln!(f, "{key}").expect("write the data key");
    path
}

/// A test's NATS cluster, its folder and the nodes' flags.
struct Setup {
    cluster: NatsCluster,
    dir: tempfile::TempDir,
    key: PathBuf,
}

impl Setup {
    fn new(cluster: NatsCluster) -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = key_file(dir.path());
        Setup { cluster, dir, key }
    }

    fn data(&self, node: &str) -> PathBuf {
        self.dir.path().join(node)
    }

    fn args(&self) -> Vec<String> {
        vec![
            "--replicate".into(),
            self.cluster.urls(),
            "--replicate-lease-secs".into(),
            LEASE_SECS.to_string(),
            "--data-key-file".into(),
            self.key.display().to_string(),
            "--file-claim-rate".into(),
            "0".into(),
        ]
    }

    /// Starts node `name` and waits until it serves (as leader or standby).
    async fn start(&self, name: &str, run: usize) -> Daemon {
        self.start_with(name, run, &[]).await
    }

    async fn start_with(&self, name: &str, run: usize, extra: &[String]) -> Daemon {
        let log = self.dir.path().join(format!("{name}-{run}.log"));
        let mut args = self.args();
        args.extend_from_slice(extra);
        Daemon::start(&self.data(name), &log, &args).await
    }
}

/// `--metrics-listen` on a free port, and the port.
fn metrics_flag() -> (Vec<String>, u16) {
    let port = crate::common::daemon::free_port();
    (
        vec!["--metrics-listen".into(), format!("127.0.0.1:{port}")],
        port,
    )
}

fn metric(port: u16, series: &str) -> f64 {
    crate::metrics::value(&crate::metrics::scrape(port), series).unwrap_or(0.0)
}

impl Setup {}

async fn channel(d: &Daemon) -> Channel {
    Endpoint::from_shared(d.url())
        .expect("url")
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(15))
        .connect()
        .await
        .expect("connect to takedownd")
}

/// True if the node's ClaimService health is SERVING: it leads.
async fn leads(d: &Daemon) -> bool {
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};
    let Some(addr) = d.addr() else { return false };
    let Ok(endpoint) = Endpoint::from_shared(format!("http://{addr}")) else {
        return false;
    };
    let Ok(ch) = endpoint
        .connect_timeout(Duration::from_millis(300))
        .timeout(Duration::from_secs(1))
        .connect()
        .await
    else {
        return false;
    };
    let mut health = tonic_health::pb::health_client::HealthClient::new(ch);
    matches!(
        health.check(HealthCheckRequest { service: "takedown.v1.ClaimService".into() }).await,
        Ok(r) if r.get_ref().status == ServingStatus::Serving as i32
    )
}

async fn wait_until_leads(d: &Daemon) {
    let started = Instant::now();
    while !leads(d).await {
        assert!(
            started.elapsed() < WAIT,
            "the node does not lead after {WAIT:?}:\n{}",
            d.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The principals and articles of a test, made on the first leader.
struct Cast {
    admin: String,
    claimant: String,
    publisher: String,
}

async fn cast(leader: &Daemon, data: &Path) -> Cast {
    let admin = Daemon::admin_token(data);
    let ch = channel(leader).await;
    let (_, claimant) = create_principal(&ch, &admin, "Rights desk", &[Role::Claimant]).await;
    let (_, publisher) = create_principal(&ch, &admin, "CMS", &[Role::Publisher]).await;
    let mut p = PublisherServiceClient::new(authed(&ch, &publisher));
    for id in article_ids() {
        p.upsert_article(pb::UpsertArticleRequest {
            article: Some(fixtures::article(
                &id,
                &format!("https://news.example.org/2024/{id}"),
            )),
        })
        .await
        .expect("register an article");
    }
    Cast {
        admin,
        claimant,
        publisher,
    }
}

fn article_ids() -> Vec<String> {
    (0..ARTICLES).map(|i| format!("repl-article-{i}")).collect()
}

/// Files the notice of `request_id` (always the same notice for the same id).
async fn file(ch: &Channel, token: &str, request_id: &str) -> Result<pb::Claim, Status> {
    let n: usize = request_id.bytes().map(usize::from).sum();
    let article = &article_ids()[n % ARTICLES];
    ClaimServiceClient::new(authed(ch, token))
        .file_claim(pb::FileClaimRequest {
            request_id: request_id.to_string(),
            claim: Some(fixtures::notice(article, Regime::Dmca)),
        })
        .await
        .map(|r| r.into_inner().claim.unwrap_or_default())
}

/// The NOT_LEADER ErrorInfo's leader address, if `s` is one.
fn not_leader(s: &Status) -> Option<Option<String>> {
    let info = s.get_details_error_info()?;
    (s.code() == Code::Unavailable && info.reason == "NOT_LEADER")
        .then(|| info.metadata.get("leader").cloned())
}

/// Every claim id the node holds.
async fn all_claims(ch: &Channel, admin: &str) -> BTreeSet<String> {
    let mut client = ClaimServiceClient::new(authed(ch, admin));
    let mut out = BTreeSet::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_claims(pb::ListClaimsRequest {
                page_size: 500,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .expect("ListClaims")
            .into_inner();
        out.extend(page.claims.into_iter().map(|c| c.id));
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// VerifyAuditLog: (ok, head seq, head hash).
async fn verify(ch: &Channel, admin: &str) -> (bool, u64, String) {
    let r = AuditServiceClient::new(authed(ch, admin))
        .verify_audit_log(pb::VerifyAuditLogRequest::default())
        .await
        .expect("VerifyAuditLog")
        .into_inner();
    (r.ok, r.head_seq, r.head_hash)
}

/// Waits until `follower`'s chain head is `leader`'s, and returns it.
async fn same_head(leader: &Daemon, follower: &Daemon, admin: &str) -> (u64, String) {
    let (lch, fch) = (channel(leader).await, channel(follower).await);
    let started = Instant::now();
    loop {
        let (lok, lseq, lhash) = verify(&lch, admin).await;
        let (fok, fseq, fhash) = verify(&fch, admin).await;
        assert!(lok && fok, "a chain does not verify");
        if lseq == fseq && lhash == fhash {
            return (lseq, lhash);
        }
        assert!(
            started.elapsed() < WAIT,
            "the follower is at seq {fseq} ({fhash}), the leader at {lseq} ({lhash}) after {WAIT:?}:\n{}",
            follower.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the writers were told.
#[derive(Default)]
struct Ledger {
    /// request_id -> claim id, for every acknowledged FileClaim.
    acked: BTreeMap<String, String>,
    /// request_ids whose FileClaim got no answer or an outcome-unknown one.
    unknown: BTreeSet<String>,
    /// request_ids refused as not recorded (NOT_LEADER).
    refused: BTreeSet<String>,
}

/// Runs `n` writers filing claims against `ch` until `stop`.
fn writers(
    n: usize,
    ch: &Channel,
    token: &str,
    stop: &Arc<AtomicBool>,
    ledger: &Arc<Mutex<Ledger>>,
    tag: &str,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..n)
        .map(|w| {
            let (ch, token, stop, ledger) =
                (ch.clone(), token.to_string(), stop.clone(), ledger.clone());
            let tag = tag.to_string();
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let request_id = format!("{tag}-w{w}-{i}");
                    match file(&ch, &token, &request_id).await {
                        Ok(c) => {
                            ledger.lock().unwrap().acked.insert(request_id, c.id);
                        }
                        Err(s) if not_leader(&s).is_some() => {
                            ledger.lock().unwrap().refused.insert(request_id);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        Err(_) => {
                            ledger.lock().unwrap().unknown.insert(request_id);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_standby_takes_over_from_a_killed_leader_with_every_acknowledged_claim() {
    let Some(cluster) = cluster_or_skip("replication") else {
        return;
    };
    let setup = Setup::new(cluster);
    let mut a = setup.start("a", 1).await;
    wait_until_leads(&a).await;
    let (flag, b_metrics) = metrics_flag();
    let b = setup.start_with("b", 1, &flag).await;
    assert!(!leads(&b).await, "the second node must be a standby");
    assert_eq!(metric(b_metrics, "takedown_replication_role"), 0.0);
    let cast = cast(&a, &setup.data("a")).await;

    // A standby refuses writes, naming the leader.
    let bch = channel(&b).await;
    let refused = file(&bch, &cast.claimant, "to-the-standby")
        .await
        .expect_err("a standby takes no writes");
    assert_eq!(
        not_leader(&refused),
        Some(Some(a.url())),
        "NOT_LEADER naming the leader: {refused:?}"
    );

    // 8 writers on the leader; kill -9 it under their load.
    let ach = channel(&a).await;
    let stop = Arc::new(AtomicBool::new(false));
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let tasks = writers(8, &ach, &cast.claimant, &stop, &ledger, "load");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    a.signal(Signal::SIGKILL);
    let killed = Instant::now();
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        let _ = t.await;
    }
    a.kill();

    // The standby takes over: the first write it acknowledges marks the takeover.
    let mut probe = 0;
    let takeover = loop {
        probe += 1;
        match file(&bch, &cast.claimant, &format!("probe-{probe}")).await {
            Ok(c) => {
                ledger
                    .lock()
                    .unwrap()
                    .acked
                    .insert(format!("probe-{probe}"), c.id);
                break killed.elapsed();
            }
            Err(_) => {
                assert!(
                    killed.elapsed() < TAKEOVER_BOUND,
                    "no takeover within {TAKEOVER_BOUND:?}:\n{}",
                    b.log_tail()
                );
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
    };
    let (acked, unknown) = {
        let l = ledger.lock().unwrap();
        (l.acked.clone(), l.unknown.clone())
    };
    println!(
        "takeover: the standby acknowledged its first write {} ms after the leader was killed (lease {LEASE_SECS} s); {} claims were acknowledged before, {} in flight",
        takeover.as_millis(),
        acked.len(),
        unknown.len()
    );
    assert!(acked.len() > 8, "the writers got some claims acknowledged");
    assert_eq!(metric(b_metrics, "takedown_replication_role"), 1.0);
    assert!(metric(b_metrics, "takedown_replication_lease_renewals_total") >= 1.0);
    assert!(metric(b_metrics, "takedown_replication_followed_entries_total") >= acked.len() as f64);

    // Every acknowledged claim is on the new leader.
    let held = all_claims(&bch, &cast.admin).await;
    let missing: Vec<_> = acked.values().filter(|id| !held.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged claims missing: {missing:?}"
    );

    // Retrying the unacknowledged request_ids: each gives one claim, and again the same.
    let mut retried = BTreeMap::new();
    for request_id in &unknown {
        let first = file(&bch, &cast.claimant, request_id).await.expect("retry");
        let again = file(&bch, &cast.claimant, request_id).await.expect("retry");
        assert_eq!(first.id, again.id, "a retried request_id is one claim");
        retried.insert(request_id.clone(), first.id);
    }
    let held = all_claims(&bch, &cast.admin).await;
    let expected: BTreeSet<String> = acked.values().chain(retried.values()).cloned().collect();
    assert_eq!(
        held, expected,
        "the new leader holds exactly the acknowledged and the retried claims (no duplicate)"
    );

    // The chain verifies, and the old leader, restarted, rejoins as a standby with
    // the very same chain.
    let (ok, _, _) = verify(&bch, &cast.admin).await;
    assert!(ok, "the chain verifies on the new leader");
    let a2 = setup.start("a", 2).await;
    assert!(!leads(&a2).await, "the old leader rejoins as a standby");
    let (seq, hash) = same_head(&b, &a2, &cast.admin).await;
    println!("both nodes verify to seq {seq}, head hash {hash}");

    // Both read the claims alike, personal data included: the standby holds the
    // leader's data keys.
    let a2ch = channel(&a2).await;
    for id in acked.values().take(5) {
        let get = |ch: Channel| {
            let (admin, id) = (cast.admin.clone(), id.clone());
            async move {
                ClaimServiceClient::new(authed(&ch, &admin))
                    .get_claim(pb::GetClaimRequest { claim_id: id })
                    .await
                    .expect("GetClaim")
                    .into_inner()
            }
        };
        let (on_b, on_a2) = (get(bch.clone()).await, get(a2ch.clone()).await);
        assert_eq!(on_b, on_a2, "claim {id} reads the same on both nodes");
        assert!(
            format!("{on_a2:?}").contains("Shen Chen"),
            "the standby reads the notifier's name in clear: {on_a2:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_paused_leader_is_fenced_and_acknowledges_nothing_after_the_takeover() {
    let Some(cluster) = cluster_or_skip("replication") else {
        return;
    };
    let setup = Setup::new(cluster);
    let (flag, a_metrics) = metrics_flag();
    let a = setup.start_with("a", 1, &flag).await;
    wait_until_leads(&a).await;
    let b = setup.start("b", 1).await;
    let cast = cast(&a, &setup.data("a")).await;
    let (ach, bch) = (channel(&a).await, channel(&b).await);

    // Writers on the old leader run through the pause and after it.
    let stop = Arc::new(AtomicBool::new(false));
    let old = Arc::new(Mutex::new(Ledger::default()));
    let tasks = writers(4, &ach, &cast.claimant, &stop, &old, "old");
    tokio::time::sleep(Duration::from_millis(500)).await;
    a.signal(Signal::SIGSTOP);
    let paused = Instant::now();
    wait_until_leads(&b).await;
    println!(
        "the standby leads {} ms after the leader was paused",
        paused.elapsed().as_millis()
    );
    let new = Arc::new(Mutex::new(Ledger::default()));
    let new_tasks = writers(4, &bch, &cast.claimant, &stop, &new, "new");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let acked_before_resume = old.lock().unwrap().acked.clone();
    a.signal(Signal::SIGCONT);
    let resumed = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::SeqCst);
    for t in tasks.into_iter().chain(new_tasks) {
        let _ = t.await;
    }

    // The old leader acknowledged nothing filed after it was resumed...
    let old = std::mem::take(&mut *old.lock().unwrap());
    let late: Vec<_> = old
        .acked
        .keys()
        .filter(|r| !acked_before_resume.contains_key(*r))
        .collect();
    // (a request sent before the pause may be answered after it: only if the stream
    // took it before the takeover, which the history check below proves)
    // ...and refuses every write now, naming the new leader.
    let refused = file(&ach, &cast.claimant, "after-the-pause")
        .await
        .expect_err("the old leader takes no writes");
    assert_eq!(not_leader(&refused), Some(Some(b.url())), "{refused:?}");
    assert_eq!(metric(a_metrics, "takedown_replication_role"), 0.0);
    let fenced = metric(
        a_metrics,
        r#"takedown_replication_fenced_total{by="lease"}"#,
    ) + metric(
        a_metrics,
        r#"takedown_replication_fenced_total{by="stream"}"#,
    );
    assert!(fenced >= 1.0, "the old leader counts how it was fenced");
    assert!(
        a.log_text().contains("stepped down"),
        "the old leader says it stepped down:\n{}",
        a.log_tail()
    );
    let new = std::mem::take(&mut *new.lock().unwrap());
    assert!(!new.acked.is_empty(), "the new leader took writes");

    // No split brain: what the stream's history holds (as the new leader serves it)
    // has every claim either node acknowledged, and nothing else but the in-flight.
    let held = all_claims(&bch, &cast.admin).await;
    for (who, ledger) in [("old", &old), ("new", &new)] {
        let missing: Vec<_> = ledger
            .acked
            .values()
            .filter(|id| !held.contains(*id))
            .collect();
        assert!(
            missing.is_empty(),
            "claims the {who} leader acknowledged are not in the stream: {missing:?}"
        );
    }
    let acked: BTreeSet<&String> = old.acked.values().chain(new.acked.values()).collect();
    let extra = held.iter().filter(|id| !acked.contains(id)).count();
    assert!(
        extra <= old.unknown.len() + new.unknown.len(),
        "the stream holds {extra} claims nobody acknowledged, more than the {} in flight",
        old.unknown.len() + new.unknown.len()
    );
    println!(
        "old leader: {} acknowledged ({} answered after the resume, {} ms), {} refused, {} unknown; new leader: {} acknowledged",
        old.acked.len(),
        late.len(),
        resumed.elapsed().as_millis(),
        old.refused.len(),
        old.unknown.len(),
        new.acked.len()
    );
    // The old leader follows the new one: the same chain.
    same_head(&b, &a, &cast.admin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_go_on_with_one_nats_node_down_and_it_catches_up() {
    let Some(cluster) = cluster_or_skip("replication") else {
        return;
    };
    let mut setup = Setup::new(cluster);
    let a = setup.start("a", 1).await;
    wait_until_leads(&a).await;
    let b = setup.start("b", 1).await;
    let cast = cast(&a, &setup.data("a")).await;
    let ach = channel(&a).await;

    let bch = channel(&b).await;
    setup.cluster.kill(2);
    // Every write is acknowledged (a client retries one the reconnect cut off, at the
    // node that leads).
    let mut filed = BTreeSet::new();
    let mut at_a = true;
    for i in 0..40 {
        let request_id = format!("one-down-{i}");
        let started = Instant::now();
        let claim = loop {
            let ch = if at_a { &ach } else { &bch };
            match file(ch, &cast.claimant, &request_id).await {
                Ok(c) => break c,
                Err(s) => {
                    if let Some(Some(leader)) = not_leader(&s) {
                        at_a = leader == a.url();
                        println!("the leader moved to {leader} (one NATS node down)");
                        continue;
                    }
                    assert!(
                        started.elapsed() < WAIT,
                        "{request_id} not acknowledged with one NATS node down: {s:?}\n{}",
                        a.log_tail()
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        filed.insert(claim.id);
    }
    let (seq, _) = if at_a {
        same_head(&a, &b, &cast.admin).await
    } else {
        same_head(&b, &a, &cast.admin).await
    };
    setup.cluster.restart(2);
    let started = Instant::now();
    loop {
        let state = setup.cluster.stream_state(2, STREAM);
        if state.is_some_and(|s| s.last_seq == seq && s.messages == seq) {
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "the restarted NATS node's copy is {state:?}, not at seq {seq}:\n{}",
            setup.cluster.log_tail(2)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for ch in [&ach, &bch] {
        let held = all_claims(ch, &cast.admin).await;
        assert!(filed.is_subset(&held), "both nodes hold every claim");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_rejoining_with_an_unacknowledged_tail_cuts_it_and_follows() {
    let Some(cluster) = cluster_or_skip("replication") else {
        return;
    };
    let mut setup = Setup::new(cluster);
    let mut a = setup.start("a", 1).await;
    wait_until_leads(&a).await;
    let b = setup.start("b", 1).await;
    let cast = cast(&a, &setup.data("a")).await;
    let ach = channel(&a).await;
    let (acked_seq, _) = same_head(&a, &b, &cast.admin).await;

    // With every NATS node down, the leader journals and syncs a write but gets no
    // acknowledgement; it is killed while it waits.
    for i in 0..3 {
        setup.cluster.kill(i);
    }
    let pending = tokio::spawn({
        let (ch, token) = (ach.clone(), cast.claimant.clone());
        async move { file(&ch, &token, "never-acknowledged").await }
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    a.signal(Signal::SIGKILL);
    assert!(
        pending.await.expect("join").is_err(),
        "the write was not acknowledged"
    );
    a.kill();
    setup.cluster.restart_all_killed();

    // The standby takes over and writes at the seq the dead leader's tail holds.
    wait_until_leads(&b).await;
    let bch = channel(&b).await;
    let took_over = file(&bch, &cast.claimant, "after-the-takeover")
        .await
        .expect("the new leader takes writes");

    // The old leader comes back: it cuts its tail and follows.
    let a2 = setup.start("a", 2).await;
    let (seq, _) = same_head(&b, &a2, &cast.admin).await;
    assert!(seq > acked_seq);
    let log = a2.log_text();
    assert!(
        log.contains("cut entries the stream never acknowledged"),
        "the rejoining node says it cut its tail:\n{}",
        a2.log_tail()
    );
    let quarantine = setup.data("a").join("journal").join("quarantine");
    let kept: Vec<_> = std::fs::read_dir(&quarantine)
        .expect("the quarantine folder")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("unreplicated-"))
        .collect();
    assert_eq!(kept.len(), 1, "the cut entry's bytes are kept");
    let a2ch = channel(&a2).await;
    let held = all_claims(&a2ch, &cast.admin).await;
    assert_eq!(held, all_claims(&bch, &cast.admin).await);
    assert!(held.contains(&took_over.id));
    // The unacknowledged notice, sent again to the leader, is filed once.
    let retried = file(&bch, &cast.claimant, "never-acknowledged")
        .await
        .expect("retry at the leader");
    assert!(
        !held.contains(&retried.id),
        "the cut claim was not kept anywhere"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_that_ran_alone_puts_its_journal_into_an_empty_stream_and_a_new_node_follows() {
    let Some(cluster) = cluster_or_skip("replication") else {
        return;
    };
    let setup = Setup::new(cluster);
    // A single node, as by default (with the data key it will replicate with).
    let alone = Daemon::start(
        &setup.data("a"),
        &setup.dir.path().join("alone.log"),
        &[
            "--data-key-file".to_string(),
            setup.key.display().to_string(),
        ],
    )
    .await;
    let cast = cast(&alone, &setup.data("a")).await;
    let ch = channel(&alone).await;
    let mut filed = BTreeSet::new();
    for i in 0..5 {
        filed.insert(
            file(&ch, &cast.claimant, &format!("alone-{i}"))
                .await
                .expect("file")
                .id,
        );
    }
    let (_, seq, hash) = verify(&ch, &cast.admin).await;
    drop(ch);
    drop(alone);

    // Started with --replicate on an empty stream, it publishes its journal and leads.
    let a = setup.start("a", 2).await;
    wait_until_leads(&a).await;
    assert!(
        a.log_text()
            .contains("putting this node's journal into the empty stream"),
        "{}",
        a.log_tail()
    );
    // A new, empty node builds everything from the stream: the same chain, the same
    // claims, the personal data readable.
    let b = setup.start("b", 1).await;
    let (b_seq, b_hash) = same_head(&a, &b, &cast.admin).await;
    assert_eq!((b_seq, b_hash), (seq, hash));
    let bch = channel(&b).await;
    assert_eq!(all_claims(&bch, &cast.admin).await, filed);
    let id = filed.iter().next().expect("a claim").clone();
    let claim = ClaimServiceClient::new(authed(&bch, &cast.admin))
        .get_claim(pb::GetClaimRequest { claim_id: id })
        .await
        .expect("GetClaim on the new node")
        .into_inner();
    assert!(format!("{claim:?}").contains("Shen Chen"), "{claim:?}");
    // And the leader takes writes, which the new node follows.
    let more = file(&channel(&a).await, &cast.claimant, "replicated-1")
        .await
        .expect("a write after the move");
    same_head(&a, &b, &cast.admin).await;
    assert!(all_claims(&bch, &cast.admin).await.contains(&more.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_whose_acknowledged_entries_the_stream_does_not_hold_refuses_to_start() {
    let Some(cluster) = cluster_or_skip("replication") else {
        return;
    };
    let setup = Setup::new(cluster);
    let mut a = setup.start("a", 1).await;
    wait_until_leads(&a).await;
    let cast = cast(&a, &setup.data("a")).await;
    file(&channel(&a).await, &cast.claimant, "a-1")
        .await
        .expect("file");
    a.signal(Signal::SIGTERM);
    assert!(a.wait_exit(WAIT).await.is_some_and(|s| s.success()));

    // The stream is deleted and another history grows in its place.
    let client = async_nats::connect(setup.cluster.url(0))
        .await
        .expect("connect to NATS");
    let js = async_nats::jetstream::new(client);
    js.delete_stream(STREAM).await.expect("delete the stream");
    js.delete_key_value(format!("{STREAM}-lease"))
        .await
        .expect("delete the lease bucket");
    let b = setup.start("b", 1).await;
    wait_until_leads(&b).await;
    let admin_b = Daemon::admin_token(&setup.data("b"));
    let bch = channel(&b).await;
    for i in 0..20 {
        create_principal(&bch, &admin_b, &format!("desk {i}"), &[Role::Reviewer]).await;
    }

    // The old node's acknowledged entries are not the stream's: it refuses to start,
    // and says why, changing nothing.
    let mut a2 = Daemon::spawn(
        &setup.data("a"),
        &setup.dir.path().join("a-2.log"),
        &setup.args(),
    );
    let status = a2.wait_exit(WAIT).await.expect("the node exits");
    assert!(!status.success());
    let log = a2.log_text();
    assert!(
        log.contains("an entry both acknowledged: they are not the same record"),
        "{log}"
    );
    assert!(
        !setup.data("a").join("journal").join("quarantine").exists(),
        "nothing was cut"
    );
}

/// Entries `from..=to` of a chain, sealed as the writer seals them.
fn sealed(from: u64, to: u64, prev: [u8; 32], actor: &str) -> (Vec<pb::JournalEntry>, [u8; 32]) {
    let mut prev = prev;
    let entries = (from..=to)
        .map(|seq| {
            let mut entry = pb::JournalEntry {
                audit: Some(pb::AuditEntry {
                    actor: actor.to_string(),
                    action: "CreatePrincipal".to_string(),
                    ..Default::default()
                }),
                records: Vec::new(),
            };
            prev = takedown::journal::seal(&mut entry, seq, &prev);
            entry
        })
        .collect();
    (entries, prev)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_stream_refuses_a_publish_that_does_not_extend_its_end() {
    use takedown::replica::{Link, ReplicaConfig};
    use takedown::writer::PublishFailure;
    let Some(cluster) = cluster_or_skip("replication") else {
        return;
    };
    let config = ReplicaConfig {
        urls: cluster.urls(),
        stream: "fence-test".into(),
        replicas: 3,
        lease: Duration::from_secs(2),
        advertise: None,
        creds: None,
        publish_timeout: Duration::from_secs(5),
    };
    // Two nodes that both saw the stream end at seq 2.
    let old = Link::connect(config.clone(), "http://old".into())
        .await
        .expect("connect");
    let new = Link::connect(config, "http://new".into())
        .await
        .expect("connect");
    let (common, head) = sealed(1, 2, takedown::journal::GENESIS, "system");
    old.publish_entries(&common, Vec::new())
        .await
        .expect("the first entries");
    // The new leader appends seq 3 and 4.
    let (theirs, _) = sealed(3, 4, head, "new leader");
    new.publish_entries(&theirs, Vec::new())
        .await
        .expect("the new leader appends");
    // The old leader, which did not see them, cannot append its own seq 3.
    let (ours, _) = sealed(3, 3, head, "old leader");
    let refused = old.publish_entries(&ours, Vec::new()).await;
    assert!(
        matches!(refused, Err(PublishFailure::Refused { .. })),
        "the stale publish must be refused: {refused:?}"
    );
    // The stream holds the new leader's entries at 3 and 4, and nothing after.
    let (_, last) = old.bounds().await.expect("bounds");
    assert_eq!(last, 4);
    let at_3 = old.get(3).await.expect("get").expect("seq 3");
    assert_eq!(at_3.entry, theirs[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_standby_serves_the_audit_log_and_streams_the_leaders_events() {
    use takedown::pb::audit_service_client::AuditServiceClient;
    let Some(cluster) = cluster_or_skip("replication") else {
        return;
    };
    let setup = Setup::new(cluster);
    let a = setup.start("a", 1).await;
    wait_until_leads(&a).await;
    let b = setup.start("b", 1).await;
    let cast = cast(&a, &setup.data("a")).await;
    let (head, _) = same_head(&a, &b, &cast.admin).await;
    let (ach, bch) = (channel(&a).await, channel(&b).await);

    // A CMS following events on the standby sees the leader's new entries.
    let mut events = PublisherServiceClient::new(authed(&bch, &cast.publisher))
        .watch_events(pb::WatchEventsRequest {
            after_seq: head,
            actions: vec!["FileClaim".into()],
            ..Default::default()
        })
        .await
        .expect("WatchEvents on the standby")
        .into_inner();
    let mut filed = Vec::new();
    for i in 0..3 {
        filed.push(
            file(&ach, &cast.claimant, &format!("watched-{i}"))
                .await
                .expect("file")
                .id,
        );
    }
    let mut seen = Vec::new();
    while seen.len() < filed.len() {
        let message = tokio::time::timeout(WAIT, events.message())
            .await
            .expect("the standby streams the leader's entries in time")
            .expect("the stream goes on")
            .expect("the stream does not end");
        if let Some(entry) = message.entry {
            seen.push(entry.claim_id);
        }
    }
    assert_eq!(seen, filed, "the leader's FileClaims, in order");

    // The audit entries of a claim read the same on both nodes.
    let list = |ch: Channel, claim_id: String| {
        let admin = cast.admin.clone();
        async move {
            AuditServiceClient::new(authed(&ch, &admin))
                .list_audit_entries(pb::ListAuditEntriesRequest {
                    claim_id,
                    ..Default::default()
                })
                .await
                .expect("ListAuditEntries")
                .into_inner()
                .entries
        }
    };
    let on_a = list(ach.clone(), filed[0].clone()).await;
    let on_b = list(bch.clone(), filed[0].clone()).await;
    assert!(!on_a.is_empty());
    assert_eq!(on_a, on_b);
}
