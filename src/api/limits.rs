//! Abuse limits as tower layers: a deadline on every request (time spent queueing for
//! the server-wide concurrency limit included), and a per-principal token bucket on
//! `FileClaim` that answers RESOURCE_EXHAUSTED with `google.rpc.RetryInfo`.
//!
//! The server-wide concurrency limit itself is tower's `GlobalConcurrencyLimitLayer`;
//! the bounds on connections are in [`crate::listener`]; a request over the size
//! limit is answered in [`super::wire`].

use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};
use tower::{Layer, Service, ServiceExt};

use super::caller::Caller;
use crate::clock::Clock;

/// The RPC the per-principal rate limit applies to.
pub const FILE_CLAIM_PATH: &str = "/takedown.v1.ClaimService/FileClaim";

/// A token bucket: `burst` claims at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_minute: NonZeroU32,
    pub burst: NonZeroU32,
}

impl RateLimit {
    /// `None` when `per_minute` is 0 (no limit); a burst of 0 is read as 1.
    pub fn per_minute(per_minute: u32, burst: u32) -> Option<RateLimit> {
        Some(RateLimit {
            per_minute: NonZeroU32::new(per_minute)?,
            burst: NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN),
        })
    }
}

/// What the server allows one client, and all of them together.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Longest a request may take, queueing included, before DEADLINE_EXCEEDED.
    /// Streams (WatchEvents) are bounded only until their first response.
    pub request_timeout: Duration,
    /// Requests handled at once across all connections; more wait their turn.
    pub max_concurrent_requests: usize,
    /// FileClaim per principal; `None` for no limit.
    pub file_claim: Option<RateLimit>,
    /// FileClaim without credentials (public intake): whether it is open, and its
    /// limits per client address and for all public callers together.
    pub public_intake: PublicIntakeLimits,
}

/// Public intake: FileClaim with no credentials, limited per client address and in
/// total, so a flood from one address (or many) cannot crowd out the desk's callers.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicIntakeLimits {
    pub enabled: bool,
    /// Per client IP address; `None` for no limit.
    pub per_client: Option<RateLimit>,
    /// All public callers together; `None` for no limit.
    pub total: Option<RateLimit>,
}

impl Default for PublicIntakeLimits {
    /// Open, 10 notices a minute per address (bursts of 5), 600 a minute in all.
    fn default() -> Self {
        PublicIntakeLimits {
            enabled: true,
            per_client: RateLimit::per_minute(10, 5),
            total: RateLimit::per_minute(600, 100),
        }
    }
}

impl Default for Limits {
    /// Bounds for one small server; FileClaim is not limited unless configured
    /// (`takedownd` limits it by default).
    fn default() -> Self {
        Limits {
            request_timeout: Duration::from_secs(30),
            max_concurrent_requests: 256,
            file_claim: None,
            public_intake: PublicIntakeLimits::default(),
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// Answers DEADLINE_EXCEEDED when a request (its wait for a concurrency permit
/// included) takes longer than the timeout.
#[derive(Clone)]
pub struct DeadlineLayer {
    timeout: Duration,
}

impl DeadlineLayer {
    pub fn new(timeout: Duration) -> Self {
        Self { timeout }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;
    fn layer(&self, inner: S) -> Deadline<S> {
        Deadline {
            inner,
            timeout: self.timeout,
        }
    }
}

#[derive(Clone)]
pub struct Deadline<S> {
    inner: S,
    timeout: Duration,
}

impl<S, B> Service<http::Request<B>> for Deadline<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Readiness (a concurrency permit) is awaited inside the deadline, in `call`.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let inner = self.inner.clone();
        let timeout = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, inner.oneshot(request)).await {
                Ok(answer) => answer,
                Err(_) => Ok(Status::deadline_exceeded(format!(
                    "the request took longer than the server's limit of {} s (busy server or \
                     slow request); retry later with backoff",
                    timeout.as_secs_f64()
                ))
                .into_http()),
            }
        })
    }
}

/// governor's view of our clock, so tests can move time.
#[derive(Clone)]
struct ServiceClock(Arc<dyn Clock>);

impl GovernorClock for ServiceClock {
    type Instant = SystemTime;
    fn now(&self) -> SystemTime {
        self.0.now()
    }
}

type Buckets =
    RateLimiter<String, DashMapStateStore<String>, ServiceClock, NoOpMiddleware<SystemTime>>;

/// The per-principal token bucket on FileClaim, after the auth layer (it keys on the
/// caller that layer found).
#[derive(Clone)]
pub struct FileClaimRateLayer {
    buckets: Option<Arc<Buckets>>,
    public_per_client: Option<Arc<Buckets>>,
    public_total: Option<Arc<Buckets>>,
    clock: Arc<dyn Clock>,
}

/// Token buckets of `limit`, keyed by caller, on `clock`.
fn buckets(limit: Option<RateLimit>, clock: &Arc<dyn Clock>) -> Option<Arc<Buckets>> {
    limit.map(|l| {
        // One token every 60/per_minute seconds (never less than 1 ns).
        let period = (Duration::from_secs(60) / l.per_minute.get()).max(Duration::from_nanos(1));
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_minute(l.per_minute))
            .allow_burst(l.burst);
        Arc::new(RateLimiter::dashmap_with_clock(
            quota,
            ServiceClock(clock.clone()),
        ))
    })
}

impl FileClaimRateLayer {
    /// FileClaim limits: `limit` per principal, and public intake's per client
    /// address and in total.
    pub fn new(
        limit: Option<RateLimit>,
        public: &PublicIntakeLimits,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            buckets: buckets(limit, &clock),
            public_per_client: buckets(public.per_client, &clock),
            public_total: buckets(public.total, &clock),
            clock,
        }
    }
}

impl<S> Layer<S> for FileClaimRateLayer {
    type Service = FileClaimRate<S>;
    fn layer(&self, inner: S) -> FileClaimRate<S> {
        FileClaimRate {
            inner,
            buckets: self.buckets.clone(),
            public_per_client: self.public_per_client.clone(),
            public_total: self.public_total.clone(),
            clock: self.clock.clone(),
        }
    }
}

#[derive(Clone)]
pub struct FileClaimRate<S> {
    inner: S,
    buckets: Option<Arc<Buckets>>,
    public_per_client: Option<Arc<Buckets>>,
    public_total: Option<Arc<Buckets>>,
    clock: Arc<dyn Clock>,
}

/// RESOURCE_EXHAUSTED with `google.rpc.RetryInfo` saying when a claim will be taken.
pub fn rate_limited(retry_after: Duration) -> Status {
    // Round up to whole milliseconds so a client that waits exactly this long gets in.
    let retry_after = Duration::from_millis(retry_after.as_millis() as u64 + 1);
    Status::with_error_details(
        Code::ResourceExhausted,
        format!(
            "too many claims filed in a short time by this caller; retry in {:.1} s \
             (the operator sets the rates with --file-claim-rate/--file-claim-burst, and \
             for notices without an account --public-intake-rate/--public-intake-burst)",
            retry_after.as_secs_f64()
        ),
        ErrorDetails::with_retry_info(Some(retry_after)),
    )
}

impl<S, B> Service<http::Request<B>> for FileClaimRate<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path() == FILE_CLAIM_PATH
            && let Some(caller) = request.extensions().get::<Caller>()
        {
            let refused = match caller.public_client {
                // A public notice: its address's bucket, then everyone's.
                Some(client) => [
                    (&self.public_per_client, format!("ip:{client}")),
                    (&self.public_total, "all".to_string()),
                ]
                .into_iter()
                .find_map(|(b, key)| b.as_ref()?.check_key(&key).err()),
                None => self
                    .buckets
                    .as_ref()
                    .and_then(|b| b.check_key(&caller.principal_id).err()),
            };
            if let Some(not_until) = refused {
                let wait = not_until.wait_time_from(self.clock.now());
                return Box::pin(async move { Ok(rate_limited(wait).into_http()) });
            }
        }
        Box::pin(self.inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;
    use tower::limit::GlobalConcurrencyLimitLayer;

    type Answer = Result<http::Response<tonic::body::Body>, std::convert::Infallible>;

    fn grpc_code(answer: Answer) -> Code {
        let response = answer.expect("infallible");
        let status = Status::from_header_map(response.headers());
        status.map_or(Code::Ok, |s| s.code())
    }

    fn request() -> http::Request<()> {
        http::Request::builder()
            .uri("/takedown.v1.AuditService/VerifyAuditLog")
            .body(())
            .expect("request")
    }

    #[tokio::test]
    async fn a_request_slower_than_the_deadline_is_deadline_exceeded() {
        let slow = tower::service_fn(|_: http::Request<()>| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Answer::Ok(http::Response::new(tonic::body::Body::empty()))
        });
        let service = DeadlineLayer::new(Duration::from_millis(50)).layer(slow);
        let code = grpc_code(service.oneshot(request()).await);
        assert_eq!(code, Code::DeadlineExceeded);
    }

    #[tokio::test]
    async fn waiting_for_a_concurrency_permit_counts_against_the_deadline() {
        // The inner service answers only when told to.
        let (release, released) = oneshot::channel::<()>();
        let released = Arc::new(tokio::sync::Mutex::new(Some(released)));
        let held = tower::service_fn(move |_: http::Request<()>| {
            let released = released.clone();
            async move {
                if let Some(rx) = released.lock().await.take() {
                    let _ = rx.await;
                }
                Answer::Ok(http::Response::new(tonic::body::Body::empty()))
            }
        });
        let limited = GlobalConcurrencyLimitLayer::new(1).layer(held);
        let with_deadline = |d: Duration| DeadlineLayer::new(d).layer(limited.clone());
        // The first request holds the only permit.
        let first = tokio::spawn(with_deadline(Duration::from_secs(10)).oneshot(request()));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let queued = with_deadline(Duration::from_millis(100)).oneshot(request());
        assert_eq!(
            grpc_code(queued.await),
            Code::DeadlineExceeded,
            "queued past the deadline"
        );
        let _ = release.send(());
        assert_eq!(grpc_code(first.await.expect("task")), Code::Ok);
        // With the permit back, requests go through again.
        let again = with_deadline(Duration::from_millis(100)).oneshot(request());
        assert_eq!(grpc_code(again.await), Code::Ok);
    }

    #[test]
    fn rate_limits_are_off_at_zero() {
        assert_eq!(RateLimit::per_minute(0, 10), None);
        let l = RateLimit::per_minute(60, 0).expect("on");
        assert_eq!(l.burst.get(), 1);
    }
}
