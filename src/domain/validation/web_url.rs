//! The one rule for every URL a request carries (article URLs, claimed articles, works,
//! evidence): an absolute http(s) URL with a host, no user name or password, a valid
//! port. Every accepted URL is stored and compared in its normal form, so spellings of
//! one address (`HTTPS://News.Example.org:443/./a/%73tory/` and
//! `https://news.example.org/a/story`) name one article.
//!
//! Normal form: WHATWG parsing (the `url` crate: lower-case scheme and host, IDNA to
//! punycode, default port dropped, dot segments resolved), then a trailing dot of the
//! host dropped, percent-encoded unreserved characters decoded (RFC 3986 6.2.2.2), the
//! fragment dropped (it never reaches a server), and a trailing slash of a path other
//! than `/` dropped.

use url::{Host, Url};

use super::limits;

/// Why a URL is refused, for the caller.
pub const URL_RULE: &str = "must be an absolute http(s) URL with a host, no user name or \
                            password, and no spaces or control characters, such as \
                            https://news.example.org/2024/01/15/story";

/// The normal form of `s`, or `None` if it breaks the rule.
pub fn normalize_url(s: &str) -> Option<String> {
    if s.len() > limits::URL
        || s.chars()
            .any(|c| c.is_control() || c.is_whitespace() || super::is_invisible(c))
    {
        return None;
    }
    // WHATWG parsing forgives what a careful reader would not: `https:///host` and
    // backslashes for slashes. Ask for the plain written form.
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &s[8..]
    } else if lower.starts_with("http://") {
        &s[7..]
    } else {
        return None;
    };
    if rest.is_empty() || rest.starts_with('/') || s.contains('\\') {
        return None;
    }
    let mut url = Url::parse(s).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return None;
    }
    if !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    match url.host()? {
        Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_string();
            if d.is_empty() || d.starts_with('.') {
                return None;
            }
            url.set_host(Some(&d)).ok()?;
        }
        Host::Ipv4(_) | Host::Ipv6(_) => {}
    }
    url.set_fragment(None);
    let path = decode_unreserved(url.path());
    let path = match path.strip_suffix('/') {
        Some(p) if !p.is_empty() => p.to_string(),
        _ => path,
    };
    url.set_path(&path);
    if let Some(q) = url.query() {
        let q = decode_unreserved(q);
        url.set_query(Some(&q));
    }
    Some(url.to_string()).filter(|u| u.len() <= limits::URL)
}

/// True if `s` is a URL the rule accepts.
pub fn is_http_url(s: &str) -> bool {
    normalize_url(s).is_some()
}

/// Decodes `%XX` escapes of unreserved characters (letters, digits, `-._~`), which
/// mean the same decoded; other escapes stay, with upper-case hex digits.
fn decode_unreserved(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            let c = h * 16 + l;
            if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
                out.push(c as char);
            } else {
                out.push('%');
                out.push((b[i + 1] as char).to_ascii_uppercase());
                out.push((b[i + 2] as char).to_ascii_uppercase());
            }
            i += 3;
            continue;
        }
        // Non-ASCII never occurs here: the parser percent-encodes it.
        out.push(b[i] as char);
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_address_have_one_normal_form() {
        let want = "https://news.example.org/story";
        for s in [
            "https://news.example.org/story",
            "https://news.example.org/story/",
            "https://news.example.org:443/story",
            "HTTPS://NEWS.Example.ORG/story",
            "https://news.example.org/./story",
            "https://news.example.org/a/../story",
            "https://news.example.org/%73tory",
            "https://news.example.org./story",
            "https://news.example.org/story#comments",
        ] {
            assert_eq!(normalize_url(s).as_deref(), Some(want), "{s}");
        }
        assert_eq!(
            normalize_url("http://news.example.org:80/").as_deref(),
            Some("http://news.example.org/")
        );
        assert_eq!(
            normalize_url("https://bücher.example/x").as_deref(),
            Some("https://xn--bcher-kva.example/x")
        );
        // A reserved character's escape keeps its meaning, so it stays escaped.
        assert_eq!(
            normalize_url("https://a.example/a%2fb?q=%3d").as_deref(),
            Some("https://a.example/a%2Fb?q=%3D")
        );
        // A different port, path or query is another address.
        assert_ne!(
            normalize_url("https://a.example:8443/x"),
            normalize_url("https://a.example/x")
        );
        assert_ne!(
            normalize_url("https://a.example/x?p=1"),
            normalize_url("https://a.example/x")
        );
    }

    #[test]
    fn what_the_rule_refuses() {
        for s in [
            "javascript:alert(1)",
            "data:text/html,<b>x</b>",
            "file:///etc/passwd",
            "ftp://files.example.org/x",
            "not a url",
            "https:///nohost",
            "https://:443/",
            "https://host:port/",
            "https://host.example:99999/",
            "https://user@host.example/x",
            "https://user:pw@host.example/x",
            "https://news.example.org/a\u{0}b",
            "https://news.example.org/a b",
            "https://news.example.org/a\u{202e}b",
            "https://news\u{200b}.example.org/",
            "//news.example.org/x",
            "https:\\\\news.example.org\\x",
        ] {
            assert_eq!(normalize_url(s), None, "{s:?}");
        }
        assert!(is_http_url("http://[2001:db8::1]:8080/x"));
        assert!(is_http_url("https://192.0.2.1/x"));
    }
}
