//! Bytes that are not the expected protobuf message, sent by a raw gRPC client:
//! invalid UTF-8 in a string, a wrong wire type, nesting past the recursion limit, a
//! message cut short. Each is INVALID_ARGUMENT naming the message type expected,
//! never INTERNAL (which is for faults of the server and pages its operator); a
//! caller without a token still hears UNAUTHENTICATED first.

use crate::common::TestServer;
use prost::Message;
use prost::bytes::{Buf, BufMut};
use takedown::pb;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::{Code, Request, Status};

/// A codec that sends and receives bytes as they are.
#[derive(Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;

    fn encoder(&mut self) -> Raw {
        Raw
    }

    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let n = src.remaining();
        Ok(Some(src.copy_to_bytes(n).to_vec()))
    }
}

const GET_CLAIM: &str = "/takedown.v1.ClaimService/GetClaim";

/// Sends `bytes` as the request message of `path`, with `token` if given.
async fn call(
    s: &TestServer,
    path: &'static str,
    token: Option<&str>,
    bytes: Vec<u8>,
) -> Result<Vec<u8>, Status> {
    let mut grpc = tonic::client::Grpc::new(s.channel().await);
    grpc.ready().await.expect("ready");
    let mut request = Request::new(bytes);
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().expect("ascii");
        request.metadata_mut().insert("authorization", value);
    }
    grpc.unary(request, PathAndQuery::from_static(path), Raw)
        .await
        .map(|r| r.into_inner())
}

/// Field 1 (`claim_id`, a string) holding bytes that are not UTF-8.
fn invalid_utf8() -> Vec<u8> {
    vec![0x0a, 0x02, 0xff, 0xfe]
}

/// Field 1 sent as a varint where a string belongs.
fn wrong_wire_type() -> Vec<u8> {
    vec![0x08, 0x01]
}

/// 150 nested groups of an unknown field: past prost's recursion limit of 100.
fn nested_too_deep() -> Vec<u8> {
    let mut bytes = vec![(15 << 3) | 3; 150];
    bytes.extend(vec![(15 << 3) | 4; 150]);
    bytes
}

/// A string that says 16 bytes follow, and one does.
fn cut_short() -> Vec<u8> {
    vec![0x0a, 0x10, b'a']
}

#[tokio::test]
async fn bytes_that_are_not_the_request_message_are_invalid_argument() {
    let s = TestServer::start().await;
    for (what, bytes, detail) in [
        ("invalid UTF-8", invalid_utf8(), "not UTF-8"),
        ("a wrong wire type", wrong_wire_type(), "invalid wire type"),
        ("deep nesting", nested_too_deep(), "recursion limit"),
        ("a message cut short", cut_short(), "buffer underflow"),
    ] {
        let e = call(&s, GET_CLAIM, Some(&s.admin_token), bytes)
            .await
            .expect_err(what);
        assert_eq!(e.code(), Code::InvalidArgument, "{what}: {e:?}");
        assert!(
            e.message()
                .starts_with("the request is not a valid takedown.v1.GetClaimRequest message"),
            "{what}: {e:?}"
        );
        assert!(e.message().contains(detail), "{what}: {e:?}");
    }

    // Public services get the same answer, naming their own message type.
    let e = call(&s, "/grpc.health.v1.Health/Check", None, invalid_utf8())
        .await
        .expect_err("a health check that is not one");
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(
        e.message().contains("grpc.health.v1.HealthCheckRequest"),
        "{e:?}"
    );

    // The raw client itself is sound: a well-formed request is answered as usual.
    let valid = pb::GetClaimRequest {
        claim_id: "0190f2a4-8c3e-7d41-9a6b-2f5e8d7c1b03".into(),
    }
    .encode_to_vec();
    let e = call(&s, GET_CLAIM, Some(&s.admin_token), valid)
        .await
        .expect_err("no such claim");
    assert_eq!(e.code(), Code::NotFound, "{e:?}");
    s.stop().await;
}

#[tokio::test]
async fn a_caller_without_a_token_hears_unauthenticated_first() {
    let s = TestServer::start().await;
    let e = call(&s, GET_CLAIM, None, invalid_utf8())
        .await
        .expect_err("no token");
    assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");
    s.stop().await;
}
