//! The server's TLS settings: PEM files read into tonic's rustls configuration, with
//! client certificates required when a client CA is given (mutual TLS).

use std::path::{Path, PathBuf};

use tonic::transport::{Certificate, Identity, ServerTlsConfig};

/// PEM files for serving TLS.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsFiles {
    /// The server's certificate chain.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
    /// If set, clients must present a certificate signed by this CA (mTLS).
    pub client_ca: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "could not read the TLS file {path}: {source}; check --tls-cert, --tls-key and --tls-client-ca"
)]
pub struct TlsFileError {
    path: String,
    source: std::io::Error,
}

fn read(path: &Path) -> Result<Vec<u8>, TlsFileError> {
    std::fs::read(path).map_err(|source| TlsFileError {
        path: path.display().to_string(),
        source,
    })
}

impl TlsFiles {
    /// Reads the files into tonic's TLS settings. Whether the PEM is usable is
    /// checked when the server starts (`Server::tls_config`).
    pub fn server_config(&self) -> Result<ServerTlsConfig, TlsFileError> {
        let identity = Identity::from_pem(read(&self.cert)?, read(&self.key)?);
        let mut config = ServerTlsConfig::new().identity(identity);
        if let Some(ca) = &self.client_ca {
            config = config
                .client_ca_root(Certificate::from_pem(read(ca)?))
                .client_auth_optional(false);
        }
        Ok(config)
    }
}

/// How a server with `tls` talks to its clients, for the start-up log.
pub fn describe(tls: Option<&TlsFiles>) -> &'static str {
    match tls {
        None => "plaintext (no TLS)",
        Some(TlsFiles {
            client_ca: None, ..
        }) => "TLS",
        Some(_) => "mutual TLS (client certificates required)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_up_log_says_whether_tls_and_client_certificates_are_on() {
        let files = |client_ca: Option<&str>| TlsFiles {
            cert: "server.pem".into(),
            key: "server.key".into(),
            client_ca: client_ca.map(PathBuf::from),
        };
        assert_eq!(describe(None), "plaintext (no TLS)");
        assert_eq!(describe(Some(&files(None))), "TLS");
        assert_eq!(
            describe(Some(&files(Some("clients.pem")))),
            "mutual TLS (client certificates required)"
        );
    }
}
