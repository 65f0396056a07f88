//! `login --check` and `status --check`: one cheap authenticated request per credential, and what
//! the answer says: accepted (as whom, where the server says), rejected, unreachable, or no
//! request known for the host.
//!
//! Every request goes through the download's client (`fetch::client`: the middleware, its
//! timeouts and TLS), so nothing here decides which credential a host gets:
//!
//! - `--check-url URL` and S3 (a signed `HEAD` of `s3://BUCKET/[PREFIX/]`) are sent as a download
//!   is: the middleware puts the credential on them, after [`StoreChain::decide`] says the entry
//!   checked is the one a request to that URL carries.
//! - The known APIs want the credential where a download does not put it (anaconda.org's
//!   `Authorization: token`, an OpenID provider's userinfo on another host): the credential is
//!   the one [`Resolver`] gives for the entry, the same decision, an OAuth token refreshed
//!   first, and the request carries it as the API's own header.
//!
//! The APIs, as their clients call them (unsure points are said so in `docs/guide.md`):
//! prefix.dev's GraphQL `query { viewer { login } }` at `https://prefix.dev/api/graphql` with a
//! Bearer token (what rattler and pixi send; `viewer` is `null` for a token it does not know);
//! anaconda.org's `GET https://api.anaconda.org/user` with `Authorization: token …`
//! (anaconda-client's `whoami`, whose answer has `login`); quetz's `GET /api/me` (its profile,
//! `user.username`; quetz reads the key from `/t/KEY/` as from `X-API-Key`), reached with
//! `--check-url https://HOST/api/me`; an OpenID provider's userinfo endpoint, from the discovery
//! of the issuer the login stored (`preferred_username`, `name`, `email`, else `sub`).
//!
//! [`StoreChain::decide`]: auth_core::StoreChain::decide

use std::fmt::Write as _;

use anyhow::Context as _;
use auth_core::{Authentication, Decision, HostKey, HostSpec, Scheme, UrlTarget, redact_url};
use auth_middleware::AuthError;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode};
use reqwest_middleware::ClientWithMiddleware;
use serde::Serialize;

use crate::config::KeyringProvider;
use crate::env::Env;
use crate::fetch::Timeouts;
use crate::resolve::{Answer, Resolver};

/// prefix.dev's GraphQL endpoint and the query that names the token's user.
const PREFIX_GRAPHQL: &str = "https://prefix.dev/api/graphql";
const VIEWER_QUERY: &str = r#"{"query":"query { viewer { login } }"}"#;
/// anaconda.org's API: the user a token belongs to.
const ANACONDA_USER: &str = "https://api.anaconda.org/user";
/// How much of an answer is read for the account name; the APIs answer in a few hundred bytes.
const MAX_BODY: usize = 1 << 20;
/// Longer account names are cut (a server could send anything).
const MAX_ACCOUNT: usize = 100;

/// What a check found for one credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// The server accepted the credential; `account` is whom it says it belongs to, where it
    /// says.
    Accepted { account: Option<String> },
    /// The server refused it (401 or 403; or 200 with no user, as prefix.dev's GraphQL answers
    /// an unknown token). `host` is who answered.
    Rejected { status: u16, host: String },
    /// No answer about the credential: the request failed, timed out, or got a status that
    /// says nothing about it (404, 500).
    Unreachable { reason: String },
    /// No request is known for this credential; `hint` says why and what to pass
    /// (`--check-url`).
    NoProbe { hint: String },
}

impl Outcome {
    /// The cell of `status`'s CHECK column.
    pub(crate) fn cell(&self) -> String {
        match self {
            Self::Accepted {
                account: Some(account),
            } => format!("accepted (as {account})"),
            Self::Accepted { account: None } => "accepted".to_owned(),
            Self::Rejected { status, .. } => format!("rejected (HTTP {status})"),
            Self::Unreachable { reason } => format!("unreachable: {reason}"),
            Self::NoProbe { .. } => "not checked: no known API; pass --check-url".to_owned(),
        }
    }
}

/// How an answer is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// 2xx is accepted, 401/403 rejected.
    Status,
    /// S3: 2xx, or 404 for a prefix with no object of that name (the signature was accepted).
    S3,
    /// prefix.dev's GraphQL: `data.viewer.login`, `viewer: null` for an unknown token.
    PrefixViewer,
    /// anaconda.org's `/user`: `login`.
    AnacondaUser,
    /// quetz's `/api/me`: `user.username`.
    QuetzMe,
    /// OpenID Connect userinfo: `preferred_username`, `name`, `email`, else `sub`.
    Userinfo,
}

/// One request to make.
#[derive(Debug)]
struct Probe {
    method: Method,
    url: url::Url,
    body: Option<&'static str>,
    /// The credential as the API's own header (marked sensitive); `None` when the middleware
    /// puts it on as for a download.
    header: Option<(reqwest::header::HeaderName, HeaderValue)>,
    reading: Reading,
}

/// Checks credentials: the stores, the download's client, and a runtime to send on.
#[derive(Debug)]
pub(crate) struct Checker<'env> {
    resolver: Resolver<'env>,
    http: reqwest::Client,
    client: ClientWithMiddleware,
    check_url: Option<url::Url>,
    runtime: tokio::runtime::Runtime,
}

impl<'env> Checker<'env> {
    /// Opens the stores and the config as `auth fetch` does. `check_url` is `--check-url`.
    pub(crate) fn open(
        env: &'env Env,
        auth_file: Option<&std::path::PathBuf>,
        check_url: Option<&str>,
    ) -> anyhow::Result<Self> {
        let check_url = check_url.map(parse_check_url).transpose()?;
        let resolver = Resolver::open(env, auth_file, Some(KeyringProvider::Disabled))?;
        let timeouts = Timeouts {
            connect: resolver.config.connect_timeout(),
            read: resolver.config.read_timeout(),
        };
        let (http, client) = crate::fetch::client(
            env,
            &resolver.stores,
            &resolver.config,
            timeouts,
            &[],
            KeyringProvider::Disabled,
        )?;
        Ok(Self {
            resolver,
            http,
            client,
            check_url,
            runtime: crate::oauth::runtime()?,
        })
    }

    /// Checks the credential stored under `key`: one request, its answer read.
    pub(crate) fn check(&self, key: &HostKey) -> Outcome {
        let probe = match self.probe(key) {
            Ok(probe) => probe,
            Err(outcome) => return outcome,
        };
        let shown = redact_url(probe.url.as_str());
        tracing::info!(
            "checking the credential for {key}: {} {shown}",
            probe.method
        );
        let outcome = self.runtime.block_on(send(&self.client, probe));
        tracing::debug!(?outcome, "the check of {key}");
        outcome
    }

    /// Checks the credentials stored under `keys`, the requests at the same time (one slow host
    /// does not hold up the others); the outcomes in the order of `keys`.
    pub(crate) fn check_all(&self, keys: &[&HostKey]) -> Vec<Outcome> {
        let mut outcomes: Vec<Option<Outcome>> = vec![None; keys.len()];
        let mut requests = tokio::task::JoinSet::new();
        for (index, key) in keys.iter().enumerate() {
            match self.probe(key) {
                Ok(probe) => {
                    tracing::info!(
                        "checking the credential for {key}: {} {}",
                        probe.method,
                        redact_url(probe.url.as_str())
                    );
                    let client = self.client.clone();
                    requests.spawn_on(
                        async move { (index, send(&client, probe).await) },
                        self.runtime.handle(),
                    );
                }
                Err(outcome) => outcomes[index] = Some(outcome),
            }
        }
        self.runtime.block_on(async {
            while let Some(done) = requests.join_next().await {
                match done {
                    Ok((index, outcome)) => outcomes[index] = Some(outcome),
                    Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                    Err(_) => {}
                }
            }
        });
        outcomes
            .into_iter()
            .map(|outcome| {
                outcome.unwrap_or_else(|| Outcome::Unreachable {
                    reason: "the check was cancelled".to_owned(),
                })
            })
            .collect()
    }

    /// What to request for `key`, or why nothing.
    fn probe(&self, key: &HostKey) -> Result<Probe, Outcome> {
        if let Some(url) = self.check_url.as_ref() {
            let target = UrlTarget::from_url(url).expect("checked when parsed");
            if key.matches(&target) {
                self.carried_by(key, url)?;
                let reading = match url.path() {
                    path if path.ends_with("/api/graphql") => Reading::PrefixViewer,
                    path if path.ends_with("/api/me") => Reading::QuetzMe,
                    _ => Reading::Status,
                };
                let (method, body) = if reading == Reading::PrefixViewer {
                    (Method::POST, Some(VIEWER_QUERY))
                } else {
                    (Method::GET, None)
                };
                return Ok(Probe {
                    method,
                    url: url.clone(),
                    body,
                    header: None,
                    reading,
                });
            }
        }
        let Some(url) = key_url(key) else {
            return Err(Outcome::NoProbe {
                hint: format!("{key} is the catch-all of .netrc, which names no host to ask"),
            });
        };
        self.carried_by(key, &url)?;
        if key.scheme() == Some(Scheme::S3) {
            // A signed HEAD of the bucket (or the prefix), through the middleware's S3 path.
            return Ok(Probe {
                method: Method::HEAD,
                url,
                body: None,
                header: None,
                reading: Reading::S3,
            });
        }
        let host = url.host_str().unwrap_or_default().to_owned();
        let auth = match self.resolver.resolve_key(key, &key.to_string()) {
            Ok(Answer::Send { auth, .. }) => auth,
            Ok(Answer::Withheld { message } | Answer::NotStored { message }) => {
                return Err(Outcome::NoProbe { hint: message });
            }
            Err(err) => {
                return Err(Outcome::Unreachable {
                    reason: one_line(&err),
                });
            }
        };
        let under = |base: &str| host == base || host.ends_with(&format!(".{base}"));
        match &auth {
            Authentication::BearerToken(token)
            | Authentication::OAuth {
                access_token: token,
                ..
            } if under("prefix.dev") => Ok(Probe {
                method: Method::POST,
                url: PREFIX_GRAPHQL.parse().expect("a URL"),
                body: Some(VIEWER_QUERY),
                header: Some((
                    AUTHORIZATION,
                    sensitive(&format!("Bearer {}", token.expose()))?,
                )),
                reading: Reading::PrefixViewer,
            }),
            Authentication::CondaToken(token) if under("anaconda.org") => Ok(Probe {
                method: Method::GET,
                url: ANACONDA_USER.parse().expect("a URL"),
                body: None,
                header: Some((
                    AUTHORIZATION,
                    sensitive(&format!("token {}", token.expose()))?,
                )),
                reading: Reading::AnacondaUser,
            }),
            Authentication::OAuth {
                access_token,
                issuer: Some(issuer),
                ..
            } => {
                let url = self.userinfo(key, issuer)?;
                Ok(Probe {
                    method: Method::GET,
                    url,
                    body: None,
                    header: Some((
                        AUTHORIZATION,
                        sensitive(&format!("Bearer {}", access_token.expose()))?,
                    )),
                    reading: Reading::Userinfo,
                })
            }
            _ => Err(Outcome::NoProbe {
                hint: format!(
                    "no API is known to check {key} with; pass --check-url URL, a URL under {key} \
                     that needs the credential"
                ),
            }),
        }
    }

    /// `Ok` when a request to `url` carries the entry stored under `key`; else why not, as the
    /// outcome (a more specific key, or a credential withheld from plain http).
    fn carried_by(&self, key: &HostKey, url: &url::Url) -> Result<(), Outcome> {
        let shown = redact_url(url.as_str());
        let target = UrlTarget::from_url(url).map_err(|_| Outcome::NoProbe {
            hint: format!("{shown} is not an http://, https:// or s3:// URL"),
        })?;
        let decision =
            self.resolver
                .stores
                .chain
                .decide(&target)
                .map_err(|err| Outcome::Unreachable {
                    reason: one_line(&anyhow::Error::new(err)),
                })?;
        match decision {
            Decision::Send { found, .. }
                if found.credential.key.canonical().as_str() == key.canonical().as_str() =>
            {
                Ok(())
            }
            Decision::Send { found, .. } => Err(Outcome::NoProbe {
                hint: format!(
                    "a request to {shown} carries the credential for {} from {}, not this one",
                    found.credential.key,
                    found.store.describe()
                ),
            }),
            Decision::Withhold { found, reason } => Err(Outcome::NoProbe {
                hint: reason.explain(&found, &target),
            }),
            Decision::NotStored => Err(Outcome::NoProbe {
                hint: format!("a request to {shown} carries no credential of {key}"),
            }),
        }
    }

    /// The userinfo endpoint of the issuer an OAuth login stored.
    fn userinfo(&self, key: &HostKey, issuer: &str) -> Result<url::Url, Outcome> {
        let issuer_url: url::Url = issuer.parse().map_err(|_| Outcome::NoProbe {
            hint: format!(
                "the login for {key} stored an issuer that is not a URL ({}); pass --check-url",
                redact_url(issuer)
            ),
        })?;
        match self
            .runtime
            .block_on(auth_oauth::userinfo_endpoint(&self.http, &issuer_url))
        {
            Ok(Some(url)) => Ok(url),
            Ok(None) => Err(Outcome::NoProbe {
                hint: format!(
                    "the provider {} lists no userinfo endpoint; pass --check-url",
                    redact_url(issuer)
                ),
            }),
            Err(err) => Err(Outcome::Unreachable {
                reason: one_line(&anyhow::Error::new(err)),
            }),
        }
    }
}

/// `--check-url`: an http(s) or s3 URL.
fn parse_check_url(text: &str) -> anyhow::Result<url::Url> {
    let shown = redact_url(text);
    let url: url::Url = text
        .parse()
        .with_context(|| format!("--check-url `{shown}` is not a URL"))?;
    UrlTarget::from_url(&url).with_context(|| {
        format!("--check-url `{shown}` is not an http://, https:// or s3:// URL")
    })?;
    Ok(url)
}

/// Checks, before anything is saved, that `--check-url` is a URL the login's key is for.
pub(crate) fn check_url_fits(key: &HostKey, check_url: &str) -> anyhow::Result<()> {
    let url = parse_check_url(check_url)?;
    let target = UrlTarget::from_url(&url).expect("checked when parsed");
    if !key.matches(&target) {
        anyhow::bail!(
            "--check-url {} is not under {key}, so a request to it would not carry this login; \
             give a URL the login is for",
            redact_url(check_url)
        );
    }
    Ok(())
}

/// A URL a key is for: `https://HOST[:PORT][/PATH/]` (the key's scheme when it names one; the
/// base host of a wildcard), `s3://BUCKET/[PREFIX/]`. `None` for `.netrc`'s `default`.
fn key_url(key: &HostKey) -> Option<url::Url> {
    if matches!(key.host(), HostSpec::Any) {
        return None;
    }
    let canonical = key.canonical();
    let text = canonical.as_str();
    let (scheme, rest) = match text.split_once("://") {
        Some((scheme, rest)) => (scheme, rest),
        None => ("https", text),
    };
    let rest = rest.strip_prefix("*.").unwrap_or(rest);
    let mut url = format!("{scheme}://{rest}");
    if !url.ends_with('/') {
        url.push('/');
    }
    url.parse().ok()
}

/// A header value holding a secret: marked sensitive, so no log or debug output shows it.
fn sensitive(text: &str) -> Result<HeaderValue, Outcome> {
    let mut value = HeaderValue::from_str(text).map_err(|_| Outcome::NoProbe {
        hint: "the credential has characters a header cannot carry".to_owned(),
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Sends the probe and reads the answer.
async fn send(client: &ClientWithMiddleware, probe: Probe) -> Outcome {
    let host = host_port(&probe.url);
    let mut request = reqwest::Request::new(probe.method, probe.url);
    let headers = request.headers_mut();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    if let Some((name, value)) = probe.header {
        headers.insert(name, value);
    }
    if let Some(body) = probe.body {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        *request.body_mut() = Some(body.into());
    }
    let response = match client.execute(request).await {
        Ok(response) => response,
        Err(err) => return failed(err, &host),
    };
    let host = host_port(response.url());
    let status = response.status();
    if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
        return Outcome::Rejected {
            status: status.as_u16(),
            host,
        };
    }
    let accepted_404 = probe.reading == Reading::S3 && status == StatusCode::NOT_FOUND;
    if !status.is_success() && !accepted_404 {
        return Outcome::Unreachable {
            reason: format!(
                "{host} answered HTTP {status}, which says nothing about the credential"
            ),
        };
    }
    if matches!(probe.reading, Reading::Status | Reading::S3) {
        return Outcome::Accepted { account: None };
    }
    let body = match read_body(response).await {
        Ok(body) => body,
        Err(reason) => return Outcome::Unreachable { reason },
    };
    read_answer(probe.reading, &body, status.as_u16(), host)
}

/// The outcome of a request that got no response, or whose 401/403 the middleware turned into
/// its error.
fn failed(err: reqwest_middleware::Error, host: &str) -> Outcome {
    let err = crate::fetch::middleware_error(err);
    let rejected = err
        .chain()
        .find_map(|cause| match cause.downcast_ref::<AuthError>() {
            Some(AuthError::Rejected { status, host, .. }) => Some((*status, host.clone())),
            _ => None,
        });
    if let Some((status, host)) = rejected {
        return Outcome::Rejected { status, host };
    }
    let nothing_sent = err.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<AuthError>(),
            Some(AuthError::NotLoggedIn { .. } | AuthError::Withheld { .. })
        )
    });
    if nothing_sent {
        return Outcome::NoProbe {
            hint: one_line(&err),
        };
    }
    let mut reason = one_line(&err);
    if !reason.contains(host) {
        let _ = write!(reason, " ({host})");
    }
    Outcome::Unreachable { reason }
}

/// At most [`MAX_BODY`] bytes of the answer.
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_BODY {
                    return Err(format!("the answer is larger than {MAX_BODY} bytes"));
                }
            }
            Ok(None) => return Ok(body),
            Err(err) => return Err(one_line(&anyhow::Error::new(err.without_url()))),
        }
    }
}

/// The account an API's answer names, by the API's shape.
fn read_answer(reading: Reading, body: &[u8], status: u16, host: String) -> Outcome {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Outcome::Unreachable {
            reason: format!("{host} answered with something that is not JSON"),
        };
    };
    let text = |value: &serde_json::Value| {
        value
            .as_str()
            .filter(|text| !text.is_empty())
            .map(|text| text.chars().take(MAX_ACCOUNT).collect::<String>())
    };
    let account = match reading {
        Reading::PrefixViewer => {
            let viewer = &json["data"]["viewer"];
            if viewer.is_null() {
                // A token prefix.dev does not know gets the answer of a visitor.
                return Outcome::Rejected { status, host };
            }
            text(&viewer["login"])
        }
        Reading::AnacondaUser => text(&json["login"]),
        Reading::QuetzMe => text(&json["user"]["username"]),
        Reading::Userinfo => ["preferred_username", "name", "email", "sub"]
            .iter()
            .find_map(|claim| text(&json[*claim])),
        Reading::Status | Reading::S3 => None,
    };
    Outcome::Accepted { account }
}

/// `host:port` of a URL, for messages.
fn host_port(url: &url::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => String::new(),
    }
}

/// An error and its causes on one line, each cause once.
fn one_line(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let cause = cause.to_string();
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_checked_at_its_own_url() {
        let cases: Vec<String> = [
            "*.prefix.dev",
            "repo.example.com:8443/channels/x",
            "http://127.0.0.1:8080",
            "s3://bucket",
            "s3://bucket/prefix",
        ]
        .iter()
        .map(|key| {
            let url = key_url(&HostKey::parse(key).unwrap()).unwrap();
            format!("{key} -> {url}")
        })
        .collect();
        insta::assert_snapshot!(cases.join("\n"), @r"
        *.prefix.dev -> https://prefix.dev/
        repo.example.com:8443/channels/x -> https://repo.example.com:8443/channels/x/
        http://127.0.0.1:8080 -> http://127.0.0.1:8080/
        s3://bucket -> s3://bucket/
        s3://bucket/prefix -> s3://bucket/prefix/
        ");
        assert_eq!(key_url(&HostKey::any_host("default")), None);
    }

    #[test]
    fn answers_name_the_account_as_each_api_does() {
        let host = || "h".to_owned();
        let cases = [
            (
                Reading::PrefixViewer,
                r#"{"data":{"viewer":{"login":"wolf"}}}"#,
            ),
            (Reading::PrefixViewer, r#"{"data":{"viewer":null}}"#),
            (Reading::AnacondaUser, r#"{"login":"ana","name":"Ana"}"#),
            (
                Reading::QuetzMe,
                r#"{"name":"Q","user":{"id":"1","username":"quser"}}"#,
            ),
            (
                Reading::Userinfo,
                r#"{"sub":"s-1","email":"e@x","name":""}"#,
            ),
            (Reading::Userinfo, r#"{"sub":"s-1"}"#),
            (Reading::Userinfo, "<html>"),
        ];
        let shown: Vec<String> = cases
            .iter()
            .map(|(reading, body)| {
                format!(
                    "{reading:?} {body} -> {:?}",
                    read_answer(*reading, body.as_bytes(), 200, host())
                )
            })
            .collect();
        insta::assert_snapshot!(shown.join("\n"), @r#"
        PrefixViewer {"data":{"viewer":{"login":"wolf"}}} -> Accepted { account: Some("wolf") }
        PrefixViewer {"data":{"viewer":null}} -> Rejected { status: 200, host: "h" }
        AnacondaUser {"login":"ana","name":"Ana"} -> Accepted { account: Some("ana") }
        QuetzMe {"name":"Q","user":{"id":"1","username":"quser"}} -> Accepted { account: Some("quser") }
        Userinfo {"sub":"s-1","email":"e@x","name":""} -> Accepted { account: Some("e@x") }
        Userinfo {"sub":"s-1"} -> Accepted { account: Some("s-1") }
        Userinfo <html> -> Unreachable { reason: "h answered with something that is not JSON" }
        "#);
    }

    #[test]
    fn a_check_url_must_be_under_the_key() {
        let key = HostKey::for_login("repo.example.com").unwrap();
        assert!(check_url_fits(&key, "https://repo.example.com/api/me").is_ok());
        let err = check_url_fits(&key, "https://other.example.com/").unwrap_err();
        assert!(
            err.to_string().contains("is not under repo.example.com"),
            "{err}"
        );
        assert!(check_url_fits(&key, "ftp://repo.example.com/").is_err());
    }
}
