//! One file per kind of change the writer commits: principals, articles, filing a
//! claim, party records (warnings, suspensions, counts), a transition of an existing
//! claim, the notification outbox, and the submissions of statements of reasons to
//! the DSA Transparency Database. Each is a [`WriteCommand`] with its own reply type.
//!
//! [`WriteCommand`]: super::WriteCommand

mod article;
mod erasure;
mod file_claim;
mod nudge;
mod outbox;
mod parties;
mod party_token;
mod principals;
mod submissions;
mod suspension;
mod transition;

pub use article::UpsertArticle;
pub use erasure::{ErasePersonalData, Erased};
pub use file_claim::{FileClaim, FiledClaim};
pub use nudge::Nudge;
pub use outbox::{Outcome, RecordDelivery, RetryNotification};
pub use parties::{SuspendParty, WarnParty};
pub use party_token::IssuePartyToken;
pub use principals::{
    CreatePrincipal, RevokePrincipal, SuspendPrincipal, UnsuspendPrincipal, check_may_file,
};
pub use submissions::{RecordSubmission, SubmissionOutcome};
pub use suspension::{MAX_SUSPENSION, rfc3339, suspended_until};
pub use transition::{ClaimChanged, ClaimTransition};
