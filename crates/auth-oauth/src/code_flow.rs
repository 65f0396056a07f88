//! The authorization code flow with PKCE (RFC 6749 section 4.1, RFC 7636 with `S256`) for a
//! native app: the browser goes to the provider, comes back to our loopback listener with a code,
//! and we exchange the code and the PKCE verifier for tokens.

use auth_core::{Authentication, SafeUrl, Secret};
use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge};
use url::Url;

use crate::discovery::Provider;
use crate::http::ClientAuth;
use crate::id_token::verify_id_token;
use crate::loopback::Loopback;
use crate::token::{Tokens, request_tokens};
use crate::{LoginUi, OAuthConfig, OAuthError, into_authentication};

/// One authorization request: what to send the browser to, and what this login must remember
/// to check the answer and redeem the code.
pub(crate) struct PendingLogin {
    pub(crate) url: Url,
    pub(crate) state: CsrfToken,
    pub(crate) nonce: Nonce,
    pub(crate) verifier: openidconnect::PkceCodeVerifier,
}

/// The authorization URL with a fresh `state`, `nonce` and PKCE challenge.
pub(crate) fn authorization_request(
    provider: &Provider,
    config: &OAuthConfig,
    redirect_uri: &Url,
) -> PendingLogin {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let state = CsrfToken::new_random();
    let nonce = Nonce::new_random();
    let mut url = provider.authorization_endpoint.clone();
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &config.client_id)
            .append_pair("redirect_uri", redirect_uri.as_str());
        if !config.scopes.is_empty() {
            query.append_pair("scope", &config.scopes.join(" "));
        }
        query
            .append_pair("state", state.secret())
            .append_pair("nonce", nonce.secret())
            .append_pair("code_challenge", challenge.as_str())
            .append_pair("code_challenge_method", challenge.method().as_str());
        if let Some(audience) = &config.audience {
            query.append_pair("audience", audience);
        }
    }
    PendingLogin {
        url,
        state,
        nonce,
        verifier,
    }
}

/// Runs the whole flow: listen, open the browser, wait for the redirect, redeem the code.
pub(crate) async fn run(
    http: &reqwest::Client,
    config: &OAuthConfig,
    provider: &Provider,
    ui: &dyn LoginUi,
    now: &dyn Fn() -> i64,
) -> Result<Authentication, OAuthError> {
    let loopback = Loopback::bind(config.redirect_uri.as_ref()).await?;
    let redirect_uri = loopback.redirect_uri().clone();
    let pending = authorization_request(provider, config, &redirect_uri);
    ui.open_browser(&pending.url)
        .map_err(|source| OAuthError::Browser { source })?;
    ui.waiting("the login in the browser");
    let callback = loopback
        .wait(pending.state.secret(), config.timeout)
        .await?;
    // RFC 9207: a provider that names itself in the redirect must be the one we asked.
    if let Some(issuer) = &callback.issuer
        && issuer != provider.issuer.as_str()
    {
        return Err(OAuthError::IssuerMismatch {
            expected: SafeUrl::new(provider.issuer.as_str()),
            got: SafeUrl::new(issuer),
        });
    }
    let tokens = exchange_code(
        http,
        provider,
        config,
        &callback.code,
        pending.verifier.secret(),
        &redirect_uri,
    )
    .await?;
    if let Some(id_token) = &tokens.id_token {
        verify_id_token(provider, config, id_token, Some(&pending.nonce))?;
    }
    Ok(into_authentication(tokens, provider, config, now()))
}

/// Redeems an authorization code at the token endpoint with the PKCE verifier.
pub(crate) async fn exchange_code(
    http: &reqwest::Client,
    provider: &Provider,
    config: &OAuthConfig,
    code: &str,
    verifier: &str,
    redirect_uri: &Url,
) -> Result<Tokens, OAuthError> {
    let secret = config.client_secret.as_ref().map(Secret::expose);
    let mut sent = vec![code, verifier];
    sent.extend(secret.map(String::as_str));
    request_tokens(
        http,
        provider.token_endpoint.as_str(),
        ClientAuth {
            client_id: &config.client_id,
            client_secret: config.client_secret.as_ref(),
        },
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", verifier),
        ],
        &sent,
    )
    .await?
    .map_err(|answer| answer.into_error("token"))
}

#[cfg(test)]
mod tests {
    use std::process::Command;
    use std::time::Duration;

    use auth_tests::peers::{Oidc, OidcOptions};
    use url::Url;

    use super::{authorization_request, exchange_code};
    use crate::loopback::Loopback;
    use crate::{OAuthConfig, OAuthError, discovery};

    // PKCE (RFC 7636) is what makes a stolen code useless: redeeming one with another verifier
    // must fail at the provider.
    #[test]
    fn a_code_redeemed_with_another_verifier_is_invalid_grant() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let oidc = Oidc::start(&OidcOptions::default());
        let dir = tempfile::tempdir().unwrap();
        let browser = Oidc::browser_script(dir.path());
        let http = reqwest::Client::new();
        let mut config = OAuthConfig::new(Url::parse(oidc.issuer()).unwrap(), "rattler");
        config.scopes = vec!["openid".to_owned()];
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = runtime.block_on(async {
            let provider = discovery::discover(&http, &config.issuer).await.unwrap();
            let loopback = Loopback::bind(None).await.unwrap();
            let redirect_uri = loopback.redirect_uri().clone();
            let pending = authorization_request(&provider, &config, &redirect_uri);
            let url = pending.url.to_string();
            let curl = std::thread::spawn(move || Command::new(browser).arg(url).status());
            let callback = loopback
                .wait(pending.state.secret(), Duration::from_mins(1))
                .await
                .unwrap();
            assert!(curl.join().unwrap().unwrap().success());
            let (_, other) = openidconnect::PkceCodeChallenge::new_random_sha256();
            exchange_code(
                &http,
                &provider,
                &config,
                &callback.code,
                other.secret(),
                &redirect_uri,
            )
            .await
            .unwrap_err()
        });
        assert!(
            matches!(&err, OAuthError::Provider { error, .. } if error == "invalid_grant"),
            "{err:?}"
        );
        insta::assert_snapshot!(err, @"the provider refused the token request: invalid_grant (grant request is invalid)");
        assert_eq!(oidc.token_errors("authorization_code"), 1);
    }
}
