//! Runs the README's grpcurl walkthrough, exactly as written, against the real
//! `takedownd` binary, so the walkthrough cannot rot. Needs the real grpcurl
//! (`scripts/test` installs it and sets TAKEDOWN_GRPCURL); in CI a missing grpcurl
//! fails the test instead of skipping it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the server if the test ends early.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn grpcurl() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TAKEDOWN_GRPCURL").map(PathBuf::from)
        && p.exists()
    {
        return Some(p);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("grpcurl"))
            .find(|p| p.exists())
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn start(dir: &Path, port: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_takedownd"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--data-dir", "takedown-data"])
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start takedownd");
    let deadline = Instant::now() + Duration::from_secs(20);
    // The port is bound before the first admin is created: wait for both.
    let token = dir.join("takedown-data").join("admin.token");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() || !token.exists() {
        assert!(
            Instant::now() < deadline,
            "takedownd did not start listening"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Server(child)
}

fn stop(mut server: Server) {
    let pid = nix::unistd::Pid::from_raw(server.0.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let status = server.0.wait().expect("wait for takedownd");
    assert!(
        status.success(),
        "takedownd exited with {status} after SIGTERM"
    );
}

/// The bash block between the walkthrough markers of README.md.
fn walkthrough() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let block = readme
        .split("<!-- walkthrough:start -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- walkthrough:end -->").next())
        .expect("walkthrough markers in README.md");
    block
        .lines()
        .filter(|l| !l.starts_with("```"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn run_script(dir: &Path, grpcurl: &Path, script: &str) -> String {
    let path = format!(
        "{}:{}",
        grpcurl.parent().expect("grpcurl folder").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "the README walkthrough failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    stdout + &stderr
}

#[test]
fn readme_walkthrough_runs_with_the_real_grpcurl() {
    let Some(grpcurl) = grpcurl() else {
        assert!(
            std::env::var("CI").is_err(),
            "grpcurl is missing in CI: run scripts/test, which installs it"
        );
        eprintln!("SKIPPED: grpcurl not found; run scripts/test to install it");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let server = start(dir.path(), port);
    let script = walkthrough().replace("127.0.0.1:50051", &format!("127.0.0.1:{port}"));
    let out = run_script(dir.path(), &grpcurl, &script);

    for expected in [
        "grpc.health.v1.Health",
        "\"status\": \"SERVING\"",
        "google.rpc.BadRequest",
        "claim.signature",
        "INVALID_TRANSITION",
        "CLAIM_STATE_CORRECTED",
        "\"revision\": \"2\"",
        "CLAIM_STATE_RESTORED",
        "\"ok\": true",
    ] {
        assert!(
            out.contains(expected),
            "walkthrough output lacks {expected:?}:\n{out}"
        );
    }
    let head = |text: &str| {
        text.lines()
            .rev()
            .find(|l| l.contains("\"headHash\""))
            .map(str::to_string)
            .expect("a headHash line")
    };
    let head_before = head(&out);

    // Stop and start again: everything is still there and the chain verifies.
    stop(server);
    let _server = start(dir.path(), port);
    let verify = format!(
        "grpcurl -plaintext -H \"authorization: Bearer $(cat takedown-data/admin.token)\" \
         -d '{{}}' 127.0.0.1:{port} takedown.v1.AuditService/VerifyAuditLog"
    );
    let after = run_script(dir.path(), &grpcurl, &verify);
    assert!(after.contains("\"ok\": true"), "{after}");
    assert_eq!(
        head(&after),
        head_before,
        "the head hash survives a restart"
    );
}
