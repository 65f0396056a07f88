//! `s3://` URLs as HTTP(S) URLs and AWS SigV4 signing of S3 requests; the crate docs are its README.
#![doc = include_str!("../README.md")]

mod address;
#[cfg(feature = "chain")]
mod aws_http;
#[cfg(feature = "chain")]
mod chain;
mod credentials;
mod error;
mod sdk_log;
mod settings;
mod sign;

pub use address::{S3Url, resolve};
#[cfg(feature = "chain")]
pub use chain::{AwsChain, ChainClock, ChainError, ProfileKind, REFRESH_BEFORE_EXPIRY, Source};
pub use credentials::{credentials_from_auth, credentials_from_env};
pub use error::S3Error;
pub use sdk_log::redact_sdk_bodies;
pub use settings::{DEFAULT_REGION, S3Settings};
#[doc(hidden)]
pub use sign::Signer;
pub use sign::{MAX_PRESIGNED_LIFETIME, Payload, presign, sign_headers};
