//! Every key in the sled tree, in one place. One tree with typed prefixes lets a whole
//! write group land in one atomic `apply_batch`.
//!
//! Records: `[tag][id]` -> prost bytes. Indexes: `[tag][components...]` -> empty.
//! Variable-length components are length-prefixed so that one value can never be a
//! prefix of another and a prefix scan matches exactly.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::pb::{self, party_key::Key};

pub const CLAIM: u8 = 0x01;
pub const ARTICLE: u8 = 0x02;
pub const PRINCIPAL: u8 = 0x03;
pub const TOKEN: u8 = 0x04;
pub const IDEMPOTENCY: u8 = 0x05;
pub const AUDIT: u8 = 0x06;
/// 0x07 is kept for claim tokens.
pub const PARTY: u8 = 0x08;
pub const CLAIM_BY_STATE: u8 = 0x10;
pub const CLAIM_BY_ARTICLE: u8 = 0x11;
pub const CLAIM_BY_CLAIMANT: u8 = 0x12;
pub const CLAIM_BY_ASSIGNEE: u8 = 0x13;
pub const CLAIM_BY_DEADLINE: u8 = 0x14;
pub const ARTICLE_BY_URL: u8 = 0x15;
pub const AUDIT_BY_CLAIM: u8 = 0x16;
pub const AUDIT_BY_ARTICLE: u8 = 0x17;
pub const CLAIM_TIMER: u8 = 0x18;
pub const CLAIM_QUEUE: u8 = 0x19;
/// A claim token by the token's hash -> (claim id, party), for the auth layer.
pub const CLAIM_TOKEN_BY_HASH: u8 = 0x1A;
/// Claim tokens: `[tag][claim id][party]` -> `ClaimToken`.
pub const CLAIM_TOKEN: u8 = 0x07;
/// Notifications: `[tag][notification id]` -> `Notification`.
pub const NOTIFICATION: u8 = 0x20;
/// Notifications of one claim: `[tag][claim id][notification id]`.
pub const NOTIFICATION_BY_CLAIM: u8 = 0x21;
/// Notifications by status: `[tag][status][notification id]`.
pub const NOTIFICATION_BY_STATUS: u8 = 0x22;
/// PENDING notifications by when they are next tried: `[tag][secs][notification id]`,
/// for the delivery worker.
pub const NOTIFICATION_DUE: u8 = 0x23;
/// Statement-of-reasons submissions: `[tag][claim id][seq]` -> `StatementSubmission`.
pub const SUBMISSION: u8 = 0x24;
/// PENDING submissions by next attempt: `[tag][secs][claim id][seq]`.
pub const SUBMISSION_DUE: u8 = 0x25;
/// Claims by the subjects of their parties: `[tag][subject][claim id]`.
pub const CLAIM_BY_SUBJECT: u8 = 0x26;
/// Closed claims by when they closed: `[tag][secs][claim id]`, for retention.
pub const CLAIM_CLOSED: u8 = 0x28;
/// Erased subjects: `[tag][subject]` -> `ErasedSubject`.
pub const ERASED_SUBJECT: u8 = 0x27;
/// The Merkle tree over the audit log (`store::tree`): `[tag][level][index u64 BE]` ->
/// the 32-byte hash of the perfect subtree over leaves `[index << level, (index + 1)
/// << level)`.
pub const TREE_NODE: u8 = 0x30;
pub const META: u8 = 0xF0;

/// Every index whose keys a claim record implies (see `indexes::claim_keys`); checks
/// that indexes agree with records scan exactly these.
pub const CLAIM_INDEXES: [u8; 9] = [
    CLAIM_CLOSED,
    CLAIM_BY_SUBJECT,
    CLAIM_BY_STATE,
    CLAIM_BY_ARTICLE,
    CLAIM_BY_CLAIMANT,
    CLAIM_BY_ASSIGNEE,
    CLAIM_BY_DEADLINE,
    CLAIM_TIMER,
    CLAIM_QUEUE,
];

/// The seq of the last journal entry applied to sled.
pub const APPLIED_SEQ: &[u8] = &[META, b'a'];
/// The layout version of this keyspace.
pub const SCHEMA_VERSION: &[u8] = &[META, b's'];
/// 2: `CLAIM_BY_STATE` keys carry the queue priority, `CLAIM_QUEUE` added. 4: the
/// Merkle tree's nodes (`TREE_NODE`); notifier e-mails' party records keyed by their
/// subject (`pdata`), `CLAIM_BY_SUBJECT`, `ERASED_SUBJECT` and `CLAIM_CLOSED` added
/// (3 was either of these alone, on a development branch). A store written at an
/// older version is rebuilt from the journal at start.
pub const CURRENT_SCHEMA_VERSION: u64 = 4;

fn with(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len = 1 + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut k = Vec::with_capacity(len);
    k.push(tag);
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

/// A length-prefixed string component (ids and URLs are at most a few KiB).
fn var(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut v = Vec::with_capacity(2 + b.len());
    v.extend_from_slice(&(b.len().min(u16::MAX as usize) as u16).to_be_bytes());
    v.extend_from_slice(&b[..b.len().min(u16::MAX as usize)]);
    v
}

pub fn claim(id: &Uuid) -> Vec<u8> {
    with(CLAIM, &[id.as_bytes()])
}

pub fn article(id: &str) -> Vec<u8> {
    with(ARTICLE, &[id.as_bytes()])
}

pub fn principal(id: &Uuid) -> Vec<u8> {
    with(PRINCIPAL, &[id.as_bytes()])
}

/// The one token of `party` on `claim`.
pub fn claim_token(claim: &Uuid, party: i32) -> Vec<u8> {
    with(
        CLAIM_TOKEN,
        &[claim.as_bytes(), &[party.clamp(0, 255) as u8]],
    )
}

pub fn claim_token_by_hash(sha256: &[u8]) -> Vec<u8> {
    with(CLAIM_TOKEN_BY_HASH, &[sha256])
}

pub fn token(sha256: &[u8]) -> Vec<u8> {
    with(TOKEN, &[sha256])
}

pub fn idempotency(principal: &Uuid, request_id: &str) -> Vec<u8> {
    with(IDEMPOTENCY, &[principal.as_bytes(), request_id.as_bytes()])
}

pub fn audit(seq: u64) -> Vec<u8> {
    with(AUDIT, &[&seq.to_be_bytes()])
}

/// A node of the Merkle tree: the perfect subtree `index` at `level` (leaves are level 0).
pub fn tree_node(level: u8, index: u64) -> Vec<u8> {
    with(TREE_NODE, &[&[level], &index.to_be_bytes()])
}

/// A party record: `[PARTY][kind][id]`, where kind is the `PartyKey` field number
/// and id the principal's UUID bytes, the notifier e-mail's subject (the blind index of
/// `pdata`, read from a sealed e-mail or a subject reference; an e-mail in clear, which
/// only a store without a key store sees, falls back to its SHA-256), or the
/// contributor's account id. `None` for a key with no kind set or a principal id that
/// is not a UUID. Pass a normalised key (`domain::party_record::normalise`).
pub fn party(key: &pb::PartyKey) -> Option<Vec<u8>> {
    Some(match key.key.as_ref()? {
        Key::PrincipalId(id) => with(PARTY, &[&[1], Uuid::parse_str(id).ok()?.as_bytes()]),
        Key::NotifierEmail(email) => match crate::pdata::subject_of(email) {
            Some(subject) => with(PARTY, &[&[2], &subject]),
            None => with(PARTY, &[&[2], &Sha256::digest(email.as_bytes())]),
        },
        Key::ContributorAccountId(id) => with(PARTY, &[&[3], id.as_bytes()]),
    })
}

/// Where a claim stands in the review queue: trusted flaggers' claims (DSA Art. 22)
/// first, then everyone else's, each in filing order (claim ids are UUID v7).
pub fn queue_priority(trusted_flagger: bool) -> u8 {
    if trusted_flagger { 0 } else { 1 }
}

/// Claims by state, in queue order within each state.
pub fn claim_by_state(state: i32, trusted_flagger: bool, claim: &Uuid) -> Vec<u8> {
    with(
        CLAIM_BY_STATE,
        &[
            &[state as u8, queue_priority(trusted_flagger)],
            claim.as_bytes(),
        ],
    )
}

pub fn claim_by_state_prefix(state: i32) -> Vec<u8> {
    with(CLAIM_BY_STATE, &[&[state as u8]])
}

/// Every claim in queue order: what reviewers read when they list without filters.
pub fn claim_queue(trusted_flagger: bool, claim: &Uuid) -> Vec<u8> {
    with(
        CLAIM_QUEUE,
        &[&[queue_priority(trusted_flagger)], claim.as_bytes()],
    )
}

pub fn claim_queue_prefix() -> Vec<u8> {
    vec![CLAIM_QUEUE]
}

pub fn claim_by_article(article: &str, claim: &Uuid) -> Vec<u8> {
    with(CLAIM_BY_ARTICLE, &[&var(article), claim.as_bytes()])
}

pub fn claim_by_article_prefix(article: &str) -> Vec<u8> {
    with(CLAIM_BY_ARTICLE, &[&var(article)])
}

pub fn claim_by_claimant(principal: &Uuid, claim: &Uuid) -> Vec<u8> {
    with(CLAIM_BY_CLAIMANT, &[principal.as_bytes(), claim.as_bytes()])
}

pub fn claim_by_claimant_prefix(principal: &Uuid) -> Vec<u8> {
    with(CLAIM_BY_CLAIMANT, &[principal.as_bytes()])
}

pub fn claim_by_assignee(principal: &Uuid, claim: &Uuid) -> Vec<u8> {
    with(CLAIM_BY_ASSIGNEE, &[principal.as_bytes(), claim.as_bytes()])
}

pub fn claim_by_assignee_prefix(principal: &Uuid) -> Vec<u8> {
    with(CLAIM_BY_ASSIGNEE, &[principal.as_bytes()])
}

/// Deadlines sort by due time (seconds since the epoch, clamped at 0).
pub fn claim_by_deadline(due_secs: i64, claim: &Uuid) -> Vec<u8> {
    with(
        CLAIM_BY_DEADLINE,
        &[&(due_secs.max(0) as u64).to_be_bytes(), claim.as_bytes()],
    )
}

/// The first deadline key due at or after `secs`: an exclusive upper bound for "due
/// before `secs`".
pub fn claim_by_deadline_until(secs: i64) -> Vec<u8> {
    with(CLAIM_BY_DEADLINE, &[&(secs.max(0) as u64).to_be_bytes()])
}

/// Deadlines that move a claim by themselves (reply, correction, restoration), for
/// the sweeper; review targets are only in `CLAIM_BY_DEADLINE`.
pub fn claim_timer(due_secs: i64, claim: &Uuid) -> Vec<u8> {
    with(
        CLAIM_TIMER,
        &[&(due_secs.max(0) as u64).to_be_bytes(), claim.as_bytes()],
    )
}

/// The due time (seconds since the epoch) of a `CLAIM_TIMER` key.
pub fn timer_due_secs(key: &[u8]) -> Option<i64> {
    let secs: [u8; 8] = key.get(1..9)?.try_into().ok()?;
    i64::try_from(u64::from_be_bytes(secs)).ok()
}

pub fn claim_timer_until(secs: i64) -> Vec<u8> {
    with(CLAIM_TIMER, &[&(secs.max(0) as u64).to_be_bytes()])
}

pub fn article_by_url(url: &str, article: &str) -> Vec<u8> {
    with(ARTICLE_BY_URL, &[&var(url), article.as_bytes()])
}

pub fn article_by_url_prefix(url: &str) -> Vec<u8> {
    with(ARTICLE_BY_URL, &[&var(url)])
}

pub fn audit_by_claim(claim: &Uuid, seq: u64) -> Vec<u8> {
    with(AUDIT_BY_CLAIM, &[claim.as_bytes(), &seq.to_be_bytes()])
}

pub fn audit_by_claim_prefix(claim: &Uuid) -> Vec<u8> {
    with(AUDIT_BY_CLAIM, &[claim.as_bytes()])
}

pub fn audit_by_article(article: &str, seq: u64) -> Vec<u8> {
    with(AUDIT_BY_ARTICLE, &[&var(article), &seq.to_be_bytes()])
}

pub fn audit_by_article_prefix(article: &str) -> Vec<u8> {
    with(AUDIT_BY_ARTICLE, &[&var(article)])
}

pub fn notification(id: &Uuid) -> Vec<u8> {
    with(NOTIFICATION, &[id.as_bytes()])
}

pub fn notification_by_claim(claim: &Uuid, id: &Uuid) -> Vec<u8> {
    with(NOTIFICATION_BY_CLAIM, &[claim.as_bytes(), id.as_bytes()])
}

pub fn notification_by_claim_prefix(claim: &Uuid) -> Vec<u8> {
    with(NOTIFICATION_BY_CLAIM, &[claim.as_bytes()])
}

pub fn notification_by_status(status: i32, id: &Uuid) -> Vec<u8> {
    with(
        NOTIFICATION_BY_STATUS,
        &[&[status.clamp(0, 255) as u8], id.as_bytes()],
    )
}

pub fn notification_by_status_prefix(status: i32) -> Vec<u8> {
    with(NOTIFICATION_BY_STATUS, &[&[status.clamp(0, 255) as u8]])
}

/// A PENDING notification's next attempt (seconds since the epoch, clamped at 0).
pub fn notification_due(due_secs: i64, id: &Uuid) -> Vec<u8> {
    with(
        NOTIFICATION_DUE,
        &[&(due_secs.max(0) as u64).to_be_bytes(), id.as_bytes()],
    )
}

/// The first due key at or after `secs`: an exclusive bound for "due before `secs`".
pub fn notification_due_until(secs: i64) -> Vec<u8> {
    with(NOTIFICATION_DUE, &[&(secs.max(0) as u64).to_be_bytes()])
}

/// The submission of the statement of the decision journaled at `seq` on `claim`.
pub fn submission(claim: &Uuid, seq: u64) -> Vec<u8> {
    with(SUBMISSION, &[claim.as_bytes(), &seq.to_be_bytes()])
}

/// A PENDING submission's next attempt (seconds since the epoch, clamped at 0).
pub fn submission_due(due_secs: i64, claim: &Uuid, seq: u64) -> Vec<u8> {
    with(
        SUBMISSION_DUE,
        &[
            &(due_secs.max(0) as u64).to_be_bytes(),
            claim.as_bytes(),
            &seq.to_be_bytes(),
        ],
    )
}

/// The first due key at or after `secs`.
pub fn submission_due_until(secs: i64) -> Vec<u8> {
    with(SUBMISSION_DUE, &[&(secs.max(0) as u64).to_be_bytes()])
}

/// The `SUBMISSION` key a `SUBMISSION_DUE` key points at.
pub fn submission_of_due(key: &[u8]) -> Option<Vec<u8>> {
    let tail = key.get(9..)?;
    (tail.len() == 24).then(|| with(SUBMISSION, &[tail]))
}

pub fn claim_closed(closed_secs: i64, claim: &Uuid) -> Vec<u8> {
    with(
        CLAIM_CLOSED,
        &[&(closed_secs.max(0) as u64).to_be_bytes(), claim.as_bytes()],
    )
}

/// The first closed-claim key at or after `secs`.
pub fn claim_closed_until(secs: i64) -> Vec<u8> {
    with(CLAIM_CLOSED, &[&(secs.max(0) as u64).to_be_bytes()])
}

pub fn claim_by_subject(subject: &[u8], claim: &Uuid) -> Vec<u8> {
    with(CLAIM_BY_SUBJECT, &[subject, claim.as_bytes()])
}

pub fn erased_subject(subject: &[u8]) -> Vec<u8> {
    with(ERASED_SUBJECT, &[subject])
}

/// The last 16 bytes of an index key: the claim id.
pub fn trailing_uuid(key: &[u8]) -> Option<Uuid> {
    let tail = key.len().checked_sub(16).map(|at| &key[at..])?;
    Uuid::from_slice(tail).ok()
}

/// The last 8 bytes of an index key: a seq.
pub fn trailing_seq(key: &[u8]) -> Option<u64> {
    let tail: [u8; 8] = key.get(key.len().checked_sub(8)?..)?.try_into().ok()?;
    Some(u64::from_be_bytes(tail))
}

/// The suffix of an `ARTICLE_BY_URL` key after its prefix: the article id.
pub fn suffix_str(key: &[u8], prefix_len: usize) -> Option<String> {
    key.get(prefix_len..)
        .and_then(|s| std::str::from_utf8(s).ok())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn article_prefix_does_not_match_a_longer_id() {
        let c = Uuid::now_v7();
        assert!(!claim_by_article("a-10", &c).starts_with(&claim_by_article_prefix("a-1")));
        assert!(claim_by_article("a-1", &c).starts_with(&claim_by_article_prefix("a-1")));
    }

    #[test]
    fn a_notifier_email_is_hashed_in_its_key() {
        let key = pb::PartyKey {
            key: Some(Key::NotifierEmail("jo@example.org".to_string())),
        };
        let k = party(&key).unwrap();
        assert_eq!(k.len(), 2 + 32);
        assert!(!k.windows(7).any(|w| w == b"example"));
    }

    #[test]
    fn trailing_parts_round_trip() {
        let c = Uuid::now_v7();
        assert_eq!(trailing_uuid(&claim_by_state(3, true, &c)), Some(c));
        assert_eq!(trailing_uuid(&claim_queue(false, &c)), Some(c));
        assert_eq!(trailing_seq(&audit_by_article("x", 42)), Some(42));
    }
}
