//! How an article follows its claims: it is unavailable while any claim holds it down,
//! and its status says whether it was corrected. Every change goes through these
//! functions so that `status`, `available` and `holding_claim_ids` always agree.

use std::time::SystemTime;

use crate::pb::{self, ArticleStatus};

/// Takes the article down on behalf of `claim_id`.
pub fn hold(article: &mut pb::Article, claim_id: &str, now: SystemTime) {
    if !article.holding_claim_ids.iter().any(|c| c == claim_id) {
        article.holding_claim_ids.push(claim_id.to_string());
    }
    refresh(article, now);
}

/// Lets go of the article on behalf of `claim_id`; it is available again once no
/// other claim holds it.
pub fn release(article: &mut pb::Article, claim_id: &str, now: SystemTime) {
    article.holding_claim_ids.retain(|c| c != claim_id);
    refresh(article, now);
}

/// Records a correction: the revision moves to `revision`.
pub fn correct(article: &mut pb::Article, revision: u64, now: SystemTime) {
    article.revision = revision;
    refresh(article, now);
}

/// Recomputes the derived fields from the holds and the revision.
pub fn refresh(article: &mut pb::Article, now: SystemTime) {
    article.available = article.holding_claim_ids.is_empty();
    let status = if !article.available {
        ArticleStatus::Deleted
    } else if article.revision > 1 {
        ArticleStatus::Corrected
    } else {
        ArticleStatus::Published
    };
    article.status = status as i32;
    article.update_time = Some(now.into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_holds_need_two_releases() {
        let now = SystemTime::now();
        let mut a = pb::Article {
            revision: 1,
            ..Default::default()
        };
        hold(&mut a, "c1", now);
        hold(&mut a, "c2", now);
        release(&mut a, "c1", now);
        assert!(!a.available);
        assert_eq!(a.status(), ArticleStatus::Deleted);
        release(&mut a, "c2", now);
        assert!(a.available);
        assert_eq!(a.status(), ArticleStatus::Published);
        correct(&mut a, 2, now);
        assert_eq!(a.status(), ArticleStatus::Corrected);
    }
}
