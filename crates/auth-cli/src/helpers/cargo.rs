//! `auth helper cargo`: cargo's credential provider (the `cargo-credential` protocol, which
//! cargo speaks over stdin and stdout after starting us with `--cargo-plugin`), answered from
//! the same stores and by the same resolution as `auth fetch`; and `auth helper install cargo`.
//!
//! What cargo gets for a registry:
//! - `get`: the index URL without `sparse+` goes through [`Resolver::resolve`], so the matching
//!   (wildcards, ports, paths), the plain-http and look-alike rules, OAuth refresh and the stores
//!   are those of a download. Cargo puts the token it gets, as it is, in the `Authorization`
//!   header of the index and download requests: that is cargo's registry protocol, and what
//!   `cargo login` stores for crates.io, kellnr or Cloudsmith. So a stored token
//!   (`auth login HOST --token T`, or `cargo login` through us) goes to cargo as `T`, and a
//!   registry that wants `Bearer T` (Artifactory) is logged in with `--token 'Bearer T'`, as its
//!   own instructions say for `cargo login`. An OAuth access token is a Bearer token by
//!   definition (RFC 6750) and goes as `Bearer …`, with its expiry so that cargo asks again
//!   before it runs out. Basic, conda and S3 credentials are not cargo tokens: cargo is told
//!   the registry is not ours and tries its next provider.
//! - `login`: the token is stored under the key `auth login HOST[:PORT]` would use for the index
//!   URL's host (not its path: cargo sends the same token to the index, the downloads and the
//!   API, which need not share a path), in the store `auth login` would choose.
//! - `logout`: that key is removed.

mod config;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use auth_core::{Authentication, HostKey, Placement, Secret, escape_control, redact_url};
use cargo_credential::{
    Action, CacheControl, Credential, CredentialResponse, Error, LoginOptions, Operation,
    RegistryInfo,
};

use crate::cli::GlobalArgs;
use crate::env::Env;
use crate::output::Printer;
use crate::resolve::{Answer, Resolver};

use self::config::Change;

/// The flag cargo adds to a provider's command line.
const CARGO_PLUGIN: &str = "--cargo-plugin";

pub(super) fn run(args: &[String], global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    if !args.iter().any(|arg| arg == CARGO_PLUGIN) {
        anyhow::bail!(
            "`auth helper cargo` is cargo's credential provider: cargo runs it with {CARGO_PLUGIN} and speaks JSON to it; set cargo up with `auth helper install cargo`, then use `cargo login --registry NAME` or `auth login HOST --token …`"
        );
    }
    for extra in args.iter().filter(|arg| *arg != CARGO_PLUGIN) {
        tracing::debug!(
            argument = %escape_control(extra),
            "ignoring an argument of the provider's command line"
        );
    }
    // Prints the hello, answers each request on stdin until cargo closes it, and reports a
    // request it cannot read on stdout; it never exits the process.
    cargo_credential::main(CargoProvider {
        global,
        env,
        printer: Printer {
            color: false,
            quiet: global.quiet,
        },
    });
    Ok(())
}

/// The provider: the stores are opened for each request (cargo starts a provider for one).
struct CargoProvider<'a> {
    global: &'a GlobalArgs,
    env: &'a Env,
    printer: Printer,
}

impl Credential for CargoProvider<'_> {
    fn perform(
        &self,
        registry: &RegistryInfo<'_>,
        action: &Action<'_>,
        _args: &[&str],
    ) -> Result<CredentialResponse, Error> {
        let index = IndexUrl::parse(registry.index_url)?;
        tracing::debug!(index = %index.shown, %action, "cargo asks");
        match action {
            Action::Get(operation) => self.get(&index, registry.name, operation),
            Action::Login(options) => self.login(&index, registry, options),
            Action::Logout => self.logout(&index, registry.name),
            _ => Err(Error::OperationNotSupported),
        }
    }
}

impl CargoProvider<'_> {
    fn resolver(&self) -> Result<Resolver<'_>, Error> {
        Resolver::open(self.env, self.global.auth_file.as_ref(), None).map_err(cargo_error)
    }

    fn get(
        &self,
        index: &IndexUrl,
        name: Option<&str>,
        operation: &Operation<'_>,
    ) -> Result<CredentialResponse, Error> {
        let resolver = self.resolver()?;
        let answer = resolver.resolve(&index.url, None).map_err(cargo_error)?;
        let (auth, placement, source) = match answer {
            Answer::Send {
                auth,
                placement,
                source,
                ..
            } => (auth, placement, source),
            Answer::Withheld { message, .. } => {
                // We hold one and will not hand it out; saying so beats cargo's "no token".
                return Err(cargo_error(anyhow::anyhow!(
                    "auth will not give cargo the credential for {}: {message}",
                    index.shown
                )));
            }
            Answer::NotStored { .. } => {
                // NotFound lets cargo try its next provider (`cargo:token`); cargo shows our
                // stderr, so the user learns where to log in if none has a token either.
                self.printer.warning(&format!(
                    "auth: not logged in to {host}; run `auth login {host} --token …` or `cargo login --registry {name}`",
                    host = index.host,
                    name = name.unwrap_or("NAME"),
                ));
                return Err(Error::NotFound);
            }
        };
        let (token, cache) = match (&auth, placement) {
            (Authentication::BearerToken(token), Placement::BearerHeader) => {
                (token.expose().clone(), CacheControl::Session)
            }
            (
                Authentication::OAuth {
                    access_token,
                    expires_at,
                    ..
                },
                Placement::BearerHeader,
            ) => {
                let cache = expires_at
                    .and_then(|at| time::OffsetDateTime::from_unix_timestamp(at).ok())
                    .map_or(CacheControl::Session, |expiration| CacheControl::Expires {
                        expiration,
                    });
                (format!("Bearer {}", access_token.expose()), cache)
            }
            _ => {
                tracing::info!(
                    kind = auth.kind(),
                    index = %index.shown,
                    "the stored credential is not a token cargo can send; letting cargo try its next provider"
                );
                return Err(Error::UrlNotSupported);
            }
        };
        tracing::debug!(index = %index.shown, %source, ?operation, "giving cargo a token");
        Ok(CredentialResponse::Get {
            token: token.into(),
            cache,
            operation_independent: true,
        })
    }

    fn login(
        &self,
        index: &IndexUrl,
        registry: &RegistryInfo<'_>,
        options: &LoginOptions<'_>,
    ) -> Result<CredentialResponse, Error> {
        // The token from `cargo login`'s argument or stdin; without one, a prompt on the
        // terminal (cargo has handed it to us).
        let token = cargo_credential::read_token(options, registry)?;
        let token = token.expose().trim().to_owned();
        if token.is_empty() {
            return Err(cargo_error(anyhow::anyhow!(
                "cargo passed an empty token for {}; run `cargo login --registry NAME` again and paste the token",
                index.shown
            )));
        }
        let resolver = self.resolver()?;
        let auth = Authentication::BearerToken(Secret::new(token));
        let saved = resolver
            .stores
            .chain
            .set(&index.key, &auth)
            .with_context(|| format!("could not save the token for {}", index.key))
            .map_err(cargo_error)?;
        for warning in resolver.stores.save_warnings(&saved, "the token", "it") {
            self.printer.warning(&warning);
        }
        self.printer.info(&format!(
            "auth: logged in to {}: token saved in {}.",
            index.key,
            saved.store.describe()
        ));
        Ok(CredentialResponse::Login)
    }

    fn logout(&self, index: &IndexUrl, name: Option<&str>) -> Result<CredentialResponse, Error> {
        let resolver = self.resolver()?;
        let chain = &resolver.stores.chain;
        if let Some(found) = chain.get(&index.key).map_err(cargo_error)?
            && matches!(found.credential.auth, Authentication::OAuth { .. })
        {
            crate::oauth::revoke(&found.credential.auth, &index.key, self.printer);
        }
        let removed = chain.remove(&index.key).map_err(cargo_error)?;
        if removed.is_empty() {
            tracing::info!(
                key = %index.key,
                registry = name.map(escape_control).as_deref(),
                "nothing of auth's to log out of"
            );
            return Err(Error::NotFound);
        }
        for store in removed {
            self.printer.info(&format!(
                "auth: logged out of {}: removed from {}.",
                index.key,
                store.describe()
            ));
        }
        Ok(CredentialResponse::Logout)
    }
}

/// A registry's index URL, as cargo names it.
struct IndexUrl {
    /// Without `sparse+` (or `registry+`): what a download of the index requests.
    url: url::Url,
    /// Redacted and escaped, for messages.
    shown: String,
    /// `HOST[:PORT]`, for "run `auth login HOST`".
    host: String,
    /// The key `auth login HOST[:PORT]` stores, and cargo's login and logout use.
    key: HostKey,
}

impl IndexUrl {
    fn parse(raw: &str) -> Result<Self, Error> {
        let shown = escape_control(&redact_url(raw)).into_owned();
        let plain = raw
            .strip_prefix("sparse+")
            .or_else(|| raw.strip_prefix("registry+"))
            .unwrap_or(raw);
        let url = url::Url::parse(plain)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some());
        let Some(url) = url else {
            tracing::debug!(index = %shown, "not an http(s) registry index");
            return Err(Error::UrlNotSupported);
        };
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => unreachable!("checked above"),
        };
        let key = HostKey::for_login(&host).map_err(|err| {
            cargo_error(
                anyhow::Error::new(err)
                    .context(format!("{shown} has no host auth can store a token for")),
            )
        })?;
        Ok(Self {
            url,
            host: escape_control(&host).into_owned(),
            shown,
            key,
        })
    }
}

/// An error for cargo to show (it prints the message and each cause), every line of it safe for
/// a terminal.
fn cargo_error(err: impl Into<anyhow::Error>) -> Error {
    let err: anyhow::Error = err.into();
    let mut messages: Vec<String> = err
        .chain()
        .map(|cause| escape_control(&cause.to_string()).into_owned())
        .collect();
    let mut rebuilt = anyhow::anyhow!(messages.pop().unwrap_or_default());
    while let Some(message) = messages.pop() {
        rebuilt = rebuilt.context(message);
    }
    Error::from(rebuilt)
}

/// `auth helper install|uninstall cargo [--dry-run]`.
pub(super) fn install(env: &Env, printer: Printer, on: bool, dry_run: bool) -> anyhow::Result<()> {
    let file = config_file(env)?;
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => {
            return Err(err).with_context(|| format!("could not read {}", file.display()));
        }
    };
    let change = if on {
        let exe = env
            .current_exe
            .clone()
            .context("could not find the path of the running auth, to name it in cargo's config")?;
        config::add(&text, &config::entry_for(&exe)?, &file)?
    } else {
        config::remove(&text, &file)?
    };
    let shown = file.display();
    let would = if dry_run { "would be " } else { "" };
    let (new_text, message) = match change {
        Change::Added { entry, text } => (
            text,
            format!(
                "{shown}: \"{entry}\" {would}added to registry.global-credential-providers; cargo now asks auth for registry tokens"
            ),
        ),
        Change::Removed { entries, text } => (
            text,
            format!(
                "{shown}: {} {would}removed from registry.global-credential-providers",
                entries
                    .iter()
                    .map(|entry| format!("\"{entry}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Change::AlreadyThere(entry) => {
            printer.info(&format!(
                "{shown}: cargo already asks auth (\"{entry}\" in registry.global-credential-providers); nothing changed"
            ));
            return Ok(());
        }
        Change::NothingToRemove => {
            printer.info(&format!(
                "{shown}: no provider of auth's in registry.global-credential-providers; nothing changed"
            ));
            return Ok(());
        }
    };
    // A file that held only what we added goes away with it, as it was before we came.
    let emptied = !on && new_text.trim().is_empty();
    let message = if emptied {
        let removed = if dry_run {
            "would be removed"
        } else {
            "was removed"
        };
        format!("{message}; it held nothing else, so the file {removed}")
    } else {
        message
    };
    if !dry_run {
        if emptied {
            std::fs::remove_file(&file)
                .with_context(|| format!("could not remove {shown}, which is now empty"))?;
        } else {
            write(&file, &new_text)?;
        }
    }
    printer.info(&message);
    Ok(())
}

/// `$CARGO_HOME/config.toml`, or cargo's older `config` when only that one exists (cargo reads
/// it then).
fn config_file(env: &Env) -> anyhow::Result<PathBuf> {
    let home = match &env.cargo_home {
        Some(home) => home.clone(),
        None => env
            .home
            .as_ref()
            .context("neither CARGO_HOME nor HOME is set, so auth cannot find cargo's config; set CARGO_HOME")?
            .join(".cargo"),
    };
    let legacy = home.join("config");
    let file = home.join("config.toml");
    if !file.exists() && legacy.is_file() {
        return Ok(legacy);
    }
    Ok(file)
}

/// Replaces `file` with `text` through a temporary file beside it and a rename, keeping its
/// permissions; a symbolic link stays a link (its target is written).
fn write(file: &Path, text: &str) -> anyhow::Result<()> {
    let target = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_owned());
    let dir = target
        .parent()
        .context("cargo's config file has no directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("could not write a temporary file in {}", dir.display()))?;
    std::io::Write::write_all(&mut temp, text.as_bytes())
        .with_context(|| format!("could not write {}", temp.path().display()))?;
    let permissions = match std::fs::metadata(&target) {
        Ok(metadata) => metadata.permissions(),
        Err(_) => {
            // A new config file gets the usual mode, not the temporary file's 0600.
            #[cfg(unix)]
            {
                std::os::unix::fs::PermissionsExt::from_mode(0o644)
            }
            #[cfg(not(unix))]
            {
                temp.as_file().metadata()?.permissions()
            }
        }
    };
    temp.as_file()
        .set_permissions(permissions)
        .with_context(|| format!("could not set the permissions of {}", temp.path().display()))?;
    temp.persist(&target)
        .with_context(|| format!("could not replace {}", target.display()))?;
    Ok(())
}
