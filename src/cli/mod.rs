//! `takedownctl`, the operators' CLI: one subcommand group per part of the desk's
//! work (claims, review, correction, legal, articles, audit, principals, parties,
//! notifications, exports, receipts), each a thin layer over the generated gRPC clients. Output is a table for people or the
//! canonical protobuf JSON mapping for scripts ([`output`]); failures print the
//! server's message (and every BadRequest field violation on its own line) and exit
//! non-zero ([`failure`]). A write that a standby of a replicated pair refuses runs
//! again at the leader the standby names ([`main`]).

mod articles;
mod audit;
mod claims;
mod connect;
mod export;
mod failure;
mod notifications;
mod output;
mod parties;
mod principals;
mod receipt;
mod report;
mod review;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use connect::Connection;
pub use failure::{CliError, exit_code};
pub use output::Output;

#[derive(Parser, Debug)]
#[command(
    name = "takedownctl",
    version,
    about = "Operate a takedown server: work the claim queue, manage articles and principals, verify the audit log",
    after_help = "Exit codes: 0 success; 1 the server refused or failed the request; \
2 bad invocation (flags, unreadable token or TLS files); 3 the server could not be \
reached; 4 `audit verify` found a broken chain, or a receipt or consistency proof \
does not verify."
)]
pub struct Cli {
    #[command(flatten)]
    pub connection: Connection,
    /// How to print results: `table` for people, `json` (the canonical protobuf JSON
    /// mapping, every field present) for scripts.
    #[arg(
        long,
        short = 'o',
        env = "TAKEDOWN_OUTPUT",
        value_enum,
        default_value_t = Output::Table,
        global = true
    )]
    pub output: Output,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "parsed once per process from the command line"
)]
pub enum Command {
    /// Read the claims: the queue, one claim with its history.
    #[command(subcommand)]
    Claims(claims::ClaimsCommand),
    /// Work a claim: take it, ask for information, decide.
    #[command(subcommand)]
    Review(review::ReviewCommand),
    /// Record the correction of an article for a claim in CORRECTION_PENDING.
    #[command(subcommand)]
    Correction(review::CorrectionCommand),
    /// Resolve reported legal action.
    #[command(subcommand)]
    Legal(review::LegalCommand),
    /// Register articles and see what the claims did to them.
    #[command(subcommand)]
    Articles(articles::ArticlesCommand),
    /// Verify and follow the hash-chained audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Manage who may call the server, and their tokens.
    #[command(subcommand)]
    Principals(principals::PrincipalsCommand),
    /// See what was counted about a notifier, principal or contributor; warn;
    /// suspend (DSA Art. 23).
    #[command(subcommand)]
    Parties(parties::PartiesCommand),
    /// What the parties were told and whether it arrived; queue a failed one again.
    #[command(subcommand)]
    Notifications(notifications::NotificationsCommand),
    /// The transparency report for a period (DSA Arts. 15 and 24): table, JSON or CSV.
    Report(report::ReportArgs),
    /// A period's statements of reasons for the DSA Transparency Database, or its
    /// notices for Lumen, as JSON lines.
    #[command(subcommand)]
    Export(export::ExportCommand),
    /// Check a receipt of the audit log offline, with the log's verifier key.
    #[command(subcommand)]
    Receipt(receipt::ReceiptCommand),
}

/// Runs `takedownctl` with the process's arguments and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("takedownctl: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut result = runtime.block_on(run(cli));
    // A standby refuses a write before recording anything and names the leader: the
    // same command line runs again there, a few hops at most (a hint can be stale
    // while leadership moves).
    for _ in 0..MAX_LEADER_HOPS {
        let Some(leader) = result.as_ref().err().and_then(failure::leader_hint) else {
            break;
        };
        eprintln!(
            "takedownctl: the server is a standby and refused the write; following its hint to the leader at {leader}"
        );
        let mut cli = Cli::parse();
        cli.connection.addr = leader;
        // A dead leader's lease names it until a standby takes over.
        result = runtime.block_on(run(cli)).map_err(|e| match e {
            CliError::Connect(m) => CliError::Connect(format!(
                "{m} (a standby named it the leader; if a failover is under way, try again \
                 in a few seconds)"
            )),
            e => e,
        });
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            failure::report(&e);
            exit_code(&e)
        }
    }
}

/// How many times one command follows a standby's NOT_LEADER hint to the leader.
const MAX_LEADER_HOPS: usize = 3;

/// Runs one parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let out = cli.output;
    // A receipt is checked offline: no server, no token.
    let command = match cli.command {
        Command::Receipt(c) => return receipt::run(c, out),
        other => other,
    };
    let clients = cli.connection.connect().await?;
    match command {
        Command::Claims(c) => claims::run(c, &clients, out).await,
        Command::Review(c) => review::run_review(c, &clients, out).await,
        Command::Correction(c) => review::run_correction(c, &clients, out).await,
        Command::Legal(c) => review::run_legal(c, &clients, out).await,
        Command::Articles(c) => articles::run(c, &clients, out).await,
        Command::Audit(c) => audit::run(c, &clients, out).await,
        Command::Principals(c) => principals::run(c, &clients, out).await,
        Command::Parties(c) => parties::run(c, &clients, out).await,
        Command::Notifications(c) => notifications::run(c, &clients, out).await,
        Command::Report(c) => report::run(c, &clients, out).await,
        Command::Export(c) => export::run(c, &clients).await,
        Command::Receipt(_) => Ok(()),
    }
}
