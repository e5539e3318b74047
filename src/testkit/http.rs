//! The accept loop of the test kit's HTTP stand-ins (the webhook receiver, the DSA
//! database): HTTP/1.1 on a listener, each request answered by `handle` with the
//! stand-in's shared `state`. Runs until its task is aborted; the connections' tasks
//! go with it.

use std::future::Future;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

pub async fn serve<S, H, F>(listener: TcpListener, state: S, handle: H)
where
    S: Clone + Send + 'static,
    H: Fn(Request<Incoming>, S) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<Full<Bytes>>, std::convert::Infallible>> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let (state, handle) = (state.clone(), handle.clone());
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        handle(request, state.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
