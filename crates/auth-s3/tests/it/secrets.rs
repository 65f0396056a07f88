//! No secret access key or session token reaches a `Debug` print or an error message.

use std::collections::HashMap;
use std::time::Duration;

use auth_core::{Authentication, Secret};
use auth_s3::{
    Payload, S3Error, S3Settings, S3Url, Signer, credentials_from_auth, credentials_from_env,
    presign, resolve, sign_headers,
};
use http::{HeaderMap, HeaderValue, Method};
use url::Url;

use crate::unix;

const SECRET_KEY: &str = "wJalrXUtnFEMI-secret-key";
const SESSION_TOKEN: &str = "FwoGZXIvYXdz-session-token";

/// Fails naming `what` if `text` holds the secret key, the session token or the password used
/// in the URLs below.
fn assert_clean(what: &str, text: &str) {
    for secret in [SECRET_KEY, SESSION_TOKEN, "hunter2"] {
        assert!(!text.contains(secret), "{what} shows `{secret}`: {text}");
    }
}

fn environment() -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<&str, &str> = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_SESSION_TOKEN", SESSION_TOKEN),
    ]
    .into();
    move |name| vars.get(name).map(|value| (*value).to_owned())
}

#[test]
fn credentials_debug_redacts() {
    let from_env = credentials_from_env(environment()).unwrap();
    let stored = Authentication::S3Credentials {
        access_key_id: "AKIDEXAMPLE".to_owned(),
        secret_access_key: Secret::from(SECRET_KEY),
        session_token: Some(Secret::from(SESSION_TOKEN)),
    };
    let from_auth = credentials_from_auth(&stored).unwrap();
    // The values are there, so a clean print means a redacting one.
    assert_eq!(from_auth.secret_access_key(), SECRET_KEY);
    assert_eq!(from_env.session_token(), Some(SESSION_TOKEN));
    let signer = Signer::s3(&from_env, "us-east-1", unix(0));
    for (what, text) in [
        (
            "Credentials from the environment",
            format!("{from_env:?} {from_env:#?}"),
        ),
        (
            "Credentials from a stored credential",
            format!("{from_auth:?}"),
        ),
        ("Authentication", format!("{stored:?}")),
        ("Signer", format!("{signer:?} {signer:#?}")),
    ] {
        assert_clean(what, &text);
    }
}

#[test]
fn signed_headers_are_sensitive_and_their_debug_redacts() {
    let credentials = credentials_from_env(environment()).unwrap();
    let url = Url::parse("https://bucket.s3.us-east-1.amazonaws.com/key").unwrap();
    let headers = sign_headers(
        &Method::GET,
        &url,
        &HeaderMap::new(),
        Payload::Bytes(b""),
        &credentials,
        "us-east-1",
        unix(1_369_353_600),
    )
    .unwrap();
    assert_eq!(headers["x-amz-security-token"], SESSION_TOKEN);
    assert!(headers["authorization"].is_sensitive());
    assert!(headers["x-amz-security-token"].is_sensitive());
    assert!(!headers["x-amz-date"].is_sensitive());
    let printed = format!("{headers:?}");
    assert_clean("the signed headers", &printed);
    assert!(!printed.contains("Signature="), "{printed}");
    assert!(printed.contains("20130524T000000Z"), "{printed}");
}

#[test]
fn errors_quote_no_secret() {
    let credentials = credentials_from_env(environment()).unwrap();
    let endpoint_env = |value: &'static str| {
        move |name: &str| (name == "AWS_ENDPOINT_URL").then(|| value.to_owned())
    };
    let settings_with = |endpoint: &str| S3Settings {
        endpoint: Some(Url::parse(endpoint).unwrap()),
        ..S3Settings::default()
    };
    let s3_url = S3Url::parse("s3://bucket/key").unwrap();
    let mut secret_header = HeaderMap::new();
    let value = format!("{SECRET_KEY}\u{e9}");
    secret_header.insert(
        "x-secret",
        HeaderValue::from_bytes(value.as_bytes()).unwrap(),
    );
    let https = Url::parse("https://bucket.example/key").unwrap();

    let errors: Vec<S3Error> = vec![
        S3Url::parse("s3://AKID:hunter2@bucket/key").unwrap_err(),
        S3Url::parse(&format!("s3://{SECRET_KEY}@bucket/key")).unwrap_err(),
        S3Settings::from_env(endpoint_env("http://minio:hunter2@localhost:9000")).unwrap_err(),
        S3Settings::from_env(endpoint_env("http://minio:hunter2@[::1")).unwrap_err(),
        resolve(&s3_url, &settings_with("http://minio:hunter2@localhost")).unwrap_err(),
        sign_headers(
            &Method::GET,
            &Url::parse("https://AKID:hunter2@bucket.example/key").unwrap(),
            &HeaderMap::new(),
            Payload::Unsigned,
            &credentials,
            "us-east-1",
            unix(0),
        )
        .unwrap_err(),
        sign_headers(
            &Method::GET,
            &https,
            &secret_header,
            Payload::Unsigned,
            &credentials,
            "us-east-1",
            unix(0),
        )
        .unwrap_err(),
        presign(
            &Method::GET,
            &https,
            &credentials,
            "us-east-1",
            unix(0),
            Duration::from_hours(30 * 24),
        )
        .unwrap_err(),
    ];
    for error in &errors {
        assert_clean("an error", &format!("{error} {error:?}"));
    }
    insta::assert_snapshot!(
        errors[6],
        @"cannot sign the S3 request for `https://bucket.example/key`: the value of the `x-secret` header is not visible ASCII"
    );
}
