//! A stand-in for the DSA Transparency Database's `POST /api/v1/statements` (the
//! multi-statement endpoint), on 127.0.0.1:0, that enforces the database's rules as
//! its source states them (`StatementStoreRequest`, `GroupedSubmissionsService` and
//! `PlatformUniqueIdService` in digital-services-act/transparency-database):
//!
//! - `Authorization: Bearer <token>`, else 401;
//! - a body `{"statements": [...]}` of 1 to 100 statements, else 422;
//! - each statement: the required fields, the enum values, the lengths, the date
//!   formats and ranges, the puid pattern; any failure answers 422
//!   `{"errors": {"statement_<i>": {"<field>": ["..."]}}}` and stores nothing;
//! - a puid already stored, or twice in the call: 422 `{"message": ..., "errors":
//!   {"puid": [...], "existing_puids": [...]}}`, and nothing of the call is stored;
//! - otherwise 201, and every statement is recorded.
//!
//! One rule is stricter than the database: a field it does not know is refused (the
//! database drops it silently), so that a renamed optional field fails a test instead
//! of vanishing. [`violations`] is the same check as a function, for unit tests. The
//! stand-in stops when dropped.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What the database answers for a duplicate puid.
pub const DUPLICATE_MESSAGE: &str =
    "The platform identifier(s) are not all unique within this call.";

const DECISION_VISIBILITIES: &[&str] = &[
    "DECISION_VISIBILITY_CONTENT_REMOVED",
    "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER",
];
const DECISION_GROUNDS: &[&str] = &[
    "DECISION_GROUND_ILLEGAL_CONTENT",
    "DECISION_GROUND_INCOMPATIBLE_CONTENT",
];
const CONTENT_TYPES: &[&str] = &[
    "CONTENT_TYPE_APP",
    "CONTENT_TYPE_AUDIO",
    "CONTENT_TYPE_IMAGE",
    "CONTENT_TYPE_PRODUCT",
    "CONTENT_TYPE_SYNTHETIC_MEDIA",
    "CONTENT_TYPE_TEXT",
    "CONTENT_TYPE_VIDEO",
    "CONTENT_TYPE_OTHER",
];
const CATEGORIES: &[&str] = &[
    "STATEMENT_CATEGORY_ANIMAL_WELFARE",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
];
/// The keywords a copyright desk uses, among the database's many; a keyword outside
/// this list is refused here (the database knows more, but we send none of them).
const KEYWORDS: &[&str] = &[
    "KEYWORD_COPYRIGHT_INFRINGEMENT",
    "KEYWORD_TRADEMARK_INFRINGEMENT",
    "KEYWORD_DESIGN_INFRINGEMENT",
    "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
    "KEYWORD_PATENT_INFRINGEMENT",
    "KEYWORD_TRADE_SECRET_INFRINGEMENT",
    "KEYWORD_DEFAMATION",
    "KEYWORD_RIGHT_TO_BE_FORGOTTEN",
    "KEYWORD_OTHER",
];
const SOURCE_TYPES: &[&str] = &[
    "SOURCE_ARTICLE_16",
    "SOURCE_TRUSTED_FLAGGER",
    "SOURCE_TYPE_OTHER_NOTIFICATION",
    "SOURCE_VOLUNTARY",
];
const AUTOMATED_DECISIONS: &[&str] = &[
    "AUTOMATED_DECISION_FULLY",
    "AUTOMATED_DECISION_PARTIALLY",
    "AUTOMATED_DECISION_NOT_AUTOMATED",
];
const YES_NO: &[&str] = &["Yes", "No"];
/// `EuropeanCountriesService::EUROPEAN_COUNTRY_CODES`.
const COUNTRIES: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS",
    "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
];
/// Every field the database reads from a statement.
const KNOWN: &[&str] = &[
    "content_id",
    "content_id_ean",
    "decision_visibility",
    "decision_visibility_other",
    "decision_monetary",
    "decision_monetary_other",
    "decision_provision",
    "decision_account",
    "account_type",
    "category_specification",
    "category_specification_other",
    "decision_ground",
    "decision_ground_reference_url",
    "illegal_content_legal_ground",
    "illegal_content_explanation",
    "incompatible_content_ground",
    "incompatible_content_explanation",
    "incompatible_content_illegal",
    "content_type",
    "content_type_other",
    "category",
    "category_addition",
    "territorial_scope",
    "content_language",
    "content_date",
    "application_date",
    "end_date_account_restriction",
    "end_date_monetary_restriction",
    "end_date_service_restriction",
    "end_date_visibility_restriction",
    "decision_facts",
    "source_type",
    "source_identity",
    "automated_detection",
    "automated_decision",
    "puid",
];

/// What is wrong with one statement, field by field (empty: the database takes it).
pub fn violations(statement: &Value) -> BTreeMap<String, Vec<String>> {
    let mut v: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut add = |field: &str, msg: String| v.entry(field.to_string()).or_default().push(msg);
    let Some(s) = statement.as_object() else {
        add("statement", "must be a JSON object".to_string());
        return v;
    };
    let text = |k: &str| s.get(k).and_then(Value::as_str);
    let present = |k: &str| match s.get(k) {
        None | Some(Value::Null) => false,
        Some(Value::String(t)) => !t.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
    };
    for k in s.keys() {
        if !KNOWN.contains(&k.as_str()) {
            add(k, format!("The {k} field is not a field of a statement."));
        }
    }
    let one_of =
        |add: &mut dyn FnMut(&str, String), k: &str, allowed: &[&str], req: bool| match s.get(k) {
            None | Some(Value::Null) if req => add(k, format!("The {k} field is required.")),
            None | Some(Value::Null) => {}
            Some(Value::String(t)) if allowed.contains(&t.as_str()) => {}
            Some(_) => add(k, format!("The selected {k} is invalid.")),
        };
    let many =
        |add: &mut dyn FnMut(&str, String), k: &str, allowed: &[&str], req: bool| match s.get(k) {
            None | Some(Value::Null) if req => add(k, format!("The {k} field is required.")),
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                if req && a.is_empty() {
                    add(k, format!("The {k} field is required."));
                }
                if a.iter()
                    .any(|x| !x.as_str().is_some_and(|t| allowed.contains(&t)))
                {
                    add(k, format!("The selected {k} is invalid."));
                }
            }
            Some(_) => add(k, format!("The {k} field must be an array.")),
        };
    many(&mut add, "decision_visibility", DECISION_VISIBILITIES, true);
    many(&mut add, "category_specification", KEYWORDS, false);
    many(&mut add, "content_type", CONTENT_TYPES, true);
    many(&mut add, "territorial_scope", COUNTRIES, false);
    many(&mut add, "category_addition", CATEGORIES, false);
    one_of(&mut add, "decision_ground", DECISION_GROUNDS, true);
    one_of(&mut add, "category", CATEGORIES, true);
    one_of(&mut add, "source_type", SOURCE_TYPES, true);
    one_of(&mut add, "automated_detection", YES_NO, true);
    one_of(&mut add, "automated_decision", AUTOMATED_DECISIONS, true);
    let listed = |k: &str, value: &str| {
        s.get(k)
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(value)))
    };
    let ground = text("decision_ground").unwrap_or_default();
    let mut conditional = |k: &str, required: bool, max: usize| {
        if required && !present(k) {
            add(k, format!("The {k} field is required."));
        }
        if !required && present(k) {
            // The database drops it (exclude_unless); we never send what it drops.
            add(k, format!("The {k} field is not expected here."));
        }
        match s.get(k) {
            None | Some(Value::Null) => {}
            Some(Value::String(t)) if t.chars().count() <= max => {}
            Some(Value::String(_)) => add(
                k,
                format!("The {k} field must not be greater than {max} characters."),
            ),
            Some(_) => add(k, format!("The {k} field must be a string.")),
        }
    };
    let illegal = ground == "DECISION_GROUND_ILLEGAL_CONTENT";
    let incompatible = ground == "DECISION_GROUND_INCOMPATIBLE_CONTENT";
    conditional("illegal_content_legal_ground", illegal, 500);
    conditional("illegal_content_explanation", illegal, 2000);
    conditional("incompatible_content_ground", incompatible, 500);
    conditional("incompatible_content_explanation", incompatible, 2000);
    conditional(
        "decision_visibility_other",
        listed("decision_visibility", "DECISION_VISIBILITY_OTHER"),
        500,
    );
    conditional(
        "content_type_other",
        listed("content_type", "CONTENT_TYPE_OTHER"),
        500,
    );
    conditional("decision_facts", true, 5000);
    conditional(
        "category_specification_other",
        present("category_specification_other"),
        500,
    );
    if incompatible {
        one_of(&mut add, "incompatible_content_illegal", YES_NO, false);
    } else if present("incompatible_content_illegal") {
        add(
            "incompatible_content_illegal",
            "The incompatible_content_illegal field is not expected here.".to_string(),
        );
    }
    let mut date = |k: &str, required: bool, min: &str| match s.get(k) {
        None | Some(Value::Null) if required => add(k, format!("The {k} field is required.")),
        None | Some(Value::Null) => {}
        Some(Value::String(d)) if !is_date(d) => {
            add(k, format!("The {k} does not match the format YYYY-MM-DD."))
        }
        Some(Value::String(d)) if d.as_str() < min || d.as_str() > "2038-01-01" => add(
            k,
            format!("The {k} field must be a date between {min} and 2038-01-01."),
        ),
        Some(Value::String(_)) => {}
        Some(_) => add(k, format!("The {k} field must be a string.")),
    };
    date("content_date", true, "2000-01-01");
    date("application_date", true, "2020-01-01");
    date("end_date_visibility_restriction", false, "0000-00-00");
    match text("puid") {
        None => add("puid", "The puid field is required.".to_string()),
        Some(p) if p.chars().count() > 500 => add(
            "puid",
            "The puid field must not be greater than 500 characters.".to_string(),
        ),
        Some(p)
            if p.is_empty()
                || !p
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            add("puid", "The puid format is invalid.".to_string())
        }
        Some(_) => {}
    }
    v
}

/// YYYY-MM-DD, a real calendar date.
fn is_date(d: &str) -> bool {
    let b = d.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) {
        return false;
    }
    if !digits(8..10) {
        return false;
    }
    let (y, m, day): (u32, u32, u32) = (
        d[0..4].parse().unwrap_or(0),
        d[5..7].parse().unwrap_or(0),
        d[8..10].parse().unwrap_or(0),
    );
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// One call as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct Call {
    /// How many statements it carried.
    pub statements: usize,
    /// What the stand-in answered.
    pub status: u16,
    /// Its answer's body.
    pub answer: Value,
}

struct State {
    token: String,
    accepted: Vec<Value>,
    calls: Vec<Call>,
    scripted: Vec<StatusCode>,
}

/// A running stand-in.
pub struct DsaTdb {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    server: JoinHandle<()>,
}

impl DsaTdb {
    /// Starts a stand-in that accepts `token`.
    pub async fn start(token: &str) -> DsaTdb {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("the stand-in's address");
        let state = Arc::new(Mutex::new(State {
            token: token.to_string(),
            accepted: Vec::new(),
            calls: Vec::new(),
            scripted: Vec::new(),
        }));
        let server = tokio::spawn(super::http::serve(listener, state.clone(), handle));
        DsaTdb {
            addr,
            state,
            server,
        }
    }

    /// `http://127.0.0.1:PORT`: the base URL (`--dsa-tdb-url`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every statement accepted so far, in order.
    pub fn accepted(&self) -> Vec<Value> {
        self.lock().accepted.clone()
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Stores `statement` as if an earlier call had (a puid already there).
    pub fn preload(&self, statement: Value) {
        self.lock().accepted.push(statement);
    }

    /// Answers `status` to the next `n` calls, whatever they hold.
    pub fn respond_next(&self, status: u16, n: usize) {
        let status = StatusCode::from_u16(status).expect("an HTTP status code");
        self.lock().scripted.extend(std::iter::repeat_n(status, n));
    }

    /// Forgets the answers still scripted: later calls are checked again.
    pub fn respond_normally(&self) {
        self.lock().scripted.clear();
    }

    /// Waits until at least `n` statements are accepted and returns them; panics after
    /// `timeout` with the calls so far.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let started = std::time::Instant::now();
        loop {
            let accepted = self.accepted();
            if accepted.len() >= n {
                return accepted;
            }
            if started.elapsed() > timeout {
                panic!(
                    "{} of {n} statements accepted within {timeout:?}; calls: {:#?}",
                    accepted.len(),
                    self.calls()
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("stand-in state")
    }
}

impl Drop for DsaTdb {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn handle(
    request: Request<Incoming>,
    state: Arc<Mutex<State>>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut state = state.lock().expect("stand-in state");
    let count = body
        .get("statements")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let (status, answer) = if !state.scripted.is_empty() {
        let status = state.scripted.remove(0);
        (status, json!({"message": "scripted answer"}))
    } else if parts.method != hyper::Method::POST || parts.uri.path() != "/api/v1/statements" {
        (StatusCode::NOT_FOUND, json!({"message": "Not Found"}))
    } else if parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        != Some(format!("Bearer {}", state.token).as_str())
    {
        (
            StatusCode::UNAUTHORIZED,
            json!({"message": "Unauthenticated."}),
        )
    } else {
        store(&mut state, &body)
    };
    state.calls.push(Call {
        statements: count,
        status: status.as_u16(),
        answer: answer.clone(),
    });
    let response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(answer.to_string())))
        .unwrap_or_default();
    Ok(response)
}

/// The database's checks of one call, then the insert.
fn store(state: &mut State, body: &Value) -> (StatusCode, Value) {
    let invalid = |errors: Value| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"message": "The given data was invalid.", "errors": errors}),
        )
    };
    let Some(statements) = body.get("statements").and_then(Value::as_array) else {
        return invalid(json!({"statements": ["The statements field is required."]}));
    };
    if !(1..=100).contains(&statements.len()) {
        return invalid(
            json!({"statements": ["The statements field must have between 1 and 100 items."]}),
        );
    }
    let mut errors = serde_json::Map::new();
    for (i, s) in statements.iter().enumerate() {
        let v = violations(s);
        if !v.is_empty() {
            errors.insert(format!("statement_{i}"), json!(v));
        }
    }
    if !errors.is_empty() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"errors": Value::Object(errors)}),
        );
    }
    let puid = |s: &Value| s.get("puid").and_then(Value::as_str).map(str::to_string);
    let mut seen: Vec<String> = Vec::new();
    let mut duplicates: Vec<String> = Vec::new();
    for p in statements.iter().filter_map(puid) {
        let stored = state.accepted.iter().any(|a| puid(a).as_ref() == Some(&p));
        if (stored || seen.contains(&p)) && !duplicates.contains(&p) {
            duplicates.push(p.clone());
        }
        seen.push(p);
    }
    if !duplicates.is_empty() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({
                "message": DUPLICATE_MESSAGE,
                "errors": {"puid": [DUPLICATE_MESSAGE], "existing_puids": duplicates},
            }),
        );
    }
    state.accepted.extend(statements.iter().cloned());
    let out: Vec<Value> = statements
        .iter()
        .map(|s| json!({"puid": puid(s), "uuid": uuid::Uuid::new_v4().to_string()}))
        .collect();
    (StatusCode::CREATED, json!({"statements": out}))
}

#[cfg(test)]
#[path = "dsa_tdb_tests.rs"]
mod tests;
