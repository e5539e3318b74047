//! The data folder belongs to one process at a time: a second server, `takedownd
//! rebuild` and `takedownd admin-token` beside a running server are refused with a
//! message naming the holder's pid, and change nothing; once the holder stops, they
//! run. Also: the folder and its files are private (0700/0600) and looser modes are
//! tightened at start with a warning; `takedownd admin-token` recovers admin access
//! when no admin token works.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::common::TestServer;
use crate::common::daemon::Daemon;
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
) -> AdminServiceClient<crate::common::Authed> {
    let value = format!("Bearer {token}").parse().expect("ascii token");
    AdminServiceClient::new(InterceptedService::new(
        channel.clone(),
        crate::common::Bearer(Some(value)),
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

/// Every path under `root` (and `root`) that group or others can access, with its mode.
fn loose_modes(root: &Path) -> Vec<(std::path::PathBuf, u32)> {
    let mut loose = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(path) = todo.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue; // sled renames files as it works
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            loose.push((path.clone(), mode));
        }
        if meta.is_dir() {
            for dirent in std::fs::read_dir(&path).expect("list") {
                todo.push(dirent.expect("entry").path());
            }
        }
    }
    loose
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn first_segment(data: &Path) -> std::path::PathBuf {
    data.join("journal").join("00000000000000000001.wal")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_folder_is_private_and_looser_modes_are_tightened_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut d = Daemon::start(&data, &dir.path().join("first.log"), &[]).await;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&first_segment(&data)), 0o600);
    assert_eq!(mode(&data.join("admin.token")), 0o600);
    assert_eq!(mode(&data.join("takedownd.lock")), 0o600);
    assert_eq!(loose_modes(&data), Vec::new(), "everything is owner-only");
    d.signal(Signal::SIGTERM);
    d.wait_exit(Duration::from_secs(30)).await.expect("stops");

    // An older build, or an operator, left things readable to others.
    let loosened = [
        (data.clone(), 0o755),
        (data.join("journal"), 0o755),
        (first_segment(&data), 0o644),
        (data.join("sled").join("db"), 0o644),
        (data.join("admin.token"), 0o644),
    ];
    for (path, m) in &loosened {
        chmod(path, *m);
    }
    let _d = Daemon::start(&data, &dir.path().join("second.log"), &[]).await;
    assert_eq!(loose_modes(&data), Vec::new(), "tightened at start");
    let log = std::fs::read_to_string(dir.path().join("second.log")).expect("log");
    for (path, m) in &loosened {
        let line = log
            .lines()
            .find(|l| l.contains("WARN") && l.contains(&format!("path={}", path.display())))
            .unwrap_or_else(|| panic!("no warning for {}:\n{log}", path.display()));
        assert!(line.contains(&format!("{m:04o}")), "{line}");
    }
}

#[tokio::test]
async fn an_in_process_server_leaves_no_file_readable_to_others() {
    // No umask here (the test process keeps its own): the server makes sled's files
    // private after opening it.
    let s = TestServer::start().await;
    assert_eq!(loose_modes(s.dir.path()), Vec::new());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn takedownd_admin_token_recovers_admin_access_offline() {
    let mut s = TestServer::start().await;
    let first_admin = s.admin_token.clone();
    let first_admin_id = s
        .admin(&first_admin)
        .await
        .list_principals(pb::ListPrincipalsRequest::default())
        .await
        .expect("list")
        .into_inner()
        .principals
        .into_iter()
        .find(|p| p.roles.contains(&(Role::Admin as i32)))
        .expect("the first admin")
        .id;
    // A second admin revokes the first, and then its own token is lost: no admin
    // token works any more.
    let (_, second_admin) = s.principal("Second admin", &[Role::Admin]).await;
    s.admin(&second_admin)
        .await
        .revoke_principal(pb::RevokePrincipalRequest {
            principal_id: first_admin_id,
        })
        .await
        .expect("revoke the first admin");
    drop(second_admin);
    let refused = s
        .admin(&first_admin)
        .await
        .list_principals(pb::ListPrincipalsRequest::default())
        .await;
    assert_eq!(crate::common::code(refused), tonic::Code::Unauthenticated);

    // Not while the server runs.
    let (ok, stderr) = takedownd(s.dir.path(), &["admin-token"]);
    assert!(!ok, "admin-token must refuse beside a server: {stderr}");
    assert_refused_for_lock(&stderr, std::process::id());
    let token_file = s.dir.path().join("admin.token");
    assert_eq!(
        std::fs::read_to_string(&token_file).expect("read").trim(),
        first_admin,
        "a refused admin-token changes nothing"
    );

    if let Some(server) = s.server.take() {
        server.stop().await.expect("stop");
    }
    let (ok, stderr) = takedownd(s.dir.path(), &["admin-token"]);
    assert!(ok, "admin-token with the server stopped: {stderr}");
    assert!(stderr.contains("admin.token"), "says where: {stderr}");
    assert_eq!(mode(&token_file), 0o600);

    let server = RunningServer::start(TestServer::config(s.dir.path(), s.clock.clone()))
        .await
        .expect("start again");
    let new_admin = server.admin_token.clone();
    assert_ne!(new_admin, first_admin);
    s.server = Some(server);
    s.admin_token = new_admin.clone();
    let (_, auditor) = s.principal("Auditor", &[Role::Auditor]).await;
    assert_eq!(
        crate::common::code(
            s.admin(&first_admin)
                .await
                .list_principals(pb::ListPrincipalsRequest::default())
                .await
        ),
        tonic::Code::Unauthenticated,
        "the revoked token stays revoked"
    );

    // Journaled and audited as created by `system`, and the chain verifies.
    let mut audit = s.audit(&auditor).await;
    let entries = audit
        .list_audit_entries(pb::ListAuditEntriesRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .expect("audit entries")
        .into_inner()
        .entries;
    let minted = &entries[entries.len() - 2];
    assert_eq!(
        (minted.actor.as_str(), minted.action.as_str()),
        ("system", "CreatePrincipal"),
        "{minted:?}"
    );
    let verify = audit
        .verify_audit_log(pb::VerifyAuditLogRequest::default())
        .await
        .expect("verify")
        .into_inner();
    assert!(verify.ok, "{verify:?}");
    s.stop().await;
}
