//! The data folder belongs to one process at a time: a second server, `takedownd
//! rebuild` and `takedownd admin-token` beside a running server are refused with a
//! message naming the holder's pid, and change nothing; once the holder stops, they
//! run. Also: the folder and its files are private (0700/0600) and looser modes are
//! tightened at start with a warning; `takedownd admin-token` recovers admin access
//! when no admin token works.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::TestServer;
use common::daemon::Daemon;
use nix::sys::signal::Signal;
use takedown::pb::{self, Role, admin_service_client::AdminServiceClient};
use takedown::server::RunningServer;
use tonic::service::interceptor::InterceptedService;

/// Runs `takedownd <args> --data-dir <data_dir>` to the end; returns (success, stderr).
fn takedownd(data_dir: &Path, args: &[&str]) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_takedownd"));
    for (key, _) in std::env::vars() {
        if key.starts_with("TAKEDOWN_") {
            command.env_remove(key);
        }
    }
    let out = command
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--sled-cache-mib")
        .arg("8")
        .env("RUST_LOG", "info")
        .output()
        .expect("run takedownd");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn admin_client(
    channel: &tonic::transport::Channel,
    token: &str,
) -> AdminServiceClient<common::Authed> {
    let value = format!("Bearer {token}").parse().expect("ascii token");
    AdminServiceClient::new(InterceptedService::new(
        channel.clone(),
        common::Bearer(Some(value)),
    ))
}

fn assert_refused_for_lock(message: &str, pid: u32) {
    assert!(
        message.contains(&format!("pid {pid}")),
        "names the holder's pid {pid}: {message}"
    );
    assert!(
        message.contains("Stop that process first"),
        "says what to do: {message}"
    );
    assert!(
        !message.contains("run `takedownd rebuild`"),
        "a lock is no reason to rebuild: {message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_the_same_folder_is_refused_until_the_first_stops() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut first = Daemon::start(&data, &dir.path().join("first.log"), &[]).await;
    let first_pid = first.pid().expect("pid");

    let mut second = Daemon::spawn(&data, &dir.path().join("second.log"), &[]);
    let status = second
        .wait_exit(Duration::from_secs(30))
        .await
        .expect("the second server exits by itself");
    assert!(!status.success(), "the second server must not run");
    assert_refused_for_lock(&second.log_text(), first_pid);
    assert!(first.serving().await, "the first server is untouched");

    first.signal(Signal::SIGTERM);
    first
        .wait_exit(Duration::from_secs(30))
        .await
        .expect("the first server stops");
    let third = Daemon::start(&data, &dir.path().join("third.log"), &[]).await;
    let token = Daemon::admin_token(&data);
    admin_client(&third.channel().await, &token)
        .list_principals(pb::ListPrincipalsRequest::default())
        .await
        .expect("the server started after the first stopped works");
}

#[tokio::test]
async fn an_in_process_server_holds_the_lock_until_it_stops() {
    let s = TestServer::start().await;
    let config = TestServer::config(s.dir.path(), s.clock.clone());
    let err = RunningServer::start(config.clone())
        .await
        .err()
        .expect("a second server on the same folder is refused");
    assert_refused_for_lock(&err.to_string(), std::process::id());
    let mut s = s;
    s.restart().await; // stop, then start again on the same folder
    assert!(RunningServer::start(config).await.is_err());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_beside_a_live_server_is_refused_and_leaves_sled_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let d = Daemon::start(&data, &dir.path().join("server.log"), &[]).await;
    let sled = data.join("sled");
    let inode = |p: &Path| std::fs::metadata(p).expect("stat").ino();
    let before = (inode(&sled), inode(&sled.join("db")));

    let (ok, stderr) = takedownd(&data, &["rebuild"]);
    assert!(!ok, "rebuild must refuse while a server runs: {stderr}");
    assert_refused_for_lock(&stderr, d.pid().expect("pid"));
    assert_eq!(
        (inode(&sled), inode(&sled.join("db"))),
        before,
        "sled is untouched"
    );

    // The server still writes.
    let token = Daemon::admin_token(&data);
    admin_client(&d.channel().await, &token)
        .create_principal(pb::CreatePrincipalRequest {
            display_name: "Auditor".into(),
            roles: vec![Role::Auditor as i32],
            ..Default::default()
        })
        .await
        .expect("the server still writes");
}
