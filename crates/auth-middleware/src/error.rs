//! What can go wrong while authenticating a request, in words that say what to do next.

use auth_core::{SafeUrl, StoreError};

/// An error of the middleware. Every URL in it is a [`SafeUrl`], so no message can show what a
/// URL carried, and no message quotes a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The server wants credentials and none are stored for the URL.
    #[error(
        "{host} answered HTTP {status} and no credential is stored for it; \
         run `auth login {login}`"
    )]
    NotLoggedIn {
        /// The host (and port) that answered.
        host: String,
        /// What to pass to `auth login`.
        login: String,
        /// 401 or 403.
        status: u16,
    },
    /// A stored credential was sent and the server refused it.
    #[error(
        "{host} rejected the credential for {key} from {store} (HTTP {status}); it may have \
         expired or been revoked: run `auth login {login}` to replace it"
    )]
    Rejected {
        /// The host (and port) that answered.
        host: String,
        /// The key the credential is stored under.
        key: String,
        /// Where it came from ("the keyring", "the file …", "AWS profile `conda` (SSO)").
        store: String,
        /// What to pass to `auth login`.
        login: String,
        /// 401 or 403.
        status: u16,
    },
    /// A credential is stored, but was not sent because the URL is plain `http://`.
    #[error(
        "{host} answered HTTP {status}; the credential for {key} from {store} was not sent \
         because {url} is plain http and the key does not name `http://`: use https, or log in \
         to `http://{host}` to allow plain http for it"
    )]
    Withheld {
        /// The host (and port) that answered.
        host: String,
        /// The key the credential is stored under.
        key: String,
        /// Where it is stored.
        store: String,
        /// The request URL, redacted.
        url: SafeUrl,
        /// 401 or 403.
        status: u16,
    },
    /// A store could not be read.
    #[error("could not look up the credential for {url}")]
    Store {
        /// The request URL, redacted.
        url: SafeUrl,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// An `s3://` URL with no stored keys, for a bucket with `s3-options` (which, as in pixi,
    /// takes stored keys only) or with no AWS credential source configured.
    #[error(
        "no S3 credentials for {url}: run `auth login s3://{bucket} --s3-access-key-id ID \
         --s3-secret-access-key -`; a bucket without [s3-options.{bucket}] in the config can \
         also take keys from the AWS credential chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, ...)"
    )]
    NoS3Credentials {
        /// The request URL.
        url: SafeUrl,
        /// The bucket.
        bucket: String,
    },
    /// The AWS credential chain gave no keys for an `s3://` URL (the cause says which source
    /// and what to run: `aws sso login --profile NAME` for an expired SSO session).
    #[error("no S3 credentials for {url} from the AWS credential chain")]
    AwsCredentials {
        /// The request URL.
        url: SafeUrl,
        /// Why, in the source's words (which never hold a key).
        #[source]
        source: crate::AwsCredentialsError,
    },
    /// The credential for an `s3://` URL is not a pair of S3 keys.
    #[error("the credential for {key} is a {kind}, but {url} needs S3 keys")]
    NotS3Keys {
        /// The key it is stored under.
        key: String,
        /// What it is instead.
        kind: &'static str,
        /// The request URL.
        url: SafeUrl,
    },
    /// Resolving or signing an S3 request failed.
    #[error(transparent)]
    S3(#[from] auth_s3::S3Error),
    /// The `keyring` CLI failed.
    #[error("the keyring provider could not answer for {url}")]
    Keyring {
        /// The index URL, redacted.
        url: SafeUrl,
        /// Why.
        #[source]
        source: auth_keyring_cli::KeyringCliError,
    },
    /// A refresh of an OAuth token failed; the request was not sent.
    #[error("could not refresh the login for {host}")]
    SessionExpired {
        /// The host.
        host: String,
        /// Why the refresh failed: the [`TokenRefresher`](crate::TokenRefresher)'s error.
        #[source]
        source: crate::BoxError,
    },
    /// A redirect loop, or a very long chain.
    #[error("more than {max} redirects, starting at {url}")]
    TooManyRedirects {
        /// The first URL, redacted.
        url: SafeUrl,
        /// The limit.
        max: usize,
    },
    /// A redirect whose `Location` is not a URL.
    #[error("{url} redirected to a location that is not a valid URL")]
    BadRedirect {
        /// The URL that redirected, redacted.
        url: SafeUrl,
    },
    /// The request could not be sent, or no answer came.
    #[error("request to {url} failed")]
    Send {
        /// The request URL, redacted.
        url: SafeUrl,
        /// The transport error, its URL removed (it may hold a conda token).
        #[source]
        source: reqwest::Error,
    },
}
