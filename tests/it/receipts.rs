//! Proof of notice: the Merkle tree over the audit log, its signed checkpoints and
//! receipts, through the real API. Proofs are checked by a verifier written here
//! from RFC 9162 alone (it rebuilds the expected roots and proofs from the entries'
//! chain hashes, never calling the server's tree code); receipts by the code
//! `takedownctl receipt verify` runs, and by the binary itself.

use std::time::Duration;

use sha2::{Digest, Sha256};
use takedown::pb::{self, DecisionOutcome};
use takedown::tlog::{self, Checkpoint, NoteVerifier};
use tonic::Code;

use crate::common::TestServer;
use crate::common::flow::{Flow, decide_request};
use crate::ctl::ctl;

type Hash = [u8; 32];

/// RFC 9162 2.1.1, written out here on purpose (not `tlog::merkle`).
mod rfc {
    use super::*;

    pub fn leaf(data: &[u8]) -> Hash {
        Sha256::new()
            .chain_update([0u8])
            .chain_update(data)
            .finalize()
            .into()
    }

    pub fn node(l: &Hash, r: &Hash) -> Hash {
        Sha256::new()
            .chain_update([1u8])
            .chain_update(l)
            .chain_update(r)
            .finalize()
            .into()
    }

    /// The largest power of two smaller than n.
    fn k(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    /// MTH(D[n]).
    pub fn mth(d: &[Hash]) -> Hash {
        match d.len() {
            0 => Sha256::digest([]).into(),
            1 => d[0],
            n => node(&mth(&d[..k(n)]), &mth(&d[k(n)..])),
        }
    }

    /// PATH(m, D[n]) (2.1.3.1).
    pub fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
        let n = d.len();
        if n <= 1 {
            return Vec::new();
        }
        let k = k(n);
        if m < k {
            let mut p = path(m, &d[..k]);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = path(m - k, &d[k..]);
            p.push(mth(&d[..k]));
            p
        }
    }

    /// SUBPROOF(m, D[n], b) (2.1.4.1).
    pub fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
        let n = d.len();
        if m == n {
            return if b { Vec::new() } else { vec![mth(d)] };
        }
        let k = k(n);
        if m <= k {
            let mut p = subproof(m, &d[..k], b);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = subproof(m - k, &d[k..], false);
            p.push(mth(&d[..k]));
            p
        }
    }

    /// The root an inclusion proof leads to, by the recursion that defines PATH: the
    /// last hash is the top sibling, on the right if the leaf is in the left subtree.
    pub fn root_from(leaf: Hash, m: usize, n: usize, proof: &[Hash]) -> Option<Hash> {
        if n == 1 {
            return proof.is_empty().then_some(leaf);
        }
        let (top, rest) = proof.split_last()?;
        let k = k(n);
        Some(if m < k {
            node(&root_from(leaf, m, k, rest)?, top)
        } else {
            node(top, &root_from(leaf, m - k, n - k, rest)?)
        })
    }
}

fn hashes(raw: &[Vec<u8>]) -> Vec<Hash> {
    raw.iter()
        .map(|h| h.as_slice().try_into().expect("32-byte hash"))
        .collect()
}

/// Every leaf: the leaf hash of each audit entry's chain hash, in seq order.
async fn leaves(flow: &Flow) -> Vec<Hash> {
    let entries = flow
        .audit_entries(pb::ListAuditEntriesRequest::default())
        .await;
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1, "the log has no gaps");
    }
    entries.iter().map(|e| rfc::leaf(&e.hash)).collect()
}

async fn checkpoint(flow: &Flow) -> (NoteVerifier, String, Checkpoint) {
    let r = flow
        .audit()
        .get_checkpoint(pb::GetCheckpointRequest {})
        .await
        .expect("get checkpoint")
        .into_inner();
    let verifier = NoteVerifier::parse(&r.verifier_key).expect("a verifier key");
    let cp = tlog::receipt::open_checkpoint(&r.checkpoint, &verifier).expect("signed checkpoint");
    (verifier, r.checkpoint, cp)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_proof_of_every_tree_up_to_64_is_the_rfc_proof() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    while flow.verify().await.head_seq < 64 {
        flow.file_claim().await;
    }
    let d = leaves(&flow).await;
    let (_, _, cp) = checkpoint(&flow).await;
    assert_eq!(cp.size, d.len() as u64);
    assert_eq!(
        cp.root,
        rfc::mth(&d),
        "the checkpoint's root is MTH of every entry"
    );
    let mut audit = flow.audit();
    for n in 1..=64usize {
        let root = rfc::mth(&d[..n]);
        for m in 0..n {
            let p = audit
                .get_inclusion_proof(pb::GetInclusionProofRequest {
                    seq: m as u64 + 1,
                    tree_size: n as u64,
                })
                .await
                .expect("inclusion proof")
                .into_inner();
            assert_eq!((p.leaf_index, p.tree_size), (m as u64, n as u64));
            let proof = hashes(&p.hashes);
            assert_eq!(proof, rfc::path(m, &d[..n]), "PATH({m}, D[{n}])");
            assert_eq!(rfc::root_from(d[m], m, n, &proof), Some(root));
        }
        for first in 1..=n {
            let p = audit
                .get_consistency_proof(pb::GetConsistencyProofRequest {
                    first_size: first as u64,
                    second_size: n as u64,
                })
                .await
                .expect("consistency proof")
                .into_inner();
            let want = if first == n {
                Vec::new()
            } else {
                rfc::subproof(first, &d[..n], true)
            };
            assert_eq!(hashes(&p.hashes), want, "PROOF({first}, D[{n}])");
            // And the check takedownctl runs accepts it.
            tlog::merkle::verify_consistency(
                first as u64,
                n as u64,
                &rfc::mth(&d[..first]),
                &root,
                &want,
            )
            .expect("consistent");
        }
    }
    // Sizes the log does not have are the caller's mistake, and say so.
    let too_large = audit
        .get_inclusion_proof(pb::GetInclusionProofRequest {
            seq: 1,
            tree_size: d.len() as u64 + 1,
        })
        .await
        .expect_err("beyond the log");
    assert_eq!(too_large.code(), Code::OutOfRange, "{too_large:?}");
    let zero = audit
        .get_consistency_proof(pb::GetConsistencyProofRequest {
            first_size: 0,
            second_size: 0,
        })
        .await
        .expect_err("first size 0");
    assert_eq!(zero.code(), Code::InvalidArgument, "{zero:?}");
    s.stop().await;
}

/// The receipt of a notice, checked as `takedownctl receipt verify` checks it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_verifies_and_one_changed_byte_anywhere_fails() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let filed = flow
        .claimant()
        .file_claim(pb::FileClaimRequest {
            request_id: String::new(),
            claim: Some(crate::common::fixtures::dmca_notice()),
        })
        .await
        .expect("file claim")
        .into_inner();
    let claim = filed.claim.expect("claim");
    let receipt = filed.receipt.expect("FileClaim answers a receipt");
    let (verifier, _, _) = checkpoint(&flow).await;
    assert_eq!(
        receipt.seq.to_string(),
        claim.etag,
        "the receipt is of the filing"
    );
    let entry = flow.claim_audit(&claim.id).await.remove(0);
    assert_eq!((entry.seq, &entry.hash), (receipt.seq, &receipt.entry_hash));
    let cp = tlog::receipt::verify(&receipt, &verifier).expect("the receipt verifies");
    assert!(cp.size >= receipt.seq);

    // One byte of the entry hash, of each proof hash, of the checkpoint's text, of
    // its signature.
    let fails = |r: &pb::Receipt, what: &str| {
        assert!(
            tlog::receipt::verify(r, &verifier).is_err(),
            "a receipt with {what} altered verified"
        );
    };
    let mut r = receipt.clone();
    r.entry_hash[7] ^= 1;
    fails(&r, "the entry hash");
    let mut r = receipt.clone();
    r.seq += 1;
    fails(&r, "the seq");
    let n = receipt.inclusion_proof.as_ref().unwrap().hashes.len();
    assert!(n > 0, "a proof in a tree of more than one entry has hashes");
    for i in 0..n {
        let mut r = receipt.clone();
        r.inclusion_proof.as_mut().unwrap().hashes[i][0] ^= 0x40;
        fails(&r, &format!("proof hash {i}"));
    }
    let note = receipt.checkpoint.clone().into_bytes();
    let text_end = receipt.checkpoint.find("\n\n").unwrap();
    let sig_start = receipt.checkpoint.rfind(' ').unwrap() + 1;
    for at in (0..text_end).chain(sig_start..note.len() - 2) {
        let mut bytes = note.clone();
        // Stay within printable ASCII, so the change is a change of meaning only.
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let Ok(altered) = String::from_utf8(bytes) else {
            continue;
        };
        if altered == receipt.checkpoint {
            continue;
        }
        let mut r = receipt.clone();
        r.checkpoint = altered;
        fails(&r, &format!("checkpoint byte {at}"));
    }

    // A key other than the server's: same name, another key.
    let other = tlog::NoteSigner::new(verifier.name(), &[9; 32]).unwrap();
    let other = NoteVerifier::parse(&other.verifier_key()).unwrap();
    assert!(tlog::receipt::verify(&receipt, &other).is_err());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_claim_change_answers_a_receipt_of_its_entry_and_get_receipt_reissues_it() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let (verifier, _, _) = checkpoint(&flow).await;
    let check = |r: Option<pb::Receipt>, c: &pb::Claim, what: &str| {
        let r = r.unwrap_or_else(|| panic!("{what} answers no receipt"));
        assert_eq!(
            r.seq.to_string(),
            c.etag,
            "{what}: the receipt is of its own entry"
        );
        tlog::receipt::verify(&r, &verifier).unwrap_or_else(|e| panic!("{what}: {e}"));
    };
    let c = flow.file_claim().await;
    let started = flow
        .review()
        .start_review(pb::StartReviewRequest {
            claim_id: c.id.clone(),
            etag: c.etag.clone(),
        })
        .await
        .expect("start review")
        .into_inner();
    let c = started.claim.expect("claim");
    check(started.receipt, &c, "StartReview");
    let decided = flow
        .review()
        .decide_claim(decide_request(&c, DecisionOutcome::Delete))
        .await
        .expect("decide")
        .into_inner();
    let c = decided.claim.expect("claim");
    check(decided.receipt, &c, "DecideClaim");

    // GetReceipt: the filing (seq 0), and a later entry, against the newest checkpoint.
    let filing = flow
        .claimant()
        .get_receipt(pb::GetReceiptRequest {
            claim_id: c.id.clone(),
            seq: 0,
        })
        .await
        .expect("get receipt")
        .into_inner()
        .receipt
        .expect("receipt");
    let entries = flow.claim_audit(&c.id).await;
    assert_eq!(filing.seq, entries[0].seq);
    let cp = tlog::receipt::verify(&filing, &verifier).expect("re-issued receipt verifies");
    assert_eq!(
        cp.size,
        flow.verify().await.head_seq,
        "against the newest checkpoint"
    );

    // Not another claimant's claim, and not another claim's entry.
    let other = flow
        .other_claimant()
        .get_receipt(pb::GetReceiptRequest {
            claim_id: c.id.clone(),
            seq: 0,
        })
        .await
        .expect_err("not theirs");
    assert_eq!(other.code(), Code::NotFound, "{other:?}");
    let second = flow.file_claim().await;
    let foreign = flow
        .claimant()
        .get_receipt(pb::GetReceiptRequest {
            claim_id: second.id.clone(),
            seq: filing.seq,
        })
        .await
        .expect_err("an entry of another claim");
    assert_eq!(foreign.code(), Code::InvalidArgument, "{foreign:?}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_and_a_rebuild_give_the_same_roots_and_the_same_key() {
    let mut s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    for _ in 0..11 {
        flow.file_claim().await;
    }
    let (_, note, before) = checkpoint(&flow).await;
    let d = leaves(&flow).await;
    assert_eq!(before.root, rfc::mth(&d));

    s.restart().await;
    let flow = flow.reconnect(&s).await;
    let (_, after_restart, _) = checkpoint(&flow).await;
    // Ed25519 signatures are deterministic: the same key signs the same note.
    assert_eq!(
        after_restart, note,
        "a restart changes neither root nor key"
    );

    s.restart_with(|dir| {
        let data_dir = takedown::data_dir::DataDir::open(dir).expect("data folder");
        let vault = takedown::pdata::open_vault(dir, None).expect("key store");
        takedown::writer::rebuild(
            &data_dir,
            8 * 1024 * 1024,
            takedown::journal::JournalOptions::default(),
            &vault,
        )
        .expect("takedownd rebuild");
    })
    .await;
    let flow = flow.reconnect(&s).await;
    let (_, after_rebuild, _) = checkpoint(&flow).await;
    assert_eq!(
        after_rebuild, note,
        "a rebuild from the journal gives the same tree"
    );
    // And the tree keeps growing from there as it would have.
    flow.file_claim().await;
    let d = leaves(&flow).await;
    let (_, _, grown) = checkpoint(&flow).await;
    assert_eq!(grown.root, rfc::mth(&d));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_feed_carries_signed_checkpoints_of_what_it_sent() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let (verifier, _, _) = checkpoint(&flow).await;
    let mut feed = flow
        .publisher()
        .watch_events(pb::WatchEventsRequest::default())
        .await
        .expect("watch")
        .into_inner();
    let mut last_seq = 0;
    let mut seen = Vec::new();
    flow.file_claim().await;
    let head = flow.verify().await.head_seq;
    while seen.last().is_none_or(|c: &Checkpoint| c.size < head) {
        let m = tokio::time::timeout(Duration::from_secs(20), feed.message())
            .await
            .expect("a message within 20 s")
            .expect("no error")
            .expect("open");
        match m.entry {
            Some(e) => last_seq = e.seq,
            None => {
                let cp = tlog::receipt::open_checkpoint(&m.checkpoint, &verifier)
                    .expect("a checkpoint signed by the log's key");
                assert!(
                    cp.size >= last_seq,
                    "a checkpoint covers the entries before it"
                );
                seen.push(cp);
            }
        }
    }
    // Each checkpoint extends the one before it.
    for pair in seen.windows(2) {
        assert!(pair[0].size < pair[1].size);
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn takedownctl_verifies_a_saved_receipt_offline_and_checks_consistency() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = flow.file_claim().await;
    let receipt = flow
        .claimant()
        .get_receipt(pb::GetReceiptRequest {
            claim_id: c.id.clone(),
            seq: 0,
        })
        .await
        .expect("receipt")
        .into_inner()
        .receipt
        .expect("receipt");
    let (_, old_note, _) = checkpoint(&flow).await;
    let key = flow
        .audit()
        .get_checkpoint(pb::GetCheckpointRequest {})
        .await
        .unwrap()
        .into_inner()
        .verifier_key;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("receipt.json");
    std::fs::write(&file, tlog::receipt::to_json(&receipt).unwrap()).unwrap();
    let path = file.to_str().unwrap();

    // Offline: an unreachable server address changes nothing.
    let ok = crate::ctl::ctl_at(
        "http://127.0.0.1:1",
        "",
        &["receipt", "verify", path, "--key", &key],
    )
    .await;
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    let seq_line = ok
        .stdout
        .lines()
        .find(|l| l.starts_with("seq "))
        .unwrap_or_default();
    assert!(
        seq_line.ends_with(&format!(" {}", receipt.seq)),
        "{}",
        ok.stdout
    );

    let mut altered = receipt.clone();
    altered.entry_hash[0] ^= 1;
    std::fs::write(&file, tlog::receipt::to_json(&altered).unwrap()).unwrap();
    let bad = crate::ctl::ctl_at(
        "http://127.0.0.1:1",
        "",
        &["receipt", "verify", path, "--key", &key],
    )
    .await;
    assert_eq!(bad.code, 4, "{}{}", bad.stdout, bad.stderr);
    assert!(bad.stderr.contains("does not verify"), "{}", bad.stderr);

    // The log grows; the old checkpoint is extended by the current one.
    for _ in 0..5 {
        flow.file_claim().await;
    }
    let old = dir.path().join("old.note");
    std::fs::write(&old, &old_note).unwrap();
    let token = &flow.desk.auditor;
    let run = ctl(
        &s,
        token,
        &[
            "audit",
            "consistency",
            "--old",
            old.to_str().unwrap(),
            "--key",
            &key,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("ok"), "{}", run.stdout);
    // A checkpoint of another history (signed by another key under the same name)
    // is refused before any proof is asked for.
    let text = &old_note[..old_note.find("\n\n").unwrap() + 1];
    let name = Checkpoint::parse(text).unwrap().origin;
    let forged_note = tlog::NoteSigner::new(&name, &[3; 32]).unwrap().sign(text);
    std::fs::write(&old, forged_note).unwrap();
    let run = ctl(
        &s,
        token,
        &[
            "audit",
            "consistency",
            "--old",
            old.to_str().unwrap(),
            "--key",
            &key,
        ],
    )
    .await;
    assert_eq!(run.code, 4, "{}{}", run.stdout, run.stderr);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receipt_email_carries_a_receipt_json_that_verifies() {
    let smtp = takedown::testkit::smtp::SmtpSink::start();
    let url = smtp.url();
    let s = TestServer::start_with(move |c| {
        c.notify.smtp_url = Some(url);
        c.notify.smtp_from = "Legal Daily <takedown@news.example.org>".to_string();
    })
    .await;
    let flow = Flow::new(&s).await;
    let (verifier, _, _) = checkpoint(&flow).await;
    let c = flow.file_claim().await;
    let mails = smtp.wait_for(1, Duration::from_secs(20)).await;
    let attached = mails
        .iter()
        .flat_map(|m| &m.attachments)
        .find(|a| a.filename == "receipt.json")
        .unwrap_or_else(|| panic!("no receipt.json in {mails:#?}"));
    let receipt = tlog::receipt::from_json(&attached.content).expect("a receipt in protobuf JSON");
    assert_eq!(receipt.seq.to_string(), c.etag, "the receipt of the filing");
    tlog::receipt::verify(&receipt, &verifier).expect("the e-mailed receipt verifies");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_given_key_and_origin_sign_and_the_folders_own_key_is_private() {
    use std::os::unix::fs::PermissionsExt;
    // The data folder's own key: made at first start, mode 0600.
    let s = TestServer::start().await;
    let own = s.dir.path().join(takedown::notary::KEY_FILE);
    let mode = std::fs::metadata(&own)
        .expect("log-signing.key")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "log-signing.key mode {mode:o}");
    assert_eq!(std::fs::read(&own).unwrap().len(), 32);
    s.stop().await;

    // --log-signing-key (64 hex digits) and --log-origin.
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("log.key");
    std::fs::write(&key, format!("{}\n", hex::encode([5u8; 32]))).unwrap();
    let given = key.clone();
    let s = TestServer::start_with(move |c| {
        c.log_signing_key = Some(given);
        c.log_origin = Some("news.example.org/takedown".to_string());
    })
    .await;
    let flow = Flow::new(&s).await;
    let (verifier, _, cp) = checkpoint(&flow).await;
    let expected = tlog::NoteSigner::new("news.example.org/takedown", &[5; 32]).unwrap();
    assert_eq!(verifier.name(), "news.example.org/takedown");
    assert_eq!(cp.origin, "news.example.org/takedown");
    let vkey = flow
        .audit()
        .get_checkpoint(pb::GetCheckpointRequest {})
        .await
        .unwrap()
        .into_inner()
        .verifier_key;
    assert_eq!(vkey, expected.verifier_key());
    s.stop().await;

    // An origin a note cannot carry, or a key of the wrong length, stops the start
    // with a message that says what to fix.
    for (origin, key_bytes, says) in [
        ("news example", vec![5u8; 32], "no spaces"),
        (
            "news.example.org/takedown",
            vec![5u8; 31],
            "32 raw bytes or 64 hex digits",
        ),
    ] {
        std::fs::write(&key, &key_bytes).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut config = TestServer::config(
            dir.path(),
            std::sync::Arc::new(takedown::clock::ManualClock::new(
                crate::common::start_time(),
            )),
        );
        config.log_signing_key = Some(key.clone());
        config.log_origin = Some(origin.to_string());
        let err = takedown::server::RunningServer::start(config)
            .await
            .err()
            .expect("refused");
        assert!(err.to_string().contains(says), "{err}");
    }
}
