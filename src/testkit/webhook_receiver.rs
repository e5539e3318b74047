//! A real webhook receiver for tests: an HTTP/1 server (hyper) on 127.0.0.1:0 that
//! checks each request as the Standard Webhooks specification tells a receiver to,
//! with its own HMAC-SHA256 (not the `standardwebhooks` crate the sender signs with,
//! so that a mistake in one is not hidden by the same mistake in the other): the
//! `v1` signature of `"{webhook-id}.{webhook-timestamp}.{body}"` under its secret,
//! and the timestamp within 5 minutes of now. It records every request and answers
//! 200 only when the check passed (401 with the reason otherwise), unless told to
//! answer something else to the next few ([`WebhookReceiver::respond_next`]). It
//! stops when dropped.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::notify::WebhookSecret;

/// How far a timestamp may be from the receiver's clock.
pub const TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp`, unix seconds (0 if missing or not a number).
    pub timestamp: i64,
    /// The body as JSON (`null` if it is not JSON).
    pub body: serde_json::Value,
    /// The signature and timestamp checked out.
    pub verified: bool,
    /// Why not, when not verified.
    pub error: Option<String>,
    /// What the receiver answered.
    pub status: u16,
}

struct State {
    /// The secret requests are checked against.
    secret: WebhookSecret,
    received: Vec<Received>,
    /// Answers to give before checking anything, first first.
    scripted: Vec<StatusCode>,
}

/// A running receiver.
pub struct WebhookReceiver {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    server: JoinHandle<()>,
}

impl WebhookReceiver {
    /// Starts a receiver with a new random secret.
    pub async fn start() -> WebhookReceiver {
        WebhookReceiver::start_with(WebhookSecret::generate()).await
    }

    /// Starts a receiver that verifies with `secret`.
    pub async fn start_with(secret: WebhookSecret) -> WebhookReceiver {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("the receiver's address");
        let state = Arc::new(Mutex::new(State {
            secret,
            received: Vec::new(),
            scripted: Vec::new(),
        }));
        let server = tokio::spawn(super::http::serve(listener, state.clone(), handle));
        WebhookReceiver {
            addr,
            state,
            server,
        }
    }

    /// `http://127.0.0.1:PORT/webhook`.
    pub fn url(&self) -> String {
        format!("http://{}/webhook", self.addr)
    }

    /// The secret requests are checked against.
    pub fn secret(&self) -> WebhookSecret {
        self.state.lock().expect("receiver state").secret.clone()
    }

    /// Checks later requests against `secret` (for a sender whose secret is made
    /// after the receiver listens).
    pub fn set_secret(&self, secret: WebhookSecret) {
        self.state.lock().expect("receiver state").secret = secret;
    }

    /// Every request so far, in order of arrival.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().expect("receiver state").received.clone()
    }

    /// Answers `status` to the next `n` requests, whatever they hold (503 to test
    /// retries, 400 to test a refusal for good).
    pub fn respond_next(&self, status: u16, n: usize) {
        let status = StatusCode::from_u16(status).expect("an HTTP status code");
        let mut state = self.state.lock().expect("receiver state");
        state.scripted.extend(std::iter::repeat_n(status, n));
    }

    /// Waits until at least `n` requests arrived and returns them all; panics after
    /// `timeout` with those that did.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            if started.elapsed() > timeout {
                panic!(
                    "{} of {n} webhooks arrived within {timeout:?}: {received:#?}",
                    received.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        // The accept loop owns the connections' JoinSet, which aborts them as it drops.
        self.server.abort();
    }
}

async fn handle(
    request: Request<Incoming>,
    state: Arc<Mutex<State>>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let id = header("webhook-id").unwrap_or_default();
    let timestamp = header("webhook-timestamp")
        .and_then(|t| t.parse::<i64>().ok())
        .unwrap_or(0);
    let mut state = state.lock().expect("receiver state");
    let check = verify(state.secret.key(), &parts.headers, &body, now());
    let status = if state.scripted.is_empty() {
        if check.is_ok() {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        }
    } else {
        state.scripted.remove(0)
    };
    state.received.push(Received {
        id,
        timestamp,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        verified: check.is_ok(),
        error: check.as_ref().err().cloned(),
        status: status.as_u16(),
    });
    let answer = match check {
        Err(reason) if status == StatusCode::UNAUTHORIZED => reason,
        _ => String::new(),
    };
    let mut response = Response::new(Full::new(Bytes::from(answer)));
    *response.status_mut() = status;
    Ok(response)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// The receiver's side of the specification, written from it.
fn verify(key: &[u8], headers: &hyper::HeaderMap, body: &[u8], now: i64) -> Result<(), String> {
    let header = |name: &str| {
        headers
            .get(name)
            .ok_or(format!("no {name} header"))?
            .to_str()
            .map_err(|_| format!("the {name} header is not text"))
    };
    let id = header("webhook-id")?;
    let timestamp_text = header("webhook-timestamp")?;
    let signatures = header("webhook-signature")?;
    let timestamp: i64 = timestamp_text
        .parse()
        .map_err(|_| format!("webhook-timestamp {timestamp_text:?} is not unix seconds"))?;
    if (now - timestamp).unsigned_abs() > TOLERANCE.as_secs() {
        return Err(format!(
            "webhook-timestamp {timestamp} is {} s from now, more than the {} s allowed",
            now - timestamp,
            TOLERANCE.as_secs()
        ));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|e| e.to_string())?;
    mac.update(format!("{id}.{timestamp_text}.").as_bytes());
    mac.update(body);
    for candidate in signatures.split(' ') {
        let Some(("v1", encoded)) = candidate.split_once(',') else {
            continue;
        };
        if let Ok(signature) = STANDARD.decode(encoded)
            && mac.clone().verify_slice(&signature).is_ok()
        {
            return Ok(());
        }
    }
    Err("no v1 signature in webhook-signature matches the body under this secret".to_string())
}
