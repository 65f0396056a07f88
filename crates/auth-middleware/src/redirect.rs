//! Following redirects ourselves, so each hop gets the credential for its own URL and none of
//! the previous one's.

use http::header::{
    AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HOST, LOCATION,
    PROXY_AUTHORIZATION,
};
use http::{HeaderMap, Method, StatusCode};
use reqwest::{Request, Response};
use url::Url;

/// Whether a status is a redirect the middleware follows.
pub(crate) fn is_redirect(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    )
}

/// Where a redirect response points, resolved against the URL that was sent.
/// `None` without a `Location`; `Err` when it is not a URL.
pub(crate) fn location(response: &Response) -> Option<Result<Url, ()>> {
    let location = response.headers().get(LOCATION)?;
    let location = location.to_str().map_err(|_| ());
    Some(location.and_then(|location| response.url().join(location).map_err(|_| ())))
}

/// What the next hop of a redirect needs from the request as the caller made it, before any
/// credential was put on it: taken before each send (cheap: the URL is not copied, and the body
/// only when there is one).
#[derive(Debug)]
pub(crate) struct Replay {
    method: Method,
    headers: HeaderMap,
    body: Option<reqwest::Body>,
    timeout: Option<std::time::Duration>,
    version: http::Version,
}

impl Replay {
    /// `None` when the body cannot be sent again (a stream).
    pub(crate) fn of(request: &Request) -> Option<Self> {
        let body = match request.body() {
            None => None,
            Some(_) => request.try_clone()?.body_mut().take(),
        };
        Some(Self {
            method: request.method().clone(),
            headers: request.headers().clone(),
            body,
            timeout: request.timeout().copied(),
            version: request.version(),
        })
    }

    /// The next request of the chain, to `to`, after `status` from `sent`.
    ///
    /// What crosses to a new origin (scheme, host and port) is only what the caller set and is
    /// not a credential: `Authorization`, `Cookie` and `Proxy-Authorization` are dropped.
    pub(crate) fn follow(self, status: StatusCode, sent: &Url, to: Url) -> Request {
        let keeps_method = matches!(
            status,
            StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
        );
        let method = if keeps_method
            || self.method == Method::HEAD
            || (status != StatusCode::SEE_OTHER && self.method != Method::POST)
        {
            self.method.clone()
        } else {
            Method::GET
        };
        let same_origin = sent.origin() == to.origin();
        let body = if method == self.method {
            self.body
        } else {
            None
        };
        let mut next = Request::new(method, to);
        *next.timeout_mut() = self.timeout;
        *next.version_mut() = self.version;
        let has_body = body.is_some();
        *next.body_mut() = body;
        let mut name = None;
        for (header, value) in self.headers {
            // `HeaderMap::into_iter` names a header once, then gives its further values unnamed.
            if header.is_some() {
                name = header;
            }
            let Some(name) = &name else { continue };
            let credential =
                *name == AUTHORIZATION || *name == COOKIE || *name == PROXY_AUTHORIZATION;
            let body_header =
                *name == CONTENT_LENGTH || *name == CONTENT_TYPE || *name == CONTENT_ENCODING;
            if *name == HOST || (credential && !same_origin) || (body_header && !has_body) {
                continue;
            }
            next.headers_mut().append(name.clone(), value);
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn request(method: Method, url: &str) -> Request {
        let mut req = Request::new(method, url.parse().unwrap());
        let headers = req.headers_mut();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer caller"));
        headers.insert(COOKIE, HeaderValue::from_static("c=1"));
        headers.insert("x-custom", HeaderValue::from_static("kept"));
        req
    }

    #[test]
    fn a_new_origin_gets_no_caller_credentials() {
        for to in [
            "https://other.example/x",
            "https://a.example:444/x",
            "http://a.example/x",
        ] {
            let prev = request(Method::GET, "https://a.example/start");
            let next = Replay::of(&prev).unwrap().follow(
                StatusCode::FOUND,
                prev.url(),
                to.parse().unwrap(),
            );
            assert!(next.headers().get(AUTHORIZATION).is_none(), "{to}");
            assert!(next.headers().get(COOKIE).is_none(), "{to}");
            assert_eq!(next.headers()["x-custom"], "kept");
        }
    }

    #[test]
    fn the_same_origin_keeps_them() {
        let prev = request(Method::GET, "https://a.example/start");
        let to = "https://a.example:443/other".parse().unwrap();
        let next = Replay::of(&prev)
            .unwrap()
            .follow(StatusCode::FOUND, prev.url(), to);
        assert_eq!(next.headers()[AUTHORIZATION], "Bearer caller");
    }

    #[test]
    fn methods_follow_the_status() {
        let cases = [
            (Method::POST, StatusCode::FOUND, Method::GET),
            (Method::POST, StatusCode::MOVED_PERMANENTLY, Method::GET),
            (Method::PUT, StatusCode::SEE_OTHER, Method::GET),
            (Method::HEAD, StatusCode::SEE_OTHER, Method::HEAD),
            (Method::PUT, StatusCode::FOUND, Method::PUT),
            (Method::POST, StatusCode::TEMPORARY_REDIRECT, Method::POST),
            (Method::PUT, StatusCode::PERMANENT_REDIRECT, Method::PUT),
        ];
        for (from, status, to) in cases {
            let mut prev = request(from.clone(), "https://a.example/");
            *prev.body_mut() = Some(reqwest::Body::from("data"));
            prev.headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from_static("4"));
            let next = Replay::of(&prev).unwrap().follow(
                status,
                prev.url(),
                "https://a.example/b".parse().unwrap(),
            );
            assert_eq!(*next.method(), to, "{from} {status}");
            assert_eq!(next.body().is_some(), from == to, "{from} {status}");
            assert_eq!(
                next.headers().contains_key(CONTENT_LENGTH),
                from == to,
                "{from} {status}"
            );
        }
    }
}
