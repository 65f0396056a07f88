//! The real peers themselves, without our `auth` binary: what they accept and what they refuse.
//! These are the ground truth the other end-to-end tests build on.

use auth_tests::Sandbox;
use auth_tests::peers::{Nginx, PyKeyring, S3, http_get, https_get, write_files};
use base64::Engine as _;

const USER: &str = "alice";
/// A password with the characters that break naive `user:password@host` handling.
const PASSWORD: &str = "p:ss@w0rd word";
const TOKEN: &str = "tk-4f1c9e";

fn basic(user: &str, password: &str) -> String {
    let pair = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

#[test]
fn nginx_basic_demands_the_right_user_and_password() {
    let mut builder = Nginx::builder();
    let root = write_files(&builder.dir().join("www"), &[("pkg/file.bin", b"payload")]);
    let server = builder.basic(USER, PASSWORD, &root);
    let nginx = builder.start();
    let url = nginx.url(server, "pkg/file.bin");

    let anonymous = http_get(&url, &[]);
    assert_eq!(anonymous.status, 401, "{anonymous:?}");
    assert_eq!(
        anonymous.header("www-authenticate"),
        Some(r#"Basic realm="auth-tests""#)
    );
    let wrong = http_get(&url, &[("Authorization", &basic(USER, "p:ss@w0rd"))]);
    assert_eq!(wrong.status, 401, "{wrong:?}");
    let other_user = http_get(&url, &[("Authorization", &basic("bob", PASSWORD))]);
    assert_eq!(other_user.status, 401, "{other_user:?}");

    let right = http_get(&url, &[("Authorization", &basic(USER, PASSWORD))]);
    assert_eq!((right.status, right.text().as_str()), (200, "payload"));
}

#[test]
fn nginx_bearer_demands_the_token() {
    let mut builder = Nginx::builder();
    let root = write_files(
        &builder.dir().join("www"),
        &[("simple/index.html", b"<html/>")],
    );
    let server = builder.bearer(TOKEN, &root);
    let nginx = builder.start();
    let url = nginx.url(server, "/simple/index.html");

    let anonymous = http_get(&url, &[]);
    assert_eq!(anonymous.status, 401, "{anonymous:?}");
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
    for wrong in [
        "Bearer tk-wrong".to_owned(),
        format!("Bearer {TOKEN}x"),
        format!("Token {TOKEN}"),
        basic("token", TOKEN),
    ] {
        let response = http_get(&url, &[("Authorization", &wrong)]);
        assert_eq!(response.status, 401, "{wrong}: {response:?}");
    }

    let right = http_get(&url, &[("Authorization", &format!("Bearer {TOKEN}"))]);
    assert_eq!((right.status, right.text().as_str()), (200, "<html/>"));
}

#[test]
fn nginx_conda_channel_is_served_only_under_the_token_path() {
    let mut builder = Nginx::builder();
    let root = write_files(
        &builder.dir().join("channel"),
        &[("noarch/repodata.json", b"{}")],
    );
    let server = builder.conda_token(TOKEN, &root);
    let nginx = builder.start();

    let right = http_get(
        &nginx.url(server, &format!("t/{TOKEN}/noarch/repodata.json")),
        &[],
    );
    assert_eq!((right.status, right.text().as_str()), (200, "{}"));
    let wrong = http_get(&nginx.url(server, "t/tk-wrong/noarch/repodata.json"), &[]);
    assert_eq!(wrong.status, 401, "{wrong:?}");
    let missing = http_get(&nginx.url(server, "noarch/repodata.json"), &[]);
    assert_eq!(missing.status, 403, "{missing:?}");
    let missing_file = http_get(
        &nginx.url(server, &format!("t/{TOKEN}/noarch/other.json")),
        &[],
    );
    assert_eq!(missing_file.status, 404, "{missing_file:?}");
}

#[test]
fn nginx_recorder_logs_the_credentials_that_reach_it_and_redirects() {
    let mut builder = Nginx::builder();
    let target = builder.recorder(&[]);
    let redirect_to = format!("{}/landed", target.origin_placeholder());
    let origin = builder.recorder(&[("/moved", &redirect_to)]);
    let nginx = builder.start();
    assert_ne!(nginx.port(origin), nginx.port(target));

    let moved = http_get(
        &nginx.url(origin, "/moved?x=1"),
        &[
            ("Authorization", "Bearer secret-1"),
            ("Cookie", "session=abc"),
            ("X-Amz-Security-Token", "session-token"),
        ],
    );
    assert_eq!(moved.status, 302, "{moved:?}");
    assert_eq!(
        moved.header("location"),
        Some(nginx.url(target, "landed").as_str())
    );
    let landed = http_get(&nginx.url(target, "landed"), &[]);
    assert_eq!(
        (landed.status, landed.text().as_str()),
        (200, "recorded /landed\n")
    );

    assert_eq!(
        nginx.recorded(origin),
        "GET\t/moved?x=1\t302\tauthorization=Bearer secret-1\t\
         x-amz-security-token=session-token\tcookie=session=abc\n"
    );
    assert_eq!(
        nginx.recorded(target),
        "GET\t/landed\t200\tauthorization=-\tx-amz-security-token=-\tcookie=-\n"
    );
}

#[test]
fn nginx_serves_several_servers_with_http_snippets_and_placeholders() {
    let mut builder = Nginx::builder();
    builder
        .http("map $http_x_test $peers_test_echo {\n    default \"none\";\n    yes \"mapped\";\n}");
    let first = builder.server("location / {\n    return 200 \"port {port} $peers_test_echo\";\n}");
    let second = builder.server(&format!(
        "location / {{\n    return 200 \"{}\";\n}}",
        first.origin_placeholder()
    ));
    let nginx = builder.start();

    let answer = http_get(&nginx.url(first, "/"), &[("X-Test", "yes")]);
    assert_eq!(answer.text(), format!("port {} mapped", nginx.port(first)));
    assert_eq!(
        http_get(&nginx.url(second, "/"), &[]).text(),
        nginx.origin(first)
    );
}

#[test]
fn nginx_tls_server_is_trusted_with_its_ca_and_can_redirect_to_plain_http() {
    let mut builder = Nginx::builder();
    let plain = builder.recorder(&[]);
    let redirect_to = format!("{}/file", plain.origin_placeholder());
    let secure = builder.recorder(&[("/to-plain", &redirect_to)]);
    builder.tls(secure);
    let nginx = builder.start();
    assert!(nginx.url(secure, "/").starts_with("https://127.0.0.1:"));

    let answer = https_get(
        &nginx.url(secure, "hello"),
        nginx.ca_cert(),
        &[("Authorization", "Bearer over-tls")],
    );
    assert_eq!(
        (answer.status, answer.text().as_str()),
        (200, "recorded /hello\n")
    );
    let redirect = https_get(&nginx.url(secure, "to-plain"), nginx.ca_cert(), &[]);
    assert_eq!(redirect.status, 302);
    assert_eq!(
        redirect.header("location"),
        Some(nginx.url(plain, "file").as_str())
    );
    assert!(
        nginx
            .recorded(secure)
            .starts_with("GET\t/hello\t200\tauthorization=Bearer over-tls\t"),
        "{}",
        nginx.recorded(secure)
    );
}

#[test]
fn s3_refuses_unsigned_requests() {
    let s3 = S3::start("AKIDTESTS", "secret/key+1");
    s3.create_bucket("bucket");
    s3.put_file("bucket", "dir/object.bin", b"object");
    assert_eq!(
        s3.read_file("bucket", "dir/object.bin").as_deref(),
        Some(&b"object"[..])
    );
    assert_eq!(s3.read_file("bucket", "missing"), None);

    let unsigned = http_get(&format!("{}/bucket/dir/object.bin", s3.endpoint()), &[]);
    assert_eq!(unsigned.status, 403, "{unsigned:?}");
    assert!(
        unsigned.text().contains("AccessDenied"),
        "{}",
        unsigned.text()
    );
    let forged = http_get(
        &format!("{}/bucket/dir/object.bin", s3.endpoint()),
        &[
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDTESTS/20260101/us-east-1/s3/aws4_request, \
                 SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=00",
            ),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            ("x-amz-date", "20260101T000000Z"),
        ],
    );
    assert_eq!(forged.status, 403, "{forged:?}");
}

#[test]
fn s3_stops_when_dropped() {
    let s3 = S3::start("AKIDTESTS", "secret");
    let port = s3.port();
    drop(s3);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn python_keyring_round_trips_a_password() {
    let sandbox = Sandbox::new();
    let keyring = PyKeyring::new(sandbox.home());
    let service = "https://alice@pypi.example.org/simple/";
    assert_eq!(keyring.get(service, USER), None);
    keyring.set(service, USER, PASSWORD);
    assert_eq!(keyring.get(service, USER).as_deref(), Some(PASSWORD));
    assert!(keyring.bin_dir().join("keyring").is_file());

    // Another handle on the same HOME sees the same store, as `auth`'s subprocess will.
    assert_eq!(
        PyKeyring::new(sandbox.home()).get(service, USER).as_deref(),
        Some(PASSWORD)
    );
    assert_eq!(
        PyKeyring::new(Sandbox::new().home()).get(service, USER),
        None
    );
}

#[test]
fn sandbox_passes_a_peer_environment_to_auth() {
    let mut sandbox = Sandbox::new();
    let keyring = PyKeyring::new(sandbox.home());
    for (key, value) in keyring.env() {
        sandbox.env(key, value);
    }
    sandbox.prepend_path("/opt/first");
    let command = sandbox.command(&["status"]);
    let env: Vec<(String, String)> = command
        .get_envs()
        .filter_map(|(key, value)| {
            Some((
                key.to_string_lossy().into_owned(),
                value?.to_string_lossy().into_owned(),
            ))
        })
        .collect();
    let get = |name: &str| {
        env.iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    assert_eq!(
        get("PYTHON_KEYRING_BACKEND").as_deref(),
        Some("keyrings.alt.file.PlaintextKeyring")
    );
    // The peer's PATH replaces the sandbox's: its own directory first.
    let path = get("PATH").expect("a PATH");
    assert!(
        path.starts_with(&keyring.bin_dir().display().to_string()),
        "{path}"
    );
}
