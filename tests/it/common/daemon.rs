//! The `takedownd` binary as a child process on 127.0.0.1, for tests of what only a
//! real process shows: signals, exit codes, the metrics listener. It listens on port 0
//! and writes the port it got to its `--ready-file`, so no test guesses a free port.
//! Dropping a [`Daemon`] kills it.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tonic::transport::{Channel, Endpoint};

/// How long a start may take before the test gives up.
const START_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Daemon {
    child: Option<Child>,
    pub log: PathBuf,
    /// Where the daemon writes its bound address once it serves.
    ready_file: PathBuf,
}

/// A port that was free a moment ago, for listeners that cannot report the port they
/// bound (the metrics exporter).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// The `takedownd` command without the `TAKEDOWN_*` variables of whoever runs the
/// tests: only the flags a test gives count.
pub fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_takedownd"));
    for (key, _) in std::env::vars() {
        if key.starts_with("TAKEDOWN_") {
            command.env_remove(key);
        }
    }
    command
}

impl Daemon {
    /// Starts `takedownd` on 127.0.0.1:0 with `args`, its stderr in `log` and its
    /// ready file next to it, without waiting for it.
    pub fn spawn(data_dir: &Path, log: &Path, args: &[String]) -> Daemon {
        let ready_file = log.with_extension("addr");
        // A file left by an earlier start on the same log name is not this one's.
        match std::fs::remove_file(&ready_file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                panic!("remove {}: {e}", ready_file.display())
            }
            _ => {}
        }
        let stderr = File::create(log).expect("create the server log");
        let child = command()
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--ready-file")
            .arg(&ready_file)
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--sled-cache-mib")
            .arg("8")
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spawn takedownd");
        Daemon {
            child: Some(child),
            log: log.to_path_buf(),
            ready_file,
        }
    }

    /// Starts `takedownd` with `args` and waits until it has written its ready file
    /// and its health service says SERVING.
    pub async fn start(data_dir: &Path, log: &Path, args: &[String]) -> Daemon {
        let mut d = Daemon::spawn(data_dir, log, args);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = d.exited() {
                panic!("takedownd exited at start with {status}:\n{}", d.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "takedownd not serving after {START_TIMEOUT:?}:\n{}",
                d.log_text()
            );
            if d.serving().await {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
    }

    /// The address from the ready file, once the daemon has written it.
    pub fn addr(&self) -> Option<SocketAddr> {
        let text = std::fs::read_to_string(&self.ready_file).ok()?;
        Some(
            text.trim()
                .parse()
                .unwrap_or_else(|e| panic!("the ready file holds {text:?}, not an address: {e}")),
        )
    }

    /// The port the daemon serves on; it must be serving.
    pub fn port(&self) -> u16 {
        self.addr()
            .unwrap_or_else(|| panic!("takedownd has not written {}", self.ready_file.display()))
            .port()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// True if the daemon has written its ready file and its health service answers
    /// SERVING.
    pub async fn serving(&self) -> bool {
        use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};
        let Some(addr) = self.addr() else {
            return false;
        };
        let Ok(endpoint) = Endpoint::from_shared(format!("http://{addr}")) else {
            return false;
        };
        let endpoint = endpoint
            .connect_timeout(Duration::from_millis(300))
            .timeout(Duration::from_secs(2));
        let Ok(channel) = endpoint.connect().await else {
            return false;
        };
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
        matches!(
            health.check(HealthCheckRequest { service: String::new() }).await,
            Ok(r) if r.get_ref().status == ServingStatus::Serving as i32
        )
    }

    pub async fn channel(&self) -> Channel {
        Endpoint::from_shared(self.url())
            .expect("url")
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(20))
            .connect()
            .await
            .expect("connect to takedownd")
    }

    pub fn admin_token(data_dir: &Path) -> String {
        std::fs::read_to_string(data_dir.join("admin.token"))
            .expect("admin.token exists once the server serves")
            .trim()
            .to_string()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Sends `signal` to the process.
    pub fn signal(&self, signal: Signal) {
        if let Some(pid) = self.pid() {
            kill(Pid::from_raw(pid as i32), signal).expect("signal takedownd");
        }
    }

    /// The exit status if the process has ended.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.as_mut()?.try_wait().ok().flatten()
    }

    /// Waits up to `timeout` for the process to end by itself.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.exited() {
                self.child = None;
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        None
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last 30 lines of the server's log.
    pub fn log_tail(&self) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// SIGKILL, then reap. Returns how it ended (None if it was already gone).
    pub fn kill(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
        child.wait().ok()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}
