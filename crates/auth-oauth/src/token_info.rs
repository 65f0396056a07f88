//! What `status` shows about a token, read from a JWT access token without verifying it, and when
//! a stored login is due for a refresh.

use std::time::Duration;

use auth_core::Authentication;
use base64::Engine as _;
use serde::Deserialize;

/// What an access token says about itself. For display only: nothing here is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The scopes (`scope`, space-separated, or `scp`, a list or a string).
    pub scopes: Vec<String>,
    /// `exp`, in Unix seconds.
    pub expires_at: Option<i64>,
    /// `sub`: the user, as the provider names them.
    pub subject: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    scope: Option<serde_json::Value>,
    #[serde(default)]
    scp: Option<serde_json::Value>,
    #[serde(default)]
    exp: Option<serde_json::Value>,
    #[serde(default)]
    sub: Option<String>,
}

/// Scopes, expiry and subject decoded from a JWT access token WITHOUT verifying its signature:
/// for `status` to display, never to decide anything. `None` when the token is not a JWT (many
/// providers issue opaque access tokens).
pub fn describe_token(access_token: &str) -> Option<TokenInfo> {
    let mut parts = access_token.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Claims = serde_json::from_slice(&bytes).ok()?;
    let scopes = claims
        .scope
        .or(claims.scp)
        .map(|value| match value {
            serde_json::Value::String(text) => text.split_whitespace().map(str::to_owned).collect(),
            serde_json::Value::Array(items) => items
                .into_iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        })
        .unwrap_or_default();
    Some(TokenInfo {
        scopes,
        expires_at: claims.exp.as_ref().and_then(crate::token::seconds),
        subject: claims.sub,
    })
}

/// Whether an OAuth login's access token expires within `margin` of `now` (Unix seconds), or has
/// expired. `false` for a token without an expiry and for every other kind of credential.
pub fn needs_refresh(auth: &Authentication, now: i64, margin: Duration) -> bool {
    match auth {
        Authentication::OAuth {
            expires_at: Some(expires_at),
            ..
        } => {
            let margin = i64::try_from(margin.as_secs()).unwrap_or(i64::MAX);
            now.saturating_add(margin) >= *expires_at
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use auth_core::{Authentication, Secret};
    use base64::Engine as _;

    use super::{describe_token, needs_refresh};

    fn jwt(claims: &str) -> String {
        let encode = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
        format!("{}.{}.sig", encode(r#"{"alg":"RS256"}"#), encode(claims))
    }

    fn check(token: &str, expect: &str) {
        assert_eq!(format!("{:?}", describe_token(token)), expect);
    }

    #[test]
    fn describes_jwt_access_tokens() {
        check(
            &jwt(r#"{"scope":"openid offline_access","exp":1700000000,"sub":"alice"}"#),
            r#"Some(TokenInfo { scopes: ["openid", "offline_access"], expires_at: Some(1700000000), subject: Some("alice") })"#,
        );
        check(
            &jwt(r#"{"scp":["read:packages"]}"#),
            r#"Some(TokenInfo { scopes: ["read:packages"], expires_at: None, subject: None })"#,
        );
        check("opaque-token", "None");
        check("a.b.c", "None");
        check(&format!("{}.extra", jwt("{}")), "None");
    }

    fn oauth(expires_at: Option<i64>) -> Authentication {
        Authentication::OAuth {
            audience: None,
            access_token: Secret::from("at"),
            refresh_token: Some(Secret::from("rt")),
            expires_at,
            token_endpoint: "https://idp.example/token".to_owned(),
            revocation_endpoint: None,
            client_id: "rattler".to_owned(),
            issuer: None,
            client_secret: None,
        }
    }

    #[test]
    fn refresh_is_due_within_the_margin() {
        let margin = Duration::from_mins(1);
        assert!(!needs_refresh(&oauth(Some(1_000)), 900, margin));
        assert!(needs_refresh(&oauth(Some(1_000)), 940, margin));
        assert!(needs_refresh(&oauth(Some(1_000)), 2_000, margin));
        assert!(!needs_refresh(&oauth(None), 2_000, margin));
        assert!(!needs_refresh(
            &Authentication::BearerToken(Secret::from("t")),
            2_000,
            margin
        ));
    }
}
