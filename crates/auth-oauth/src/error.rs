//! `OAuthError`: what went wrong in a login, refresh or revocation, and what to do next.

use auth_core::SafeUrl;

/// An OAuth or `OpenID` Connect operation that failed.
///
/// No variant holds a token, a code or a secret: descriptions from the provider have every secret
/// this crate sent replaced by `****` before they get here, and URLs are [`SafeUrl`]s.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The issuer's discovery document (`/.well-known/openid-configuration`) or its key set could
    /// not be fetched or read.
    #[error(
        "could not discover the OpenID Connect provider {issuer}: {reason}; check the issuer URL \
         (it must serve /.well-known/openid-configuration)"
    )]
    Discovery {
        /// The issuer, redacted.
        issuer: SafeUrl,
        /// Why.
        reason: String,
    },
    /// An issuer or endpoint over plain http on a host that is not the loopback interface.
    #[error(
        "{url} uses plain http, which would expose the tokens; OAuth needs https (plain http is \
         allowed only on 127.0.0.1, [::1] and localhost)"
    )]
    InsecureIssuer {
        /// The issuer or endpoint, redacted.
        url: SafeUrl,
    },
    /// The browser never came back to the loopback redirect.
    #[error(
        "the login did not come back from the browser within {seconds} s; run the login again, or \
         log in with a device code instead (no browser needed on this machine)"
    )]
    CallbackTimeout {
        /// How long we waited.
        seconds: u64,
    },
    /// A request reached the loopback redirect with a `state` this login did not send. The login
    /// is aborted: another page may have tried to make us accept its code.
    #[error(
        "the login redirect carried a `state` this login did not send, so it was refused (another \
         web page may have tried to slip in its own login); run the login again"
    )]
    StateMismatch,
    /// The redirect came back with an `iss` that is not the issuer we asked (RFC 9207).
    #[error(
        "the login redirect came from the issuer {got}, not {expected}; run the login again and \
         check the issuer URL"
    )]
    IssuerMismatch {
        /// The issuer of this login.
        expected: SafeUrl,
        /// The issuer the redirect named.
        got: SafeUrl,
    },
    /// The user (or the provider's policy) refused the login.
    #[error("the login was refused: {description}; run the login again and approve it")]
    AccessDenied {
        /// The provider's words, or a default.
        description: String,
    },
    /// The device code expired before the user approved it.
    #[error(
        "the device code expired before the login was approved; run the login again and enter \
         the code sooner"
    )]
    DeviceCodeExpired,
    /// The refresh token was refused (`invalid_grant`), or there is none: the session is over.
    #[error("the login session has expired or was revoked ({reason}); log in again")]
    SessionExpired {
        /// The provider's words, or why there is no refresh token.
        reason: String,
    },
    /// The provider answered an OAuth error we have no better variant for.
    #[error("the provider refused the {request} request: {error}{}", description.as_deref().map(|text| format!(" ({text})")).unwrap_or_default())]
    Provider {
        /// What we asked (`token`, `device authorization`, `revocation`, `authorization`).
        request: &'static str,
        /// The OAuth error code (`invalid_client`, `invalid_grant`, ...).
        error: String,
        /// The provider's `error_description`, secrets removed.
        description: Option<String>,
    },
    /// The provider could not be reached, or answered something that is not OAuth.
    #[error("the request to {url} failed: {reason}")]
    Http {
        /// The URL, redacted.
        url: SafeUrl,
        /// Why, without the URL.
        reason: String,
    },
    /// The ID token failed verification (signature, issuer, audience, nonce or expiry).
    #[error("the provider's ID token is not valid ({reason}); the login was not accepted")]
    InvalidIdToken {
        /// What failed.
        reason: String,
    },
    /// No browser can be opened for the authorization code flow.
    #[error("could not open a browser; log in with a device code instead")]
    Browser {
        /// Why, as the UI reported it.
        #[source]
        source: crate::BoxError,
    },
    /// The provider has no device authorization endpoint, and no browser can be used.
    #[error(
        "{issuer} does not offer the device code flow (no device_authorization_endpoint), so a \
         login needs a browser; log in from a desktop session or set BROWSER"
    )]
    DeviceFlowUnsupported {
        /// The issuer, redacted.
        issuer: SafeUrl,
    },
    /// The loopback listener for the redirect could not be started.
    #[error("could not listen for the login redirect on {address}: {reason}")]
    Loopback {
        /// The address we tried.
        address: String,
        /// The system's words.
        reason: String,
    },
    /// The configured redirect URI is not a plain-http loopback URL (RFC 8252, section 7.3).
    #[error(
        "the redirect URI {uri} is not a loopback URL such as http://127.0.0.1:PORT/callback; \
         a command-line login can only receive the redirect on this machine"
    )]
    InvalidRedirectUri {
        /// The URI, redacted.
        uri: SafeUrl,
    },
    /// The provider issued a token type other than Bearer (e.g. `DPoP`).
    #[error("the provider issued a `{token_type}` token; only Bearer tokens are supported")]
    UnsupportedTokenType {
        /// The `token_type` it sent.
        token_type: String,
    },
    /// The credential given to refresh or revoke is not an OAuth one.
    #[error("this credential is {kind}, not OAuth, so it cannot be refreshed or revoked")]
    NotOAuth {
        /// Its kind (`BearerToken`, ...).
        kind: &'static str,
    },
}
