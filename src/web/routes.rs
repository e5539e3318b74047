//! The HTTP routes of the API, read at start from the `google.api.http` option of every
//! RPC in the descriptor set: one table, no hand-written route per RPC. A template is
//! the subset of the `google.api.HttpRule` grammar this API uses: literal segments,
//! single-segment variables (`{claim_id}`) and a custom verb (`:withdraw`).

use prost_reflect::{DescriptorPool, DynamicMessage, MethodDescriptor, Value};

/// The HTTP method and path template of one RPC, and where its body goes.
#[derive(Debug, Clone)]
pub struct Route {
    pub method: http::Method,
    /// The template as written in the annotation, for messages.
    pub template: String,
    segments: Vec<Segment>,
    verb: Option<String>,
    /// `None`: no body; `Some("*")`: the whole request; `Some(field)`: that field.
    pub body: Option<String>,
    pub rpc: MethodDescriptor,
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    /// A variable bound to this (dotted) field path.
    Variable(String),
}

/// Why an annotation cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error(
        "google/api/annotations.proto is not in the descriptor set; build.rs compiles it from third_party/googleapis"
    )]
    NoAnnotation,
    #[error("{rpc} has no google.api.http option; give it one (see docs/web.md)")]
    Missing { rpc: String },
    #[error("{rpc}: the google.api.http template {template:?} is not supported: {why}")]
    Template {
        rpc: String,
        template: String,
        why: String,
    },
}

/// Every routed RPC of the pool's `takedown.v1` services.
#[derive(Debug, Clone)]
pub struct Routes {
    routes: Vec<Route>,
}

/// What a request's method and path matched.
pub enum Match<'a> {
    Found {
        route: &'a Route,
        /// (field path, value) for each path variable.
        bindings: Vec<(String, String)>,
    },
    /// The path is known, but not with this method; these are.
    WrongMethod(Vec<http::Method>),
    NotFound,
}

impl Routes {
    /// Reads the route of every method of every `takedown.v1` service; any RPC without
    /// an annotation, or with one this transcoder cannot serve, is an error.
    pub fn from_pool(pool: &DescriptorPool) -> Result<Routes, Vec<RouteError>> {
        let mut routes = Vec::new();
        let mut errors = Vec::new();
        let Some(http_ext) = pool.get_extension_by_name("google.api.http") else {
            return Err(vec![RouteError::NoAnnotation]);
        };
        for service in pool
            .services()
            .filter(|s| s.package_name() == "takedown.v1")
        {
            for rpc in service.methods() {
                let options = rpc.options();
                if !options.has_extension(&http_ext) {
                    errors.push(RouteError::Missing {
                        rpc: rpc.full_name().to_string(),
                    });
                    continue;
                }
                let rule = options.get_extension(&http_ext);
                match rule.as_message().map(|rule| Route::from_rule(rule, &rpc)) {
                    Some(Ok(route)) => routes.push(route),
                    Some(Err(e)) => errors.push(e),
                    None => errors.push(RouteError::Missing {
                        rpc: rpc.full_name().to_string(),
                    }),
                }
            }
        }
        if errors.is_empty() {
            Ok(Routes { routes })
        } else {
            Err(errors)
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }

    /// The route for `method` and `path` (percent-encoded, as on the wire).
    pub fn find(&self, method: &http::Method, path: &str) -> Match<'_> {
        let mut allowed = Vec::new();
        // HEAD is not an RPC; GET routes answer it as GET would, without a body.
        let wanted = if method == http::Method::HEAD {
            &http::Method::GET
        } else {
            method
        };
        for route in &self.routes {
            if let Some(bindings) = route.matches(path) {
                if route.method == wanted {
                    return Match::Found { route, bindings };
                }
                allowed.push(route.method.clone());
            }
        }
        if allowed.is_empty() {
            Match::NotFound
        } else {
            Match::WrongMethod(allowed)
        }
    }
}

impl Route {
    fn from_rule(rule: &DynamicMessage, rpc: &MethodDescriptor) -> Result<Route, RouteError> {
        let text = |name: &str| match rule.get_field_by_name(name).as_deref() {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        let (method, template) = ["get", "post", "put", "patch", "delete"]
            .into_iter()
            .find_map(|m| {
                let t = text(m);
                (!t.is_empty()).then(|| (m.to_ascii_uppercase(), t))
            })
            .ok_or_else(|| RouteError::Template {
                rpc: rpc.full_name().to_string(),
                template: String::new(),
                why: "no get, post, put, patch or delete pattern".to_string(),
            })?;
        let fail = |why: &str| RouteError::Template {
            rpc: rpc.full_name().to_string(),
            template: template.clone(),
            why: why.to_string(),
        };
        let method = http::Method::from_bytes(method.as_bytes()).map_err(|_| fail("method"))?;
        let (segments, verb) = parse_template(&template).map_err(|why| fail(&why))?;
        for segment in &segments {
            if let Segment::Variable(field) = segment
                && field_kind(&rpc.input(), field).is_none()
            {
                return Err(fail(&format!(
                    "{{{field}}} is not a field of {}",
                    rpc.input().full_name()
                )));
            }
        }
        let body = match text("body") {
            b if b.is_empty() => None,
            b if b == "*" => Some(b),
            b if rpc.input().get_field_by_name(&b).is_some() => Some(b),
            b => return Err(fail(&format!("body {b:?} is not a field of the request"))),
        };
        Ok(Route {
            method,
            template: template.clone(),
            segments,
            verb,
            body,
            rpc: rpc.clone(),
        })
    }

    /// The path variables' bindings if `path` fits this template.
    fn matches(&self, path: &str) -> Option<Vec<(String, String)>> {
        let path = path.strip_prefix('/')?;
        let path = match &self.verb {
            Some(verb) => path.strip_suffix(verb.as_str())?.strip_suffix(':')?,
            None => path,
        };
        let parts: Vec<&str> = path.split('/').collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut bindings = Vec::new();
        for (segment, part) in self.segments.iter().zip(parts) {
            match segment {
                Segment::Literal(l) if l == part => {}
                Segment::Literal(_) => return None,
                Segment::Variable(field) => {
                    // An id never holds ':' or is empty; a part that does belongs to
                    // another route's custom verb.
                    if part.is_empty() || part.contains(':') {
                        return None;
                    }
                    let value = percent_decode(part)?;
                    bindings.push((field.clone(), value));
                }
            }
        }
        Some(bindings)
    }

    /// `/takedown.v1.ClaimService/FileClaim`: the gRPC path of this route's RPC.
    pub fn grpc_path(&self) -> String {
        format!(
            "/{}/{}",
            self.rpc.parent_service().full_name(),
            self.rpc.name()
        )
    }

    /// A path for this route with each variable replaced by `value(field)`.
    pub fn path_with(&self, value: impl Fn(&str) -> String) -> String {
        let mut path = String::new();
        for segment in &self.segments {
            path.push('/');
            match segment {
                Segment::Literal(l) => path.push_str(l),
                Segment::Variable(field) => path.push_str(&value(field)),
            }
        }
        if let Some(verb) = &self.verb {
            path.push(':');
            path.push_str(verb);
        }
        path
    }
}

/// Splits `/v1/claims/{claim_id}:withdraw` into segments and a verb.
fn parse_template(template: &str) -> Result<(Vec<Segment>, Option<String>), String> {
    let rest = template
        .strip_prefix('/')
        .ok_or("a template starts with '/'")?;
    // The verb is after the last ':' that is outside braces.
    let mut depth = 0;
    let mut verb_at = None;
    for (i, c) in rest.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ':' if depth == 0 => verb_at = Some(i),
            _ => {}
        }
    }
    let (path, verb) = match verb_at {
        Some(i) => (&rest[..i], Some(rest[i + 1..].to_string())),
        None => (rest, None),
    };
    let mut segments = Vec::new();
    for part in path.split('/') {
        if let Some(var) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            let field = match var.split_once('=') {
                Some((field, "*")) => field,
                Some(_) => return Err(format!("{{{var}}}: only {{field}} or {{field=*}}")),
                None => var,
            };
            segments.push(Segment::Variable(field.to_string()));
        } else if part.is_empty() || part.contains(['{', '}', '*']) {
            return Err(format!("segment {part:?}: only literals and {{field}}"));
        } else {
            segments.push(Segment::Literal(part.to_string()));
        }
    }
    Ok((segments, verb))
}

/// The kind of the field at a dotted path of `message`, if there is one.
pub fn field_kind(
    message: &prost_reflect::MessageDescriptor,
    path: &str,
) -> Option<prost_reflect::FieldDescriptor> {
    let mut current = message.clone();
    let mut parts = path.split('.').peekable();
    while let Some(name) = parts.next() {
        let field = current
            .get_field_by_name(name)
            .or_else(|| current.get_field_by_json_name(name))?;
        if parts.peek().is_none() {
            return Some(field);
        }
        current = field.kind().as_message()?.clone();
    }
    None
}

/// Percent-decodes a path segment or query part; `None` if it is not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Some(b) = std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_into_segments_and_a_verb() {
        let (segments, verb) = parse_template("/v1/claims/{claim_id}:withdraw").unwrap();
        assert_eq!(
            segments,
            vec![
                Segment::Literal("v1".into()),
                Segment::Literal("claims".into()),
                Segment::Variable("claim_id".into()),
            ]
        );
        assert_eq!(verb.as_deref(), Some("withdraw"));
        assert!(parse_template("/v1/{name=claims/*}").is_err());
        assert!(parse_template("v1/claims").is_err());
    }

    fn rpc_at(routes: &Routes, method: http::Method, path: &str) -> Option<String> {
        match routes.find(&method, path) {
            Match::Found { route, bindings } => Some(format!(
                "{} {:?}",
                route.rpc.name(),
                bindings.first().map(|(_, v)| v.as_str())
            )),
            _ => None,
        }
    }

    #[test]
    fn a_custom_verb_picks_its_own_rpc_and_ids_are_decoded() {
        let routes = Routes::from_pool(&crate::web::descriptor_pool().unwrap()).unwrap();
        assert_eq!(
            rpc_at(&routes, http::Method::GET, "/v1/claims/c%201").as_deref(),
            Some("GetClaim Some(\"c 1\")")
        );
        assert_eq!(
            rpc_at(&routes, http::Method::POST, "/v1/claims/c1:withdraw").as_deref(),
            Some("WithdrawClaim Some(\"c1\")")
        );
        assert_eq!(
            rpc_at(&routes, http::Method::HEAD, "/v1/claims").as_deref(),
            Some("ListClaims None")
        );
        assert!(matches!(
            routes.find(&http::Method::GET, "/v1/claims/c1:withdraw"),
            Match::WrongMethod(_)
        ));
        assert!(matches!(
            routes.find(&http::Method::GET, "/v1/claims/c1:nothing"),
            Match::NotFound
        ));
    }

    #[test]
    fn percent_decoding_keeps_plain_text_and_refuses_bad_utf8() {
        assert_eq!(percent_decode("a%20b%3Ac").as_deref(), Some("a b:c"));
        assert_eq!(percent_decode("100%").as_deref(), Some("100%"));
        assert_eq!(percent_decode("%ff"), None);
    }
}
