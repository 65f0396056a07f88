//! `Authentication`: the credential kinds, serialized exactly as rattler stores them.

use serde::{Deserialize, Serialize};

use crate::Secret;

/// One credential, as rattler (and so pixi) serializes it: externally tagged, absent optional
/// fields written as `null`, `expires_at` in Unix seconds. A file written by pixi is read by us and
/// ours by pixi.
///
/// ```json
/// { "BearerToken": "..." }
/// { "BasicHTTP": { "username": "...", "password": "..." } }
/// { "CondaToken": "..." }
/// { "S3Credentials": { "access_key_id": "...", "secret_access_key": "...", "session_token": null } }
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug)]
#[non_exhaustive]
pub enum Authentication {
    /// Sent as `Authorization: Bearer <TOKEN>` (RFC 6750).
    BearerToken(Secret),
    /// Sent as HTTP Basic authentication (RFC 7617).
    BasicHTTP {
        /// The user name; not a secret, and shown by `status`.
        username: String,
        /// The password.
        password: Secret,
    },
    /// anaconda.org and quetz: put into the URL path as `/t/<TOKEN>/`.
    CondaToken(Secret),
    /// Keys that sign S3 requests with `SigV4`.
    S3Credentials {
        /// The access key ID; an identifier, not a secret, but never printed in full.
        access_key_id: String,
        /// The secret access key.
        secret_access_key: Secret,
        /// The session token of temporary credentials.
        session_token: Option<Secret>,
    },
    /// Tokens from an OAuth 2.0 / `OpenID` Connect login (RFC 6749).
    OAuth {
        /// The audience requested at login, kept for refresh; absent from older entries and then
        /// not written, as rattler does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        audience: Option<String>,
        /// The access token, sent as a Bearer token.
        access_token: Secret,
        /// The refresh token, when the provider issued one.
        refresh_token: Option<Secret>,
        /// When the access token expires, in Unix seconds.
        expires_at: Option<i64>,
        /// Where the tokens are refreshed.
        token_endpoint: String,
        /// Where the tokens are revoked on logout (RFC 7009).
        revocation_endpoint: Option<String>,
        /// The OAuth client the tokens were issued to.
        client_id: String,
        /// The issuer the login discovered, for `status` and a later discovery. Ours; rattler
        /// ignores it, and it is not written when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        issuer: Option<String>,
        /// The secret of a confidential client, needed to refresh. Ours, like `issuer`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_secret: Option<Secret>,
    },
}

impl Authentication {
    /// The variant's name as it appears in the JSON, for display.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BearerToken(_) => "BearerToken",
            Self::BasicHTTP { .. } => "BasicHTTP",
            Self::CondaToken(_) => "CondaToken",
            Self::S3Credentials { .. } => "S3Credentials",
            Self::OAuth { .. } => "OAuth",
        }
    }

    /// When the credential expires (Unix seconds), for those that do.
    pub fn expires_at(&self) -> Option<i64> {
        match self {
            Self::OAuth { expires_at, .. } => *expires_at,
            _ => None,
        }
    }

    /// The one secret a script asks for with `auth token`: the token, the password, the S3 secret
    /// access key or the OAuth access token.
    pub fn primary_secret(&self) -> &Secret {
        match self {
            Self::BearerToken(token) | Self::CondaToken(token) => token,
            Self::BasicHTTP { password, .. } => password,
            Self::S3Credentials {
                secret_access_key, ..
            } => secret_access_key,
            Self::OAuth { access_token, .. } => access_token,
        }
    }

    /// Every secret this credential holds, so tests and redaction can look for each of them.
    pub fn secrets(&self) -> Vec<&Secret> {
        match self {
            Self::BearerToken(token) | Self::CondaToken(token) => vec![token],
            Self::BasicHTTP { password, .. } => vec![password],
            Self::S3Credentials {
                secret_access_key,
                session_token,
                ..
            } => std::iter::once(secret_access_key)
                .chain(session_token)
                .collect(),
            Self::OAuth {
                access_token,
                refresh_token,
                client_secret,
                ..
            } => std::iter::once(access_token)
                .chain(refresh_token)
                .chain(client_secret)
                .collect(),
        }
    }

    /// Parses one credential from its JSON value.
    ///
    /// The error says only where and what kind of problem it is: serde's own messages quote the
    /// offending value, which could be a secret.
    pub fn from_json_value(value: serde_json::Value) -> Result<Self, InvalidCredential> {
        serde_json::from_value(value).map_err(|err| InvalidCredential {
            reason: describe_data_error(&err),
        })
    }
}

/// A JSON value that is not a credential this version understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct InvalidCredential {
    reason: String,
}

/// Describes a serde data error without quoting any value from the input.
fn describe_data_error(err: &serde_json::Error) -> String {
    let message = err.to_string();
    // serde's "unknown variant `X`, expected one of ..." names only variant names, never values.
    if message.starts_with("unknown variant") || message.starts_with("missing field") {
        return message;
    }
    if message.starts_with("unknown field") {
        return message;
    }
    "a field has the wrong type or shape".to_owned()
}

#[cfg(test)]
mod tests {
    use super::Authentication;
    use crate::Secret;

    fn check(json: &str, expect: &str) {
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        let got = match Authentication::from_json_value(value) {
            Ok(auth) => {
                let round = serde_json::to_string(&auth).unwrap();
                format!("{}: {round}", auth.kind())
            }
            Err(err) => format!("error: {err}"),
        };
        assert_eq!(got.trim(), expect.trim());
    }

    #[test]
    fn rattler_format_round_trips() {
        check(
            r#"{"BearerToken":"tok"}"#,
            r#"BearerToken: {"BearerToken":"tok"}"#,
        );
        check(
            r#"{"BasicHTTP":{"username":"u","password":"p:@"}}"#,
            r#"BasicHTTP: {"BasicHTTP":{"username":"u","password":"p:@"}}"#,
        );
        check(
            r#"{"CondaToken":"ct"}"#,
            r#"CondaToken: {"CondaToken":"ct"}"#,
        );
        check(
            r#"{"S3Credentials":{"access_key_id":"a","secret_access_key":"s"}}"#,
            r#"S3Credentials: {"S3Credentials":{"access_key_id":"a","secret_access_key":"s","session_token":null}}"#,
        );
        check(
            r#"{"OAuth":{"access_token":"at","refresh_token":null,"expires_at":1700000000,"token_endpoint":"https://x/token","revocation_endpoint":null,"client_id":"rattler"}}"#,
            r#"OAuth: {"OAuth":{"access_token":"at","refresh_token":null,"expires_at":1700000000,"token_endpoint":"https://x/token","revocation_endpoint":null,"client_id":"rattler"}}"#,
        );
    }

    #[test]
    fn oauth_keeps_rattlers_optional_audience() {
        check(
            r#"{"OAuth":{"audience":"api","access_token":"at","refresh_token":"rt","expires_at":null,"token_endpoint":"https://x/token","revocation_endpoint":null,"client_id":"rattler"}}"#,
            r#"OAuth: {"OAuth":{"audience":"api","access_token":"at","refresh_token":"rt","expires_at":null,"token_endpoint":"https://x/token","revocation_endpoint":null,"client_id":"rattler"}}"#,
        );
    }

    #[test]
    fn errors_never_quote_values() {
        // The value of a mistyped field could be a secret: serde would quote it.
        check(
            r#"{"BearerToken":12345678}"#,
            "error: a field has the wrong type or shape",
        );
        check(
            r#"{"BasicHTTP":{"username":"u"}}"#,
            "error: missing field `password`",
        );
        check(
            r#"{"Kerberos":"ticket-secret"}"#,
            "error: unknown variant `Kerberos`, expected one of `BearerToken`, `BasicHTTP`, `CondaToken`, `S3Credentials`, `OAuth`",
        );
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let auth = Authentication::S3Credentials {
            access_key_id: "AKID".to_owned(),
            secret_access_key: Secret::from("very-secret"),
            session_token: Some(Secret::from("session-secret")),
        };
        let printed = format!("{auth:?}");
        assert!(!printed.contains("very-secret") && !printed.contains("session-secret"));
        assert_eq!(auth.secrets().len(), 2);
    }
}
