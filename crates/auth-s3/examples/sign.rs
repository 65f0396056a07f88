//! "Sign an S3 request": presign an `s3://bucket/key` URL with keys from the environment.
//!
//! ```text
//! AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... cargo run -p auth-s3 --example sign -- \
//!     s3://my-bucket/noarch/repodata.json [SECONDS]
//! ```
//!
//! `AWS_SESSION_TOKEN`, `AWS_REGION` and `AWS_ENDPOINT_URL` are read as the AWS CLI reads them.
//! It prints the presigned URL (which grants access until it expires, so treat it with care) and
//! the names of the headers a header-signed request would carry; never the secret key.
#![allow(clippy::print_stdout, reason = "an example prints its result")]
#![allow(
    clippy::disallowed_methods,
    reason = "an example reads the environment and the clock"
)]

use std::time::{Duration, SystemTime};

use auth_s3::{Payload, S3Settings, S3Url, presign, resolve, sign_headers};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: sign s3://BUCKET/KEY [SECONDS]")?;
    let seconds: u64 = match args.next() {
        Some(text) => text.parse().map_err(|_| "SECONDS must be a whole number")?,
        None => 3600,
    };
    let get = |name: &str| std::env::var(name).ok();
    let keys = auth_s3::credentials_from_env(get)
        .ok_or("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")?;
    let settings = S3Settings::from_env(get)?;
    let http_url = resolve(&S3Url::parse(&url)?, &settings)?;
    let now = SystemTime::now();
    let method = http::Method::GET;
    let presigned = presign(
        &method,
        &http_url,
        &keys,
        settings.region(),
        now,
        Duration::from_secs(seconds),
    )?;
    println!("{presigned}");
    let headers = sign_headers(
        &method,
        &http_url,
        &http::HeaderMap::new(),
        Payload::Unsigned,
        &keys,
        settings.region(),
        now,
    )?;
    let names: Vec<&str> = headers.keys().map(http::HeaderName::as_str).collect();
    println!("signed headers: {}", names.join(", "));
    Ok(())
}
