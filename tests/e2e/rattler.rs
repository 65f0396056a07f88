//! Interop with the published `rattler_networking` crate, the library pixi uses: what `auth`
//! writes rattler reads, and what rattler writes `auth` reads, in the keyring and in the file.
//!
//! Rattler runs as `examples/rattler_peer.rs`, a process of its own with the sandbox's HOME and
//! session bus, because its keyring backend reads the bus address from its own environment.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use auth_tests::{Run, Sandbox};

const BEARER: &str = "rattler-bearer-5e1d";
const PASSWORD: &str = "rattler-password-a9c2";
const S3_SECRET: &str = "rattler-s3-secret-0f4b";
const S3_SESSION: &str = "rattler-s3-session-7d3e";
const CONDA: &str = "rattler-conda-token-62aa";
const ACCESS: &str = "rattler-oauth-access-b81f";
const REFRESH: &str = "rattler-oauth-refresh-4c90";
const SECRETS: [&str; 7] = [
    BEARER, PASSWORD, S3_SECRET, S3_SESSION, CONDA, ACCESS, REFRESH,
];

/// The `rattler_peer` example of this build, rebuilt once per test process so it is never stale.
fn rattler_peer() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| auth_tests::build_artifact("auth-tests", "--example", "rattler_peer"))
}

/// Runs `rattler_peer ARGS` with the sandbox's HOME and session bus.
fn rattler(sandbox: &Sandbox, args: &[&str]) -> Run {
    let peer = rattler_peer().to_str().expect("the target path is UTF-8");
    sandbox.system_tool(peer, args, None)
}

/// Runs `rattler_peer ARGS` and returns its stdout, which must be one line of JSON.
fn rattler_ok(sandbox: &Sandbox, args: &[&str]) -> String {
    let run = rattler(sandbox, args);
    assert_eq!(run.code, 0, "rattler_peer {args:?}: {run:?}");
    run.stdout.trim_end().to_owned()
}

/// Runs `auth ARGS`, which must succeed and, unless it is `auth token`, print no secret.
fn auth_ok(sandbox: &Sandbox, args: &[&str]) -> Run {
    let run = sandbox.run(args);
    assert_eq!(run.code, 0, "auth {args:?}: {run:?}");
    assert_no_secret(args, &run);
    run
}

fn assert_no_secret(args: &[&str], run: &Run) {
    let shown = if args.contains(&"token") {
        // `auth token` prints the secret on stdout by design, and only there.
        run.stderr.clone()
    } else {
        run.all_output()
    };
    for secret in SECRETS {
        assert!(
            !shown.contains(secret),
            "auth {args:?} showed {secret}: {run:?}"
        );
    }
}

fn bearer_json() -> String {
    format!(r#"{{"BearerToken":"{BEARER}"}}"#)
}

fn basic_json() -> String {
    format!(r#"{{"BasicHTTP":{{"username":"alice","password":"{PASSWORD}"}}}}"#)
}

fn s3_json(session_token: Option<&str>) -> String {
    let session = session_token.map_or_else(|| "null".to_owned(), |token| format!(r#""{token}""#));
    format!(
        r#"{{"S3Credentials":{{"access_key_id":"AKIDRATTLER","secret_access_key":"{S3_SECRET}","session_token":{session}}}}}"#
    )
}

fn oauth_json() -> String {
    // Expires in 2100, so nobody tries a refresh.
    format!(
        r#"{{"OAuth":{{"audience":"https://api.example.com","access_token":"{ACCESS}","refresh_token":"{REFRESH}","expires_at":4102444800,"token_endpoint":"https://issuer.example.com/token","revocation_endpoint":"https://issuer.example.com/revoke","client_id":"rattler"}}}}"#
    )
}

#[test]
fn keyring_entries_auth_stores_are_read_by_rattler() {
    let sandbox = Sandbox::with_keyring();
    auth_ok(&sandbox, &["login", "prefix.dev", "--token", BEARER]);
    auth_ok(
        &sandbox,
        &[
            "login",
            "repo.example.com",
            "--username",
            "alice",
            "--password",
            PASSWORD,
        ],
    );
    auth_ok(
        &sandbox,
        &[
            "login",
            "s3://rattler-bucket",
            "--s3-access-key-id",
            "AKIDRATTLER",
            "--s3-secret-access-key",
            S3_SECRET,
            "--s3-session-token",
            S3_SESSION,
        ],
    );
    assert!(
        !sandbox.default_file().exists(),
        "all three went to the keyring"
    );

    assert_eq!(
        rattler_ok(&sandbox, &["keyring-get", "*.prefix.dev"]),
        bearer_json()
    );
    assert_eq!(
        rattler_ok(&sandbox, &["keyring-get", "repo.example.com"]),
        basic_json()
    );
    assert_eq!(
        rattler_ok(&sandbox, &["keyring-get", "s3://rattler-bucket"]),
        s3_json(Some(S3_SESSION))
    );
    // Rattler's own lookup before a download finds them under the keys `auth` chose.
    assert_eq!(
        rattler_ok(
            &sandbox,
            &[
                "keyring-get-url",
                "https://repo.prefix.dev/channel/noarch/repodata.json"
            ]
        ),
        format!(r#"{{"*.prefix.dev":{}}}"#, bearer_json())
    );
    assert_eq!(
        rattler_ok(
            &sandbox,
            &[
                "keyring-get-url",
                "s3://rattler-bucket/channel/noarch/repodata.json"
            ]
        ),
        format!(r#"{{"s3://rattler-bucket":{}}}"#, s3_json(Some(S3_SESSION)))
    );
}

#[test]
fn rattler_lists_the_keyring_entries_auth_stored() {
    let sandbox = Sandbox::with_keyring();
    auth_ok(&sandbox, &["login", "prefix.dev", "--token", BEARER]);
    auth_ok(
        &sandbox,
        &[
            "login",
            "repo.example.com",
            "--username",
            "alice",
            "--password",
            PASSWORD,
        ],
    );
    assert_eq!(
        rattler_ok(&sandbox, &["keyring-list"]),
        format!(
            r#"{{"*.prefix.dev":{},"repo.example.com":{}}}"#,
            bearer_json(),
            basic_json()
        )
    );
    auth_ok(&sandbox, &["logout", "prefix.dev"]);
    assert_eq!(
        rattler_ok(&sandbox, &["keyring-list"]),
        format!(r#"{{"repo.example.com":{}}}"#, basic_json())
    );
}

#[test]
fn keyring_entries_rattler_stores_are_used_listed_and_deleted_by_auth() {
    let sandbox = Sandbox::with_keyring();
    let stored = rattler(
        &sandbox,
        &["keyring-store", "repo.example.com", &basic_json()],
    );
    assert_eq!(stored.code, 0, "{stored:?}");

    let token = sandbox.run(&["token", "https://repo.example.com/x"]);
    assert_eq!(token.code, 0, "{token:?}");
    assert_eq!(token.stdout, format!("{PASSWORD}\n"));
    assert_no_secret(&["token"], &token);

    let status = auth_ok(&sandbox, &["status", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(
        report["entries"],
        serde_json::json!([{
            "expires_at": null,
            "key": "repo.example.com",
            "kind": "BasicHTTP",
            "location": "Secret Service, service `rattler`",
            "scopes": null,
            "shadowed": false,
            "store": "keyring",
            "username": "alice",
            "variables": null,
        }]),
        "{}",
        status.stdout
    );

    auth_ok(&sandbox, &["logout", "repo.example.com"]);
    let gone = rattler(&sandbox, &["keyring-get", "repo.example.com"]);
    assert_eq!(
        gone.code, 4,
        "rattler must find nothing after auth logout: {gone:?}"
    );
    assert_eq!(gone.stdout, "");
}

#[test]
fn a_file_auth_writes_is_read_by_rattlers_file_storage() {
    let sandbox = Sandbox::new();
    let file = sandbox.home().join("shared").join("credentials.json");
    let file_arg = file.to_str().unwrap();
    for login in [
        &["login", "prefix.dev", "--token", BEARER][..],
        &[
            "login",
            "repo.example.com",
            "--username",
            "alice",
            "--password",
            PASSWORD,
        ],
        &[
            "login",
            "s3://rattler-bucket",
            "--s3-access-key-id",
            "AKIDRATTLER",
            "--s3-secret-access-key",
            S3_SECRET,
        ],
        &["login", "conda.anaconda.org", "--conda-token", CONDA],
    ] {
        let args: Vec<&str> = ["--auth-file", file_arg]
            .iter()
            .chain(login)
            .copied()
            .collect();
        auth_ok(&sandbox, &args);
    }

    let get = |key: &str| rattler_ok(&sandbox, &["file-get", file_arg, key]);
    assert_eq!(get("*.prefix.dev"), bearer_json());
    assert_eq!(get("repo.example.com"), basic_json());
    assert_eq!(get("s3://rattler-bucket"), s3_json(None));
    assert_eq!(
        rattler_ok(
            &sandbox,
            &[
                "file-get-url",
                file_arg,
                "https://conda.anaconda.org/channel/noarch/repodata.json"
            ]
        ),
        format!(r#"{{"conda.anaconda.org":{{"CondaToken":"{CONDA}"}}}}"#)
    );
    assert_eq!(
        rattler_ok(
            &sandbox,
            &[
                "file-get-url",
                file_arg,
                "s3://rattler-bucket/channel/repodata.json"
            ]
        ),
        format!(r#"{{"s3://rattler-bucket":{}}}"#, s3_json(None))
    );
}

#[test]
fn a_file_rattler_writes_is_read_and_kept_intact_by_auth() {
    let sandbox = Sandbox::new();
    let file = sandbox.home().join("shared").join("credentials.json");
    let file_arg = file.to_str().unwrap();
    for (key, json) in [
        ("repo.example.com", basic_json()),
        ("oauth.example.com", oauth_json()),
        ("s3://rattler-bucket", s3_json(None)),
    ] {
        let stored = rattler(&sandbox, &["file-store", file_arg, key, &json]);
        assert_eq!(stored.code, 0, "{stored:?}");
    }

    // Through RATTLER_AUTH_FILE, as pixi users set it.
    let auth = |args: &[&str]| {
        let mut command = sandbox.command(args);
        command.env("RATTLER_AUTH_FILE", &file);
        let run = sandbox.run_command(command, None);
        assert_eq!(run.code, 0, "auth {args:?}: {run:?}");
        assert!(!run.stderr.contains("warning"), "{}", run.stderr);
        assert_no_secret(args, &run);
        run
    };
    assert_eq!(
        auth(&["token", "https://repo.example.com/simple/"]).stdout,
        format!("{PASSWORD}\n")
    );
    assert_eq!(
        auth(&["token", "https://oauth.example.com/channel/"]).stdout,
        format!("{ACCESS}\n")
    );
    assert_eq!(
        auth(&["token", "s3://rattler-bucket/channel/"]).stdout,
        format!("{S3_SECRET}\n")
    );
    let status = auth(&["status", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let rows: Vec<(&str, &str, &serde_json::Value)> = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["key"].as_str().unwrap(),
                row["kind"].as_str().unwrap(),
                &row["expires_at"],
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "oauth.example.com",
                "OAuth",
                &serde_json::json!(4_102_444_800_i64)
            ),
            ("repo.example.com", "BasicHTTP", &serde_json::Value::Null),
            (
                "s3://rattler-bucket",
                "S3Credentials",
                &serde_json::Value::Null
            ),
        ],
        "{}",
        status.stdout
    );

    // When `auth` rewrites the file, rattler's entries survive field for field, `audience` too.
    auth(&["login", "prefix.dev", "--token", BEARER]);
    auth(&["logout", "repo.example.com"]);
    let get = |key: &str| rattler(&sandbox, &["file-get", file_arg, key]);
    assert_eq!(get("oauth.example.com").stdout.trim_end(), oauth_json());
    assert_eq!(get("s3://rattler-bucket").stdout.trim_end(), s3_json(None));
    assert_eq!(get("*.prefix.dev").stdout.trim_end(), bearer_json());
    assert_eq!(get("repo.example.com").code, 4, "auth logout removed it");
}

// Regression: rattler's own `login s3://my-bucket` stores the bare key `my-bucket`, which `auth`
// did not match for `s3://` URLs, so S3 logins made with pixi were invisible to `auth`.
#[test]
fn an_s3_login_rattler_stored_under_the_bare_bucket_is_found() {
    let sandbox = Sandbox::new();
    let file = sandbox.home().join("rattler.json");
    fs::write(
        &file,
        r#"{"my-bucket": {"S3Credentials": {"access_key_id": "AK", "secret_access_key": "bare-bucket-sk", "session_token": null}}}"#,
    )
    .unwrap();
    let run = sandbox.run(&[
        "token",
        "s3://my-bucket/linux-64/repodata.json",
        "--auth-file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(run.stdout, "bare-bucket-sk\n", "{run:?}");
}
