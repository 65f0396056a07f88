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

    /// `None` when the string needs the full WHATWG parser. One pass over the authority, one
    /// over the host and port, one over the path; the query is never read.
    #[allow(
        clippy::needless_bitwise_bool,
        reason = "non-short-circuit `|` and `&` keep the path checks branch-free, so they vectorize"
    )]
    fn parse_fast(url: &'a str) -> Option<Result<Self, UrlTargetError>> {
        let bytes = url.as_bytes();
        let (scheme, start) = if starts_with_ignore_case(bytes, b"https://") {
            (Scheme::Https, 8)
        } else if starts_with_ignore_case(bytes, b"http://") {
            (Scheme::Http, 7)
        } else if starts_with_ignore_case(bytes, b"s3://") {
            (Scheme::S3, 5)
        } else {
            return None;
        };

        // The authority ends at the first `/`, `?` or `#`; user information ends at its last `@`,
        // so everything noted about the host starts over at each `@`. A backslash (a path
        // separator to WHATWG), whitespace, controls and non-ASCII need the real parser, and so
        // does a host with `[` (IPv6), `%` (encoded) or a second `:`.
        let mut authority_end = bytes.len();
        let mut host_start = start;
        let mut colon = None;
        let mut uppercase = false;
        let mut unusual = false;
        for (at, &byte) in bytes.iter().enumerate().skip(start) {
            match byte {
                b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {}
                b'/' | b'?' | b'#' => {
                    authority_end = at;
                    break;
                }
                b'A'..=b'Z' => uppercase = true,
                b':' if colon.is_none() => colon = Some(at),
                b'@' => {
                    host_start = at + 1;
                    colon = None;
                    uppercase = false;
                    unusual = false;
                }
                b'\\' | 0..=0x20 | 0x7f..=0xff => return None,
                _ => unusual = true,
            }
        }
        if unusual {
            return None;
        }
        let host_end = colon.unwrap_or(authority_end);
        let port = if host_end + 1 >= authority_end {
            None
        } else {
            let mut port: u32 = 0;
            for &digit in &bytes[host_end + 1..authority_end] {
                if !digit.is_ascii_digit() || port > 65_535 {
                    return None;
                }
                port = port * 10 + u32::from(digit - b'0');
            }
            Some(u16::try_from(port).ok()?)
        };
        let mut host = &url[host_start..host_end];
        if let Some(stripped) = host.strip_suffix('.') {
            host = stripped;
        }
        if host.is_empty() {
            return Some(Err(UrlTargetError::NoHost));
        }
        // A last label that starts with a digit may be IPv4 in one of its many spellings.
        let last_label = host.rfind('.').map_or(host, |dot| &host[dot + 1..]);
        if last_label
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_digit)
        {
            return None;
        }

        // The path ends at `?` or `#`. Dot segments and percent-encoding are the parser's. The
        // checks are branch-free folds, which the compiler vectorizes: this is the hot loop.
        let tail = &bytes[authority_end..];
        let path_len = memchr::memchr2(b'?', b'#', tail).unwrap_or(tail.len());
        let path_bytes = &tail[..path_len];
        let unusual = path_bytes.iter().fold(false, |unusual, &byte| {
            unusual | (byte <= 0x20) | (byte >= 0x7f) | (byte == b'\\') | (byte == b'%')
        });
        let dot_segment = path_bytes.windows(2).fold(false, |found, pair| {
            found | ((pair[0] == b'/') & (pair[1] == b'.'))
        });
        if unusual || dot_segment {
            return None;
        }
        let path = &url[authority_end..authority_end + path_len];

        let host = if uppercase {
            Cow::Owned(host.to_ascii_lowercase())
        } else {
            Cow::Borrowed(host)
        };
        Some(Ok(Self {
            scheme,
            host,
            port: port.filter(|port| Some(*port) != scheme.default_port()),
            path: Cow::Borrowed(if path.is_empty() { "/" } else { path }),
        }))
    }

    fn parse_slow(url: &str) -> Result<Self, UrlTargetError> {
        let parsed = url::Url::parse(url).map_err(|_| UrlTargetError::NotAbsolute)?;
        let target = UrlTarget::from_url(&parsed)?;
        Ok(Self {
            scheme: target.scheme,
            host: Cow::Owned(target.host.into_owned()),
            port: target.port,
            path: Cow::Owned(target.path.into_owned()),
        })
    }
}

impl<'a> UrlTarget<'a> {
    /// The parts of a URL that is parsed already (as a `reqwest::Request` holds it), without
    /// parsing it again and, in the common case, without copying.
    pub fn from_url(parsed: &'a url::Url) -> Result<Self, UrlTargetError> {
        let scheme = Scheme::from_str_ignore_case(parsed.scheme())
            .ok_or(UrlTargetError::UnsupportedScheme)?;
        let host = match parsed.host().ok_or(UrlTargetError::NoHost)? {
            url::Host::Domain(domain) => {
                let domain = domain.strip_suffix('.').unwrap_or(domain);
                if domain.is_empty() {
                    return Err(UrlTargetError::NoHost);
                }
                // Non-special schemes (s3) keep the host's case; buckets are lower-case anyway.
                if domain.bytes().any(|byte| byte.is_ascii_uppercase()) {
                    Cow::Owned(domain.to_ascii_lowercase())
                } else {
                    Cow::Borrowed(domain)
                }
            }
            // The serialized forms: dotted quad, and IPv6 in brackets, compressed.
            url::Host::Ipv4(_) | url::Host::Ipv6(_) => {
                Cow::Borrowed(parsed.host_str().ok_or(UrlTargetError::NoHost)?)
            }
        };
        let path = if parsed.path().is_empty() {
            "/"
        } else {
            parsed.path()
        };
        Ok(Self {
            scheme,
            host,
            port: parsed
                .port()
                .filter(|port| Some(*port) != scheme.default_port()),
            path: Cow::Borrowed(path),
        })
    }
}

fn starts_with_ignore_case(text: &[u8], prefix: &[u8]) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
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

    /// `from_url` (what the middleware uses) agrees with `parse` on every URL both can read.
    #[test]
    fn from_a_parsed_url_is_the_same_split() {
        let urls = [
            "https://prefix.dev/conda-forge/repodata.json",
            "https://Repo.Prefix.DEV./x?y=1#z",
            "https://prefix.dev:443/",
            "HTTPS://EXAMPLE.com:08080/A/b?q=/../x",
            "https://a:b@c:d@host.example:81/",
            "https://evil.test\\@prefix.dev/",
            "https://0x7f.1/",
            "http://127.0.0.1:8080/t/abc/x",
            "http://[::1]:8080/x",
            "http://[0:0::1]/x",
            "https://bücher.example/",
            "https://host/a/%2e%2e/b",
            "s3://my-bucket/some/key.tar.bz2",
            "s3://My-Bucket/key",
        ];
        for url in urls {
            let parsed = url::Url::parse(url).unwrap();
            assert_eq!(
                UrlTarget::from_url(&parsed).unwrap(),
                UrlTarget::parse(url).unwrap(),
                "{url}"
            );
        }
    }

    #[test]
    fn splits_like_the_whatwg_parser() {
        let urls = [
            "https://prefix.dev/conda-forge/repodata.json",
            "https://Repo.Prefix.DEV./x?y=1#z",
            "https://prefix.dev:443/",
            "https://prefix.dev:8443",
            "HTTPS://EXAMPLE.com:08080/A/b?q=/../x",
            "https://host:99999/",
            "https://host:80x/",
            "https://a:b@c:d@host.example:81/",
            "https://host.example/a/.hidden",
            "https://host.example/a b",
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
        HTTPS://EXAMPLE.com:08080/A/b?q=/../x          https example.com Some(8080) /A/b
        https://host:99999/                            error: not an absolute URL
        https://host:80x/                              error: not an absolute URL
        https://a:b@c:d@host.example:81/               https host.example Some(81) /
        https://host.example/a/.hidden                 https host.example None /a/.hidden
        https://host.example/a b                       https host.example None /a%20b
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
