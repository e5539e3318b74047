//! An article as the CMS registers it (the claim verbs check their own payloads in
//! `domain::commands`).

use crate::pb::{self, ContentOrigin};

use super::super::FieldViolation;
use super::*;

/// An article as the CMS registers it.
pub fn article(a: Option<&pb::Article>) -> Violations {
    let mut v = Vec::new();
    let Some(a) = a else {
        v.push(FieldViolation::new("article", "the article is required"));
        return v;
    };
    if !is_article_id(&a.id) {
        v.push(FieldViolation::new(
            "article.id",
            "must be 1-128 letters, digits or . _ : / -",
        ));
    }
    url(&mut v, "article.url", &a.url);
    v.extend(timestamp("article.publish_time", a.publish_time.as_ref()));
    if let Some(c) = &a.contributor {
        let origin =
            ContentOrigin::try_from(a.content_origin).unwrap_or(ContentOrigin::Unspecified);
        if origin == ContentOrigin::Editorial {
            v.push(FieldViolation::new(
                "article.contributor",
                "editorial content has no contributor; set it for CONTENT_ORIGIN_CONTRIBUTED or CONTENT_ORIGIN_COMMENT, or leave it out",
            ));
        }
        if !is_article_id(&c.account_id) {
            v.push(FieldViolation::new(
                "article.contributor.account_id",
                "the CMS's account id is required: 1-128 letters, digits or . _ : / -",
            ));
        }
        line(
            &mut v,
            "article.contributor.display_name",
            &c.display_name,
            limits::NAME,
        );
        if !c.email.is_empty() {
            email(&mut v, "article.contributor.email", &c.email);
        }
    }
    line(&mut v, "article.title", &a.title, limits::TITLE);
    line(&mut v, "article.source", &a.source, limits::URL);
    if ContentOrigin::try_from(a.content_origin).unwrap_or(ContentOrigin::Unspecified)
        == ContentOrigin::Unspecified
    {
        v.push(FieldViolation::new(
            "article.content_origin",
            "choose CONTENT_ORIGIN_EDITORIAL, CONTENT_ORIGIN_CONTRIBUTED or CONTENT_ORIGIN_COMMENT",
        ));
    }
    v
}

/// Puts the article's URL in its normal form, so that one address is one article.
pub fn normalize_article(a: &mut pb::Article) {
    if let Some(n) = normalize_url(&a.url) {
        a.url = n;
    }
}
