//! `Decision`: which credential a request to a URL carries, and how, decided in one place for
//! every consumer (the middleware, `auth token`, the credential helpers), so that what a script
//! is told and what a download sends can never disagree.

use std::fmt;
use std::net::IpAddr;

use crate::{Authentication, Found, Scheme, StoreChain, StoreError, UrlTarget};

/// What a request to one URL carries.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Send this credential, placed as `placement` says.
    Send {
        /// The credential and the store it came from.
        found: Found,
        /// Where it goes on the request.
        placement: Placement,
    },
    /// A credential matched, but a request to this URL must not carry it.
    Withhold {
        /// The credential that matched.
        found: Found,
        /// Why it is not sent.
        reason: Withheld,
    },
    /// No stored credential applies to the URL.
    NotStored,
}

/// Where a credential goes on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Placement {
    /// `Authorization: Bearer` (RFC 6750): bearer tokens and OAuth access tokens (refreshed first).
    BearerHeader,
    /// `Authorization: Basic` (RFC 7617).
    BasicHeader,
    /// A `/t/<TOKEN>/` path segment in front of the path (anaconda.org, quetz), unless the path
    /// already has one.
    CondaTokenPath,
    /// An AWS `SigV4` signature.
    S3Signature,
}

/// Why a matching credential is not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Withheld {
    /// Plain `http://` to a host that is not loopback, and the key does not name `http://`.
    PlainHttp,
    /// An `s3://` URL, and the credential is not S3 keys.
    NotS3Keys,
    /// A credential kind this version cannot send.
    UnsupportedKind,
}

impl Decision {
    /// The decision for `target` given what the store chain found for it.
    pub fn new(target: &UrlTarget<'_>, found: Option<Found>) -> Self {
        let Some(found) = found else {
            return Self::NotStored;
        };
        let key = &found.credential.key;
        let auth = &found.credential.auth;
        if target.scheme() == Scheme::S3 {
            return match auth {
                Authentication::S3Credentials { .. } => Self::Send {
                    found,
                    placement: Placement::S3Signature,
                },
                _ => Self::Withhold {
                    found,
                    reason: Withheld::NotS3Keys,
                },
            };
        }
        // Only a key that names `http://` opts in; the `.netrc` catch-all never names a scheme.
        let http_allowed = key.scheme() == Some(Scheme::Http);
        if target.scheme() == Scheme::Http && !is_loopback(target.host()) && !http_allowed {
            return Self::Withhold {
                found,
                reason: Withheld::PlainHttp,
            };
        }
        let placement = match auth {
            Authentication::BearerToken(_) | Authentication::OAuth { .. } => {
                Placement::BearerHeader
            }
            Authentication::BasicHTTP { .. } => Placement::BasicHeader,
            Authentication::CondaToken(_) => Placement::CondaTokenPath,
            Authentication::S3Credentials { .. } => Placement::S3Signature,
            #[allow(
                unreachable_patterns,
                reason = "the enum is non-exhaustive for other crates; a kind added later is withheld until it is placed here"
            )]
            _ => {
                return Self::Withhold {
                    found,
                    reason: Withheld::UnsupportedKind,
                };
            }
        };
        Self::Send { found, placement }
    }

    /// The credential that matched, sent or not.
    pub fn found(&self) -> Option<&Found> {
        match self {
            Self::Send { found, .. } | Self::Withhold { found, .. } => Some(found),
            Self::NotStored => None,
        }
    }
}

impl StoreChain {
    /// What a request to `target` carries: the one answer the middleware, `auth token` and the
    /// credential helpers all use.
    pub fn decide(&self, target: &UrlTarget<'_>) -> Result<Decision, StoreError> {
        Ok(Decision::new(target, self.find(target)?))
    }
}

impl Withheld {
    /// The reason in a sentence that names the key and what to do, for a message.
    pub fn explain(&self, found: &Found, target: &UrlTarget<'_>) -> String {
        let key = &found.credential.key;
        let host = target_host(target);
        match self {
            Self::PlainHttp => format!(
                "the credential for {key} is not sent to {host} over plain http; use https, or \
                 log in to `http://{host}` to allow it"
            ),
            Self::NotS3Keys => format!(
                "the credential for {key} is a {}, which cannot sign S3 requests; log in to \
                 `s3://{host}` with --s3-access-key-id and --s3-secret-access-key",
                found.credential.auth.kind()
            ),
            Self::UnsupportedKind => format!(
                "the credential for {key} is a {}, which this version cannot send",
                found.credential.auth.kind()
            ),
        }
    }
}

impl fmt::Display for Withheld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PlainHttp => "not sent over plain http",
            Self::NotS3Keys => "not S3 keys",
            Self::UnsupportedKind => "a kind this version cannot send",
        })
    }
}

/// The credential an `http(s)` URL carries itself (`https://user:password@host/`), decoded: the
/// caller's explicit choice, which a download sends instead of any stored one (as uv does), so
/// `auth token` answers with it too. A user name alone is not a credential: it selects one.
pub fn url_credential(url: &url::Url) -> Option<Authentication> {
    if !url.scheme().starts_with("http") {
        return None;
    }
    let password = url.password()?;
    Some(Authentication::BasicHTTP {
        username: percent_decode(url.username()),
        password: crate::Secret::from(percent_decode(password)),
    })
}

fn percent_decode(text: &str) -> String {
    // `form_urlencoded` decodes `%XX`; a literal `+` must stay a `+`, not become a space.
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// `host` or `host:port` of the target, for messages.
fn target_host(target: &UrlTarget<'_>) -> String {
    let host = crate::escape_control(target.host());
    match target.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.into_owned(),
    }
}

/// Loopback hosts, where plain http cannot be read on the way: `localhost`, 127.0.0.0/8, `::1`.
pub fn is_loopback(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|host| host.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::sync::Arc;

    use super::{Decision, is_loopback};
    use crate::{
        Authentication, CredentialStore, HostKey, MemoryStore, Secret, StoreChain, UrlTarget,
    };

    fn chain(entries: &[(&str, Authentication)]) -> StoreChain {
        let store = MemoryStore::new();
        for (key, auth) in entries {
            store.set(&HostKey::parse(key).unwrap(), auth).unwrap();
        }
        StoreChain::new(vec![Arc::new(store)])
    }

    fn bearer() -> Authentication {
        Authentication::BearerToken(Secret::from("tok"))
    }

    fn describe(chain: &StoreChain, url: &str) -> String {
        let target = UrlTarget::parse(url).unwrap();
        match chain.decide(&target).unwrap() {
            Decision::Send { found, placement } => {
                format!("send {} as {placement:?}", found.credential.key)
            }
            Decision::Withhold { found, reason } => {
                format!(
                    "withhold {} ({reason}): {}",
                    found.credential.key,
                    reason.explain(&found, &target)
                )
            }
            Decision::NotStored => "nothing".to_owned(),
        }
    }

    // `auth token http://example.com/` printed the `*.example.com` token that a download withheld;
    // `auth token s3://example.com/key` printed a bearer token a download refused.
    #[test]
    fn one_answer_for_every_consumer() {
        let chain = chain(&[
            ("*.example.com", bearer()),
            ("http://plain.example.org", bearer()),
            ("127.0.0.1:8080", bearer()),
            (
                "conda.example.net",
                Authentication::CondaToken(Secret::from("ct")),
            ),
            (
                "files.example.net",
                Authentication::BasicHTTP {
                    username: "u".to_owned(),
                    password: Secret::from("p".to_owned()),
                },
            ),
            (
                "s3://bucket",
                Authentication::S3Credentials {
                    access_key_id: "AKID".to_owned(),
                    secret_access_key: Secret::from("sk".to_owned()),
                    session_token: None,
                },
            ),
        ]);
        let mut out = String::new();
        for url in [
            "https://repo.example.com/x",
            "http://repo.example.com/x",
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
            "http://plain.example.org/x",
            "s3://example.com/key",
            "s3://bucket/key",
            "https://conda.example.net/channel",
            "https://files.example.net/f",
            "https://other.test/",
        ] {
            writeln!(out, "{url:<34} {}", describe(&chain, url)).unwrap();
        }
        insta::assert_snapshot!(out, @r"
        https://repo.example.com/x         send *.example.com as BearerHeader
        http://repo.example.com/x          withhold *.example.com (not sent over plain http): the credential for *.example.com is not sent to repo.example.com over plain http; use https, or log in to `http://repo.example.com` to allow it
        http://127.0.0.1:8080/x            send 127.0.0.1:8080 as BearerHeader
        http://localhost/x                 nothing
        http://plain.example.org/x         send http://plain.example.org as BearerHeader
        s3://example.com/key               withhold *.example.com (not S3 keys): the credential for *.example.com is a BearerToken, which cannot sign S3 requests; log in to `s3://example.com` with --s3-access-key-id and --s3-secret-access-key
        s3://bucket/key                    send s3://bucket as S3Signature
        https://conda.example.net/channel  send conda.example.net as CondaTokenPath
        https://files.example.net/f        send files.example.net as BasicHeader
        https://other.test/                nothing
        ");
    }

    #[test]
    fn a_urls_own_credential_is_decoded() {
        let url = url::Url::parse("https://bob:p%3Aw%40d+x@host/").unwrap();
        let Some(Authentication::BasicHTTP { username, password }) = super::url_credential(&url)
        else {
            panic!("no credential");
        };
        assert_eq!(
            (username.as_str(), password.expose().as_str()),
            ("bob", "p:w@d+x")
        );
        let lone = url::Url::parse("https://bob@host/").unwrap();
        assert!(super::url_credential(&lone).is_none());
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "127.0.0.1",
            "127.1.2.3",
            "[::1]",
            "a.localhost",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "localhost.evil.test",
            "10.0.0.1",
            "[::2]",
            "prefix.dev",
            "127.0.0.1.nip.io",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
