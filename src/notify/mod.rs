//! Telling the parties: the words of each notification ([`templates`]) and the two
//! ways it travels, e-mail over SMTP ([`email`]) and HTTP webhooks signed as the
//! Standard Webhooks specification says ([`webhook`]). Each send either succeeds or
//! says whether trying again may help ([`DeliveryError`]). The [`worker`] sends what
//! the writer's outbox holds and journals every attempt; [`dsa_tdb`] submits
//! statements of reasons to the DSA Transparency Database the same way.

pub mod dsa_tdb;
pub mod email;
pub mod templates;
pub mod webhook;
pub mod worker;

pub use email::{ConfigError, Mailer};
pub use templates::{Rendered, TemplateError, Templates};
pub use webhook::{SecretError, WebhookSecret, WebhookSender, payload};
pub use worker::{NotifyConfig, NotifySetupError, Transports, Worker};

/// Why a send failed, and whether a later attempt may succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The receiver was unreachable, slow, or asked us to come back later (SMTP 4xx,
    /// HTTP 408, 429, 5xx): try again.
    #[error("{0}")]
    Transient(String),
    /// The receiver refused it for good (SMTP 5xx, any other HTTP 4xx), or it cannot
    /// be sent at all (an invalid address): trying again would fail the same way.
    #[error("{0}")]
    Permanent(String),
}

impl DeliveryError {
    /// True if a later attempt may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, DeliveryError::Transient(_))
    }
}
