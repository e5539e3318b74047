//! The stand-in's rules, one at a time, and its answers over HTTP.

use super::*;

/// A complete statement, as the exports send one.
fn valid() -> Value {
    json!({
        "puid": "takedown-0190-42",
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "illegal_content_legal_ground": "17 U.S.C. 512(c)",
        "illegal_content_explanation": "The text matches the original.",
        "category": "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        "category_specification": ["KEYWORD_COPYRIGHT_INFRINGEMENT"],
        "content_type": ["CONTENT_TYPE_TEXT"],
        "content_date": "2024-01-15",
        "application_date": "2024-01-16",
        "end_date_visibility_restriction": null,
        "decision_facts": "The article reproduces the report verbatim.",
        "source_type": "SOURCE_ARTICLE_16",
        "automated_detection": "No",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "territorial_scope": ["DE", "FR"],
    })
}

fn with(k: &str, v: Value) -> Value {
    let mut s = valid();
    s[k] = v;
    s
}

fn fields(s: &Value) -> Vec<String> {
    violations(s).into_keys().collect()
}

#[test]
fn a_complete_statement_passes() {
    assert_eq!(violations(&valid()), BTreeMap::new());
}

#[test]
fn a_renamed_field_fails_as_missing_and_unknown() {
    let mut s = valid();
    let facts = s.as_object_mut().unwrap().remove("decision_facts").unwrap();
    s["facts"] = facts;
    assert_eq!(fields(&s), ["decision_facts", "facts"]);
}

#[test]
fn enums_lengths_dates_and_puid_are_enforced() {
    assert_eq!(
        fields(&with("category", json!("STATEMENT_CATEGORY_COPYRIGHT"))),
        ["category"]
    );
    assert_eq!(
        fields(&with(
            "decision_visibility",
            json!("DECISION_VISIBILITY_OTHER")
        )),
        ["decision_visibility"]
    );
    assert_eq!(
        fields(&with(
            "decision_visibility",
            json!(["DECISION_VISIBILITY_OTHER"])
        )),
        ["decision_visibility_other"]
    );
    assert_eq!(
        fields(&with("automated_detection", json!(true))),
        ["automated_detection"]
    );
    assert_eq!(
        fields(&with("territorial_scope", json!(["US"]))),
        ["territorial_scope"]
    );
    assert_eq!(
        fields(&with(
            "illegal_content_legal_ground",
            json!("x".repeat(501))
        )),
        ["illegal_content_legal_ground"]
    );
    assert!(fields(&with("decision_facts", json!("x".repeat(5000)))).is_empty());
    assert_eq!(
        fields(&with("decision_facts", json!("x".repeat(5001)))),
        ["decision_facts"]
    );
    assert_eq!(
        fields(&with("content_date", json!("15/01/2024"))),
        ["content_date"]
    );
    assert_eq!(
        fields(&with("content_date", json!("2024-02-30"))),
        ["content_date"]
    );
    assert_eq!(
        fields(&with("application_date", json!("2019-12-31"))),
        ["application_date"]
    );
    assert_eq!(fields(&with("puid", json!("takedown/1"))), ["puid"]);
    assert_eq!(fields(&with("puid", json!("a".repeat(501)))), ["puid"]);
    assert_eq!(
        fields(&with(
            "decision_ground",
            json!("DECISION_GROUND_INCOMPATIBLE_CONTENT")
        )),
        [
            "illegal_content_explanation",
            "illegal_content_legal_ground",
            "incompatible_content_explanation",
            "incompatible_content_ground"
        ]
    );
}

async fn post(tdb: &DsaTdb, token: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/statements", tdb.url()))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_str(&r.text().await.unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn the_stand_in_enforces_token_batch_rules_and_duplicate_puids() {
    let tdb = DsaTdb::start("secret").await;
    let one = json!({"statements": [valid()]});
    assert_eq!(post(&tdb, "wrong", one.clone()).await.0, 401);
    let (status, answer) = post(&tdb, "secret", one.clone()).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(tdb.accepted().len(), 1);

    // The same puid again: refused as the database refuses it, nothing stored.
    let (status, answer) = post(&tdb, "secret", one).await;
    assert_eq!(status, 422);
    assert_eq!(
        answer["errors"]["existing_puids"],
        json!(["takedown-0190-42"])
    );
    assert_eq!(tdb.accepted().len(), 1);

    // 101 statements: too many for one call.
    let many: Vec<Value> = (0..101)
        .map(|i| with("puid", json!(format!("p-{i}"))))
        .collect();
    let (status, answer) = post(&tdb, "secret", json!({ "statements": many })).await;
    assert_eq!(status, 422);
    assert!(answer["errors"]["statements"].is_array(), "{answer}");

    // A drifted field in one statement refuses the whole call.
    let drifted = with("puid", json!("p-2"));
    let mut renamed = drifted.clone();
    renamed["decision_visibilities"] = renamed["decision_visibility"].take();
    renamed
        .as_object_mut()
        .unwrap()
        .remove("decision_visibility");
    let body = json!({"statements": [with("puid", json!("p-1")), renamed]});
    let (status, answer) = post(&tdb, "secret", body).await;
    assert_eq!(status, 422);
    assert!(
        answer["errors"]["statement_1"]["decision_visibility"].is_array(),
        "{answer}"
    );
    assert!(
        answer["errors"]["statement_1"]["decision_visibilities"].is_array(),
        "{answer}"
    );
    assert_eq!(tdb.accepted().len(), 1);
}
