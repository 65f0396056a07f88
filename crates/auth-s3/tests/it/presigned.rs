//! Presigned URLs sent to a real SigV4-checking S3 server (s3s-fs): a valid one is served, an
//! expired or tampered one is refused, and one with a session token carries it.

use std::time::{Duration, SystemTime};

use auth_s3::presign;
use auth_tests::peers::{S3, http_get};
use aws_credential_types::Credentials;
use http::Method;
use url::Url;

const ACCESS_KEY: &str = "AKIDPRESIGN";
const SECRET_KEY: &str = "presign-secret-key-21";

#[allow(
    clippy::disallowed_methods,
    reason = "the server checks expiry against its own clock, so the URL is signed with the real one"
)]
fn now() -> SystemTime {
    SystemTime::now()
}

fn server() -> (S3, Url) {
    let s3 = S3::start(ACCESS_KEY, SECRET_KEY);
    s3.create_bucket("channel");
    s3.put_file("channel", "noarch/repodata.json", b"{\"presigned\": true}");
    let url = Url::parse(&format!("{}/channel/noarch/repodata.json", s3.endpoint())).unwrap();
    (s3, url)
}

fn sign(url: &Url, secret: &str, session: Option<&str>, time: SystemTime, valid: u64) -> Url {
    let credentials =
        Credentials::new(ACCESS_KEY, secret, session.map(str::to_owned), None, "test");
    presign(
        &Method::GET,
        url,
        &credentials,
        "us-east-1",
        time,
        Duration::from_secs(valid),
    )
    .unwrap()
}

#[test]
fn a_valid_presigned_url_is_served() {
    let (_s3, url) = server();
    let response = http_get(sign(&url, SECRET_KEY, None, now(), 300).as_str(), &[]);
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.text(), "{\"presigned\": true}");
}

#[test]
fn an_expired_or_tampered_presigned_url_is_refused() {
    let (_s3, url) = server();
    let expired = sign(&url, SECRET_KEY, None, now() - Duration::from_hours(1), 60);
    let wrong_secret = sign(&url, "not-the-secret", None, now(), 300);
    let valid = sign(&url, SECRET_KEY, None, now(), 300);
    let other_key = Url::parse(
        &valid
            .as_str()
            .replace("repodata.json", "current_repodata.json"),
    )
    .unwrap();
    let mut tampered_signature = valid.clone();
    let pairs: Vec<(String, String)> = valid
        .query_pairs()
        .map(|(name, value)| {
            let value = if name == "X-Amz-Signature" {
                let mut flipped = value.into_owned();
                let last = if flipped.ends_with('0') { '1' } else { '0' };
                flipped.pop();
                flipped.push(last);
                flipped
            } else {
                value.into_owned()
            };
            (name.into_owned(), value)
        })
        .collect();
    tampered_signature
        .query_pairs_mut()
        .clear()
        .extend_pairs(&pairs);
    let mut longer = valid.clone();
    let stretched: Vec<(String, String)> = valid
        .query_pairs()
        .map(|(name, value)| {
            let value = if name == "X-Amz-Expires" {
                "604800".to_owned()
            } else {
                value.into_owned()
            };
            (name.into_owned(), value)
        })
        .collect();
    longer.query_pairs_mut().clear().extend_pairs(&stretched);
    for (what, url) in [
        ("expired", expired),
        ("signed with another secret", wrong_secret),
        ("for another object", other_key),
        ("with a changed signature", tampered_signature),
        ("with a longer lifetime", longer),
    ] {
        let response = http_get(url.as_str(), &[]);
        assert_eq!(
            response.status,
            403,
            "a URL {what} was served: {}",
            response.text()
        );
    }
}

#[test]
fn a_session_token_travels_in_the_presigned_url_and_is_signed() {
    let (_s3, url) = server();
    let signed = sign(&url, SECRET_KEY, Some("session-token-22"), now(), 300);
    let token: Vec<String> = signed
        .query_pairs()
        .filter(|(name, _)| name == "X-Amz-Security-Token")
        .map(|(_, value)| value.into_owned())
        .collect();
    assert_eq!(token, ["session-token-22"]);
    assert_eq!(http_get(signed.as_str(), &[]).status, 200);
    // The token is covered by the signature: another token makes the URL invalid.
    let swapped = Url::parse(
        &signed
            .as_str()
            .replace("session-token-22", "session-token-23"),
    )
    .unwrap();
    assert_eq!(http_get(swapped.as_str(), &[]).status, 403);
    // And the URL is a credential: shown only redacted.
    let shown = auth_core::SafeUrl::from(&signed).to_string();
    assert!(!shown.contains("session-token-22"), "{shown}");
}
