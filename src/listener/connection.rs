//! One accepted connection and the deadlines it lives under.
//!
//! [`Connection`] wraps the socket that tonic serves. It closes the connection (its
//! next read or write fails, so hyper drops it and its slot is freed) when:
//! - no request has arrived within the handshake deadline of being accepted: a
//!   socket that sends nothing, or only the HTTP/2 preface, or stalls in the TLS
//!   handshake, does not keep its slot;
//! - it has had no open request for the idle timeout;
//! - the admission gate gave its slot to a newcomer (it had not sent a request yet).
//!
//! The deadlines are checked whenever the connection is polled, with one timer for
//! the next of them; [`ConnectionState`] is what the request side
//! ([`super::activity`]) and the admission gate change, and a change wakes the
//! connection so that it looks again.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};
use tonic::transport::server::{Connected, TcpConnectInfo};

/// Why the server closed a connection itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// No request within the handshake deadline.
    HandshakeTimeout,
    /// No open request for the idle timeout.
    Idle,
    /// Every slot was taken and a newcomer got this one: it had sent no request.
    Evicted,
}

impl CloseReason {
    /// The `reason` label of `takedown_connections_closed_total`.
    pub fn label(self) -> &'static str {
        match self {
            CloseReason::HandshakeTimeout => "handshake_timeout",
            CloseReason::Idle => "idle_timeout",
            CloseReason::Evicted => "evicted",
        }
    }

    fn error(self) -> std::io::Error {
        let text = match self {
            CloseReason::HandshakeTimeout => "no request within the handshake deadline",
            CloseReason::Idle => "no open request for the idle timeout",
            CloseReason::Evicted => "the slot went to a new connection: no request was sent",
        };
        std::io::Error::new(std::io::ErrorKind::TimedOut, text)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind: go on.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What the connection, its requests and the admission gate share.
#[derive(Debug)]
pub struct ConnectionState {
    peer: Option<SocketAddr>,
    accepted: Instant,
    handshake_timeout: Duration,
    idle_timeout: Option<Duration>,
    /// A request has arrived on this connection.
    requested: AtomicBool,
    evicted: AtomicBool,
    open_requests: AtomicUsize,
    /// When the last open request ended (or the connection was accepted).
    idle_since: Mutex<Instant>,
    /// Something changed that moves or ends a deadline: look again.
    recheck: AtomicBool,
    /// The connection's task, to wake when something changed.
    waker: Mutex<Option<Waker>>,
}

impl ConnectionState {
    pub fn new(
        peer: Option<SocketAddr>,
        handshake_timeout: Duration,
        idle_timeout: Option<Duration>,
    ) -> Arc<ConnectionState> {
        let now = Instant::now();
        Arc::new(ConnectionState {
            peer,
            accepted: now,
            handshake_timeout,
            idle_timeout,
            requested: AtomicBool::new(false),
            evicted: AtomicBool::new(false),
            open_requests: AtomicUsize::new(0),
            idle_since: Mutex::new(now),
            recheck: AtomicBool::new(false),
            waker: Mutex::new(None),
        })
    }

    /// The client's address, if the socket knew it.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// True once a request has arrived: the connection has earned its slot.
    pub fn has_requested(&self) -> bool {
        self.requested.load(Ordering::Acquire)
    }

    /// A request arrived; it stays open until the returned guard is dropped (with
    /// the response body, for a stream).
    pub fn request_started(self: &Arc<Self>) -> OpenRequest {
        self.open_requests.fetch_add(1, Ordering::AcqRel);
        if !self.requested.swap(true, Ordering::AcqRel) {
            self.changed();
        }
        OpenRequest(self.clone())
    }

    /// Closes the connection at its next poll, if it has not sent a request.
    /// Returns false if it has (then it keeps its slot).
    pub fn evict(&self) -> bool {
        if self.has_requested() {
            return false;
        }
        self.evicted.store(true, Ordering::Release);
        self.changed();
        true
    }

    fn changed(&self) {
        self.recheck.store(true, Ordering::Release);
        if let Some(waker) = lock(&self.waker).take() {
            waker.wake();
        }
    }

    fn register(&self, waker: &Waker) {
        let mut slot = lock(&self.waker);
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    /// The next deadline (`None`: none while things stay as they are), or why the
    /// connection must close now.
    fn deadline(&self, now: Instant) -> Result<Option<Instant>, CloseReason> {
        if self.evicted.load(Ordering::Acquire) {
            return Err(CloseReason::Evicted);
        }
        let (at, reason) = if !self.has_requested() {
            (
                self.accepted + self.handshake_timeout,
                CloseReason::HandshakeTimeout,
            )
        } else if self.open_requests.load(Ordering::Acquire) > 0 {
            return Ok(None);
        } else if let Some(idle) = self.idle_timeout {
            (*lock(&self.idle_since) + idle, CloseReason::Idle)
        } else {
            return Ok(None);
        };
        if now >= at { Err(reason) } else { Ok(Some(at)) }
    }
}

/// An open request on a connection; dropping it ends the request.
#[derive(Debug)]
pub struct OpenRequest(Arc<ConnectionState>);

impl Drop for OpenRequest {
    fn drop(&mut self) {
        if self.0.open_requests.fetch_sub(1, Ordering::AcqRel) == 1 {
            *lock(&self.0.idle_since) = Instant::now();
            self.0.changed();
        }
    }
}

/// What tonic puts into every request's extensions for this connection: the TCP
/// addresses, and the state that [`super::activity`] reports requests to.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    pub tcp: TcpConnectInfo,
    pub state: Arc<ConnectionState>,
}

/// An accepted socket under the deadlines of its [`ConnectionState`]. `held` (its
/// connection slot) is released when the connection is dropped.
pub struct Connection<IO, H> {
    io: IO,
    state: Arc<ConnectionState>,
    timer: Option<Pin<Box<Sleep>>>,
    closed: Option<CloseReason>,
    _held: H,
}

impl<IO, H> Connection<IO, H> {
    pub fn new(io: IO, state: Arc<ConnectionState>, held: H) -> Self {
        let first = state.accepted + state.handshake_timeout;
        Connection {
            io,
            state,
            timer: Some(Box::pin(tokio::time::sleep_until(first))),
            closed: None,
            _held: held,
        }
    }

    /// The state that requests on this connection report to.
    pub fn state(&self) -> &Arc<ConnectionState> {
        &self.state
    }

    /// Fails once a deadline has passed (or the slot was given away); otherwise
    /// arms the timer for the next deadline, so that the task wakes up for it.
    fn check(&mut self, cx: &mut Context<'_>) -> std::io::Result<()> {
        if let Some(reason) = self.closed {
            return Err(reason.error());
        }
        self.state.register(cx.waker());
        let mut recheck = self.state.recheck.swap(false, Ordering::AcqRel);
        loop {
            if recheck {
                match self.state.deadline(Instant::now()) {
                    Err(reason) => return Err(self.close(reason)),
                    Ok(None) => self.timer = None,
                    Ok(Some(at)) => match &mut self.timer {
                        Some(timer) => timer.as_mut().reset(at),
                        None => self.timer = Some(Box::pin(tokio::time::sleep_until(at))),
                    },
                }
            }
            let fired = match &mut self.timer {
                Some(timer) => timer.as_mut().poll(cx).is_ready(),
                None => false,
            };
            if !fired {
                return Ok(());
            }
            recheck = true;
        }
    }

    fn close(&mut self, reason: CloseReason) -> std::io::Error {
        self.closed = Some(reason);
        self.timer = None;
        metrics::counter!("takedown_connections_closed_total", "reason" => reason.label())
            .increment(1);
        tracing::debug!(
            peer = ?self.state.peer,
            reason = reason.label(),
            "closing a connection"
        );
        reason.error()
    }
}

impl<IO: Connected<ConnectInfo = TcpConnectInfo>, H> Connected for Connection<IO, H> {
    type ConnectInfo = ConnectionInfo;
    fn connect_info(&self) -> ConnectionInfo {
        ConnectionInfo {
            tcp: self.io.connect_info(),
            state: self.state.clone(),
        }
    }
}

impl<IO: AsyncRead + Unpin, H: Unpin> AsyncRead for Connection<IO, H> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin, H: Unpin> AsyncWrite for Connection<IO, H> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const SHORT: Duration = Duration::from_millis(100);

    /// A connection over an in-memory pipe, and the other end.
    fn pipe(
        idle: Option<Duration>,
    ) -> (
        Connection<tokio::io::DuplexStream, ()>,
        tokio::io::DuplexStream,
    ) {
        let (ours, theirs) = tokio::io::duplex(1024);
        let state = ConnectionState::new(None, SHORT, idle);
        (Connection::new(ours, state, ()), theirs)
    }

    async fn read_fails_within(
        conn: &mut Connection<tokio::io::DuplexStream, ()>,
        limit: Duration,
    ) -> std::io::Error {
        let mut buf = [0u8; 16];
        tokio::time::timeout(limit, conn.read(&mut buf))
            .await
            .expect("the read ends in time")
            .expect_err("the connection was closed")
    }

    #[tokio::test]
    async fn a_connection_without_a_request_is_closed_at_the_handshake_deadline() {
        let (mut conn, mut peer) = pipe(None);
        // Bytes alone (a preface, say) do not count as a request.
        peer.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            .await
            .expect("write");
        let mut buf = [0u8; 24];
        conn.read_exact(&mut buf)
            .await
            .expect("the preface is read");
        let e = read_fails_within(&mut conn, SHORT * 5).await;
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert_eq!(conn.closed, Some(CloseReason::HandshakeTimeout));
    }

    #[tokio::test]
    async fn a_request_in_time_keeps_the_connection_while_it_is_open() {
        let (mut conn, mut peer) = pipe(Some(SHORT * 2));
        let open = conn.state.request_started();
        // Well past the handshake deadline and the idle timeout, a read still waits
        // for data while the request is open.
        let mut buf = [0u8; 4];
        let waited = tokio::time::timeout(SHORT * 5, conn.read(&mut buf)).await;
        assert!(waited.is_err(), "no deadline while a request is open");
        drop(open);
        let started = Instant::now();
        let e = read_fails_within(&mut conn, SHORT * 10).await;
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert_eq!(conn.closed, Some(CloseReason::Idle));
        assert!(
            started.elapsed() >= SHORT * 2,
            "closed only after the idle timeout"
        );
        peer.shutdown().await.expect("shutdown");
    }

    #[tokio::test]
    async fn an_evicted_connection_closes_at_once_unless_it_has_sent_a_request() {
        let (mut conn, _peer) = pipe(None);
        let state = conn.state.clone();
        let reading = tokio::spawn(async move {
            let mut buf = [0u8; 4];
            let result = conn.read(&mut buf).await;
            (result, conn.closed)
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(state.evict());
        let (result, closed) = tokio::time::timeout(SHORT / 2, reading)
            .await
            .expect("woken at once")
            .expect("task");
        assert!(result.is_err());
        assert_eq!(closed, Some(CloseReason::Evicted));

        let (conn, _peer) = pipe(None);
        let _open = conn.state.request_started();
        assert!(
            !conn.state.evict(),
            "a connection with a request keeps its slot"
        );
    }
}
