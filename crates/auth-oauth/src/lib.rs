//! OAuth 2.0 / `OpenID` Connect login, refresh and revocation; the crate docs are its README.
#![doc = include_str!("../README.md")]

mod code_flow;
mod coordinate;
mod device_flow;
mod discovery;
mod error;
mod http;
mod id_token;
mod loopback;
mod session;
mod token;
mod token_info;

use std::fmt;
use std::time::Duration;

use auth_core::SafeUrl;
pub use auth_core::{Authentication, Secret};
use url::Url;

pub use crate::coordinate::{DEFAULT_MARGIN, Now, RefreshError, Refresher};
pub use crate::error::OAuthError;

/// The error a caller's hook ([`LoginUi::open_browser`]) returns: any error, its causes kept.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub use crate::session::{Revoked, refresh, revoke};
pub use crate::token_info::{TokenInfo, describe_token};

/// How long a login waits for the browser to come back, unless the config says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_mins(5);

/// Who to log in to, as whom, for what.
#[derive(Clone)]
pub struct OAuthConfig {
    /// The issuer; its discovery document is `<issuer>/.well-known/openid-configuration`. Must be
    /// https, except on the loopback interface.
    pub issuer: Url,
    /// The OAuth client (a public client needs no secret).
    pub client_id: String,
    /// The secret of a confidential client, sent with HTTP Basic (RFC 6749, section 2.3.1).
    pub client_secret: Option<Secret>,
    /// The scopes to request (`openid`, `offline_access`, ...): the caller's choice.
    pub scopes: Vec<String>,
    /// A fixed loopback redirect URI (`http://127.0.0.1:PORT/callback`) for a provider that
    /// registered one port; by default 127.0.0.1 on a free port, path `/callback`.
    pub redirect_uri: Option<Url>,
    /// The `audience` parameter some providers (Auth0) need to issue an API token.
    pub audience: Option<String>,
    /// How long to wait for the browser to come back to the loopback redirect.
    pub timeout: Duration,
}

impl OAuthConfig {
    /// A config for a public client with no scopes, no audience and the default timeout.
    pub fn new(issuer: Url, client_id: impl Into<String>) -> Self {
        Self {
            issuer,
            client_id: client_id.into(),
            client_secret: None,
            scopes: Vec::new(),
            redirect_uri: None,
            audience: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("issuer", &SafeUrl::new(self.issuer.as_str()))
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("scopes", &self.scopes)
            .field(
                "redirect_uri",
                &self
                    .redirect_uri
                    .as_ref()
                    .map(|uri| SafeUrl::new(uri.as_str())),
            )
            .field("audience", &self.audience)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Which flow a login uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flow {
    /// The authorization code flow when a browser can be opened, else the device code flow; also
    /// the device code flow when opening the browser fails.
    #[default]
    Auto,
    /// The authorization code flow with PKCE and a loopback redirect.
    AuthCode,
    /// The device authorization grant (RFC 8628).
    DeviceCode,
}

/// What a login needs from the user's side; the CLI implements it (prints, opens the browser).
pub trait LoginUi: Send + Sync {
    /// Open this URL in a browser; an error if it can't (then Auto falls back to device code),
    /// with its cause kept (an I/O error of the spawned command, say).
    fn open_browser(&self, url: &Url) -> Result<(), BoxError>;
    /// Whether a browser can be opened at all (a desktop session or BROWSER set) — the CLI decides.
    fn can_open_browser(&self) -> bool;
    /// Show the user where to go and which code to enter (RFC 8628, section 3.3).
    fn show_device_code(
        &self,
        verification_uri: &Url,
        user_code: &str,
        verification_uri_complete: Option<&Url>,
    );
    /// Called while waiting (the CLI may draw a spinner); optional.
    fn waiting(&self, _what: &str) {}
}

/// The provider's userinfo endpoint (OpenID Connect Core, section 5.3), from the discovery
/// document of `issuer`; `None` when it lists none. Https, or http on the loopback interface.
pub async fn userinfo_endpoint(
    http: &reqwest::Client,
    issuer: &Url,
) -> Result<Option<Url>, OAuthError> {
    Ok(discovery::discover(http, issuer).await?.userinfo_endpoint)
}

/// Logs in: discovers the provider, runs `flow`, verifies the ID token if one is issued, and
/// returns the tokens as [`Authentication::OAuth`] with `issuer` (and `client_secret`, for a
/// confidential client) set. `now` is the clock, in Unix seconds.
pub async fn login(
    http: &reqwest::Client,
    config: &OAuthConfig,
    flow: Flow,
    ui: &dyn LoginUi,
    now: impl Fn() -> i64,
) -> Result<Authentication, OAuthError> {
    let provider = discovery::discover(http, &config.issuer).await?;
    let use_browser = match flow {
        Flow::Auto => ui.can_open_browser(),
        Flow::AuthCode => true,
        Flow::DeviceCode => false,
    };
    if !use_browser {
        return device_flow::run(http, config, &provider, ui, &now).await;
    }
    match code_flow::run(http, config, &provider, ui, &now).await {
        Err(OAuthError::Browser { source })
            if flow == Flow::Auto && provider.device_authorization_endpoint.is_some() =>
        {
            tracing::info!("could not open a browser ({source}); logging in with a device code");
            device_flow::run(http, config, &provider, ui, &now).await
        }
        other => other,
    }
}

/// The tokens of a login as rattler stores them.
fn into_authentication(
    tokens: token::Tokens,
    provider: &discovery::Provider,
    config: &OAuthConfig,
    now: i64,
) -> Authentication {
    Authentication::OAuth {
        audience: config.audience.clone(),
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        expires_at: tokens.expires_in.map(|seconds| now.saturating_add(seconds)),
        token_endpoint: provider.token_endpoint.to_string(),
        revocation_endpoint: provider.revocation_endpoint.as_ref().map(Url::to_string),
        client_id: config.client_id.clone(),
        issuer: Some(provider.issuer.to_string()),
        client_secret: config.client_secret.clone(),
    }
}
