//! `auth helper git get|store|erase|capability`: auth as git's credential helper
//! (`git help credential`), answering from the same chain and with the same decision as
//! `auth fetch`, and `auth helper install|uninstall git`.
//!
//! - `get` answers with what a download of git's URL would send ([`Resolver::resolve`]): a
//!   password as `username`/`password`; a bearer or OAuth token as `authtype=Bearer` and
//!   `credential`, only to a git that offered `capability[]=authtype` (git 2.46 and later). A
//!   conda token or S3 keys are not git credentials, and nothing withheld or missing is
//!   answered: git then asks its next helper, or the user.
//! - `store` saves what git learned under the exact `host[:port]` of git's URL (with git's path
//!   when `credential.useHttpPath` sends one), where `auth login` saves, unless we already hand
//!   out exactly that.
//! - `erase` removes the entry `get` answers from, and only when git's credential is that one.
//!
//! The protocol has no room for messages on stdout: everything we say goes to stderr, at the
//! level `AUTH_LOG` sets (git passes no flags).

mod install;
mod protocol;

use std::io::Write as _;

use anyhow::{Context as _, bail};
use auth_core::{Authentication, HostKey, Placement, StoreError, UrlTarget, is_loopback};

use self::protocol::{Answer, Request};
use crate::cli::GlobalArgs;
use crate::env::Env;
use crate::resolve::{self, Resolver};

pub(super) use self::install::install;

/// What git's credential helpers are called with (`git help credential`).
const USAGE: &str = "auth helper git is git's credential helper: git runs it as `auth helper git \
                     get|store|erase`; set it up with `auth helper install git`";

pub(super) fn run(args: &[String], global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let Some(operation) = args.first() else {
        bail!("no operation given; {USAGE}");
    };
    match operation.as_str() {
        "get" => get(&read_request()?, global, env),
        "store" => store(&read_request()?, global, env),
        "erase" => erase(&read_request()?, global, env),
        "capability" => write_stdout("version 0\ncapability authtype\n"),
        other => {
            // gitcredentials(7): "If a helper receives any other operation, it should silently
            // ignore the request."
            tracing::debug!(
                operation = %auth_core::escape_control(other),
                "ignoring an operation this helper does not know, as git's protocol asks"
            );
            Ok(())
        }
    }
}

fn read_request() -> anyhow::Result<Request> {
    Request::read(&mut std::io::stdin().lock())
}

fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("could not write the answer to git (stdout)")
}

/// The URL git asks about, or why there is none we answer for (said at debug level).
fn target_url(request: &Request) -> Result<url::Url, String> {
    let protocol = request
        .protocol
        .as_deref()
        .ok_or("git sent no `protocol`")?;
    if protocol != "https" && protocol != "http" {
        return Err(format!(
            "git asks about `{}`, and auth answers for http and https only",
            auth_core::escape_control(protocol)
        ));
    }
    let host = request.host.as_deref().ok_or("git sent no `host`")?;
    // The host comes from a URL in a repository's config, a submodule, a redirect: it must
    // stay one host once it is inside a URL.
    let bad = |c: char| "/\\@?#%[] ".contains(c) || c.is_control() || c.is_whitespace();
    if host.is_empty() || host.chars().any(bad) && !is_bracketed_ip(host) {
        return Err(format!(
            "git's host `{}` is not a host name with an optional port",
            auth_core::escape_control(host)
        ));
    }
    let mut url = url::Url::parse(&format!("{protocol}://{host}/")).map_err(|_| {
        format!(
            "git's host `{}` is not a host name with an optional port",
            auth_core::escape_control(host)
        )
    })?;
    if let Some(path) = &request.path {
        url.set_path(path);
    }
    Ok(url)
}

/// `[::1]:8080`: brackets are fine around an IPv6 address.
fn is_bracketed_ip(host: &str) -> bool {
    let bare = host.rsplit_once("]:").map_or(host, |(address, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            address
        } else {
            host
        }
    });
    bare.strip_prefix('[')
        .map(|rest| rest.trim_end_matches(']'))
        .is_some_and(|address| address.parse::<std::net::Ipv6Addr>().is_ok())
}

/// What git would receive for a stored credential, if it is one git can use.
fn as_git(auth: &Authentication, placement: Placement) -> Option<Answer> {
    match (auth, placement) {
        (Authentication::BasicHTTP { username, password }, Placement::BasicHeader) => {
            Some(Answer::Basic {
                username: username.clone(),
                password: password.clone(),
            })
        }
        (Authentication::BearerToken(token), Placement::BearerHeader) => Some(Answer::Bearer {
            token: token.clone(),
            ephemeral: false,
            expires_at: None,
        }),
        (
            Authentication::OAuth {
                access_token,
                expires_at,
                ..
            },
            Placement::BearerHeader,
        ) => Some(Answer::Bearer {
            token: access_token.clone(),
            // An access token lives hours; another helper must not keep a copy past that.
            ephemeral: true,
            expires_at: *expires_at,
        }),
        _ => None,
    }
}

/// Whether two answers hand git the same secret (an OAuth token's expiry aside).
fn same_secret(a: &Answer, b: &Answer) -> bool {
    match (a, b) {
        (
            Answer::Basic { username, password },
            Answer::Basic {
                username: other_user,
                password: other_password,
            },
        ) => username == other_user && password == other_password,
        (Answer::Bearer { token, .. }, Answer::Bearer { token: other, .. }) => token == other,
        _ => false,
    }
}

/// `get`: what a download of git's URL would send, if git can use it.
fn get(request: &Request, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let url = match target_url(request) {
        Ok(url) => url,
        Err(reason) => {
            tracing::debug!("answering nothing: {reason}");
            return Ok(());
        }
    };
    let shown = auth_core::redact_url(url.as_str());
    let resolver = Resolver::open(env, global.auth_file.as_ref(), None)?;
    let (auth, placement, source) = match resolver.resolve(&url, request.username.as_deref())? {
        resolve::Answer::Send {
            auth,
            placement,
            source,
            ..
        } => (auth, placement, source),
        resolve::Answer::Withheld { message, .. } | resolve::Answer::NotStored { message } => {
            tracing::debug!("answering git nothing for {shown}: {message}");
            return Ok(());
        }
    };
    let Some(answer) = as_git(&auth, placement) else {
        tracing::debug!(
            "answering git nothing for {shown}: the credential from {source} is a {}, which is \
             not a git credential",
            auth.kind()
        );
        return Ok(());
    };
    if let (Answer::Basic { username, .. }, Some(wanted)) = (&answer, &request.username)
        && username != wanted
    {
        tracing::debug!(
            "answering git nothing for {shown}: git asks for the user `{}`, and the password \
             from {source} is for `{}`",
            auth_core::escape_control(wanted),
            auth_core::escape_control(username),
        );
        return Ok(());
    }
    if matches!(answer, Answer::Bearer { .. }) && !request.offers("authtype") {
        tracing::warn!(
            "the credential for {shown} from {source} is a bearer token, which git can take only \
             when it offers `capability[]=authtype` (git 2.46 and later, for its own requests), \
             and it did not; use git 2.46 or later, or, for a host that takes a token as a \
             password (GitHub, GitLab, Gitea, Azure DevOps), store it as one: `auth login HOST \
             --username USER --password -`"
        );
        return Ok(());
    }
    let lines = match answer.lines() {
        Ok(lines) => lines,
        Err(what) => {
            tracing::warn!(
                "answering git nothing for {shown}: {what} from {source} contains a control \
                 character (a newline, say), which git's credential protocol cannot carry"
            );
            return Ok(());
        }
    };
    tracing::debug!(
        "answering git for {shown} with the {} from {source}",
        auth.kind()
    );
    write_stdout(&lines)
}

/// The credential git sends to `store` or `erase`: a user name and password, or a bearer
/// token (`authtype=Bearer` with `credential`).
fn git_credential(request: &Request) -> Result<Answer, String> {
    if let Some(credential) = &request.credential {
        return match request.authtype.as_deref() {
            Some(authtype) if authtype.eq_ignore_ascii_case("bearer") => Ok(Answer::Bearer {
                token: credential.clone(),
                ephemeral: request.ephemeral,
                expires_at: None,
            }),
            _ => Err("git's `credential` is not a bearer token (`authtype=Bearer`)".to_owned()),
        };
    }
    match (&request.username, &request.password) {
        (Some(username), Some(password)) => Ok(Answer::Basic {
            username: username.clone(),
            password: password.clone(),
        }),
        _ => Err("git sent no user name and password, nor a bearer token".to_owned()),
    }
}

/// The URL and the credential of a `store` or `erase`, or why there is nothing to do.
fn described(request: &Request) -> Result<(url::Url, Answer), String> {
    Ok((target_url(request)?, git_credential(request)?))
}

/// `store`: saves what git learned, unless we hand out exactly that already.
fn store(request: &Request, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let (url, credential) = match described(request) {
        Ok(described) => described,
        Err(reason) => {
            tracing::debug!("storing nothing: {reason}");
            return Ok(());
        }
    };
    let shown = auth_core::redact_url(url.as_str());
    if request.ephemeral {
        tracing::debug!("storing nothing for {shown}: git marked the credential ephemeral");
        return Ok(());
    }
    if request.password_expiry_utc.is_some() {
        // We could not keep the expiry, and would later hand out a dead password.
        tracing::debug!("storing nothing for {shown}: the password expires (password_expiry_utc)");
        return Ok(());
    }
    let host = url.host_str().unwrap_or_default();
    if url.scheme() == "http" && !is_loopback(host) {
        tracing::warn!(
            "not storing the credential git used for {shown}: auth never hands a credential out \
             over plain http to a host that is not loopback; use https, or run `auth login \
             http://{}` to allow it",
            authority(&url)
        );
        return Ok(());
    }
    let resolver = Resolver::open(env, global.auth_file.as_ref(), None)?;
    if let resolve::Answer::Send {
        auth,
        placement,
        source,
        ..
    } = resolver.resolve(&url, request.username.as_deref())?
        && as_git(&auth, placement).is_some_and(|ours| same_secret(&ours, &credential))
    {
        tracing::debug!("nothing to store for {shown}: {source} holds this credential already");
        return Ok(());
    }
    let key = store_key(&url, request.path.is_some())?;
    let chain = &resolver.stores.chain;
    if let Some(found) = chain.get(&key)? {
        let auth = &found.credential.auth;
        if !matches!(
            auth,
            Authentication::BasicHTTP { .. } | Authentication::BearerToken(_)
        ) {
            tracing::warn!(
                "not storing the credential git used for {shown}: {key} in {} is a {} login, \
                 which git's would replace; run `auth login {key}` to replace it yourself",
                found.store.describe(),
                auth.kind()
            );
            return Ok(());
        }
    }
    let auth = match credential {
        Answer::Basic { username, password } => Authentication::BasicHTTP { username, password },
        Answer::Bearer { token, .. } => Authentication::BearerToken(token),
    };
    let saved = chain
        .set(&key, &auth)
        .with_context(|| format!("could not save the credential git used for {key}"))?;
    for warning in resolver
        .stores
        .save_warnings(&saved, "the credential", "it")
    {
        tracing::warn!("{warning}");
    }
    tracing::info!(
        "stored the {} git used for {shown} as {key} in {}",
        auth.kind(),
        saved.store.describe()
    );
    Ok(())
}

/// `host[:port]` of a URL, for messages and keys.
fn authority(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// The key `store` saves under: the exact `host[:port]` git used (never a wildcard: git
/// learned it for that host), with the path when git sent one (`credential.useHttpPath`).
fn store_key(url: &url::Url, with_path: bool) -> anyhow::Result<HostKey> {
    let mut text = authority(url);
    if with_path {
        text.push_str(url.path().trim_end_matches('/'));
    }
    HostKey::parse(&text)
        .map(|key| key.canonical())
        .with_context(|| {
            format!(
                "could not store the credential git used: `{}` is not a key auth can store",
                auth_core::escape_control(&text)
            )
        })
}

/// `erase`: removes the entry `get` answers from, if git's credential is that one.
fn erase(request: &Request, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let (url, credential) = match described(request) {
        Ok(described) => described,
        Err(reason) => {
            tracing::debug!("erasing nothing: {reason}");
            return Ok(());
        }
    };
    let shown = auth_core::redact_url(url.as_str());
    let target = UrlTarget::from_url(&url)
        .with_context(|| format!("`{shown}` is not an http:// or https:// URL"))?;
    let stores = crate::stores::open(env, global.auth_file.as_ref())?;
    let auth_core::Decision::Send { found, placement } = stores.chain.decide(&target)? else {
        tracing::debug!("erasing nothing for {shown}: no credential of ours goes there");
        return Ok(());
    };
    let key = &found.credential.key;
    let ours = as_git(&found.credential.auth, placement);
    if !ours.is_some_and(|ours| same_secret(&ours, &credential)) {
        tracing::debug!(
            "erasing nothing for {shown}: the credential git rejected is not the one stored as \
             {key} in {}",
            found.store.describe()
        );
        return Ok(());
    }
    if matches!(found.credential.auth, Authentication::OAuth { .. }) {
        tracing::debug!(
            "not erasing the OAuth login {key}: its token is refreshed, and `auth logout {key}` \
             also revokes it"
        );
        return Ok(());
    }
    match found.store.remove(key) {
        Ok(true) => tracing::info!(
            "erased {key} from {}: git says the server rejected it",
            found.store.describe()
        ),
        Ok(false) => {}
        Err(StoreError::ReadOnly { .. }) => {
            tracing::debug!("not erasing {key}: {} is read-only", found.store.describe());
        }
        Err(err) => {
            return Err(err)
                .with_context(|| format!("could not erase {key} from {}", found.store.describe()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::protocol::Request;
    use super::target_url;

    fn url(protocol: &str, host: &str, path: Option<&str>) -> Result<String, String> {
        let request = Request {
            protocol: Some(protocol.to_owned()),
            host: Some(host.to_owned()),
            path: path.map(str::to_owned),
            ..Request::default()
        };
        target_url(&request).map(|url| url.to_string())
    }

    #[test]
    fn the_url_git_asks_about_is_one_host() {
        let ok = [
            ("https", "example.com", None, "https://example.com/"),
            (
                "https",
                "Example.COM:8443",
                None,
                "https://example.com:8443/",
            ),
            ("http", "[::1]:8080", None, "http://[::1]:8080/"),
            (
                "https",
                "example.com",
                Some("org/a b?c#d.git"),
                "https://example.com/org/a%20b%3Fc%23d.git",
            ),
        ];
        for (protocol, host, path, expected) in ok {
            assert_eq!(url(protocol, host, path).as_deref(), Ok(expected), "{host}");
        }
        for host in [
            "",
            "evil.test@example.com",
            "example.com/evil",
            "example.com\\evil",
            "example.com?x",
            "example.com#x",
            "exa%6dple.com",
            "example.com evil",
            "example.com\n",
            "[::1",
        ] {
            assert!(url("https", host, None).is_err(), "{host:?}");
        }
        assert!(url("cert", "example.com", None).is_err());
        assert!(url("ssh", "example.com", None).is_err());
    }
}
