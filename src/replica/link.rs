//! The connection to NATS: the stream that holds the journal, the bucket that holds
//! the lease, and this node's role. [`Link`] is the writer's
//! [`Replicator`](crate::writer::Replicator): it publishes a synced group with the
//! expected last sequence on every message, so that only a node whose journal ends
//! where the stream ends can append (`docs/architecture.md`, "Replication").

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer, context::PublishErrorKind, kv, stream};
use prost::Message as _;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio_stream::StreamExt;

use super::{ReplicaConfig, ReplicaError};
use crate::pb;
use crate::writer::{PublishFailure, Replicated, Replicator, WriteError};

/// The key of the lease in its bucket.
const LEASE_KEY: &str = "leader";
/// How long a start waits for JetStream to set up the stream and the lease bucket.
const SETUP_PATIENCE: Duration = Duration::from_secs(60);

/// The stream: every entry kept (the record of what was acknowledged), nothing
/// deleted or purged.
fn stream_config(config: &ReplicaConfig) -> stream::Config {
    stream::Config {
        name: config.stream.clone(),
        subjects: vec![config.subject()],
        storage: stream::StorageType::File,
        num_replicas: config.replicas,
        retention: stream::RetentionPolicy::Limits,
        deny_delete: true,
        deny_purge: true,
        allow_direct: true,
        ..Default::default()
    }
}

/// The lease bucket: one value, gone `lease` after its last write.
fn lease_config(config: &ReplicaConfig) -> kv::Config {
    kv::Config {
        bucket: config.lease_bucket(),
        history: 1,
        max_age: config.lease,
        storage: stream::StorageType::File,
        num_replicas: config.replicas,
        ..Default::default()
    }
}

/// What a node is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Follows the stream, serves reads, refuses writes.
    Standby,
    /// Holds the lease and takes writes.
    Leader,
}

/// The lease's value: who holds it and where clients reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Unique per process start.
    pub node: String,
    /// The holder's `--advertise-addr`.
    pub addr: String,
}

/// See the module docs.
pub struct Link {
    config: ReplicaConfig,
    js: jetstream::Context,
    stream: stream::Stream,
    lease: kv::Store,
    runtime: tokio::runtime::Handle,
    me: Holder,
    state: Mutex<State>,
    role: watch::Sender<Role>,
}

struct State {
    leading: bool,
    /// When this node's lease runs out unless renewed: the time its last renewal was
    /// sent, plus the lease, less a margin.
    lease_until: Option<Instant>,
    /// The leader's address, as the lease names it.
    leader: Option<String>,
}

fn pub_failure(kind: PublishErrorKind, cause: String, leader: Option<String>) -> PublishFailure {
    match kind {
        PublishErrorKind::WrongLastSequence => PublishFailure::Refused { leader },
        _ => PublishFailure::Unknown(cause),
    }
}

impl Link {
    /// Connects, and makes the stream and the lease bucket if they are missing.
    pub async fn connect(
        config: ReplicaConfig,
        advertise: String,
    ) -> Result<Arc<Link>, ReplicaError> {
        let connect_err = |cause: String| ReplicaError::Connect {
            urls: config.urls.clone(),
            cause,
        };
        let addrs: Vec<async_nats::ServerAddr> = config
            .urls
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| {
                u.parse()
                    .map_err(|e| connect_err(format!("{u:?} is not a NATS URL: {e}")))
            })
            .collect::<Result<_, _>>()?;
        if addrs.is_empty() {
            return Err(connect_err("no server given".into()));
        }
        let mut options = async_nats::ConnectOptions::new()
            .name(format!("takedownd {advertise}"))
            .connection_timeout(Duration::from_secs(5));
        if let Some(creds) = &config.creds {
            options = options.credentials_file(creds).await.map_err(|e| {
                connect_err(format!("the credentials file {}: {e}", creds.display()))
            })?;
        }
        let client = options
            .connect(addrs)
            .await
            .map_err(|e| connect_err(e.to_string()))?;
        let mut js = jetstream::new(client);
        js.set_timeout(config.publish_timeout);
        // A cluster that is just starting (or electing a meta leader) times requests
        // out for a while: keep asking for a bounded time.
        let deadline = Instant::now() + SETUP_PATIENCE;
        let stream = loop {
            match js.get_or_create_stream(stream_config(&config)).await {
                Ok(stream) => break stream,
                Err(e) if Instant::now() < deadline => {
                    tracing::warn!(error = %e, "JetStream did not set up the stream yet; asking again");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => return Err(ReplicaError::js(format!("stream {}", config.stream), e)),
            }
        };
        let lease = loop {
            let got = match js.get_key_value(config.lease_bucket()).await {
                Ok(lease) => Ok(lease),
                Err(_) => js
                    .create_key_value(lease_config(&config))
                    .await
                    .map_err(|e| e.to_string()),
            };
            match got {
                Ok(lease) => break lease,
                Err(e) if Instant::now() < deadline => {
                    tracing::warn!(error = %e, "JetStream did not set up the lease bucket yet; asking again");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => {
                    return Err(ReplicaError::js(
                        format!("bucket {}", config.lease_bucket()),
                        e,
                    ));
                }
            }
        };
        // The lease lasts what the bucket keeps a value, whatever this node was told:
        // the bucket was made by the first node with its own --replicate-lease-secs.
        let mut config = config;
        if let Ok(status) = lease.status().await
            && !status.max_age().is_zero()
            && status.max_age() != config.lease
        {
            tracing::warn!(
                bucket_secs = status.max_age().as_secs_f64(),
                asked_secs = config.lease.as_secs_f64(),
                "the lease bucket keeps a lease for another time than --replicate-lease-secs; using the bucket's (to change it, stop every node and delete the bucket)"
            );
            config.lease = status.max_age();
        }
        let (role, _) = watch::channel(Role::Standby);
        metrics::gauge!("takedown_replication_role").set(0.0);
        Ok(Arc::new(Link {
            config,
            js,
            stream,
            lease,
            runtime: tokio::runtime::Handle::current(),
            me: Holder {
                node: uuid::Uuid::now_v7().to_string(),
                addr: advertise,
            },
            state: Mutex::new(State {
                leading: false,
                lease_until: None,
                leader: None,
            }),
            role,
        }))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn config(&self) -> &ReplicaConfig {
        &self.config
    }

    /// This node, as the lease names it.
    pub fn me(&self) -> &Holder {
        &self.me
    }

    /// Follows the role.
    pub fn watch_role(&self) -> watch::Receiver<Role> {
        self.role.subscribe()
    }

    pub fn role(&self) -> Role {
        *self.role.borrow()
    }

    /// The leader's address as last seen in the lease (this node's own while it leads).
    pub fn leader(&self) -> Option<String> {
        self.state().leader.clone()
    }

    pub(super) fn set_leader(&self, leader: Option<String>) {
        self.state().leader = leader;
    }

    /// The stream's last sequence (0 if empty) and first (1, or the first message
    /// left).
    pub async fn bounds(&self) -> Result<(u64, u64), ReplicaError> {
        let mut stream = self.stream.clone();
        let info = stream
            .info()
            .await
            .map_err(|e| ReplicaError::js("stream info", e))?;
        Ok((info.state.first_sequence, info.state.last_sequence))
    }

    /// The entry at `seq`, `None` if the stream does not have it.
    pub async fn get(&self, seq: u64) -> Result<Option<Replicated>, ReplicaError> {
        match self.stream.direct_get(seq).await {
            Ok(m) => decode(&m.payload).map(Some),
            Err(e) if matches!(e.kind(), stream::DirectGetErrorKind::NotFound) => Ok(None),
            Err(e) => Err(ReplicaError::js(format!("reading seq {seq}"), e)),
        }
    }

    /// Entries `from..=to`, read with an ordered consumer.
    pub async fn fetch(&self, from: u64, to: u64) -> Result<Vec<Replicated>, ReplicaError> {
        let mut out = Vec::with_capacity((to + 1).saturating_sub(from) as usize);
        if to < from {
            return Ok(out);
        }
        let mut messages = self.subscribe(from).await?;
        let wait = self.config.publish_timeout;
        loop {
            let message = match tokio::time::timeout(wait, messages.next()).await {
                Ok(Some(message)) => message,
                Ok(None) => break,
                Err(_) => {
                    return Err(ReplicaError::js(
                        format!("reading seq {from} to {to}"),
                        format!("no message for {wait:?}"),
                    ));
                }
            };
            let message = message.map_err(|e| ReplicaError::js("reading the stream", e))?;
            let seq = message
                .info()
                .map_err(|e| ReplicaError::js("a message's sequence", e))?
                .stream_sequence;
            out.push(decode(&message.payload)?);
            if seq >= to {
                break;
            }
        }
        Ok(out)
    }

    /// An ordered consumer over the stream from `from`.
    pub async fn subscribe(&self, from: u64) -> Result<consumer::pull::Ordered, ReplicaError> {
        let consumer = self
            .stream
            .create_consumer(consumer::pull::OrderedConfig {
                deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                    start_sequence: from.max(1),
                },
                ..Default::default()
            })
            .await
            .map_err(|e| ReplicaError::js("creating a consumer", e))?;
        consumer
            .messages()
            .await
            .map_err(|e| ReplicaError::js("reading the stream", e))
    }

    /// Who holds the lease, and its revision; `None` if nobody does.
    pub async fn holder(&self) -> Result<Option<(u64, Holder)>, ReplicaError> {
        let entry = self
            .lease
            .entry(LEASE_KEY)
            .await
            .map_err(|e| ReplicaError::js("reading the lease", e))?;
        Ok(entry.and_then(|e| {
            if e.operation != kv::Operation::Put {
                return None;
            }
            serde_json::from_slice::<Holder>(&e.value)
                .ok()
                .map(|h| (e.revision, h))
        }))
    }

    fn value(&self) -> bytes::Bytes {
        serde_json::to_vec(&self.me).unwrap_or_default().into()
    }

    /// Takes the lease if nobody holds it: its revision, `None` if another node won.
    pub async fn try_take(&self) -> Result<Option<u64>, ReplicaError> {
        let sent = Instant::now();
        match self.lease.create(LEASE_KEY, self.value()).await {
            Ok(revision) => {
                self.renewed(sent);
                Ok(Some(revision))
            }
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(ReplicaError::js("taking the lease", e)),
        }
    }

    /// Renews the lease held at `revision`: the new revision, or `None` if it was lost
    /// (another node holds it now).
    ///
    /// A renewal waits at most a quarter lease (a connection that just moved to
    /// another NATS server must not make the lease run out while it waits). One that
    /// timed out may still have been written: a later renewal at the old revision is
    /// then refused, so a refusal is checked against who holds the lease now.
    pub async fn renew(&self, revision: u64) -> Result<Option<u64>, ReplicaError> {
        let sent = Instant::now();
        let update = self.lease.update(LEASE_KEY, self.value(), revision);
        match tokio::time::timeout(self.config.lease / 4, update).await {
            Ok(Ok(revision)) => {
                self.renewed(sent);
                metrics::counter!("takedown_replication_lease_renewals_total").increment(1);
                Ok(Some(revision))
            }
            Ok(Err(e)) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                match self.holder().await? {
                    Some((revision, holder)) if holder.node == self.me.node => Ok(Some(revision)),
                    _ => Ok(None),
                }
            }
            Ok(Err(e)) => Err(ReplicaError::js("renewing the lease", e)),
            Err(_) => Err(ReplicaError::js(
                "renewing the lease",
                format!("no answer within {:?}", self.config.lease / 4),
            )),
        }
    }

    /// Gives the lease up (on a clean stop), so that a standby takes over at once.
    pub async fn release(&self, revision: u64) {
        if let Err(e) = self
            .lease
            .delete_expect_revision(LEASE_KEY, Some(revision))
            .await
        {
            tracing::warn!(error = %e, "could not give up the lease; a standby takes over when it runs out");
        }
    }

    /// The lease was (re)written at `sent`: it holds until `sent + lease` on the NATS
    /// servers' side, so this node counts on a little less.
    fn renewed(&self, sent: Instant) {
        let margin = self.config.lease / 10;
        self.state().lease_until = Some(sent + self.config.lease - margin);
    }

    /// True while this node's lease has not run out by its own clock.
    pub fn lease_valid(&self) -> bool {
        self.state().lease_until.is_some_and(|t| Instant::now() < t)
    }

    /// Starts taking writes (the journal has caught up with the stream).
    pub(super) fn lead(&self) {
        {
            let mut state = self.state();
            state.leading = true;
            state.leader = Some(self.me.addr.clone());
        }
        metrics::gauge!("takedown_replication_role").set(1.0);
        self.role.send_replace(Role::Leader);
    }

    /// Stops taking writes.
    pub fn step_down(&self, why: &str) {
        let was = {
            let mut state = self.state();
            let was = state.leading;
            state.leading = false;
            state.lease_until = None;
            if state.leader.as_deref() == Some(self.me.addr.as_str()) {
                state.leader = None;
            }
            was
        };
        if was {
            tracing::warn!(
                reason = why,
                "stepped down: this node is a standby now and refuses writes"
            );
            metrics::gauge!("takedown_replication_role").set(0.0);
            self.role.send_replace(Role::Standby);
        }
    }

    /// Publishes `entries` in order, each with its key records (`keys[i]`, or none),
    /// each expecting the stream to end just before it, and waits for every ack.
    pub async fn publish_entries(
        &self,
        entries: &[pb::JournalEntry],
        keys: Vec<Vec<u8>>,
    ) -> Result<(), PublishFailure> {
        let subject = self.config.subject();
        let mut acks = Vec::with_capacity(entries.len());
        let mut keys = keys.into_iter();
        for entry in entries {
            let seq = entry.audit.as_ref().map_or(0, |a| a.seq);
            let envelope = pb::ReplicatedEntry {
                entry: entry.encode_to_vec(),
                keys: keys.next().unwrap_or_default(),
            };
            let message = jetstream::message::PublishMessage::build()
                .payload(envelope.encode_to_vec().into())
                .expected_last_sequence(seq.saturating_sub(1));
            let ack = self
                .js
                .send_publish(subject.clone(), message)
                .await
                .map_err(|e| pub_failure(e.kind(), e.to_string(), self.leader()))?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await
                .map_err(|e| pub_failure(e.kind(), e.to_string(), self.leader()))?;
        }
        Ok(())
    }
}

/// Decodes a stream message.
pub fn decode(payload: &[u8]) -> Result<Replicated, ReplicaError> {
    let envelope = pb::ReplicatedEntry::decode(payload)
        .map_err(|e| ReplicaError::js("a stream message", format!("does not decode: {e}")))?;
    let entry = pb::JournalEntry::decode(envelope.entry.as_slice()).map_err(|e| {
        ReplicaError::js("a stream message", format!("holds no journal entry: {e}"))
    })?;
    Ok(Replicated {
        entry,
        payload: envelope.entry,
        keys: envelope.keys,
    })
}

impl Replicator for Link {
    fn admit(&self) -> Result<(), WriteError> {
        let state = self.state();
        if state.leading && state.lease_until.is_some_and(|t| Instant::now() < t) {
            return Ok(());
        }
        let leading = state.leading;
        let leader = state.leader.clone().filter(|l| *l != self.me.addr);
        drop(state);
        if leading {
            metrics::counter!("takedown_replication_fenced_total", "by" => "lease").increment(1);
            self.step_down("the lease ran out before a renewal came back");
        }
        Err(WriteError::NotLeader { leader })
    }

    fn publish(&self, entries: &[pb::JournalEntry], keys: Vec<u8>) -> Result<(), PublishFailure> {
        if let Err(WriteError::NotLeader { leader }) = self.admit() {
            return Err(PublishFailure::Refused { leader });
        }
        let started = Instant::now();
        let result = self
            .runtime
            .block_on(self.publish_entries(entries, vec![keys]));
        metrics::histogram!("takedown_replication_publish_seconds")
            .record(started.elapsed().as_secs_f64());
        match &result {
            Ok(()) => {}
            Err(PublishFailure::Refused { .. }) => {
                metrics::counter!("takedown_replication_fenced_total", "by" => "stream")
                    .increment(1);
                tracing::error!(
                    "the stream refused this node's publish: it holds entries this node does not (another node leads)"
                );
                self.step_down("the stream refused a publish");
            }
            Err(PublishFailure::Unknown(cause)) => {
                tracing::error!(%cause, "the stream did not confirm a publish");
                self.step_down("the stream did not confirm a publish");
            }
        }
        result
    }
}
