//! The pages a person uses: `/`, the notice form, and `/claims/<claim id>`, the page of
//! one claim for the holder of its token (carried in the URL fragment, so it is never
//! sent to the server in a URL or written to a log). Plain HTML, CSS and JavaScript
//! modules embedded in the binary; the HTML is rendered once per language at start
//! from `assets/strings.json` (English and Simplified Chinese). Every page is served
//! with a Content-Security-Policy that allows no inline script and nothing from
//! another origin.

use std::collections::HashMap;

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use http_body_util::Full;

use super::{WebConfig, WebError};

/// The languages of the pages; the first is the default.
pub const LANGUAGES: [&str; 2] = ["en", "zh-CN"];

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const STRINGS: &str = include_str!("assets/strings.json");
const FORM_HTML: &str = include_str!("assets/form.html");
const CLAIM_HTML: &str = include_str!("assets/claim.html");

/// The static files: (path, content type, bytes).
const ASSETS: [(&str, &str, &[u8]); 5] = [
    (
        "/assets/site.css",
        "text/css; charset=utf-8",
        include_bytes!("assets/site.css"),
    ),
    (
        "/assets/api.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/api.js"),
    ),
    (
        "/assets/form.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/form.js"),
    ),
    (
        "/assets/claim.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/claim.js"),
    ),
    (
        "/assets/i18n.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/i18n.js"),
    ),
];

/// The pages, rendered for each language.
pub struct Pages {
    form: HashMap<&'static str, Bytes>,
    claim: HashMap<&'static str, Bytes>,
}

impl Pages {
    pub fn new(config: &WebConfig) -> Result<Pages, WebError> {
        let strings: serde_json::Value =
            serde_json::from_str(STRINGS).map_err(|e| WebError::Pages(e.to_string()))?;
        let mut env = minijinja::Environment::new();
        env.add_template("form.html", FORM_HTML)
            .map_err(|e| WebError::Pages(e.to_string()))?;
        env.add_template("claim.html", CLAIM_HTML)
            .map_err(|e| WebError::Pages(e.to_string()))?;
        let base = config
            .public_base_url
            .as_deref()
            .unwrap_or("")
            .trim_end_matches('/')
            .to_string();
        let mut pages = Pages {
            form: HashMap::new(),
            claim: HashMap::new(),
        };
        for lang in LANGUAGES {
            let t = strings
                .get(lang)
                .ok_or_else(|| WebError::Pages(format!("strings.json has no {lang}")))?;
            // The strings the scripts show, handed over as data (not script).
            let t_json = serde_json::to_string(t).map_err(|e| WebError::Pages(e.to_string()))?;
            let context = minijinja::context! { lang, t, t_json, base };
            for (name, into) in [
                ("form.html", &mut pages.form),
                ("claim.html", &mut pages.claim),
            ] {
                let html = env
                    .get_template(name)
                    .and_then(|template| template.render(&context))
                    .map_err(|e| WebError::Pages(format!("{name}: {e}")))?;
                into.insert(lang, Bytes::from(html));
            }
        }
        Ok(pages)
    }

    /// The answer to a request for a page or an asset.
    pub fn answer(
        &self,
        request: &http::Request<tonic::body::Body>,
    ) -> http::Response<tonic::body::Body> {
        if request.method() != http::Method::GET && request.method() != http::Method::HEAD {
            let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD here\n");
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        let path = request.uri().path();
        if let Some((_, content_type, bytes)) = ASSETS.iter().find(|(p, _, _)| *p == path) {
            return respond(
                StatusCode::OK,
                content_type,
                Bytes::from_static(bytes),
                "max-age=300",
            );
        }
        let lang = language(request);
        let page = if path == "/" {
            self.form.get(lang)
        } else if path
            .strip_prefix("/claims/")
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
        {
            self.claim.get(lang)
        } else {
            None
        };
        match page {
            Some(html) => {
                let mut response = respond(
                    StatusCode::OK,
                    "text/html; charset=utf-8",
                    html.clone(),
                    "no-cache",
                );
                let headers = response.headers_mut();
                headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang));
                headers.insert(header::VARY, HeaderValue::from_static("accept-language"));
                response
            }
            None => text(
                StatusCode::NOT_FOUND,
                "not found: the notice form is at /, a claim's page at /claims/<claim id>, \
                 and the JSON API under /v1/\n",
            ),
        }
    }
}

/// The page's language: `?lang=` (the switch on the page) first, then the browser's
/// Accept-Language, then English.
pub fn language(request: &http::Request<tonic::body::Body>) -> &'static str {
    let asked = request.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|pair| pair.strip_prefix("lang="))
            .map(str::to_string)
    });
    if let Some(lang) = asked.as_deref().and_then(pick) {
        return lang;
    }
    let accept = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut ranked: Vec<(f32, &str)> = accept
        .split(',')
        .map(|part| {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse().ok())
                .unwrap_or(1.0);
            (q, tag)
        })
        .collect();
    // Stable: equal weights keep the browser's order.
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranked
        .into_iter()
        .find_map(|(_, tag)| pick(tag))
        .unwrap_or(LANGUAGES[0])
}

/// One of [`LANGUAGES`] for a language tag: any Chinese is Simplified Chinese here.
fn pick(tag: &str) -> Option<&'static str> {
    let tag = tag.to_ascii_lowercase();
    if tag == "zh" || tag.starts_with("zh-") {
        Some("zh-CN")
    } else if tag == "en" || tag.starts_with("en-") {
        Some("en")
    } else {
        None
    }
}

fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
    cache: &'static str,
) -> http::Response<tonic::body::Body> {
    let mut response = http::Response::new(tonic::body::Body::new(Full::new(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn text(status: StatusCode, message: &'static str) -> http::Response<tonic::body::Body> {
    respond(
        status,
        "text/plain; charset=utf-8",
        Bytes::from_static(message.as_bytes()),
        "no-store",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_accept(value: &str) -> http::Request<tonic::body::Body> {
        http::Request::builder()
            .uri("/")
            .header(header::ACCEPT_LANGUAGE, value)
            .body(tonic::body::Body::empty())
            .unwrap()
    }

    #[test]
    fn the_language_follows_accept_language_and_the_switch_wins() {
        assert_eq!(language(&with_accept("zh-CN,zh;q=0.9,en;q=0.8")), "zh-CN");
        assert_eq!(language(&with_accept("fr, en;q=0.5, zh;q=0.7")), "zh-CN");
        assert_eq!(language(&with_accept("de")), "en");
        let switched = http::Request::builder()
            .uri("/?lang=en")
            .header(header::ACCEPT_LANGUAGE, "zh-CN")
            .body(tonic::body::Body::empty())
            .unwrap();
        assert_eq!(language(&switched), "en");
    }

    #[test]
    fn every_language_renders_both_pages() {
        let pages = Pages::new(&WebConfig::default()).unwrap();
        for lang in LANGUAGES {
            assert!(pages.form.contains_key(lang) && pages.claim.contains_key(lang));
        }
    }
}
