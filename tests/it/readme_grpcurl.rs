//! Runs every grpcurl command the README shows, exactly as written: the walkthrough
//! against the real `takedownd` binary, and the TLS examples against TLS servers with
//! throwaway certificates, so that none of them can rot. Needs the real grpcurl
//! (`scripts/test` installs it and sets TAKEDOWN_GRPCURL); in CI a missing grpcurl
//! fails the test instead of skipping it.

use crate::common::daemon::Daemon;
use nix::sys::signal::Signal;
use takedown::testkit::smtp::SmtpSink;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

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
    // The README's takedownctl is this build's.
    let ctl = Path::new(env!("CARGO_BIN_EXE_takedownctl"));
    let path = format!(
        "{}:{}:{}",
        grpcurl.parent().expect("grpcurl folder").display(),
        ctl.parent().expect("takedownctl folder").display(),
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
        "a README command failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    stdout + &stderr
}

/// The notification flags of the README's `takedownd` command, with the SMTP port
/// of `smtp`; fails if the README no longer shows them.
fn notify_args(smtp: &SmtpSink) -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let shown = "--smtp-url smtp://127.0.0.1:2525 --smtp-from \"Takedown desk <takedown@news.example.org>\" --public-base-url https://news.example.org/takedown";
    assert!(
        readme.contains(shown),
        "README.md no longer starts takedownd with {shown}"
    );
    vec![
        "--smtp-url".to_string(),
        smtp.url(),
        "--smtp-from".to_string(),
        "Takedown desk <takedown@news.example.org>".to_string(),
        "--public-base-url".to_string(),
        "https://news.example.org/takedown".to_string(),
    ]
}

// The server is a child process; the scripts run on a blocking thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_walkthrough_runs_with_the_real_grpcurl() {
    let Some(grpcurl) = grpcurl() else {
        assert!(
            std::env::var("CI").is_err(),
            "grpcurl is missing in CI: run scripts/test, which installs it"
        );
        eprintln!("SKIPPED: grpcurl not found; run scripts/test to install it");
        return;
    };
    // The README runs in the folder the server was started in: its data is in
    // ./takedown-data.
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("takedown-data");
    // Started as the README's "Telling the parties" section says, with its SMTP server
    // (on a port of its own here).
    let smtp = SmtpSink::start();
    let mut server = Daemon::start(&data, &dir.path().join("first.log"), &notify_args(&smtp)).await;
    let script = walkthrough().replace("127.0.0.1:50051", &format!("127.0.0.1:{}", server.port()));
    let out = tokio::task::block_in_place(|| run_script(dir.path(), &grpcurl, &script));

    for expected in [
        "grpc.health.v1.Health",
        "\"status\": \"SERVING\"",
        "google.rpc.BadRequest",
        "claim.signature",
        "INVALID_TRANSITION",
        "CLAIM_STATE_CORRECTED",
        "\"revision\": \"2\"",
        "CLAIM_STATE_RESTORED",
        "\"action\": \"FileClaim\"",
        "Code: PermissionDenied",
        "CLAIM_STATE_COUNTER_NOTICED",
        "\"noticesManifestlyUnfounded\": \"1\"",
        "PARTY_SUSPENDED",
        "\"ok\": true",
        "\"statementJson\"",
        "DECISION_VISIBILITY_CONTENT_REMOVED",
        "\"documentJson\"",
        "\"noticesByCategory\"",
        "\"receipt\"",
        "root hash",
        "older size",
    ] {
        assert!(
            out.contains(expected),
            "walkthrough output lacks {expected:?}:\n{out}"
        );
    }
    // The e-mails a new user sees arrive: each receipt and each decision, to the
    // notifier's address.
    let mails = smtp.wait_for(6, Duration::from_secs(30)).await;
    let to_notifier = |subject: &str| {
        mails.iter().any(|m| {
            m.envelope_to == ["rights@legaldaily.example.cn"] && m.subject.contains(subject)
        })
    };
    assert!(
        to_notifier("We have received your notice") && to_notifier("Decision on claim"),
        "no receipt or decision e-mail: {:#?}",
        mails
            .iter()
            .map(|m| (&m.envelope_to, &m.subject))
            .collect::<Vec<_>>()
    );
    let head = |text: &str| {
        text.lines()
            .rev()
            .find(|l| l.contains("\"headHash\""))
            .map(|l| l.trim().trim_end_matches(',').to_string())
            .expect("a headHash line")
    };
    let head_before = head(&out);

    // Stop and start again: everything is still there and the chain verifies.
    server.signal(Signal::SIGTERM);
    let status = server.wait_exit(Duration::from_secs(30)).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "takedownd did not exit cleanly after SIGTERM: {status:?}\n{}",
        server.log_tail()
    );
    let server = Daemon::start(&data, &dir.path().join("second.log"), &[]).await;
    let verify = format!(
        "grpcurl -plaintext -H \"authorization: Bearer $(cat takedown-data/admin.token)\" \
         -d '{{}}' 127.0.0.1:{} takedown.v1.AuditService/VerifyAuditLog",
        server.port()
    );
    let after = tokio::task::block_in_place(|| run_script(dir.path(), &grpcurl, &verify));
    assert!(after.contains("\"ok\": true"), "{after}");
    assert_eq!(
        head(&after),
        head_before,
        "the head hash survives a restart"
    );
}

/// The grpcurl commands of the README outside the walkthrough (the TLS examples),
/// each joined across its `\` continuation lines.
fn other_grpcurl_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let outside: String = readme
        .split("<!-- walkthrough:start -->")
        .enumerate()
        .map(|(i, part)| match i {
            0 => part,
            _ => part.split("<!-- walkthrough:end -->").nth(1).unwrap_or(""),
        })
        .collect();
    let mut commands = Vec::new();
    let mut lines = outside.lines();
    while let Some(line) = lines.next() {
        if !line.starts_with("grpcurl ") {
            continue;
        }
        let mut command = line.to_string();
        while command.ends_with('\\') {
            command.pop();
            command.push_str(lines.next().unwrap_or("").trim_start());
        }
        commands.push(command);
    }
    commands
}

// The servers run in this process: grpcurl runs on a blocking thread beside them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_tls_examples_run_with_the_real_grpcurl() {
    use crate::common::TestServer;
    use crate::common::certs::{Ca, write};
    use rcgen::ExtendedKeyUsagePurpose::{ClientAuth, ServerAuth};
    use takedown::listener::TlsFiles;

    let Some(grpcurl) = grpcurl() else {
        assert!(
            std::env::var("CI").is_err(),
            "grpcurl is missing in CI: run scripts/test, which installs it"
        );
        eprintln!("SKIPPED: grpcurl not found; run scripts/test to install it");
        return;
    };
    let commands = other_grpcurl_commands();
    assert!(
        commands.len() >= 2 && commands.iter().any(|c| c.contains(" -cert ")),
        "the README's TLS examples were not found: {commands:?}"
    );
    // The files the README names: ca.pem, cms.pem and cms.key.
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = Ca::new("takedown test CA");
    write(dir.path(), "ca.pem", &ca.pem);
    let (cms, cms_key) = ca.leaf(&["cms"], ClientAuth);
    write(dir.path(), "cms.pem", &cms);
    write(dir.path(), "cms.key", &cms_key);
    let (server, server_key) = ca.leaf(&["localhost", "127.0.0.1"], ServerAuth);
    let files = |client_ca: bool| TlsFiles {
        cert: write(dir.path(), "server.pem", &server),
        key: write(dir.path(), "server.key", &server_key),
        client_ca: client_ca.then(|| write(dir.path(), "client-ca.pem", &ca.pem)),
    };
    let tls = TestServer::start_with(|c| c.tls = Some(files(false))).await;
    let mutual = TestServer::start_with(|c| c.tls = Some(files(true))).await;
    let addr = |s: &TestServer| s.server.as_ref().expect("running").addr.to_string();

    // The article the mutual-TLS example reads.
    let setup = format!(
        "grpcurl -cacert ca.pem -cert cms.pem -key cms.key -H \"authorization: Bearer $TOKEN\" \
         -d '{{\"article\": {{\"id\": \"news-2024-01-15-justice\", \"url\": \"https://news.example.org/a\", \"content_origin\": \"CONTENT_ORIGIN_EDITORIAL\"}}}}' \
         {} takedown.v1.PublisherService/UpsertArticle",
        addr(&mutual)
    );
    run_with_token(dir.path(), &grpcurl, &setup, &mutual.admin_token);
    for command in &commands {
        let server = if command.contains(" -cert ") {
            &mutual
        } else {
            &tls
        };
        let script = command.replace("news.example.org:50051", &addr(server));
        let out = run_with_token(dir.path(), &grpcurl, &script, &server.admin_token);
        assert!(!out.trim().is_empty(), "{command} printed nothing");
    }
    // Without a client certificate the mutual-TLS server refuses the connection.
    let no_cert = format!(
        "if grpcurl -cacert ca.pem -H \"authorization: Bearer $TOKEN\" {} list; then exit 1; fi",
        addr(&mutual)
    );
    run_with_token(dir.path(), &grpcurl, &no_cert, &mutual.admin_token);
    tls.stop().await;
    mutual.stop().await;
}

/// Runs `script` with `$TOKEN` set, off the async runtime (the servers it talks to run
/// on it).
fn run_with_token(dir: &Path, grpcurl: &Path, script: &str, token: &str) -> String {
    let script = format!("export TOKEN={token}\n{script}");
    tokio::task::block_in_place(|| run_script(dir, grpcurl, &script))
}
