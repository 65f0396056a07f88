//! `s3://` requests: which keys sign them (pixi's rule: stored keys for a bucket with
//! `s3-options`, the AWS credential chain for the others), the bucket's endpoint, and a SigV4
//! signature on the request.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use auth_core::{Found, SafeUrl};
use auth_s3::{Payload, S3Settings, S3Url};
use aws_credential_types::Credentials;
use reqwest::Request;
use rustc_hash::FxHashMap;

use crate::AuthError;

/// The error of an [`AwsCredentials`] source.
pub type AwsCredentialsError = Box<dyn std::error::Error + Send + Sync>;

/// Where keys come from for a bucket that has no `s3-options` and nothing stored: the AWS
/// credential chain in `auth`, fixed keys for an embedder ([`StaticKeys`]). Asked only when
/// such a bucket is requested, so a download of an `https://` URL starts no AWS work.
#[async_trait]
pub trait AwsCredentials: Send + Sync + fmt::Debug {
    /// Keys to sign with, and where they came from in words without the keys ("AWS profile
    /// `conda` (SSO)"). The source caches temporary keys and renews them before they expire.
    async fn credentials(&self) -> Result<(Credentials, String), AwsCredentialsError>;
}

/// Fixed keys (`AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` read by the embedder, say).
#[derive(Debug, Clone)]
pub struct StaticKeys {
    credentials: Credentials,
    source: String,
}

impl StaticKeys {
    /// `credentials`, described as `source` in logs and errors ("the environment").
    pub fn new(credentials: Credentials, source: impl Into<String>) -> Self {
        Self {
            credentials,
            source: source.into(),
        }
    }
}

#[async_trait]
impl AwsCredentials for StaticKeys {
    async fn credentials(&self) -> Result<(Credentials, String), AwsCredentialsError> {
        Ok((self.credentials.clone(), self.source.clone()))
    }
}

/// How `s3://` URLs are reached and which keys sign them when none are stored.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// Settings for every bucket: from `AWS_REGION`, `AWS_ENDPOINT_URL` and the like.
    pub default: S3Settings,
    /// Settings of single buckets (the config file's `[s3-options.BUCKET]`); unset fields fall
    /// back to `default`. As in pixi, a bucket listed here is signed with stored keys only.
    pub buckets: FxHashMap<String, S3Settings>,
    /// Keys for the buckets not in `buckets` with nothing stored (the AWS credential chain).
    pub aws: Option<Arc<dyn AwsCredentials>>,
}

impl S3Options {
    /// Options that sign buckets without stored keys with `credentials`.
    #[must_use]
    pub fn with_static_keys(mut self, credentials: Credentials, source: &str) -> Self {
        self.aws = Some(Arc::new(StaticKeys::new(credentials, source)));
        self
    }

    /// The settings of one bucket.
    pub fn settings(&self, bucket: &str) -> S3Settings {
        match self.buckets.get(bucket) {
            Some(settings) => settings.clone().or(&self.default),
            None => self.default.clone(),
        }
    }
}

/// Signs a request for `s3://bucket/key` with the AWS credentials of [`S3Options::aws`] (the
/// request has no stored keys). Returns the bucket and where the keys came from.
pub(crate) async fn sign_s3_url_from_aws(
    request: &mut Request,
    options: &S3Options,
    now: impl Fn() -> SystemTime,
) -> Result<(String, String), AuthError> {
    let url = request.url().as_str();
    let s3_url = S3Url::parse(url)?;
    let bucket = s3_url.bucket();
    let no_keys = || AuthError::NoS3Credentials {
        url: SafeUrl::new(url),
        bucket: bucket.to_owned(),
    };
    if options.buckets.contains_key(bucket) {
        // pixi's rule: `s3-options` for a bucket turns the AWS credential chain off for it.
        tracing::info!(
            "bucket {bucket} has s3-options in the config, so only keys stored with `auth login \
             s3://{bucket}` sign its requests, as in pixi; the AWS credential chain is not asked"
        );
        return Err(no_keys());
    }
    let Some(aws) = &options.aws else {
        return Err(no_keys());
    };
    let (credentials, source) =
        aws.credentials()
            .await
            .map_err(|source| AuthError::AwsCredentials {
                url: SafeUrl::new(url),
                source,
            })?;
    tracing::info!("signing the request for s3://{bucket} with keys from {source}");
    let settings = options.settings(bucket);
    let endpoint = auth_s3::resolve(&s3_url, &settings)?;
    *request.url_mut() = endpoint;
    let bucket = bucket.to_owned();
    sign(request, &credentials, settings.region(), now())?;
    Ok((bucket, source))
}

/// Turns a request for `s3://bucket/key` into a request to the bucket's endpoint signed with the
/// stored keys `found`.
pub(crate) fn sign_s3_url(
    request: &mut Request,
    options: &S3Options,
    found: &Found,
    now: SystemTime,
) -> Result<(), AuthError> {
    let url = request.url().as_str();
    let s3_url = S3Url::parse(url)?;
    let credentials = keys_of(found, url)?;
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
