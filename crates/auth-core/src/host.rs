//! Host keys (`prefix.dev`, `*.prefix.dev`, `host:8443`, `host/path`, `s3://bucket/prefix`) and
//! how a key matches a request URL.
//!
//! Specificity follows git's `credential.<url>` matching: the host decides first (an exact host
//! beats any wildcard, a longer wildcard base beats a shorter one), then an explicit port, then
//! the longest path prefix, then an explicit scheme.

use std::fmt;

use crate::url_target::{Scheme, UrlTarget};

/// A stored credential's key, parsed.
///
/// The original string is kept as it is (`as_str`), so a key written by pixi is found and removed
/// under the exact name pixi gave it; matching uses the parsed, lower-cased parts.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct HostKey {
    raw: Box<str>,
    scheme: Option<Scheme>,
    host: HostSpec,
    port: Option<u16>,
    /// Without a trailing slash; `None` for the whole host.
    path: Option<Box<str>>,
}

/// The host part of a key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HostSpec {
    /// Exactly this host (lower-case, IDNA-encoded).
    Exact(Box<str>),
    /// `*.base`: `base` itself and every subdomain of it at a label boundary.
    Wildcard(Box<str>),
    /// Every host: only `.netrc`'s `default` entry, made by [`HostKey::any_host`], never parsed
    /// from text, so no stored key can send a credential everywhere by accident.
    Any,
}

/// Why a string is not a usable host key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostKeyError {
    /// Empty input.
    #[error("the host is empty")]
    Empty,
    /// A scheme other than `http`, `https` or `s3`.
    #[error("unsupported scheme `{0}://`; use a host name, `https://HOST` or `s3://BUCKET`")]
    UnsupportedScheme(String),
    /// Not a valid host name or address.
    #[error("`{0}` is not a valid host name")]
    InvalidHost(String),
    /// A port that is not a number from 1 to 65535.
    #[error("`{0}` is not a valid port")]
    InvalidPort(String),
    /// A query or fragment, which a key cannot hold.
    #[error("a host key cannot contain `?` or `#`")]
    QueryOrFragment,
    /// A wildcard anywhere but as the whole first label.
    #[error("a wildcard must be the whole first label, as in `*.example.com`")]
    MisplacedWildcard,
    /// A wildcard whose base is a public suffix: it would send the credential to unrelated sites.
    #[error(
        "`*.{0}` would match every site under the public suffix `{0}`; use the registry's own domain, such as `*.example.{0}`"
    )]
    PublicSuffixWildcard(String),
    /// A path with a `.` or `..` segment, which no request path (normalized by the client) has.
    #[error("a host key's path cannot have `.` or `..` segments; write the path it leads to")]
    DotSegment,
    /// A control character, which no host or path can hold and a terminal would act on.
    #[error("a host key cannot contain control characters")]
    ControlCharacter,
    /// Longer than DNS allows (RFC 1035: 253 bytes in all, 63 a label).
    #[error("the host name is longer than DNS allows (253 bytes, 63 a label)")]
    TooLong,
    /// An S3 key with a port or wildcard.
    #[error("an S3 key is `s3://BUCKET` or `s3://BUCKET/PREFIX`")]
    InvalidS3Key,
}

/// How specific a key is; a greater value wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Specificity {
    /// `u32::MAX` for an exact host, else the number of labels in the wildcard base.
    host: u32,
    port: bool,
    path_len: usize,
    scheme: bool,
}

impl HostKey {
    /// Parses a key as it is stored (`*.prefix.dev`, `host:8443/path`, `s3://bucket/prefix`).
    pub fn parse(raw: &str) -> Result<Self, HostKeyError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(HostKeyError::Empty);
        }
        if trimmed.contains(['?', '#']) {
            return Err(HostKeyError::QueryOrFragment);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(HostKeyError::ControlCharacter);
        }
        let (scheme, rest) = match trimmed.split_once("://") {
            Some((scheme, rest)) => (Some(parse_scheme(scheme)?), rest),
            None => (None, trimmed),
        };
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, ""),
        };
        // A key never carries user information; drop it rather than fail, as a URL pasted from
        // a browser may.
        let authority = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        let (host, port) = split_port(authority)?;
        let path = path.trim_end_matches('/');
        if path.split(['/', '\\']).any(is_dot_segment) {
            return Err(HostKeyError::DotSegment);
        }
        let path = (!path.is_empty()).then(|| Box::<str>::from(path));

        if scheme == Some(Scheme::S3) && (port.is_some() || host.contains('*')) {
            return Err(HostKeyError::InvalidS3Key);
        }
        let host = if let Some(base) = host.strip_prefix("*.") {
            if base.contains('*') {
                // `*.*.example.com` would slip past the wildcard and public-suffix checks.
                return Err(HostKeyError::MisplacedWildcard);
            }
            let base = normalize_host(base)?;
            check_wildcard_base(&base)?;
            HostSpec::Wildcard(base.into())
        } else if host.contains('*') {
            return Err(HostKeyError::MisplacedWildcard);
        } else {
            HostSpec::Exact(normalize_host(host)?.into())
        };
        Ok(Self {
            raw: trimmed.into(),
            scheme,
            host,
            port,
            path,
        })
    }

    /// The key `login HOST` stores, the way pixi does, so that pixi and `auth` find each other's
    /// entries.
    ///
    /// `https://prefix.dev/` and `prefix.dev` are the same host. A bare registrable domain
    /// (`prefix.dev`) becomes `*.prefix.dev`; a subdomain, a host under a shared-hosting suffix
    /// (`user.github.io`), an address, a port or a path is kept exactly. `http://` is kept, since
    /// it is the explicit opt-in to plain HTTP; `s3://` keys are kept as they are.
    pub fn for_login(input: &str) -> Result<Self, HostKeyError> {
        let trimmed = input.trim();
        let stripped = strip_prefix_ignore_case(trimmed, "https://").unwrap_or(trimmed);
        let candidate = Self::parse(stripped.trim_end_matches('/'))?;
        if candidate.scheme.is_some() || candidate.port.is_some() || candidate.path.is_some() {
            return Ok(candidate.canonical());
        }
        let HostSpec::Exact(host) = &candidate.host else {
            return Ok(candidate.canonical());
        };
        if is_registrable_domain(host) {
            return Self::parse(&format!("*.{host}"));
        }
        Ok(candidate.canonical())
    }

    /// The same key written in canonical form (lower-case host, no trailing slash, no user
    /// information).
    #[must_use]
    pub fn canonical(&self) -> Self {
        if self.host == HostSpec::Any {
            return self.clone();
        }
        let mut text = String::new();
        if let Some(scheme) = self.scheme {
            text.push_str(scheme.as_str());
            text.push_str("://");
        }
        match &self.host {
            HostSpec::Exact(host) => text.push_str(host),
            HostSpec::Wildcard(base) => {
                text.push_str("*.");
                text.push_str(base);
            }
            HostSpec::Any => {}
        }
        if let Some(port) = self.port {
            text.push(':');
            text.push_str(&port.to_string());
        }
        if let Some(path) = &self.path {
            text.push_str(path);
        }
        Self {
            raw: text.into(),
            ..self.clone()
        }
    }

    /// A key that matches every http(s) host, the least specific of all; `label` is what lists
    /// show for it (`default` for `.netrc`).
    pub fn any_host(label: &str) -> Self {
        Self {
            raw: label.into(),
            scheme: None,
            host: HostSpec::Any,
            port: None,
            path: None,
        }
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The host part.
    pub fn host(&self) -> &HostSpec {
        &self.host
    }

    /// The explicit scheme, if the key names one.
    pub fn scheme(&self) -> Option<Scheme> {
        self.scheme
    }

    /// How specific the key is, to choose among several that match one URL.
    pub fn specificity(&self) -> Specificity {
        Specificity {
            host: match &self.host {
                HostSpec::Exact(_) => u32::MAX,
                HostSpec::Wildcard(base) => {
                    u32::try_from(base.split('.').count()).unwrap_or(u32::MAX - 1)
                }
                HostSpec::Any => 0,
            },
            port: self.port.is_some(),
            path_len: self.path.as_deref().map_or(0, str::len),
            scheme: self.scheme.is_some(),
        }
    }

    /// Whether this key applies to the URL.
    pub fn matches(&self, target: &UrlTarget<'_>) -> bool {
        let host_ok = match &self.host {
            HostSpec::Exact(host) => **host == *target.host(),
            HostSpec::Wildcard(base) => is_same_or_subdomain(target.host(), base),
            HostSpec::Any => true,
        };
        host_ok && self.matches_besides_host(target)
    }

    /// Scheme, port and path; the host was matched by the caller (the index looks it up).
    pub(crate) fn matches_besides_host(&self, target: &UrlTarget<'_>) -> bool {
        // A key without a scheme also answers `s3://` URLs: rattler's own `login s3://bucket`
        // stores the bare key `bucket`, and its lookup tries the host first. The `.netrc` catch-all
        // never does: S3 keys are never a default.
        let scheme_ok = match self.scheme {
            Some(scheme) => scheme == target.scheme(),
            None => match target.scheme() {
                Scheme::Http | Scheme::Https => true,
                Scheme::S3 => self.host != HostSpec::Any,
            },
        };
        let port_ok = self.port.is_none() || self.port == target.effective_port();
        let path_ok = self
            .path
            .as_deref()
            .is_none_or(|prefix| path_has_prefix(target.path(), prefix));
        scheme_ok && port_ok && path_ok
    }
}

impl fmt::Debug for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HostKey({:?})", crate::redact::redact_key(&self.raw))
    }
}

/// The key as messages show it: user information and a `/t/TOKEN` segment a hand-written key
/// may hold are masked (`as_str` gives the text as stored).
impl fmt::Display for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.raw.contains(['@', '/']) {
            f.write_str(&crate::redact::redact_key(&self.raw))
        } else {
            f.write_str(&self.raw)
        }
    }
}

fn parse_scheme(scheme: &str) -> Result<Scheme, HostKeyError> {
    match scheme.to_ascii_lowercase().as_str() {
        "http" => Ok(Scheme::Http),
        "https" => Ok(Scheme::Https),
        "s3" => Ok(Scheme::S3),
        _ => Err(HostKeyError::UnsupportedScheme(scheme.to_owned())),
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// Splits `host:port` and `[v6]:port`.
fn split_port(authority: &str) -> Result<(&str, Option<u16>), HostKeyError> {
    let (host, port) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(end) => {
                let rest = &authority[end + 1..];
                (&authority[..=end], rest.strip_prefix(':'))
            }
            None => return Err(HostKeyError::InvalidHost(authority.to_owned())),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => None,
        Some(text) => match text.parse::<u16>() {
            Ok(port) if port > 0 => Some(port),
            _ => return Err(HostKeyError::InvalidPort(text.to_owned())),
        },
    };
    Ok((host, port))
}

/// Lower-cases and IDNA-encodes a host, and checks that it is one.
fn normalize_host(host: &str) -> Result<String, HostKeyError> {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() {
        return Err(HostKeyError::InvalidHost(host.to_owned()));
    }
    match url::Host::parse(host) {
        Ok(url::Host::Domain(domain)) => {
            if domain.split('.').any(str::is_empty) || domain.contains(['/', '\\', '@', ' ', '*']) {
                return Err(HostKeyError::InvalidHost(host.to_owned()));
            }
            if domain.len() > 253 || domain.split('.').any(|label| label.len() > 63) {
                return Err(HostKeyError::TooLong);
            }
            Ok(domain)
        }
        Ok(url::Host::Ipv4(addr)) => Ok(addr.to_string()),
        Ok(url::Host::Ipv6(addr)) => Ok(format!("[{addr}]")),
        Err(_) => Err(HostKeyError::InvalidHost(host.to_owned())),
    }
}

/// Refuses `*.dev`, `*.co.uk`, `*.github.io` and any base the Public Suffix List treats as a
/// suffix (including unlisted single-label TLDs, by the list's default rule).
fn check_wildcard_base(base: &str) -> Result<(), HostKeyError> {
    if base.starts_with('[') || base.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(HostKeyError::MisplacedWildcard);
    }
    match psl::suffix(base.as_bytes()) {
        Some(suffix) if suffix.as_bytes() == base.as_bytes() => {
            Err(HostKeyError::PublicSuffixWildcard(base.to_owned()))
        }
        _ => Ok(()),
    }
}

/// A domain that is exactly its own registrable domain under an ICANN suffix (`prefix.dev`,
/// `example.co.uk`), not one under a shared-hosting (private) suffix such as `github.io`.
fn is_registrable_domain(host: &str) -> bool {
    match psl::domain(host.as_bytes()) {
        Some(domain) => {
            domain.as_bytes() == host.as_bytes()
                && domain.suffix().is_known()
                && domain.suffix().typ() == Some(psl::Type::Icann)
        }
        None => false,
    }
}

/// `host == base` or `host` ends with `.base`: a label boundary, so `badexample.com` is not under
/// `example.com`.
pub(crate) fn is_same_or_subdomain(host: &str, base: &str) -> bool {
    match host.strip_suffix(base) {
        Some("") => true,
        Some(head) => head.ends_with('.'),
        None => false,
    }
}

/// `.` and `..`, also percent-encoded as a WHATWG parser reads them.
fn is_dot_segment(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "." | ".." | "%2e" | ".%2e" | "%2e." | "%2e%2e"
    )
}

/// `path` starts with `prefix` at a segment boundary: `/a/b` covers `/a/b`, `/a/b/` and `/a/b/c`,
/// never `/a/bc`.
fn path_has_prefix(path: &str, prefix: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::HostKey;
    use crate::UrlTarget;

    fn parse(input: &str) -> String {
        match HostKey::parse(input) {
            Ok(key) => key.canonical().to_string(),
            Err(err) => format!("error: {err}"),
        }
    }

    fn login(input: &str) -> String {
        match HostKey::for_login(input) {
            Ok(key) => key.to_string(),
            Err(err) => format!("error: {err}"),
        }
    }

    fn table(inputs: &[&str], f: fn(&str) -> String) -> String {
        let mut out = String::new();
        for input in inputs {
            let shown = crate::escape_control(input);
            writeln!(out, "{shown:<28} -> {}", f(input)).unwrap();
        }
        out
    }

    #[test]
    fn parses_keys() {
        insta::assert_snapshot!(table(&[
            "prefix.dev",
            "*.prefix.dev",
            "PREFIX.Dev.",
            "repo.prefix.dev:8443",
            "repo.prefix.dev/channels/a/",
            "s3://my-bucket",
            "s3://my-bucket/some/prefix/",
            "http://localhost:8080",
            "127.0.0.1:8000",
            "[::1]:8000",
            "bücher.example",
            "*.dev",
            "*.co.uk",
            "*.github.io",
            "*.internal",
            "a.*.example.com",
            "host:99999",
            "host:",
            "ftp://host",
            "host?x=1",
            "s3://*.bucket",
            "",
            "*.*.example.com",
            "*.*.com",
            "HTTPS://Example.com",
            "S3://bkt",
            "example.com/org/../other",
            "example.com/./x",
            "example.com/%2E%2e/x",
            "ex\u{1b}]0;PWNED\u{7}ample.com",
            &"a".repeat(64),
            &format!("{}.com", vec!["a".repeat(60); 5].join(".")),
        ], parse), @r"
        prefix.dev                   -> prefix.dev
        *.prefix.dev                 -> *.prefix.dev
        PREFIX.Dev.                  -> prefix.dev
        repo.prefix.dev:8443         -> repo.prefix.dev:8443
        repo.prefix.dev/channels/a/  -> repo.prefix.dev/channels/a
        s3://my-bucket               -> s3://my-bucket
        s3://my-bucket/some/prefix/  -> s3://my-bucket/some/prefix
        http://localhost:8080        -> http://localhost:8080
        127.0.0.1:8000               -> 127.0.0.1:8000
        [::1]:8000                   -> [::1]:8000
        bücher.example               -> xn--bcher-kva.example
        *.dev                        -> error: `*.dev` would match every site under the public suffix `dev`; use the registry's own domain, such as `*.example.dev`
        *.co.uk                      -> error: `*.co.uk` would match every site under the public suffix `co.uk`; use the registry's own domain, such as `*.example.co.uk`
        *.github.io                  -> error: `*.github.io` would match every site under the public suffix `github.io`; use the registry's own domain, such as `*.example.github.io`
        *.internal                   -> error: `*.internal` would match every site under the public suffix `internal`; use the registry's own domain, such as `*.example.internal`
        a.*.example.com              -> error: a wildcard must be the whole first label, as in `*.example.com`
        host:99999                   -> error: `99999` is not a valid port
        host:                        -> error: `` is not a valid port
        ftp://host                   -> error: unsupported scheme `ftp://`; use a host name, `https://HOST` or `s3://BUCKET`
        host?x=1                     -> error: a host key cannot contain `?` or `#`
        s3://*.bucket                -> error: an S3 key is `s3://BUCKET` or `s3://BUCKET/PREFIX`
                                     -> error: the host is empty
        *.*.example.com              -> error: a wildcard must be the whole first label, as in `*.example.com`
        *.*.com                      -> error: a wildcard must be the whole first label, as in `*.example.com`
        HTTPS://Example.com          -> https://example.com
        S3://bkt                     -> s3://bkt
        example.com/org/../other     -> error: a host key's path cannot have `.` or `..` segments; write the path it leads to
        example.com/./x              -> error: a host key's path cannot have `.` or `..` segments; write the path it leads to
        example.com/%2E%2e/x         -> error: a host key's path cannot have `.` or `..` segments; write the path it leads to
        ex\u{1b}]0;PWNED\u{7}ample.com -> error: a host key cannot contain control characters
        aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa -> error: the host name is longer than DNS allows (253 bytes, 63 a label)
        aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com -> error: the host name is longer than DNS allows (253 bytes, 63 a label)
        ");
    }

    // A hand-written key may hold user information or a conda token; messages show it masked.
    #[test]
    fn a_key_is_shown_without_what_it_carries() {
        for raw in [
            "u:hunter2@host.example",
            "host.example/t/tok-secret/x",
            "https://tok-secret@host",
        ] {
            let key = HostKey::parse(raw).unwrap();
            let shown = format!("{key} {key:?}");
            assert!(
                !shown.contains("hunter2") && !shown.contains("tok-secret"),
                "{shown}"
            );
            assert_eq!(key.as_str(), raw, "as_str is the text as stored");
        }
        assert_eq!(
            HostKey::parse("*.prefix.dev:8443").unwrap().to_string(),
            "*.prefix.dev:8443"
        );
    }

    #[test]
    fn login_keys_follow_pixi() {
        insta::assert_snapshot!(table(&[
            "prefix.dev",
            "https://prefix.dev/",
            "HTTPS://Prefix.dev",
            "repo.prefix.dev",
            "example.co.uk",
            "user.github.io",
            "github.io",
            "*.prefix.dev",
            "prefix.dev:8443",
            "prefix.dev/channel",
            "http://prefix.dev",
            "localhost",
            "127.0.0.1",
            "s3://bucket/prefix",
            "conda.anaconda.org",
            "anaconda.org",
        ], login), @r"
        prefix.dev                   -> *.prefix.dev
        https://prefix.dev/          -> *.prefix.dev
        HTTPS://Prefix.dev           -> *.prefix.dev
        repo.prefix.dev              -> repo.prefix.dev
        example.co.uk                -> *.example.co.uk
        user.github.io               -> user.github.io
        github.io                    -> github.io
        *.prefix.dev                 -> *.prefix.dev
        prefix.dev:8443              -> prefix.dev:8443
        prefix.dev/channel           -> prefix.dev/channel
        http://prefix.dev            -> http://prefix.dev
        localhost                    -> localhost
        127.0.0.1                    -> 127.0.0.1
        s3://bucket/prefix           -> s3://bucket/prefix
        conda.anaconda.org           -> conda.anaconda.org
        anaconda.org                 -> *.anaconda.org
        ");
    }

    fn matches(key: &str, url: &str) -> bool {
        let key = HostKey::parse(key).unwrap();
        let target = UrlTarget::parse(url).unwrap();
        key.matches(&target)
    }

    #[test]
    fn matching_table() {
        let cases = [
            ("prefix.dev", "https://prefix.dev/x"),
            ("prefix.dev", "https://prefix.dev:8443/x"),
            ("prefix.dev", "https://repo.prefix.dev/x"),
            ("*.prefix.dev", "https://prefix.dev/x"),
            ("*.prefix.dev", "https://a.b.prefix.dev/x"),
            ("*.prefix.dev", "https://xprefix.dev/x"),
            ("*.prefix.dev", "https://prefix.dev.evil.test/x"),
            ("*.example.com", "https://badexample.com/"),
            ("*.example.com", "https://example.com.evil.test/"),
            ("example.com", "https://user:pw@example.com/"),
            ("example.com", "https://example.com@evil.test/"),
            ("host:8443", "https://host:8443/"),
            ("host:8443", "https://host/"),
            ("host:443", "https://host/"),
            ("host/a/b", "https://host/a/b"),
            ("host/a/b", "https://host/a/b/c.json"),
            ("host/a/b", "https://host/a/bc"),
            ("host/a/b", "https://host/a"),
            ("s3://bucket", "s3://bucket/key"),
            ("s3://bucket", "https://bucket/key"),
            ("bucket", "s3://bucket/key"),
            ("s3://bucket/pre", "s3://bucket/pre/key"),
            ("s3://bucket/pre", "s3://bucket/prefix/key"),
            ("http://host", "http://host/"),
            ("http://host", "https://host/"),
            ("https://host", "http://host/"),
            ("host", "http://HOST./"),
        ];
        let mut out = String::new();
        for (key, url) in cases {
            writeln!(out, "{key:<16} {url:<34} {}", matches(key, url)).unwrap();
        }
        insta::assert_snapshot!(out, @r"
        prefix.dev       https://prefix.dev/x               true
        prefix.dev       https://prefix.dev:8443/x          true
        prefix.dev       https://repo.prefix.dev/x          false
        *.prefix.dev     https://prefix.dev/x               true
        *.prefix.dev     https://a.b.prefix.dev/x           true
        *.prefix.dev     https://xprefix.dev/x              false
        *.prefix.dev     https://prefix.dev.evil.test/x     false
        *.example.com    https://badexample.com/            false
        *.example.com    https://example.com.evil.test/     false
        example.com      https://user:pw@example.com/       true
        example.com      https://example.com@evil.test/     false
        host:8443        https://host:8443/                 true
        host:8443        https://host/                      false
        host:443         https://host/                      true
        host/a/b         https://host/a/b                   true
        host/a/b         https://host/a/b/c.json            true
        host/a/b         https://host/a/bc                  false
        host/a/b         https://host/a                     false
        s3://bucket      s3://bucket/key                    true
        s3://bucket      https://bucket/key                 false
        bucket           s3://bucket/key                    true
        s3://bucket/pre  s3://bucket/pre/key                true
        s3://bucket/pre  s3://bucket/prefix/key             false
        http://host      http://host/                       true
        http://host      https://host/                      false
        https://host     http://host/                       false
        host             http://HOST./                      true
        ");
    }
}
