//! `audit verify` (recompute the hash chain; exit 4 if it is broken) and `audit tail`
//! (the latest entries of the log, of a claim or of an article; `--follow` keeps
//! printing new ones), and `audit consistency` (`receipt.rs`).

use std::time::Duration;

use clap::Subcommand;

use super::CliError;
use super::connect::{Authed, Clients};
use super::output::{
    self, Output, Table, or_dash, print_json_line, print_message, print_record, to_json,
};
use crate::pb::{self, audit_service_client::AuditServiceClient};

/// Entries per ListAuditEntries page (the server's maximum).
const PAGE: i32 = 500;

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Recompute the whole hash chain on the server and print its head. Exits 4 if the
    /// chain is broken.
    Verify,
    /// Print the latest audit entries (JSON: one entry per line).
    Tail {
        /// How many of the latest entries to print.
        #[arg(long, short = 'n', default_value_t = 20)]
        lines: u64,
        /// Print every entry after this seq instead of the latest ones.
        #[arg(long)]
        after_seq: Option<u64>,
        /// Only entries about this claim.
        #[arg(long, conflicts_with = "article")]
        claim: Option<String>,
        /// Only entries about this article.
        #[arg(long)]
        article: Option<String>,
        /// Keep polling for new entries until interrupted.
        #[arg(long, short = 'f')]
        follow: bool,
        /// Poll interval for --follow, in milliseconds.
        #[arg(long, default_value_t = 1000)]
        interval_ms: u64,
    },
    /// Check that the log extends an older signed checkpoint you kept (a note file,
    /// or a receipt.json): fetches the consistency proof to the server's current
    /// checkpoint (or to --new) and checks both signatures with --key. Exits 4 if the
    /// log does not extend it.
    Consistency {
        /// The older signed checkpoint: the note, GetCheckpoint's answer as JSON, or a
        /// receipt.
        #[arg(long)]
        old: std::path::PathBuf,
        /// A newer signed checkpoint (the same forms); default: the server's current one.
        #[arg(long)]
        new: Option<std::path::PathBuf>,
        /// The log's verifier key, or a file holding it.
        #[arg(long)]
        key: String,
    },
}

pub async fn run(command: AuditCommand, clients: &Clients, out: Output) -> Result<(), CliError> {
    match command {
        AuditCommand::Consistency { old, new, key } => {
            super::receipt::consistency(clients, out, &old, new.as_deref(), &key).await
        }
        AuditCommand::Verify => verify(clients, out).await,
        AuditCommand::Tail {
            lines,
            after_seq,
            claim,
            article,
            follow,
            interval_ms,
        } => {
            let filter = Filter {
                claim_id: claim.unwrap_or_default(),
                article_id: article.unwrap_or_default(),
            };
            tail(clients, out, filter, lines, after_seq, follow, interval_ms).await
        }
    }
}

async fn verify(clients: &Clients, out: Output) -> Result<(), CliError> {
    let progress = output::progress("verifying the audit chain");
    let result = clients
        .audit()
        .verify_audit_log(pb::VerifyAuditLogRequest::default())
        .await;
    progress.finish_and_clear();
    let v = result?.into_inner();
    match out {
        Output::Json => print_message(&v)?,
        Output::Table => {
            let mut fields = vec![
                ("ok", v.ok.to_string()),
                ("entries checked", v.entries_checked.to_string()),
                ("head seq", v.head_seq.to_string()),
                ("head hash", or_dash(&v.head_hash)),
            ];
            if !v.ok {
                fields.push(("first bad seq", v.first_bad_seq.to_string()));
                fields.push(("problem", v.problem.clone()));
            }
            print_record(&fields)?;
        }
    }
    if v.ok {
        Ok(())
    } else {
        Err(CliError::AuditBroken {
            first_bad_seq: v.first_bad_seq,
            problem: v.problem,
        })
    }
}

#[derive(Clone, Default)]
struct Filter {
    claim_id: String,
    article_id: String,
}

impl Filter {
    fn is_whole_log(&self) -> bool {
        self.claim_id.is_empty() && self.article_id.is_empty()
    }
}

/// True if the log has an entry with a seq greater than `seq`.
async fn beyond(client: &mut AuditServiceClient<Authed>, seq: u64) -> Result<bool, CliError> {
    page(client, &Filter::default(), seq, 1, String::new())
        .await
        .map(|p| !p.entries.is_empty())
}

/// One page of entries after `after_seq`.
async fn page(
    client: &mut AuditServiceClient<Authed>,
    filter: &Filter,
    after_seq: u64,
    page_size: i32,
    page_token: String,
) -> Result<pb::ListAuditEntriesResponse, CliError> {
    Ok(client
        .list_audit_entries(pb::ListAuditEntriesRequest {
            claim_id: filter.claim_id.clone(),
            article_id: filter.article_id.clone(),
            after_seq,
            page_size,
            page_token,
        })
        .await?
        .into_inner())
}

/// Every entry matching `filter` after `after_seq`, in seq order.
async fn all_after(
    client: &mut AuditServiceClient<Authed>,
    filter: &Filter,
    after_seq: u64,
) -> Result<Vec<pb::AuditEntry>, CliError> {
    let mut entries = Vec::new();
    let mut token = String::new();
    loop {
        let p = page(client, filter, after_seq, PAGE, token).await?;
        entries.extend(p.entries);
        if p.next_page_token.is_empty() {
            return Ok(entries);
        }
        token = p.next_page_token;
    }
}

/// The seq of the log's last entry, found with O(log n) one-entry reads (the API
/// has no cheap "head" call; VerifyAuditLog reads the whole journal).
async fn head_seq(client: &mut AuditServiceClient<Authed>) -> Result<u64, CliError> {
    // Invariant: some entry has seq > lo; none has seq > hi.
    let mut lo = 0u64;
    if !beyond(client, lo).await? {
        return Ok(0);
    }
    let mut hi = 1u64;
    while beyond(client, hi).await? {
        lo = hi;
        hi = hi.saturating_mul(2);
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if beyond(client, mid).await? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(hi)
}

async fn tail(
    clients: &Clients,
    out: Output,
    filter: Filter,
    lines: u64,
    after_seq: Option<u64>,
    follow: bool,
    interval_ms: u64,
) -> Result<(), CliError> {
    let mut client = clients.audit();
    let mut entries = match after_seq {
        Some(seq) => all_after(&mut client, &filter, seq).await?,
        None if filter.is_whole_log() => {
            let head = head_seq(&mut client).await?;
            all_after(&mut client, &filter, head.saturating_sub(lines)).await?
        }
        None => {
            let mut all = all_after(&mut client, &filter, 0).await?;
            let skip = all
                .len()
                .saturating_sub(usize::try_from(lines).unwrap_or(usize::MAX));
            all.drain(..skip);
            all
        }
    };
    let mut last = entries.last().map(|e| e.seq).or(after_seq).unwrap_or(0);
    if entries.is_empty() && after_seq.is_none() && filter.is_whole_log() {
        last = head_seq(&mut client).await?;
    }
    let mut first = true;
    loop {
        print_entries(&entries, out, first)?;
        if !entries.is_empty() {
            first = false;
        }
        if !follow {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(interval_ms)).await;
        entries = all_after(&mut client, &filter, last).await?;
        if let Some(e) = entries.last() {
            last = e.seq;
        }
    }
}

fn print_entries(
    entries: &[pb::AuditEntry],
    out: Output,
    with_header: bool,
) -> Result<(), CliError> {
    match out {
        Output::Json => {
            for e in entries {
                print_json_line(&to_json(e)?)?;
            }
            Ok(())
        }
        Output::Table if entries.is_empty() => Ok(()),
        Output::Table => output::print_line(&entry_table(entries).render(with_header)),
    }
}

/// The audit entries of one claim, oldest first.
pub async fn entries_of_claim(
    clients: &Clients,
    claim_id: &str,
) -> Result<Vec<pb::AuditEntry>, CliError> {
    let filter = Filter {
        claim_id: claim_id.to_string(),
        article_id: String::new(),
    };
    all_after(&mut clients.audit(), &filter, 0).await
}

/// Entries as a table: seq, time, actor, action, claim, transition, detail.
pub fn entry_table(entries: &[pb::AuditEntry]) -> Table {
    let mut table = Table::new(&[
        "SEQ",
        "TIME",
        "ACTOR",
        "ACTION",
        "CLAIM",
        "TRANSITION",
        "DETAIL",
    ]);
    for e in entries {
        let transition = if e.from_state == 0 && e.to_state == 0 {
            "-".to_string()
        } else if e.from_state == 0 {
            output::state(e.to_state)
        } else {
            format!(
                "{} -> {}",
                output::state(e.from_state),
                output::state(e.to_state)
            )
        };
        table.row(vec![
            e.seq.to_string(),
            output::time(e.time.as_ref()),
            or_dash(&e.actor),
            or_dash(&e.action),
            or_dash(&e.claim_id),
            transition,
            or_dash(&e.detail),
        ]);
    }
    table
}
