//! `claims list` (the queue, with filters, one page or all of them), `claims show`
//! (one claim and its audit history) and `claims token` (a party's claim token).

use std::time::SystemTime;

use clap::{Args, Subcommand};

use super::connect::Clients;
use super::output::{self, Output, Table, arg, or_dash, print_json, print_record, to_json};
use super::{CliError, audit};
use crate::pb;

#[derive(Subcommand, Debug)]
pub enum ClaimsCommand {
    /// The claims you may see, oldest first: a table of id, state, article, age, next
    /// deadline and assignee.
    List(ListArgs),
    /// One claim and its audit history.
    Show {
        /// The claim's id.
        id: String,
    },
    /// A new claim token for one party of a claim (PublisherService.IssuePartyToken):
    /// printed once; the party's previous token stops working.
    Token {
        /// The claim's id.
        id: String,
        /// Whose token: notifier or contributor.
        #[arg(long, value_parser = arg::party)]
        party: pb::Party,
    },
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only claims in this state (received, under-review, needs-info, ...).
    #[arg(long, value_parser = arg::claim_state)]
    state: Option<pb::ClaimState>,
    /// Only claims against this article id.
    #[arg(long)]
    article: Option<String>,
    /// Only claims assigned to this reviewer principal id.
    #[arg(long)]
    assignee: Option<String>,
    /// Only claims whose next deadline has passed (by the server's clock).
    #[arg(long)]
    overdue: bool,
    /// Most urgent deadline first (claims without a deadline are left out).
    #[arg(long)]
    by_deadline: bool,
    /// Walk every page instead of printing the first one.
    #[arg(long)]
    all: bool,
    /// Claims per page (the server caps it at 500; 0 means its default of 50).
    #[arg(long, default_value_t = 0)]
    page_size: i32,
    /// Continue from the next_page_token a previous call printed.
    // A token may begin with `-` (it is base64url): take it as the value, not a flag.
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    page_token: String,
}

pub async fn run(command: ClaimsCommand, clients: &Clients, out: Output) -> Result<(), CliError> {
    match command {
        ClaimsCommand::List(args) => list(args, clients, out).await,
        ClaimsCommand::Show { id } => show(id, clients, out).await,
        ClaimsCommand::Token { id, party } => token(id, party, clients, out).await,
    }
}

async fn token(
    id: String,
    party: pb::Party,
    clients: &Clients,
    out: Output,
) -> Result<(), CliError> {
    let answer = clients
        .publisher()
        .issue_party_token(pb::IssuePartyTokenRequest {
            claim_id: id,
            party: party as i32,
        })
        .await?
        .into_inner();
    match out {
        Output::Json => print_json(&to_json(&answer)?),
        Output::Table => output::print_line(&answer.access_token),
    }
}

async fn list(args: ListArgs, clients: &Clients, out: Output) -> Result<(), CliError> {
    let mut client = clients.claims();
    let walk_all = args.all;
    let mut request = pb::ListClaimsRequest {
        page_size: args.page_size,
        page_token: args.page_token,
        state: args.state.map(|s| s as i32).unwrap_or_default(),
        article_id: args.article.unwrap_or_default(),
        assignee: args.assignee.unwrap_or_default(),
        overdue: args.overdue,
        order_by: if args.by_deadline {
            "next_deadline".to_string()
        } else {
            String::new()
        },
    };
    let progress = if walk_all {
        output::progress("listing claims")
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut claims = Vec::new();
    let mut next_page_token;
    let mut pages = 0u64;
    loop {
        let page = client.list_claims(request.clone()).await?.into_inner();
        pages += 1;
        claims.extend(page.claims);
        next_page_token = page.next_page_token;
        progress.set_message(format!("{} claims, {pages} pages", claims.len()));
        if !walk_all || next_page_token.is_empty() {
            break;
        }
        request.page_token = next_page_token.clone();
    }
    progress.finish_and_clear();
    let now = SystemTime::now();
    let response = pb::ListClaimsResponse {
        claims,
        next_page_token,
    };
    match out {
        Output::Json => print_json(&to_json(&response)?),
        Output::Table => {
            let mut table =
                Table::new(&["ID", "STATE", "ARTICLE", "AGE", "NEXT DEADLINE", "ASSIGNEE"]);
            for c in &response.claims {
                table.row(vec![
                    c.id.clone(),
                    output::state(c.state),
                    c.article_id.clone(),
                    output::age(c.create_time.as_ref(), now),
                    output::deadline(c.next_deadline.as_ref(), now),
                    or_dash(&c.assignee),
                ]);
            }
            table.print()?;
            if !response.next_page_token.is_empty() {
                eprintln!(
                    "more claims: add --page-token {} for the next page, or --all",
                    response.next_page_token
                );
            }
            Ok(())
        }
    }
}

async fn show(id: String, clients: &Clients, out: Output) -> Result<(), CliError> {
    let claim = clients
        .claims()
        .get_claim(pb::GetClaimRequest {
            claim_id: id.clone(),
        })
        .await?
        .into_inner()
        .claim
        .ok_or_else(|| CliError::Output(format!("the server answered without claim {id}")))?;
    let history = audit::entries_of_claim(clients, &id).await?;
    match out {
        Output::Json => {
            let entries = history.iter().map(to_json).collect::<Result<Vec<_>, _>>()?;
            print_json(&serde_json::json!({
                "claim": to_json(&claim)?,
                "auditEntries": entries,
            }))
        }
        Output::Table => {
            print_record(&claim_record(&claim))?;
            output::print_line("")?;
            output::print_line("History")?;
            audit::entry_table(&history).print()
        }
    }
}

/// The fields of a claim an operator looks at first.
pub fn claim_record(c: &pb::Claim) -> Vec<(&'static str, String)> {
    let now = SystemTime::now();
    let enum_name = |name: Option<&'static str>, prefix: &str| {
        name.map(|n| output::short(n, prefix))
            .unwrap_or_else(|| "-".into())
    };
    let claimant = c
        .claimant
        .as_ref()
        .map(|p| {
            let mut s = p.name.clone();
            if !p.organization.is_empty() {
                s.push_str(&format!(" ({})", p.organization));
            }
            if !p.email.is_empty() {
                s.push_str(&format!(" <{}>", p.email));
            }
            s
        })
        .unwrap_or_else(|| "-".into());
    let mut fields = vec![
        ("id", c.id.clone()),
        ("state", output::state(c.state)),
        ("article", c.article_id.clone()),
        (
            "regime",
            enum_name(
                pb::Regime::try_from(c.regime).ok().map(|r| r.as_str_name()),
                "REGIME_",
            ),
        ),
        ("claimant", claimant),
        ("rights owner", or_dash(&c.rights_owner)),
        (
            "remedy",
            enum_name(
                pb::Remedy::try_from(c.requested_remedy)
                    .ok()
                    .map(|r| r.as_str_name()),
                "REMEDY_",
            ),
        ),
        ("items", c.items.len().to_string()),
        ("filed by", or_dash(&c.filed_by)),
        ("assignee", or_dash(&c.assignee)),
        ("filed", output::time(c.create_time.as_ref())),
        ("updated", output::time(c.update_time.as_ref())),
        ("age", output::age(c.create_time.as_ref(), now)),
        (
            "next deadline",
            output::deadline(c.next_deadline.as_ref(), now),
        ),
    ];
    if let Some(d) = &c.decision {
        let outcome = enum_name(
            pb::DecisionOutcome::try_from(d.outcome)
                .ok()
                .map(|o| o.as_str_name()),
            "DECISION_OUTCOME_",
        );
        fields.push(("decision", format!("{outcome} by {}", or_dash(&d.reviewer))));
    }
    fields.push(("etag", c.etag.clone()));
    fields
}
