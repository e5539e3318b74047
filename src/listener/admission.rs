//! Which accepted sockets get a connection slot.
//!
//! At most `max_connections` connections are open, and at most `max_per_ip` from one
//! client address (more are closed at once). When every slot is taken, a newcomer
//! gets the slot of the oldest connection that has not sent a request yet: a socket
//! that sends nothing can hold a slot only until somebody needs it, so idle sockets
//! past the cap never keep a real client out. Only when every open connection has
//! sent a request does a newcomer wait in the listen backlog, as mini-redis does.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_stream::{Stream, StreamExt};

use super::ConnectionLimits;
use super::connection::{Connection, ConnectionState};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain counters and maps: a panic elsewhere leaves them usable.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What open connections share with the gate.
#[derive(Default)]
struct Books {
    /// Open connections by client address (only kept with a per-IP cap).
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    /// Connections that may not have sent a request yet, oldest first.
    unproven: Mutex<BTreeMap<u64, Weak<ConnectionState>>>,
}

/// A connection's slot: its permit, its count for its address, its place in line.
/// Dropped with the connection.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    ip: Option<IpAddr>,
    id: u64,
    books: Arc<Books>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.books.unproven).remove(&self.id);
        if let Some(ip) = self.ip {
            release_ip(&self.books, ip);
        }
        metrics::gauge!("takedown_connections_open").decrement(1.0);
    }
}

fn release_ip(books: &Books, ip: IpAddr) {
    let mut per_ip = lock(&books.per_ip);
    if let Some(n) = per_ip.get_mut(&ip) {
        *n -= 1;
        if *n == 0 {
            per_ip.remove(&ip);
        }
    }
}

/// A counted place for one address, given back if admission stops half-way.
struct IpCount<'a> {
    books: &'a Books,
    ip: IpAddr,
}

impl IpCount<'_> {
    fn keep(self) -> IpAddr {
        let ip = self.ip;
        std::mem::forget(self);
        ip
    }
}

impl Drop for IpCount<'_> {
    fn drop(&mut self) {
        release_ip(self.books, self.ip);
    }
}

struct Gate {
    limits: ConnectionLimits,
    slots: Arc<Semaphore>,
    books: Arc<Books>,
    next_id: AtomicU64,
}

impl Gate {
    /// Counts `ip`, or refuses it when it already has its share of connections.
    fn count_ip(&self, ip: Option<IpAddr>) -> Result<Option<IpCount<'_>>, ()> {
        let (Some(ip), max) = (ip, self.limits.max_per_ip) else {
            return Ok(None);
        };
        if max == 0 {
            return Ok(None);
        }
        let mut per_ip = lock(&self.books.per_ip);
        let open = per_ip.entry(ip).or_default();
        if *open >= max {
            return Err(());
        }
        *open += 1;
        Ok(Some(IpCount {
            books: &self.books,
            ip,
        }))
    }

    /// Closes the oldest connection that has not sent a request; false if there is
    /// none.
    fn evict_oldest_unproven(&self) -> bool {
        let mut unproven = lock(&self.books.unproven);
        // Connections that have sent a request never need looking at again.
        while let Some((_, state)) = unproven.pop_first() {
            if let Some(state) = state.upgrade()
                && state.evict()
            {
                return true;
            }
        }
        false
    }

    async fn admit(&self, stream: TcpStream) -> Option<Connection<TcpStream, Slot>> {
        let peer = stream.peer_addr().ok();
        let ip = peer.map(|a| a.ip().to_canonical());
        let Ok(counted) = self.count_ip(ip) else {
            metrics::counter!("takedown_connections_refused_total", "reason" => "per_ip_cap")
                .increment(1);
            tracing::debug!(
                ?peer,
                max = self.limits.max_per_ip,
                "refusing a connection: its address has its share of connections open"
            );
            return None;
        };
        let permit = match self.slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                self.evict_oldest_unproven();
                // The semaphore is never closed, so this only waits: for the evicted
                // connection to let go, or (none evicted) for any to close.
                self.slots.clone().acquire_owned().await.ok()?
            }
        };
        let state = ConnectionState::new(
            peer,
            self.limits.handshake_timeout,
            self.limits.idle_timeout,
        );
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.books.unproven).insert(id, Arc::downgrade(&state));
        metrics::gauge!("takedown_connections_open").increment(1.0);
        let slot = Slot {
            _permit: permit,
            ip: counted.map(IpCount::keep),
            id,
            books: self.books.clone(),
        };
        Some(Connection::new(stream, state, slot))
    }
}

/// Gives each accepted socket a slot under `limits`, or closes it (an address over
/// its cap). The next socket is taken only once this one has its slot.
pub fn admit<S, E>(
    incoming: S,
    limits: ConnectionLimits,
) -> impl Stream<Item = Result<Connection<TcpStream, Slot>, E>>
where
    S: Stream<Item = Result<TcpStream, E>>,
{
    let gate = Arc::new(Gate {
        slots: Arc::new(Semaphore::new(limits.max_connections.max(1))),
        limits,
        books: Arc::default(),
        next_id: AtomicU64::new(0),
    });
    incoming
        .then(move |accepted| {
            let gate = gate.clone();
            async move {
                match accepted {
                    Ok(stream) => gate.admit(stream).await.map(Ok),
                    Err(e) => Some(Err(e)),
                }
            }
        })
        .filter_map(|admitted| admitted)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    use super::*;

    type Admitted = Connection<TcpStream, Slot>;

    /// A listener on 127.0.0.1 and its admitted connections under `limits`.
    async fn gate(
        limits: ConnectionLimits,
    ) -> (
        std::net::SocketAddr,
        std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Admitted>> + Send>>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
        (addr, Box::pin(admit(incoming, limits)))
    }

    fn limits(max_connections: usize, max_per_ip: usize) -> ConnectionLimits {
        ConnectionLimits {
            max_connections,
            max_per_ip,
            handshake_timeout: Duration::from_secs(60),
            idle_timeout: None,
            keepalive: None,
        }
    }

    /// Reads from the connection until it fails or ends, then drops it (and its
    /// slot), as hyper does with a connection it serves.
    fn serve(mut conn: Admitted) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut buf = [0u8; 64];
            while let Ok(n) = conn.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        })
    }

    async fn next(
        admitted: &mut (impl Stream<Item = std::io::Result<Admitted>> + Unpin),
        within: Duration,
    ) -> Option<Admitted> {
        match tokio::time::timeout(within, admitted.next()).await {
            Ok(Some(Ok(conn))) => Some(conn),
            Ok(other) => panic!("the stream ended or failed: {:?}", other.map(|r| r.err())),
            Err(_) => None,
        }
    }

    const SOON: Duration = Duration::from_secs(5);
    const NOT_YET: Duration = Duration::from_millis(100);

    #[tokio::test]
    async fn a_newcomer_takes_the_slot_of_the_oldest_connection_without_a_request() {
        let (addr, mut admitted) = gate(limits(2, 0)).await;
        let _a = TcpStream::connect(addr).await.expect("a");
        let first = next(&mut admitted, SOON).await.expect("a admitted");
        let first_state = first.state().clone();
        let a_served = serve(first);
        let _b = TcpStream::connect(addr).await.expect("b");
        let second = next(&mut admitted, SOON).await.expect("b admitted");
        let _b_request = second.state().request_started();
        let _b_served = serve(second);

        // Both slots are taken; the third takes the slot of the first, which has not
        // sent a request, not of the second, which has.
        let _c = TcpStream::connect(addr).await.expect("c");
        let third = next(&mut admitted, SOON).await.expect("c admitted");
        a_served.await.expect("the first connection was closed");
        assert!(!first_state.has_requested());
        let _c_served = serve(third);
    }

    #[tokio::test]
    async fn when_every_connection_has_sent_a_request_a_newcomer_waits() {
        let (addr, mut admitted) = gate(limits(1, 0)).await;
        let _a = TcpStream::connect(addr).await.expect("a");
        let first = next(&mut admitted, SOON).await.expect("a admitted");
        let request = first.state().request_started();
        let _b = TcpStream::connect(addr).await.expect("b");
        assert!(
            next(&mut admitted, NOT_YET).await.is_none(),
            "b waits while a, which has sent a request, holds the only slot"
        );
        drop(request);
        drop(first);
        assert!(next(&mut admitted, SOON).await.is_some(), "b gets the slot");
    }

    #[tokio::test]
    async fn an_address_over_its_cap_is_closed_at_once() {
        let (addr, mut admitted) = gate(limits(10, 1)).await;
        let _a = TcpStream::connect(addr).await.expect("a");
        let first = next(&mut admitted, SOON).await.expect("a admitted");
        let _a_request = first.state().request_started();
        let mut b = TcpStream::connect(addr).await.expect("b");
        assert!(
            next(&mut admitted, NOT_YET).await.is_none(),
            "b is not admitted"
        );
        let mut buf = [0u8; 1];
        let read = tokio::time::timeout(SOON, b.read(&mut buf)).await;
        assert!(
            matches!(read, Ok(Ok(0)) | Ok(Err(_))),
            "b is closed: {read:?}"
        );
        drop(first);
        let _c = TcpStream::connect(addr).await.expect("c");
        assert!(
            next(&mut admitted, SOON).await.is_some(),
            "with a closed, the address may connect again"
        );
    }
}
