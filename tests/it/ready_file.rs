//! `takedownd --listen 127.0.0.1:0` tells which port it got: a plain `listening on`
//! log line, and the `--ready-file` (or `TAKEDOWN_READY_FILE`) it writes once it
//! serves; an old one is removed at start. An unwritable ready file stops the start
//! with a message naming it.

use std::time::Duration;

use crate::common::daemon::{self, Daemon};
use nix::sys::signal::Signal;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bound_port_is_logged_and_written_to_the_ready_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let log = dir.path().join("server.log");
    let mut d = Daemon::start(&data, &log, &[]).await;
    let addr = d.addr().expect("the ready file holds the address");
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(addr.port(), 0, "the port the system picked, not 0");
    let text = d.log_text();
    assert!(
        text.lines()
            .any(|l| l.contains(&format!("listening on {addr} with"))),
        "no `listening on {addr}` line:\n{text}"
    );
    let ready = log.with_extension("addr");
    assert_eq!(
        std::fs::read_to_string(&ready).expect("read the ready file"),
        format!("{addr}\n")
    );
    assert!(
        !dir.path().join("server.addr.tmp").exists(),
        "the temp file was renamed"
    );
    d.signal(Signal::SIGTERM);
    let status = d.wait_exit(Duration::from_secs(20)).await;
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", d.log_text());
}

#[test]
fn a_start_that_fails_leaves_no_ready_file_behind() {
    // A ready file from an earlier run is removed before anything else, so a
    // supervisor never reads it as this start's; TLS files that cannot be read stop
    // the start before the file is written.
    let dir = tempfile::tempdir().expect("temp dir");
    let ready = dir.path().join("takedownd.addr");
    std::fs::write(&ready, "127.0.0.1:1\n").expect("plant a stale ready file");
    let out = daemon::command()
        .args(["--listen", "127.0.0.1:0", "--sled-cache-mib", "8"])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--tls-cert")
        .arg(dir.path().join("missing.pem"))
        .arg("--tls-key")
        .arg(dir.path().join("missing.key"))
        .env("TAKEDOWN_READY_FILE", &ready)
        .output()
        .expect("run takedownd");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("missing.pem"), "{stderr}");
    assert!(!ready.exists(), "the stale ready file is gone");
}

#[test]
fn an_unwritable_ready_file_stops_the_start_and_names_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ready = dir.path().join("no-such-folder").join("takedownd.addr");
    let out = daemon::command()
        .args(["--listen", "127.0.0.1:0", "--sled-cache-mib", "8"])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--ready-file")
        .arg(&ready)
        .output()
        .expect("run takedownd");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot write the ready file {}", ready.display())),
        "{stderr}"
    );
}
