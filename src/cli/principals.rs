//! `principals create|list|revoke|suspend|unsuspend`: who may call the server. A new principal's token
//! is printed once, as the server returns it; nothing else ever prints a token.

use clap::Subcommand;

use super::CliError;
use super::connect::Clients;
use super::output::{self, Output, Table, arg, print_json, print_message, print_record, to_json};
use crate::pb;

#[derive(Subcommand, Debug)]
pub enum PrincipalsCommand {
    /// Create a principal and print its token (shown this once).
    Create {
        /// A human-readable name, such as "Compliance desk".
        #[arg(long)]
        name: String,
        /// A role to grant: claimant, reviewer, publisher, auditor or admin (repeatable).
        #[arg(long = "role", required = true, value_parser = arg::role)]
        roles: Vec<pb::Role>,
        /// Mark a claimant as a trusted flagger (DSA Art. 22): its claims go first.
        #[arg(long)]
        trusted_flagger: bool,
        /// For a claimant: also POST its notifications to this http(s) URL, signed
        /// with a secret printed once.
        #[arg(long, default_value = "")]
        webhook_url: String,
    },
    /// List principals, oldest first.
    List {
        /// Walk every page instead of printing the first one.
        #[arg(long)]
        all: bool,
        /// Principals per page (0: the server's default of 50).
        #[arg(long, default_value_t = 0)]
        page_size: i32,
        /// Continue from the next_page_token a previous call printed.
        // A token may begin with `-` (it is base64url): take it as the value, not a flag.
        #[arg(long, default_value = "", allow_hyphen_values = true)]
        page_token: String,
    },
    /// Revoke a principal: its token stops working on the next request.
    Revoke {
        /// The principal's id.
        id: String,
    },
    /// Suspend a principal (DSA Art. 23): no claims or complaints until it ends.
    Suspend {
        /// The principal's id.
        id: String,
        /// Why, for the record (e.g. the warning and the unfounded notices).
        #[arg(long)]
        reason: String,
        /// How long, such as "30days" (the suspension ends by itself).
        #[arg(long = "for", value_parser = humantime::parse_duration)]
        duration: std::time::Duration,
    },
    /// End a suspension early.
    Unsuspend {
        /// The principal's id.
        id: String,
        /// Why, for the record.
        #[arg(long, default_value = "")]
        reason: String,
    },
}

fn roles(p: &pb::Principal) -> String {
    p.roles
        .iter()
        .map(|r| {
            pb::Role::try_from(*r)
                .map(|r| output::short(r.as_str_name(), "ROLE_").to_lowercase())
                .unwrap_or_else(|_| r.to_string())
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn record(p: &pb::Principal) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("id", p.id.clone()),
        ("name", p.display_name.clone()),
        ("roles", roles(p)),
        ("created", output::time(p.create_time.as_ref())),
        ("revoked", if p.revoked { "yes" } else { "no" }.to_string()),
    ];
    if p.trusted_flagger {
        fields.push(("trusted flagger", "yes".to_string()));
    }
    if p.suspended_until.is_some() {
        fields.push(("suspended until", output::time(p.suspended_until.as_ref())));
        fields.push(("suspension reason", p.suspension_reason.clone()));
    }
    if p.revoked {
        fields.push(("revoked at", output::time(p.revoke_time.as_ref())));
    }
    fields
}

pub async fn run(
    command: PrincipalsCommand,
    clients: &Clients,
    out: Output,
) -> Result<(), CliError> {
    let mut client = clients.admin();
    match command {
        PrincipalsCommand::Create {
            name,
            roles,
            trusted_flagger,
            webhook_url,
        } => {
            let r = client
                .create_principal(pb::CreatePrincipalRequest {
                    display_name: name,
                    roles: roles.into_iter().map(|r| r as i32).collect(),
                    trusted_flagger,
                    webhook_url,
                })
                .await?
                .into_inner();
            match out {
                Output::Json => print_message(&r),
                Output::Table => {
                    let p = r.principal.clone().unwrap_or_default();
                    let mut fields = record(&p);
                    fields.push(("token", r.token.clone()));
                    if !r.webhook_secret.is_empty() {
                        fields.push(("webhook secret", r.webhook_secret.clone()));
                    }
                    print_record(&fields)?;
                    eprintln!("the token is shown only this once: store it now");
                    Ok(())
                }
            }
        }
        PrincipalsCommand::List {
            all,
            page_size,
            page_token,
        } => {
            let progress = if all {
                output::progress("listing principals")
            } else {
                indicatif::ProgressBar::hidden()
            };
            let mut request = pb::ListPrincipalsRequest {
                page_size,
                page_token,
            };
            let mut principals = Vec::new();
            let next_page_token = loop {
                let page = client.list_principals(request.clone()).await?.into_inner();
                principals.extend(page.principals);
                progress.set_message(format!("{} principals", principals.len()));
                if !all || page.next_page_token.is_empty() {
                    break page.next_page_token;
                }
                request.page_token = page.next_page_token;
            };
            progress.finish_and_clear();
            let response = pb::ListPrincipalsResponse {
                principals,
                next_page_token,
            };
            match out {
                Output::Json => print_json(&to_json(&response)?),
                Output::Table => {
                    let mut table = Table::new(&["ID", "NAME", "ROLES", "CREATED", "REVOKED"]);
                    for p in &response.principals {
                        table.row(vec![
                            p.id.clone(),
                            p.display_name.clone(),
                            roles(p),
                            output::time(p.create_time.as_ref()),
                            if p.revoked { "yes" } else { "no" }.to_string(),
                        ]);
                    }
                    table.print()?;
                    if !response.next_page_token.is_empty() {
                        eprintln!(
                            "more principals: add --page-token {} for the next page, or --all",
                            response.next_page_token
                        );
                    }
                    Ok(())
                }
            }
        }
        PrincipalsCommand::Suspend {
            id,
            reason,
            duration,
        } => {
            let until = std::time::SystemTime::now() + duration;
            let r = client
                .suspend_principal(pb::SuspendPrincipalRequest {
                    principal_id: id,
                    reason,
                    until: Some(until.into()),
                })
                .await?
                .into_inner();
            match out {
                Output::Json => print_message(&r),
                Output::Table => print_record(&record(&r.principal.unwrap_or_default())),
            }
        }
        PrincipalsCommand::Unsuspend { id, reason } => {
            let r = client
                .unsuspend_principal(pb::UnsuspendPrincipalRequest {
                    principal_id: id,
                    reason,
                })
                .await?
                .into_inner();
            match out {
                Output::Json => print_message(&r),
                Output::Table => print_record(&record(&r.principal.unwrap_or_default())),
            }
        }
        PrincipalsCommand::Revoke { id } => {
            let r = client
                .revoke_principal(pb::RevokePrincipalRequest { principal_id: id })
                .await?
                .into_inner();
            match out {
                Output::Json => print_message(&r),
                Output::Table => print_record(&record(&r.principal.unwrap_or_default())),
            }
        }
    }
}
