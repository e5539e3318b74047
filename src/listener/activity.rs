//! The tower layer that tells each connection when a request starts and when it
//! ends, so that [`super::connection`] knows whether the connection has earned its
//! slot and whether it is idle. A request stays open until its response body is
//! finished or dropped: a long stream (WatchEvents) keeps its connection busy.

use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};
use tower::{Layer, Service};

use super::connection::{ConnectionInfo, OpenRequest};

/// Goes outermost, so that every request counts, refused ones too.
#[derive(Clone, Default)]
pub struct ActivityLayer;

impl<S> Layer<S> for ActivityLayer {
    type Service = Activity<S>;

    fn layer(&self, inner: S) -> Activity<S> {
        Activity { inner }
    }
}

#[derive(Clone)]
pub struct Activity<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<S, B> Service<http::Request<B>> for Activity<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let info = request.extensions().get::<ConnectionInfo>().cloned();
        let open = info.map(|info| {
            // tonic's `Request::remote_addr` looks for the plain TCP info.
            request.extensions_mut().insert(info.tcp.clone());
            info.state.request_started()
        });
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await?;
            Ok(match open {
                Some(open) => {
                    response.map(|body| tonic::body::Body::new(UntilFinished { body, _open: open }))
                }
                None => response,
            })
        })
    }
}

/// A response body that ends its request when it is finished or dropped.
struct UntilFinished<B> {
    body: B,
    _open: OpenRequest,
}

impl<B: Body + Unpin> Body for UntilFinished<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
