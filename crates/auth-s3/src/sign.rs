//! SigV4 signing of S3 requests with the AWS SDK's own signer (`aws-sigv4`): headers for the
//! requests we send, query parameters for presigned URLs.

use std::error::Error;
use std::fmt;
use std::time::{Duration, SystemTime};

use auth_core::SafeUrl;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    self, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
    SignatureLocation, SigningInstructions, SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use url::Url;

use crate::S3Error;

/// The longest lifetime S3 accepts for a presigned URL: seven days.
pub const MAX_PRESIGNED_LIFETIME: Duration = Duration::from_hours(7 * 24);

/// Headers whose values are credentials: marked sensitive, so `Debug` and HTTP/2's header
/// compression leave them out.
const SENSITIVE_HEADERS: [&str; 2] = ["authorization", "x-amz-security-token"];

/// The payload as SigV4 sees it.
#[derive(Clone, Copy)]
pub enum Payload<'a> {
    /// The whole body, whose SHA-256 the signature covers.
    Bytes(&'a [u8]),
    /// `UNSIGNED-PAYLOAD`, for streamed bodies.
    Unsigned,
}

impl fmt::Debug for Payload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
            Self::Unsigned => f.write_str("Unsigned"),
        }
    }
}

/// Signs one request for S3 (header signing) and returns the headers to add: `authorization`,
/// `x-amz-date`, `x-amz-content-sha256` (always: S3 requires it) and `x-amz-security-token` when
/// the credentials have a session token.
///
/// `headers` are the request's own headers, all of which the signature covers; `host` comes from
/// the URL when absent. The values of `authorization` and `x-amz-security-token` are marked
/// sensitive, so the returned map's `Debug` does not show them.
pub fn sign_headers(
    method: &Method,
    url: &Url,
    headers: &HeaderMap,
    payload: Payload<'_>,
    credentials: &Credentials,
    region: &str,
    time: SystemTime,
) -> Result<HeaderMap, S3Error> {
    let url = request_url(url)?;
    Signer::s3(credentials, region, time).sign_headers(method, url.as_str(), headers, payload)
}

/// A presigned URL (query signing) for `url`, valid for `expires_in` from `time`, at most
/// [`MAX_PRESIGNED_LIFETIME`].
///
/// The URL is itself a credential until it expires, and holds the session token when there is
/// one: print it only as an [`auth_core::SafeUrl`].
pub fn presign(
    method: &Method,
    url: &Url,
    credentials: &Credentials,
    region: &str,
    time: SystemTime,
    expires_in: Duration,
) -> Result<Url, S3Error> {
    let mut url = request_url(url)?;
    if expires_in > MAX_PRESIGNED_LIFETIME {
        return Err(S3Error::Signing {
            url: SafeUrl::new(url.as_str()),
            reason: format!(
                "S3 accepts presigned URLs valid for at most 7 days ({} seconds), not {} seconds",
                MAX_PRESIGNED_LIFETIME.as_secs(),
                expires_in.as_secs()
            ),
        });
    }
    let params = Signer::s3(credentials, region, time).presign_params(
        method,
        url.as_str(),
        &HeaderMap::new(),
        Payload::Unsigned,
        expires_in,
    )?;
    url.query_pairs_mut().extend_pairs(params);
    Ok(url)
}

/// The URL as it goes on the wire (no fragment), if it can be signed at all.
fn request_url(url: &Url) -> Result<Url, S3Error> {
    let reason = if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        "only http:// and https:// URLs with a host can be signed"
    } else if !url.username().is_empty() || url.password().is_some() {
        "the URL carries user information, which has no place in a signed S3 request"
    } else {
        let mut url = url.clone();
        url.set_fragment(None);
        return Ok(url);
    };
    Err(S3Error::Signing {
        url: SafeUrl::new(url.as_str()),
        reason: reason.to_owned(),
    })
}

/// SigV4 for any service and any settings: [`sign_headers`] and [`presign`] use it with S3's
/// settings, and the tests run the AWS SigV4 test suite (service `service`, its own
/// normalization) through it, so the suite exercises the code S3 requests go through.
#[doc(hidden)]
#[derive(Debug)]
pub struct Signer<'a> {
    pub credentials: &'a Credentials,
    pub region: &'a str,
    pub service: &'a str,
    pub time: SystemTime,
    /// The signature location is set by the method called; the other settings are used as is.
    pub settings: SigningSettings,
}

impl<'a> Signer<'a> {
    /// S3's settings: the path is signed as sent (no second percent-encoding, no removal of
    /// `.` segments or `//`), and `x-amz-content-sha256` is always sent.
    pub fn s3(credentials: &'a Credentials, region: &'a str, time: SystemTime) -> Self {
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        Self {
            credentials,
            region,
            service: "s3",
            time,
            settings,
        }
    }

    /// The headers to add to the request `method uri` with `headers`.
    pub fn sign_headers(
        &self,
        method: &Method,
        uri: &str,
        headers: &HeaderMap,
        payload: Payload<'_>,
    ) -> Result<HeaderMap, S3Error> {
        let instructions = self.sign(
            SignatureLocation::Headers,
            None,
            method,
            uri,
            headers,
            payload,
        )?;
        let (signed, _) = instructions.into_parts();
        signed
            .into_iter()
            .map(|header| {
                let mut value = HeaderValue::from_str(header.value()).map_err(|_| {
                    failure(
                        uri,
                        format!("the signer produced an invalid `{}` header", header.name()),
                    )
                })?;
                value.set_sensitive(
                    header.sensitive() || SENSITIVE_HEADERS.contains(&header.name()),
                );
                Ok((HeaderName::from_static(header.name()), value))
            })
            .collect()
    }

    /// The query parameters to append to `uri` to presign it for `expires_in`.
    pub fn presign_params(
        &self,
        method: &Method,
        uri: &str,
        headers: &HeaderMap,
        payload: Payload<'_>,
        expires_in: Duration,
    ) -> Result<Vec<(&'static str, String)>, S3Error> {
        let instructions = self.sign(
            SignatureLocation::QueryParams,
            Some(expires_in),
            method,
            uri,
            headers,
            payload,
        )?;
        let (_, params) = instructions.into_parts();
        Ok(params
            .into_iter()
            .map(|(name, value)| (name, value.into_owned()))
            .collect())
    }

    fn sign(
        &self,
        location: SignatureLocation,
        expires_in: Option<Duration>,
        method: &Method,
        uri: &str,
        headers: &HeaderMap,
        payload: Payload<'_>,
    ) -> Result<SigningInstructions, S3Error> {
        let mut settings = self.settings.clone();
        settings.signature_location = location;
        settings.expires_in = expires_in;
        let identity = self.credentials.clone().into();
        let params: http_request::SigningParams<'_> = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(self.time)
            .settings(settings)
            .build()
            .map_err(|err| failure(uri, describe(&err)))?
            .into();
        let headers = headers
            .iter()
            .map(|(name, value)| match value.to_str() {
                Ok(value) => Ok((name.as_str(), value)),
                Err(_) => Err(failure(
                    uri,
                    format!("the value of the `{name}` header is not visible ASCII"),
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let body = match payload {
            Payload::Bytes(bytes) => SignableBody::Bytes(bytes),
            Payload::Unsigned => SignableBody::UnsignedPayload,
        };
        let request = SignableRequest::new(method.as_str(), uri, headers.into_iter(), body)
            .map_err(|err| failure(uri, describe(&err)))?;
        let output =
            http_request::sign(request, &params).map_err(|err| failure(uri, describe(&err)))?;
        Ok(output.into_parts().0)
    }
}

fn failure(uri: &str, reason: String) -> S3Error {
    S3Error::Signing {
        url: SafeUrl::new(uri),
        reason,
    }
}

/// An error and its causes on one line; the signer's messages never quote header values.
fn describe(err: &dyn Error) -> String {
    auth_core::error_chain(err)
}
