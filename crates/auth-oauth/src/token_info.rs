//! What `status` shows about a token, read from a JWT access token without verifying it. (When a
//! stored login is due for a refresh is the `Refresher`'s decision: `coordinate.rs`.)

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

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::describe_token;

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
}
