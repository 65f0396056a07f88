//! ID token verification (OpenID Connect Core, section 3.1.3.7) through `openidconnect`: the
//! signature against the provider's key set, the issuer, the audience, the expiry and the nonce.

use std::str::FromStr as _;

use auth_core::Secret;
use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier};
use openidconnect::{ClientId, ClientSecret, Nonce};

use crate::discovery::Provider;
use crate::{OAuthConfig, OAuthError};

/// Verifies an ID token. `nonce` is the one this login sent (authorization code flow); the device
/// flow has none to check.
///
/// The expiry is checked against `openidconnect`'s own clock: its verifier takes the time as a
/// `chrono` value, which this crate does not otherwise depend on.
pub(crate) fn verify_id_token(
    provider: &Provider,
    config: &OAuthConfig,
    id_token: &Secret,
    nonce: Option<&Nonce>,
) -> Result<(), OAuthError> {
    let invalid = |reason: String| OAuthError::InvalidIdToken { reason };
    let token = CoreIdToken::from_str(id_token.expose())
        .map_err(|_| invalid("it is not a JSON Web Token".to_owned()))?;
    let client_id = ClientId::new(config.client_id.clone());
    let verifier = match &config.client_secret {
        // A confidential client may also receive tokens signed with its secret (HS256).
        Some(secret) => CoreIdTokenVerifier::new_confidential_client(
            client_id,
            ClientSecret::new(secret.expose().clone()),
            provider.issuer.clone(),
            provider.jwks.clone(),
        ),
        None => CoreIdTokenVerifier::new_public_client(
            client_id,
            provider.issuer.clone(),
            provider.jwks.clone(),
        ),
    };
    let checked = match nonce {
        Some(nonce) => token.claims(&verifier, nonce).map(|_| ()),
        None => token
            .claims(&verifier, |_: Option<&Nonce>| Ok(()))
            .map(|_| ()),
    };
    checked.map_err(|err| invalid(err.to_string()))
}
