//! The token endpoint (RFC 6749, section 5): one request, its answer read as tokens or as an OAuth
//! error, without ever quoting a value of the answer in a message.

use auth_core::{SafeUrl, Secret};
use serde::Deserialize;

use crate::OAuthError;
use crate::http::{ClientAuth, FormResponse, post_form};

/// The tokens of a successful answer.
#[derive(Debug)]
pub(crate) struct Tokens {
    pub(crate) access_token: Secret,
    pub(crate) refresh_token: Option<Secret>,
    /// Seconds from now.
    pub(crate) expires_in: Option<i64>,
    pub(crate) id_token: Option<Secret>,
}

/// An OAuth error answer (RFC 6749, section 5.2), its description stripped of the secrets we
/// sent.
#[derive(Debug)]
pub(crate) struct ErrorAnswer {
    pub(crate) error: String,
    pub(crate) description: Option<String>,
}

impl ErrorAnswer {
    /// The error as [`OAuthError::Provider`].
    pub(crate) fn into_error(self, request: &'static str) -> OAuthError {
        OAuthError::Provider {
            request,
            error: self.error,
            description: self.description,
        }
    }

    /// The provider's description, or the error code.
    pub(crate) fn reason(&self) -> String {
        self.description
            .clone()
            .unwrap_or_else(|| self.error.clone())
    }
}

#[derive(Deserialize)]
struct RawTokens {
    access_token: String,
    token_type: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct RawError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// POSTs a token request: `Ok(Ok(tokens))`, `Ok(Err(answer))` for an OAuth error, or `Err` when
/// the endpoint cannot be reached or answers something else. `sent` are the secrets in the
/// request, removed from any description the provider echoes back.
pub(crate) async fn request_tokens(
    http: &reqwest::Client,
    endpoint: &str,
    client: ClientAuth<'_>,
    params: &[(&str, &str)],
    sent: &[&str],
) -> Result<Result<Tokens, ErrorAnswer>, OAuthError> {
    let response = post_form(http, endpoint, client, params).await?;
    let outcome = read_answer(endpoint, &response, sent)?;
    match outcome {
        Err(answer) => Ok(Err(answer)),
        Ok(body) => {
            let raw: RawTokens =
                serde_json::from_slice(body).map_err(|err| not_oauth(endpoint, &err))?;
            if !raw.token_type.eq_ignore_ascii_case("bearer") {
                return Err(OAuthError::UnsupportedTokenType {
                    token_type: raw.token_type,
                });
            }
            Ok(Ok(Tokens {
                access_token: Secret::from(raw.access_token),
                refresh_token: raw.refresh_token.map(Secret::from),
                expires_in: raw.expires_in.as_ref().and_then(seconds),
                id_token: raw.id_token.map(Secret::from),
            }))
        }
    }
}

/// A 2xx answer's body, or the OAuth error of a 4xx answer; anything else is an HTTP error.
pub(crate) fn read_answer<'a>(
    endpoint: &str,
    response: &'a FormResponse,
    sent: &[&str],
) -> Result<Result<&'a [u8], ErrorAnswer>, OAuthError> {
    if response.status.is_success() {
        return Ok(Ok(&response.body));
    }
    match serde_json::from_slice::<RawError>(&response.body) {
        Ok(raw) if response.status.is_client_error() => Ok(Err(ErrorAnswer {
            error: scrub(&raw.error, sent),
            description: raw.error_description.map(|text| scrub(&text, sent)),
        })),
        _ => Err(OAuthError::Http {
            url: SafeUrl::new(endpoint),
            reason: format!("HTTP {}, and no OAuth error in the answer", response.status),
        }),
    }
}

/// An answer that is not the document it should be, described without quoting it.
pub(crate) fn not_oauth(endpoint: &str, err: &serde_json::Error) -> OAuthError {
    let message = err.to_string();
    let what = if message.starts_with("missing field") {
        message
            .split(" at line")
            .next()
            .unwrap_or(&message)
            .to_owned()
    } else {
        "a field has the wrong type or shape".to_owned()
    };
    OAuthError::Http {
        url: SafeUrl::new(endpoint),
        reason: format!("the answer is not a valid OAuth response ({what})"),
    }
}

/// `expires_in` as a number of seconds; some providers send it as a string.
pub(crate) fn seconds(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::Number(number) => number.as_i64().or_else(|| {
            // `3600.0`: whole seconds only, so no value can be silently truncated.
            let float = number.as_f64()?;
            let whole = format!("{float:.0}");
            (whole.parse::<f64>().ok() == Some(float)).then(|| whole.parse().ok())?
        }),
        serde_json::Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// `text` with every secret of `sent` replaced by `****`.
pub(crate) fn scrub(text: &str, sent: &[&str]) -> String {
    let mut text = text.to_owned();
    for secret in sent {
        if !secret.is_empty() {
            text = text.replace(secret, "****");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::{scrub, seconds};

    #[test]
    fn expires_in_as_number_or_string() {
        let check = |json: &str| seconds(&serde_json::from_str(json).unwrap());
        assert_eq!(check("3600"), Some(3600));
        assert_eq!(check("3600.0"), Some(3600));
        assert_eq!(check(r#""60""#), Some(60));
        assert_eq!(check("null"), None);
    }

    #[test]
    fn scrub_removes_what_we_sent() {
        insta::assert_snapshot!(
            scrub("refresh token rt-123 is invalid", &["rt-123", ""]),
            @"refresh token **** is invalid"
        );
    }
}
