//! `articles upsert|get|status`: register an article as the CMS would, and see what
//! the claims have done to articles (status, revision, availability, holding claims).

use clap::Subcommand;

use super::CliError;
use super::connect::Clients;
use super::output::{self, Output, Table, arg, or_dash, print_message, print_record};
use crate::pb;

#[derive(Subcommand, Debug)]
pub enum ArticlesCommand {
    /// Register an article or update its metadata.
    Upsert {
        /// The CMS's id of the article.
        id: String,
        /// Its public http(s) URL.
        #[arg(long)]
        url: String,
        /// The headline.
        #[arg(long, default_value = "")]
        title: String,
        /// Where the text came from (the original outlet, for republished stories).
        #[arg(long, default_value = "")]
        source: String,
        /// Who wrote it: editorial, contributed or comment.
        #[arg(long, value_parser = arg::content_origin, default_value = "editorial")]
        origin: pb::ContentOrigin,
        /// When it was first published (RFC 3339, such as 2024-01-15T08:00:00Z).
        #[arg(long, value_parser = arg::timestamp)]
        publish_time: Option<prost_types::Timestamp>,
    },
    /// One article in full.
    Get {
        /// The article's id.
        id: String,
    },
    /// Status, revision, availability and holding claims of one or more articles.
    Status {
        /// Article ids (up to 1,000).
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

pub async fn run(command: ArticlesCommand, clients: &Clients, out: Output) -> Result<(), CliError> {
    let mut client = clients.publisher();
    match command {
        ArticlesCommand::Upsert {
            id,
            url,
            title,
            source,
            origin,
            publish_time,
        } => {
            let r = client
                .upsert_article(pb::UpsertArticleRequest {
                    article: Some(pb::Article {
                        id,
                        url,
                        title,
                        source,
                        content_origin: origin as i32,
                        publish_time,
                        ..Default::default()
                    }),
                })
                .await?
                .into_inner();
            print_article(&r, r.article.as_ref(), out)
        }
        ArticlesCommand::Get { id } => {
            let r = client
                .get_article(pb::GetArticleRequest { article_id: id })
                .await?
                .into_inner();
            print_article(&r, r.article.as_ref(), out)
        }
        ArticlesCommand::Status { ids } => {
            let r = client
                .batch_get_articles(pb::BatchGetArticlesRequest { article_ids: ids })
                .await?
                .into_inner();
            match out {
                Output::Json => print_message(&r),
                Output::Table => {
                    let mut table =
                        Table::new(&["ID", "STATUS", "REVISION", "AVAILABLE", "HELD BY"]);
                    for a in &r.articles {
                        table.row(vec![
                            a.id.clone(),
                            status(a.status),
                            a.revision.to_string(),
                            if a.available { "yes" } else { "no" }.to_string(),
                            or_dash(&a.holding_claim_ids.join(",")),
                        ]);
                    }
                    table.print()
                }
            }
        }
    }
}

fn status(value: i32) -> String {
    pb::ArticleStatus::try_from(value)
        .map(|s| output::short(s.as_str_name(), "ARTICLE_STATUS_"))
        .unwrap_or_else(|_| value.to_string())
}

fn print_article<M: output::Named>(
    response: &M,
    article: Option<&pb::Article>,
    out: Output,
) -> Result<(), CliError> {
    if out == Output::Json {
        return print_message(response);
    }
    let a = article
        .ok_or_else(|| CliError::Output("the server answered without the article".into()))?;
    let origin = pb::ContentOrigin::try_from(a.content_origin)
        .map(|o| output::short(o.as_str_name(), "CONTENT_ORIGIN_"))
        .unwrap_or_else(|_| "-".into());
    print_record(&[
        ("id", a.id.clone()),
        ("url", a.url.clone()),
        ("title", or_dash(&a.title)),
        ("source", or_dash(&a.source)),
        ("origin", origin),
        ("published", output::time(a.publish_time.as_ref())),
        ("status", status(a.status)),
        ("revision", a.revision.to_string()),
        (
            "available",
            if a.available { "yes" } else { "no" }.to_string(),
        ),
        ("held by", or_dash(&a.holding_claim_ids.join(","))),
        ("registered", output::time(a.create_time.as_ref())),
        ("updated", output::time(a.update_time.as_ref())),
    ])
}
