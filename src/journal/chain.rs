//! The hash chain that makes the journal a tamper-evident audit log.
//!
//! `hash = SHA-256(prev_hash || prost encoding of the audit entry with hash empty)`, and
//! the audit entry carries `records_sha256`, a digest of the after-images the command
//! wrote, so the records are covered by the chain too. The first entry chains from
//! [`GENESIS`]. A head hash published elsewhere later proves nothing before it changed.
//!
//! The encoding is prost's: fields in tag order, defaults omitted. prost drops unknown
//! fields when decoding, so adding fields to `AuditEntry` needs a schema version step.

use prost::Message;
use sha2::{Digest, Sha256};

use super::Damage;
use crate::pb;

/// The `prev_hash` of the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// The last entry of the chain: the next entry is `seq + 1` with `prev_hash = hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    /// The last entry's seq; 0 for an empty journal.
    pub seq: u64,
    /// The last entry's hash; [`GENESIS`] for an empty journal.
    pub hash: [u8; 32],
}

/// SHA-256 over each record's prost encoding, each prefixed with its u64 LE length
/// (so that record boundaries are part of what is hashed).
pub fn records_digest(records: &[pb::StoredRecord]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    let mut buf = Vec::new();
    for record in records {
        buf.clear();
        record.encode_raw(&mut buf);
        hasher.update((buf.len() as u64).to_le_bytes());
        hasher.update(&buf);
    }
    hasher.finalize().into()
}

/// SHA-256(`prev` || prost encoding of `audit` with `hash` cleared).
pub fn entry_hash(prev: &[u8; 32], audit: &pb::AuditEntry) -> [u8; 32] {
    if audit.hash.is_empty() {
        hash_unsealed(prev, audit)
    } else {
        let mut unsealed = audit.clone();
        unsealed.hash.clear();
        hash_unsealed(prev, &unsealed)
    }
}

/// Makes `entry` the entry `seq` of the chain after `prev`: sets the audit entry's
/// `seq`, `prev_hash`, `records_sha256` and `hash` (creating a default audit entry if
/// there is none) and returns the new hash, the next entry's `prev`.
pub fn seal(entry: &mut pb::JournalEntry, seq: u64, prev: &[u8; 32]) -> [u8; 32] {
    let digest = records_digest(&entry.records);
    let audit = entry.audit.get_or_insert_with(Default::default);
    audit.seq = seq;
    audit.prev_hash = prev.to_vec();
    audit.records_sha256 = digest.to_vec();
    audit.hash.clear();
    let hash = hash_unsealed(prev, audit);
    audit.hash = hash.to_vec();
    hash
}

/// Checks that `entry` (whose seq was already checked) links to `prev` and that its
/// digests recompute; returns its hash. Borrows mutably only to avoid a clone: the
/// entry is left as it was.
pub(crate) fn check_link(
    prev: &[u8; 32],
    entry: &mut pb::JournalEntry,
) -> Result<[u8; 32], Damage> {
    let digest = records_digest(&entry.records);
    let Some(audit) = entry.audit.as_mut() else {
        return Err(Damage::MissingAudit);
    };
    if audit.prev_hash.as_slice() != prev.as_slice() {
        return Err(Damage::BrokenLink);
    }
    if audit.records_sha256.as_slice() != digest.as_slice() {
        return Err(Damage::RecordsAltered);
    }
    let stored = std::mem::take(&mut audit.hash);
    let computed = hash_unsealed(prev, audit);
    audit.hash = stored;
    if audit.hash.as_slice() != computed.as_slice() {
        return Err(Damage::HashMismatch);
    }
    Ok(computed)
}

fn hash_unsealed(prev: &[u8; 32], audit: &pb::AuditEntry) -> [u8; 32] {
    debug_assert!(audit.hash.is_empty());
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update(audit.encode_to_vec());
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::testkit::entry;

    #[test]
    fn seal_links_each_entry_to_the_previous_hash() {
        let mut first = entry(1);
        let h1 = seal(&mut first, 1, &GENESIS);
        let mut second = entry(2);
        let h2 = seal(&mut second, 2, &h1);

        let audit = second.audit.as_ref().expect("sealed");
        assert_eq!(audit.seq, 2);
        assert_eq!(audit.prev_hash, h1.to_vec());
        assert_eq!(audit.hash, h2.to_vec());
        assert_eq!(entry_hash(&h1, audit), h2);
        assert_eq!(check_link(&h1, &mut second), Ok(h2));
        assert_eq!(check_link(&GENESIS, &mut second), Err(Damage::BrokenLink));
    }

    #[test]
    fn seal_creates_a_missing_audit_entry() {
        let mut bare = pb::JournalEntry::default();
        let hash = seal(&mut bare, 1, &GENESIS);
        assert_eq!(bare.audit.map(|a| a.hash), Some(hash.to_vec()));
    }

    #[test]
    fn changing_any_field_changes_the_hash() {
        let mut sealed = entry(1);
        seal(&mut sealed, 1, &GENESIS);
        let mut altered = sealed.clone();
        if let Some(audit) = altered.audit.as_mut() {
            audit.detail.push('!');
        }
        assert_eq!(
            check_link(&GENESIS, &mut altered),
            Err(Damage::HashMismatch)
        );

        let mut altered = sealed.clone();
        altered.records.pop();
        assert_eq!(
            check_link(&GENESIS, &mut altered),
            Err(Damage::RecordsAltered)
        );
    }

    #[test]
    fn records_digest_covers_record_boundaries() {
        let one = entry(1).records;
        assert_ne!(records_digest(&one), records_digest(&one[..1]));
        assert_ne!(records_digest(&[]), records_digest(&one[..1]));
        assert_eq!(records_digest(&one), records_digest(&one.clone()));
    }
}
