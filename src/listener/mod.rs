//! What the server listens with: optional TLS, and the rules that keep its connection
//! slots for clients that use them.
//!
//! Plaintext stays the default, for a server on localhost behind its operator's
//! proxy; anything reachable from elsewhere should serve TLS ([`tls`]).
//!
//! A TCP connection costs its peer nothing, so an open socket must earn its slot:
//! - [`admission`] bounds open connections (all together and per client IP) and,
//!   when every slot is taken, gives a newcomer the slot of the oldest connection
//!   that has not sent a request yet;
//! - [`connection`] closes a connection that sends no request within the handshake
//!   deadline, or that has had no open request for the idle timeout;
//! - [`activity`] is the tower layer that tells a connection when a request starts
//!   and when its response ends;
//! - HTTP/2 keepalive pings (set on tonic's server builder) close peers that stopped
//!   answering while a request is open.

pub mod activity;
pub mod admission;
pub mod connection;
pub mod tls;

use std::time::Duration;

pub use activity::ActivityLayer;
pub use admission::admit;
pub use tls::{TlsFileError, TlsFiles};

/// How long an unanswered keepalive ping may wait before the connection is closed,
/// at most (tonic's default).
pub const MAX_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// How many connections the server keeps open, and for how long.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionLimits {
    /// Open connections at most. When all are taken, a new connection takes the slot
    /// of the oldest one that has not sent a request yet; when every open connection
    /// has, the new one waits in the listen backlog.
    pub max_connections: usize,
    /// Open connections from one client IP address at most; more are closed at once.
    /// 0: no cap of its own.
    pub max_per_ip: usize,
    /// Time from accepting a connection to its first request (TLS handshake, HTTP/2
    /// preface and settings, request headers); a connection that takes longer is
    /// closed.
    pub handshake_timeout: Duration,
    /// A connection with no open request for this long is closed; `None`: never.
    pub idle_timeout: Option<Duration>,
    /// An HTTP/2 PING goes out after this much silence on a connection; a peer that
    /// does not answer within the same time (at most [`MAX_KEEPALIVE_TIMEOUT`]) is
    /// closed. `None`: no pings.
    pub keepalive: Option<Duration>,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 1_024,
            max_per_ip: 64,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Some(Duration::from_secs(300)),
            keepalive: Some(Duration::from_secs(60)),
        }
    }
}

impl ConnectionLimits {
    /// How long a keepalive ping may go unanswered.
    pub fn keepalive_timeout(&self) -> Option<Duration> {
        self.keepalive.map(|k| k.min(MAX_KEEPALIVE_TIMEOUT))
    }
}
