//! gRPC statuses as HTTP answers: the body is the `google.rpc.Status` in proto3 JSON,
//! details and all (BadRequest field violations, ErrorInfo, RetryInfo), and the HTTP
//! status is the one the gRPC code maps to. RESOURCE_EXHAUSTED with a RetryInfo also
//! says `Retry-After`.

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage};
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// The HTTP status for a gRPC code: Google's mapping (google/rpc/code.proto), except
/// FAILED_PRECONDITION, which is 412 Precondition Failed as in grpc-gateway's first
/// mapping: here it says the claim is not in a state (or etag) the call needs.
pub fn http_status(code: Code) -> http::StatusCode {
    use http::StatusCode as H;
    match code {
        Code::Ok => H::OK,
        Code::Cancelled => H::from_u16(499).unwrap_or(H::BAD_REQUEST),
        Code::Unknown | Code::Internal | Code::DataLoss => H::INTERNAL_SERVER_ERROR,
        Code::InvalidArgument | Code::OutOfRange => H::BAD_REQUEST,
        Code::DeadlineExceeded => H::GATEWAY_TIMEOUT,
        Code::NotFound => H::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => H::CONFLICT,
        Code::PermissionDenied => H::FORBIDDEN,
        Code::Unauthenticated => H::UNAUTHORIZED,
        Code::ResourceExhausted => H::TOO_MANY_REQUESTS,
        Code::FailedPrecondition => H::PRECONDITION_FAILED,
        Code::Unimplemented => H::NOT_IMPLEMENTED,
        Code::Unavailable => H::SERVICE_UNAVAILABLE,
    }
}

/// The `google.rpc.Status` of `status` (with its details) as a message of `pool`.
pub fn status_message(pool: &DescriptorPool, status: &Status) -> Option<DynamicMessage> {
    let descriptor = pool.get_message_by_name("google.rpc.Status")?;
    let encoded = if status.details().is_empty() {
        tonic_types::pb::Status {
            code: status.code() as i32,
            message: status.message().to_string(),
            details: Vec::new(),
        }
        .encode_to_vec()
    } else {
        status.details().to_vec()
    };
    DynamicMessage::decode(descriptor, encoded.as_slice()).ok()
}

/// The JSON body of `status`.
pub fn status_json(pool: &DescriptorPool, status: &Status) -> Vec<u8> {
    status_message(pool, status)
        .and_then(|m| super::transcode::to_json(&m).ok())
        .unwrap_or_else(|| {
            serde_json::json!({"code": status.code() as i32, "message": status.message()})
                .to_string()
                .into_bytes()
        })
}

/// The whole HTTP answer for `status`.
pub fn status_response(
    pool: &DescriptorPool,
    status: &Status,
) -> http::Response<tonic::body::Body> {
    let mut response = super::json_response(http_status(status.code()), status_json(pool, status));
    if status.code() == Code::ResourceExhausted
        && let Some(delay) = status.get_details_retry_info().and_then(|r| r.retry_delay)
    {
        let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, seconds.max(1).into());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_the_documented_http_statuses() {
        for (code, http) in [
            (Code::InvalidArgument, 400),
            (Code::Unauthenticated, 401),
            (Code::PermissionDenied, 403),
            (Code::NotFound, 404),
            (Code::AlreadyExists, 409),
            (Code::Aborted, 409),
            (Code::FailedPrecondition, 412),
            (Code::ResourceExhausted, 429),
            (Code::Internal, 500),
            (Code::Unimplemented, 501),
            (Code::Unavailable, 503),
            (Code::DeadlineExceeded, 504),
        ] {
            assert_eq!(http_status(code).as_u16(), http, "{code:?}");
        }
    }
}
