//! The credential a download of a URL would send, for every consumer that is not a download:
//! `auth token` and the git, cargo and docker credential helpers.
//!
//! The steps are the middleware's, in its order, so what a helper hands to git and what
//! `auth fetch` sends cannot disagree: the URL's own `user:password@` wins; then the library's
//! one decision ([`StoreChain::decide`](auth_core::StoreChain::decide)); an OAuth token close to expiry is refreshed first; and
//! for a URL with a user name and nothing stored, the PyPI `keyring` command when the config
//! (or a flag) turns the subprocess provider on.

use std::fmt::Write as _;

use anyhow::Context as _;
use auth_core::{
    Authentication, Decision, Found, HostKey, Placement, Scheme, UrlTarget, redact_url,
};
use auth_keyring_cli::KeyringCli;

use crate::config::{Config, KeyringProvider};
use crate::env::Env;
use crate::stores::{self, Stores};

/// What a consumer needs to answer for URLs: the stores, the config, and the `keyring`
/// command when it is on. Open once per process; [`Resolver::resolve`] as often as needed.
#[derive(Debug)]
pub(crate) struct Resolver<'env> {
    pub(crate) stores: Stores,
    pub(crate) config: Config,
    keyring: Option<KeyringCli>,
    env: &'env Env,
}

/// The answer for one URL.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "one answer per process, returned by value once; boxing would only move the bytes"
)]
pub(crate) enum Answer {
    /// This credential goes with the request, placed as `placement` says (an OAuth token is
    /// already fresh).
    Send {
        auth: Authentication,
        placement: Placement,
        /// Where it came from, for logs: "the keyring (Secret Service, service `rattler`)",
        /// "the URL", "the keyring command".
        source: String,
    },
    /// A credential is stored, but a download would not send it; the message says why
    /// (plain http to a host that is not loopback, a non-S3 credential for `s3://`).
    Withheld { message: String },
    /// Nothing is stored for the URL; the message says what to run, and names the stores that
    /// could not be asked.
    NotStored { message: String },
}

impl<'env> Resolver<'env> {
    /// Opens the stores and reads the config as `auth fetch` does. `provider` overrides the
    /// config's `pypi-config.keyring-provider` (a flag), when given.
    pub(crate) fn open(
        env: &'env Env,
        auth_file: Option<&std::path::PathBuf>,
        provider: Option<KeyringProvider>,
    ) -> anyhow::Result<Self> {
        let config = Config::load_layered(env)?;
        let stores = stores::open_with(env, auth_file, &config)?;
        let provider = provider
            .or(config.pypi.keyring_provider)
            .unwrap_or(KeyringProvider::Disabled);
        let keyring = (provider == KeyringProvider::Subprocess).then(KeyringCli::new);
        Ok(Self {
            stores,
            config,
            keyring,
            env,
        })
    }

    /// What a download of `url` would send. `username` is a user name the caller knows for the
    /// URL (git's `username=`), used as the URL's own user name is: to ask the `keyring`
    /// command, never to pick a stored entry.
    pub(crate) fn resolve(&self, url: &url::Url, username: Option<&str>) -> anyhow::Result<Answer> {
        self.resolve_shown(url, username, &redact_url(url.as_str()))
    }

    /// [`Resolver::resolve`], with messages naming the URL as `shown` (what the user typed,
    /// redacted: `auth token example.com` says "example.com", not `https://example.com/`).
    pub(crate) fn resolve_shown(
        &self,
        url: &url::Url,
        username: Option<&str>,
        shown: &str,
    ) -> anyhow::Result<Answer> {
        let shown = shown.to_owned();
        // A URL's own `user:password@` is what a download sends, whatever is stored.
        if let Some(auth) = auth_core::url_credential(url) {
            return Ok(Answer::Send {
                auth,
                placement: Placement::BasicHeader,
                source: "the URL".to_owned(),
            });
        }
        let target = UrlTarget::from_url(url)
            .with_context(|| format!("`{shown}` is not an http://, https:// or s3:// URL"))?;
        match self.stores.chain.decide(&target)? {
            Decision::Send { found, placement } => {
                let auth = self.fresh(&found)?;
                Ok(Answer::Send {
                    auth,
                    placement,
                    source: found.store.describe(),
                })
            }
            Decision::Withhold { found, reason } => {
                let message = format!(
                    "a download of {shown} would send no credential: {}",
                    reason.explain(&found, &target)
                );
                Ok(Answer::Withheld { message })
            }
            Decision::NotStored => {
                let username = username.map(str::to_owned).or_else(|| {
                    (!url.username().is_empty()).then(|| percent_decode(url.username()))
                });
                if let (Some(keyring), Some(username)) = (&self.keyring, username)
                    && target.scheme() != Scheme::S3
                {
                    let mut index = url.clone();
                    let _ = index.set_username("");
                    if let Some(password) =
                        keyring.password(&index, &username).with_context(|| {
                            format!("the keyring command could not be asked about {shown}")
                        })?
                    {
                        tracing::info!("using a password from the keyring command");
                        return Ok(Answer::Send {
                            auth: Authentication::BasicHTTP { username, password },
                            placement: Placement::BasicHeader,
                            source: "the keyring command".to_owned(),
                        });
                    }
                }
                // An unstored bucket: the AWS credential chain, as a download (pixi's rule).
                if target.scheme() == Scheme::S3 {
                    let hint = format!("s3://{}", target.host());
                    return crate::s3::unstored(self.env, &self.config, target.host(), || {
                        self.not_stored(&shown, &hint)
                    });
                }
                // What to suggest logging in to: the host, never the whole URL.
                let hint = match (target.scheme(), target.port()) {
                    (Scheme::S3, _) => format!("s3://{}", target.host()),
                    (_, Some(port)) => format!("{}:{port}", target.host()),
                    (_, None) => target.host().to_owned(),
                };
                Ok(Answer::NotStored {
                    message: self.not_stored(&shown, &hint),
                })
            }
        }
    }

    /// The entry stored under exactly `key` (a `*.host` key as `status` lists it), fresh.
    pub(crate) fn resolve_key(&self, key: &HostKey, shown: &str) -> anyhow::Result<Answer> {
        match self.stores.chain.get(key)? {
            Some(found) => {
                let auth = self.fresh(&found)?;
                let placement = match &auth {
                    Authentication::BasicHTTP { .. } => Placement::BasicHeader,
                    Authentication::CondaToken(_) => Placement::CondaTokenPath,
                    Authentication::S3Credentials { .. } => Placement::S3Signature,
                    _ => Placement::BearerHeader,
                };
                Ok(Answer::Send {
                    auth,
                    placement,
                    source: found.store.describe(),
                })
            }
            None => Ok(Answer::NotStored {
                message: self.not_stored(shown, &key.to_string()),
            }),
        }
    }

    /// The credential, with an OAuth access token close to expiry refreshed first, as a
    /// download would.
    fn fresh(&self, found: &Found) -> anyhow::Result<Authentication> {
        if !matches!(found.credential.auth, Authentication::OAuth { .. }) {
            return Ok(found.credential.auth.clone());
        }
        let refresher =
            crate::oauth::refresher(self.env, &self.stores, crate::oauth::http_client(None)?);
        crate::oauth::fresh(&refresher, found)
    }

    /// "Nothing is stored for …", with the stores that could not be asked (a locked keyring
    /// holds entries too).
    fn not_stored(&self, shown: &str, hint: &str) -> String {
        let mut message = format!("no credentials are stored for {shown}; run `auth login {hint}`");
        for store in self.stores.chain.stores() {
            if let Some(reason) = store.unavailable_reason() {
                let _ = write!(
                    message,
                    " (not looked in {}: {})",
                    store.name(),
                    auth_core::escape_control(&reason)
                );
            }
        }
        message
    }
}

/// A percent-encoded user name from a URL, decoded (lossily: a user name is text).
fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("u={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}
