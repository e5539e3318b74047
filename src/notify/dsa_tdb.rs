//! The submission worker (DSA Art. 24(5)): reads PENDING statement submissions whose
//! next attempt is due, rebuilds each statement from its journal entry
//! (`domain::dsa_statement`), sends them in batches of at most 100 to the DSA
//! Transparency Database's `POST {url}/api/v1/statements` with the platform's bearer
//! token, and reports every attempt, per statement, to the writer
//! ([`RecordSubmission`]). Like the notification worker it never changes a record
//! itself: whatever is PENDING after a crash is sent again under the same puid, and
//! the database's "puid already exists" answer counts as done.
//!
//! How the database answers a batch decides each statement's fate: 201, all
//! submitted; 422 naming `existing_puids`, those are submitted and the rest go again
//! at once; 422 naming `statement_<i>`, that statement is refused for good and the
//! rest go again at once; 408, 429, 5xx, 401, 403 or no answer, the whole batch is
//! tried again after a backoff with jitter ([`super::worker::backoff`]), until the
//! attempts run out. Any other answer refuses the batch for good.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::worker::backoff;
use crate::clock::Clock;
use crate::domain::dsa_statement::{Found, cut};
use crate::journal;
use crate::pb;
use crate::store::Store;
use crate::writer::WriterHandle;
use crate::writer::commands::{RecordSubmission, SubmissionOutcome};

/// The most statements the database takes in one call.
pub const MAX_BATCH: usize = 100;
/// How often the worker looks for due submissions when no commit wakes it.
const POLL: Duration = Duration::from_millis(500);
/// How much of an answer is kept as the error.
const ERROR_MAX: usize = 500;

/// Where and how statements are submitted: `takedownd`'s `--dsa-tdb-*` flags.
#[derive(Debug, Clone)]
pub struct DsaTdbConfig {
    /// `--dsa-tdb-url`: the database's base URL, such as
    /// `https://transparency.dsa.ec.europa.eu`.
    pub url: String,
    /// The platform's API token (read from `--dsa-tdb-token-file`).
    pub token: String,
    /// Attempts before a statement is FAILED.
    pub max_attempts: u32,
    /// The wait after the first failed attempt; it doubles with each attempt (with
    /// jitter), up to `notify::worker::MAX_BACKOFF`.
    pub retry_base: Duration,
    /// How long one call may take.
    pub timeout: Duration,
}

impl DsaTdbConfig {
    pub fn new(url: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            token: token.into(),
            max_attempts: 12,
            retry_base: Duration::from_secs(60),
            timeout: Duration::from_secs(60),
        }
    }
}

/// One statement of a batch.
struct Pending {
    claim_id: Uuid,
    seq: u64,
    puid: String,
    attempts: u32,
}

/// The worker over one server's store, journal and writer.
pub struct Submitter {
    store: Store,
    writer: WriterHandle,
    clock: Arc<dyn Clock>,
    journal_dir: PathBuf,
    config: DsaTdbConfig,
    client: reqwest::Client,
}

impl Submitter {
    pub fn new(
        store: Store,
        writer: WriterHandle,
        clock: Arc<dyn Clock>,
        journal_dir: PathBuf,
        config: DsaTdbConfig,
    ) -> Submitter {
        // The builder fails only when no TLS backend loads; so would `Client::new`.
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Submitter {
            store,
            writer,
            clock,
            journal_dir,
            config,
            client,
        }
    }

    /// Submits what is due until `stop` fires.
    pub async fn run(self, mut stop: oneshot::Receiver<()>) {
        let mut durable = self.writer.watch_durable();
        loop {
            // Batches follow each other while full ones are due.
            while self.send_due().await == MAX_BATCH {}
            tokio::select! {
                _ = &mut stop => break,
                _ = durable.changed() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Sends one batch of due statements; how many it held.
    async fn send_due(&self) -> usize {
        // A standby submits nothing: the leader does, and journals the outcome.
        if !self.writer.may_write() {
            return 0;
        }
        let now = self.clock.now();
        let until = prost_types::Timestamp::from(now).seconds + 1;
        let due = match self.store.due_submissions(until, MAX_BATCH) {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(error = %e, "reading due statement submissions");
                return 0;
            }
        };
        let due: Vec<pb::StatementSubmission> =
            due.into_iter().filter(|s| is_due(s, now)).collect();
        if due.is_empty() {
            return 0;
        }
        let count = due.len();
        let (store, dir) = (self.store.clone(), self.journal_dir.clone());
        let built = tokio::task::spawn_blocking(move || rebuild(&store, &dir, due)).await;
        let Ok((batch, unbuildable)) = built else {
            tracing::error!("the task rebuilding statements failed");
            return 0;
        };
        for (p, error) in unbuildable {
            self.report(
                &p,
                SubmissionOutcome::Failed {
                    error,
                    retry_at: None,
                },
            )
            .await;
        }
        if batch.is_empty() {
            return count;
        }
        let (pending, statements): (Vec<Pending>, Vec<Value>) = batch.into_iter().unzip();
        let answer = self.post(&statements).await;
        let now = self.clock.now();
        for (i, p) in pending.iter().enumerate() {
            let outcome = self.outcome(&answer, i, p, now);
            self.report(p, outcome).await;
        }
        count
    }

    /// One call with `statements`: the status and body, or why there was none.
    async fn post(&self, statements: &[Value]) -> Result<(u16, Value), String> {
        let url = format!(
            "{}/api/v1/statements",
            self.config.url.trim_end_matches('/')
        );
        let sent = self
            .client
            .post(url)
            .bearer_auth(&self.config.token)
            .header("accept", "application/json")
            .header("content-type", "application/json")
            .body(json!({ "statements": statements }).to_string())
            .send()
            .await
            .map_err(|e| format!("no answer from the DSA Transparency Database: {e}"))?;
        let status = sent.status().as_u16();
        let body = sent.text().await.unwrap_or_default();
        Ok((
            status,
            serde_json::from_str(&body).unwrap_or(Value::String(body)),
        ))
    }

    /// What the answer to the batch means for its statement `i`.
    fn outcome(
        &self,
        answer: &Result<(u16, Value), String>,
        i: usize,
        p: &Pending,
        now: SystemTime,
    ) -> SubmissionOutcome {
        let retry = |error: String| {
            let attempts = p.attempts + 1;
            let retry_at = (attempts < self.config.max_attempts)
                .then(|| now + backoff(self.config.retry_base, attempts));
            SubmissionOutcome::Failed { error, retry_at }
        };
        let (status, body) = match answer {
            Err(e) => return retry(e.clone()),
            Ok(a) => a,
        };
        let text = || cut(&body.to_string(), ERROR_MAX);
        match status {
            200..=299 => SubmissionOutcome::Submitted { already: false },
            422 => {
                let errors = &body["errors"];
                let existing = errors["existing_puids"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(&p.puid)));
                let own = &errors[format!("statement_{i}")];
                if existing {
                    SubmissionOutcome::Submitted { already: true }
                } else if !own.is_null() {
                    SubmissionOutcome::Failed {
                        error: cut(&format!("refused: {own}"), ERROR_MAX),
                        retry_at: None,
                    }
                } else if errors["existing_puids"].is_array() || has_statement_errors(errors) {
                    // Refused because of another statement of the batch: again at once,
                    // without it.
                    SubmissionOutcome::Failed {
                        error: "sent again: the database refused the batch for another of its statements".to_string(),
                        retry_at: Some(now),
                    }
                } else {
                    SubmissionOutcome::Failed {
                        error: format!("refused (422): {}", text()),
                        retry_at: None,
                    }
                }
            }
            401 | 403 | 408 | 429 | 500..=599 => retry(format!("HTTP {status}: {}", text())),
            _ => SubmissionOutcome::Failed {
                error: format!("refused (HTTP {status}): {}", text()),
                retry_at: None,
            },
        }
    }

    async fn report(&self, p: &Pending, outcome: SubmissionOutcome) {
        let report = RecordSubmission {
            claim_id: p.claim_id,
            seq: p.seq,
            outcome,
        };
        if let Err(e) = self.writer.submit(report).await {
            tracing::warn!(puid = %p.puid, error = %e, "could not journal a submission attempt; it will be tried again");
        }
    }
}

fn has_statement_errors(errors: &Value) -> bool {
    errors
        .as_object()
        .is_some_and(|o| o.keys().any(|k| k.starts_with("statement_")))
}

/// The statements of `due`, rebuilt from their journal entries, and those that could
/// not be (with why).
#[allow(clippy::type_complexity)]
fn rebuild(
    store: &Store,
    dir: &std::path::Path,
    due: Vec<pb::StatementSubmission>,
) -> (Vec<(Pending, Value)>, Vec<(Pending, String)>) {
    let mut built = Vec::new();
    let mut failed = Vec::new();
    for s in due {
        let Ok(claim_id) = Uuid::parse_str(&s.claim_id) else {
            continue;
        };
        let p = Pending {
            claim_id,
            seq: s.seq,
            puid: s.puid.clone(),
            attempts: s.attempt_count,
        };
        let entry = journal::read_entries(dir, s.seq.saturating_sub(1), s.seq).next();
        let found = match entry {
            Some(Ok(entry)) => Found::in_entry(&entry),
            Some(Err(e)) => {
                tracing::warn!(puid = %s.puid, error = %e, "reading a statement's journal entry; will try again");
                continue;
            }
            None => None,
        };
        let Some(found) = found else {
            failed.push((
                p,
                format!(
                    "journal entry {} records no restriction of claim {}",
                    s.seq, s.claim_id
                ),
            ));
            continue;
        };
        let article = match &found.article {
            Some(_) => None,
            None => store.article(&found.claim.article_id).ok().flatten(),
        };
        built.push((p, found.statement(article.as_ref())));
    }
    (built, failed)
}

/// Whether `s`'s next attempt is at or before `now` (the index is by whole seconds).
fn is_due(s: &pb::StatementSubmission, now: SystemTime) -> bool {
    s.next_attempt_time
        .and_then(|t| SystemTime::try_from(t).ok())
        .is_none_or(|at| at <= now)
}
