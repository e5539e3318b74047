//! Cross-origin calls to the JSON API, off unless `--cors-origin` names origins: a CMS
//! that embeds the notice form on its own domain lists that domain. Credentials are
//! bearer tokens in `authorization`, never cookies, so no origin is trusted with more
//! than the caller's own token.

use http::{HeaderMap, HeaderValue};

/// The origins allowed to call the API from a browser.
#[derive(Debug, Clone)]
pub struct Cors {
    origins: Vec<String>,
}

impl Cors {
    pub fn new(origins: &[String]) -> Cors {
        Cors {
            origins: origins
                .iter()
                .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
                .collect(),
        }
    }

    fn allowed<'a>(&self, origin: Option<&'a HeaderValue>) -> Option<&'a HeaderValue> {
        let origin = origin?;
        let text = origin.to_str().ok()?.to_ascii_lowercase();
        self.origins.contains(&text).then_some(origin)
    }

    /// The answer to a preflight (`OPTIONS`) request.
    pub fn preflight(&self, origin: Option<&HeaderValue>) -> http::Response<tonic::body::Body> {
        let mut response = http::Response::new(tonic::body::Body::empty());
        if self.allowed(origin).is_some() {
            *response.status_mut() = http::StatusCode::NO_CONTENT;
            let headers = response.headers_mut();
            headers.insert(
                http::header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE"),
            );
            headers.insert(
                http::header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("authorization, content-type"),
            );
            headers.insert(
                http::header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        } else {
            *response.status_mut() = http::StatusCode::FORBIDDEN;
        }
        response
    }

    /// Adds the CORS headers to an answer for an allowed origin.
    pub fn allow(&self, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
        headers.append(http::header::VARY, HeaderValue::from_static("origin"));
        if let Some(origin) = self.allowed(origin) {
            headers.insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            headers.insert(
                http::header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("retry-after"),
            );
        }
    }
}
