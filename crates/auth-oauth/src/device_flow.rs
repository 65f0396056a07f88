//! The device authorization grant (RFC 8628): the user approves a short code on any device while
//! we poll the token endpoint at the interval the provider asks for.

use std::time::Duration;

use auth_core::{Authentication, SafeUrl, Secret};
use serde::Deserialize;
use url::Url;

use crate::discovery::Provider;
use crate::http::{ClientAuth, post_form};
use crate::id_token::verify_id_token;
use crate::token::{not_oauth, read_answer, request_tokens, seconds};
use crate::{LoginUi, OAuthConfig, OAuthError, into_authentication};

/// RFC 8628, section 3.2: the polling interval when the provider names none.
const DEFAULT_INTERVAL: u64 = 5;
/// RFC 8628, section 3.5: what `slow_down` adds to the interval.
const SLOW_DOWN: u64 = 5;
/// The grant type of the token requests.
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

#[derive(Deserialize)]
struct RawDeviceAuthorization {
    device_code: String,
    user_code: String,
    #[serde(default)]
    verification_uri: Option<String>,
    /// Google's name for `verification_uri`.
    #[serde(default)]
    verification_url: Option<String>,
    #[serde(default)]
    verification_uri_complete: Option<String>,
    expires_in: serde_json::Value,
    #[serde(default)]
    interval: Option<serde_json::Value>,
}

/// Runs the whole flow: ask for a device code, show it, poll until approved, refused or expired.
pub(crate) async fn run(
    http: &reqwest::Client,
    config: &OAuthConfig,
    provider: &Provider,
    ui: &dyn LoginUi,
    now: &dyn Fn() -> i64,
) -> Result<Authentication, OAuthError> {
    let endpoint = provider
        .device_authorization_endpoint
        .as_ref()
        .ok_or_else(|| OAuthError::DeviceFlowUnsupported {
            issuer: SafeUrl::new(provider.issuer.as_str()),
        })?;
    let client = ClientAuth {
        client_id: &config.client_id,
        client_secret: config.client_secret.as_ref(),
    };
    let secret = config
        .client_secret
        .as_ref()
        .map(|secret| secret.expose().as_str());
    let scope = config.scopes.join(" ");
    let mut params = Vec::new();
    if !scope.is_empty() {
        params.push(("scope", scope.as_str()));
    }
    if let Some(audience) = &config.audience {
        params.push(("audience", audience.as_str()));
    }
    let response = post_form(http, endpoint.as_str(), client, &params).await?;
    let body = read_answer(endpoint.as_str(), &response, secret.as_slice())?
        .map_err(|answer| answer.into_error("device authorization"))?;
    let raw: RawDeviceAuthorization =
        serde_json::from_slice(body).map_err(|err| not_oauth(endpoint.as_str(), &err))?;
    let started = now();
    let expires_in = seconds(&raw.expires_in).unwrap_or(0);
    let deadline = started.saturating_add(expires_in);
    let mut interval = raw
        .interval
        .as_ref()
        .and_then(seconds)
        .and_then(|value| u64::try_from(value).ok())
        .filter(|&value| value > 0)
        .unwrap_or(DEFAULT_INTERVAL);
    let device_code = Secret::from(raw.device_code);

    let page = raw
        .verification_uri
        .or(raw.verification_url)
        .and_then(|text| Url::parse(&text).ok())
        .filter(|url| matches!(url.scheme(), "https" | "http"))
        .ok_or_else(|| OAuthError::Http {
            url: SafeUrl::new(endpoint.as_str()),
            reason: "the answer has no valid verification_uri".to_owned(),
        })?;
    let complete = raw
        .verification_uri_complete
        .and_then(|text| Url::parse(&text).ok())
        .filter(|url| matches!(url.scheme(), "https" | "http"));
    ui.show_device_code(&page, &raw.user_code, complete.as_ref());
    ui.waiting("the approval of the device code");

    let mut sent = vec![device_code.expose().as_str()];
    sent.extend(secret);
    loop {
        // The protocol's own pace (RFC 8628, section 3.5), not a synchronisation.
        tokio::time::sleep(Duration::from_secs(interval)).await;
        if now() >= deadline {
            return Err(OAuthError::DeviceCodeExpired);
        }
        let answer = request_tokens(
            http,
            provider.token_endpoint.as_str(),
            client,
            &[
                ("grant_type", GRANT_TYPE),
                ("device_code", device_code.expose()),
            ],
            &sent,
        )
        .await?;
        match answer {
            Ok(tokens) => {
                if let Some(id_token) = &tokens.id_token {
                    verify_id_token(provider, config, id_token, None)?;
                }
                return Ok(into_authentication(tokens, provider, config, now()));
            }
            Err(answer) => match answer.error.as_str() {
                "authorization_pending" => {}
                "slow_down" => interval += SLOW_DOWN,
                "access_denied" => {
                    return Err(OAuthError::AccessDenied {
                        description: answer.reason(),
                    });
                }
                "expired_token" => return Err(OAuthError::DeviceCodeExpired),
                _ => return Err(answer.into_error("token")),
            },
        }
    }
}
