//! `PublisherService`: the CMS registers articles, reads their status, records
//! corrections and files counter-notices.

use tonic::{Request, Response, Status};

use super::caller::Caller;
use super::{Context, auth, status};
use crate::domain::commands::{FileCounterNotice, RecordCorrection};
use crate::domain::{Command, FieldViolation, validation};
use crate::pb::{self, publisher_service_server::PublisherService};
use crate::writer::commands::{IssuePartyToken, UpsertArticle};

/// Most ids one BatchGetArticles may ask for.
pub const MAX_BATCH_GET: usize = 1_000;

pub struct PublisherApi {
    pub(super) cx: Context,
}

fn article_id(field: &str, id: &str) -> Result<(), Status> {
    if validation::is_article_id(id) {
        Ok(())
    } else {
        Err(status::invalid_field(
            field,
            format!("{id:?} is not an article id: 1-128 letters, digits or . _ : / -"),
        ))
    }
}

#[tonic::async_trait]
impl PublisherService for PublisherApi {
    type WatchEventsStream = super::events::EventStream;

    async fn watch_events(
        &self,
        request: Request<pb::WatchEventsRequest>,
    ) -> Result<Response<Self::WatchEventsStream>, Status> {
        let caller = Caller::of(&request)?;
        let stream = super::events::watch(
            self.cx.store.clone(),
            self.cx.notary.clone(),
            self.cx.writer.watch_durable(),
            self.cx.shutdown.clone(),
            &caller,
            request.into_inner(),
        )?;
        Ok(Response::new(stream))
    }

    async fn upsert_article(
        &self,
        request: Request<pb::UpsertArticleRequest>,
    ) -> Result<Response<pb::UpsertArticleResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        status::check(validation::article(req.article.as_ref()))?;
        let mut article = req.article.unwrap_or_default();
        validation::normalize_article(&mut article);
        let article = self
            .cx
            .writer
            .submit(UpsertArticle {
                article,
                actor: caller.principal_id,
            })
            .await?;
        Ok(Response::new(pb::UpsertArticleResponse {
            article: Some(article),
        }))
    }

    async fn get_article(
        &self,
        request: Request<pb::GetArticleRequest>,
    ) -> Result<Response<pb::GetArticleResponse>, Status> {
        let id = &request.get_ref().article_id;
        article_id("article_id", id)?;
        let article = self
            .cx
            .store
            .article(id)?
            .ok_or_else(|| status::not_found("article", id))?;
        Ok(Response::new(pb::GetArticleResponse {
            article: Some(article),
        }))
    }

    async fn batch_get_articles(
        &self,
        request: Request<pb::BatchGetArticlesRequest>,
    ) -> Result<Response<pb::BatchGetArticlesResponse>, Status> {
        let ids = &request.get_ref().article_ids;
        if ids.is_empty() || ids.len() > MAX_BATCH_GET {
            return Err(status::invalid_field(
                "article_ids",
                format!("send 1 to {MAX_BATCH_GET} ids (got {})", ids.len()),
            ));
        }
        let bad: Vec<FieldViolation> = ids
            .iter()
            .enumerate()
            .filter(|(_, id)| !validation::is_article_id(id))
            .map(|(i, _)| {
                FieldViolation::new(
                    format!("article_ids[{i}]"),
                    "must be 1-128 letters, digits or . _ : / -",
                )
            })
            .collect();
        status::check(bad)?;
        let mut articles = Vec::with_capacity(ids.len());
        for id in ids {
            let article = self
                .cx
                .store
                .article(id)?
                .ok_or_else(|| status::not_found("article", id))?;
            articles.push(article);
        }
        Ok(Response::new(pb::BatchGetArticlesResponse { articles }))
    }

    async fn record_correction(
        &self,
        request: Request<pb::RecordCorrectionRequest>,
    ) -> Result<Response<pb::RecordCorrectionResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let command = Command::RecordCorrection(RecordCorrection {
            article_revision: req.article_revision,
            summary: req.summary,
        });
        let (claim, article, receipt) = self
            .cx
            .transition(&caller, &req.claim_id, &req.etag, command)
            .await?;
        Ok(Response::new(pb::RecordCorrectionResponse {
            claim: Some(claim),
            receipt,
            article,
        }))
    }

    async fn file_counter_notice(
        &self,
        request: Request<pb::FileCounterNoticeRequest>,
    ) -> Result<Response<pb::FileCounterNoticeResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let command = Command::FileCounterNotice(FileCounterNotice {
            counter_notice: req.counter_notice,
        });
        let (claim, _, receipt) = self
            .cx
            .transition(&caller, &req.claim_id, &req.etag, command)
            .await?;
        Ok(Response::new(pb::FileCounterNoticeResponse {
            claim: Some(claim),
            receipt,
        }))
    }

    async fn issue_party_token(
        &self,
        request: Request<pb::IssuePartyTokenRequest>,
    ) -> Result<Response<pb::IssuePartyTokenResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let party = match pb::Party::try_from(req.party) {
            Ok(p @ (pb::Party::Notifier | pb::Party::Contributor)) => p,
            _ => {
                return Err(status::invalid_field(
                    "party",
                    "choose PARTY_NOTIFIER or PARTY_CONTRIBUTOR",
                ));
            }
        };
        if party == pb::Party::Notifier && !caller.has(pb::Role::Admin) {
            // The site is the notifier's opposing party: it must not be able to act
            // (amend, withdraw) in the notifier's name.
            return Err(Status::permission_denied(
                "a notifier's claim token is issued only by an admin (the publisher must not act in the notifier's name); the CMS issues PARTY_CONTRIBUTOR tokens",
            ));
        }
        let claim = self.cx.visible_claim(&caller, &req.claim_id)?;
        let claim_id = uuid::Uuid::parse_str(&claim.id)
            .map_err(|_| status::not_found("claim", &req.claim_id))?;
        let token = auth::new_token();
        self.cx
            .writer
            .submit(IssuePartyToken {
                claim_id,
                party,
                token_sha256: auth::token_sha256(&token),
                actor: caller.principal_id,
            })
            .await?;
        Ok(Response::new(pb::IssuePartyTokenResponse {
            access_token: token,
        }))
    }
}
