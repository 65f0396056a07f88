//! S3 for `auth`: `s3://bucket/key` URLs as HTTP(S) URLs ([`resolve`]) and AWS Signature
//! Version 4 signing of the requests to them ([`sign_headers`], [`presign`]).
//!
//! The key design decision is to sign with the AWS SDK's own signer, `aws-sigv4`, configured as
//! the S3 client configures it (the path signed as sent, never normalized or encoded twice,
//! `x-amz-content-sha256` always present), rather than with crypto of our own; the integration
//! tests run the AWS SigV4 test suite that ships with that crate through our code path. The
//! crate does no I/O and reads neither the environment nor the clock: the caller passes in a
//! lookup function for variables and the signing time.
//!
//! With the `chain` feature, [`AwsChain`] is the AWS SDK's own credential chain (`aws-config`):
//! profiles, `credential_process`, assume role, SSO, web identity, containers and instance
//! metadata, on the variables the caller passes in and over the caller's reqwest client.

mod address;
#[cfg(feature = "chain")]
mod aws_http;
#[cfg(feature = "chain")]
mod chain;
mod credentials;
mod error;
mod settings;
mod sign;

pub use address::{S3Url, resolve};
#[cfg(feature = "chain")]
pub use chain::{AwsChain, ChainClock, ChainError, ProfileKind, REFRESH_BEFORE_EXPIRY, Source};
pub use credentials::{credentials_from_auth, credentials_from_env};
pub use error::S3Error;
pub use settings::{DEFAULT_REGION, S3Settings};
#[doc(hidden)]
pub use sign::Signer;
pub use sign::{MAX_PRESIGNED_LIFETIME, Payload, presign, sign_headers};
