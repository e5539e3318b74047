//! One span and one log line per RPC, and the per-RPC Prometheus series, as tower
//! layers around every service.
//!
//! [`TelemetryLayer`] goes outermost, so that it also sees the calls the auth layer
//! refuses: it opens the span (`rpc`, with `principal`, `claim_id`, `code` and
//! `latency_ms` filled in as they become known), and records
//! `takedown_rpc_requests_total{rpc,code}` and `takedown_rpc_duration_seconds{rpc}`.
//! [`CallerLayer`] goes inside the auth layer and writes the authenticated principal
//! into the span; the services write the claim id through [`record_claim_id`] when
//! they parse one.
//!
//! What is never recorded: the authorization header, request or response bodies, and
//! the status message (it may quote what the client sent). So tokens, postal
//! addresses and phone numbers cannot reach a log line from here.

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};
use std::time::Instant;

use tonic::Code;
use tower::{Layer, Service};
use tracing::{Instrument, field};

use super::caller::Caller;
use crate::grpc_code::code_name;

/// Every RPC path this server answers, so that metric labels stay a fixed set: any
/// other path (a client is free to send one) is counted as `other`.
static KNOWN_PATHS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let mut paths = HashSet::new();
    for set in [
        crate::pb::FILE_DESCRIPTOR_SET,
        tonic_health::pb::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
    ] {
        if let Ok(pool) = prost_reflect::DescriptorPool::decode(set) {
            for service in pool.services() {
                for method in service.methods() {
                    paths.insert(format!("/{}/{}", service.full_name(), method.name()));
                }
            }
        }
    }
    paths
});

/// The full names of the `takedown.v1` services, for health reporting.
pub fn service_names() -> Vec<String> {
    prost_reflect::DescriptorPool::decode(crate::pb::FILE_DESCRIPTOR_SET)
        .map(|pool| pool.services().map(|s| s.full_name().to_string()).collect())
        .unwrap_or_default()
}

/// `takedown.v1.ClaimService/GetClaim` for a known path, `other` for anything else.
fn rpc_label(path: &str) -> &str {
    if KNOWN_PATHS.contains(path) {
        path.trim_start_matches('/')
    } else {
        "other"
    }
}

/// Records the claim a request is about in the current request span. Called by the
/// services with ids they have parsed, so only well-formed ids are logged.
pub fn record_claim_id(id: &str) {
    tracing::Span::current().record("claim_id", id);
}

/// The status of a response: its `grpc-status` header (errors are answered with
/// trailers only), or OK when the status is left to the trailers of a streamed body.
fn response_code<B>(response: &http::Response<B>) -> Code {
    response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .map(Code::from_i32)
        .unwrap_or(Code::Ok)
}

/// The outermost layer: the request span, the log line and the RPC metrics.
#[derive(Clone, Default)]
pub struct TelemetryLayer;

impl<S> Layer<S> for TelemetryLayer {
    type Service = Telemetry<S>;

    fn layer(&self, inner: S) -> Telemetry<S> {
        Telemetry { inner }
    }
}

#[derive(Clone)]
pub struct Telemetry<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<S, B, R> Service<http::Request<B>> for Telemetry<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let rpc = rpc_label(request.uri().path()).to_string();
        let span = tracing::info_span!(
            "rpc",
            rpc = %rpc,
            principal = field::Empty,
            claim_id = field::Empty,
            code = field::Empty,
            latency_ms = field::Empty,
        );
        let start = Instant::now();
        // Call the inner service inside the span, so that the caller layer (reached
        // synchronously through the auth layer) can fill in the principal.
        let future = span.in_scope(|| self.inner.call(request));
        let done = span.clone();
        Box::pin(
            async move {
                let result = future.await;
                let elapsed = start.elapsed();
                let code = match &result {
                    Ok(response) => response_code(response),
                    Err(_) => Code::Unknown,
                };
                let name = code_name(code);
                done.record("code", name);
                done.record("latency_ms", (elapsed.as_secs_f64() * 1e6).round() / 1e3);
                metrics::counter!("takedown_rpc_requests_total", "rpc" => rpc.clone(), "code" => name)
                    .increment(1);
                metrics::histogram!("takedown_rpc_duration_seconds", "rpc" => rpc)
                    .record(elapsed.as_secs_f64());
                if matches!(code, Code::Internal | Code::Unknown | Code::DataLoss) {
                    tracing::warn!("request failed");
                } else {
                    tracing::info!("request finished");
                }
                result
            }
            .instrument(span),
        )
    }
}

/// Inside the auth layer: writes the authenticated principal into the request span.
#[derive(Clone, Default)]
pub struct CallerLayer;

impl<S> Layer<S> for CallerLayer {
    type Service = CallerProbe<S>;

    fn layer(&self, inner: S) -> CallerProbe<S> {
        CallerProbe { inner }
    }
}

#[derive(Clone)]
pub struct CallerProbe<S> {
    inner: S,
}

impl<S, B> Service<http::Request<B>> for CallerProbe<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if let Some(caller) = request.extensions().get::<Caller>() {
            tracing::Span::current().record("principal", caller.principal_id.as_str());
        }
        self.inner.call(request)
    }
}
