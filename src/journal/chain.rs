//! The hash chain that makes the journal a tamper-evident audit log.
//!
//! `hash = SHA-256(prev_hash || the audit entry's bytes without its hash field)`, and
//! the audit entry carries `records_sha256`, a digest of the after-images the command
//! wrote, so the records are covered by the chain too. The first entry chains from
//! [`GENESIS`]. A head hash published elsewhere later proves nothing before it changed.
//!
//! Checking hashes the bytes exactly as stored in the segment, never a re-encoding: a
//! decoder drops fields it does not know, so re-encoding an entry that a newer build
//! wrote would change its bytes and call an intact journal damaged. Sealing hashes
//! prost's encoding of the entry it is about to store, which is those same bytes:
//! prost writes fields in a fixed order, so the stored audit entry minus its `hash`
//! field is exactly the encoding of the audit entry with `hash` empty.

use prost::Message;
use prost::encoding::{DecodeContext, WireType, decode_key, decode_varint, skip_field};
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

/// Field numbers in `journal.proto` and `audit.proto` that the chain depends on.
const ENTRY_AUDIT: u32 = 1;
const ENTRY_RECORDS: u32 = 2;
const AUDIT_HASH: u32 = 13;

/// SHA-256 over each record's prost encoding, each prefixed with its u64 LE length
/// (so that record boundaries are part of what is hashed).
pub fn records_digest(records: &[pb::StoredRecord]) -> [u8; 32] {
    let encoded: Vec<Vec<u8>> = records.iter().map(Message::encode_to_vec).collect();
    digest_records(encoded.iter().map(Vec::as_slice))
}

fn digest_records<'a>(records: impl Iterator<Item = &'a [u8]>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for record in records {
        hasher.update((record.len() as u64).to_le_bytes());
        hasher.update(record);
    }
    hasher.finalize().into()
}

/// SHA-256(`prev` || prost encoding of `audit` with `hash` cleared).
pub fn entry_hash(prev: &[u8; 32], audit: &pb::AuditEntry) -> [u8; 32] {
    if audit.hash.is_empty() {
        hash_unsealed(prev, &audit.encode_to_vec())
    } else {
        let mut unsealed = audit.clone();
        unsealed.hash.clear();
        hash_unsealed(prev, &unsealed.encode_to_vec())
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
    let hash = hash_unsealed(prev, &audit.encode_to_vec());
    audit.hash = hash.to_vec();
    hash
}

/// Checks that `entry`, decoded from `stored` (its bytes in the segment, whose seq was
/// already checked), links to `prev` and that its digests recompute over the stored
/// bytes; returns its hash.
pub(crate) fn check_link(
    prev: &[u8; 32],
    entry: &pb::JournalEntry,
    stored: &[u8],
) -> Result<[u8; 32], Damage> {
    let Some(audit) = entry.audit.as_ref() else {
        return Err(Damage::MissingAudit);
    };
    if audit.prev_hash.as_slice() != prev.as_slice() {
        return Err(Damage::BrokenLink);
    }
    let parts = StoredParts::split(stored).map_err(|e| Damage::Undecodable(e.to_string()))?;
    if audit.records_sha256.as_slice() != digest_records(parts.records.iter().copied()) {
        return Err(Damage::RecordsAltered);
    }
    let computed = hash_unsealed(prev, &parts.unsealed_audit);
    if audit.hash.as_slice() != computed.as_slice() {
        return Err(Damage::HashMismatch);
    }
    Ok(computed)
}

/// What the chain covers of a stored `JournalEntry`, as stored.
struct StoredParts<'a> {
    /// The audit entry's bytes without its `hash` field.
    unsealed_audit: Vec<u8>,
    /// Each record's bytes.
    records: Vec<&'a [u8]>,
}

impl<'a> StoredParts<'a> {
    /// Walks the entry's fields on the wire. An audit entry written in several pieces
    /// is their concatenation, as protobuf merges them.
    fn split(stored: &'a [u8]) -> Result<StoredParts<'a>, prost::DecodeError> {
        let mut unsealed_audit = Vec::new();
        let mut records = Vec::new();
        let mut buf = stored;
        while !buf.is_empty() {
            let (tag, wire_type) = decode_key(&mut buf)?;
            if wire_type != WireType::LengthDelimited
                || (tag != ENTRY_AUDIT && tag != ENTRY_RECORDS)
            {
                skip_field(wire_type, tag, &mut buf, DecodeContext::default())?;
                continue;
            }
            // skip_field checks the length against what is left; the field is what
            // it skipped, less the length prefix.
            let before = buf;
            skip_field(wire_type, tag, &mut buf, DecodeContext::default())?;
            let mut field = &before[..before.len() - buf.len()];
            decode_varint(&mut field)?;
            if tag == ENTRY_AUDIT {
                without_field(field, AUDIT_HASH, &mut unsealed_audit)?;
            } else {
                records.push(field);
            }
        }
        Ok(StoredParts {
            unsealed_audit,
            records,
        })
    }
}

/// Appends the fields of the message `bytes` to `out`, leaving out field `drop`.
fn without_field(bytes: &[u8], drop: u32, out: &mut Vec<u8>) -> Result<(), prost::DecodeError> {
    let mut buf = bytes;
    while !buf.is_empty() {
        let start = buf;
        let (tag, wire_type) = decode_key(&mut buf)?;
        skip_field(wire_type, tag, &mut buf, DecodeContext::default())?;
        if tag != drop {
            out.extend_from_slice(&start[..start.len() - buf.len()]);
        }
    }
    Ok(())
}

fn hash_unsealed(prev: &[u8; 32], unsealed_audit: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update(unsealed_audit);
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use prost::encoding::{encode_key, encode_varint};

    use super::*;
    use crate::journal::testkit::entry;

    /// Checks `entry` against `prev` as the journal would after storing it.
    fn check(prev: &[u8; 32], entry: &pb::JournalEntry) -> Result<[u8; 32], Damage> {
        check_link(prev, entry, &entry.encode_to_vec())
    }

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
        assert_eq!(check(&h1, &second), Ok(h2));
        assert_eq!(check(&GENESIS, &second), Err(Damage::BrokenLink));
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
        assert_eq!(check(&GENESIS, &altered), Err(Damage::HashMismatch));

        let mut altered = sealed.clone();
        altered.records.pop();
        assert_eq!(check(&GENESIS, &altered), Err(Damage::RecordsAltered));
    }

    #[test]
    fn records_digest_covers_record_boundaries() {
        let one = entry(1).records;
        assert_ne!(records_digest(&one), records_digest(&one[..1]));
        assert_ne!(records_digest(&[]), records_digest(&one[..1]));
        assert_eq!(records_digest(&one), records_digest(&one.clone()));
    }

    /// `bytes` with an extra length-delimited field `tag` = `value` appended, as a
    /// newer build that knows more fields would write it.
    fn with_unknown_field(mut bytes: Vec<u8>, tag: u32, value: &[u8]) -> Vec<u8> {
        encode_key(tag, WireType::LengthDelimited, &mut bytes);
        encode_varint(value.len() as u64, &mut bytes);
        bytes.extend_from_slice(value);
        bytes
    }

    #[test]
    fn fields_this_build_does_not_know_are_hashed_as_stored() {
        // An entry as a newer build would store it: an unknown field in a record and
        // one in the audit entry, both covered by the chain.
        let template = entry(1);
        let record = with_unknown_field(template.records[0].encode_to_vec(), 40, b"newer");
        let mut audit = template.audit.clone().expect("audit");
        audit.seq = 1;
        audit.prev_hash = GENESIS.to_vec();
        audit.records_sha256 = digest_records([record.as_slice()].into_iter()).to_vec();
        let unsealed = with_unknown_field(audit.encode_to_vec(), 30, b"newer too");
        let hash = hash_unsealed(&GENESIS, &unsealed);
        let sealed_audit = with_unknown_field(unsealed, AUDIT_HASH, &hash);
        let stored = with_unknown_field(
            with_unknown_field(Vec::new(), ENTRY_AUDIT, &sealed_audit),
            ENTRY_RECORDS,
            &record,
        );

        let decoded = pb::JournalEntry::decode(stored.as_slice()).expect("decode");
        assert_eq!(check_link(&GENESIS, &decoded, &stored), Ok(hash));
        // What re-encoding would have done: the unknown fields are gone.
        let decoded_audit = decoded.audit.as_ref().expect("audit");
        assert_ne!(entry_hash(&GENESIS, decoded_audit), hash);
        assert_ne!(
            records_digest(&decoded.records).to_vec(),
            decoded_audit.records_sha256
        );
        // And the stored bytes are still protected.
        let mut altered = stored.clone();
        let at = altered.len() - 2;
        altered[at] ^= 1;
        assert_eq!(
            check_link(&GENESIS, &decoded, &altered),
            Err(Damage::RecordsAltered)
        );
    }

    #[test]
    fn a_journal_written_before_hashes_covered_the_stored_bytes_still_verifies() {
        // 34 entries written through the server by the build before this one (which
        // hashed re-encoded entries), kept in tests/data.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/journal-before-stored-bytes-hash");
        let report = crate::journal::verify(&dir, 34);
        assert!(report.ok, "{report:?}");
        assert_eq!(
            hex::encode(report.head_hash),
            "56c69bf4e81c91afab051ead67c9bcd33bb49166731404ea3b25012d66093960"
        );
    }
}
