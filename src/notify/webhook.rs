//! Webhooks: a notification as an HTTP POST of JSON, signed as the Standard Webhooks
//! specification says (<https://www.standardwebhooks.com>): `webhook-id` (the
//! notification id, for de-duplication), `webhook-timestamp` (unix seconds) and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed
//! with the bytes of a `whsec_` secret. Signing is the specification's own
//! `standardwebhooks` crate.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use prost_reflect::SerializeOptions;
use rand::RngCore;
use reqwest::StatusCode;

use super::DeliveryError;
use super::email::ConfigError;
use super::templates::{self, Rendered};
use crate::pb;

const PREFIX: &str = "whsec_";
/// The key sizes the specification recommends.
const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;
/// How much of a refusing receiver's answer goes into the error.
const ANSWER_EXCERPT: usize = 200;

/// A webhook signing secret: `whsec_` and the base64 of 24 to 64 random bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error(
        "a webhook secret starts with \"whsec_\" followed by base64 (as `takedownd webhook-secret` or any Standard Webhooks library generates)"
    )]
    Prefix,
    #[error("the webhook secret after \"whsec_\" is not base64: {0}")]
    Base64(String),
    #[error(
        "the webhook secret holds {0} bytes; it must hold 24 to 64 (the Standard Webhooks recommendation)"
    )]
    Length(usize),
}

impl WebhookSecret {
    /// Parses `whsec_<base64>` (surrounding white space, as a file read whole has,
    /// is ignored).
    pub fn parse(text: &str) -> Result<WebhookSecret, SecretError> {
        let encoded = text
            .trim()
            .strip_prefix(PREFIX)
            .ok_or(SecretError::Prefix)?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|e| SecretError::Base64(e.to_string()))?;
        if !KEY_BYTES.contains(&key.len()) {
            return Err(SecretError::Length(key.len()));
        }
        Ok(WebhookSecret { key })
    }

    /// The secret whose key is `key` (as stored for a principal's webhook).
    pub fn from_key(key: Vec<u8>) -> Result<WebhookSecret, SecretError> {
        if !KEY_BYTES.contains(&key.len()) {
            return Err(SecretError::Length(key.len()));
        }
        Ok(WebhookSecret { key })
    }

    /// A new random secret of 32 bytes.
    pub fn generate() -> WebhookSecret {
        let mut key = vec![0u8; 32];
        rand::rng().fill_bytes(&mut key);
        WebhookSecret { key }
    }

    /// The key the HMAC is computed with.
    pub fn key(&self) -> &[u8] {
        &self.key
    }
}

impl fmt::Display for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}", STANDARD.encode(&self.key))
    }
}

impl fmt::Debug for WebhookSecret {
    // A secret in a log is a secret no more.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(REDACTED)")
    }
}

/// Posts signed webhooks.
#[derive(Debug, Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
}

impl WebhookSender {
    /// A sender whose every request, connection included, gives up after `timeout`.
    /// Redirects are not followed: a receiver that moved must be reconfigured, not
    /// guessed at.
    pub fn new(timeout: Duration) -> Result<WebhookSender, ConfigError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("takedown/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        Ok(WebhookSender { client })
    }

    /// POSTs `body` (JSON) to `url` as message `id`, signed with `secret`. A 2xx answer
    /// is delivery.
    pub async fn send(
        &self,
        url: &str,
        secret: &WebhookSecret,
        id: &str,
        body: &[u8],
    ) -> Result<(), DeliveryError> {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        let signature = standardwebhooks::Webhook::from_bytes(secret.key.clone())
            .and_then(|w| w.sign(id, timestamp, body))
            .map_err(|e| DeliveryError::Permanent(format!("cannot sign the webhook: {e}")))?;
        let request = self
            .client
            .post(url)
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        let response = request.send().await.map_err(|e| classify_error(url, &e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let answer = response.text().await.unwrap_or_default();
        let excerpt: String = answer.chars().take(ANSWER_EXCERPT).collect();
        let message = format!("webhook {url} answered {status}: {}", excerpt.trim());
        if transient_status(status) {
            Err(DeliveryError::Transient(message))
        } else {
            Err(DeliveryError::Permanent(message))
        }
    }
}

/// 408, 429 and 5xx say "later"; any other non-2xx (a 4xx, or a redirect, which is not
/// followed) will answer the same next time.
fn transient_status(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

fn classify_error(url: &str, error: &reqwest::Error) -> DeliveryError {
    let mut text = format!("webhook {url}: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    // A URL reqwest cannot even build a request for will never work.
    if error.is_builder() {
        DeliveryError::Permanent(text)
    } else {
        DeliveryError::Transient(text)
    }
}

/// The webhook body of `n`: `{"type": "notification.<kind>", "timestamp": <create
/// time, RFC 3339>, "data": {"notification": <n as canonical protobuf JSON>,
/// "subject": ..., "body": ...}}`.
pub fn payload(n: &pb::Notification, rendered: &Rendered) -> Vec<u8> {
    let options = SerializeOptions::new().skip_default_fields(false);
    // The message is this crate's own and its descriptor is compiled in, so this
    // cannot fail short of a build that lost the descriptor set.
    let notification = templates::proto_json(n, "takedown.v1.Notification", &options)
        .map(|(value, _)| value)
        .unwrap_or_else(|e| serde_json::json!({ "id": n.id, "transcoding_error": e }));
    let timestamp = n
        .create_time
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let body = serde_json::json!({
        "type": format!("notification.{}", templates::kind_slug(n.kind())),
        "timestamp": timestamp,
        "data": {
            "notification": notification,
            "subject": rendered.subject,
            "body": rendered.body,
        },
    });
    body.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_round_trips_through_its_text() {
        let secret = WebhookSecret::generate();
        let text = secret.to_string();
        assert!(text.starts_with("whsec_"), "{text}");
        assert_eq!(WebhookSecret::parse(&format!("{text}\n")).unwrap(), secret);
    }

    #[test]
    fn debug_does_not_print_the_key() {
        let secret = WebhookSecret::generate();
        let debug = format!("{secret:?}");
        let encoded = secret.to_string();
        assert!(!debug.contains(&encoded["whsec_".len()..]), "{debug}");
        assert_eq!(debug, "WebhookSecret(REDACTED)");
    }

    #[test]
    fn bad_secrets_are_refused_with_the_reason() {
        assert_eq!(WebhookSecret::parse("c2VjcmV0"), Err(SecretError::Prefix));
        assert!(matches!(
            WebhookSecret::parse("whsec_!!!"),
            Err(SecretError::Base64(_))
        ));
        assert_eq!(
            WebhookSecret::parse("whsec_c2VjcmV0"),
            Err(SecretError::Length(6))
        );
    }

    #[test]
    fn the_payload_names_the_kind_and_carries_the_notification() {
        let mut n = pb::Notification {
            id: "n-1".into(),
            claim_id: "c-1".into(),
            create_time: Some(prost_types::Timestamp {
                seconds: 1_800_000_000,
                nanos: 0,
            }),
            ..Default::default()
        };
        n.set_kind(pb::NotificationKind::CounterNoticeForwarded);
        let rendered = Rendered {
            subject: "S".into(),
            body: "B\n".into(),
        };
        let value: serde_json::Value = serde_json::from_slice(&payload(&n, &rendered)).unwrap();
        assert_eq!(value["type"], "notification.counter_notice_forwarded");
        assert_eq!(value["timestamp"], "2027-01-15T08:00:00Z");
        assert_eq!(value["data"]["notification"]["id"], "n-1");
        assert_eq!(value["data"]["notification"]["claimId"], "c-1");
        assert_eq!(
            value["data"]["notification"]["kind"],
            "NOTIFICATION_KIND_COUNTER_NOTICE_FORWARDED"
        );
        assert_eq!(value["data"]["subject"], "S");
        assert_eq!(value["data"]["body"], "B\n");
    }
}
