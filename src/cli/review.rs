//! The desk's verbs on a claim: `review start|request-info|decide`, `correction
//! record` and `legal resolve`. Each takes the claim id and an optional `--etag` (act
//! only if the claim has not changed since it was read) and prints the claim as it is
//! now.

use clap::Subcommand;

use super::CliError;
use super::claims::claim_record;
use super::connect::Clients;
use super::output::{Output, arg, print_message, print_record};
use crate::pb;

#[derive(Subcommand, Debug)]
pub enum ReviewCommand {
    /// Take a received claim for review (RECEIVED -> UNDER_REVIEW), assigned to you.
    Start {
        /// The claim's id.
        id: String,
        /// Act only if the claim still has this etag.
        #[arg(long, default_value = "")]
        etag: String,
    },
    /// Ask the claimant for what is missing (-> NEEDS_INFO, with a reply deadline).
    RequestInfo {
        /// The claim's id.
        id: String,
        /// What the claimant must supply.
        #[arg(long, short = 'm')]
        message: String,
        /// Act only if the claim still has this etag.
        #[arg(long, default_value = "")]
        etag: String,
    },
    /// Decide a claim under review, with a statement of reasons (DSA Art. 17).
    Decide {
        /// The claim's id.
        id: String,
        /// reject, correct or delete.
        #[arg(long, value_parser = arg::decision_outcome)]
        outcome: pb::DecisionOutcome,
        /// The facts and circumstances relied on.
        #[arg(long)]
        facts: String,
        /// The legal ground (statute, article, terms clause).
        #[arg(long)]
        legal_ground: String,
        /// Why the facts meet (or do not meet) the ground.
        #[arg(long)]
        explanation: String,
        /// The redress open to the affected party (the server fills in a default).
        #[arg(long, default_value = "")]
        redress: String,
        /// The decision was taken by automated means.
        #[arg(long)]
        automated: bool,
        /// For `correct`: index of a claimed item to change (repeatable; none = all).
        #[arg(long = "item")]
        items: Vec<u32>,
        /// With `reject`: the notice is manifestly unfounded (DSA Art. 23); counted
        /// on the notifier's party record.
        #[arg(long)]
        manifestly_unfounded: bool,
        /// A knowing misrepresentation is suspected (DMCA 512(f)); counted on the
        /// notifier's party record.
        #[arg(long)]
        misrepresentation_suspected: bool,
        /// Act only if the claim still has this etag.
        #[arg(long, default_value = "")]
        etag: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum CorrectionCommand {
    /// The article was corrected: CORRECTION_PENDING -> CORRECTED, revision + 1.
    Record {
        /// The claim's id.
        id: String,
        /// What was changed.
        #[arg(long, short = 's')]
        summary: String,
        /// The revision the CMS now serves (0: let the server number it).
        #[arg(long, default_value_t = 0)]
        article_revision: u64,
        /// Act only if the claim still has this etag.
        #[arg(long, default_value = "")]
        etag: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum LegalCommand {
    /// How reported legal action ended: upheld (deletion final) or dismissed (restored).
    Resolve {
        /// The claim's id.
        id: String,
        /// upheld or dismissed.
        #[arg(long, value_parser = arg::legal_action_outcome)]
        outcome: pb::LegalActionOutcome,
        /// A note for the record, such as the court decision's reference.
        #[arg(long, default_value = "")]
        note: String,
        /// Act only if the claim still has this etag.
        #[arg(long, default_value = "")]
        etag: String,
    },
}

/// Prints the changed claim: the whole response as JSON, or the claim's record.
fn print_claim<M: super::output::Named>(
    response: &M,
    claim: Option<&pb::Claim>,
    out: Output,
) -> Result<(), CliError> {
    match out {
        Output::Json => print_message(response),
        Output::Table => match claim {
            Some(c) => print_record(&claim_record(c)),
            None => Err(CliError::Output(
                "the server answered without the claim".into(),
            )),
        },
    }
}

pub async fn run_review(
    command: ReviewCommand,
    clients: &Clients,
    out: Output,
) -> Result<(), CliError> {
    let mut client = clients.review();
    match command {
        ReviewCommand::Start { id, etag } => {
            let r = client
                .start_review(pb::StartReviewRequest { claim_id: id, etag })
                .await?
                .into_inner();
            print_claim(&r, r.claim.as_ref(), out)
        }
        ReviewCommand::RequestInfo { id, message, etag } => {
            let r = client
                .request_information(pb::RequestInformationRequest {
                    claim_id: id,
                    etag,
                    message,
                })
                .await?
                .into_inner();
            print_claim(&r, r.claim.as_ref(), out)
        }
        ReviewCommand::Decide {
            id,
            outcome,
            facts,
            legal_ground,
            explanation,
            redress,
            automated,
            items,
            manifestly_unfounded,
            misrepresentation_suspected,
            etag,
        } => {
            let r = client
                .decide_claim(pb::DecideClaimRequest {
                    claim_id: id,
                    etag,
                    outcome: outcome as i32,
                    statement_of_reasons: Some(pb::StatementOfReasons {
                        facts,
                        legal_ground,
                        explanation,
                        redress,
                        automated_decision: if automated {
                            pb::AutomatedDecision::Fully
                        } else {
                            pb::AutomatedDecision::NotAutomated
                        } as i32,
                        ..Default::default()
                    }),
                    items_to_change: items,
                    manifestly_unfounded,
                    misrepresentation_suspected,
                })
                .await?
                .into_inner();
            print_claim(&r, r.claim.as_ref(), out)
        }
    }
}

pub async fn run_correction(
    command: CorrectionCommand,
    clients: &Clients,
    out: Output,
) -> Result<(), CliError> {
    let CorrectionCommand::Record {
        id,
        summary,
        article_revision,
        etag,
    } = command;
    let r = clients
        .publisher()
        .record_correction(pb::RecordCorrectionRequest {
            claim_id: id,
            etag,
            article_revision,
            summary,
        })
        .await?
        .into_inner();
    print_claim(&r, r.claim.as_ref(), out)
}

pub async fn run_legal(
    command: LegalCommand,
    clients: &Clients,
    out: Output,
) -> Result<(), CliError> {
    let LegalCommand::Resolve {
        id,
        outcome,
        note,
        etag,
    } = command;
    let r = clients
        .review()
        .resolve_legal_action(pb::ResolveLegalActionRequest {
            claim_id: id,
            etag,
            outcome: outcome as i32,
            note,
        })
        .await?
        .into_inner();
    print_claim(&r, r.claim.as_ref(), out)
}
