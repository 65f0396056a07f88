//! `S3Settings::from_env`, `S3Settings::or` and the credential constructors.

use std::collections::HashMap;

use auth_core::{Authentication, Secret};
use auth_s3::{S3Settings, credentials_from_auth, credentials_from_env};
use url::Url;

/// An environment lookup over `vars`.
fn env<'a>(vars: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'a {
    let vars: HashMap<&str, &str> = vars.iter().copied().collect();
    move |name| vars.get(name).map(|value| (*value).to_owned())
}

#[test]
fn empty_environment_gives_the_defaults() {
    let settings = S3Settings::from_env(env(&[])).unwrap();
    assert_eq!(settings, S3Settings::default());
    assert_eq!(settings.region(), "us-east-1");
}

#[test]
fn region_precedence_and_empties() {
    let region = |vars: &[(&str, &str)]| S3Settings::from_env(env(vars)).unwrap().region;
    let both = [
        ("AWS_REGION", "eu-west-1"),
        ("AWS_DEFAULT_REGION", "us-west-2"),
    ];
    assert_eq!(region(&both).as_deref(), Some("eu-west-1"));
    assert_eq!(
        region(&[("AWS_DEFAULT_REGION", "us-west-2")]).as_deref(),
        Some("us-west-2")
    );
    let empty_first = [("AWS_REGION", ""), ("AWS_DEFAULT_REGION", "us-west-2")];
    assert_eq!(region(&empty_first).as_deref(), Some("us-west-2"));
    assert_eq!(
        region(&[("AWS_REGION", ""), ("AWS_DEFAULT_REGION", "")]),
        None
    );
}

#[test]
fn endpoint_precedence_and_empties() {
    let endpoint = |vars: &[(&str, &str)]| {
        S3Settings::from_env(env(vars))
            .unwrap()
            .endpoint
            .map(String::from)
    };
    assert_eq!(
        endpoint(&[("AWS_ENDPOINT_URL", "http://localhost:9000")]).as_deref(),
        Some("http://localhost:9000/")
    );
    let both = [
        ("AWS_ENDPOINT_URL_S3", "http://s3.internal:9000"),
        ("AWS_ENDPOINT_URL", "http://localhost:9000"),
    ];
    assert_eq!(endpoint(&both).as_deref(), Some("http://s3.internal:9000/"));
    let empty_first = [
        ("AWS_ENDPOINT_URL_S3", ""),
        ("AWS_ENDPOINT_URL", "http://localhost:9000"),
    ];
    assert_eq!(
        endpoint(&empty_first).as_deref(),
        Some("http://localhost:9000/")
    );
    assert_eq!(endpoint(&[("AWS_ENDPOINT_URL", "")]), None);
}

#[test]
fn invalid_endpoint_names_the_variable_and_hides_the_password() {
    let error = |vars: &[(&str, &str)]| S3Settings::from_env(env(vars)).unwrap_err().to_string();
    insta::assert_snapshot!(
        error(&[("AWS_ENDPOINT_URL", "localhost:9000")]),
        @"the S3 endpoint from AWS_ENDPOINT_URL (`localhost:9000`) is invalid: an endpoint is an http:// or https:// URL with a host"
    );
    insta::assert_snapshot!(
        error(&[("AWS_ENDPOINT_URL", "not a url")]),
        @"the S3 endpoint from AWS_ENDPOINT_URL (`not a url`) is invalid: relative URL without a base"
    );
    insta::assert_snapshot!(
        error(&[("AWS_ENDPOINT_URL_S3", "http://minio:hunter2@localhost:9000")]),
        @"the S3 endpoint from AWS_ENDPOINT_URL_S3 (`http://****@localhost:9000/`) is invalid: an endpoint carries no user name or password; store the credentials with `auth login`"
    );
    // Unparsable, and still redacted.
    insta::assert_snapshot!(
        error(&[("AWS_ENDPOINT_URL", "http://minio:hunter2@[::1")]),
        @"the S3 endpoint from AWS_ENDPOINT_URL (`http://****@[::1`) is invalid: invalid IPv6 address"
    );
}

#[test]
fn or_fills_only_unset_fields() {
    let config = S3Settings {
        region: Some("eu-west-1".to_owned()),
        ..S3Settings::default()
    };
    let from_env = S3Settings {
        region: Some("us-west-2".to_owned()),
        endpoint: Some(Url::parse("http://localhost:9000").unwrap()),
        force_path_style: true,
    };
    assert_eq!(
        config.clone().or(&from_env),
        S3Settings {
            region: Some("eu-west-1".to_owned()),
            ..from_env.clone()
        }
    );
    assert_eq!(S3Settings::default().or(&from_env), from_env);
    assert_eq!(config.clone().or(&S3Settings::default()), config);
}

#[test]
fn credentials_from_the_environment() {
    let full = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI"),
        ("AWS_SESSION_TOKEN", "token123"),
    ];
    let credentials = credentials_from_env(env(&full)).unwrap();
    assert_eq!(credentials.access_key_id(), "AKIDEXAMPLE");
    assert_eq!(credentials.secret_access_key(), "wJalrXUtnFEMI");
    assert_eq!(credentials.session_token(), Some("token123"));

    let keys_only = &full[..2];
    assert_eq!(
        credentials_from_env(env(keys_only))
            .unwrap()
            .session_token(),
        None
    );
    let empty_token = [full[0], full[1], ("AWS_SESSION_TOKEN", "")];
    assert_eq!(
        credentials_from_env(env(&empty_token))
            .unwrap()
            .session_token(),
        None
    );

    assert!(credentials_from_env(env(&[full[0]])).is_none());
    assert!(credentials_from_env(env(&[full[1], full[2]])).is_none());
    assert!(credentials_from_env(env(&[("AWS_ACCESS_KEY_ID", ""), full[1]])).is_none());
    assert!(credentials_from_env(env(&[full[0], ("AWS_SECRET_ACCESS_KEY", "")])).is_none());
}

#[test]
fn credentials_from_a_stored_authentication() {
    let stored = Authentication::S3Credentials {
        access_key_id: "AKIDEXAMPLE".to_owned(),
        secret_access_key: Secret::from("wJalrXUtnFEMI"),
        session_token: Some(Secret::from("token123")),
    };
    let credentials = credentials_from_auth(&stored).unwrap();
    assert_eq!(credentials.access_key_id(), "AKIDEXAMPLE");
    assert_eq!(credentials.secret_access_key(), "wJalrXUtnFEMI");
    assert_eq!(credentials.session_token(), Some("token123"));

    let without_token = Authentication::S3Credentials {
        access_key_id: "AKIDEXAMPLE".to_owned(),
        secret_access_key: Secret::from("wJalrXUtnFEMI"),
        session_token: None,
    };
    assert_eq!(
        credentials_from_auth(&without_token)
            .unwrap()
            .session_token(),
        None
    );

    assert!(credentials_from_auth(&Authentication::BearerToken(Secret::from("t"))).is_none());
}
