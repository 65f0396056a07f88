//! `auth helper docker` (and the name `docker-credential-auth`): the credential helper protocol
//! of `docker-credential-helpers`, which docker, podman, skopeo and buildah speak, answered from
//! the same stores and by the same resolution as `auth fetch`; and `auth helper install docker`.
//!
//! The protocol: the operation is the first argument; `get` and `erase` read a server URL (a
//! bare `host[:port]`, or a URL such as `https://index.docker.io/v1/`) on stdin, `store` reads
//! `{"ServerURL","Username","Secret"}`, `list` prints `{"ServerURL":"Username",…}`. A failure is
//! one line on stdout and exit 1; clients match the exact text `credentials not found in native
//! keychain` to fall back to no credential.
//!
//! What docker gets for a registry:
//! - `get`: the server URL, with `https://` in front of a bare host as docker assumes, goes
//!   through [`Resolver::resolve`], so the matching (wildcards, ports), the look-alike and
//!   plain-http rules (a loopback registry may be plain http), OAuth refresh and the stores are
//!   those of a download. A user name and password is what a registry's Basic or token login
//!   takes, and goes out as `Username`/`Secret`. Nothing else does: docker's one other form,
//!   `Username: <token>`, makes the client use `Secret` as an OAuth *refresh* token at the
//!   registry's token service (containers/image `getBearerTokenOAuth2`, docker's identity
//!   tokens), which a stored Bearer or OAuth access token is not; those are "not found", with the
//!   reason at debug level.
//! - `store`: under the key `auth login HOST[:PORT]` would use for the server URL's host, in the
//!   store `auth login` would choose. An identity token (`Username: <token>`) is kept as that
//!   user name and password, so docker gets it back as it gave it.
//! - `erase`: that key, when what it holds is a user name and password (the only kind `store`
//!   writes): a token that cargo or pixi use under the same key is not docker's to remove.
//! - `list`: every user name and password of ours whose key names a registry: `host[:port]`
//!   (with `http://` when the key says so). A wildcard key `*.example.com` is listed as
//!   `example.com`, the registry `auth login example.com` meant; its subdomains cannot be listed
//!   but `get` answers for them. A key with a path names no registry and is left out.

mod config;
mod install;

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};

use anyhow::{Context as _, bail};
use auth_core::{Authentication, HostKey, HostSpec, Scheme, Secret, escape_control, redact_url};
use serde::{Deserialize, Serialize};

use crate::cli::GlobalArgs;
use crate::env::Env;
use crate::output::Printer;
use crate::resolve::{Answer, Resolver};

pub(super) use self::install::install;

/// The answer clients match to fall back to no credential (`credentials.NewErrCredentialsNotFound`).
const NOT_FOUND: &str = "credentials not found in native keychain";
/// The most stdin we read: a server URL, or a user name and a token.
const MAX_INPUT: u64 = 1 << 20;
/// The usage line of `docker-credential-helpers`.
const USAGE: &str = "Usage: docker-credential-auth <store|get|erase|list|version>";

pub(super) fn run(args: &[String], global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let printer = Printer {
        color: false,
        quiet: global.quiet,
    };
    let operation = args.first().map(String::as_str);
    for extra in args.iter().skip(1) {
        tracing::debug!(argument = %escape_control(extra), "ignoring an extra argument");
    }
    let result = match operation {
        Some("get") => read_stdin().and_then(|input| get(&input, global, env)),
        Some("store") => read_stdin().and_then(|input| store(&input, global, env, printer)),
        Some("erase") => read_stdin().and_then(|input| erase(&input, global, env)),
        Some("list") => list(global, env),
        Some("version") => write_stdout(&format!(
            "docker-credential-auth (auth) {}\n",
            env!("CARGO_PKG_VERSION")
        )),
        Some(other) => {
            let _ = write_stdout(&format!("{USAGE}\n"));
            Err(anyhow::anyhow!(
                "`{}` is not an operation of the docker credential helper protocol; {USAGE}",
                escape_control(other)
            ))
        }
        None => {
            let _ = write_stdout(&format!("{USAGE}\n"));
            Err(anyhow::anyhow!(
                "`auth helper docker` is docker's credential helper: docker runs it as `docker-credential-auth get` and the like; set docker up with `auth helper install docker`"
            ))
        }
    };
    if let Err(err) = &result {
        // The protocol reports a failure on stdout (clients read nothing else); the whole
        // chain goes to stderr as for every command.
        let line = if err.is::<NotFound>() {
            NOT_FOUND.to_owned()
        } else {
            escape_control(&err.to_string()).into_owned()
        };
        let _ = write_stdout(&format!("{line}\n"));
    }
    result
}

/// Nothing for docker: the message says why (stderr); stdout gets [`NOT_FOUND`].
#[derive(Debug)]
struct NotFound(String);

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{NOT_FOUND}: {}", self.0)
    }
}

impl std::error::Error for NotFound {}

/// What `get` prints and `store` reads.
#[derive(Serialize, Deserialize)]
struct Credentials {
    #[serde(rename = "ServerURL", default)]
    server_url: String,
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret")]
    secret: Secret,
}

/// A server URL as a client names a registry.
#[derive(Debug)]
struct Registry {
    /// What a request to it is: `https://` in front of a bare host.
    url: url::Url,
    /// Redacted and escaped, for messages.
    shown: String,
    /// The key `auth login HOST[:PORT]` stores for it.
    key: HostKey,
}

impl Registry {
    fn parse(input: &str) -> anyhow::Result<Self> {
        let raw = input.trim();
        let shown = escape_control(&redact_url(raw)).into_owned();
        if raw.is_empty() {
            bail!("no credentials server URL: docker sends the registry (`host[:port]`) on stdin");
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            bail!("`{shown}` is not a registry: a server URL has no spaces or control characters");
        }
        let with_scheme = if raw.contains("://") {
            raw.to_owned()
        } else {
            format!("https://{raw}")
        };
        let url = url::Url::parse(&with_scheme)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
            .with_context(|| {
                format!("`{shown}` is not a registry: expected `host[:port]` or an http(s) URL")
            })?;
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => unreachable!("checked above"),
        };
        // `http://` is the explicit opt-in to plain HTTP, kept in the key as `auth login` does.
        let login = if url.scheme() == "http" {
            format!("http://{host}")
        } else {
            host
        };
        let key = HostKey::for_login(&login)
            .with_context(|| format!("`{shown}` has no host auth can store credentials for"))?;
        Ok(Self { url, shown, key })
    }
}

fn get(input: &str, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let registry = Registry::parse(input)?;
    let resolver = Resolver::open(env, global.auth_file.as_ref(), None)?;
    match resolver.resolve(&registry.url, None)? {
        Answer::Send {
            auth: Authentication::BasicHTTP { username, password },
            source,
            ..
        } => {
            tracing::debug!(registry = %registry.shown, %source, "giving docker a user name and password");
            let answer = Credentials {
                server_url: input.trim().to_owned(),
                username,
                secret: password,
            };
            let json = serde_json::to_string(&answer).context("could not write the answer")?;
            write_stdout(&format!("{json}\n"))
        }
        Answer::Send { auth, source, .. } => {
            let why = format!(
                "{source} holds {} for {}, which docker cannot use: a registry takes a user name and password (`auth login HOST --username USER --password -`)",
                auth.kind(),
                registry.shown
            );
            tracing::debug!("{why}");
            Err(NotFound(why).into())
        }
        Answer::Withheld { message, .. } => {
            tracing::info!("{message}");
            Err(NotFound(message).into())
        }
        Answer::NotStored { message } => {
            tracing::debug!("{message}");
            Err(NotFound(message).into())
        }
    }
}

fn store(input: &str, global: &GlobalArgs, env: &Env, printer: Printer) -> anyhow::Result<()> {
    let credentials: Credentials = serde_json::from_str(input).map_err(|err| {
        // serde_json's message names a line and column, never the text.
        anyhow::anyhow!(
            "docker sent `store` something that is not {{\"ServerURL\",\"Username\",\"Secret\"}}: {err}"
        )
    })?;
    if credentials.server_url.trim().is_empty() {
        bail!("no credentials server URL");
    }
    if credentials.username.is_empty() {
        bail!("no credentials username");
    }
    let registry = Registry::parse(&credentials.server_url)?;
    let auth = Authentication::BasicHTTP {
        username: credentials.username,
        password: credentials.secret,
    };
    let resolver = Resolver::open(env, global.auth_file.as_ref(), None)?;
    let saved = resolver
        .stores
        .chain
        .set(&registry.key, &auth)
        .with_context(|| format!("could not save the credentials for {}", registry.key))?;
    for warning in resolver
        .stores
        .save_warnings(&saved, "the credentials", "them")
    {
        printer.warning(&warning);
    }
    tracing::info!(
        key = %registry.key,
        store = %saved.store.describe(),
        "stored the credentials docker logged in with"
    );
    Ok(())
}

fn erase(input: &str, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let registry = Registry::parse(input)?;
    let resolver = Resolver::open(env, global.auth_file.as_ref(), None)?;
    let chain = &resolver.stores.chain;
    match chain.get(&registry.key)? {
        None => Err(NotFound(format!("nothing is stored under {}", registry.key)).into()),
        Some(found) if !matches!(found.credential.auth, Authentication::BasicHTTP { .. }) => {
            Err(NotFound(format!(
                "{} holds {} under {}, which docker did not store; left it (remove it with `auth logout {}`)",
                found.store.describe(),
                found.credential.auth.kind(),
                registry.key,
                registry.key
            ))
            .into())
        }
        Some(_) => {
            for store in chain.remove(&registry.key)? {
                tracing::info!(key = %registry.key, store = %store.describe(), "erased");
            }
            Ok(())
        }
    }
}

fn list(global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let resolver = Resolver::open(env, global.auth_file.as_ref(), None)?;
    let json =
        serde_json::to_string(&registries(&resolver)?).context("could not write the list")?;
    write_stdout(&format!("{json}\n"))
}

/// Our registries as docker names them, each with its user name: see the module's docs.
fn registries(resolver: &Resolver<'_>) -> anyhow::Result<BTreeMap<String, String>> {
    let mut registries = BTreeMap::new();
    for listed in resolver.stores.chain.list()? {
        if listed.shadowed {
            continue;
        }
        let Authentication::BasicHTTP { username, .. } = &listed.credential.auth else {
            continue;
        };
        if let Some(name) = registry_name(&listed.credential.key) {
            registries.entry(name).or_insert_with(|| username.clone());
        } else {
            tracing::debug!(
                key = %listed.credential.key,
                "not a registry docker can name (a path, or not http)"
            );
        }
    }
    Ok(registries)
}

/// The registry a key names: `host[:port]`, `http://host[:port]`, or the base of a wildcard.
fn registry_name(key: &HostKey) -> Option<String> {
    let canonical = key.canonical();
    let text = canonical.as_str();
    let (prefix, rest) = match key.scheme() {
        None => ("", text),
        Some(Scheme::Https) => ("", text.strip_prefix("https://")?),
        Some(Scheme::Http) => ("http://", text.strip_prefix("http://")?),
        Some(_) => return None,
    };
    if rest.contains('/') {
        return None;
    }
    let rest = match key.host() {
        HostSpec::Exact(_) => rest,
        HostSpec::Wildcard(_) => rest.strip_prefix("*.")?,
        HostSpec::Any => return None,
    };
    Some(format!("{prefix}{rest}"))
}

/// Stdin to its end, at most [`MAX_INPUT`] bytes.
fn read_stdin() -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::stdin()
        .lock()
        .take(MAX_INPUT + 1)
        .read_to_string(&mut input)
        .context("could not read the request from docker (stdin is not UTF-8 text)")?;
    if input.len() as u64 > MAX_INPUT {
        bail!(
            "docker sent more than {MAX_INPUT} bytes on stdin; a request is one server URL or one credential"
        );
    }
    Ok(input)
}

fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("could not write the answer to docker (stdout)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(key: &str) -> Option<String> {
        registry_name(&HostKey::parse(key).unwrap())
    }

    #[test]
    fn keys_as_registry_names() {
        assert_eq!(name("127.0.0.1:5000").as_deref(), Some("127.0.0.1:5000"));
        assert_eq!(name("https://ghcr.io").as_deref(), Some("ghcr.io"));
        assert_eq!(name("*.example.com").as_deref(), Some("example.com"));
        assert_eq!(
            name("http://registry.lan:5000").as_deref(),
            Some("http://registry.lan:5000")
        );
        assert_eq!(name("example.com/org"), None);
        assert_eq!(name("s3://bucket"), None);
    }

    fn key(input: &str) -> String {
        Registry::parse(input).unwrap().key.to_string()
    }

    #[test]
    fn server_urls_as_login_keys() {
        assert_eq!(key("127.0.0.1:5000\n"), "127.0.0.1:5000");
        assert_eq!(key("https://index.docker.io/v1/"), "index.docker.io");
        assert_eq!(key("example.com"), "*.example.com");
        assert_eq!(key("http://registry.lan:5000"), "http://registry.lan:5000");
        assert_eq!(
            Registry::parse("reg.example").unwrap().url.as_str(),
            "https://reg.example/"
        );
    }

    #[test]
    fn bad_server_urls_are_refused() {
        for input in ["", " \n", "a b", "ftp://x.example", "https://", "a\u{1b}b"] {
            assert!(Registry::parse(input).is_err(), "{input:?}");
        }
    }
}
