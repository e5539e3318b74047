//! The NATS JetStream cluster the journal replicates through, as the test kit runs
//! it ([`NatsCluster`]: three real `nats-server` processes on 127.0.0.1): an R3 file
//! stream keeps taking acknowledged writes with one node killed (a quorum of two),
//! and the killed node, restarted on its old store, catches up on its own copy; a
//! paused (SIGSTOPped) node catches up when it is resumed.
//!
//! Needs the real nats-server (`source scripts/tools.sh` installs it and sets
//! TAKEDOWN_NATS_SERVER). Outside CI a missing binary prints a loud SKIPPED line;
//! with `CI=true` it fails the test.

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, stream};
use takedown::testkit::nats::{NatsCluster, StreamState, nats_server_available};

const STREAM: &str = "JOURNAL";
const CATCH_UP: Duration = Duration::from_secs(30);

/// The cluster, or `None` after a loud skip line (outside CI only; in CI
/// [`NatsCluster::start`] fails with the install hint).
fn cluster_or_skip() -> Option<NatsCluster> {
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if !nats_server_available() && !in_ci {
        eprintln!(
            "SKIPPED nats_cluster: nats-server is missing; run `source scripts/tools.sh` \
             to check replication through a real JetStream cluster"
        );
        return None;
    }
    Some(NatsCluster::start(3))
}

/// Waits until node `i`'s own copy of the stream holds exactly `want` messages.
async fn wait_for_copy(cluster: &NatsCluster, i: usize, want: u64) {
    let want = StreamState {
        messages: want,
        last_seq: want,
    };
    let started = Instant::now();
    loop {
        let seen = cluster.stream_state(i, STREAM);
        if seen == Some(want) {
            return;
        }
        assert!(
            started.elapsed() < CATCH_UP,
            "node {i}'s copy of {STREAM} is {seen:?}, not {want:?}, after {CATCH_UP:?}; its log:\n{}",
            cluster.log_tail(i)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn publish(js: &jetstream::Context, from: u64, to: u64) {
    for n in from..=to {
        let ack = js
            .publish("journal.entries", format!("entry {n}").into())
            .await
            .unwrap_or_else(|e| panic!("publish entry {n}: {e}"))
            .await
            .unwrap_or_else(|e| panic!("the ack of entry {n}: {e}"));
        assert_eq!(ack.sequence, n, "entry {n} got sequence {}", ack.sequence);
    }
}

/// A client of every node, and the R3 file stream `JOURNAL` on `journal.>`.
async fn connect_and_create(
    cluster: &NatsCluster,
) -> (
    async_nats::Client,
    jetstream::Context,
    jetstream::stream::Stream,
) {
    let urls = cluster.urls();
    let urls: Vec<&str> = urls.split(',').collect();
    assert_eq!(urls.len(), 3, "one URL per node: {urls:?}");
    let client = async_nats::connect(urls.as_slice()).await.unwrap();
    let js = jetstream::new(client.clone());
    let journal = js
        .create_stream(stream::Config {
            name: STREAM.into(),
            subjects: vec!["journal.>".into()],
            num_replicas: 3,
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .unwrap();
    (client, js, journal)
}

/// A follower the client is not connected to: with it down, the stream leader and
/// the other follower are a quorum, so every write is acknowledged at once.
async fn quiet_follower(
    client: &async_nats::Client,
    journal: &mut jetstream::stream::Stream,
) -> usize {
    let leader = journal
        .info()
        .await
        .unwrap()
        .cluster
        .clone()
        .and_then(|c| c.leader)
        .expect("an R3 stream has a leader");
    let connected = client.server_info().server_name;
    (0..3)
        .find(|i| {
            let name = format!("n{i}");
            name != leader && name != connected
        })
        .expect("three nodes, one leader, one connected")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_r3_stream_takes_writes_with_a_node_down_and_the_node_catches_up() {
    let Some(mut cluster) = cluster_or_skip() else {
        return;
    };
    let (client, js, mut journal) = connect_and_create(&cluster).await;

    publish(&js, 1, 100).await;
    for i in 0..3 {
        wait_for_copy(&cluster, i, 100).await;
    }

    let victim = quiet_follower(&client, &mut journal).await;
    cluster.kill(victim);
    assert_eq!(
        cluster.stream_state(victim, STREAM),
        None,
        "a dead node answers nothing"
    );

    publish(&js, 101, 200).await;
    for i in (0..3).filter(|&i| i != victim) {
        wait_for_copy(&cluster, i, 200).await;
    }

    cluster.restart(victim);
    wait_for_copy(&cluster, victim, 200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_follower_catches_up_when_resumed() {
    let Some(cluster) = cluster_or_skip() else {
        return;
    };
    let (client, js, mut journal) = connect_and_create(&cluster).await;
    publish(&js, 1, 10).await;
    let victim = quiet_follower(&client, &mut journal).await;
    wait_for_copy(&cluster, victim, 10).await;

    cluster.pause(victim);
    publish(&js, 11, 50).await;
    assert_eq!(
        cluster.stream_state(victim, STREAM),
        None,
        "a paused node answers nothing"
    );

    cluster.resume(victim);
    wait_for_copy(&cluster, victim, 50).await;
}
