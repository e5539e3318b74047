//! The bodies of the fuzz targets, shared by cargo-fuzz (`fuzz/fuzz_targets/*.rs`,
//! long runs) and the bounded, deterministic CI run (`tests/it/fuzz_equivalent.rs`).
//! The valid inputs to start from are built on the test kit's notice
//! (`takedown::testkit`). Each takes arbitrary bytes and panics only when an invariant breaks; a panic
//! anywhere inside our code on such input is a bug.
//!
//! - [`requests`]: bytes -> a stored claim and a request (prost decoding) -> the
//!   validation and the state machine, as the writer would run them.
//! - [`journal_recovery`]: bytes -> either a whole segment file, or damage applied to
//!   a valid journal of acknowledged entries -> `Journal::open` and a read-back.
//!   Recovery may refuse to start, or start; it must never panic, and a start must
//!   keep every acknowledged entry except a damaged last one (a torn tail).
#![allow(dead_code)]

use std::path::Path;
use std::time::SystemTime;

use prost::Message;
use takedown::domain::commands::{
    AmendClaim, DecideClaim, ExpireDeadline, FileComplaint, FileCounterNotice, RecordCorrection,
    ReportLegalAction, RequestInformation, ResolveLegalAction, StartReview, WithdrawClaim,
};
use takedown::domain::{self, Actor, Command, Policy, validation};
use takedown::journal::{self, GENESIS, Journal, JournalOptions};
use takedown::pb::{self, Role};
use takedown::testkit::fixtures::{self, ARTICLE_ID, ARTICLE_URL};

/// Splits `data` in two at a position its first two bytes choose.
fn split(data: &[u8]) -> (&[u8], &[u8]) {
    match data {
        [a, b, rest @ ..] => {
            let at = (usize::from(*a) << 8 | usize::from(*b)) % (rest.len() + 1);
            rest.split_at(at)
        }
        _ => (data, &[]),
    }
}

const ACTORS: [(&str, &[Role]); 6] = [
    ("claimant", &[Role::Claimant]),
    ("reviewer", &[Role::Reviewer]),
    ("publisher", &[Role::Publisher]),
    ("auditor", &[Role::Auditor]),
    ("admin", &[Role::Admin]),
    ("system", &[]),
];

/// Request decoding, validation and the state machine over arbitrary bytes.
pub fn requests(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (stored, request) = split(rest);
    // The stored claim may be anything that decodes: the machine must cope.
    let claim = pb::Claim::decode(stored).unwrap_or_default();
    let article = pb::Article {
        id: claim.article_id.clone(),
        url: claim.article_url.clone(),
        holding_claim_ids: vec![claim.id.clone()],
        revision: 1,
        ..Default::default()
    };
    let policy = Policy::default();
    let (id, roles) = ACTORS[usize::from(selector >> 4) % ACTORS.len()];
    let actor = if id == "system" {
        Actor::System
    } else {
        Actor::Principal {
            id: if selector & 1 == 1 {
                claim.filed_by.clone()
            } else {
                id.to_string()
            },
            roles: roles.to_vec(),
        }
    };
    let command = match selector & 0x0f {
        0 => {
            let Ok(req) = pb::FileClaimRequest::decode(request) else {
                return;
            };
            let notice = req.claim.unwrap_or_default();
            let violations = validation::notice(&notice);
            let filed = domain::Notice::parse(notice.clone()).and_then(|parsed| {
                domain::file_claim(
                    &parsed,
                    &article,
                    "claimant",
                    selector & 2 == 2,
                    "0190f5a0-0000-7000-8000-000000000000",
                    &req.request_id,
                    fixtures::start_time(),
                    &policy,
                )
            });
            let url_matches = notice.article_url.is_empty() || notice.article_url == article.url;
            assert_eq!(
                filed.is_ok(),
                violations.is_empty() && url_matches,
                "validation and file_claim disagree"
            );
            return;
        }
        1 => Command::StartReview(StartReview),
        2 => match pb::RequestInformationRequest::decode(request) {
            Ok(r) => Command::RequestInformation(RequestInformation { message: r.message }),
            Err(_) => return,
        },
        3 => match pb::AmendClaimRequest::decode(request) {
            Ok(r) => Command::AmendClaim(AmendClaim {
                amendment: r.claim.unwrap_or_default(),
                update_mask: r.update_mask.map(|m| m.paths).unwrap_or_default(),
                reply: r.reply,
            }),
            Err(_) => return,
        },
        4 => match pb::DecideClaimRequest::decode(request) {
            Ok(r) => Command::DecideClaim(DecideClaim {
                outcome: r.outcome,
                statement_of_reasons: r.statement_of_reasons,
                items_to_change: r.items_to_change,
                manifestly_unfounded: r.manifestly_unfounded,
                misrepresentation_suspected: r.misrepresentation_suspected,
            }),
            Err(_) => return,
        },
        5 => match pb::RecordCorrectionRequest::decode(request) {
            Ok(r) => Command::RecordCorrection(RecordCorrection {
                article_revision: r.article_revision,
                summary: r.summary,
            }),
            Err(_) => return,
        },
        6 => match pb::FileCounterNoticeRequest::decode(request) {
            Ok(r) => Command::FileCounterNotice(FileCounterNotice {
                counter_notice: r.counter_notice,
            }),
            Err(_) => return,
        },
        7 => match pb::ReportLegalActionRequest::decode(request) {
            Ok(r) => Command::ReportLegalAction(ReportLegalAction {
                authority: r.authority,
                case_reference: r.case_reference,
                filed_date: r.filed_date,
            }),
            Err(_) => return,
        },
        8 => match pb::ResolveLegalActionRequest::decode(request) {
            Ok(r) => Command::ResolveLegalAction(ResolveLegalAction {
                outcome: r.outcome,
                note: r.note,
            }),
            Err(_) => return,
        },
        9 => match pb::WithdrawClaimRequest::decode(request) {
            Ok(r) => Command::WithdrawClaim(WithdrawClaim { reason: r.reason }),
            Err(_) => return,
        },
        10 => match pb::FileComplaintRequest::decode(request) {
            Ok(r) => Command::FileComplaint(FileComplaint { text: r.text }),
            Err(_) => return,
        },
        11 => Command::ExpireDeadline(ExpireDeadline),
        12 => {
            let Ok(req) = pb::UpsertArticleRequest::decode(request) else {
                return;
            };
            let _ = validation::article(req.article.as_ref());
            return;
        }
        _ => {
            // Every other request message must decode or fail cleanly.
            let _ = pb::ListClaimsRequest::decode(request);
            let _ = pb::CreatePrincipalRequest::decode(request);
            let _ = pb::SuspendPrincipalRequest::decode(request);
            let _ = pb::WatchEventsRequest::decode(request);
            return;
        }
    };
    // Any time the stored claim carries, the machine must not overflow on it.
    for at in [fixtures::start_time(), SystemTime::UNIX_EPOCH] {
        if let Ok(t) = domain::apply(&claim, &article, &command, &actor, at, &policy) {
            assert!(
                pb::ClaimState::try_from(t.claim.state).is_ok(),
                "a transition produced an unknown state"
            );
        }
    }
}

/// An unsealed entry for `seq` of the size a FileClaim entry has.
fn entry(seq: u64) -> pb::JournalEntry {
    pb::JournalEntry {
        audit: Some(pb::AuditEntry {
            actor: format!("principal-{}", seq % 3),
            action: "FileClaim".into(),
            claim_id: format!("claim-{seq}"),
            detail: "x".repeat((seq as usize * 37) % 200),
            ..Default::default()
        }),
        records: vec![pb::StoredRecord {
            kind: Some(pb::stored_record::Kind::IdempotencyKey(
                pb::IdempotencyKey {
                    principal_id: format!("principal-{seq}"),
                    request_id: format!("request-{seq}"),
                    claim_id: format!("claim-{seq}"),
                    ..Default::default()
                },
            )),
        }],
    }
}

const SEGMENT: &str = "00000000000000000001.wal";

fn options() -> JournalOptions {
    // One segment, whatever the input.
    JournalOptions {
        segment_max_bytes: 1 << 30,
    }
}

fn scratch() -> tempfile::TempDir {
    // RAM-backed where there is one: recovery fsyncs.
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().expect("temp dir")
}

/// Journal recovery over arbitrary file contents.
pub fn journal_recovery(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let dir = scratch();
    if mode & 1 == 0 {
        // The bytes are the whole segment file.
        std::fs::write(dir.path().join(SEGMENT), rest).expect("write segment");
        if let Ok((_, head)) = Journal::open(dir.path(), options()) {
            let read: Vec<_> = journal::read_entries(dir.path(), 0, head.seq).collect();
            assert_eq!(
                read.len() as u64,
                head.seq,
                "the head and the entries agree"
            );
            assert!(
                read.iter().all(Result::is_ok),
                "a started journal reads back"
            );
        }
        return;
    }

    // A valid journal of n acknowledged (synced) entries, then damage.
    let n = 1 + u64::from(mode >> 1) % 6;
    let mut entries = Vec::new();
    {
        let (mut j, _) = Journal::open(dir.path(), options()).expect("open empty journal");
        let mut prev = GENESIS;
        for seq in 1..=n {
            let mut e = entry(seq);
            prev = journal::seal(&mut e, seq, &prev);
            j.append(&e).expect("append");
            entries.push(e);
        }
        j.sync().expect("sync");
    }
    let path = dir.path().join(SEGMENT);
    let original = std::fs::read(&path).expect("read segment");
    // Where each record starts and ends: [u32 len][u32 crc][payload].
    let payloads: u64 = entries.iter().map(|e| 8 + e.encoded_len() as u64).sum();
    let mut starts = Vec::new();
    let mut at = original.len() as u64 - payloads;
    for e in &entries {
        starts.push(at);
        at += 8 + e.encoded_len() as u64;
    }

    // Damage: (op, offset hi, offset lo, byte) quads: flip, cut, append.
    let mut damaged = original.clone();
    for op in rest.chunks_exact(4) {
        let offset = (usize::from(op[1]) << 8 | usize::from(op[2])) % (damaged.len() + 1);
        match op[0] % 4 {
            0 | 1 if offset < damaged.len() => damaged[offset] ^= op[3],
            2 => damaged.truncate(offset),
            3 => damaged.extend(std::iter::repeat_n(op[3], usize::from(op[2] % 64))),
            _ => {}
        }
    }
    std::fs::write(&path, &damaged).expect("write damaged segment");

    let Ok((_, head)) = Journal::open(dir.path(), options()) else {
        // Refusing to start is always allowed: nothing was dropped silently.
        return;
    };
    // A cut can make a journal look shorter (recovery cannot tell; sled's
    // applied_seq catches that at the next level), but an entry whose record is
    // still complete and unchanged on disk must never be dropped: a start keeps at
    // least every entry up to the last such record.
    let unchanged = |from: u64, to: u64| {
        to <= damaged.len() as u64
            && (from..to).all(|p| damaged[p as usize] == original[p as usize])
    };
    let last_intact = (1..=n)
        .filter(|&seq| {
            let start = starts[(seq - 1) as usize];
            unchanged(
                start,
                start + 8 + entries[(seq - 1) as usize].encoded_len() as u64,
            )
        })
        .max()
        .unwrap_or(0);
    assert!(
        head.seq >= last_intact,
        "recovery started at seq {} and dropped entry {last_intact}, whose record is intact on disk (of {n})",
        head.seq
    );
    let read: Vec<_> = journal::read_entries(dir.path(), 0, head.seq).collect();
    assert_eq!(read.len() as u64, head.seq);
    for (got, want) in read.into_iter().zip(&entries) {
        match got {
            Ok(got) => assert_eq!(&got, want, "a kept entry reads back as written"),
            Err(e) => panic!("a kept entry does not read back: {e}"),
        }
    }
}

/// Valid inputs to start mutating from: one per request kind, over claims in
/// several states, and undamaged journals.
pub fn request_seeds() -> Vec<Vec<u8>> {
    let claim = pb::Claim {
        id: "0190f5a0-0000-7000-8000-000000000001".into(),
        article_url: ARTICLE_URL.into(),
        filed_by: "claimant".into(),
        ..fixtures::notice(ARTICLE_ID, pb::Regime::Dmca)
    };
    let requests: Vec<(u8, Vec<u8>)> = vec![
        (
            0,
            pb::FileClaimRequest {
                request_id: "r1".into(),
                claim: Some(claim.clone()),
            }
            .encode_to_vec(),
        ),
        (1, Vec::new()),
        (
            2,
            pb::RequestInformationRequest {
                message: "Which paragraph?".into(),
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        (
            3,
            pb::AmendClaimRequest {
                claim: Some(claim.clone()),
                reply: "Paragraph 1".into(),
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        (
            4,
            pb::DecideClaimRequest {
                outcome: pb::DecisionOutcome::Correct as i32,
                statement_of_reasons: Some(pb::StatementOfReasons {
                    facts: "f".into(),
                    legal_ground: "g".into(),
                    explanation: "e".into(),
                    ..Default::default()
                }),
                items_to_change: vec![0],
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        (
            5,
            pb::RecordCorrectionRequest {
                summary: "rewritten".into(),
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        (
            7,
            pb::ReportLegalActionRequest {
                authority: "Court".into(),
                case_reference: "1".into(),
                filed_date: "2024-01-20".into(),
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        (
            8,
            pb::ResolveLegalActionRequest {
                outcome: 2,
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        (
            10,
            pb::FileComplaintRequest {
                text: "wrong".into(),
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        (11, Vec::new()),
    ];
    let mut seeds = Vec::new();
    for state in [1, 2, 3, 4, 6, 7, 8, 9] {
        let mut stored = claim.clone();
        stored.state = state;
        stored.next_deadline = Some(pb::Deadline {
            kind: 1,
            due_time: Some(prost_types::Timestamp {
                seconds: 1_705_309_100,
                nanos: 0,
            }),
        });
        stored.decision = Some(pb::Decision {
            decide_time: Some(prost_types::Timestamp {
                seconds: 1_705_300_000,
                nanos: 0,
            }),
            ..Default::default()
        });
        let stored = stored.encode_to_vec();
        for (kind, request) in &requests {
            for who in [0u8, 1, 4] {
                let mut seed = vec![kind | (who << 4) | 1];
                seed.extend((stored.len() as u16).to_be_bytes());
                seed.extend(&stored);
                seed.extend(request);
                seeds.push(seed);
            }
        }
    }
    seeds
}

pub fn journal_seeds() -> Vec<Vec<u8>> {
    vec![
        vec![1],
        vec![7, 0, 0, 40, 0xff],
        vec![11, 2, 1, 0, 0],
        vec![9, 3, 0, 10, 0],
        vec![0],
    ]
}
