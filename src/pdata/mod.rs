//! Personal data: never in clear on disk, erasable without breaking the chain. Every
//! field that names or reaches a person (the notifier's and counter-notifier's name,
//! e-mail, postal address, phone and signature, the texts they write, the
//! contributor's e-mail and display name) is sealed with its party's data key
//! ([`vault::Vault`]) before it is journaled; the chain hashes the sealed bytes, so it
//! verifies before and after an erasure, which deletes only the key. The store opens
//! what it reads; an erased field reads as [`ERASED`]. See `docs/architecture.md`,
//! "Personal data".

pub mod vault;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub use vault::{KEY_RECORD_LEN, Subject, SubjectKind, Vault, VaultError};

/// Opens the key store of `data_dir` (`pdata/` in it) with the master key of
/// `key_file`, or of `data.key` in the folder, made at first start.
pub fn open_vault(
    data_dir: &std::path::Path,
    key_file: Option<&std::path::Path>,
) -> Result<std::sync::Arc<Vault>, VaultError> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = data_dir.join("pdata");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(crate::data_dir::FOLDER_MODE)
        .create(&dir)
        .map_err(|source| VaultError::Io {
            what: "cannot create",
            path: dir.display().to_string(),
            source,
        })?;
    let master = vault::master_key(&dir, key_file)?;
    Ok(std::sync::Arc::new(Vault::open(&dir, master)?))
}

use crate::pb::{self, NotificationRecipient, stored_record::Kind};

/// What an erased field reads as.
pub const ERASED: &str = "[erased]";
/// The prefix of a sealed field.
const PREFIX: &str = "pd1.";

/// Whether `text` is a sealed field.
pub fn is_sealed(text: &str) -> bool {
    text.starts_with(PREFIX)
}

fn format_sealed(subject: &Subject, body: &[u8]) -> String {
    format!(
        "{PREFIX}{}.{}",
        URL_SAFE_NO_PAD.encode(subject),
        URL_SAFE_NO_PAD.encode(body)
    )
}

/// The subject and the nonce-and-ciphertext of a sealed field.
fn parse_sealed(text: &str) -> Option<(Subject, Vec<u8>)> {
    let rest = text.strip_prefix(PREFIX)?;
    let (subject, body) = rest.split_once('.')?;
    let subject: Subject = URL_SAFE_NO_PAD.decode(subject).ok()?.try_into().ok()?;
    Some((subject, URL_SAFE_NO_PAD.decode(body).ok()?))
}

/// The subject a sealed field was sealed for.
pub fn subject_of(text: &str) -> Option<Subject> {
    parse_sealed(text).map(|(s, _)| s)
}

/// The subjects of a claim's parties, from its fields in clear.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClaimSubjects {
    pub notifier: Option<Subject>,
    pub counter: Option<Subject>,
    pub contributor: Option<Subject>,
}

impl ClaimSubjects {
    /// Every subject named.
    pub fn all(&self) -> impl Iterator<Item = Subject> {
        [self.notifier, self.counter, self.contributor]
            .into_iter()
            .flatten()
    }
}

/// The subjects of `claim`, which must be in clear.
pub fn claim_subjects(vault: &Vault, claim: &pb::Claim) -> ClaimSubjects {
    let email = |e: &str| (!e.trim().is_empty()).then(|| vault.subject(SubjectKind::Email, e));
    ClaimSubjects {
        notifier: claim.claimant.as_ref().and_then(|c| email(&c.email)),
        counter: claim.counter_notice.as_ref().and_then(|c| email(&c.email)),
        contributor: claim
            .contributor
            .as_ref()
            .filter(|c| !c.account_id.is_empty())
            .map(|c| vault.subject(SubjectKind::Contributor, &c.account_id)),
    }
}

/// The subjects a sealed (or opened) claim names, read from its sealed fields: for
/// indexes and erasure, without any key.
pub fn sealed_claim_subjects(claim: &pb::Claim) -> Vec<Subject> {
    let mut out = Vec::new();
    let mut add = |t: &str| {
        if let Some(s) = subject_of(t)
            && !out.contains(&s)
        {
            out.push(s);
        }
    };
    if let Some(c) = &claim.claimant {
        add(&c.email);
    }
    if let Some(c) = &claim.counter_notice {
        add(&c.email);
    }
    if let Some(c) = &claim.contributor {
        add(&c.email);
        add(&c.display_name);
    }
    out
}

/// Applies `f` to each personal field of `claim` with the subject it belongs to.
fn claim_fields(
    claim: &mut pb::Claim,
    s: ClaimSubjects,
    f: &mut dyn FnMut(Option<Subject>, &mut String),
) {
    let notifier = s.notifier;
    if let Some(c) = claim.claimant.as_mut() {
        for field in [
            &mut c.name,
            &mut c.email,
            &mut c.postal_address,
            &mut c.phone,
        ] {
            f(notifier, field);
        }
    }
    f(notifier, &mut claim.signature);
    f(notifier, &mut claim.explanation);
    if let Some(r) = claim.information_request.as_mut() {
        f(notifier, &mut r.reply);
    }
    if let Some(w) = claim.withdrawal.as_mut() {
        f(notifier, &mut w.reason);
    }
    let filer = claim.filed_by.clone();
    for complaint in &mut claim.complaints {
        if complaint.filed_by == filer {
            f(notifier, &mut complaint.text);
        }
    }
    if let Some(cn) = claim.counter_notice.as_mut() {
        for field in [
            &mut cn.name,
            &mut cn.email,
            &mut cn.postal_address,
            &mut cn.phone,
            &mut cn.signature,
            &mut cn.statement,
            &mut cn.removed_material,
        ] {
            f(s.counter, field);
        }
    }
    if let Some(c) = claim.contributor.as_mut() {
        f(s.contributor, &mut c.email);
        f(s.contributor, &mut c.display_name);
    }
}

fn contributor_fields(
    c: &mut pb::Contributor,
    subject: Option<Subject>,
    f: &mut dyn FnMut(Option<Subject>, &mut String),
) {
    f(subject, &mut c.email);
    f(subject, &mut c.display_name);
}

/// Applies `f` to each personal field of a notification, with the subject it belongs
/// to given the subjects of its claim.
fn notification_fields(
    n: &mut pb::Notification,
    s: ClaimSubjects,
    f: &mut dyn FnMut(Option<Subject>, &mut String),
) {
    let recipient = match n.recipient() {
        NotificationRecipient::Notifier => s.notifier,
        NotificationRecipient::Contributor => s.contributor,
        _ => None,
    };
    if n.channel() == pb::NotificationChannel::Email {
        f(recipient, &mut n.address);
    }
    if let Some(facts) = n.facts.as_mut() {
        f(recipient, &mut facts.recipient_name);
        f(s.notifier, &mut facts.notifier_name);
        if let Some(cn) = facts.counter_notice.as_mut() {
            for field in [
                &mut cn.name,
                &mut cn.email,
                &mut cn.postal_address,
                &mut cn.phone,
                &mut cn.signature,
                &mut cn.statement,
                &mut cn.removed_material,
            ] {
                f(s.counter, field);
            }
        }
    }
}

/// Seals the personal fields of one record in clear. `claim_of` gives a
/// notification's claim in clear (from the same group or the store); `erased` tells an
/// erased subject, for which nothing is sealed again (its fields become [`ERASED`]).
pub fn seal_record(
    vault: &Vault,
    kind: &mut Kind,
    claim_of: &dyn Fn(&str) -> Option<pb::Claim>,
    erased: &dyn Fn(&Subject) -> bool,
) {
    let mut seal = |subject: Option<Subject>, field: &mut String| {
        if let Some(s) = subject {
            *field = vault.seal(&s, field, erased);
        }
    };
    match kind {
        Kind::Claim(c) => {
            let s = claim_subjects(vault, c);
            claim_fields(c, s, &mut seal);
        }
        Kind::Article(a) => {
            if let Some(c) = a.contributor.as_mut() {
                let s = (!c.account_id.is_empty())
                    .then(|| vault.subject(SubjectKind::Contributor, &c.account_id));
                contributor_fields(c, s, &mut seal);
            }
        }
        Kind::Notification(n) => {
            let s = claim_of(&n.claim_id)
                .map(|c| claim_subjects(vault, &c))
                .unwrap_or_default();
            notification_fields(n, s, &mut seal);
        }
        Kind::PartyRecord(r) => {
            if let Some(pb::party_key::Key::NotifierEmail(e)) =
                r.party.as_mut().and_then(|p| p.key.as_mut())
                && !is_sealed(e)
            {
                let s = vault.subject(SubjectKind::Email, e);
                *e = vault.seal(&s, e, erased);
            }
        }
        _ => {}
    }
}

/// Opens every sealed field of a record read from the store.
pub fn open_record(vault: &Vault, kind: &mut Kind) {
    let mut open = |_: Option<Subject>, field: &mut String| {
        if is_sealed(field) {
            *field = vault.unseal(field);
        }
    };
    match kind {
        Kind::Claim(c) => claim_fields(c, ClaimSubjects::default(), &mut open),
        Kind::Article(a) => {
            if let Some(c) = a.contributor.as_mut() {
                contributor_fields(c, None, &mut open);
            }
        }
        Kind::Notification(n) => notification_fields(n, ClaimSubjects::default(), &mut open),
        Kind::PartyRecord(r) => {
            if let Some(pb::party_key::Key::NotifierEmail(e)) =
                r.party.as_mut().and_then(|p| p.key.as_mut())
            {
                open(None, e);
            }
        }
        _ => {}
    }
}

fn opener(vault: &Vault) -> impl FnMut(Option<Subject>, &mut String) + '_ {
    move |_, field: &mut String| {
        if is_sealed(field) {
            *field = vault.unseal(field);
        }
    }
}

/// Opens a claim read from the store.
pub fn open_claim(vault: &Vault, claim: &mut pb::Claim) {
    claim_fields(claim, ClaimSubjects::default(), &mut opener(vault));
}

/// Opens an article read from the store.
pub fn open_article(vault: &Vault, article: &mut pb::Article) {
    if let Some(c) = article.contributor.as_mut() {
        contributor_fields(c, None, &mut opener(vault));
    }
}

/// Opens a notification read from the store.
pub fn open_notification(vault: &Vault, n: &mut pb::Notification) {
    notification_fields(n, ClaimSubjects::default(), &mut opener(vault));
}

/// Opens a party record read from the store.
pub fn open_party_record(vault: &Vault, r: &mut pb::PartyRecord) {
    if let Some(pb::party_key::Key::NotifierEmail(e)) =
        r.party.as_mut().and_then(|p| p.key.as_mut())
        && is_sealed(e)
    {
        *e = vault.unseal(e);
    }
}

/// `key` with a notifier e-mail in clear replaced by a reference to its subject (a
/// sealed string with no text), so that the store finds the record it keyed by the
/// subject.
pub fn party_key_ref(vault: &Vault, key: &pb::PartyKey) -> pb::PartyKey {
    match &key.key {
        Some(pb::party_key::Key::NotifierEmail(e)) if !is_sealed(e) => pb::PartyKey {
            key: Some(pb::party_key::Key::NotifierEmail(format_sealed(
                &vault.subject(SubjectKind::Email, e),
                &[],
            ))),
        },
        _ => key.clone(),
    }
}
