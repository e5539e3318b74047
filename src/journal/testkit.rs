//! Shared setup for the journal's tests: sealed entries, whole journals on disk, and
//! the byte spans of their records for tests that damage them.

use std::path::Path;

use super::segment::HEADER_LEN;
use super::{GENESIS, Journal, JournalOptions, seal};
use crate::pb;
use crate::pb::stored_record::Kind;

/// An unsealed entry for `seq`, with a few idempotency-key records.
pub fn entry(seq: u64) -> pb::JournalEntry {
    let key = |n: u64| pb::StoredRecord {
        kind: Some(Kind::IdempotencyKey(pb::IdempotencyKey {
            principal_id: format!("principal-{}", seq % 3),
            request_id: format!("request-{seq}-{n}"),
            claim_id: format!("claim-{seq}"),
            ..Default::default()
        })),
    };
    pb::JournalEntry {
        audit: Some(pb::AuditEntry {
            actor: format!("principal-{}", seq % 3),
            action: "FileClaim".into(),
            claim_id: format!("claim-{seq}"),
            article_id: format!("article-{}", seq % 5),
            request_id: format!("request-{seq}"),
            detail: format!("filed claim {seq}"),
            ..Default::default()
        }),
        records: (0..1 + seq % 3).map(key).collect(),
    }
}

/// Entries 1..=n, sealed into one chain.
pub fn sealed_entries(n: u64) -> Vec<pb::JournalEntry> {
    let mut prev = GENESIS;
    (1..=n)
        .map(|seq| {
            let mut e = entry(seq);
            prev = seal(&mut e, seq, &prev);
            e
        })
        .collect()
}

/// Writes a journal of entries 1..=n into `dir` (syncing every few entries, as group
/// commit does) and returns the entries.
pub fn write_journal(dir: &Path, n: u64, segment_max_bytes: u64) -> Vec<pb::JournalEntry> {
    let (mut journal, head) =
        Journal::open(dir, JournalOptions { segment_max_bytes }).expect("open journal");
    assert_eq!(head.seq, 0, "write_journal wants an empty folder");
    let entries = sealed_entries(n);
    for (i, e) in entries.iter().enumerate() {
        journal.append(e).expect("append");
        if i % 3 == 2 {
            journal.sync().expect("sync");
        }
    }
    journal.sync().expect("sync");
    entries
}

/// The `(start, end)` byte spans of the records of an undamaged segment file.
pub fn frame_spans(path: &Path) -> Vec<(u64, u64)> {
    let bytes = std::fs::read(path).expect("read segment");
    let mut spans = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let len =
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        let end = at + HEADER_LEN as usize + len;
        spans.push((at as u64, end as u64));
        at = end;
    }
    spans
}
