//! `takedownctl` against a replicated pair: two real `takedownd` processes
//! replicating through a three-node NATS JetStream cluster. With `--addr` listing
//! both nodes (standby first) a write goes to the leader; with the standby alone it
//! follows the standby's NOT_LEADER hint to the leader; after the leader is killed,
//! the same list writes through the standby that took over.
//!
//! Needs the real nats-server (`source scripts/tools.sh` installs it and sets
//! TAKEDOWN_NATS_SERVER). Outside CI a missing binary prints a loud SKIPPED line;
//! with `CI=true` it fails the test.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use takedown::testkit::nats::{NatsCluster, nats_server_available};
use tonic::transport::Endpoint;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::common::daemon::Daemon;
use crate::ctl::{Run, ctl_at};

/// How long a node may take to lead, or a standby to show a write.
const SETTLE: Duration = Duration::from_secs(30);
/// How long the standby may take to take over once the leader is killed: the lease
/// (2 s) runs out, then the standby catches up and takes it.
const FAILOVER: Duration = Duration::from_secs(15);

/// The cluster, or `None` after a loud skip line (outside CI only; in CI
/// [`NatsCluster::start`] fails with the install hint).
fn cluster_or_skip() -> Option<NatsCluster> {
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if !nats_server_available() && !in_ci {
        eprintln!(
            "SKIPPED ctl_replicated: nats-server is missing; run `source scripts/tools.sh` \
             to check takedownctl against a replicated pair"
        );
        return None;
    }
    Some(NatsCluster::start(3))
}

/// The status of `service` in the health of the node at `url`, if it answers.
async fn health(url: &str, service: &str) -> Option<i32> {
    let channel = Endpoint::from_shared(url.to_string())
        .ok()?
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(2))
        .connect()
        .await
        .ok()?;
    let answer = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_string(),
        })
        .await
        .ok()?;
    Some(answer.get_ref().status)
}

/// True if the node at `url` leads: its ClaimService health is SERVING.
async fn leads(url: &str) -> bool {
    health(url, "takedown.v1.ClaimService").await == Some(ServingStatus::Serving as i32)
}

async fn wait_until_leads(node: &Daemon, within: Duration) {
    let started = Instant::now();
    while !leads(&node.url()).await {
        assert!(
            started.elapsed() < within,
            "{} does not lead after {within:?}; its log:\n{}",
            node.url(),
            node.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates a principal named `name` through takedownctl with `--addr addrs`.
async fn create(addrs: &str, token: &str, name: &str) -> Run {
    ctl_at(
        addrs,
        token,
        &[
            "--addr",
            addrs,
            "-o",
            "json",
            "principals",
            "create",
            "--name",
            name,
            "--role",
            "reviewer",
        ],
    )
    .await
}

/// The display names of the principals the node at `url` lists.
async fn names_at(url: &str, token: &str) -> Vec<String> {
    let listed = ctl_at(url, token, &["-o", "json", "principals", "list"])
        .await
        .json();
    listed["principals"]
        .as_array()
        .expect("principals is an array")
        .iter()
        .filter_map(|p| p["displayName"].as_str().map(str::to_string))
        .collect()
}

/// Waits until the node at `url` lists a principal named `name`.
async fn wait_for_name(url: &str, token: &str, name: &str) {
    let started = Instant::now();
    loop {
        let names = names_at(url, token).await;
        if names.iter().any(|n| n == name) {
            return;
        }
        assert!(
            started.elapsed() < SETTLE,
            "{url} lists {names:?}, without {name:?}, after {SETTLE:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn write_key(path: &Path) {
    std::fs::write(path, format!("{}\n", "5a".repeat(32))).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn takedownctl_writes_at_the_leader_of_a_replicated_pair_and_follows_a_failover() {
    let Some(cluster) = cluster_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("data.key");
    write_key(&key);
    // The same key on both nodes: the standby reads what the leader sealed.
    let args: Vec<String> = vec![
        "--replicate".into(),
        cluster.urls(),
        "--replicate-lease-secs".into(),
        "2".into(),
        "--data-key-file".into(),
        key.display().to_string(),
    ];
    let (dir_a, dir_b) = (dir.path().join("a"), dir.path().join("b"));
    let mut a = Daemon::start(&dir_a, &dir.path().join("a.log"), &args).await;
    wait_until_leads(&a, SETTLE).await;
    let b = Daemon::start(&dir_b, &dir.path().join("b.log"), &args).await;
    let (leader, standby) = (a.url(), b.url());
    assert_eq!(
        health(&standby, "takedown.v1.ClaimService").await,
        Some(ServingStatus::NotServing as i32),
        "the second node is a standby; its log:\n{}",
        b.log_tail()
    );
    let token = Daemon::admin_token(&dir_a);

    // Both nodes, the standby first: the write goes to the leader at once.
    let both = format!("{standby},{leader}");
    let run = create(&both, &token, "Listed desk").await.ok();
    assert!(
        !run.stderr.contains("following"),
        "the leader was chosen first, no hint was needed: {}",
        run.stderr
    );
    let created: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(created["principal"]["displayName"], "Listed desk");
    wait_for_name(&leader, &token, "Listed desk").await;
    wait_for_name(&standby, &token, "Listed desk").await;

    // The standby alone refuses the write and names the leader; takedownctl follows.
    let run = create(&standby, &token, "Hinted desk").await.ok();
    assert!(
        run.stderr.contains("standby") && run.stderr.contains(&leader),
        "stderr says the leader's hint was followed: {}",
        run.stderr
    );
    let created: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(created["principal"]["displayName"], "Hinted desk");
    wait_for_name(&leader, &token, "Hinted desk").await;
    wait_for_name(&standby, &token, "Hinted desk").await;

    // The leader dies; the dead node first in the list, the standby takes over.
    a.kill();
    let dead_first = format!("{leader},{standby}");
    let started = Instant::now();
    let mut tries = Vec::new();
    loop {
        let run = create(&dead_first, &token, "After failover").await;
        if run.code == 0 {
            let created: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
            assert_eq!(created["principal"]["displayName"], "After failover");
            eprintln!(
                "ctl_replicated: a write went through {:?} after the leader was killed, \
                 after {} refused tries; the last: {}",
                started.elapsed(),
                tries.len(),
                tries.last().map_or("none", String::as_str)
            );
            break;
        }
        tries.push(format!("exit {}: {}", run.code, run.stderr.trim()));
        assert!(
            started.elapsed() < FAILOVER,
            "no write through {dead_first} within {FAILOVER:?} of the leader's death; \
             the tries:\n{}\nthe standby's log:\n{}",
            tries.join("\n"),
            b.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(leads(&standby).await, "the standby took over");
    let names = names_at(&standby, &token).await;
    for name in ["Listed desk", "Hinted desk", "After failover"] {
        assert!(
            names.iter().any(|n| n == name),
            "the new leader lists {names:?}, without {name:?}"
        );
    }
}
