//! The desk's verbs on a claim: `review start|request-info|decide`, `correction
//! record` and `legal resolve`. Each takes the claim id and an optional `--etag` (act
//! only if the claim has not changed since it was read) and prints the claim as it is
//! now.

use clap::Subcommand;

use super::CliError;
use super::claims::claim_record;
use super::connect::Clients;
use super::output::{Output, Table, arg, print_json, print_message, print_record, to_json};
use crate::pb;

#[derive(Subcommand, Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "parsed once per process from the command line"
)]
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
    /// The statement-of-reasons templates of the policy, for `decide --template`.
    Templates {
        /// Only those for this regime: dmca, dsa or prc-civil-code.
        #[arg(long, value_parser = arg::regime)]
        regime: Option<pb::Regime>,
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
        /// A reason template (`review templates` lists them): the statement's fields
        /// left empty are taken from it.
        #[arg(long, default_value = "")]
        template: String,
        /// The legal ground (the statute or article relied on).
        #[arg(long, default_value = "")]
        legal_ground: String,
        /// Why the facts meet (or do not meet) the ground.
        #[arg(long, default_value = "")]
        explanation: String,
        /// The redress open to the affected party (the server fills in a default).
        #[arg(long, default_value = "")]
        redress: String,
        /// illegal-content (the default) or incompatible-content (with --terms-clause).
        #[arg(long, value_parser = arg::decision_ground)]
        ground: Option<pb::DecisionGround>,
        /// For incompatible-content: the terms-and-conditions clause relied on.
        #[arg(long, default_value = "")]
        terms_clause: String,
        /// The DSA statement category (default: intellectual-property-infringements).
        #[arg(long, value_parser = arg::statement_category)]
        category: Option<pb::StatementCategory>,
        /// A keyword of the category, such as copyright-infringement (repeatable).
        #[arg(long = "keyword", value_parser = arg::keyword)]
        keywords: Vec<pb::Keyword>,
        /// A content type, such as text or image (repeatable; default: from the items).
        #[arg(long = "content-type", value_parser = arg::content_type)]
        content_types: Vec<pb::ContentType>,
        /// A country the restriction applies in, ISO 3166-1 alpha-2 such as DE
        /// (repeatable; none: worldwide).
        #[arg(long = "territory")]
        territorial_scope: Vec<String>,
        /// The decision was taken fully by automated means (not for complaints).
        #[arg(long, conflicts_with = "automation")]
        automated: bool,
        /// How automated the decision was: fully, partially or not-automated.
        #[arg(long, value_parser = arg::automated_decision)]
        automation: Option<pb::AutomatedDecision>,
        /// The content was detected by automated means.
        #[arg(long)]
        automated_detection: bool,
        /// When a temporary restriction ends (RFC 3339).
        #[arg(long, value_parser = arg::timestamp)]
        restriction_end: Option<prost_types::Timestamp>,
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
        ReviewCommand::Templates { regime } => {
            let r = client
                .list_reason_templates(pb::ListReasonTemplatesRequest {
                    regime: regime.map_or(0, |r| r as i32),
                })
                .await?
                .into_inner();
            match out {
                Output::Json => print_json(&to_json(&r)?),
                Output::Table => {
                    let mut table = Table::new(&["ID", "REGIMES", "LEGAL GROUND", "TITLE"]);
                    for t in &r.templates {
                        let regimes: Vec<&str> = t
                            .regimes()
                            .map(|r| r.as_str_name().trim_start_matches("REGIME_"))
                            .collect();
                        let ground = t
                            .statement_of_reasons
                            .as_ref()
                            .map_or(String::new(), |s| s.legal_ground.clone());
                        table.row(vec![
                            t.id.clone(),
                            regimes.join(","),
                            ground,
                            t.title.clone(),
                        ]);
                    }
                    table.print()
                }
            }
        }
        ReviewCommand::Decide {
            id,
            outcome,
            facts,
            template,
            legal_ground,
            explanation,
            redress,
            ground,
            terms_clause,
            category,
            keywords,
            content_types,
            territorial_scope,
            automated,
            automation,
            automated_detection,
            restriction_end,
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
                        template_id: template,
                        decision_ground: ground.map_or(0, |g| g as i32),
                        incompatible_content_ground: terms_clause,
                        category: category.map_or(0, |c| c as i32),
                        category_keywords: keywords.into_iter().map(|k| k as i32).collect(),
                        content_types: content_types.into_iter().map(|c| c as i32).collect(),
                        territorial_scope,
                        restriction_end_time: restriction_end,
                        automated_detection,
                        automated_decision: match (automated, automation) {
                            (true, _) => pb::AutomatedDecision::Fully as i32,
                            (false, Some(a)) => a as i32,
                            (false, None) => 0,
                        },
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
