//! No message about bad input quotes a value of the file.

use auth_store_file::FileStore;

use crate::{temp_file, with_logs};

/// The unknown entries of a file holding `value` under a good key, and the logs of a lookup.
fn check(value: &str) -> String {
    let (_dir, path) = temp_file(Some(&format!(r#"{{"example.org": {value}}}"#)));
    let (unknown, logs) = with_logs(|| {
        let store = FileStore::open(&path).unwrap();
        crate::lookup(&store, "https://example.org/");
        store.unknown_entries()
    });
    let text = unknown
        .iter()
        .map(|entry| format!("{}: {}", entry.key, entry.reason))
        .collect::<Vec<_>>()
        .join("\n");
    for shown in [&text, &logs] {
        assert!(!shown.contains("SECRETZZ"), "{shown}");
    }
    text
}

// Regression: serde's message for a bare string quoted it (``unknown variant `SECRET` ``).
#[test]
fn values_not_understood_are_described_by_shape() {
    let cases = [
        r#""SECRETZZ123""#,
        r#"["SECRETZZ1", 2]"#,
        r#"{"SECRETZZ2": "x"}"#,
        r#"{"Kerberos": "SECRETZZ3"}"#,
        r#"{"BearerToken": {"token": "SECRETZZ4"}}"#,
        r#"{"BasicHTTP": "SECRETZZ5"}"#,
        r#"{"BasicHTTP": {"username": "SECRETZZ6", "password": 7}}"#,
        r#"{"BearerToken": "SECRETZZ7", "extra": "SECRETZZ8"}"#,
    ];
    let out: Vec<String> = cases.iter().map(|value| check(value)).collect();
    insta::assert_snapshot!(out.join("\n"), @r"
    example.org: the credential is not understood: a string where an object naming the credential kind (BearerToken, BasicHTTP, CondaToken, S3Credentials, OAuth) was expected
    example.org: the credential is not understood: an array where an object naming the credential kind (BearerToken, BasicHTTP, CondaToken, S3Credentials, OAuth) was expected
    example.org: the credential is not understood: an unknown credential kind (expected one of BearerToken, BasicHTTP, CondaToken, S3Credentials, OAuth)
    example.org: the credential is not understood: an unknown credential kind (expected one of BearerToken, BasicHTTP, CondaToken, S3Credentials, OAuth)
    example.org: the credential is not understood: `BearerToken` holds an object where a string was expected
    example.org: the credential is not understood: `BasicHTTP` holds a string where an object was expected
    example.org: the credential is not understood: the field `password` of `BasicHTTP` is a number where a string was expected
    example.org: the credential is not understood: an object with 2 fields where one naming the credential kind (BearerToken, BasicHTTP, CondaToken, S3Credentials, OAuth) was expected
    ");
}

// A key's user information may be a password: entries not understood show the key redacted.
#[test]
fn keys_not_understood_are_shown_redacted() {
    let text = r#"{"https://user:SECRETZZ9@example.org:99999": {"BearerToken": "t"}}"#;
    let (_dir, path) = temp_file(Some(text));
    let store = FileStore::open(&path).unwrap();
    let unknown = store.unknown_entries();
    let shown = format!("{}: {}", unknown[0].key, unknown[0].reason);
    assert!(!shown.contains("SECRETZZ"), "{shown}");
    insta::assert_snapshot!(shown, @"https://****@example.org:99999: the key is not understood: `99999` is not a valid port");
}
