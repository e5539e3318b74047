//! The delivery worker: reads PENDING notifications whose next attempt is due from the
//! store, renders and sends each over its channel, and reports every attempt to the
//! writer ([`RecordDelivery`]), which journals it. It never changes a record itself,
//! so a crash loses nothing: whatever was PENDING is tried again at the next start,
//! under the same id (the e-mail's Message-ID, the webhook-id), and receivers
//! de-duplicate. See `docs/architecture.md`, "Notifications".

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use rand::Rng;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::{DeliveryError, Mailer, Templates, WebhookSecret, WebhookSender, payload};
use crate::clock::Clock;
use crate::domain::notifications::Channels;
use crate::pb::{self, NotificationChannel as Channel};
use crate::store::Store;
use crate::writer::WriterHandle;
use crate::writer::commands::{Outcome, RecordDelivery};

/// How notifications leave the server: `takedownd`'s notification flags.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// `--smtp-url`: smtp://host:port (STARTTLS with ?tls=required), smtps://host:port.
    pub smtp_url: Option<String>,
    /// `--smtp-from`: the From address of every e-mail.
    pub smtp_from: String,
    /// `--webhook-url`: the site's (CMS's) webhook receiver.
    pub webhook_url: Option<String>,
    /// The secret the site's webhooks are signed with (`--webhook-secret-file`).
    pub webhook_secret: Option<WebhookSecret>,
    /// `--notify-max-attempts`: attempts before a notification is DEAD.
    pub max_attempts: u32,
    /// `--notify-retry-base`: the wait after the first failed attempt; it doubles with
    /// each attempt (with jitter), up to [`MAX_BACKOFF`].
    pub retry_base: Duration,
    /// `--templates-dir`: templates that override the built-in ones.
    pub templates_dir: Option<PathBuf>,
    /// `--public-base-url`: where parties follow a claim (`<base>/claims/<id>`).
    pub public_base_url: Option<String>,
    /// How long one send may take.
    pub send_timeout: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            smtp_from: "takedown@localhost".to_string(),
            webhook_url: None,
            webhook_secret: None,
            max_attempts: 8,
            retry_base: Duration::from_secs(30),
            templates_dir: None,
            public_base_url: None,
            send_timeout: Duration::from_secs(30),
        }
    }
}

impl NotifyConfig {
    /// The channels these settings deliver on.
    pub fn channels(&self) -> Channels {
        Channels {
            email: self.smtp_url.is_some(),
            webhook: self.webhook_url.is_some(),
            dsa_tdb: false,
        }
    }
}

/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);
/// Notifications sent at once.
const IN_FLIGHT: usize = 16;
/// How often the worker looks for due notifications when nothing wakes it earlier
/// (a commit wakes it at once).
const POLL: Duration = Duration::from_millis(500);

/// Why the notification settings cannot be used; `takedownd` refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum NotifySetupError {
    #[error(transparent)]
    Smtp(#[from] super::ConfigError),
    #[error(transparent)]
    Templates(#[from] super::TemplateError),
    #[error(
        "--webhook-url is set but no --webhook-secret-file: the site's webhooks must be signed; create one with `takedownd webhook-secret > FILE`"
    )]
    NoWebhookSecret,
}

/// What the worker sends with, built once at start.
pub struct Transports {
    mailer: Option<Mailer>,
    site_webhook: Option<(String, WebhookSecret)>,
    sender: WebhookSender,
    templates: Templates,
    config: NotifyConfig,
    /// Where principals' webhook secrets are read, once the worker runs.
    store: Option<Store>,
    /// Issues the receipt e-mail's `receipt.json`, once the worker runs.
    notary: Option<Arc<crate::notary::Notary>>,
}

impl Transports {
    pub fn new(config: NotifyConfig) -> Result<Transports, NotifySetupError> {
        let mailer = match &config.smtp_url {
            Some(url) => Some(Mailer::from_url(url, &config.smtp_from)?),
            None => None,
        };
        let site_webhook = match (&config.webhook_url, &config.webhook_secret) {
            (Some(url), Some(secret)) => Some((url.clone(), secret.clone())),
            (Some(_), None) => return Err(NotifySetupError::NoWebhookSecret),
            (None, _) => None,
        };
        let templates = match &config.templates_dir {
            Some(dir) => Templates::with_dir(dir)?,
            None => Templates::builtin(),
        };
        Ok(Transports {
            mailer,
            site_webhook,
            sender: WebhookSender::new(config.send_timeout)?,
            templates,
            config,
            store: None,
            notary: None,
        })
    }

    /// One attempt at `n`; what to journal about it. `now` is when it was made.
    async fn attempt(&self, n: &pb::Notification, now: SystemTime) -> Outcome {
        let mut n = n.clone();
        if let (Some(base), Some(f)) = (&self.config.public_base_url, n.facts.as_mut()) {
            f.status_url = format!("{}/claims/{}", base.trim_end_matches('/'), f.claim_id);
        }
        let sent = match n.channel() {
            Channel::Email => {
                let Some(mailer) = &self.mailer else {
                    return undeliverable(
                        "no --smtp-url is configured; set it, restart, and retry with `takedownctl notifications retry`",
                    );
                };
                let receipt = self.receipt_json(&n);
                let attachment = receipt.map(|json| ("receipt.json", json));
                match self.templates.render(&n) {
                    Ok(r) => {
                        mailer
                            .send_with(&n.id, &n.address, &n.language, &r, attachment)
                            .await
                    }
                    Err(e) => Err(DeliveryError::Permanent(e.to_string())),
                }
            }
            Channel::Webhook if !n.principal_id.is_empty() => {
                // A principal's own webhook, signed with its own secret.
                let secret = match self.principal_secret(&n.principal_id) {
                    Ok(secret) => secret,
                    Err(reason) => return undeliverable(&reason),
                };
                match self.templates.render(&n) {
                    Ok(r) => {
                        let body = payload(&n, &r);
                        self.sender.send(&n.address, &secret, &n.id, &body).await
                    }
                    Err(e) => Err(DeliveryError::Permanent(e.to_string())),
                }
            }
            Channel::Webhook => {
                let Some((url, secret)) = &self.site_webhook else {
                    return undeliverable(
                        "no --webhook-url is configured for the site; set it (with --webhook-secret-file), restart, and retry with `takedownctl notifications retry`",
                    );
                };
                match self.templates.render(&n) {
                    Ok(r) => {
                        let body = payload(&n, &r);
                        self.sender.send(url, secret, &n.id, &body).await
                    }
                    Err(e) => Err(DeliveryError::Permanent(e.to_string())),
                }
            }
            Channel::Unspecified => Err(DeliveryError::Permanent(
                "the notification has no channel".to_string(),
            )),
        };
        match sent {
            Ok(()) => Outcome::Delivered,
            Err(DeliveryError::Permanent(error)) => Outcome::Failed {
                error,
                retry_at: None,
            },
            Err(DeliveryError::Transient(error)) => {
                let attempts = n.attempt_count + 1;
                let retry_at = (attempts < self.config.max_attempts)
                    .then(|| now + backoff(self.config.retry_base, attempts));
                Outcome::Failed { error, retry_at }
            }
        }
    }
}

impl Transports {
    /// For a RECEIPT notification, the receipt of the entry that filed the notice
    /// (`cause_seq`), issued now against the newest checkpoint, as `receipt.json`. The
    /// e-mail goes out without it if the receipt cannot be made; GetReceipt re-issues it.
    fn receipt_json(&self, n: &pb::Notification) -> Option<String> {
        let notary = self.notary.as_ref()?;
        if n.kind() != pb::NotificationKind::Receipt || n.cause_seq == 0 {
            return None;
        }
        match notary
            .receipt(n.cause_seq)
            .map_err(|e| e.to_string())
            .and_then(|r| crate::tlog::receipt::to_json(&r))
        {
            Ok(json) => Some(json),
            Err(error) => {
                tracing::warn!(notification = %n.id, %error, "the receipt e-mail goes out without receipt.json");
                None
            }
        }
    }

    /// The signing secret of principal `id`'s webhook.
    fn principal_secret(&self, id: &str) -> Result<WebhookSecret, String> {
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| "no store to read the principal's secret from".to_string())?;
        let stored = Uuid::parse_str(id)
            .ok()
            .map(|id| store.principal(&id))
            .transpose()
            .map_err(|e| e.to_string())?
            .flatten()
            .ok_or_else(|| format!("principal {id} is not in the store"))?;
        WebhookSecret::from_key(stored.webhook_secret)
            .map_err(|e| format!("principal {id} has no usable webhook secret: {e}"))
    }
}

fn undeliverable(reason: &str) -> Outcome {
    Outcome::Undeliverable {
        reason: reason.to_string(),
    }
}

/// The wait after `attempts` failed attempts: `base` doubled per attempt, at most
/// [`MAX_BACKOFF`], then between 80% and 120% of that so that many notifications failing
/// together do not come back together.
pub fn backoff(base: Duration, attempts: u32) -> Duration {
    let doubled = base.saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
    let capped = doubled.min(MAX_BACKOFF);
    capped.mul_f64(rand::rng().random_range(0.8..=1.2))
}

/// The worker over one server's store and writer.
pub struct Worker {
    store: Store,
    writer: WriterHandle,
    clock: Arc<dyn Clock>,
    transports: Arc<Transports>,
    in_flight: Arc<Mutex<HashSet<Uuid>>>,
}

impl Worker {
    pub fn new(
        store: Store,
        writer: WriterHandle,
        clock: Arc<dyn Clock>,
        mut transports: Transports,
        notary: Arc<crate::notary::Notary>,
    ) -> Self {
        transports.store = Some(store.clone());
        transports.notary = Some(notary);
        Self {
            store,
            writer,
            clock,
            transports: Arc::new(transports),
            in_flight: Arc::default(),
        }
    }

    /// Sends what is due until `stop` fires; attempts under way are let finish (their
    /// reports may be refused by a writer that has stopped: they are tried again at
    /// the next start).
    pub async fn run(self, mut stop: oneshot::Receiver<()>) {
        let mut durable = self.writer.watch_durable();
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            self.start_due(&mut tasks);
            tokio::select! {
                _ = &mut stop => break,
                _ = durable.changed() => {}
                _ = tokio::time::sleep(POLL) => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        // Give attempts under way a moment; they are journaled or tried again later.
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
    }

    /// Starts an attempt for each due notification not already under way.
    fn start_due(&self, tasks: &mut tokio::task::JoinSet<()>) {
        let room = IN_FLIGHT.saturating_sub(tasks.len());
        // While the writer refuses writes (a full disk) an attempt could not be
        // journaled, and would be sent again and again: wait until it resumes. A
        // standby sends nothing: the leader does.
        if room == 0 || !self.writer.may_write() {
            return;
        }
        let now = self.clock.now();
        let until = prost_types::Timestamp::from(now).seconds + 1;
        let due = match self.store.due_notifications(until, IN_FLIGHT * 2) {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(error = %e, "reading due notifications");
                return;
            }
        };
        for n in due.into_iter().filter(|n| is_due(n, now)) {
            let Ok(id) = Uuid::parse_str(&n.id) else {
                continue;
            };
            if tasks.len() >= IN_FLIGHT || !lock(&self.in_flight).insert(id) {
                continue;
            }
            let (writer, clock) = (self.writer.clone(), self.clock.clone());
            let (transports, in_flight) = (self.transports.clone(), self.in_flight.clone());
            tasks.spawn(async move {
                let began = std::time::Instant::now();
                let outcome = transports.attempt(&n, clock.now()).await;
                crate::telemetry::notification_attempt(&n, &outcome, began.elapsed());
                let report = RecordDelivery {
                    notification_id: id,
                    outcome,
                };
                if let Err(e) = writer.submit(report).await {
                    tracing::warn!(notification = %id, error = %e, "could not journal a delivery attempt; it will be tried again");
                }
                lock(&in_flight).remove(&id);
            });
        }
    }
}

/// Whether `n`'s next attempt is at or before `now` (the index is by whole seconds).
fn is_due(n: &pb::Notification, now: SystemTime) -> bool {
    n.next_attempt_time
        .and_then(|t| SystemTime::try_from(t).ok())
        .is_none_or(|at| at <= now)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let base = Duration::from_secs(10);
        for attempts in 1..=30 {
            let want = base
                .saturating_mul(1 << (attempts - 1).min(20))
                .min(MAX_BACKOFF);
            let got = backoff(base, attempts);
            assert!(
                got >= want.mul_f64(0.8) && got <= want.mul_f64(1.2),
                "attempt {attempts}: {got:?} not within 20% of {want:?}"
            );
        }
    }
}
