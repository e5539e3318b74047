//! `grpc.health.v1.Health` as tonic-health serves it, except that a `Watch` stream
//! ends when the server starts shutting down: it sends NOT_SERVING, then ends with
//! UNAVAILABLE, instead of holding its connection open through the shutdown grace
//! period (a load balancer's watch would otherwise delay every shutdown by the whole
//! grace).

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::watch;
use tokio_stream::Stream;
use tokio_stream::wrappers::WatchStream;
use tonic::{Request, Response, Status};
use tonic_health::pb::health_server::{self, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tonic_health::server::{HealthReporter, HealthService};

/// The health service over `reporter`'s statuses; `shutdown` turns true when the
/// server starts shutting down (after the statuses went NOT_SERVING).
pub fn service(reporter: HealthReporter, shutdown: watch::Receiver<bool>) -> HealthServer<Health> {
    HealthServer::new(Health {
        inner: HealthService::from_health_reporter(reporter),
        shutdown,
    })
}

pub struct Health {
    inner: HealthService,
    shutdown: watch::Receiver<bool>,
}

type Statuses = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

#[tonic::async_trait]
impl health_server::Health for Health {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        self.inner.check(request).await
    }

    type WatchStream = Statuses;

    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<Statuses>, Status> {
        let statuses = self.inner.watch(request).await?.into_inner();
        Ok(Response::new(Box::pin(UntilShutdown {
            statuses,
            shutdown: WatchStream::new(self.shutdown.clone()),
            stopping: false,
            done: false,
        })))
    }
}

/// A status stream that ends once the server is shutting down.
struct UntilShutdown<S> {
    statuses: S,
    shutdown: WatchStream<bool>,
    stopping: bool,
    done: bool,
}

impl<S> Stream for UntilShutdown<S>
where
    S: Stream<Item = Result<HealthCheckResponse, Status>> + Unpin,
{
    type Item = Result<HealthCheckResponse, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        // Shutdown first, then the statuses: NOT_SERVING is set before shutdown is
        // signalled, so a stream that sees shutdown also sees NOT_SERVING and sends
        // it before it ends.
        while !self.stopping {
            match Pin::new(&mut self.shutdown).poll_next(cx) {
                Poll::Ready(Some(false)) => continue,
                Poll::Ready(Some(true)) | Poll::Ready(None) => self.stopping = true,
                Poll::Pending => break,
            }
        }
        match Pin::new(&mut self.statuses).poll_next(cx) {
            Poll::Ready(Some(status)) => Poll::Ready(Some(status)),
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Pending if self.stopping => {
                self.done = true;
                Poll::Ready(Some(Err(Status::unavailable(
                    "the server is shutting down; watch another instance, or reconnect \
                     once this one is back",
                ))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
