//! `S3Url`, a parsed `s3://bucket/key`, and `resolve`, which turns it into the HTTP(S) URL of
//! the object on AWS or on a custom endpoint.

use std::fmt::{self, Write as _};

use auth_core::SafeUrl;
use url::Url;

use crate::S3Error;
use crate::settings::{S3Settings, check_endpoint};

/// A parsed `s3://bucket/key`: the key may be empty, and its percent-encoding is kept as given.
///
/// Parsed by hand rather than with `url::Url`, which would remove `.` and `..` segments from a
/// key in which they are ordinary characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    bucket: String,
    key: String,
    query: Option<String>,
}

impl S3Url {
    /// Parses `s3://BUCKET[/KEY][?QUERY][#FRAGMENT]`; the fragment is dropped, as HTTP does.
    pub fn parse(url: &str) -> Result<Self, S3Error> {
        let invalid = |reason| S3Error::InvalidS3Url {
            url: SafeUrl::new(url),
            reason,
        };
        let rest = url
            .get(..5)
            .filter(|scheme| scheme.eq_ignore_ascii_case("s3://"))
            .map(|_| &url[5..])
            .ok_or_else(|| invalid("it does not start with `s3://`"))?;
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (rest, query) = match rest.split_once('?') {
            Some((rest, query)) => (rest, Some(query.to_owned())),
            None => (rest, None),
        };
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.contains('@') {
            return Err(invalid(
                "it carries user information (`NAME@`); store credentials with `auth login` \
                 instead",
            ));
        }
        if bucket.is_empty() {
            return Err(invalid("the bucket name is missing"));
        }
        if !bucket
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        {
            return Err(invalid(
                "a bucket name has only letters, digits, `.`, `-` and `_` (no port)",
            ));
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            query,
        })
    }

    /// The bucket name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object key (or key prefix), without the leading `/`, percent-encoded as given.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The query string, without the `?`.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }
}

impl fmt::Display for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)?;
        match &self.query {
            Some(query) => write!(f, "?{query}"),
            None => Ok(()),
        }
    }
}

/// The HTTP URL for an S3 URL.
///
/// Virtual-hosted `https://{bucket}.s3.{region}.amazonaws.com/{key}` by default; path-style
/// `{endpoint}/{bucket}/{key}` when an endpoint is set, and `https://s3.{region}.amazonaws.com/
/// {bucket}/{key}` when `force_path_style` is set or the bucket name is not a single DNS label
/// (a bucket with dots would not match the TLS wildcard certificate `*.s3.{region}.amazonaws.com`).
/// The query string of the S3 URL is kept.
///
/// The key is written in the form SigV4 signs for S3 (RFC 3986 unreserved characters and `/` as
/// they are, every other byte as `%XX`), so the signature covers the path that is sent. A key
/// with a `.` or `..` segment is an error: HTTP URLs cannot carry one, since URL parsers remove
/// them.
pub fn resolve(url: &S3Url, settings: &S3Settings) -> Result<Url, S3Error> {
    let path = encode_key(&url.key).ok_or_else(|| S3Error::InvalidS3Url {
        url: SafeUrl::new(&url.to_string()),
        reason: "a key with a `.` or `..` segment cannot be reached over HTTP, whose URLs \
                 remove such segments",
    })?;
    let region = settings.region();
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(S3Error::InvalidRegion {
            region: region.to_owned(),
        });
    }
    // China's regions live under their own domain.
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    let bucket = &url.bucket;
    let mut http = if let Some(endpoint) = &settings.endpoint {
        check_endpoint(endpoint).map_err(|reason| S3Error::InvalidEndpoint {
            origin: "the settings",
            url: SafeUrl::new(endpoint.as_str()),
            reason: reason.to_owned(),
        })?;
        let mut http = endpoint.clone();
        let base = endpoint.path().trim_end_matches('/');
        http.set_path(&format!("{base}/{bucket}/{path}"));
        http
    } else if settings.force_path_style || !is_dns_label(bucket) {
        Url::parse(&format!("https://s3.{region}.{domain}/{bucket}/{path}"))
            .expect("a checked bucket and region make a valid URL")
    } else {
        Url::parse(&format!("https://{bucket}.s3.{region}.{domain}/{path}"))
            .expect("a checked bucket and region make a valid URL")
    };
    http.set_query(url.query.as_deref());
    tracing::trace!(url = %SafeUrl::new(http.as_str()), "resolved the S3 URL");
    Ok(http)
}

/// Whether `bucket` can be the first label of a host name under a TLS wildcard certificate.
fn is_dns_label(bucket: &str) -> bool {
    let bytes = bucket.as_bytes();
    bytes.len() <= 63
        && bytes
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

/// The key in SigV4's S3 path encoding (`UriEncode` with `/` kept), or `None` when it has a `.`
/// or `..` segment.
fn encode_key(key: &str) -> Option<String> {
    let bytes = percent_decode(key);
    if bytes
        .split(|&b| b == b'/')
        .any(|segment| segment == b"." || segment == b"..")
    {
        return None;
    }
    let mut encoded = String::with_capacity(bytes.len());
    for b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            encoded.push(char::from(b));
        } else {
            write!(encoded, "%{b:02X}").expect("writing to a String cannot fail");
        }
    }
    Some(encoded)
}

/// The bytes `text` stands for; a `%` not followed by two hex digits stands for itself.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let hex = |at: usize| {
        bytes
            .get(at)
            .and_then(|&b| char::from(b).to_digit(16))
            .and_then(|digit| u8::try_from(digit).ok())
    };
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        if let (b'%', Some(high), Some(low)) = (b, hex(at + 1), hex(at + 2)) {
            decoded.push(high << 4 | low);
            at += 3;
        } else {
            decoded.push(b);
            at += 1;
        }
    }
    decoded
}
