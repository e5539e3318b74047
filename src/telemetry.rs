//! Process-wide telemetry for `takedownd`: the log subscriber (`--log-format text|json`,
//! filtered by `RUST_LOG`) and the Prometheus exporter (`--metrics-listen`). The
//! per-RPC span and series come from `api::telemetry`; the writer's series from
//! `writer::instruments`; the connection series from `listener`.
//!
//! Series: `takedown_rpc_requests_total{rpc,code}`, `takedown_rpc_duration_seconds{rpc}`,
//! `takedown_claims{state}`, `takedown_writer_group_size`, `takedown_writer_fsync_seconds`,
//! `takedown_journal_bytes`, `takedown_journal_verify_failures_total`,
//! `takedown_claims_overdue`, `takedown_sweeper_lag_seconds`,
//! `takedown_deadlines_fired_total{to}`, `takedown_connections_open`,
//! `takedown_connections_closed_total{reason}`, `takedown_connections_refused_total{reason}`.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};

use crate::pb;
use crate::store::Store;
use crate::writer::instruments::state_label;

/// How log lines are written to stderr.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event, with its span's fields.
    Text,
    /// One JSON object per event, with the span's fields (for log shippers).
    Json,
}

/// Installs the global log subscriber: `RUST_LOG` filters (default `info`).
///
/// Lines go to stderr from a thread of their own (`tracing-appender`), so that no
/// request waits on a write to the terminal or the log file. The queue is not lossy:
/// when it is full, the caller waits rather than a line being dropped. Keep the guard
/// until the process ends; dropping it writes out what is queued.
#[must_use = "dropping the guard stops the log writer"]
pub fn init_logs(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("takedown-log")
        .finish(std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    guard
}

static METRICS_ON: AtomicBool = AtomicBool::new(false);

/// True once [`install_metrics`] succeeded in this process.
pub fn metrics_enabled() -> bool {
    METRICS_ON.load(Ordering::Relaxed)
}

/// Latency buckets, in seconds: 100 us to 10 s.
const SECONDS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];
/// Commands per group, up to the writer's maximum of 512.
const GROUP_SIZES: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// Serves Prometheus text on `http://<listen>/metrics` (the exporter's own listener,
/// which answers any path) and installs the global recorder. Must run inside the
/// tokio runtime. Fails if the address cannot be bound.
pub fn install_metrics(listen: SocketAddr) -> Result<(), String> {
    let builder = PrometheusBuilder::new()
        .with_http_listener(listen)
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full("takedown_writer_group_size".into()),
                GROUP_SIZES,
            )
        })
        .map_err(|e| e.to_string())?;
    builder
        .install()
        .map_err(|e| format!("cannot serve metrics on {listen}: {e}"))?;
    describe();
    METRICS_ON.store(true, Ordering::Relaxed);
    Ok(())
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "takedown_rpc_requests_total",
        "RPCs answered, by method and gRPC status code."
    );
    describe_histogram!(
        "takedown_rpc_duration_seconds",
        Unit::Seconds,
        "Time from request to response headers, by method."
    );
    describe_gauge!("takedown_claims", "Claims in each workflow state.");
    describe_histogram!(
        "takedown_writer_group_size",
        "Commands committed together by one fdatasync (group commit)."
    );
    describe_histogram!(
        "takedown_writer_fsync_seconds",
        Unit::Seconds,
        "Time of the journal fdatasync of one group."
    );
    describe_gauge!(
        "takedown_journal_bytes",
        Unit::Bytes,
        "Bytes in all journal segments."
    );
    describe_gauge!(
        "takedown_writer_stalled",
        "1 while the writer refuses writes after a storage failure (a full disk), until it resumes by itself; else 0."
    );
    describe_gauge!(
        "takedown_claims_overdue",
        "Claims past a deadline (review target, reply or correction window, restoration period), as of the last sweep."
    );
    describe_gauge!(
        "takedown_sweeper_lag_seconds",
        Unit::Seconds,
        "How long the most overdue timed transition has been due, as of the last sweep (0: none)."
    );
    describe_counter!(
        "takedown_deadlines_fired_total",
        "Timed transitions fired by the sweeper, by the state they led to."
    );
    describe_counter!(
        crate::journal::VERIFY_FAILURES,
        "Periodic checks of the newest journal segment that found damage (health is then NOT_SERVING)."
    );
    describe_gauge!("takedown_connections_open", "Open client connections.");
    describe_counter!(
        "takedown_connections_closed_total",
        "Connections the server closed itself: handshake_timeout, idle_timeout, evicted."
    );
    describe_counter!(
        "takedown_connections_refused_total",
        "Connections closed as soon as accepted: per_ip_cap."
    );
    describe_counter!(
        "takedown_notification_attempts_total",
        "Notification delivery attempts, by kind, channel and result: delivered, retry, dead, undeliverable."
    );
    describe_histogram!(
        "takedown_notification_delivery_seconds",
        Unit::Seconds,
        "From the change that caused a notification to its delivery, by kind."
    );
    describe_histogram!(
        "takedown_notification_attempt_seconds",
        Unit::Seconds,
        "How long one delivery attempt took, by channel."
    );
    describe_gauge!(
        "takedown_replication_role",
        "With --replicate: 1 while this node leads (takes writes), 0 while it is a standby."
    );
    describe_gauge!(
        "takedown_replication_lag_entries",
        "With --replicate, on a standby: stream entries not yet appended here, as of the last batch followed."
    );
    describe_counter!(
        "takedown_replication_followed_entries_total",
        "With --replicate: entries appended from the stream as a standby."
    );
    describe_counter!(
        "takedown_replication_lease_renewals_total",
        "With --replicate: lease renewals that succeeded."
    );
    describe_counter!(
        "takedown_replication_fenced_total",
        "With --replicate: times this leader stopped taking writes because the stream refused its publish (by=stream) or its lease ran out unrenewed (by=lease)."
    );
    describe_histogram!(
        "takedown_replication_publish_seconds",
        Unit::Seconds,
        "With --replicate: from publishing a synced group to JetStream's acknowledgement of all of it."
    );
}

/// Counts one delivery attempt of `n` and how it ended; on delivery, observes how
/// long the notification took from its cause.
pub fn notification_attempt(
    n: &crate::pb::Notification,
    outcome: &crate::writer::commands::Outcome,
    took: std::time::Duration,
) {
    use crate::writer::commands::Outcome;
    let result = match outcome {
        Outcome::Delivered => "delivered",
        Outcome::Failed {
            retry_at: Some(_), ..
        } => "retry",
        Outcome::Failed { retry_at: None, .. } => "dead",
        Outcome::Undeliverable { .. } => "undeliverable",
    };
    let kind = n.kind().as_str_name();
    let channel = n.channel().as_str_name();
    metrics::counter!(
        "takedown_notification_attempts_total",
        "kind" => kind, "channel" => channel, "result" => result
    )
    .increment(1);
    metrics::histogram!("takedown_notification_attempt_seconds", "channel" => channel)
        .record(took.as_secs_f64());
    if *outcome == Outcome::Delivered
        && let Some(created) = n
            .create_time
            .and_then(|t| std::time::SystemTime::try_from(t).ok())
        && let Ok(age) = std::time::SystemTime::now().duration_since(created)
    {
        metrics::histogram!("takedown_notification_delivery_seconds", "kind" => kind)
            .record(age.as_secs_f64());
    }
}

/// Sets the claims-by-state gauge from the state index (the writer keeps it up to
/// date from then on) and the journal size. Does nothing without metrics.
pub fn seed_gauges(store: &Store, journal_bytes: u64) {
    if !metrics_enabled() {
        return;
    }
    metrics::gauge!("takedown_journal_bytes").set(journal_bytes as f64);
    metrics::gauge!("takedown_writer_stalled").set(0.0);
    for state in (1..64).filter_map(|i| pb::ClaimState::try_from(i).ok()) {
        match store.count_claims_in_state(state as i32) {
            Ok(n) => metrics::gauge!("takedown_claims", "state" => state_label(state as i32))
                .set(n as f64),
            Err(e) => tracing::warn!(error = %e, "cannot count claims for the state gauge"),
        }
    }
}
