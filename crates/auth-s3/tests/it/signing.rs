//! `sign_headers` and `presign` against AWS's published S3 examples, and what they add.

use std::time::Duration;

use auth_s3::{Payload, presign, sign_headers};
use aws_credential_types::Credentials;
use http::{HeaderMap, HeaderValue, Method};
use url::Url;

use crate::unix;

/// 2013-05-24T00:00:00Z, the time of AWS's S3 SigV4 examples.
const EXAMPLE_TIME: u64 = 1_369_353_600;
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The credentials of AWS's examples in "Signature Calculations for the Authorization Header"
/// and "Query String Authentication" (Amazon S3 API Reference).
fn example_credentials(session_token: Option<&str>) -> Credentials {
    Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        session_token.map(str::to_owned),
        None,
        "example",
    )
}

fn value<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers[name].to_str().unwrap()
}

/// AWS's "Example: GET Object": the first 10 bytes of `test.txt` in `examplebucket`.
#[test]
fn reproduces_the_aws_get_object_example() {
    let url = Url::parse("https://examplebucket.s3.amazonaws.com/test.txt").unwrap();
    let mut request_headers = HeaderMap::new();
    request_headers.insert("range", HeaderValue::from_static("bytes=0-9"));
    let headers = sign_headers(
        &Method::GET,
        &url,
        &request_headers,
        Payload::Bytes(b""),
        &example_credentials(None),
        "us-east-1",
        unix(EXAMPLE_TIME),
    )
    .unwrap();
    assert_eq!(
        value(&headers, "authorization"),
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
         SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
         Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    );
    assert_eq!(value(&headers, "x-amz-date"), "20130524T000000Z");
    assert_eq!(value(&headers, "x-amz-content-sha256"), EMPTY_SHA256);
    let mut names: Vec<&str> = headers.keys().map(http::HeaderName::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["authorization", "x-amz-content-sha256", "x-amz-date"]
    );
}

/// AWS's "Query String Authentication" example: a GET of `test.txt` valid for a day.
#[test]
fn reproduces_the_aws_presigned_url_example() {
    let url = Url::parse("https://examplebucket.s3.amazonaws.com/test.txt").unwrap();
    let presigned = presign(
        &Method::GET,
        &url,
        &example_credentials(None),
        "us-east-1",
        unix(EXAMPLE_TIME),
        Duration::from_hours(24),
    )
    .unwrap();
    assert_eq!(
        presigned.as_str(),
        "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
         &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    );
}

#[test]
fn unsigned_payload_and_session_token() {
    let url = Url::parse("http://localhost:9000/bucket/a%20b.tar.bz2").unwrap();
    let headers = sign_headers(
        &Method::PUT,
        &url,
        &HeaderMap::new(),
        Payload::Unsigned,
        &example_credentials(Some("session/token+1=")),
        "eu-west-1",
        unix(EXAMPLE_TIME),
    )
    .unwrap();
    assert_eq!(value(&headers, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
    assert_eq!(value(&headers, "x-amz-security-token"), "session/token+1=");
    let authorization = value(&headers, "authorization");
    assert!(
        authorization.contains("/20130524/eu-west-1/s3/aws4_request")
            && authorization.contains(
                "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token"
            ),
        "{authorization}"
    );
}

#[test]
fn the_signature_covers_the_body() {
    let url = Url::parse("https://bucket.s3.us-east-1.amazonaws.com/key").unwrap();
    let sign = |body: &[u8]| {
        sign_headers(
            &Method::PUT,
            &url,
            &HeaderMap::new(),
            Payload::Bytes(body),
            &example_credentials(None),
            "us-east-1",
            unix(EXAMPLE_TIME),
        )
        .unwrap()
    };
    let (one, other) = (sign(b"one"), sign(b"other"));
    assert_ne!(one["authorization"], other["authorization"]);
    assert_eq!(
        value(&one, "x-amz-content-sha256"),
        "7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed"
    );
}

#[test]
fn presigned_url_keeps_the_query_and_carries_the_session_token() {
    let url = Url::parse("https://bucket.s3.us-east-1.amazonaws.com/key?versionId=3#top").unwrap();
    let presigned = presign(
        &Method::GET,
        &url,
        &example_credentials(Some("session/token+1=")),
        "us-east-1",
        unix(EXAMPLE_TIME),
        Duration::from_mins(5),
    )
    .unwrap();
    let params: Vec<(String, String)> = presigned.query_pairs().into_owned().collect();
    assert_eq!(params[0], ("versionId".to_owned(), "3".to_owned()));
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    assert_eq!(param("X-Amz-Expires"), Some("300"));
    assert_eq!(param("X-Amz-Security-Token"), Some("session/token+1="));
    assert_eq!(param("X-Amz-Signature").map(str::len), Some(64));
    assert_eq!(presigned.fragment(), None);
}

#[test]
fn presigned_urls_live_at_most_seven_days() {
    let url = Url::parse("https://bucket.s3.us-east-1.amazonaws.com/key").unwrap();
    let presign_for = |seconds| {
        presign(
            &Method::GET,
            &url,
            &example_credentials(None),
            "us-east-1",
            unix(EXAMPLE_TIME),
            Duration::from_secs(seconds),
        )
    };
    assert!(presign_for(7 * 86_400).is_ok());
    insta::assert_snapshot!(
        presign_for(7 * 86_400 + 1).unwrap_err(),
        @"cannot sign the S3 request for `https://bucket.s3.us-east-1.amazonaws.com/key`: S3 accepts presigned URLs valid for at most 7 days (604800 seconds), not 604801 seconds"
    );
}

#[test]
fn unsignable_urls() {
    let sign = |url: &str| {
        sign_headers(
            &Method::GET,
            &Url::parse(url).unwrap(),
            &HeaderMap::new(),
            Payload::Unsigned,
            &example_credentials(None),
            "us-east-1",
            unix(EXAMPLE_TIME),
        )
        .unwrap_err()
        .to_string()
    };
    insta::assert_snapshot!(sign("s3://bucket/key"), @"cannot sign the S3 request for `s3://bucket/key`: only http:// and https:// URLs with a host can be signed");
    insta::assert_snapshot!(sign("https://AKID:hunter2@bucket.example/key"), @"cannot sign the S3 request for `https://****@bucket.example/key`: the URL carries user information, which has no place in a signed S3 request");
}
