//! `S3Error`: what went wrong turning an `s3://` URL into a signed request, in words that never
//! quote a secret.

/// An S3 URL, endpoint or request that cannot be resolved or signed.
///
/// URLs are [`auth_core::SafeUrl`]s, which show only their redacted form, and no variant holds a
/// credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum S3Error {
    /// The `s3://` URL is malformed; the caller should fix the URL it was given.
    #[error("`{url}` is not a valid S3 URL: {reason}. Write it as s3://BUCKET/KEY")]
    InvalidS3Url {
        /// The URL, redacted.
        url: auth_core::SafeUrl,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The custom S3 endpoint is unusable; the caller should fix the setting it came from.
    #[error("the S3 endpoint from {origin} (`{url}`) is invalid: {reason}")]
    InvalidEndpoint {
        /// Where the endpoint came from: an environment variable or the settings.
        origin: &'static str,
        /// The endpoint, redacted.
        url: auth_core::SafeUrl,
        /// What is wrong with it.
        reason: String,
    },
    /// The region cannot be part of a host name.
    #[error(
        "`{region}` is not a valid AWS region: a region has only lowercase letters, digits and \
         `-` (like `us-east-1`). Set AWS_REGION or the bucket's region in the configuration"
    )]
    InvalidRegion {
        /// The region as given.
        region: String,
    },
    /// The request to sign cannot be signed as it is (a bad URL or header, or a lifetime S3
    /// refuses).
    #[error("cannot sign the S3 request for `{url}`: {reason}")]
    Signing {
        /// The request URL, redacted.
        url: auth_core::SafeUrl,
        /// Why it cannot be signed.
        reason: String,
    },
}
