//! `parties show|warn|suspend`: what the server has counted about a notifier,
//! principal or contributor (DSA Art. 23, DMCA 512(f)), the warning a suspension
//! needs first, and the suspension of a notifier e-mail or a contributor. A principal
//! is suspended with `principals suspend`, which needs the same prior warning.

use clap::{Args, Subcommand};

use super::CliError;
use super::connect::Clients;
use super::output::{self, Output, print_message, print_record};
use crate::pb::{self, party_key::Key};

/// Which party: exactly one of the three keys.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub struct Party {
    /// A principal's id, as `principals list` prints it.
    #[arg(long)]
    principal: Option<String>,
    /// A notifier's e-mail, as in a notice (compared trimmed and lower-cased).
    #[arg(long)]
    email: Option<String>,
    /// A contributor's account id in the CMS.
    #[arg(long)]
    contributor: Option<String>,
}

impl Party {
    fn key(self) -> pb::PartyKey {
        let key = match (self.principal, self.email, self.contributor) {
            (Some(id), _, _) => Key::PrincipalId(id),
            (_, Some(email), _) => Key::NotifierEmail(email),
            (_, _, Some(id)) => Key::ContributorAccountId(id),
            // clap's group makes one of them required.
            (None, None, None) => Key::PrincipalId(String::new()),
        };
        pb::PartyKey { key: Some(key) }
    }
}

#[derive(Subcommand, Debug)]
pub enum PartiesCommand {
    /// Show a party's counts, warnings and suspensions (all zero if never seen).
    Show {
        #[command(flatten)]
        party: Party,
    },
    /// Record a warning (DSA Art. 23(1)): a suspension needs one first.
    Warn {
        #[command(flatten)]
        party: Party,
        /// The warning as given, such as "3 manifestly unfounded notices in March".
        #[arg(long)]
        reason: String,
    },
    /// Erase a person's personal data (GDPR Art. 17): its name, contact details and
    /// texts read "[erased]" from then on; the audit chain still verifies. Refused
    /// (CONTACT_NEEDED) while a DMCA counter-notice of theirs runs.
    Erase {
        #[command(flatten)]
        party: Party,
        /// Why, for the record (no personal data), such as "erasure request of
        /// 2026-11-30".
        #[arg(long)]
        reason: String,
    },
    /// Print what is held about a person (GDPR Art. 15), as JSON: their claims, the
    /// notifications of those claims, and their party record.
    Export {
        #[command(flatten)]
        party: Party,
    },
    /// Suspend a notifier e-mail or a contributor: no notices or complaints until it
    /// ends. Refused (NO_PRIOR_WARNING) unless the party was warned first.
    Suspend {
        #[command(flatten)]
        party: Party,
        /// Why, for the record (e.g. the warning and the unfounded notices since).
        #[arg(long)]
        reason: String,
        /// How long, such as "30days" (the suspension ends by itself).
        #[arg(long = "for", value_parser = humantime::parse_duration)]
        duration: std::time::Duration,
    },
}

fn party_name(key: Option<&pb::PartyKey>) -> String {
    match key.and_then(|k| k.key.as_ref()) {
        Some(Key::PrincipalId(id)) => format!("principal {id}"),
        Some(Key::NotifierEmail(e)) => format!("notifier {e}"),
        Some(Key::ContributorAccountId(id)) => format!("contributor {id}"),
        None => String::new(),
    }
}

fn record(r: &pb::PartyRecord) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("party", party_name(r.party.as_ref())),
        ("notices filed", r.notices_filed.to_string()),
        ("upheld", r.notices_upheld.to_string()),
        ("rejected", r.notices_rejected.to_string()),
        (
            "manifestly unfounded",
            r.notices_manifestly_unfounded.to_string(),
        ),
        (
            "misrepresentation suspected",
            r.misrepresentation_suspected.to_string(),
        ),
        ("complaints filed", r.complaints_filed.to_string()),
        ("complaints unfounded", r.complaints_unfounded.to_string()),
        (
            "contributions infringing",
            r.contributions_infringing.to_string(),
        ),
        ("warnings", r.warnings.to_string()),
    ];
    if r.warnings > 0 {
        fields.push(("last warning", output::time(r.last_warning_time.as_ref())));
        fields.push(("warning reason", r.last_warning_reason.clone()));
    }
    fields.push(("suspensions", r.suspensions.to_string()));
    if r.suspended_until.is_some() {
        fields.push(("suspended until", output::time(r.suspended_until.as_ref())));
        fields.push(("suspension reason", r.last_suspension_reason.clone()));
    }
    fields
}

fn print(r: Option<pb::PartyRecord>, out: Output) -> Result<(), CliError> {
    let r = r.unwrap_or_default();
    match out {
        Output::Json => print_message(&r),
        Output::Table => print_record(&record(&r)),
    }
}

pub async fn run(command: PartiesCommand, clients: &Clients, out: Output) -> Result<(), CliError> {
    let mut client = clients.admin();
    match command {
        PartiesCommand::Show { party } => {
            let r = client
                .get_party_record(pb::GetPartyRecordRequest {
                    party: Some(party.key()),
                })
                .await?
                .into_inner();
            print(r.record, out)
        }
        PartiesCommand::Warn { party, reason } => {
            let r = client
                .warn_party(pb::WarnPartyRequest {
                    party: Some(party.key()),
                    reason,
                })
                .await?
                .into_inner();
            print(r.record, out)
        }
        PartiesCommand::Erase { party, reason } => {
            let r = client
                .erase_personal_data(pb::ErasePersonalDataRequest {
                    party: Some(party.key()),
                    reason,
                })
                .await?
                .into_inner();
            match out {
                Output::Json => print_message(&r),
                Output::Table => print_record(&[
                    ("claims", r.claims.to_string()),
                    (
                        "erased",
                        if r.erased_now {
                            "now"
                        } else {
                            "already (nothing to erase)"
                        }
                        .to_string(),
                    ),
                ]),
            }
        }
        PartiesCommand::Export { party } => {
            let r = client
                .export_personal_data(pb::ExportPersonalDataRequest {
                    party: Some(party.key()),
                })
                .await?
                .into_inner();
            // An access request is answered with everything, in the canonical JSON.
            print_message(&r)
        }
        PartiesCommand::Suspend {
            party,
            reason,
            duration,
        } => {
            let until = std::time::SystemTime::now() + duration;
            let r = client
                .suspend_party(pb::SuspendPartyRequest {
                    party: Some(party.key()),
                    reason,
                    until: Some(until.into()),
                })
                .await?
                .into_inner();
            print(r.record, out)
        }
    }
}
