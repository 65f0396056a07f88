//! `S3Settings`: the region and endpoint for a bucket, from the configuration or the `AWS_*`
//! environment variables, which the caller passes in.

use auth_core::SafeUrl;
use url::Url;

use crate::S3Error;

/// The region used when neither the configuration nor the environment names one, as the AWS
/// SDKs do for S3.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Where and how to reach S3 for one bucket: from the config file or the `AWS_*` variables.
///
/// An endpoint implies path-style addressing (`{endpoint}/{bucket}/{key}`), which is what MinIO
/// and the other S3-compatible servers accept; `force_path_style` asks for it on AWS too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Settings {
    /// The AWS region, such as `eu-west-1`; [`DEFAULT_REGION`] when unset.
    pub region: Option<String>,
    /// A custom endpoint (`http://localhost:9000`) instead of AWS's own.
    pub endpoint: Option<Url>,
    /// Path-style addressing even without a custom endpoint.
    pub force_path_style: bool,
}

impl S3Settings {
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`; `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`
    /// (the AWS SDKs' service-specific variable first). Empty values count as unset. An invalid
    /// endpoint is an error naming the variable; its value appears only redacted.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, S3Error> {
        let var = |name: &str| get(name).filter(|value| !value.is_empty());
        let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
        let endpoint = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
            .into_iter()
            .find_map(|name| var(name).map(|value| (name, value)))
            .map(|(name, value)| parse_endpoint(name, &value))
            .transpose()?;
        Ok(Self {
            region,
            endpoint,
            force_path_style: false,
        })
    }

    /// The region, or [`DEFAULT_REGION`].
    pub fn region(&self) -> &str {
        self.region.as_deref().unwrap_or(DEFAULT_REGION)
    }

    /// Fills unset fields from `fallback` (the configuration for the bucket first, the
    /// environment second): `settings_for_bucket.or(&from_env)`.
    #[must_use]
    pub fn or(self, fallback: &S3Settings) -> S3Settings {
        S3Settings {
            region: self.region.or_else(|| fallback.region.clone()),
            endpoint: self.endpoint.or_else(|| fallback.endpoint.clone()),
            force_path_style: self.force_path_style || fallback.force_path_style,
        }
    }
}

fn parse_endpoint(origin: &'static str, value: &str) -> Result<Url, S3Error> {
    let invalid = |reason: String| S3Error::InvalidEndpoint {
        origin,
        url: SafeUrl::new(value),
        reason,
    };
    let url = Url::parse(value).map_err(|err| invalid(err.to_string()))?;
    check_endpoint(&url).map_err(|reason| invalid(reason.to_owned()))?;
    Ok(url)
}

/// Why `endpoint` cannot be the base of S3 URLs, if it cannot.
pub(crate) fn check_endpoint(endpoint: &Url) -> Result<(), &'static str> {
    if !matches!(endpoint.scheme(), "http" | "https") || endpoint.host_str().is_none() {
        Err("an endpoint is an http:// or https:// URL with a host")
    } else if !endpoint.username().is_empty() || endpoint.password().is_some() {
        Err("an endpoint carries no user name or password; store the credentials with `auth login`")
    } else if endpoint.query().is_some() || endpoint.fragment().is_some() {
        Err("an endpoint has no query or fragment")
    } else {
        Ok(())
    }
}
