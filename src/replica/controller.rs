//! The lease and the role while the server runs (`docs/architecture.md`,
//! "Replication"). A standby follows the stream into its writer and watches the
//! lease; when nobody holds it, it takes it, catches up to the end of the stream and
//! starts taking writes. A leader renews its lease several times per lease period
//! and steps down when a renewal is refused (another node took it) or cannot be made
//! before the lease runs out; the writer also refuses writes by itself once the lease
//! has run out by this node's clock, and the stream refuses any publish that does not
//! extend its end, so a replaced leader cannot acknowledge a write.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_stream::StreamExt;

use super::link::decode;
use super::{Link, Role};
use crate::writer::WriterHandle;

/// Entries per follow batch.
const BATCH: usize = 512;
/// How long a standby's head may stand still while the stream is ahead before its
/// follower is started again.
const STALL: Duration = Duration::from_secs(2);

/// See the module docs.
pub struct Controller {
    link: Arc<Link>,
    writer: WriterHandle,
    /// The lease's revision while this node holds it.
    lease: Option<u64>,
}

impl Controller {
    /// A controller for `link`; `lease` is the revision if this node already holds it
    /// (it put its journal into the stream at start, and leads from the outset).
    pub fn new(link: Arc<Link>, writer: WriterHandle, lease: Option<u64>) -> Controller {
        Controller {
            link,
            writer,
            lease,
        }
    }

    /// Runs until `stop` turns true; then a leader gives its lease up, so that a
    /// standby takes over at once.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let lease = self.link.config().lease;
        let poll = (lease / 16).clamp(Duration::from_millis(50), Duration::from_millis(500));
        let renew_every = lease / 4;
        let mut follower: Option<JoinHandle<Result<(), String>>> = None;
        // The follower's consumer can stall without an error (its NATS server went
        // away mid-stream): restart it when the stream is ahead and the head has not
        // moved for a while.
        let mut watched: (u64, Instant) = (self.writer.durable_seq(), Instant::now());
        let mut stream_checked = Instant::now();
        let mut last_warning: Option<Instant> = None;
        let mut warn = |what: &str, error: &dyn std::fmt::Display| {
            if last_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(5)) {
                tracing::warn!(error = %error, "{what}");
                last_warning = Some(Instant::now());
            }
        };
        if self.lease.is_some() {
            self.link.lead();
            tracing::info!(
                head_seq = self.writer.durable_seq(),
                "leading: this node holds the lease and takes writes"
            );
        }
        loop {
            if *stop.borrow() {
                break;
            }
            let wait = match self.link.role() {
                Role::Leader => {
                    self.renew(&mut warn).await;
                    renew_every
                }
                Role::Standby => {
                    let head = self.writer.durable_seq();
                    if head != watched.0 {
                        watched = (head, Instant::now());
                    } else if watched.1.elapsed() > STALL && stream_checked.elapsed() > STALL {
                        stream_checked = Instant::now();
                        if let Ok((_, last)) = self.link.bounds().await
                            && last > head
                            && let Some(f) = follower.take()
                        {
                            tracing::warn!(
                                head_seq = head,
                                stream_last_seq = last,
                                "following the stream stalled; starting it again"
                            );
                            metrics::gauge!("takedown_replication_lag_entries")
                                .set((last - head) as f64);
                            f.abort();
                            watched = (head, Instant::now());
                        }
                    }
                    if follower.as_ref().is_none_or(|f| f.is_finished()) {
                        if let Some(f) = follower.take()
                            && let Ok(Err(e)) = f.await
                        {
                            warn("following the stream stopped; starting again", &e);
                        }
                        follower =
                            Some(tokio::spawn(follow(self.link.clone(), self.writer.clone())));
                    }
                    match self.link.holder().await {
                        Ok(Some((revision, holder))) if holder.node == self.link.me().node => {
                            // This node holds the lease but stepped down (a publish
                            // failed): catch up again and lead on.
                            self.lease = Some(revision);
                            if let Some(f) = follower.take() {
                                f.abort();
                            }
                            self.take_over(&mut warn).await;
                        }
                        Ok(Some((_, holder))) => {
                            self.lease = None;
                            if self.link.leader().as_deref() != Some(holder.addr.as_str()) {
                                tracing::info!(
                                    leader = %holder.addr,
                                    "standby: following the stream; writes go to the leader"
                                );
                            }
                            self.link.set_leader(Some(holder.addr));
                        }
                        Ok(None) => match self.link.try_take().await {
                            Ok(Some(revision)) => {
                                self.lease = Some(revision);
                                if let Some(f) = follower.take() {
                                    f.abort();
                                }
                                self.take_over(&mut warn).await;
                            }
                            Ok(None) => {}
                            Err(e) => warn("could not take the free lease", &e),
                        },
                        Err(e) => warn("could not read the lease", &e),
                    }
                    poll
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
        if let Some(f) = follower.take() {
            f.abort();
        }
        if self.link.role() == Role::Leader {
            self.link.step_down("the server is stopping");
            if let Some(revision) = self.lease.take() {
                self.link.release(revision).await;
            }
        }
    }

    /// Renews the lease; steps down if it was lost or runs out unrenewed.
    async fn renew(&mut self, warn: &mut impl FnMut(&str, &dyn std::fmt::Display)) {
        let Some(revision) = self.lease else {
            self.link.step_down("this node holds no lease");
            return;
        };
        match self.link.renew(revision).await {
            Ok(Some(revision)) => self.lease = Some(revision),
            Ok(None) => {
                self.lease = None;
                self.link.step_down("another node holds the lease now");
            }
            Err(e) => {
                warn("could not renew the lease; writes stop if it runs out", &e);
                if !self.link.lease_valid() {
                    self.link
                        .step_down("the lease ran out: it could not be renewed");
                }
            }
        }
    }

    /// With the lease taken: appends what the stream holds beyond this node's journal,
    /// then leads. If that fails the node gives the lease up (so that another node,
    /// or this one at its next round, can take it) and stays a standby.
    async fn take_over(&mut self, warn: &mut impl FnMut(&str, &dyn std::fmt::Display)) {
        if !self.catch_up_and_lead(warn).await
            && let Some(revision) = self.lease.take()
        {
            self.link.release(revision).await;
        }
    }

    /// See [`Controller::take_over`]; false if this node does not lead.
    async fn catch_up_and_lead(
        &mut self,
        warn: &mut impl FnMut(&str, &dyn std::fmt::Display),
    ) -> bool {
        let started = Instant::now();
        tracing::info!(
            head_seq = self.writer.durable_seq(),
            "took the lease; catching up with the stream before taking writes"
        );
        let mut renewed = Instant::now();
        loop {
            let last = match self.link.bounds().await {
                Ok((_, last)) => last,
                Err(e) => {
                    warn("could not read the stream's end", &e);
                    return false;
                }
            };
            let head = self.writer.durable_seq();
            if head >= last {
                break;
            }
            let batch = match self
                .link
                .fetch(head + 1, last.min(head + BATCH as u64))
                .await
            {
                Ok(batch) => batch,
                Err(e) => {
                    warn("could not read the stream", &e);
                    return false;
                }
            };
            if let Err(e) = self.writer.follow(batch).await {
                warn("could not append the stream's entries", &e);
                return false;
            }
            if renewed.elapsed() > self.link.config().lease / 4 {
                self.renew(warn).await;
                renewed = Instant::now();
                if self.lease.is_none() {
                    return false;
                }
            }
        }
        // A fresh lease to start with.
        let Some(revision) = self.lease else {
            return false;
        };
        match self.link.renew(revision).await {
            Ok(Some(revision)) => self.lease = Some(revision),
            Ok(None) => {
                self.lease = None;
                return false;
            }
            Err(e) => {
                warn("could not renew the lease", &e);
                return false;
            }
        }
        self.link.lead();
        tracing::info!(
            head_seq = self.writer.durable_seq(),
            catch_up_ms = started.elapsed().as_millis() as u64,
            "leading: this node holds the lease and takes writes"
        );
        true
    }
}

/// Follows the stream from the writer's head, in batches of what has arrived, until
/// an error (or the task is aborted).
async fn follow(link: Arc<Link>, writer: WriterHandle) -> Result<(), String> {
    let from = writer.durable_seq() + 1;
    let mut messages = link.subscribe(from).await.map_err(|e| e.to_string())?;
    loop {
        let Some(first) = messages.next().await else {
            return Ok(());
        };
        let mut batch = Vec::with_capacity(BATCH);
        let mut pending = take(first, &mut batch)?;
        while batch.len() < BATCH {
            match tokio::time::timeout(Duration::ZERO, messages.next()).await {
                Ok(Some(m)) => pending = take(m, &mut batch)?,
                _ => break,
            }
        }
        metrics::gauge!("takedown_replication_lag_entries").set(pending as f64);
        writer.follow(batch).await.map_err(|e| e.to_string())?;
    }
}

/// Decodes one message into `batch`; answers how many the stream holds after it.
fn take(
    message: Result<
        async_nats::jetstream::Message,
        async_nats::jetstream::consumer::pull::OrderedError,
    >,
    batch: &mut Vec<crate::writer::Replicated>,
) -> Result<u64, String> {
    let message = message.map_err(|e| e.to_string())?;
    let pending = message.info().map(|i| i.pending).unwrap_or(0);
    batch.push(decode(&message.payload).map_err(|e| e.to_string())?);
    Ok(pending)
}
