//! `UrlTarget`: the scheme, host, port and path of a request URL, split without allocating.
//!
//! A middleware sees the URL of every request, so the common case (a URL already normalized by
//! the `url` crate, as `reqwest::Url::as_str` gives it) is split by hand in a few nanoseconds.
//! Anything a WHATWG parser might read differently from a naive split (backslashes, whitespace,
//! percent-encoding, non-ASCII hosts, numeric hosts, dot segments) goes through `url::Url`, so
//! the host we match is always the host the request will be sent to.

use std::borrow::Cow;

/// The URL schemes a credential can apply to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http://`: credentials only for keys that name it, or loopback (the middleware decides).
    Http,
    /// `https://`.
    Https,
    /// `s3://bucket/key`.
    S3,
}

impl Scheme {
    /// The scheme as written in a URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
            Self::S3 => "s3",
        }
    }

    fn from_str_ignore_case(text: &str) -> Option<Self> {
        if text.eq_ignore_ascii_case("https") {
            Some(Self::Https)
        } else if text.eq_ignore_ascii_case("http") {
            Some(Self::Http)
        } else if text.eq_ignore_ascii_case("s3") {
            Some(Self::S3)
        } else {
            None
        }
    }

    fn default_port(self) -> Option<u16> {
        match self {
            Self::Http => Some(80),
            Self::Https => Some(443),
            Self::S3 => None,
        }
    }
}

/// Why a URL cannot be matched against credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlTargetError {
    /// Not an absolute URL.
    #[error("not an absolute URL")]
    NotAbsolute,
    /// A scheme no credential applies to.
    #[error("credentials apply only to http, https and s3 URLs")]
    UnsupportedScheme,
    /// No host.
    #[error("the URL has no host")]
    NoHost,
}

/// The parts of a URL that credential keys are matched on. User information is skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTarget<'a> {
    scheme: Scheme,
    host: Cow<'a, str>,
    port: Option<u16>,
    path: Cow<'a, str>,
}

impl<'a> UrlTarget<'a> {
    /// Splits a URL string.
    pub fn parse(url: &'a str) -> Result<Self, UrlTargetError> {
        match Self::parse_fast(url) {
            Some(target) => target,
            None => Self::parse_slow(url),
        }
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host: lower-case, IDNA-encoded, no trailing dot; IPv6 in brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The explicit port, if the URL has one.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The explicit port, else the scheme's default.
    pub fn effective_port(&self) -> Option<u16> {
        self.port.or_else(|| self.scheme.default_port())
    }

    /// The path, `/` at least; no query or fragment.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `None` when the string needs the full WHATWG parser.
    fn parse_fast(url: &'a str) -> Option<Result<Self, UrlTargetError>> {
        let (scheme, rest) = url.split_once("://")?;
        let Some(scheme) = Scheme::from_str_ignore_case(scheme) else {
            return Some(Err(UrlTargetError::UnsupportedScheme));
        };
        let authority_end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
        let path = &tail[..path_end];
        if !url.bytes().all(|b| b.is_ascii_graphic())
            || path.contains(['\\', '%'])
            || path.contains("/.")
        {
            return None;
        }
        let host_port = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        let (host, port) = if host_port.starts_with('[') {
            // IPv6 literals are rare on this path; let the full parser canonicalize them.
            return None;
        } else {
            match host_port.rsplit_once(':') {
                Some((host, "")) => (host, None),
                Some((host, port)) => (host, Some(port.parse::<u16>().ok()?)),
                None => (host_port, None),
            }
        };
        let host = host.strip_suffix('.').unwrap_or(host);
        if host.contains('%')
            || host
                .rsplit('.')
                .next()
                .is_some_and(|label| label.starts_with(|c: char| c.is_ascii_digit()))
        {
            // Percent-encoded and numeric hosts (IPv4 in any of its spellings) need the parser.
            return None;
        }
        if host.is_empty() {
            return Some(Err(UrlTargetError::NoHost));
        }
        if !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        {
            return None;
        }
        let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(host.to_ascii_lowercase())
        } else {
            Cow::Borrowed(host)
        };
        let port = port.filter(|port| Some(*port) != scheme.default_port());
        let path = if path.is_empty() { "/" } else { path };
        Some(Ok(Self {
            scheme,
            host,
            port,
            path: Cow::Borrowed(path),
        }))
    }

    fn parse_slow(url: &str) -> Result<Self, UrlTargetError> {
        let parsed = url::Url::parse(url).map_err(|_| UrlTargetError::NotAbsolute)?;
        let scheme = Scheme::from_str_ignore_case(parsed.scheme())
            .ok_or(UrlTargetError::UnsupportedScheme)?;
        let host = match parsed.host().ok_or(UrlTargetError::NoHost)? {
            url::Host::Domain(domain) => {
                let domain = domain.strip_suffix('.').unwrap_or(domain);
                if domain.is_empty() {
                    return Err(UrlTargetError::NoHost);
                }
                // Non-special schemes (s3) keep the host's case; buckets are lower-case anyway.
                domain.to_ascii_lowercase()
            }
            url::Host::Ipv4(addr) => addr.to_string(),
            url::Host::Ipv6(addr) => format!("[{addr}]"),
        };
        let path = if parsed.path().is_empty() {
            "/"
        } else {
            parsed.path()
        };
        Ok(Self {
            scheme,
            host: Cow::Owned(host),
            port: parsed
                .port()
                .filter(|port| Some(*port) != scheme.default_port()),
            path: Cow::Owned(path.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::UrlTarget;

    fn split(url: &str) -> String {
        match UrlTarget::parse(url) {
            Ok(t) => format!(
                "{} {} {:?} {}",
                t.scheme().as_str(),
                t.host(),
                t.port(),
                t.path()
            ),
            Err(err) => format!("error: {err}"),
        }
    }

    #[test]
    fn splits_like_the_whatwg_parser() {
        let urls = [
            "https://prefix.dev/conda-forge/repodata.json",
            "https://Repo.Prefix.DEV./x?y=1#z",
            "https://prefix.dev:443/",
            "https://prefix.dev:8443",
            "http://user:p%40ss@host.example/a",
            // The backslash ends the authority for special schemes: the host is evil.test.
            "https://evil.test\\@prefix.dev/",
            "https://prefix.dev@evil.test/",
            "https://prefix.dev.evil.test/",
            "https://0x7f.1/",
            "http://127.0.0.1:8080/t/abc/x",
            "http://[::1]:8080/x",
            "https://bücher.example/",
            "https://host/a/../b",
            "https://host/a/%2e%2e/b",
            "s3://my-bucket/some/key.tar.bz2",
            "ftp://host/",
            "prefix.dev",
            "https:///x",
        ];
        let mut out = String::new();
        for url in urls {
            writeln!(out, "{url:<46} {}", split(url)).unwrap();
        }
        insta::assert_snapshot!(out, @r#"
        https://prefix.dev/conda-forge/repodata.json   https prefix.dev None /conda-forge/repodata.json
        https://Repo.Prefix.DEV./x?y=1#z               https repo.prefix.dev None /x
        https://prefix.dev:443/                        https prefix.dev None /
        https://prefix.dev:8443                        https prefix.dev Some(8443) /
        http://user:p%40ss@host.example/a              http host.example None /a
        https://evil.test\@prefix.dev/                 https evil.test None /@prefix.dev/
        https://prefix.dev@evil.test/                  https evil.test None /
        https://prefix.dev.evil.test/                  https prefix.dev.evil.test None /
        https://0x7f.1/                                https 127.0.0.1 None /
        http://127.0.0.1:8080/t/abc/x                  http 127.0.0.1 Some(8080) /t/abc/x
        http://[::1]:8080/x                            http [::1] Some(8080) /x
        https://bücher.example/                        https xn--bcher-kva.example None /
        https://host/a/../b                            https host None /b
        https://host/a/%2e%2e/b                        https host None /b
        s3://my-bucket/some/key.tar.bz2                s3 my-bucket None /some/key.tar.bz2
        ftp://host/                                    error: credentials apply only to http, https and s3 URLs
        prefix.dev                                     error: not an absolute URL
        https:///x                                     error: the URL has no host
        "#);
    }
}
