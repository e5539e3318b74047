//! What an audit entry records as its `action`: one name per command that reaches the
//! log. The wire and the journal keep the plain string (`AuditEntry.action`), so old
//! entries read the same; inside the crate an action travels as this enum, and a name
//! that is not one of these is refused where a client sends it (WatchEvents filters).

use std::fmt;

/// One kind of audit entry. The name on the wire is the variant's name (the RPC's),
/// except for events the server writes itself, named as the issue that asked for
/// them names them (`CONTRIBUTOR_REPEAT_INFRINGER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    FileClaim,
    StartReview,
    RequestInformation,
    AmendClaim,
    DecideClaim,
    RecordCorrection,
    FileCounterNotice,
    ReportLegalAction,
    ResolveLegalAction,
    WithdrawClaim,
    FileComplaint,
    /// A deadline fired by the sweeper (the actor is `system`).
    ExpireDeadline,
    CreatePrincipal,
    RevokePrincipal,
    SuspendPrincipal,
    UnsuspendPrincipal,
    UpsertArticle,
    /// A new claim token for one party of a claim (the token itself is never logged).
    IssuePartyToken,
    /// A contributor reached the repeat-infringer threshold (DMCA 512(i)); the site
    /// decides on the account. Written by `system` right after the decision.
    ContributorRepeatInfringer,
    /// An operator's warning to a party (DSA Art. 23(1)).
    WarnParty,
    /// An operator's suspension of a notifier e-mail or a contributor (DSA Art. 23).
    SuspendParty,
    /// One delivery attempt of a notification, by the delivery worker (the actor is
    /// `system`): its result, never its address.
    DeliverNotification,
    /// An operator queued a DEAD or UNDELIVERABLE notification again.
    RetryNotification,
    /// One attempt to submit a statement of reasons to the DSA Transparency Database,
    /// by the submission worker (the actor is `system`).
    SubmitStatement,
    /// A party's personal data erased (GDPR Art. 17): its data key deleted.
    ErasePersonalData,
}

impl AuditAction {
    /// Every action, in the order the workflow meets them.
    pub const ALL: [AuditAction; 25] = [
        AuditAction::FileClaim,
        AuditAction::StartReview,
        AuditAction::RequestInformation,
        AuditAction::AmendClaim,
        AuditAction::DecideClaim,
        AuditAction::RecordCorrection,
        AuditAction::FileCounterNotice,
        AuditAction::ReportLegalAction,
        AuditAction::ResolveLegalAction,
        AuditAction::WithdrawClaim,
        AuditAction::FileComplaint,
        AuditAction::ExpireDeadline,
        AuditAction::CreatePrincipal,
        AuditAction::RevokePrincipal,
        AuditAction::SuspendPrincipal,
        AuditAction::UnsuspendPrincipal,
        AuditAction::UpsertArticle,
        AuditAction::IssuePartyToken,
        AuditAction::ContributorRepeatInfringer,
        AuditAction::WarnParty,
        AuditAction::SuspendParty,
        AuditAction::DeliverNotification,
        AuditAction::RetryNotification,
        AuditAction::SubmitStatement,
        AuditAction::ErasePersonalData,
    ];

    /// The name written to `AuditEntry.action`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::FileClaim => "FileClaim",
            AuditAction::StartReview => "StartReview",
            AuditAction::RequestInformation => "RequestInformation",
            AuditAction::AmendClaim => "AmendClaim",
            AuditAction::DecideClaim => "DecideClaim",
            AuditAction::RecordCorrection => "RecordCorrection",
            AuditAction::FileCounterNotice => "FileCounterNotice",
            AuditAction::ReportLegalAction => "ReportLegalAction",
            AuditAction::ResolveLegalAction => "ResolveLegalAction",
            AuditAction::WithdrawClaim => "WithdrawClaim",
            AuditAction::FileComplaint => "FileComplaint",
            AuditAction::ExpireDeadline => "ExpireDeadline",
            AuditAction::CreatePrincipal => "CreatePrincipal",
            AuditAction::RevokePrincipal => "RevokePrincipal",
            AuditAction::SuspendPrincipal => "SuspendPrincipal",
            AuditAction::UnsuspendPrincipal => "UnsuspendPrincipal",
            AuditAction::UpsertArticle => "UpsertArticle",
            AuditAction::IssuePartyToken => "IssuePartyToken",
            AuditAction::ContributorRepeatInfringer => "CONTRIBUTOR_REPEAT_INFRINGER",
            AuditAction::WarnParty => "WarnParty",
            AuditAction::SuspendParty => "SuspendParty",
            AuditAction::DeliverNotification => "DeliverNotification",
            AuditAction::RetryNotification => "RetryNotification",
            AuditAction::ErasePersonalData => "ErasePersonalData",
            AuditAction::SubmitStatement => "SubmitStatement",
        }
    }

    /// The action named `name` exactly (case matters, as on the wire).
    pub fn parse(name: &str) -> Option<AuditAction> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// Changes to the principal directory (who may call, and warnings, suspensions and
    /// erasures with their reasons): auditors' and admins' business, not the CMS's.
    pub fn is_principal_directory(self) -> bool {
        matches!(
            self,
            AuditAction::CreatePrincipal
                | AuditAction::RevokePrincipal
                | AuditAction::SuspendPrincipal
                | AuditAction::UnsuspendPrincipal
                | AuditAction::WarnParty
                | AuditAction::SuspendParty
                | AuditAction::ErasePersonalData
        )
    }

    /// Every name, comma-separated, for messages that list the valid ones.
    pub fn names() -> String {
        Self::ALL.map(AuditAction::as_str).join(", ")
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_parses_back_from_its_name() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
            if a != AuditAction::ContributorRepeatInfringer {
                assert_eq!(
                    a.to_string(),
                    format!("{a:?}"),
                    "an RPC's name is the variant's"
                );
            }
        }
        let names: std::collections::HashSet<_> =
            AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names.len(), AuditAction::ALL.len(), "names are unique");
    }

    #[test]
    fn unknown_and_miscased_names_do_not_parse() {
        for name in ["", "decideclaim", "DECIDE_CLAIM", "DecideClaim ", "Decide"] {
            assert_eq!(AuditAction::parse(name), None, "{name:?}");
        }
    }

    #[test]
    fn the_principal_directory_is_the_principal_and_party_actions() {
        let directory: Vec<_> = AuditAction::ALL
            .into_iter()
            .filter(|a| a.is_principal_directory())
            .collect();
        assert_eq!(
            directory,
            [
                AuditAction::CreatePrincipal,
                AuditAction::RevokePrincipal,
                AuditAction::SuspendPrincipal,
                AuditAction::UnsuspendPrincipal,
                AuditAction::WarnParty,
                AuditAction::SuspendParty,
                AuditAction::ErasePersonalData,
            ]
        );
    }
}
