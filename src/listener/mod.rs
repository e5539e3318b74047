//! What the server listens with: optional TLS (rustls through tonic, with client
//! certificates required when a client CA is given) and a bound on open connections.
//! Plaintext stays the default, for a server on localhost behind its operator's
//! proxy; anything reachable from elsewhere should serve TLS.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_stream::{Stream, StreamExt};
use tonic::transport::server::Connected;
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

/// A connection that holds one of the server's connection permits until it closes.
pub struct Bounded<IO> {
    io: IO,
    _permit: OwnedSemaphorePermit,
}

/// Lets at most `max` accepted connections be open at once: the next one is taken
/// from the listen backlog only when one closes, as mini-redis does.
pub fn bounded<S, IO, E>(incoming: S, max: usize) -> impl Stream<Item = Result<Bounded<IO>, E>>
where
    S: Stream<Item = Result<IO, E>>,
{
    let permits = Arc::new(Semaphore::new(max.max(1)));
    incoming.then(move |accepted| {
        let permits = permits.clone();
        async move {
            let io = accepted?;
            // The semaphore is never closed, so acquiring only waits.
            let permit = loop {
                if let Ok(p) = permits.clone().acquire_owned().await {
                    break p;
                }
            };
            Ok(Bounded {
                io,
                _permit: permit,
            })
        }
    })
}

impl<IO: Connected> Connected for Bounded<IO> {
    type ConnectInfo = IO::ConnectInfo;
    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Bounded<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Bounded<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn at_most_max_connections_are_open_at_once() {
        let (conns, mut ends): (Vec<_>, Vec<_>) = (0..3).map(|_| tokio::io::duplex(64)).unzip();
        let incoming = tokio_stream::iter(conns.into_iter().map(Ok::<_, std::io::Error>));
        let mut open = Box::pin(bounded(incoming, 2));
        let first = open.next().await.expect("first").expect("ok");
        let _second = open.next().await.expect("second").expect("ok");
        let third = tokio::time::timeout(Duration::from_millis(50), open.next()).await;
        assert!(
            third.is_err(),
            "a third connection waits while two are open"
        );
        drop(first);
        let third = tokio::time::timeout(Duration::from_secs(5), open.next()).await;
        assert!(matches!(third, Ok(Some(Ok(_)))), "taken once one closes");
        ends.clear();
    }
}
