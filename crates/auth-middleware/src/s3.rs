//! `s3://` requests: the bucket's keys (stored, else `AWS_*`), its endpoint, and a SigV4
//! signature on the request.

use std::time::SystemTime;

use auth_core::{Found, SafeUrl};
use auth_s3::{Payload, S3Settings, S3Url};
use aws_credential_types::Credentials;
use reqwest::Request;
use rustc_hash::FxHashMap;

use crate::AuthError;

/// How `s3://` URLs are reached and which keys sign them when none are stored.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// Settings for every bucket: from `AWS_REGION`, `AWS_ENDPOINT_URL` and the like.
    pub default: S3Settings,
    /// Settings of single buckets (the config file's `[s3-options.BUCKET]`); unset fields fall
    /// back to `default`.
    pub buckets: FxHashMap<String, S3Settings>,
    /// Keys from `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, used for buckets with no stored
    /// keys.
    pub env_credentials: Option<Credentials>,
}

impl S3Options {
    /// The settings of one bucket.
    pub fn settings(&self, bucket: &str) -> S3Settings {
        match self.buckets.get(bucket) {
            Some(settings) => settings.clone().or(&self.default),
            None => self.default.clone(),
        }
    }
}

/// Turns a request for `s3://bucket/key` into a signed request to the bucket's endpoint.
/// Returns where the keys came from: `Some(found)` for a stored credential, `None` for `AWS_*`.
pub(crate) fn sign_s3_url(
    request: &mut Request,
    options: &S3Options,
    found: Option<&Found>,
    now: SystemTime,
) -> Result<(), AuthError> {
    let url = request.url().as_str();
    let s3_url = S3Url::parse(url)?;
    let credentials = match found {
        Some(found) => keys_of(found, url)?,
        None => match &options.env_credentials {
            Some(credentials) => credentials.clone(),
            None => {
                return Err(AuthError::NoS3Credentials {
                    url: SafeUrl::new(url),
                    bucket: s3_url.bucket().to_owned(),
                });
            }
        },
    };
    let settings = options.settings(s3_url.bucket());
    let endpoint = auth_s3::resolve(&s3_url, &settings)?;
    *request.url_mut() = endpoint;
    sign(request, &credentials, settings.region(), now)
}

/// Signs a request to an `http(s)://` URL whose stored credential is a pair of S3 keys (a
/// MinIO host, say), with the default region.
pub(crate) fn sign_http(
    request: &mut Request,
    options: &S3Options,
    found: &Found,
    now: SystemTime,
) -> Result<(), AuthError> {
    let credentials = keys_of(found, request.url().as_str())?;
    sign(request, &credentials, options.default.region(), now)
}

fn keys_of(found: &Found, url: &str) -> Result<Credentials, AuthError> {
    let auth = &found.credential.auth;
    auth_s3::credentials_from_auth(auth).ok_or_else(|| AuthError::NotS3Keys {
        key: found.credential.key.to_string(),
        kind: auth.kind(),
        url: SafeUrl::new(url),
    })
}

fn sign(
    request: &mut Request,
    credentials: &Credentials,
    region: &str,
    now: SystemTime,
) -> Result<(), AuthError> {
    let payload = match request.body() {
        None => Payload::Bytes(&[]),
        Some(body) => body.as_bytes().map_or(Payload::Unsigned, Payload::Bytes),
    };
    let headers = auth_s3::sign_headers(
        request.method(),
        request.url(),
        request.headers(),
        payload,
        credentials,
        region,
        now,
    )?;
    for (name, value) in headers {
        if let Some(name) = name {
            request.headers_mut().insert(name, value);
        }
    }
    Ok(())
}
