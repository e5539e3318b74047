//! Validation through the machine.

use super::*;

#[test]
fn decide_without_statement_of_reasons_is_invalid() {
    let (claim, article) = under_review();
    let none = Command::DecideClaim(DecideClaim {
        outcome: DecisionOutcome::Delete as i32,
        statement_of_reasons: None,
        items_to_change: vec![],
        ..Default::default()
    });
    assert_eq!(
        fields(apply_now(&claim, &article, none, reviewer()).unwrap_err()),
        ["statement_of_reasons"]
    );
    let empty = Command::DecideClaim(DecideClaim {
        outcome: DecisionOutcome::Reject as i32,
        statement_of_reasons: Some(pb::StatementOfReasons::default()),
        items_to_change: vec![],
        ..Default::default()
    });
    assert_eq!(
        fields(apply_now(&claim, &article, empty, reviewer()).unwrap_err()),
        [
            "statement_of_reasons.facts",
            "statement_of_reasons.legal_ground",
            "statement_of_reasons.explanation"
        ]
    );
    let no_outcome = Command::DecideClaim(DecideClaim {
        outcome: DecisionOutcome::Unspecified as i32,
        statement_of_reasons: None,
        items_to_change: vec![],
        ..Default::default()
    });
    assert_eq!(
        fields(apply_now(&claim, &article, no_outcome, reviewer()).unwrap_err()),
        ["outcome", "statement_of_reasons"]
    );
}

#[test]
fn decide_items_to_change_must_exist_and_belong_to_a_correction() {
    let (claim, article) = under_review();
    let out_of_range = Command::DecideClaim(DecideClaim {
        outcome: DecisionOutcome::Correct as i32,
        statement_of_reasons: Some(reasons()),
        items_to_change: vec![1, 2, 7],
        ..Default::default()
    });
    let err = apply_now(&claim, &article, out_of_range, reviewer()).unwrap_err();
    let DomainError::Invalid(v) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        v.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(),
        ["items_to_change[1]", "items_to_change[2]"]
    );
    assert!(
        v[0].description.contains("2 item(s)"),
        "{}",
        v[0].description
    );
    let on_delete = Command::DecideClaim(DecideClaim {
        outcome: DecisionOutcome::Delete as i32,
        statement_of_reasons: Some(reasons()),
        items_to_change: vec![0],
        ..Default::default()
    });
    assert_eq!(
        fields(apply_now(&claim, &article, on_delete, reviewer()).unwrap_err()),
        ["items_to_change"]
    );
}

#[test]
fn record_correction_checks_the_revision() {
    let (claim, article) = claim_in(At::CorrectionPending, Regime::Dsa);
    let with = |rev: u64| {
        Command::RecordCorrection(RecordCorrection {
            article_revision: rev,
            summary: "Removed paragraph 1.".to_string(),
        })
    };
    for wrong in [1, 3, 42] {
        let err = apply_now(&claim, &article, with(wrong), publisher()).unwrap_err();
        let DomainError::Invalid(v) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].field, "article_revision");
        assert!(
            v[0].description.contains("send 2 or 0"),
            "{}",
            v[0].description
        );
    }
    for right in [0, 2] {
        let t = apply_now(&claim, &article, with(right), publisher()).unwrap();
        assert_eq!(t.article.revision, 2);
        assert_eq!(t.claim.correction.unwrap().article_revision, 2);
    }
    let no_summary = Command::RecordCorrection(RecordCorrection {
        article_revision: 2,
        summary: "  ".to_string(),
    });
    assert_eq!(
        fields(apply_now(&claim, &article, no_summary, publisher()).unwrap_err()),
        ["summary"]
    );
}

#[test]
fn dmca_counter_notice_needs_consent_to_jurisdiction() {
    let without = || {
        let mut cn = counter_notice();
        cn.consent_to_jurisdiction = false;
        Command::FileCounterNotice(FileCounterNotice {
            counter_notice: Some(cn),
        })
    };
    let (claim, article) = claim_in(At::Deleted, Regime::Dmca);
    assert_eq!(
        fields(apply_now(&claim, &article, without(), publisher()).unwrap_err()),
        ["counter_notice.consent_to_jurisdiction"]
    );
    let (claim_prc, article_prc) = claim_in(At::Deleted, Regime::PrcCivilCode);
    let t = apply_now(&claim_prc, &article_prc, without(), publisher()).unwrap();
    assert_eq!(t.claim.state(), ClaimState::CounterNoticed);
    // DSA: the counter-notice passes validation, then the regime has none.
    let (claim_dsa, article_dsa) = claim_in(At::Deleted, Regime::Dsa);
    let err = apply_now(&claim_dsa, &article_dsa, without(), publisher()).unwrap_err();
    assert!(
        matches!(
            err,
            DomainError::Refused {
                reason: "NO_COUNTER_NOTICE",
                ..
            }
        ),
        "{err:?}"
    );
    let missing = Command::FileCounterNotice(FileCounterNotice {
        counter_notice: None,
    });
    assert_eq!(
        fields(apply_now(&claim, &article, missing, publisher()).unwrap_err()),
        ["counter_notice"]
    );
}

#[test]
fn amend_with_an_unknown_mask_path_is_invalid() {
    let (claim, article) = claim_in(At::NeedsInfo, Regime::Dsa);
    let amend = |mask: &[&str]| {
        Command::AmendClaim(AmendClaim {
            amendment: notice(Regime::Dsa),
            update_mask: mask.iter().map(|s| s.to_string()).collect(),
            reply: String::new(),
        })
    };
    let err = apply_now(
        &claim,
        &article,
        amend(&["state", "works", "article_id"]),
        claimant(),
    )
    .unwrap_err();
    let DomainError::Invalid(v) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(v.iter().all(|f| f.field == "update_mask"));
    assert!(
        v[0].description.contains("\"state\""),
        "{}",
        v[0].description
    );
    assert!(
        v[1].description.contains("\"article_id\""),
        "{}",
        v[1].description
    );
    // An amendment that breaks the notice is re-validated.
    let mut unsigned = notice(Regime::Dsa);
    unsigned.signature.clear();
    let breaking = Command::AmendClaim(AmendClaim {
        amendment: unsigned,
        update_mask: vec!["signature".to_string()],
        reply: String::new(),
    });
    assert_eq!(
        fields(apply_now(&claim, &article, breaking, claimant()).unwrap_err()),
        ["claim.signature"]
    );
    // An empty mask replaces every notice field.
    let t = apply_now(&claim, &article, amend(&[]), claimant()).unwrap();
    assert_eq!(t.claim.state(), ClaimState::Received);
}

#[test]
fn file_claim_with_an_empty_notice_lists_every_missing_element() {
    let err = file_notice(
        &pb::Claim::default(),
        &seed_article(),
        CLAIMANT,
        false,
        CLAIM_ID,
        "req-1",
        t0(),
        &Policy::default(),
    )
    .unwrap_err();
    assert_eq!(
        fields(err),
        [
            "claim.article_id",
            "claim.regime",
            "claim.claimant",
            "claim.works",
            "claim.items",
            "claim.requested_remedy",
            "claim.good_faith_statement",
            "claim.accuracy_statement",
            "claim.signature",
        ]
    );
}

fn file(notice: &pb::Claim) -> Result<pb::Claim, DomainError> {
    file_notice(
        notice,
        &seed_article(),
        CLAIMANT,
        false,
        CLAIM_ID,
        "req-1",
        t0(),
        &Policy::default(),
    )
}

#[test]
fn a_valid_notice_passes_in_every_regime() {
    for regime in [Regime::Dmca, Regime::Dsa, Regime::PrcCivilCode] {
        let claim = file(&notice(regime)).unwrap_or_else(|e| panic!("{regime:?}: {e}"));
        assert_eq!(claim.regime(), regime);
        assert_eq!(claim.state(), ClaimState::Received);
    }
    // The minimum each regime asks for.
    let mut dsa = notice(Regime::Dsa);
    dsa.evidence.clear();
    if let Some(c) = dsa.claimant.as_mut() {
        c.postal_address.clear();
        c.phone.clear();
    }
    file(&dsa).expect("DSA needs neither evidence nor address");
    let mut dmca = notice(Regime::Dmca);
    dmca.evidence.clear();
    if let Some(c) = dmca.claimant.as_mut() {
        c.postal_address.clear();
    }
    file(&dmca).expect("DMCA: a telephone number is enough");
    // By URL instead of id.
    let mut by_url = notice(Regime::Dsa);
    by_url.article_id.clear();
    by_url.article_url = ARTICLE_URL.to_string();
    assert_eq!(file(&by_url).unwrap().article_id, ARTICLE_ID);
}

#[test]
fn prc_notice_without_evidence_fails() {
    let mut prc = notice(Regime::PrcCivilCode);
    prc.evidence.clear();
    assert_eq!(fields(file(&prc).unwrap_err()), ["claim.evidence"]);
}

#[test]
fn dmca_notice_without_address_or_phone_fails() {
    let mut dmca = notice(Regime::Dmca);
    if let Some(c) = dmca.claimant.as_mut() {
        c.postal_address.clear();
        c.phone = " ".to_string();
    }
    assert_eq!(
        fields(file(&dmca).unwrap_err()),
        ["claim.claimant.postal_address"]
    );
}

#[test]
fn notice_for_another_article_url_fails() {
    let mut other = notice(Regime::Dsa);
    other.article_url = "https://news.example.org/2024/01/16/another-story".to_string();
    assert_eq!(fields(file(&other).unwrap_err()), ["claim.article_url"]);
}
