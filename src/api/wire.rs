//! Statuses that tonic answers before any of our code runs, rewritten to the codes
//! this API documents, as one tower layer:
//! - a request over `--max-request-kib`: tonic says OUT_OF_RANGE; grpc-go and
//!   grpc-java say RESOURCE_EXHAUSTED, and so do we, naming the limit;
//! - bytes that are not the expected protobuf message (invalid UTF-8 in a string,
//!   a wrong wire type, nesting past prost's recursion limit): tonic says INTERNAL,
//!   which is for faults of the server and trips its alerts; it is the caller's
//!   mistake, so INVALID_ARGUMENT, naming the message type expected.
//!
//! Only tonic's own words are rewritten: our services never answer OUT_OF_RANGE, and
//! their INTERNAL answers carry a message of their own (`status::internal`).

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};

use tonic::{Code, Status};
use tower::{Layer, Service};

/// How tonic's decoder begins the OUT_OF_RANGE of a message over the size limit.
const TOO_LARGE: &str = "Error, decoded message length too large: found ";
/// How tonic-prost begins the INTERNAL of a message prost cannot decode.
const NOT_DECODABLE: &str = "failed to decode Protobuf message: ";

/// The request message type of every RPC this server answers, by path.
static REQUEST_TYPES: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    let mut types = HashMap::new();
    for set in [
        crate::pb::FILE_DESCRIPTOR_SET,
        tonic_health::pb::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
    ] {
        if let Ok(pool) = prost_reflect::DescriptorPool::decode(set) {
            for service in pool.services() {
                for method in service.methods() {
                    types.insert(
                        format!("/{}/{}", service.full_name(), method.name()),
                        method.input().full_name().to_string(),
                    );
                }
            }
        }
    }
    types
});

/// RESOURCE_EXHAUSTED for a request of `found` bytes (if tonic said) over `limit`.
pub fn too_large(found: Option<u64>, limit: usize) -> Status {
    let size = match found {
        Some(found) => format!("the request is {found} bytes, over"),
        None => "the request is over".to_string(),
    };
    Status::resource_exhausted(format!(
        "{size} this server's limit of {limit} bytes ({} KiB); send a smaller request, or \
         ask the operator to raise --max-request-kib",
        limit / 1024
    ))
}

/// INVALID_ARGUMENT for bytes that do not decode as the request of `path`.
pub fn not_a_message(path: &str, detail: &str) -> Status {
    let expected = REQUEST_TYPES
        .get(path)
        .map_or("request", |name| name.as_str());
    Status::invalid_argument(format!(
        "the request is not a valid {expected} message ({detail}); encode it from this \
         service's .proto files (server reflection lists them)"
    ))
}

/// Our status for one of tonic's, or `None` to leave it as it is.
pub fn rewrite(status: &Status, path: &str, max_request_bytes: usize) -> Option<Status> {
    let message = status.message();
    match status.code() {
        Code::OutOfRange => {
            let rest = message.strip_prefix(TOO_LARGE)?;
            let found = rest.split(' ').next().and_then(|n| n.parse().ok());
            Some(too_large(found, max_request_bytes))
        }
        Code::Internal => {
            let detail = message.strip_prefix(NOT_DECODABLE)?;
            Some(not_a_message(path, detail))
        }
        _ => None,
    }
}

/// The layer that applies [`rewrite`] to every answer made of headers alone (how
/// tonic answers a request it could not decode).
#[derive(Clone)]
pub struct WireErrorLayer {
    max_request_bytes: usize,
}

impl WireErrorLayer {
    pub fn new(max_request_bytes: usize) -> Self {
        Self { max_request_bytes }
    }
}

impl<S> Layer<S> for WireErrorLayer {
    type Service = WireErrors<S>;

    fn layer(&self, inner: S) -> WireErrors<S> {
        WireErrors {
            inner,
            max_request_bytes: self.max_request_bytes,
        }
    }
}

#[derive(Clone)]
pub struct WireErrors<S> {
    inner: S,
    max_request_bytes: usize,
}

type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<S, B> Service<http::Request<B>> for WireErrors<S>
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

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path().to_string();
        let max = self.max_request_bytes;
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await?;
            let ours = Status::from_header_map(response.headers())
                .and_then(|status| rewrite(&status, &path, max));
            Ok(match ours {
                Some(status) => status.into_http(),
                None => response,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET_CLAIM: &str = "/takedown.v1.ClaimService/GetClaim";

    #[test]
    fn a_message_over_the_limit_is_resource_exhausted_naming_the_limit() {
        let tonics = Status::out_of_range(
            "Error, decoded message length too large: found 307400 bytes, the limit is: 262144 bytes",
        );
        let ours = rewrite(&tonics, GET_CLAIM, 262_144).expect("rewritten");
        assert_eq!(ours.code(), Code::ResourceExhausted);
        assert!(ours.message().contains("307400 bytes"), "{ours:?}");
        assert!(
            ours.message().contains("262144 bytes (256 KiB)"),
            "{ours:?}"
        );
        assert!(ours.message().contains("--max-request-kib"), "{ours:?}");
    }

    #[test]
    fn bytes_that_do_not_decode_are_invalid_argument_naming_the_type() {
        let tonics = Status::internal(
            "failed to decode Protobuf message: GetClaimRequest.claim_id: invalid string value: data is not UTF-8 encoded",
        );
        let ours = rewrite(&tonics, GET_CLAIM, 1024).expect("rewritten");
        assert_eq!(ours.code(), Code::InvalidArgument);
        assert!(
            ours.message()
                .starts_with("the request is not a valid takedown.v1.GetClaimRequest message"),
            "{ours:?}"
        );
        assert!(ours.message().contains("not UTF-8"), "{ours:?}");
    }

    #[test]
    fn real_faults_and_other_codes_are_left_alone() {
        for status in [
            Status::internal("internal error; the request may not have been applied"),
            Status::out_of_range("page 9 is past the end"),
            Status::invalid_argument("failed to decode Protobuf message: as a test"),
            Status::unauthenticated("missing credentials"),
        ] {
            assert!(rewrite(&status, GET_CLAIM, 1024).is_none(), "{status:?}");
        }
    }
}
