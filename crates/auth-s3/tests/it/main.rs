//! Integration tests of `auth-s3` through its public API, plus the AWS SigV4 test suite run
//! through the signer that API uses.

mod chain;
mod presigned;
mod resolve;
mod secrets;
mod settings;
mod signing;
mod suite;

use std::time::{Duration, SystemTime};

/// The time `seconds` after the Unix epoch.
fn unix(seconds: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
}
