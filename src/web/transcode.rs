//! JSON to gRPC and back, for any routed RPC: the HTTP request's path variables, query
//! and body become the RPC's request message (canonical proto3 JSON mapping), the
//! message is framed as a gRPC call and sent down the same tower stack as a gRPC
//! client's (auth, limits, logs, metrics), and the gRPC answer becomes JSON again.

use bytes::{Buf, Bytes, BytesMut};
use http_body_util::BodyExt;
use prost::Message;
use prost_reflect::{
    DeserializeOptions, DynamicMessage, Kind, MessageDescriptor, SerializeOptions,
};
use serde_json::{Map, Value};
use tonic::Status;

use super::routes::{Route, field_kind, percent_decode};

/// The request message for `route`, from its path bindings, query and body.
pub fn request_message(
    route: &Route,
    bindings: &[(String, String)],
    query: Option<&str>,
    body: &[u8],
) -> Result<DynamicMessage, Status> {
    let input = route.rpc.input();
    let body = body.trim_ascii();
    let mut object = Map::new();
    match route.body.as_deref() {
        None if !body.is_empty() => {
            return Err(Status::invalid_argument(format!(
                "{} {} takes no request body; give the fields as query parameters",
                route.method, route.template
            )));
        }
        None => {}
        Some(field) => {
            let value: Value = if body.is_empty() {
                Value::Object(Map::new())
            } else {
                serde_json::from_slice(body).map_err(|e| {
                    Status::invalid_argument(format!(
                        "the request body is not JSON ({e}); send a JSON object"
                    ))
                })?
            };
            if field == "*" {
                match value {
                    Value::Object(fields) => object = fields,
                    _ => {
                        return Err(Status::invalid_argument(format!(
                            "the request body must be a JSON object ({})",
                            input.full_name()
                        )));
                    }
                }
            } else {
                object.insert(field.to_string(), value);
            }
        }
    }
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        if route.body.as_deref() == Some("*") {
            return Err(Status::invalid_argument(format!(
                "{} {} takes every field in its JSON body; move the query parameters into it",
                route.method, route.template
            )));
        }
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = percent_decode(&key.replace('+', " "));
            let value = percent_decode(&value.replace('+', " "));
            let (Some(key), Some(value)) = (key, value) else {
                return Err(Status::invalid_argument(format!(
                    "the query parameter {pair:?} is not UTF-8 once percent-decoded"
                )));
            };
            set_path(&mut object, &input, &key, &value, true)?;
        }
    }
    for (field, value) in bindings {
        set_path(&mut object, &input, field, value, false)?;
    }
    let options = DeserializeOptions::new().deny_unknown_fields(true);
    DynamicMessage::deserialize_with_options(input.clone(), Value::Object(object), &options)
        .map_err(|e| {
            Status::invalid_argument(format!(
                "the request is not a valid {} in proto3 JSON ({e}); the field names and \
                 types are in the .proto files (server reflection lists them)",
                input.full_name()
            ))
        })
}

/// Sets the field at dotted `path` in the JSON `object` of `message` from the text
/// of a query parameter or path variable, typed as the field is.
fn set_path(
    object: &mut Map<String, Value>,
    message: &MessageDescriptor,
    path: &str,
    text: &str,
    from_query: bool,
) -> Result<(), Status> {
    let unknown = || {
        Status::invalid_argument(format!(
            "{path:?} is not a field of {}; check the spelling against the .proto files",
            message.full_name()
        ))
    };
    let field = field_kind(message, path).ok_or_else(unknown)?;
    let value = match field.kind() {
        Kind::Bool => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => {
                return Err(Status::invalid_argument(format!(
                    "{path} is a bool; give true or false, not {text:?}"
                )));
            }
        },
        Kind::Message(m) if !is_string_like(&m) => {
            return Err(Status::invalid_argument(format!(
                "{path} is a {} message; give its fields one by one ({path}.<field>=...)",
                m.full_name()
            )));
        }
        // Numbers, enums (by name), strings, bytes and the well-known types written as
        // strings (Timestamp, Duration, FieldMask): proto3 JSON takes them as strings.
        _ => Value::String(text.to_string()),
    };
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().ok_or_else(unknown)?;
    let mut current = object;
    for part in parts {
        let entry = current
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        current = match entry {
            Value::Object(map) => map,
            _ => return Err(unknown()),
        };
    }
    if field.is_list() {
        let entry = current
            .entry(last.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        match entry {
            Value::Array(items) if from_query => items.push(value),
            _ => return Err(unknown()),
        }
    } else {
        current.insert(last.to_string(), value);
    }
    Ok(())
}

/// Well-known types whose JSON form is a string.
fn is_string_like(message: &MessageDescriptor) -> bool {
    matches!(
        message.full_name(),
        "google.protobuf.Timestamp"
            | "google.protobuf.Duration"
            | "google.protobuf.FieldMask"
            | "google.protobuf.StringValue"
            | "google.protobuf.Int64Value"
            | "google.protobuf.UInt64Value"
            | "google.protobuf.Int32Value"
            | "google.protobuf.UInt32Value"
            | "google.protobuf.BoolValue"
    )
}

/// `message` as one gRPC length-prefixed frame (uncompressed).
pub fn grpc_frame(message: &DynamicMessage) -> Bytes {
    let payload = message.encode_to_vec();
    let mut frame = BytesMut::with_capacity(5 + payload.len());
    frame.extend_from_slice(&[0]);
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(&payload);
    frame.freeze()
}

/// Splits complete gRPC frames off the front of `buffer`.
pub fn next_frame(buffer: &mut BytesMut) -> Result<Option<Bytes>, Status> {
    if buffer.len() < 5 {
        return Ok(None);
    }
    if buffer[0] != 0 {
        return Err(Status::internal(
            "the service answered a compressed message, which the transcoder does not ask for",
        ));
    }
    let len = u32::from_be_bytes([buffer[1], buffer[2], buffer[3], buffer[4]]) as usize;
    if buffer.len() < 5 + len {
        return Ok(None);
    }
    buffer.advance(5);
    Ok(Some(buffer.split_to(len).freeze()))
}

/// The JSON of one answer message of type `output`.
pub fn answer_json(output: &MessageDescriptor, payload: Bytes) -> Result<Vec<u8>, Status> {
    let message = DynamicMessage::decode(output.clone(), payload).map_err(|e| {
        Status::internal(format!(
            "the service's answer did not decode as {}: {e}",
            output.full_name()
        ))
    })?;
    to_json(&message)
}

/// The canonical proto3 JSON of `message`, as grpcurl prints it.
pub fn to_json(message: &DynamicMessage) -> Result<Vec<u8>, Status> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::new(&mut out);
    message
        .serialize_with_options(&mut serializer, &SerializeOptions::new())
        .map_err(|e| Status::internal(format!("could not write the answer as JSON: {e}")))?;
    Ok(out)
}

/// Reads a whole request body, refusing one over `limit` bytes.
pub async fn read_body(body: tonic::body::Body, limit: usize) -> Result<Bytes, Status> {
    let limited = http_body_util::Limited::new(body, limit);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(crate::api::wire::too_large(None, limit))
        }
        Err(e) => Err(Status::invalid_argument(format!(
            "could not read the request body: {e}"
        ))),
    }
}
