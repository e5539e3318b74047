//! The release `takedownd` as a child process for the benchmarks (`scale`, `load
//! --pinned`): 127.0.0.1:0, its address from its ready file, its stderr in a log beside
//! the data folder, optionally pinned to one core with `taskset`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tonic::transport::{Channel, Endpoint};

/// The `takedownd` built beside this example (`target/release/takedownd`), or the one
/// the `TAKEDOWND` variable names (to measure two builds side by side).
pub fn takedownd_beside_me() -> PathBuf {
    if let Some(bin) = std::env::var_os("TAKEDOWND") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("own path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("takedownd"))
        .expect("target folder");
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build --release --bin takedownd`",
        bin.display()
    );
    bin
}

pub struct Daemon {
    child: Child,
    ready: PathBuf,
}

impl Daemon {
    /// Starts `bin` on `data` with `extra` flags, on core `pin` if given.
    pub fn spawn(bin: &Path, data: &Path, extra: &[&str], pin: Option<usize>) -> Daemon {
        let ready = data.with_extension("addr");
        let _ = std::fs::remove_file(&ready);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data.with_extension("log"))
            .expect("open the server log");
        let mut command = match pin {
            Some(core) => {
                let mut c = Command::new("taskset");
                c.arg("-c").arg(core.to_string()).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        let child = command
            .args(["--listen", "127.0.0.1:0", "--file-claim-rate", "0"])
            .arg("--ready-file")
            .arg(&ready)
            .arg("--data-dir")
            .arg(data)
            .args(extra)
            .env(
                "RUST_LOG",
                std::env::var("TAKEDOWND_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn takedownd");
        Daemon { child, ready }
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// A channel once the daemon has written its address and a connection succeeds.
    pub async fn channel(&mut self) -> Channel {
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("takedownd exited with {status}; see its log beside the data folder");
            }
            if let Ok(addr) = std::fs::read_to_string(&self.ready)
                && let Ok(endpoint) = Endpoint::from_shared(format!("http://{}", addr.trim()))
                && let Ok(channel) = endpoint.timeout(Duration::from_secs(600)).connect().await
            {
                return channel;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Peak resident memory (VmHWM) in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }

    /// SIGTERM, then waits for the exit; returns how long the stop took.
    pub fn stop(mut self) -> Duration {
        let t = Instant::now();
        kill(self.pid(), Signal::SIGTERM).expect("SIGTERM");
        let status = self.child.wait().expect("wait for takedownd");
        assert!(status.success(), "takedownd stopped with {status}");
        t.elapsed()
    }
}
