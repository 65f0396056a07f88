//! Puts a credential on a request: an `Authorization` header, or a conda token in the path.

use base64::Engine as _;
use http::HeaderValue;
use http::header::AUTHORIZATION;
use reqwest::Request;

/// `Authorization: Bearer <token>` (RFC 6750), marked sensitive.
pub(crate) fn bearer(request: &mut Request, token: &str) {
    set_authorization(request, &format!("Bearer {token}"));
}

/// `Authorization: Basic base64(user:password)` (RFC 7617, UTF-8), marked sensitive.
pub(crate) fn basic(request: &mut Request, username: &str, password: &str) {
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    set_authorization(request, &format!("Basic {encoded}"));
}

fn set_authorization(request: &mut Request, value: &str) {
    // A token with bytes a header cannot carry is sent as nothing rather than mangled; the
    // server's 401 then says what is wrong.
    if let Ok(mut value) = HeaderValue::from_str(value) {
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
    } else {
        tracing::warn!(
            "the stored credential has characters an HTTP header cannot carry; it was not sent"
        );
    }
}

/// The conda token as the first path segments: `/t/<TOKEN>/rest`, unless the path already
/// starts with a `/t/<…>/` segment.
pub(crate) fn conda_token(request: &mut Request, token: &str) {
    let url = request.url_mut();
    if has_conda_token(url.path()) {
        return;
    }
    let mut path = String::with_capacity(url.path().len() + token.len() + 3);
    path.push_str("/t/");
    encode_segment(token, &mut path);
    path.push_str(url.path());
    url.set_path(&path);
}

/// Whether a path already carries a conda token: `/t/<non-empty>/…`.
pub(crate) fn has_conda_token(path: &str) -> bool {
    path.strip_prefix("/t/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(token, _)| !token.is_empty())
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so a token cannot add path
/// segments or a query.
fn encode_segment(segment: &str, out: &mut String) {
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xF)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str) -> Request {
        Request::new(reqwest::Method::GET, url.parse().unwrap())
    }

    #[test]
    fn conda_token_goes_first_in_the_path() {
        let mut req = request("https://conda.example/channel/noarch/repodata.json?x=1");
        conda_token(&mut req, "abc-123");
        assert_eq!(
            req.url().as_str(),
            "https://conda.example/t/abc-123/channel/noarch/repodata.json?x=1"
        );
    }

    #[test]
    fn a_path_with_a_token_is_left_alone() {
        let mut req = request("https://conda.example/t/other/channel/");
        conda_token(&mut req, "abc");
        assert_eq!(req.url().path(), "/t/other/channel/");
        assert!(!has_conda_token("/t//x"));
        assert!(!has_conda_token("/tx/a/b"));
        assert!(!has_conda_token("/t/only"));
    }

    #[test]
    fn a_token_cannot_add_segments() {
        let mut req = request("https://conda.example/c/");
        conda_token(&mut req, "a/b?c d");
        assert_eq!(req.url().path(), "/t/a%2Fb%3Fc%20d/c/");
        assert_eq!(req.url().query(), None);
    }

    #[test]
    fn headers_are_sensitive_and_basic_is_utf8() {
        let mut req = request("https://h.example/");
        basic(&mut req, "zoë", "p:w@d");
        let value = &req.headers()[AUTHORIZATION];
        assert!(value.is_sensitive());
        let expected = base64::engine::general_purpose::STANDARD.encode("zoë:p:w@d");
        assert_eq!(value.to_str().unwrap(), format!("Basic {expected}"));
        assert!(!format!("{:?}", req.headers()).contains(&expected));

        bearer(&mut req, "tok");
        assert!(req.headers()[AUTHORIZATION].is_sensitive());
        assert_eq!(req.headers()[AUTHORIZATION], "Bearer tok");
    }

    #[test]
    fn a_token_a_header_cannot_carry_is_not_sent() {
        let mut req = request("https://h.example/");
        bearer(&mut req, "bad\ntoken");
        assert!(req.headers().get(AUTHORIZATION).is_none());
    }
}
