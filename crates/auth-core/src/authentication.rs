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
    /// The error describes the value by its shape only ("a string where an object was
    /// expected"): serde's own messages quote the input (``unknown variant `SECRET` `` for a bare
    /// string), and any string in a credentials file may be a secret.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "the stores hand over the value they parsed; borrowing would change every caller"
    )]
    pub fn from_json_value(value: serde_json::Value) -> Result<Self, InvalidCredential> {
        match Self::deserialize(&value) {
            Ok(auth) => Ok(auth),
            Err(_) => Err(InvalidCredential {
                reason: describe_invalid(&value),
            }),
        }
    }

    /// Refuses a credential that no server could accept, before it is stored: an empty token or
    /// user name, a user name with `:` (RFC 7617 cannot carry it), control characters (they
    /// cannot go into a header).
    pub fn validate(&self) -> Result<(), InvalidCredential> {
        let fail = |reason: &str| {
            Err(InvalidCredential {
                reason: reason.to_owned(),
            })
        };
        let secrets_ok = self
            .secrets()
            .iter()
            .all(|secret| !secret.expose().chars().any(char::is_control));
        if !secrets_ok {
            return fail(
                "the secret contains a control character (a newline, say), which cannot be sent in a header",
            );
        }
        match self {
            Self::BearerToken(token) | Self::CondaToken(token) if token.expose().is_empty() => {
                fail("the token is empty")
            }
            Self::OAuth { access_token, .. } if access_token.expose().is_empty() => {
                fail("the access token is empty")
            }
            Self::BasicHTTP { username, .. } if username.is_empty() => {
                fail("the user name is empty")
            }
            Self::BasicHTTP { username, .. } if username.contains(':') => fail(
                "the user name contains `:`, which HTTP Basic authentication cannot carry (RFC 7617)",
            ),
            Self::BasicHTTP { username, .. } if username.chars().any(char::is_control) => {
                fail("the user name contains a control character")
            }
            Self::S3Credentials {
                access_key_id,
                secret_access_key,
                ..
            } if access_key_id.is_empty() || secret_access_key.expose().is_empty() => {
                fail("the S3 access key ID or secret access key is empty")
            }
            _ => Ok(()),
        }
    }
}

/// A JSON value that is not a credential this version understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct InvalidCredential {
    reason: String,
}

/// The kinds, and for each the fields with their JSON type and whether they are required.
const KINDS: &[(&str, Option<&[Field]>)] = &[
    ("BearerToken", None),
    (
        "BasicHTTP",
        Some(&[("username", Ty::Str, true), ("password", Ty::Str, true)]),
    ),
    ("CondaToken", None),
    (
        "S3Credentials",
        Some(&[
            ("access_key_id", Ty::Str, true),
            ("secret_access_key", Ty::Str, true),
            ("session_token", Ty::Str, false),
        ]),
    ),
    (
        "OAuth",
        Some(&[
            ("audience", Ty::Str, false),
            ("access_token", Ty::Str, true),
            ("refresh_token", Ty::Str, false),
            ("expires_at", Ty::Int, false),
            ("token_endpoint", Ty::Str, true),
            ("revocation_endpoint", Ty::Str, false),
            ("client_id", Ty::Str, true),
            ("issuer", Ty::Str, false),
            ("client_secret", Ty::Str, false),
        ]),
    ),
];

type Field = (&'static str, Ty, bool);

#[derive(Clone, Copy)]
enum Ty {
    Str,
    Int,
}

impl Ty {
    /// Whether a value fits; `null` fits an optional field.
    fn accepts(self, value: &serde_json::Value, required: bool) -> bool {
        match (self, value) {
            (_, serde_json::Value::Null) => !required,
            (Self::Str, serde_json::Value::String(_)) => true,
            (Self::Int, serde_json::Value::Number(n)) => n.is_i64(),
            _ => false,
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Self::Str => "a string",
            Self::Int => "a whole number",
        }
    }
}

/// What a value is, never what it says.
fn shape(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Why a value is not a credential, in words made only of its shape and of names from our own
/// format: a key or value of the input is never quoted.
fn describe_invalid(value: &serde_json::Value) -> String {
    let kinds = KINDS
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ");
    let serde_json::Value::Object(map) = value else {
        return format!(
            "{} where an object naming the credential kind ({kinds}) was expected",
            shape(value)
        );
    };
    let mut entries = map.iter();
    let (Some((kind, inner)), None) = (entries.next(), entries.next()) else {
        return format!(
            "an object with {} fields where one naming the credential kind ({kinds}) was expected",
            map.len()
        );
    };
    let Some((kind, fields)) = KINDS.iter().find(|(name, _)| name == kind) else {
        return format!("an unknown credential kind (expected one of {kinds})");
    };
    let Some(fields) = fields else {
        return format!(
            "`{kind}` holds {} where a string was expected",
            shape(inner)
        );
    };
    let serde_json::Value::Object(inner) = inner else {
        return format!(
            "`{kind}` holds {} where an object was expected",
            shape(inner)
        );
    };
    for (name, ty, required) in *fields {
        match inner.get(*name) {
            None if *required => return format!("`{kind}` has no field `{name}`"),
            Some(value) if !ty.accepts(value, *required) => {
                return format!(
                    "the field `{name}` of `{kind}` is {} where {} was expected",
                    shape(value),
                    ty.expected()
                );
            }
            _ => {}
        }
    }
    format!("`{kind}` has a field of the wrong type or shape")
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
            "error: `BearerToken` holds a number where a string was expected",
        );
        check(
            r#"{"BasicHTTP":{"username":"u"}}"#,
            "error: `BasicHTTP` has no field `password`",
        );
        check(
            r#"{"Kerberos":"ticket-secret"}"#,
            "error: an unknown credential kind (expected one of BearerToken, BasicHTTP, CondaToken, S3Credentials, OAuth)",
        );
        // A bare string was read by serde as a unit variant and quoted: the red team's
        // `{"example.org": "SECRETZZ123"}` printed ``unknown variant `SECRETZZ123` ``.
        check(
            r#""SECRETZZ123""#,
            "error: a string where an object naming the credential kind (BearerToken, BasicHTTP, CondaToken, S3Credentials, OAuth) was expected",
        );
        check(
            r#"{"SECRETZZ123":{}}"#,
            "error: an unknown credential kind (expected one of BearerToken, BasicHTTP, CondaToken, S3Credentials, OAuth)",
        );
        check(
            r#"{"BasicHTTP":{"username":"u","password":["SECRETZZ123"]}}"#,
            "error: the field `password` of `BasicHTTP` is an array where a string was expected",
        );
        check(
            r#"{"OAuth":{"access_token":"SECRETZZ123","expires_at":"soon","token_endpoint":"t","client_id":"c"}}"#,
            "error: the field `expires_at` of `OAuth` is a string where a whole number was expected",
        );
        check(
            r#"{"BearerToken":"a","BasicHTTP":{}}"#,
            "error: an object with 2 fields where one naming the credential kind (BearerToken, BasicHTTP, CondaToken, S3Credentials, OAuth) was expected",
        );
    }

    #[test]
    fn refuses_credentials_no_server_can_accept() {
        let basic = |user: &str, password: &str| Authentication::BasicHTTP {
            username: user.to_owned(),
            password: Secret::from(password),
        };
        let cases = [
            Authentication::BearerToken(Secret::from("")),
            Authentication::CondaToken(Secret::from("")),
            Authentication::BearerToken(Secret::from("tok\nX-Injected: 1")),
            basic("", "p"),
            basic("a:b", "p"),
            basic("a\u{1b}b", "p"),
            basic("alice", ""),
            Authentication::BearerToken(Secret::from("tok")),
        ];
        let out: Vec<String> = cases
            .iter()
            .map(|auth| match auth.validate() {
                Ok(()) => "ok".to_owned(),
                Err(err) => err.to_string(),
            })
            .collect();
        insta::assert_snapshot!(out.join("\n"), @r"
        the token is empty
        the token is empty
        the secret contains a control character (a newline, say), which cannot be sent in a header
        the user name is empty
        the user name contains `:`, which HTTP Basic authentication cannot carry (RFC 7617)
        the user name contains a control character
        ok
        ok
        ");
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
