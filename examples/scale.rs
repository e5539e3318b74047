//! Scale benchmark: fills a real `takedownd` process with N claims (default 1,000,000)
//! in a realistic mix, then measures what grows with the store: bytes per claim,
//! restart, rebuild, `VerifyAuditLog`, peak memory, and reads at 10k claims and at N.
//!
//!     cargo build --release --bin takedownd
//!     cargo run --release --example scale                     # 1,000,000 claims
//!     cargo run --release --example scale -- --claims 100000  # a quicker run
//!
//! It runs the `takedownd` built beside it (`target/release/takedownd`, or the one
//! `--takedownd` names) on 127.0.0.1:0 with a data folder in the system temp folder
//! (set TMPDIR, or `--data-dir`, to measure another disk), and prints a table whose
//! rows `docs/architecture.md` and the README quote.
//!
//! The mix, by claim number: 40% rejected after review, 30% deleted, 10% corrected by
//! the publisher, 5% deleted, counter-noticed, taken to court and restored, 2% rejected
//! and complained about, 13% left open in the queue. Every claim is filed by one of
//! 1,000 notifiers against one of N/100 articles.

#[path = "support/daemon.rs"]
mod daemon;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use daemon::Daemon;
use takedown::pb::{
    self, DecisionOutcome, LegalActionOutcome, Regime, Role,
    audit_service_client::AuditServiceClient, claim_service_client::ClaimServiceClient,
    publisher_service_client::PublisherServiceClient, review_service_client::ReviewServiceClient,
};
use takedown::testkit::{Authed, authed, create_principal, fixtures};
use tonic::transport::Channel;

#[derive(Parser)]
struct Args {
    /// Claims to fill.
    #[arg(long, default_value_t = 1_000_000)]
    claims: u64,
    /// Concurrent callers while filling.
    #[arg(long, default_value_t = 64)]
    callers: u64,
    /// The takedownd binary (default: the one built beside this example).
    #[arg(long)]
    takedownd: Option<PathBuf>,
    /// The data folder (default: a new temp folder, removed at the end).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Also count what sled holds per claim, by key kind (a walk of every key).
    #[arg(long)]
    breakdown: bool,
    /// Seconds per read measurement.
    #[arg(long, default_value_t = 2.0)]
    read_secs: f64,
}

/// The cast.
#[derive(Clone)]
struct Cast {
    claims: ClaimServiceClient<Authed>,
    review: ReviewServiceClient<Authed>,
    second_review: ReviewServiceClient<Authed>,
    publisher: PublisherServiceClient<Authed>,
    auditor: AuditServiceClient<Authed>,
    publisher_claims: ClaimServiceClient<Authed>,
}

fn notice(n: u64, articles: u64) -> pb::Claim {
    let mut c = fixtures::notice(&format!("a-{}", n % articles), Regime::Dmca);
    if let Some(claimant) = c.claimant.as_mut() {
        claimant.email = format!("rights+{}@legaldaily.example.cn", n % 1_000);
    }
    c
}

/// Files claim `n` and walks it through its part of the mix; returns the writes made.
async fn walk(cast: &mut Cast, n: u64, articles: u64) -> Result<u64, tonic::Status> {
    let claim = cast
        .claims
        .file_claim(pb::FileClaimRequest {
            request_id: format!("scale-{n}"),
            claim: Some(notice(n, articles)),
        })
        .await?
        .into_inner()
        .claim
        .unwrap_or_default();
    let kind = (n.wrapping_mul(7919)) % 100;
    if kind >= 87 {
        return Ok(1);
    }
    let id = claim.id.clone();
    let c = cast
        .review
        .start_review(pb::StartReviewRequest {
            claim_id: id.clone(),
            etag: claim.etag,
        })
        .await?
        .into_inner()
        .claim
        .unwrap_or_default();
    let outcome = match kind {
        0..40 | 85..87 => DecisionOutcome::Reject,
        70..80 => DecisionOutcome::Correct,
        _ => DecisionOutcome::Delete,
    };
    let c = cast
        .review
        .decide_claim(pb::DecideClaimRequest {
            claim_id: id.clone(),
            etag: c.etag,
            outcome: outcome as i32,
            statement_of_reasons: Some(fixtures::reasons()),
            ..Default::default()
        })
        .await?
        .into_inner()
        .claim
        .unwrap_or_default();
    match kind {
        70..80 => {
            cast.publisher
                .record_correction(pb::RecordCorrectionRequest {
                    claim_id: id,
                    etag: c.etag,
                    article_revision: 0,
                    summary: "Removed the reproduced paragraph.".into(),
                })
                .await?;
            Ok(4)
        }
        80..85 => {
            let c = cast
                .publisher
                .file_counter_notice(pb::FileCounterNoticeRequest {
                    claim_id: id.clone(),
                    etag: c.etag,
                    counter_notice: Some(fixtures::counter_notice()),
                })
                .await?
                .into_inner()
                .claim
                .unwrap_or_default();
            let c = cast
                .claims
                .report_legal_action(pb::ReportLegalActionRequest {
                    claim_id: id.clone(),
                    etag: c.etag,
                    authority: "Beijing Internet Court".into(),
                    case_reference: format!("(2024) Jing 0491 Min Chu {n}"),
                    filed_date: "2024-02-01".into(),
                })
                .await?
                .into_inner()
                .claim
                .unwrap_or_default();
            cast.second_review
                .resolve_legal_action(pb::ResolveLegalActionRequest {
                    claim_id: id,
                    etag: c.etag,
                    outcome: LegalActionOutcome::Dismissed as i32,
                    note: "Judgment of 2024-03-01".into(),
                })
                .await?;
            Ok(6)
        }
        85..87 => {
            cast.claims
                .file_complaint(pb::FileComplaintRequest {
                    claim_id: id,
                    etag: String::new(),
                    text: "The decision overlooked the archived original.".into(),
                })
                .await?;
            Ok(4)
        }
        _ => Ok(3),
    }
}

/// Fills claims `from..to` from `callers` tasks; returns the writes made.
async fn fill(cast: &Cast, from: u64, to: u64, callers: u64, articles: u64) -> u64 {
    let next = Arc::new(AtomicU64::new(from));
    let writes = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..callers {
        let (next, writes, mut cast) = (next.clone(), writes.clone(), cast.clone());
        tasks.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= to {
                    return;
                }
                match walk(&mut cast, n, articles).await {
                    Ok(w) => {
                        writes.fetch_add(w, Ordering::Relaxed);
                    }
                    Err(e) => panic!("claim {n}: {e}"),
                }
                let step = ((to - from) / 20).max(1);
                if (n - from + 1).is_multiple_of(step) {
                    let secs = started.elapsed().as_secs_f64();
                    eprintln!(
                        "  filled {:>9} claims, {:>8.0} writes/s",
                        n + 1,
                        writes.load(Ordering::Relaxed) as f64 / secs
                    );
                }
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("filling task");
    }
    writes.load(Ordering::Relaxed)
}

/// Median latency of `op` run back to back for `secs`, in microseconds.
async fn median_us<F, Fut>(secs: f64, mut op: F) -> u64
where
    F: FnMut(u64) -> Fut,
    Fut: std::future::Future<Output = Result<(), tonic::Status>>,
{
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let mut lat = Vec::new();
    let mut n = 0;
    while Instant::now() < until {
        let t = Instant::now();
        op(n).await.expect("read");
        lat.push(t.elapsed().as_micros() as u64);
        n += 1;
    }
    lat.sort_unstable();
    lat.get(lat.len() / 2).copied().unwrap_or(0)
}

/// Median latencies of a GetClaim and of a page of 50 claims by state, by article and
/// by deadline.
struct Reads {
    get: u64,
    by_state: u64,
    by_article: u64,
    by_deadline: u64,
}

async fn reads(cast: &Cast, secs: f64, articles: u64) -> Reads {
    let ids: Vec<String> = cast
        .publisher_claims
        .clone()
        .list_claims(pb::ListClaimsRequest {
            page_size: 500,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .claims
        .into_iter()
        .map(|c| c.id)
        .collect();
    let c = cast.publisher_claims.clone();
    let get = median_us(secs, |n| {
        let mut c = c.clone();
        let id = ids[n as usize % ids.len()].clone();
        async move {
            c.get_claim(pb::GetClaimRequest { claim_id: id })
                .await
                .map(|_| ())
        }
    })
    .await;
    let page = |req: pb::ListClaimsRequest| {
        let c = cast.publisher_claims.clone();
        move |_| {
            let mut c = c.clone();
            let req = req.clone();
            async move {
                let page = c.list_claims(req).await?.into_inner();
                assert!(!page.claims.is_empty(), "an empty page measures nothing");
                Ok(())
            }
        }
    };
    let by_state = median_us(
        secs,
        page(pb::ListClaimsRequest {
            page_size: 50,
            state: pb::ClaimState::Rejected as i32,
            ..Default::default()
        }),
    )
    .await;
    let by_article = median_us(
        secs,
        page(pb::ListClaimsRequest {
            page_size: 50,
            article_id: format!("a-{}", articles / 2),
            ..Default::default()
        }),
    )
    .await;
    let by_deadline = median_us(
        secs,
        page(pb::ListClaimsRequest {
            page_size: 50,
            order_by: "next_deadline".into(),
            ..Default::default()
        }),
    )
    .await;
    Reads {
        get,
        by_state,
        by_article,
        by_deadline,
    }
}

/// Bytes the files under `dir` take on disk (allocated blocks).
fn disk_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            total += disk_bytes(&entry.path());
        } else {
            total += meta.blocks() * 512;
        }
    }
    total
}

async fn cast_of(channel: &Channel, admin: &str) -> Cast {
    let principal = |name: &'static str, roles: &'static [Role]| async move {
        create_principal(channel, admin, name, roles).await.1
    };
    let claimant = principal("Legal Daily rights desk", &[Role::Claimant]).await;
    let reviewer = principal("Compliance desk", &[Role::Reviewer]).await;
    let second = principal("Compliance desk, second reader", &[Role::Reviewer]).await;
    let publisher = principal("CMS", &[Role::Publisher]).await;
    let auditor = principal("Auditor", &[Role::Auditor]).await;
    Cast {
        claims: ClaimServiceClient::new(authed(channel, &claimant)),
        review: ReviewServiceClient::new(authed(channel, &reviewer)),
        second_review: ReviewServiceClient::new(authed(channel, &second)),
        publisher: PublisherServiceClient::new(authed(channel, &publisher)),
        auditor: AuditServiceClient::new(authed(channel, &auditor)),
        publisher_claims: ClaimServiceClient::new(authed(channel, &publisher)),
    }
}

/// Time from spawning the daemon to its first answered GetClaim.
async fn first_answer(bin: &Path, data: &Path, token: &str, claim_id: &str) -> (Daemon, Duration) {
    let t = Instant::now();
    let mut d = Daemon::spawn(bin, data, &[], None);
    loop {
        let channel = d.channel().await;
        let mut c = ClaimServiceClient::new(authed(&channel, token));
        if c.get_claim(pb::GetClaimRequest {
            claim_id: claim_id.to_string(),
        })
        .await
        .is_ok()
        {
            return (d, t.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn row(name: &str, value: String) {
    println!("| {name} | {value} |");
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let bin = args
        .takedownd
        .clone()
        .unwrap_or_else(daemon::takedownd_beside_me);
    let temp = tempfile::tempdir().expect("temp dir");
    let data = args
        .data_dir
        .clone()
        .unwrap_or_else(|| temp.path().join("data"));
    let n = args.claims;
    let articles = (n / 100).max(100);
    eprintln!(
        "scale: {n} claims by {} callers against {articles} articles, data in {}",
        args.callers,
        data.display()
    );

    let mut daemon = Daemon::spawn(&bin, &data, &[], None);
    let channel = daemon.channel().await;
    let admin = std::fs::read_to_string(data.join("admin.token")).expect("admin.token");
    let admin = admin.trim().to_string();
    let cast = cast_of(&channel, &admin).await;
    let (_, publisher_token) =
        create_principal(&channel, &admin, "CMS reader", &[Role::Publisher]).await;
    let mut articles_client = cast.publisher.clone();
    for i in 0..articles {
        articles_client
            .upsert_article(pb::UpsertArticleRequest {
                article: Some(fixtures::article(
                    &format!("a-{i}"),
                    &format!("https://news.example.org/a/{i}"),
                )),
            })
            .await
            .expect("article");
    }

    let small = n.min(10_000);
    let t = Instant::now();
    let mut writes = fill(&cast, 0, small, args.callers, articles).await;
    let mut fill_time = t.elapsed();
    let at_small = reads(&cast, args.read_secs, articles).await;
    let t = Instant::now();
    writes += fill(&cast, small, n, args.callers, articles).await;
    fill_time += t.elapsed();
    let at_n = reads(&cast, args.read_secs, articles).await;

    let t = Instant::now();
    let verify = cast
        .auditor
        .clone()
        .verify_audit_log(pb::VerifyAuditLogRequest::default())
        .await
        .expect("verify")
        .into_inner();
    let verify_time = t.elapsed();
    assert!(verify.ok, "the chain does not verify: {verify:?}");
    let entries = verify.entries_checked;
    let some_claim = cast
        .publisher_claims
        .clone()
        .list_claims(pb::ListClaimsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .claims
        .pop()
        .expect("a claim")
        .id;
    let rss = daemon.peak_rss_mib();
    let journal_bytes = disk_bytes(&data.join("journal"));
    let sled_bytes = disk_bytes(&data.join("sled"));
    drop(channel);
    let stop = daemon.stop();

    let (daemon, restart) = first_answer(&bin, &data, &publisher_token, &some_claim).await;
    daemon.stop();

    let t = Instant::now();
    let status = Command::new(&bin)
        .arg("rebuild")
        .arg("--data-dir")
        .arg(&data)
        .env("RUST_LOG", "warn")
        .status()
        .expect("run takedownd rebuild");
    let rebuild_time = t.elapsed();
    assert!(status.success(), "takedownd rebuild failed with {status}");
    let sled_after_rebuild = disk_bytes(&data.join("sled"));
    let (daemon, restart_after_rebuild) =
        first_answer(&bin, &data, &publisher_token, &some_claim).await;
    let rss_after_restart = daemon.peak_rss_mib();
    daemon.stop();
    // Once more: sled writes its page-table snapshot when it opens, so this start
    // reads little of sled's log, as a restart of a server that has been up a while
    // after its last start does not.
    let (daemon, clean_restart) = first_answer(&bin, &data, &publisher_token, &some_claim).await;
    daemon.stop();

    let breakdown = args
        .breakdown
        .then(|| sled_breakdown(&data.join("sled"), n));
    let per_sec = |count: u64, d: Duration| count as f64 / d.as_secs_f64();
    println!();
    println!("| figure ({n} claims, {entries} journal entries) | measured |");
    println!("|---|---|");
    row(
        "fill",
        format!(
            "{:.0} claims/s, {:.0} writes/s ({} writes, {} callers, {:.0} s)",
            per_sec(n, fill_time),
            per_sec(writes, fill_time),
            writes,
            args.callers,
            fill_time.as_secs_f64()
        ),
    );
    row(
        "journal on disk per claim",
        format!("{:.0} B", journal_bytes as f64 / n as f64),
    );
    row(
        "sled on disk per claim",
        format!(
            "{:.0} B after the fill, {:.0} B after a rebuild",
            sled_bytes as f64 / n as f64,
            sled_after_rebuild as f64 / n as f64
        ),
    );
    row(
        "stop (SIGTERM to exit)",
        format!("{:.2} s", stop.as_secs_f64()),
    );
    row(
        "restart (start to first GetClaim answered)",
        format!(
            "{:.2} s right after the fill, {:.2} s after the rebuild, {:.2} s after a restart with few writes",
            restart.as_secs_f64(),
            restart_after_rebuild.as_secs_f64(),
            clean_restart.as_secs_f64()
        ),
    );
    row(
        "`takedownd rebuild`",
        format!(
            "{:.0} entries/s ({:.1} s)",
            per_sec(entries, rebuild_time),
            rebuild_time.as_secs_f64()
        ),
    );
    row(
        "`VerifyAuditLog`",
        format!(
            "{:.0} entries/s ({:.2} s)",
            per_sec(entries, verify_time),
            verify_time.as_secs_f64()
        ),
    );
    row(
        "peak RSS",
        format!("{rss:.0} MiB after the fill, {rss_after_restart:.0} MiB after a restart"),
    );
    for (label, r) in [
        (format!("at {small} claims"), &at_small),
        (format!("at {n} claims"), &at_n),
    ] {
        row(
            &format!("reads {label}, median"),
            format!(
                "GetClaim {} us; a page of 50 by state {} us, by article {} us, by deadline {} us",
                r.get, r.by_state, r.by_article, r.by_deadline
            ),
        );
    }
    if let Some(rows) = breakdown {
        println!();
        println!(
            "| sled key kind (tag) | keys per claim | key bytes per claim | value bytes per claim |"
        );
        println!("|---|---|---|---|");
        for row in rows {
            println!("{row}");
        }
    }
}

/// What sled holds per claim, by the key's first byte (`store::keyspace`'s tags).
fn sled_breakdown(dir: &Path, claims: u64) -> Vec<String> {
    let db = sled::open(dir).expect("open sled after the stop");
    let mut tags: std::collections::BTreeMap<u8, (u64, u64, u64)> = Default::default();
    for kv in db.iter() {
        let (k, v) = kv.expect("read sled");
        let t = tags.entry(k.first().copied().unwrap_or(0)).or_default();
        t.0 += 1;
        t.1 += k.len() as u64;
        t.2 += v.len() as u64;
    }
    let per = |x: u64| x as f64 / claims as f64;
    tags.into_iter()
        .map(|(tag, (keys, kb, vb))| {
            format!(
                "| {tag:#04x} | {:.2} | {:.0} | {:.0} |",
                per(keys),
                per(kb),
                per(vb)
            )
        })
        .collect()
}
