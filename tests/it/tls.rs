//! TLS through the server: a throwaway CA made at run time with rcgen, a server
//! certificate for localhost, and clients with and without a valid client
//! certificate. Plaintext clients are refused by a TLS server. takedownctl trusts the
//! system roots when it is given no CA.

use crate::common::TestServer;
use crate::common::certs::{Ca, write};
use rcgen::ExtendedKeyUsagePurpose;
use takedown::listener::TlsFiles;
use takedown::pb;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// A TLS server; with `client_ca`, client certificates from that CA are required.
async fn tls_server(ca: &Ca, client_ca: Option<&Ca>) -> (TestServer, tempfile::TempDir) {
    let pems = tempfile::tempdir().expect("temp dir");
    let (cert, key) = ca.leaf(
        &["localhost", "127.0.0.1"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let files = TlsFiles {
        cert: write(pems.path(), "server.pem", &cert),
        key: write(pems.path(), "server.key", &key),
        client_ca: client_ca.map(|c| write(pems.path(), "client-ca.pem", &c.pem)),
    };
    let s = TestServer::start_with(|c| c.tls = Some(files)).await;
    (s, pems)
}

async fn connect(s: &TestServer, tls: ClientTlsConfig) -> Result<Channel, tonic::transport::Error> {
    let addr = s.server.as_ref().expect("running").addr;
    Channel::from_shared(format!("https://{addr}"))
        .expect("url")
        .tls_config(tls.domain_name("localhost"))?
        .connect()
        .await
}

async fn healthy(channel: Channel) -> Result<(), tonic::Status> {
    HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
        .map(|_| ())
}

fn trusting(ca: &Ca) -> ClientTlsConfig {
    ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&ca.pem))
}

#[tokio::test]
async fn a_tls_server_answers_clients_that_trust_its_ca() {
    let ca = Ca::new("takedown test CA");
    let (s, _pems) = tls_server(&ca, None).await;
    let channel = connect(&s, trusting(&ca)).await.expect("TLS connects");
    healthy(channel.clone()).await.expect("health over TLS");
    // Bearer tokens work over TLS as over plaintext.
    let mut admin = pb::admin_service_client::AdminServiceClient::new(channel);
    let mut request = tonic::Request::new(pb::ListPrincipalsRequest::default());
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", s.admin_token).parse().expect("ascii"),
    );
    admin
        .list_principals(request)
        .await
        .expect("an authed call over TLS");

    // A client that does not trust the CA, and a plaintext client, get nowhere.
    let stranger = Ca::new("some other CA");
    let refused = match connect(&s, trusting(&stranger)).await {
        Ok(channel) => healthy(channel).await.is_err(),
        Err(_) => true,
    };
    assert!(refused, "a client that does not trust the server's CA");
    let plain = Channel::from_shared(s.server.as_ref().expect("running").url())
        .expect("url")
        .connect()
        .await;
    let refused = match plain {
        Ok(channel) => healthy(channel).await.is_err(),
        Err(_) => true,
    };
    assert!(refused, "a plaintext client to a TLS server");
    s.stop().await;
}

#[tokio::test]
async fn mutual_tls_requires_a_client_certificate_from_the_client_ca() {
    let ca = Ca::new("takedown test CA");
    let clients = Ca::new("takedown client CA");
    let (s, _pems) = tls_server(&ca, Some(&clients)).await;

    let (cert, key) = clients.leaf(&["cms.example.org"], ExtendedKeyUsagePurpose::ClientAuth);
    let with_cert = trusting(&ca).identity(Identity::from_pem(cert, key));
    let channel = connect(&s, with_cert).await.expect("mTLS connects");
    healthy(channel)
        .await
        .expect("health with a client certificate");

    let outcomes = [
        ("no client certificate", trusting(&ca)),
        ("a certificate from another CA", {
            let rogue = Ca::new("rogue CA");
            let (cert, key) = rogue.leaf(&["cms.example.org"], ExtendedKeyUsagePurpose::ClientAuth);
            trusting(&ca).identity(Identity::from_pem(cert, key))
        }),
    ];
    for (what, tls) in outcomes {
        let refused = match connect(&s, tls).await {
            Ok(channel) => healthy(channel).await.is_err(),
            Err(_) => true,
        };
        assert!(refused, "{what} is refused");
    }
    s.stop().await;
}

/// Runs takedownctl with `args` (and nothing from the caller's environment).
async fn takedownctl(args: Vec<String>) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_takedownctl"));
    for (key, _) in std::env::vars() {
        if key.starts_with("TAKEDOWN") {
            command.env_remove(key);
        }
    }
    command.args(args);
    tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("run takedownctl")
}

#[tokio::test]
async fn takedownctl_speaks_tls_and_mutual_tls() {
    let ca = Ca::new("takedown test CA");
    let pems = tempfile::tempdir().expect("temp dir");
    let ca_file = write(pems.path(), "ca.pem", &ca.pem);
    let (cert, key) = ca.leaf(&["desk"], ExtendedKeyUsagePurpose::ClientAuth);
    let cert_file = write(pems.path(), "desk.pem", &cert);
    let key_file = write(pems.path(), "desk.key", &key);
    let list = |s: &TestServer, extra: &[&std::path::Path]| {
        let addr = s.server.as_ref().expect("running").addr;
        let mut args = vec![
            "--addr".to_string(),
            format!("https://{addr}"),
            "--tls-domain".to_string(),
            "localhost".to_string(),
            "--tls-ca".to_string(),
            ca_file.display().to_string(),
            "--token".to_string(),
            s.admin_token.clone(),
            "--output".to_string(),
            "json".to_string(),
        ];
        if let [cert, key] = extra {
            args.extend([
                "--tls-cert".to_string(),
                cert.display().to_string(),
                "--tls-key".to_string(),
                key.display().to_string(),
            ]);
        }
        args.extend(["principals".to_string(), "list".to_string()]);
        args
    };

    let (tls, _server_pems) = tls_server(&ca, None).await;
    let out = takedownctl(list(&tls, &[])).await;
    assert!(
        out.status.success(),
        "takedownctl over TLS: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"principals\""));

    let (mutual, _mutual_pems) = tls_server(&ca, Some(&ca)).await;
    let out = takedownctl(list(&mutual, &[&cert_file, &key_file])).await;
    assert!(
        out.status.success(),
        "takedownctl with a client certificate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = takedownctl(list(&mutual, &[])).await;
    assert!(!out.status.success(), "no client certificate, no answer");
    tls.stop().await;
    mutual.stop().await;
}

#[tokio::test]
async fn takedownctl_over_https_without_a_ca_checks_the_system_roots() {
    // A server whose CA no system trusts: takedownctl connects and refuses its
    // certificate (exit 3, unreachable), rather than asking for --tls-ca (exit 2).
    let ca = Ca::new("takedown test CA");
    let (s, _pems) = tls_server(&ca, None).await;
    let addr = s.server.as_ref().expect("running").addr;
    let out = takedownctl(vec![
        "--addr".to_string(),
        format!("https://{addr}"),
        "--token".to_string(),
        s.admin_token.clone(),
        "principals".to_string(),
        "list".to_string(),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("certificate"), "{stderr}");
    assert!(stderr.contains("UnknownIssuer"), "{stderr}");
    s.stop().await;
}
