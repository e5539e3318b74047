//! E-mail: a rendered notification sent through the SMTP server of `--smtp-url` with
//! `lettre`. The notification id is the Message-ID (`<id@takedown>`) and the
//! `X-Takedown-Notification` header, so a mailbox can tell a repeated delivery (delivery
//! is at least once) from a new message.

use std::time::Duration;

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::DeliveryError;
use super::templates::{self, Rendered};

/// How long one send may take, connection and every SMTP command included.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// A notification channel that cannot be set up as configured.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "--smtp-url {url:?}: {message}; expected smtp://host:port (plain, or STARTTLS with \
         ?tls=required) or smtps://host:port (TLS), optionally with user:password@ before the host"
    )]
    SmtpUrl { url: String, message: String },
    #[error(
        "--smtp-from {from:?} is not an e-mail address ({message}); expected for example \"Takedown <takedown@example.org>\""
    )]
    From { from: String, message: String },
    #[error("cannot set up the HTTP client for webhooks: {0}")]
    HttpClient(String),
}

/// Sends rendered notifications through one SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    // The URL may hold a password: show only the sender.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for `smtp_url` (`smtp://host:port`, `smtp://host:port?tls=required`
    /// for STARTTLS, `smtps://host:port` for TLS; `user:password@` allowed) sending as
    /// `from`. Connects only when it sends.
    pub fn from_url(smtp_url: &str, from: &str) -> Result<Mailer, ConfigError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| ConfigError::SmtpUrl {
                // Never echo a password back into a log.
                url: redact_password(smtp_url),
                message: e.to_string(),
            })?
            .timeout(Some(SEND_TIMEOUT))
            .build();
        let from = from.parse::<Mailbox>().map_err(|e| ConfigError::From {
            from: from.to_string(),
            message: e.to_string(),
        })?;
        Ok(Mailer { transport, from })
    }

    /// Sends `rendered` to `to` as notification `id`, in `language` (the one it was
    /// rendered in; see [`templates::language`]).
    pub async fn send(
        &self,
        id: &str,
        to: &str,
        language: &str,
        rendered: &Rendered,
    ) -> Result<(), DeliveryError> {
        self.send_with(id, to, language, rendered, None).await
    }

    /// [`Mailer::send`], with a file attached when `attachment` is `(file name, JSON
    /// text)`: the receipt e-mail's `receipt.json`.
    pub async fn send_with(
        &self,
        id: &str,
        to: &str,
        language: &str,
        rendered: &Rendered,
        attachment: Option<(&str, String)>,
    ) -> Result<(), DeliveryError> {
        let to_box = to.parse::<Mailbox>().map_err(|e| {
            DeliveryError::Permanent(format!("recipient {to:?} is not an e-mail address: {e}"))
        })?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to_box)
            .subject(rendered.subject.clone())
            .message_id(Some(format!("<{id}@takedown>")))
            .header(ContentLanguage(templates::language(language).to_string()))
            .header(TakedownNotification(id.to_string()));
        let built = match attachment {
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(rendered.body.clone()),
            Some((name, json)) => {
                let json_type = ContentType::parse("application/json").map_err(|e| {
                    DeliveryError::Permanent(format!("cannot build the e-mail: {e}"))
                })?;
                builder.multipart(
                    MultiPart::mixed()
                        .singlepart(SinglePart::plain(rendered.body.clone()))
                        .singlepart(Attachment::new(name.to_string()).body(json, json_type)),
                )
            }
        };
        let message =
            built.map_err(|e| DeliveryError::Permanent(format!("cannot build the e-mail: {e}")))?;
        match tokio::time::timeout(SEND_TIMEOUT, self.transport.send(message)).await {
            Err(_) => Err(DeliveryError::Transient(format!(
                "the SMTP server did not finish within {} s",
                SEND_TIMEOUT.as_secs()
            ))),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_permanent() => Err(DeliveryError::Permanent(format!("SMTP: {e}"))),
            // 4xx, connection refused, TLS handshake, time-outs: the server may be back.
            Ok(Err(e)) => Err(DeliveryError::Transient(format!(
                "SMTP: {}",
                error_chain(&e)
            ))),
        }
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

fn redact_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("REDACTED"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// `Content-Language`, RFC 3282.
#[derive(Debug, Clone)]
struct ContentLanguage(String);

impl Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ContentLanguage(s.to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `X-Takedown-Notification`: the notification id.
#[derive(Debug, Clone)]
struct TakedownNotification(String);

impl Header for TakedownNotification {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Takedown-Notification")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(TakedownNotification(s.to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_of_each_form_are_accepted() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://127.0.0.1:2525?tls=required",
            "smtps://mail.example.org:465",
            "smtp://user:secret@mail.example.org:587?tls=required",
        ] {
            Mailer::from_url(url, "Takedown <takedown@example.org>").unwrap();
        }
    }

    #[test]
    fn a_bad_url_is_refused_without_echoing_its_password() {
        let e = Mailer::from_url("http://user:hunter2@mail.example.org", "t@example.org")
            .unwrap_err()
            .to_string();
        assert!(e.contains("smtps://host:port"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn a_bad_sender_is_refused() {
        let e = Mailer::from_url("smtp://127.0.0.1:25", "not an address").unwrap_err();
        assert!(matches!(e, ConfigError::From { .. }), "{e}");
    }
}
