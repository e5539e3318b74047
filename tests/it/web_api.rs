//! The HTTP/JSON door on the gRPC listener: every RPC of the descriptor set answers at
//! its `google.api.http` route (a walk over the set, so an RPC added without a route
//! fails here), errors come back as `google.rpc.Status` JSON with their details and
//! the mapped HTTP status, and the same auth and limits hold as over gRPC. Also the
//! pages' headers (CSP, language) and CORS.

use prost::Message;
use serde_json::{Value, json};
use takedown::pb::DecisionOutcome;
use takedown::web::routes::Routes;

use crate::common::flow::Flow;
use crate::common::{TestServer, fixtures};

/// An answer: status, headers, body as JSON (or as text under "text").
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    json: Value,
}

async fn http(
    s: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let url = format!("{}{path}", s.server.as_ref().expect("running").url());
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.expect("HTTP request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "text": text }));
    Answer {
        status,
        headers,
        json,
    }
}

/// `message` (of proto type `name`) in proto3 JSON.
fn to_json(message: &impl Message, name: &str) -> Value {
    let pool = takedown::web::descriptor_pool().unwrap();
    let descriptor = pool.get_message_by_name(name).unwrap();
    let dynamic =
        prost_reflect::DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
            .unwrap();
    serde_json::to_value(&dynamic).unwrap()
}

fn violations(answer: &Answer) -> Vec<String> {
    answer.json["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["@type"] == "type.googleapis.com/google.rpc.BadRequest")
        .flat_map(|d| d["fieldViolations"].as_array().cloned().unwrap_or_default())
        .map(|v| v["field"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn every_rpc_in_the_descriptor_set_answers_at_its_http_route() {
    let pool = takedown::web::descriptor_pool().unwrap();
    let routes = Routes::from_pool(&pool).expect("every RPC has a google.api.http route");
    let rpcs: usize = pool
        .services()
        .filter(|s| s.package_name() == "takedown.v1")
        .map(|s| s.methods().len())
        .sum();
    assert_eq!(routes.iter().count(), rpcs, "one route per RPC");

    let s = TestServer::start().await;
    let unknown = "0190f0f0-0000-7000-8000-000000000000";
    for route in routes.iter() {
        // A path variable takes a value of its field's type: a number for a seq, an
        // unknown id for the rest.
        let input = route.rpc.input();
        let path = route.path_with(|field| {
            use prost_reflect::Kind;
            match input.get_field_by_name(field).map(|f| f.kind()) {
                Some(Kind::Uint64 | Kind::Int64 | Kind::Uint32 | Kind::Int32) => "1".to_string(),
                _ => unknown.to_string(),
            }
        });
        let body = route.body.as_ref().map(|_| json!({}));
        let url = format!("{}{path}", s.server.as_ref().unwrap().url());
        let mut request = reqwest::Client::new()
            .request(
                reqwest::Method::from_bytes(route.method.as_str().as_bytes()).unwrap(),
                url,
            )
            .header("authorization", format!("Bearer {}", s.admin_token));
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        // WatchEvents never ends: its headers are enough.
        let response = tokio::time::timeout(std::time::Duration::from_secs(10), request.send())
            .await
            .unwrap_or_else(|_| panic!("{} {path}: no answer", route.method))
            .expect("HTTP request");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            content_type == "application/json" || content_type == "application/x-ndjson",
            "{} {path}: {content_type}",
            route.method
        );
        if route.rpc.is_server_streaming() && status == 200 {
            assert_eq!(
                content_type, "application/x-ndjson",
                "{} {path}",
                route.method
            );
            continue;
        }
        let text = response.text().await.unwrap();
        let json: Value = serde_json::from_str(&text).unwrap();
        // Reached the service: an answer, or the service's own error, never the
        // transcoder's "no RPC is served" or a refusal of the route's own request.
        let message = json["message"].as_str().unwrap_or_default();
        assert!(
            ![404, 405, 501].contains(&status) || !message.starts_with("no RPC is served"),
            "{} {path}: {status} {text}",
            route.method
        );
        assert!(
            !message.contains("proto3 JSON") && !message.contains("query parameter"),
            "{} {path}: the transcoder refused its own request: {text}",
            route.method
        );
        assert!(
            status == 200 || json["code"].as_i64().is_some(),
            "{} {path}: {status} {text}",
            route.method
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn a_public_notice_is_filed_read_and_decided_over_http() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let notice = to_json(&fixtures::dmca_notice(), "takedown.v1.Claim");
    let filed = http(
        &s,
        "POST",
        "/v1/claims?request_id=web-1",
        None,
        Some(notice),
    )
    .await;
    assert_eq!(filed.status, 200, "{}", filed.json);
    let id = filed.json["claim"]["id"].as_str().unwrap().to_string();
    let token = filed.json["accessToken"].as_str().unwrap().to_string();
    assert_eq!(filed.json["claim"]["state"], "CLAIM_STATE_RECEIVED");

    // The claim token reads its claim and timeline; nothing without it.
    let read = http(&s, "GET", &format!("/v1/claims/{id}"), Some(&token), None).await;
    assert_eq!(read.status, 200, "{}", read.json);
    assert_eq!(read.json["claim"]["id"], id.as_str());
    let events = http(
        &s,
        "GET",
        &format!("/v1/claims/{id}/events"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        events.json["events"][0]["action"], "FileClaim",
        "{}",
        events.json
    );
    let anonymous = http(&s, "GET", &format!("/v1/claims/{id}"), None, None).await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.json);
    assert_eq!(anonymous.json["code"], 16);

    // The reviewer works over HTTP too; the same claim over gRPC shows the decision.
    let reviewer = flow.desk.reviewer.clone();
    let started = http(
        &s,
        "POST",
        &format!("/v1/claims/{id}:startReview"),
        Some(&reviewer),
        Some(json!({})),
    )
    .await;
    assert_eq!(started.status, 200, "{}", started.json);
    // Again: the claim is not RECEIVED any more.
    let again = http(
        &s,
        "POST",
        &format!("/v1/claims/{id}:startReview"),
        Some(&reviewer),
        Some(json!({})),
    )
    .await;
    assert_eq!(again.status, 412, "{}", again.json);
    assert!(
        again.json["details"][0]["@type"]
            .as_str()
            .is_some_and(|t| t.ends_with("google.rpc.ErrorInfo")),
        "{}",
        again.json
    );
    let claim = flow.get(&id).await;
    let decided = flow.decide(&claim, DecisionOutcome::Delete).await;
    let read = http(&s, "GET", &format!("/v1/claims/{id}"), Some(&token), None).await;
    assert_eq!(read.json["claim"]["state"], "CLAIM_STATE_DELETED");
    assert_eq!(read.json["claim"]["etag"], decided.etag.as_str());
    s.stop().await;
}

#[tokio::test]
async fn errors_carry_their_details_and_http_status() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    // Field violations, as google.rpc.BadRequest.
    let refused = http(
        &s,
        "POST",
        "/v1/claims",
        None,
        Some(json!({"regime": "REGIME_DSA"})),
    )
    .await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json["code"], 3);
    assert!(
        violations(&refused).contains(&"claim.signature".to_string()),
        "{}",
        refused.json
    );
    // A field the message does not have is named, and nothing is filed.
    let unknown = http(
        &s,
        "POST",
        "/v1/claims",
        None,
        Some(json!({"colour": "red"})),
    )
    .await;
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.json["message"].as_str().unwrap().contains("colour"),
        "{}",
        unknown.json
    );
    let not_json = http(&s, "POST", "/v1/claims", None, None).await;
    assert_eq!(not_json.status, 400, "{}", not_json.json);
    // A claimant may not create principals; another's claim is not found.
    let denied = http(
        &s,
        "POST",
        "/v1/principals",
        Some(&flow.desk.claimant),
        Some(json!({"displayName": "x", "roles": ["ROLE_ADMIN"]})),
    )
    .await;
    assert_eq!(denied.status, 403, "{}", denied.json);
    let claim = flow.file_claim().await;
    let hidden = http(
        &s,
        "GET",
        &format!("/v1/claims/{}", claim.id),
        Some(&flow.desk.other_claimant),
        None,
    )
    .await;
    assert_eq!(hidden.status, 404, "{}", hidden.json);
    // Routes: an unknown path and a wrong method.
    let nowhere = http(&s, "GET", "/v1/nowhere", Some(&s.admin_token), None).await;
    assert_eq!(nowhere.status, 404);
    let wrong = http(&s, "DELETE", "/v1/claims", Some(&s.admin_token), None).await;
    assert_eq!(wrong.status, 405);
    let allow = wrong.headers["allow"].to_str().unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    // Query parameters are typed: a bool that is not one is refused.
    let bad_query = http(
        &s,
        "GET",
        "/v1/claims?overdue=maybe",
        Some(&s.admin_token),
        None,
    )
    .await;
    assert_eq!(bad_query.status, 400, "{}", bad_query.json);
    let listed = http(
        &s,
        "GET",
        "/v1/claims?state=CLAIM_STATE_RECEIVED&overdue=false",
        Some(&s.admin_token),
        None,
    )
    .await;
    assert_eq!(listed.status, 200, "{}", listed.json);
    assert_eq!(listed.json["claims"].as_array().map(Vec::len), Some(1));
    s.stop().await;
}

#[tokio::test]
async fn public_notices_over_http_meet_the_same_rate_limit_with_retry_after() {
    let s = TestServer::start_with(|c| {
        c.limits.public_intake.per_client = takedown::api::limits::RateLimit::per_minute(1, 1);
    })
    .await;
    let _flow = Flow::new(&s).await;
    let notice = to_json(&fixtures::dmca_notice(), "takedown.v1.Claim");
    let first = http(&s, "POST", "/v1/claims", None, Some(notice.clone())).await;
    assert_eq!(first.status, 200, "{}", first.json);
    let second = http(&s, "POST", "/v1/claims", None, Some(notice)).await;
    assert_eq!(second.status, 429, "{}", second.json);
    let retry_after: u64 = second.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // One a minute: the next is taken in 60 s (and a few ms, rounded up).
    assert!((1..=61).contains(&retry_after), "{retry_after}");
    assert!(
        second.json["details"][0]["@type"]
            .as_str()
            .is_some_and(|t| t.ends_with("google.rpc.RetryInfo")),
        "{}",
        second.json
    );
    s.stop().await;
}

// curl is a child process run on a blocking thread while the server serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_and_http1_both_reach_the_api() {
    let s = TestServer::start().await;
    let url = format!("{}/v1/reasonTemplates", s.server.as_ref().unwrap().url());
    for version in ["--http1.1", "--http2-prior-knowledge"] {
        let out = tokio::task::block_in_place(|| {
            std::process::Command::new("curl")
                .args([
                    "-s",
                    "-m",
                    "20",
                    "-w",
                    "\n%{http_version} %{http_code}",
                    version,
                ])
                .arg("-H")
                .arg(format!("authorization: Bearer {}", s.admin_token))
                .arg(&url)
                .output()
                .expect("curl runs")
        });
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let expected = if version == "--http1.1" {
            "1.1 200"
        } else {
            "2 200"
        };
        assert!(text.trim_end().ends_with(expected), "{version}: {text}");
        assert!(text.contains("\"templates\""), "{version}: {text}");
    }
    s.stop().await;
}

#[tokio::test]
async fn the_pages_are_served_with_a_strict_csp_in_the_asked_language() {
    let s = TestServer::start().await;
    let client = reqwest::Client::new();
    let base = s.server.as_ref().unwrap().url();
    let zh = client
        .get(format!("{base}/"))
        .header("accept-language", "zh-CN,zh;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap();
    let csp = zh.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = zh.text().await.unwrap();
    assert!(html.contains("<html lang=\"zh-CN\">") && html.contains("提交通知"));
    // Every input has a label.
    for id in html
        .split("<input id=\"")
        .skip(1)
        .map(|r| r.split('"').next().unwrap())
    {
        assert!(html.contains(&format!("for=\"{id}\"")), "no label for {id}");
    }
    let en = client.get(format!("{base}/?lang=en")).send().await.unwrap();
    assert!(en.text().await.unwrap().contains("Send the notice"));
    let page = client
        .get(format!(
            "{base}/claims/0190f0f0-0000-7000-8000-000000000000"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let js = client
        .get(format!("{base}/assets/form.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let missing = client.get(format!("{base}/nothing")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    s.stop().await;
}

#[tokio::test]
async fn cors_answers_only_the_listed_origins() {
    let s = TestServer::start_with(|c| {
        c.web.cors_origins = vec!["https://cms.example.org".to_string()];
    })
    .await;
    let client = reqwest::Client::new();
    let url = format!("{}/v1/claims", s.server.as_ref().unwrap().url());
    let preflight = |origin: &str| {
        client
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let allowed = preflight("https://cms.example.org").await.unwrap();
    assert_eq!(allowed.status(), 204);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://cms.example.org"
    );
    let other = preflight("https://evil.example.com").await.unwrap();
    assert_eq!(other.status(), 403);
    assert!(other.headers().get("access-control-allow-origin").is_none());
    s.stop().await;

    // Off by default.
    let s = TestServer::start().await;
    let url = format!("{}/v1/claims", s.server.as_ref().unwrap().url());
    let off = client
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://cms.example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), 403);
    s.stop().await;
}

/// The README's curl block, as it stands, against the real `takedownd`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_curl_block_runs() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let block: String = readme
        .split("<!-- curl:start -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- curl:end -->").next())
        .expect("curl markers in README.md")
        .lines()
        .filter(|l| !l.starts_with("```"))
        .collect::<Vec<_>>()
        .join("\n");
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("takedown-data");
    let server = crate::common::daemon::Daemon::start(&data, &dir.path().join("d.log"), &[]).await;
    let script = block.replace("127.0.0.1:50051", &format!("127.0.0.1:{}", server.port()));
    let out = tokio::task::block_in_place(|| {
        std::process::Command::new("bash")
            .args(["-euo", "pipefail", "-c", &script])
            .current_dir(dir.path())
            .output()
            .expect("bash runs")
    });
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the README's curl block failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "\"state\":\"CLAIM_STATE_RECEIVED\"",
        "\"action\":\"FileClaim\"",
        "claim page: http://127.0.0.1:",
    ] {
        assert!(stdout.contains(expected), "lacks {expected}:\n{stdout}");
    }
    // The page the README points at is the form.
    let page = reqwest::get(format!("http://127.0.0.1:{}/", server.port()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<form id=\"notice\""));
}
