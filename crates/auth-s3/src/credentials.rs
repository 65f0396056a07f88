//! AWS credentials from the `AWS_*` environment variables or from a stored
//! `Authentication::S3Credentials`.

use auth_core::Authentication;
use aws_credential_types::Credentials;

/// `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`); `None` unless both keys
/// are set and non-empty. An empty session token counts as none.
pub fn credentials_from_env(get: impl Fn(&str) -> Option<String>) -> Option<Credentials> {
    let var = |name: &str| get(name).filter(|value| !value.is_empty());
    let access_key_id = var("AWS_ACCESS_KEY_ID")?;
    let secret_access_key = var("AWS_SECRET_ACCESS_KEY")?;
    Some(Credentials::new(
        access_key_id,
        secret_access_key,
        var("AWS_SESSION_TOKEN"),
        None,
        "environment",
    ))
}

/// The stored `Authentication::S3Credentials` as AWS credentials; `None` for other variants.
pub fn credentials_from_auth(auth: &Authentication) -> Option<Credentials> {
    match auth {
        Authentication::S3Credentials {
            access_key_id,
            secret_access_key,
            session_token,
        } => Some(Credentials::new(
            access_key_id.clone(),
            secret_access_key.expose().clone(),
            session_token.as_ref().map(|token| token.expose().clone()),
            None,
            "credential store",
        )),
        _ => None,
    }
}
