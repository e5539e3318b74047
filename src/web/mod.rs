//! The web door, on the same listener as gRPC: every request that is not gRPC comes
//! here. `/v1/...` is the HTTP/JSON form of the API, transcoded by one generic
//! [`transcode`] from the `google.api.http` option of each RPC ([`routes`]) and then
//! sent down the same tower stack as a gRPC call, so auth, limits, logs and metrics
//! are the gRPC ones. Everything else is the notice form and the claim page
//! ([`pages`]). CORS answers only the origins `--cors-origin` names ([`cors`]).

pub mod cors;
pub mod errors;
pub mod pages;
pub mod routes;
pub mod transcode;

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full, StreamBody};
use prost_reflect::DescriptorPool;
use tonic::Status;
use tower::{Layer, Service};

use routes::{Match, Route, Routes};

/// How the web door is set up.
#[derive(Clone, Debug, Default)]
pub struct WebConfig {
    /// `--cors-origin`: origins (such as `https://cms.example.com`) whose pages may call
    /// the JSON API from a browser. Empty: none, CORS is off.
    pub cors_origins: Vec<String>,
    /// `--public-base-url`: where the claim pages are, for the links the form shows.
    pub public_base_url: Option<String>,
}

/// Why the web door cannot start.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("the descriptor set does not load: {0}")]
    Descriptors(String),
    #[error("the HTTP routes cannot be served: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Routes(Vec<routes::RouteError>),
    #[error("the web pages cannot be rendered: {0}")]
    Pages(String),
}

/// The descriptors of `takedown.v1` and of `google.rpc` (for error details).
pub fn descriptor_pool() -> Result<DescriptorPool, WebError> {
    let mut pool = DescriptorPool::decode(crate::pb::FILE_DESCRIPTOR_SET)
        .map_err(|e| WebError::Descriptors(e.to_string()))?;
    pool.decode_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .map_err(|e| WebError::Descriptors(e.to_string()))?;
    Ok(pool)
}

/// What every request to the web door shares.
struct Web {
    pool: DescriptorPool,
    routes: Routes,
    pages: pages::Pages,
    cors: cors::Cors,
    /// The largest JSON body read: JSON is wordier than protobuf, so a few times
    /// `--max-request-kib`; the encoded message is then held to the limit itself.
    max_body_bytes: usize,
}

/// The tower layer that serves the web door in front of the gRPC services.
#[derive(Clone)]
pub struct WebLayer {
    web: Arc<Web>,
}

impl WebLayer {
    pub fn new(config: &WebConfig, max_request_bytes: usize) -> Result<WebLayer, WebError> {
        let pool = descriptor_pool()?;
        let routes = Routes::from_pool(&pool).map_err(WebError::Routes)?;
        Ok(WebLayer {
            web: Arc::new(Web {
                pool,
                routes,
                pages: pages::Pages::new(config)?,
                cors: cors::Cors::new(&config.cors_origins),
                max_body_bytes: max_request_bytes.saturating_mul(4),
            }),
        })
    }
}

impl<S> Layer<S> for WebLayer {
    type Service = WebDoor<S>;

    fn layer(&self, inner: S) -> WebDoor<S> {
        WebDoor {
            inner,
            web: self.web.clone(),
        }
    }
}

#[derive(Clone)]
pub struct WebDoor<S> {
    inner: S,
    web: Arc<Web>,
}

type Request = http::Request<tonic::body::Body>;
type Response = http::Response<tonic::body::Body>;
type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// A gRPC call (and so not ours): its content type is `application/grpc[+proto]`.
fn is_grpc(request: &Request) -> bool {
    request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

impl<S> Service<Request> for WebDoor<S>
where
    S: Service<Request, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if is_grpc(&request) {
            return Box::pin(self.inner.call(request));
        }
        // The clone is not ready; the one poll_ready readied goes with this call.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let web = self.web.clone();
        Box::pin(async move { web.answer(inner, request).await })
    }
}

impl Web {
    async fn answer<S>(&self, inner: S, request: Request) -> Result<Response, S::Error>
    where
        S: Service<Request, Response = Response>,
    {
        let path = request.uri().path();
        if path != "/v1" && !path.starts_with("/v1/") {
            return Ok(self.pages.answer(&request));
        }
        let origin = request.headers().get(http::header::ORIGIN).cloned();
        let mut response = if request.method() == http::Method::OPTIONS {
            self.cors.preflight(origin.as_ref())
        } else {
            self.transcode(inner, request).await?
        };
        self.cors.allow(origin.as_ref(), response.headers_mut());
        response.headers_mut().insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
        Ok(response)
    }

    async fn transcode<S>(&self, mut inner: S, request: Request) -> Result<Response, S::Error>
    where
        S: Service<Request, Response = Response>,
    {
        let (mut parts, body) = request.into_parts();
        let (route, bindings) = match self.routes.find(&parts.method, parts.uri.path()) {
            Match::Found { route, bindings } => (route, bindings),
            Match::WrongMethod(allowed) => {
                let allow = allowed
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                let status = Status::unimplemented(format!(
                    "{} {} is not served; this path answers {allow}",
                    parts.method,
                    parts.uri.path()
                ));
                let mut response = errors::status_response(&self.pool, &status);
                *response.status_mut() = http::StatusCode::METHOD_NOT_ALLOWED;
                if let Ok(allow) = http::HeaderValue::from_str(&allow) {
                    response.headers_mut().insert(http::header::ALLOW, allow);
                }
                return Ok(response);
            }
            Match::NotFound => {
                let status = Status::not_found(format!(
                    "no RPC is served at {} {}; docs/web.md lists the routes",
                    parts.method,
                    parts.uri.path()
                ));
                return Ok(errors::status_response(&self.pool, &status));
            }
        };
        let message = match transcode::read_body(body, self.max_body_bytes)
            .await
            .and_then(|body| transcode::request_message(route, &bindings, parts.uri.query(), &body))
        {
            Ok(message) => message,
            Err(status) => return Ok(errors::status_response(&self.pool, &status)),
        };
        // The same request, now a gRPC call: its headers (authorization), extensions
        // (the client's address, for the rate limits) and all.
        parts.method = http::Method::POST;
        parts.version = http::Version::HTTP_2;
        parts.uri = match route.grpc_path().parse() {
            Ok(uri) => uri,
            Err(_) => {
                let status = Status::internal("the route's gRPC path is not a URI");
                return Ok(errors::status_response(&self.pool, &status));
            }
        };
        for name in [
            http::header::CONTENT_LENGTH,
            http::header::TRANSFER_ENCODING,
            http::header::ACCEPT_ENCODING,
            http::header::CONNECTION,
        ] {
            parts.headers.remove(name);
        }
        parts.headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/grpc"),
        );
        parts
            .headers
            .insert(http::header::TE, http::HeaderValue::from_static("trailers"));
        let frame = transcode::grpc_frame(&message);
        let request = http::Request::from_parts(parts, tonic::body::Body::new(Full::new(frame)));
        std::future::poll_fn(|cx| inner.poll_ready(cx)).await?;
        let response = inner.call(request).await?;
        Ok(if route.rpc.is_server_streaming() {
            self.stream_answer(route, response)
        } else {
            self.unary_answer(route, response).await
        })
    }

    /// One message, as one JSON object.
    async fn unary_answer(&self, route: &Route, response: Response) -> Response {
        let (parts, body) = response.into_parts();
        if let Some(status) = Status::from_header_map(&parts.headers) {
            return errors::status_response(&self.pool, &status);
        }
        let collected = match body.collect().await {
            Ok(collected) => collected,
            Err(status) => return errors::status_response(&self.pool, &status),
        };
        let status = collected
            .trailers()
            .and_then(Status::from_header_map)
            .unwrap_or_else(|| Status::unknown("the service ended its answer without a status"));
        if status.code() != tonic::Code::Ok {
            return errors::status_response(&self.pool, &status);
        }
        let mut data = BytesMut::from(collected.to_bytes());
        let json = match transcode::next_frame(&mut data) {
            Ok(Some(payload)) => transcode::answer_json(&route.rpc.output(), payload),
            Ok(None) => Err(Status::internal("the service answered OK with no message")),
            Err(status) => Err(status),
        };
        match json {
            Ok(json) => json_response(http::StatusCode::OK, json),
            Err(status) => errors::status_response(&self.pool, &status),
        }
    }

    /// A stream, as newline-delimited JSON: one object per message as it comes, and an
    /// `{"error": Status}` line if the stream ends with an error.
    fn stream_answer(&self, route: &Route, response: Response) -> Response {
        let (parts, mut body) = response.into_parts();
        if let Some(status) = Status::from_header_map(&parts.headers) {
            return errors::status_response(&self.pool, &status);
        }
        let (lines, receiver) =
            tokio::sync::mpsc::channel::<Result<http_body::Frame<Bytes>, Infallible>>(16);
        let (pool, output) = (self.pool.clone(), route.rpc.output());
        tokio::spawn(async move {
            let mut buffer = BytesMut::new();
            let line = |json: Vec<u8>| {
                let mut json = json;
                json.push(b'\n');
                Ok(http_body::Frame::data(Bytes::from(json)))
            };
            let end = loop {
                let frame = match body.frame().await {
                    None => break None,
                    Some(Err(status)) => break Some(status),
                    Some(Ok(frame)) => frame,
                };
                let frame = match frame.into_data() {
                    Ok(data) => {
                        buffer.extend_from_slice(&data);
                        match complete_messages(&mut buffer, &output) {
                            Ok(jsons) => {
                                for json in jsons {
                                    if lines.send(line(json)).await.is_err() {
                                        return; // the client went away
                                    }
                                }
                                continue;
                            }
                            Err(status) => break Some(status),
                        }
                    }
                    Err(frame) => frame,
                };
                if let Ok(trailers) = frame.into_trailers() {
                    break Status::from_header_map(&trailers)
                        .filter(|s| s.code() != tonic::Code::Ok);
                }
            };
            if let Some(status) = end {
                let status = errors::status_json(&pool, &status);
                let mut json = b"{\"error\":".to_vec();
                json.extend_from_slice(&status);
                json.push(b'}');
                let _ = lines.send(line(json)).await;
            }
        });
        let body = StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(receiver));
        let mut response = http::Response::new(tonic::body::Body::new(body));
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-ndjson"),
        );
        response
    }
}

/// The JSON of every whole message at the front of `buffer`.
fn complete_messages(
    buffer: &mut BytesMut,
    output: &prost_reflect::MessageDescriptor,
) -> Result<Vec<Vec<u8>>, Status> {
    let mut jsons = Vec::new();
    while let Some(payload) = transcode::next_frame(buffer)? {
        jsons.push(transcode::answer_json(output, payload)?);
    }
    Ok(jsons)
}

/// An answer with a JSON body.
pub fn json_response(status: http::StatusCode, json: Vec<u8>) -> Response {
    let mut response = http::Response::new(tonic::body::Body::new(Full::new(Bytes::from(json))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}
