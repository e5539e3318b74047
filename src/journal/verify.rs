//! Verifies the audit chain, for `VerifyAuditLog` (from the first entry to a given
//! seq) and for the server's periodic check (the newest segment only).
//!
//! It recomputes what recovery checks (framing, checksums, seq continuity, records
//! digests, hashes and links) but never changes a file and never fails: damage of any
//! kind, including a torn tail that recovery would cut, is reported as the first bad
//! seq with a readable problem. It can run while the writer appends, as long as
//! `up_to_seq` has been synced.

use std::path::Path;

use super::chain::{GENESIS, check_link};
use super::scan::{Cursor, Step};
use super::segment::list_segments;

/// What [`verify()`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Whether every entry checked, up to `up_to_seq`, is present and chains correctly.
    pub ok: bool,
    /// How many entries were checked and found good.
    pub entries_checked: u64,
    /// The last good entry's seq (0 if none).
    pub head_seq: u64,
    /// The last good entry's hash ([`GENESIS`] if none).
    pub head_hash: [u8; 32],
    /// The seq expected where the first problem is; 0 if `ok`.
    pub first_bad_seq: u64,
    /// The first problem and where it is; empty if `ok`.
    pub problem: String,
}

/// Recomputes the chain of entries `1..=up_to_seq` in `dir`. See the module docs.
///
/// Segments are checked on every core at once: each from its own first entry, taking
/// that entry's `prev_hash` as given, and the links between segments are checked when
/// the pieces are joined, in order, so the answer is the one a single pass would give.
pub fn verify(dir: &Path, up_to_seq: u64) -> VerifyReport {
    let segments = match list_segments(dir) {
        Ok(segments) => segments,
        Err(e) => return VerifyReport::failed(0, GENESIS, e.to_string()),
    };
    // The seq ranges of the segments that hold entries up to `up_to_seq`.
    let starts: Vec<u64> = segments
        .iter()
        .map(|s| s.first_seq)
        .filter(|&first| first <= up_to_seq)
        .collect();
    if starts.len() <= 1 || starts.first() != Some(&1) {
        return verify_from(dir, 1, Some(GENESIS), up_to_seq);
    }
    let ranges: Vec<(u64, u64)> = starts
        .iter()
        .enumerate()
        .map(|(i, &first)| {
            let last = starts.get(i + 1).map_or(up_to_seq, |next| next - 1);
            (first, last)
        })
        .collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = ranges.len().div_ceil(threads);
    let pieces: Vec<Piece> = std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|&(first, last)| piece(dir, first, last))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    join(pieces, ranges.len())
}

/// One segment's range, checked from its first entry.
struct Piece {
    report: VerifyReport,
    /// The `prev_hash` its first entry names, to be checked against the piece before.
    first_prev: Option<[u8; 32]>,
}

fn piece(dir: &Path, first: u64, last: u64) -> Piece {
    let first_prev = super::reader::read_entries(dir, first - 1, first)
        .next()
        .and_then(|e| e.ok())
        .and_then(|e| e.audit)
        .and_then(|a| <[u8; 32]>::try_from(a.prev_hash.as_slice()).ok());
    let prev = if first == 1 { Some(GENESIS) } else { None };
    Piece {
        report: verify_from(dir, first, prev, last),
        first_prev,
    }
}

/// The pieces' reports as one, in seq order: the first problem wins, and each piece
/// must start where the one before ended.
fn join(pieces: Vec<Piece>, expected: usize) -> VerifyReport {
    let mut total = VerifyReport {
        ok: true,
        entries_checked: 0,
        head_seq: 0,
        head_hash: GENESIS,
        first_bad_seq: 0,
        problem: String::new(),
    };
    if pieces.len() != expected {
        return VerifyReport::failed(0, GENESIS, "a verification thread failed".to_string());
    }
    for (i, p) in pieces.into_iter().enumerate() {
        if i > 0 && p.first_prev != Some(total.head_hash) {
            return VerifyReport {
                ok: false,
                first_bad_seq: total.head_seq + 1,
                problem: format!(
                    "entry seq {} does not link to entry seq {}: its prev_hash is not that entry's hash",
                    total.head_seq + 1,
                    total.head_seq
                ),
                ..total
            };
        }
        total.entries_checked += p.report.entries_checked;
        total.head_seq = p.report.head_seq;
        total.head_hash = p.report.head_hash;
        if !p.report.ok {
            return VerifyReport {
                ok: false,
                first_bad_seq: p.report.first_bad_seq,
                problem: p.report.problem,
                ..total
            };
        }
    }
    total
}

/// Recomputes the chain of the newest segment that holds entries up to `up_to_seq`,
/// from its first entry to `up_to_seq`. Its first entry's `prev_hash` is taken as
/// given: the segments before it were checked when the server started and are no
/// longer written. Cheap enough to run every few minutes while the server runs.
pub fn verify_newest_segment(dir: &Path, up_to_seq: u64) -> VerifyReport {
    let first_seq = match list_segments(dir) {
        Ok(segments) => segments
            .iter()
            .rev()
            .map(|s| s.first_seq)
            .find(|&first| first <= up_to_seq)
            .unwrap_or(1),
        Err(e) => return VerifyReport::failed(0, GENESIS, e.to_string()),
    };
    verify_from(dir, first_seq, None, up_to_seq)
}

impl VerifyReport {
    fn failed(head_seq: u64, head_hash: [u8; 32], problem: String) -> VerifyReport {
        VerifyReport {
            ok: false,
            entries_checked: 0,
            head_seq,
            head_hash,
            first_bad_seq: head_seq + 1,
            problem,
        }
    }
}

/// Checks entries `from_seq..=up_to_seq`; the first links to `prev`, or, if `prev` is
/// `None`, to whatever its own `prev_hash` says.
fn verify_from(dir: &Path, from_seq: u64, prev: Option<[u8; 32]>, up_to_seq: u64) -> VerifyReport {
    let mut report = VerifyReport {
        ok: false,
        entries_checked: 0,
        head_seq: from_seq.saturating_sub(1),
        head_hash: prev.unwrap_or(GENESIS),
        first_bad_seq: 0,
        problem: String::new(),
    };
    if up_to_seq < from_seq {
        report.ok = true;
        return report;
    }
    let fail = |mut report: VerifyReport, problem: String| {
        report.first_bad_seq = report.head_seq + 1;
        report.problem = problem;
        report
    };
    let mut cursor = match Cursor::new(dir, from_seq) {
        Ok(cursor) => cursor.audit_only(),
        Err(e) => return fail(report, e.to_string()),
    };
    let mut take_prev_from_entry = prev.is_none();
    loop {
        match cursor.next_step() {
            Err(e) => return fail(report, e.to_string()),
            Ok(Step::Entry(located)) => {
                let seq = located.seq();
                if seq < from_seq {
                    continue;
                }
                if std::mem::take(&mut take_prev_from_entry)
                    && let Some(prev) = located
                        .entry
                        .audit
                        .as_ref()
                        .and_then(|a| <[u8; 32]>::try_from(a.prev_hash.as_slice()).ok())
                {
                    report.head_hash = prev;
                }
                match check_link(&report.head_hash, &located.entry, &located.payload) {
                    Ok(hash) => {
                        report.entries_checked += 1;
                        report.head_seq = seq;
                        report.head_hash = hash;
                    }
                    Err(damage) => {
                        let segment = located.segment.name();
                        let problem = format!(
                            "entry seq {seq} in segment {segment} at byte offset {}: {damage}",
                            located.offset
                        );
                        return fail(report, problem);
                    }
                }
                if seq >= up_to_seq {
                    report.ok = true;
                    return report;
                }
            }
            Ok(Step::Bad(fault)) => {
                let problem = format!(
                    "segment {} at byte offset {}, where entry seq {} should be: {}",
                    fault.segment.name(),
                    fault.offset,
                    fault.seq,
                    fault.damage
                );
                return fail(report, problem);
            }
            Ok(Step::End { .. }) => {
                let problem = format!(
                    "the journal ends after seq {}, but verification up to seq {up_to_seq} was asked for: \
                     entries {}..={up_to_seq} are missing",
                    report.head_seq,
                    report.head_seq + 1
                );
                return fail(report, problem);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::testkit::write_journal;

    #[test]
    fn a_valid_journal_verifies_up_to_any_seq() {
        let dir = tempfile::tempdir().expect("tempdir");
        let written = write_journal(dir.path(), 9, 250);
        for up_to in [1, 5, 9] {
            let report = verify(dir.path(), up_to);
            assert!(report.ok, "{report:?}");
            assert_eq!(
                (
                    report.entries_checked,
                    report.head_seq,
                    report.first_bad_seq
                ),
                (up_to, up_to, 0)
            );
            let hash = written[up_to as usize - 1]
                .audit
                .as_ref()
                .map(|a| a.hash.clone());
            assert_eq!(Some(report.head_hash.to_vec()), hash);
        }
        assert!(verify(dir.path(), 0).ok);
    }

    #[test]
    fn verifying_past_the_end_reports_the_missing_entries() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_journal(dir.path(), 4, u64::MAX);
        let report = verify(dir.path(), 6);
        assert!(!report.ok);
        assert_eq!(
            (
                report.entries_checked,
                report.head_seq,
                report.first_bad_seq
            ),
            (4, 4, 5)
        );
        assert!(
            report.problem.contains("entries 5..=6 are missing"),
            "{}",
            report.problem
        );
    }

    #[test]
    fn the_newest_segment_verifies_alone_and_its_damage_is_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_journal(dir.path(), 20, 300);
        let segments = list_segments(dir.path()).expect("list");
        assert!(segments.len() >= 3, "several segments");
        let newest = segments.last().expect("a segment");

        let report = verify_newest_segment(dir.path(), 20);
        assert!(report.ok, "{report:?}");
        assert_eq!(
            (report.entries_checked, report.head_seq),
            (21 - newest.first_seq, 20)
        );
        assert_eq!(report.head_hash, verify(dir.path(), 20).head_hash);
        // Up to a seq in an older segment: that segment is the newest one asked about.
        let older = &segments[segments.len() - 2];
        let report = verify_newest_segment(dir.path(), older.first_seq);
        assert!(report.ok && report.entries_checked == 1, "{report:?}");

        // Damage in an older segment is not this check's business; in the newest it is.
        let mut bytes = std::fs::read(&segments[0].path).expect("read");
        bytes[20] ^= 0x01;
        std::fs::write(&segments[0].path, &bytes).expect("write");
        assert!(verify_newest_segment(dir.path(), 20).ok);
        let mut bytes = std::fs::read(&newest.path).expect("read");
        bytes[20] ^= 0x01;
        std::fs::write(&newest.path, &bytes).expect("write");
        let report = verify_newest_segment(dir.path(), 20);
        assert!(!report.ok);
        assert_eq!(report.first_bad_seq, newest.first_seq, "{report:?}");
        assert!(report.problem.contains("checksum"), "{}", report.problem);
    }

    #[test]
    fn segments_checked_in_parallel_give_the_single_pass_answer() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_journal(dir.path(), 40, 300);
        assert!(list_segments(dir.path()).expect("list").len() >= 4);
        for up_to in [1, 7, 23, 40] {
            assert_eq!(
                verify(dir.path(), up_to),
                verify_from(dir.path(), 1, Some(GENESIS), up_to)
            );
        }
    }

    #[test]
    fn a_segment_that_does_not_link_to_the_one_before_is_found() {
        use crate::journal::testkit::entry;
        use crate::journal::{Journal, JournalOptions, seal};
        let a = tempfile::tempdir().expect("tempdir");
        write_journal(a.path(), 20, 300);
        // Another chain of the same shape: same sizes, so the same segment bounds.
        let b = tempfile::tempdir().expect("tempdir");
        let (mut journal, _) = Journal::open(
            b.path(),
            JournalOptions {
                segment_max_bytes: 300,
            },
        )
        .expect("open");
        let mut prev = GENESIS;
        for seq in 1..=20 {
            let mut e = entry(seq);
            if let Some(a) = e.audit.as_mut() {
                a.detail = format!("FILED claim {seq}");
            }
            prev = seal(&mut e, seq, &prev);
            journal.append(&e).expect("append");
        }
        journal.sync().expect("sync");
        let ours = list_segments(a.path()).expect("list");
        let theirs = list_segments(b.path()).expect("list");
        assert_eq!(
            ours.iter().map(|s| s.first_seq).collect::<Vec<_>>(),
            theirs.iter().map(|s| s.first_seq).collect::<Vec<_>>()
        );
        std::fs::copy(&theirs[2].path, &ours[2].path).expect("swap a segment");
        let report = verify(a.path(), 20);
        assert!(!report.ok);
        assert_eq!(report.first_bad_seq, ours[2].first_seq, "{report:?}");
        assert_eq!(
            report.first_bad_seq,
            verify_from(a.path(), 1, Some(GENESIS), 20).first_bad_seq
        );
    }

    #[test]
    fn a_missing_folder_is_a_report_not_a_panic() {
        let dir = tempfile::tempdir().expect("tempdir");
        let report = verify(&dir.path().join("nowhere"), 3);
        assert!(!report.ok);
        assert_eq!(report.first_bad_seq, 1);
        assert!(report.problem.contains("nowhere"), "{}", report.problem);
    }
}
