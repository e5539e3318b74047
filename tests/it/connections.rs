//! Connection slots go to clients that use them: sockets that send nothing (or only
//! the HTTP/2 preface) past `max_connections` neither keep a real client out nor stay
//! open past the handshake deadline; one address cannot take more than its share; a
//! connection with no open request is closed after the idle timeout; a peer that
//! stops answering keepalive pings is closed while its request is open.
//!
//! Some tests speak HTTP/2 by hand over a raw socket, to be the client that a
//! library would never be: one that stops reading, or never answers a PING.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::common::TestServer;
use takedown::server::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// One HTTP/2 frame.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = len.to_be_bytes()[1..].to_vec();
    f.extend([kind, flags]);
    f.extend(stream.to_be_bytes());
    f.extend(payload);
    f
}

/// An HPACK header field, literal without indexing, no Huffman coding.
fn literal(name: &str, value: &str) -> Vec<u8> {
    let mut h = vec![0x00, name.len() as u8];
    h.extend(name.as_bytes());
    h.push(value.len() as u8);
    h.extend(value.as_bytes());
    h
}

/// The bytes of a client that opens a connection and calls `path` once with an
/// empty message (a valid `HealthCheckRequest`), on stream 1.
fn grpc_call(path: &str) -> Vec<u8> {
    const HEADERS: u8 = 0x1;
    const DATA: u8 = 0x0;
    const SETTINGS: u8 = 0x4;
    const END_STREAM: u8 = 0x1;
    const END_HEADERS: u8 = 0x4;
    let mut headers = Vec::new();
    for (name, value) in [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", path),
        (":authority", "localhost"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ] {
        headers.extend(literal(name, value));
    }
    let mut bytes = PREFACE.to_vec();
    bytes.extend(frame(SETTINGS, 0, 0, &[]));
    bytes.extend(frame(HEADERS, END_HEADERS, 1, &headers));
    // A gRPC message: not compressed, 0 bytes long.
    bytes.extend(frame(DATA, END_STREAM, 1, &[0, 0, 0, 0, 0]));
    bytes
}

/// Reads (and drops) whatever the server sends until it closes the connection;
/// returns how long that took, or `None` if it was still open after `limit`.
async fn closed_within(socket: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.checked_sub(started.elapsed())?;
        match tokio::time::timeout(left, socket.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

async fn start(configure: impl FnOnce(&mut Config)) -> (TestServer, SocketAddr) {
    let s = TestServer::start_with(configure).await;
    let addr = s.server.as_ref().expect("running").addr;
    (s, addr)
}

fn endpoint(addr: SocketAddr) -> Endpoint {
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("url")
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(5))
}

async fn health_check(channel: Channel) -> Result<(), tonic::Status> {
    HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
        .map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_past_the_cap_neither_keep_a_client_out_nor_stay_open() {
    const HANDSHAKE: Duration = Duration::from_secs(2);
    let (s, addr) = start(|c| {
        c.connections.max_connections = 4;
        c.connections.handshake_timeout = HANDSHAKE;
    })
    .await;
    // Six sockets for four slots: four send nothing, two only the HTTP/2 preface.
    let mut idle = Vec::new();
    for i in 0..6 {
        let mut socket = TcpStream::connect(addr).await.expect("connect");
        if i >= 4 {
            socket.write_all(PREFACE).await.expect("preface");
        }
        idle.push(socket);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    // A real client is served at once, not after the idle sockets time out.
    let started = Instant::now();
    let channel = endpoint(addr)
        .connect()
        .await
        .expect("a slot for a real client");
    health_check(channel.clone())
        .await
        .expect("a health check is served");
    let took = started.elapsed();
    assert!(took < HANDSHAKE, "served after {took:?}");

    // And every idle socket is closed by the handshake deadline.
    for (i, socket) in idle.iter_mut().enumerate() {
        let closed = closed_within(socket, HANDSHAKE + Duration::from_secs(3)).await;
        assert!(closed.is_some(), "idle socket {i} is still open");
    }
    // The client that sent a request keeps its connection.
    health_check(channel).await.expect("still served");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_gets_only_its_share_of_connections() {
    let (s, addr) = start(|c| c.connections.max_per_ip = 2).await;
    // Two connections from 127.0.0.1: its share.
    let first = endpoint(addr).connect().await.expect("first");
    health_check(first.clone()).await.expect("first served");
    let second = endpoint(addr).connect().await.expect("second");
    health_check(second.clone()).await.expect("second served");

    // A third from the same address is closed at once.
    let third = match endpoint(addr).connect().await {
        Ok(channel) => health_check(channel).await,
        Err(e) => Err(tonic::Status::unavailable(e.to_string())),
    };
    assert!(third.is_err(), "a third connection from one address");

    // Another address (all of 127.0.0.0/8 is this machine) is served.
    let other = endpoint(addr)
        .local_address(Some("127.0.0.2".parse().expect("ip")))
        .connect()
        .await
        .expect("another address connects");
    health_check(other)
        .await
        .expect("another address is served");

    // Once one of its connections closes, the address may connect again.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let again = match endpoint(addr).connect().await {
            Ok(channel) => health_check(channel).await,
            Err(e) => Err(tonic::Status::unavailable(e.to_string())),
        };
        match again {
            Ok(()) => break,
            Err(e) => assert!(Instant::now() < deadline, "not served again: {e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    health_check(second)
        .await
        .expect("the second is still served");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_with_no_open_request_is_closed_after_the_idle_timeout() {
    const IDLE: Duration = Duration::from_secs(1);
    let (s, addr) = start(|c| {
        c.connections.idle_timeout = Some(IDLE);
        c.connections.keepalive = None;
    })
    .await;

    // One call, then nothing: closed after the idle timeout.
    let mut done = TcpStream::connect(addr).await.expect("connect");
    done.write_all(&grpc_call("/grpc.health.v1.Health/Check"))
        .await
        .expect("call");
    let closed = closed_within(&mut done, IDLE * 4)
        .await
        .expect("closed after the idle timeout");
    assert!(
        closed >= IDLE,
        "closed after {closed:?}, before the timeout"
    );

    // A stream that stays open (a health Watch) keeps its connection well past it.
    let mut watching = TcpStream::connect(addr).await.expect("connect");
    watching
        .write_all(&grpc_call("/grpc.health.v1.Health/Watch"))
        .await
        .expect("watch");
    assert_eq!(
        closed_within(&mut watching, IDLE * 3).await,
        None,
        "a connection with an open stream is not idle"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_answering_pings_is_closed() {
    const KEEPALIVE: Duration = Duration::from_secs(1);
    let (s, addr) = start(|c| {
        c.connections.keepalive = Some(KEEPALIVE);
        c.connections.idle_timeout = None;
    })
    .await;
    // A live client answers the pings and keeps its stream through many of them.
    let mut live = HealthClient::new(endpoint(addr).connect().await.expect("connect"))
        .watch(HealthCheckRequest::default())
        .await
        .expect("watch")
        .into_inner();
    live.message().await.expect("stream").expect("a status");

    // A raw socket with an open Watch that never answers a PING: closed after one
    // keepalive interval of silence and one of waiting for the answer.
    let mut dead = TcpStream::connect(addr).await.expect("connect");
    dead.write_all(&grpc_call("/grpc.health.v1.Health/Watch"))
        .await
        .expect("watch");
    let closed = closed_within(&mut dead, KEEPALIVE * 6)
        .await
        .expect("a peer that does not answer pings is closed");
    assert!(closed >= KEEPALIVE, "closed after {closed:?}");

    let still = tokio::time::timeout(Duration::from_millis(200), live.message()).await;
    assert!(
        still.is_err(),
        "the live stream is still open (no message, no end): {still:?}"
    );
    s.stop().await;
}
