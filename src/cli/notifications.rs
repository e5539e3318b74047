//! `notifications list|retry`: what the parties were told, whether it arrived, and
//! queuing a DEAD or UNDELIVERABLE notification again once its cause is fixed (see
//! `docs/notifications.md`).

use clap::Subcommand;

use super::CliError;
use super::connect::Clients;
use super::output::{self, Output, Table, print_json, print_message, print_record, to_json};
use crate::pb;

#[derive(Subcommand, Debug)]
pub enum NotificationsCommand {
    /// List notifications, newest first.
    List {
        /// Only those of this claim.
        #[arg(long, default_value = "")]
        claim: String,
        /// Only those in this status: pending, delivered, dead or undeliverable.
        #[arg(long, value_parser = status)]
        status: Option<pb::NotificationStatus>,
        /// Only those of this kind, such as receipt or decision (the
        /// NOTIFICATION_KIND_ name without its prefix, any case).
        #[arg(long, value_parser = kind)]
        kind: Option<pb::NotificationKind>,
        /// Walk every page instead of printing the first one.
        #[arg(long)]
        all: bool,
        /// Notifications per page (0: the server's default of 50).
        #[arg(long, default_value_t = 0)]
        page_size: i32,
        /// Continue from the next_page_token a previous call printed.
        #[arg(long, default_value = "", allow_hyphen_values = true)]
        page_token: String,
    },
    /// Queue a DEAD or UNDELIVERABLE notification for delivery again, now.
    Retry {
        /// The notification's id, as `notifications list` prints it.
        id: String,
    },
}

fn status(text: &str) -> Result<pb::NotificationStatus, String> {
    let name = format!("NOTIFICATION_STATUS_{}", text.trim().to_ascii_uppercase());
    pb::NotificationStatus::from_str_name(&name)
        .filter(|s| *s != pb::NotificationStatus::Unspecified)
        .ok_or_else(|| {
            format!("{text:?} is not a status; use pending, delivered, dead or undeliverable")
        })
}

fn kind(text: &str) -> Result<pb::NotificationKind, String> {
    let name = format!(
        "NOTIFICATION_KIND_{}",
        text.trim().to_ascii_uppercase().replace('-', "_")
    );
    pb::NotificationKind::from_str_name(&name)
        .filter(|k| *k != pb::NotificationKind::Unspecified)
        .ok_or_else(|| {
            format!(
                "{text:?} is not a notification kind; use receipt, notice_forwarded, information_requested, decision, correction_due, counter_notice_forwarded, restored, legal_action_resolved, complaint_decided, closed, corrected or correction_missed"
            )
        })
}

/// An enum's name without its prefix, for tables.
fn short(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix).unwrap_or(name).to_string()
}

fn record(n: &pb::Notification) -> Vec<(&'static str, String)> {
    vec![
        ("id", n.id.clone()),
        ("claim", n.claim_id.clone()),
        ("kind", short(n.kind().as_str_name(), "NOTIFICATION_KIND_")),
        (
            "to",
            short(n.recipient().as_str_name(), "NOTIFICATION_RECIPIENT_"),
        ),
        (
            "channel",
            short(n.channel().as_str_name(), "NOTIFICATION_CHANNEL_"),
        ),
        (
            "status",
            short(n.status().as_str_name(), "NOTIFICATION_STATUS_"),
        ),
        ("attempts", n.attempt_count.to_string()),
        ("next attempt", output::time(n.next_attempt_time.as_ref())),
        ("last error", n.last_error.clone()),
    ]
}

pub async fn run(
    command: NotificationsCommand,
    clients: &Clients,
    out: Output,
) -> Result<(), CliError> {
    let mut client = clients.admin();
    match command {
        NotificationsCommand::List {
            claim,
            status,
            kind,
            all,
            page_size,
            page_token,
        } => {
            let mut request = pb::ListNotificationsRequest {
                claim_id: claim,
                status: status.map_or(0, |s| s as i32),
                kind: kind.map_or(0, |k| k as i32),
                page_size,
                page_token,
            };
            let mut notifications = Vec::new();
            let next_page_token = loop {
                let page = client
                    .list_notifications(request.clone())
                    .await?
                    .into_inner();
                notifications.extend(page.notifications);
                if !all || page.next_page_token.is_empty() {
                    break page.next_page_token;
                }
                request.page_token = page.next_page_token;
            };
            let response = pb::ListNotificationsResponse {
                notifications,
                next_page_token,
            };
            match out {
                Output::Json => print_json(&to_json(&response)?),
                Output::Table => {
                    let mut table = Table::new(&[
                        "ID",
                        "CLAIM",
                        "KIND",
                        "TO",
                        "CHANNEL",
                        "STATUS",
                        "ATTEMPTS",
                        "LAST ERROR",
                    ]);
                    for n in &response.notifications {
                        let r = record(n);
                        table.row(vec![
                            r[0].1.clone(),
                            r[1].1.clone(),
                            r[2].1.clone(),
                            r[3].1.clone(),
                            r[4].1.clone(),
                            r[5].1.clone(),
                            r[6].1.clone(),
                            r[8].1.clone(),
                        ]);
                    }
                    table.print()?;
                    if !response.next_page_token.is_empty() {
                        eprintln!(
                            "more notifications: add --page-token {} for the next page, or --all",
                            response.next_page_token
                        );
                    }
                    Ok(())
                }
            }
        }
        NotificationsCommand::Retry { id } => {
            let r = client
                .retry_notification(pb::RetryNotificationRequest {
                    notification_id: id,
                })
                .await?
                .into_inner();
            match out {
                Output::Json => print_message(&r),
                Output::Table => print_record(&record(&r.notification.unwrap_or_default())),
            }
        }
    }
}
