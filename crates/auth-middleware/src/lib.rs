//! A reqwest middleware that authenticates each request for its URL; the crate docs are its README.
#![doc = include_str!("../README.md")]

mod apply;
mod error;
pub mod mirrors;
mod redirect;
mod s3;

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use async_trait::async_trait;
use auth_core::{
    Authentication, Decision, Found, Placement, SafeUrl, Scheme, StoreChain, UrlTarget, Withheld,
};
use auth_keyring_cli::KeyringCli;
use http::Extensions;
use http::header::AUTHORIZATION;
use reqwest::{Request, Response, StatusCode};
use reqwest_middleware::{ClientWithMiddleware, Middleware, Next};
use rustc_hash::FxHashSet;

pub use crate::error::AuthError;
pub use crate::s3::{AwsCredentials, AwsCredentialsError, S3Options, StaticKeys};

/// Where the time comes from: SigV4 signatures and token expiry need it, and tests pin it.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The system clock, for embedders.
#[allow(
    clippy::disallowed_methods,
    reason = "the one place the library offers the real clock; callers may pass another"
)]
pub fn system_clock() -> Clock {
    Arc::new(SystemTime::now)
}

/// The error of a hook an embedder implements ([`TokenRefresher`], [`AwsCredentials`]): any
/// error, its causes kept (as `cargo-credential` does).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Renews an OAuth access token before it expires. The OAuth layer implements it; the middleware
/// calls it for every `OAuth` credential and sends what it returns.
#[async_trait]
pub trait TokenRefresher: Send + Sync + fmt::Debug {
    /// A credential to send instead of `found`'s (refreshed and stored), or `None` to send
    /// `found`'s as it is. An error means the session is over; the request is not sent, and the
    /// error becomes the source of [`AuthError::SessionExpired`]. Its message and causes must
    /// hold no secret.
    async fn fresh(&self, found: &Found) -> Result<Option<Authentication>, BoxError>;
}

/// A reqwest client with this middleware and no redirect handling of its own.
pub fn client(
    builder: reqwest::ClientBuilder,
    middleware: AuthMiddleware,
) -> Result<ClientWithMiddleware, reqwest::Error> {
    Ok(with_middleware(reqwest_client(builder)?, middleware))
}

/// The plain reqwest client under [`client`], for a caller that also needs it alone (the OAuth
/// refresher shares it): redirects left to the middleware, a TLS crypto provider in place.
pub fn reqwest_client(builder: reqwest::ClientBuilder) -> Result<reqwest::Client, reqwest::Error> {
    ensure_crypto_provider();
    builder.redirect(reqwest::redirect::Policy::none()).build()
}

/// `client` (made by [`reqwest_client`]) with this middleware.
pub fn with_middleware(
    client: reqwest::Client,
    middleware: AuthMiddleware,
) -> ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(client)
        .with(middleware)
        .build()
}

/// reqwest is built here without a default TLS crypto provider (so only `ring` is compiled in);
/// if the process has installed none, this installs `ring`'s.
pub fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err only when another thread installed one first, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// Authenticates requests from a [`StoreChain`]; see the crate documentation.
pub struct AuthMiddleware {
    chain: StoreChain,
    clock: Clock,
    s3: S3Options,
    keyring: Option<Arc<KeyringCli>>,
    refresher: Option<Arc<dyn TokenRefresher>>,
    status_errors: bool,
    max_redirects: usize,
    /// Hosts already warned about a credential withheld from plain http.
    warned: Mutex<FxHashSet<String>>,
}

impl fmt::Debug for AuthMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthMiddleware")
            .field("chain", &self.chain)
            .field("s3", &self.s3)
            .field("keyring", &self.keyring)
            .field("refresher", &self.refresher)
            .field("status_errors", &self.status_errors)
            .field("max_redirects", &self.max_redirects)
            .finish_non_exhaustive()
    }
}

/// What was put on one request, for the error when the server refuses it.
#[derive(Debug)]
enum Applied {
    /// Nothing matched.
    Nothing,
    /// The caller set `Authorization` itself.
    Caller,
    /// A stored credential (kept as found: naming it costs allocations, paid only on error).
    Stored(Found),
    /// A stored credential matched, but the URL is plain http.
    Withheld(Found),
    /// AWS keys from [`S3Options::aws`] (the AWS credential chain), for a bucket with nothing
    /// stored: the bucket, and where they came from in words.
    Aws { bucket: String, source: String },
    /// A password from the `keyring` CLI, or from the URL itself.
    Other {
        /// What the credential is, for the message ("the user name and password").
        credential: &'static str,
        /// Where it came from ("the URL").
        what: &'static str,
    },
}

impl AuthMiddleware {
    /// A middleware that looks credentials up in `chain`.
    pub fn new(chain: StoreChain, clock: Clock) -> Self {
        Self {
            chain,
            clock,
            s3: S3Options::default(),
            keyring: None,
            refresher: None,
            status_errors: true,
            max_redirects: 10,
            warned: Mutex::default(),
        }
    }

    /// How `s3://` URLs are reached and signed.
    #[must_use]
    pub fn with_s3(mut self, s3: S3Options) -> Self {
        self.s3 = s3;
        self
    }

    /// Asks the `keyring` CLI for the password of a URL with a username (`https://user@host/`)
    /// when no store has a credential for it, as uv's `--keyring-provider subprocess` does.
    #[must_use]
    pub fn with_keyring_provider(mut self, keyring: Arc<KeyringCli>) -> Self {
        self.keyring = Some(keyring);
        self
    }

    /// Renews OAuth tokens before they are sent.
    #[must_use]
    pub fn with_refresher(mut self, refresher: Arc<dyn TokenRefresher>) -> Self {
        self.refresher = Some(refresher);
        self
    }

    /// Whether a 401 or 403 becomes an [`AuthError`] (the default) or is returned as a response.
    #[must_use]
    pub fn with_status_errors(mut self, on: bool) -> Self {
        self.status_errors = on;
        self
    }

    /// How many redirects to follow (10 by default).
    #[must_use]
    pub fn with_max_redirects(mut self, max: usize) -> Self {
        self.max_redirects = max;
        self
    }

    /// Puts the credential for the request's URL on it.
    async fn authenticate(&self, request: &mut Request) -> Result<Applied, AuthError> {
        // reqwest moves a URL's user info into a Basic header when it builds the request.
        // A user name with no password (`https://alice@host/simple/`) says whose credential to
        // look up; anything else in the header is the caller's own credential.
        let mut username = None;
        if let Some(value) = request.headers().get(AUTHORIZATION) {
            let Some(user) = username_only(value) else {
                return Ok(Applied::Caller);
            };
            username = Some(user);
            request.headers_mut().remove(AUTHORIZATION);
        }
        // Credentials in the URL (of a request built without reqwest's builder, which would have
        // moved them into a header) are the caller's explicit choice: they win, as in uv.
        if let Some(Authentication::BasicHTTP { username, password }) =
            auth_core::url_credential(request.url())
        {
            let url = request.url_mut();
            let _ = url.set_username("");
            let _ = url.set_password(None);
            apply::basic(request, &username, password.expose());
            return Ok(Applied::Other {
                credential: "the user name and password",
                what: "the URL",
            });
        }
        // Not http, https or s3: nothing of ours applies.
        let Ok(target) = UrlTarget::from_url(request.url()) else {
            return Ok(Applied::Nothing);
        };
        // The one decision `auth token` and every other consumer make too.
        let decision = self
            .chain
            .decide(&target)
            .map_err(|source| AuthError::Store {
                url: SafeUrl::from(request.url()),
                source,
            })?;
        let scheme = target.scheme();
        let (found, placement) = match decision {
            Decision::Send { found, placement } => (found, placement),
            Decision::NotStored if scheme == Scheme::S3 => {
                let (bucket, source) =
                    s3::sign_s3_url_from_aws(request, &self.s3, &*self.clock).await?;
                return Ok(Applied::Aws { bucket, source });
            }
            Decision::NotStored => {
                let username = match username {
                    Some(username) => username,
                    None => percent_decode(request.url().username()),
                };
                return self.keyring_password(request, username).await;
            }
            Decision::Withhold {
                found,
                reason: Withheld::NotS3Keys,
            } => {
                return Err(AuthError::NotS3Keys {
                    key: found.credential.key.to_string(),
                    kind: found.credential.auth.kind(),
                    url: SafeUrl::from(request.url()),
                });
            }
            Decision::Withhold { found, reason } => {
                self.warn_withheld(&host_of(request.url()), || reason.explain(&found, &target));
                return Ok(if reason == Withheld::PlainHttp {
                    Applied::Withheld(found)
                } else {
                    Applied::Nothing
                });
            }
        };
        self.send_stored(request, found, placement, scheme).await
    }

    /// Puts a stored credential on the request where the decision placed it, refreshing an
    /// OAuth token first.
    async fn send_stored(
        &self,
        request: &mut Request,
        found: Found,
        placement: Placement,
        scheme: Scheme,
    ) -> Result<Applied, AuthError> {
        // A username in the URL is for the keyring lookup; the header carries the credential.
        if !request.url().username().is_empty() {
            let _ = request.url_mut().set_username("");
        }

        let refreshed = match (&found.credential.auth, &self.refresher) {
            (Authentication::OAuth { .. }, Some(refresher)) => refresher
                .fresh(&found)
                .await
                .map_err(|source| AuthError::SessionExpired {
                    host: host_of(request.url()),
                    source,
                })?,
            _ => None,
        };
        let auth = refreshed.as_ref().unwrap_or(&found.credential.auth);
        match (placement, auth) {
            (Placement::S3Signature, _) if scheme == Scheme::S3 => {
                s3::sign_s3_url(request, &self.s3, &found, (self.clock)())?;
            }
            (Placement::S3Signature, _) => {
                s3::sign_http(request, &self.s3, &found, (self.clock)())?;
            }
            (
                Placement::BearerHeader,
                Authentication::BearerToken(token)
                | Authentication::OAuth {
                    access_token: token,
                    ..
                },
            ) => apply::bearer(request, token.expose()),
            (Placement::BasicHeader, Authentication::BasicHTTP { username, password }) => {
                apply::basic(request, username, password.expose());
            }
            (Placement::CondaTokenPath, Authentication::CondaToken(token)) => {
                apply::conda_token(request, token.expose());
            }
            // A refresh that returned another kind: send nothing rather than guess.
            (_, other) => {
                tracing::warn!(
                    "the credential for {} is a {}, which this version cannot send",
                    found.credential.key,
                    other.kind()
                );
                return Ok(Applied::Nothing);
            }
        }
        tracing::info!(
            key = found.credential.key.to_string().as_str(),
            store = %found.store.describe(),
            kind = auth.kind(),
            "authenticated the request to {}",
            host_of(request.url())
        );
        Ok(Applied::Stored(found))
    }

    /// The `keyring` CLI's password for a URL with a username and no stored credential.
    async fn keyring_password(
        &self,
        request: &mut Request,
        username: String,
    ) -> Result<Applied, AuthError> {
        let Some(keyring) = &self.keyring else {
            return Ok(Applied::Nothing);
        };
        if username.is_empty() {
            return Ok(Applied::Nothing);
        }
        let mut index = request.url().clone();
        let _ = index.set_username("");
        let keyring = Arc::clone(keyring);
        let (lookup_url, lookup_user) = (index.clone(), username.clone());
        let password =
            tokio::task::spawn_blocking(move || keyring.password(&lookup_url, &lookup_user))
                .await
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
                .map_err(|source| AuthError::Keyring {
                    url: SafeUrl::from(&index),
                    source,
                })?;
        let Some(password) = password else {
            tracing::debug!("the keyring CLI has no password for {username} at this index");
            return Ok(Applied::Nothing);
        };
        *request.url_mut() = index;
        apply::basic(request, &username, password.expose());
        tracing::info!("authenticated the request with a password from the keyring CLI");
        Ok(Applied::Other {
            credential: "the index",
            what: "the keyring CLI",
        })
    }

    /// Warns once per host that a credential was not sent (the message is made only then).
    fn warn_withheld(&self, host: &str, message: impl FnOnce() -> String) {
        let first = self
            .warned
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(host.to_owned());
        if first {
            tracing::warn!("{}", message());
        }
    }

    /// The error for a 401 or 403, or `None` to hand the response back.
    fn status_error(&self, response: &Response, applied: Applied) -> Option<AuthError> {
        let status = response.status();
        if !self.status_errors
            || !matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
        {
            return None;
        }
        let url = response.url();
        let host = host_of(url);
        let status = status.as_u16();
        Some(match applied {
            Applied::Caller => return None,
            Applied::Nothing => AuthError::NotLoggedIn {
                login: host.clone(),
                host,
                status,
            },
            Applied::Stored(found) => AuthError::Rejected {
                login: login_target(&found.credential.key.to_string(), &host),
                host,
                key: found.credential.key.to_string(),
                store: found.store.describe(),
                status,
            },
            Applied::Withheld(found) => AuthError::Withheld {
                url: SafeUrl::from(url),
                host,
                key: found.credential.key.to_string(),
                store: found.store.describe(),
                status,
            },
            // Keys stored for the bucket would win over the chain: the same advice.
            Applied::Aws { bucket, source } => AuthError::Rejected {
                login: format!("s3://{bucket}"),
                host,
                key: format!("s3://{bucket}"),
                store: source,
                status,
            },
            Applied::Other { credential, what } => AuthError::Rejected {
                login: host.clone(),
                host,
                key: credential.to_owned(),
                store: what.to_owned(),
                status,
            },
        })
    }
}

#[async_trait]
impl Middleware for AuthMiddleware {
    async fn handle(
        &self,
        request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        // The first URL, for the too-many-redirects error; named only when a redirect comes.
        let mut first_url: Option<SafeUrl> = None;
        let mut pending = request;
        let mut hops = 0;
        loop {
            // What the next hop needs of the caller's request, if one may come.
            let replay = if hops < self.max_redirects {
                redirect::Replay::of(&pending)
            } else {
                None
            };
            let mut attempt = pending;
            let applied = self
                .authenticate(&mut attempt)
                .await
                .map_err(reqwest_middleware::Error::middleware)?;
            let response = match next.clone().run(attempt, extensions).await {
                Ok(response) => response,
                Err(reqwest_middleware::Error::Reqwest(err)) => {
                    let url = err.url().map(SafeUrl::from).unwrap_or_default();
                    return Err(reqwest_middleware::Error::middleware(AuthError::Send {
                        url,
                        source: err.without_url(),
                    }));
                }
                Err(err) => return Err(err),
            };
            let status = response.status();
            if redirect::is_redirect(status) {
                let Some(location) = redirect::location(&response) else {
                    return Ok(response);
                };
                let sent = response.url();
                let Ok(location) = location else {
                    return Err(reqwest_middleware::Error::middleware(
                        AuthError::BadRedirect {
                            url: SafeUrl::from(sent),
                        },
                    ));
                };
                first_url.get_or_insert_with(|| SafeUrl::from(sent));
                if hops >= self.max_redirects {
                    return Err(reqwest_middleware::Error::middleware(
                        AuthError::TooManyRedirects {
                            url: first_url.unwrap_or_default(),
                            max: self.max_redirects,
                        },
                    ));
                }
                let Some(replay) = replay else {
                    // A streamed body cannot be sent again: hand the redirect back.
                    return Ok(response);
                };
                let next_request = replay.follow(status, sent, location);
                tracing::debug!(
                    "{status}: following the redirect from {} to {}",
                    SafeUrl::from(sent),
                    SafeUrl::from(next_request.url())
                );
                pending = next_request;
                hops += 1;
                continue;
            }
            return match self.status_error(&response, applied) {
                Some(err) => Err(reqwest_middleware::Error::middleware(err)),
                None => Ok(response),
            };
        }
    }
}

/// What to pass to `auth login` after a rejection: the key for a bucket, else the host.
fn login_target(key: &str, host: &str) -> String {
    if key.starts_with("s3://") {
        key.to_owned()
    } else {
        host.to_owned()
    }
}

/// `host` or `host:port`, as it appears in the URL; for messages only.
fn host_of(url: &url::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => String::new(),
    }
}

/// The user name of a `Basic` header whose password is empty, as reqwest makes from
/// `https://alice@host/`.
fn username_only(value: &http::HeaderValue) -> Option<String> {
    use base64::Engine as _;
    let encoded = value.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    match decoded.split_once(':') {
        Some((user, "")) if !user.is_empty() => Some(user.to_owned()),
        _ => None,
    }
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_basic_header_without_a_password_names_a_user() {
        use base64::Engine as _;
        let header = |pair: &str| {
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            http::HeaderValue::from_str(&format!("Basic {encoded}")).unwrap()
        };
        assert_eq!(username_only(&header("alice:")).as_deref(), Some("alice"));
        assert_eq!(username_only(&header("alice:pw")), None);
        assert_eq!(username_only(&header(":")), None);
        assert_eq!(
            username_only(&http::HeaderValue::from_static("Bearer x")),
            None
        );
    }

    #[test]
    fn a_user_name_is_percent_decoded() {
        assert_eq!(percent_decode("zo%C3%AB+x"), "zoë+x");
    }
}
