//! UpsertArticle: the CMS registers an article or updates its metadata. Each URL
//! belongs to one article; an unchanged article writes nothing.

use super::super::{Exec, Executed, WriteCommand, WriteError};
use crate::domain::AuditAction;
use crate::domain::article_status;
use crate::pb::{self, stored_record::Kind};

#[derive(Debug, Clone)]
pub struct UpsertArticle {
    /// The article as the CMS sends it (validated by the API).
    pub article: pb::Article,
    pub actor: String,
}

impl WriteCommand for UpsertArticle {
    type Reply = pb::Article;

    fn execute(&self, cx: &Exec<'_>) -> Result<Executed<pb::Article>, WriteError> {
        let article = &self.article;
        if let Some(other) = cx.view.article_by_url(&article.url)?
            && other.id != article.id
        {
            return Err(WriteError::UrlTaken {
                url: article.url.clone(),
                article_id: other.id,
            });
        }
        let existing = cx.view.article(&article.id)?;
        if let Some(old) = &existing
            && old.url != article.url
        {
            // A notice names an article by its url: while claims are open, the url
            // must keep leading to the same article.
            let claims = cx.view.open_claims_of_article(&old.id, 10, cx.now)?;
            if !claims.is_empty() {
                return Err(WriteError::OpenClaims {
                    article_id: old.id.clone(),
                    claims,
                });
            }
        }
        let mut next = existing.clone().unwrap_or_else(|| pb::Article {
            id: article.id.clone(),
            revision: 1,
            create_time: Some(cx.now.into()),
            ..Default::default()
        });
        next.url = article.url.clone();
        next.title = article.title.clone();
        next.source = article.source.clone();
        next.content_origin = article.content_origin;
        next.publish_time = article.publish_time;
        next.contributor = article.contributor.clone();
        if existing.as_ref() == Some(&next) {
            return Ok(Executed::unchanged(next));
        }
        article_status::refresh(&mut next, cx.now);
        let mut a = cx.audit(&self.actor, AuditAction::UpsertArticle);
        a.article_id = next.id.clone();
        a.detail = match existing {
            Some(_) => format!("article {} updated", next.id),
            None => format!("article {} registered at {}", next.id, next.url),
        };
        Ok(Executed::changed(
            a,
            vec![Kind::Article(next.clone())],
            next,
        ))
    }
}
