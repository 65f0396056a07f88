//! What happens to a stored login later: refresh (RFC 6749, section 6) at the stored token
//! endpoint, without discovery, and revocation on logout (RFC 7009).

use std::fmt;

use auth_core::{Authentication, Secret};
use url::Url;

use crate::OAuthError;
use crate::http::{ClientAuth, post_form, require_secure};
use crate::token::{read_answer, request_tokens};

/// What [`revoke`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revoked {
    /// The provider has no revocation endpoint (none was discovered at login): the tokens stay
    /// valid until they expire.
    NoEndpoint,
    /// The revocation endpoint answered. A token is `false` when there was none to revoke, or the
    /// provider does not revoke that kind (`unsupported_token_type`).
    Tokens {
        /// Whether the refresh token was revoked (with it, most providers end the whole grant).
        refresh_token: bool,
        /// Whether the access token was revoked.
        access_token: bool,
    },
}

impl fmt::Display for Revoked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoEndpoint => f.write_str(
                "the provider has no revocation endpoint; the tokens stay valid until they expire",
            ),
            Self::Tokens {
                refresh_token,
                access_token,
            } => match (refresh_token, access_token) {
                (true, true) => {
                    f.write_str("revoked the refresh and access tokens at the provider")
                }
                (true, false) => f.write_str("revoked the refresh token at the provider"),
                (false, true) => f.write_str("revoked the access token at the provider"),
                (false, false) => f.write_str("the provider revoked no token"),
            },
        }
    }
}

/// The fields of a stored OAuth login that refresh and revocation use.
struct Stored<'a> {
    access_token: &'a Secret,
    refresh_token: Option<&'a Secret>,
    token_endpoint: &'a str,
    revocation_endpoint: Option<&'a str>,
    client: ClientAuth<'a>,
}

fn stored(auth: &Authentication) -> Result<Stored<'_>, OAuthError> {
    match auth {
        Authentication::OAuth {
            access_token,
            refresh_token,
            token_endpoint,
            revocation_endpoint,
            client_id,
            client_secret,
            ..
        } => Ok(Stored {
            access_token,
            refresh_token: refresh_token.as_ref(),
            token_endpoint,
            revocation_endpoint: revocation_endpoint.as_deref(),
            client: ClientAuth {
                client_id,
                client_secret: client_secret.as_ref(),
            },
        }),
        other => Err(OAuthError::NotOAuth { kind: other.kind() }),
    }
}

/// A stored endpoint, held to the same rule as the issuer: https, or http on the loopback
/// interface. A credentials file that was tampered with must not send a token over plain http.
fn endpoint(text: &str) -> Result<Url, OAuthError> {
    let url = Url::parse(text).map_err(|_| OAuthError::InsecureIssuer {
        url: auth_core::SafeUrl::new(text),
    })?;
    require_secure(&url)?;
    Ok(url)
}

/// Exchanges the stored refresh token for new tokens at the stored token endpoint.
///
/// The new refresh token replaces the old one when the provider rotates it, and the old one is
/// kept when it does not. Everything else (client, endpoints, issuer, audience, client secret)
/// carries over. `invalid_grant`, or no refresh token at all, is
/// [`OAuthError::SessionExpired`]: the user must log in again.
///
/// Two processes must not refresh the same login at once: with rotation, the second one presents
/// a refresh token that was just replaced, and providers such as `oidc-provider` then revoke the
/// whole grant. Serialize calls across processes (the CLI holds a lock around read, refresh,
/// write).
pub async fn refresh(
    http: &reqwest::Client,
    current: &Authentication,
    now: i64,
) -> Result<Authentication, OAuthError> {
    let stored = stored(current)?;
    let refresh_token = stored
        .refresh_token
        .ok_or_else(|| OAuthError::SessionExpired {
            reason: "the provider issued no refresh token at login".to_owned(),
        })?;
    let token_endpoint = endpoint(stored.token_endpoint)?;
    let mut sent = vec![refresh_token.expose().as_str()];
    sent.extend(
        stored
            .client
            .client_secret
            .map(|secret| secret.expose().as_str()),
    );
    let tokens = request_tokens(
        http,
        token_endpoint.as_str(),
        stored.client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ],
        &sent,
    )
    .await?
    .map_err(|answer| match answer.error.as_str() {
        "invalid_grant" => OAuthError::SessionExpired {
            reason: answer.reason(),
        },
        _ => answer.into_error("token"),
    })?;
    let mut next = current.clone();
    if let Authentication::OAuth {
        access_token,
        refresh_token,
        expires_at,
        ..
    } = &mut next
    {
        *access_token = tokens.access_token;
        if let Some(rotated) = tokens.refresh_token {
            *refresh_token = Some(rotated);
        }
        *expires_at = tokens.expires_in.map(|seconds| now.saturating_add(seconds));
    }
    Ok(next)
}

/// Revokes the stored tokens (RFC 7009): the refresh token first (`token_type_hint=
/// refresh_token`), which ends the grant at most providers, then the access token.
pub async fn revoke(http: &reqwest::Client, auth: &Authentication) -> Result<Revoked, OAuthError> {
    let stored = stored(auth)?;
    let Some(revocation_endpoint) = stored.revocation_endpoint else {
        return Ok(Revoked::NoEndpoint);
    };
    let revocation_endpoint = endpoint(revocation_endpoint)?;
    let refresh_token = match stored.refresh_token {
        Some(token) => {
            revoke_one(
                http,
                &revocation_endpoint,
                stored.client,
                token,
                "refresh_token",
            )
            .await?
        }
        None => false,
    };
    let access_token = revoke_one(
        http,
        &revocation_endpoint,
        stored.client,
        stored.access_token,
        "access_token",
    )
    .await?;
    Ok(Revoked::Tokens {
        refresh_token,
        access_token,
    })
}

async fn revoke_one(
    http: &reqwest::Client,
    endpoint: &Url,
    client: ClientAuth<'_>,
    token: &Secret,
    hint: &str,
) -> Result<bool, OAuthError> {
    let response = post_form(
        http,
        endpoint.as_str(),
        client,
        &[("token", token.expose()), ("token_type_hint", hint)],
    )
    .await?;
    let mut sent = vec![token.expose().as_str()];
    sent.extend(client.client_secret.map(|secret| secret.expose().as_str()));
    match read_answer(endpoint.as_str(), &response, &sent)? {
        Ok(_) => Ok(true),
        Err(answer) if answer.error == "unsupported_token_type" => Ok(false),
        Err(answer) => Err(answer.into_error("revocation")),
    }
}
