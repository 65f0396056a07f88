//! Where credentials must not go: across a redirect to another origin, over plain http, to a
//! look-alike host. Real nginx servers record every `Authorization` header and path they get.

use auth_tests::peers::Nginx;
use auth_tests::{Run, Sandbox};

const SECRET: &str = "tk-redirect-secret-12";

/// `auth fetch` at the loudest verbosity; nothing it prints may hold the secret.
fn fetch(sandbox: &Sandbox, url: &str, extra: &[&str]) -> Run {
    let mut args = vec!["fetch", url, "-vvv"];
    args.extend_from_slice(extra);
    let run = sandbox.run(&args);
    assert!(
        !run.all_output().contains(SECRET),
        "the secret leaked into the output:\n{}",
        run.all_output()
    );
    run
}

fn login(sandbox: &Sandbox, key: &str) {
    let run = sandbox.run(&["login", key, "--token", SECRET]);
    assert_eq!(run.code, 0, "{run:?}");
}

/// The server's log holds the token (so the test can fail) ...
fn assert_sent(nginx: &Nginx, server: auth_tests::peers::Server, path: &str) {
    let log = nginx.recorded(server);
    assert!(
        log.lines()
            .any(|line| line.contains(path) && line.contains(&format!("Bearer {SECRET}"))),
        "no credential reached {path}:\n{log}"
    );
}

/// ... and this one saw requests, none with a credential.
fn assert_clean(nginx: &Nginx, server: auth_tests::peers::Server) {
    let log = nginx.recorded(server);
    assert!(!log.trim().is_empty(), "the server saw no request");
    assert!(
        !log.contains(SECRET),
        "a credential reached the server:\n{log}"
    );
    assert!(
        log.lines().all(|line| line.contains("authorization=-")),
        "an Authorization header reached the server:\n{log}"
    );
}

fn port_placeholder(server: auth_tests::peers::Server) -> String {
    server.origin_placeholder().replace("origin", "port")
}

#[test]
fn a_redirect_to_another_port_carries_no_credential() {
    let mut builder = Nginx::builder();
    let other = builder.recorder(&[]);
    let target = format!("{}/landing", other.origin_placeholder());
    let first = builder.recorder(&[("/start", &target)]);
    let nginx = builder.start();
    let sandbox = Sandbox::new();
    // The key names the first server's port, so the second has no credential of its own.
    login(&sandbox, &format!("127.0.0.1:{}", nginx.port(first)));

    let run = fetch(&sandbox, &nginx.url(first, "/start"), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "recorded /landing\n");
    assert_sent(&nginx, first, "/start");
    assert_clean(&nginx, other);
}

#[test]
fn a_redirect_to_another_host_asks_the_store_for_that_host() {
    let mut builder = Nginx::builder();
    let mirror = builder.recorder(&[]);
    let target = format!("http://mirror.test:{}/landing", port_placeholder(mirror));
    let registry = builder.recorder(&[("/start", &target)]);
    let nginx = builder.start();
    let sandbox = Sandbox::new();
    // Plain http allowed explicitly, so only the host decides.
    login(&sandbox, "http://registry.test");
    let url = format!("http://registry.test:{}/start", nginx.port(registry));
    let resolve = [
        "--resolve",
        "registry.test:80:127.0.0.1",
        "--resolve",
        "mirror.test:80:127.0.0.1",
    ];

    let run = fetch(&sandbox, &url, &resolve);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "recorded /landing\n");
    assert_sent(&nginx, registry, "/start");
    assert_clean(&nginx, mirror);

    // With a credential of its own, the mirror gets that one.
    let mirror_token = "tk-mirror-13";
    sandbox.run(&["login", "http://mirror.test", "--token", mirror_token]);
    let run = fetch(&sandbox, &url, &resolve);
    assert_eq!(run.code, 0, "{run:?}");
    let log = nginx.recorded(mirror);
    assert!(log.contains(&format!("Bearer {mirror_token}")), "{log}");
    assert!(!log.contains(SECRET), "{log}");
}

#[test]
fn a_redirect_from_https_to_plain_http_carries_no_credential() {
    let mut builder = Nginx::builder();
    let plain = builder.recorder(&[]);
    let target = format!("http://registry.test:{}/landing", port_placeholder(plain));
    let secure = builder.recorder(&[("/start", &target)]);
    builder.tls(secure);
    let nginx = builder.start();
    let mut sandbox = Sandbox::new();
    sandbox.env("SSL_CERT_FILE", nginx.ca_cert());
    // No scheme in the key: https, and plain http only on loopback names.
    login(&sandbox, "registry.test");
    let url = format!("https://registry.test:{}/start", nginx.port(secure));

    let run = fetch(
        &sandbox,
        &url,
        &["--resolve", "registry.test:443:127.0.0.1"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "recorded /landing\n");
    assert_sent(&nginx, secure, "/start");
    assert_clean(&nginx, plain);
    assert!(
        run.stderr.contains("over plain http"),
        "no warning about plain http:\n{}",
        run.stderr
    );
}

#[test]
fn plain_http_gets_no_credential_unless_the_key_names_http() {
    let mut builder = Nginx::builder();
    let server = builder.recorder(&[]);
    let nginx = builder.start();
    let sandbox = Sandbox::new();
    login(&sandbox, "registry.test");
    let url = format!("http://registry.test:{}/simple/", nginx.port(server));
    let resolve = ["--resolve", "registry.test:80:127.0.0.1"];

    let run = fetch(&sandbox, &url, &resolve);
    assert_eq!(run.code, 0, "{run:?}");
    assert_clean(&nginx, server);
    let warnings = run.stderr.matches("over plain http").count();
    assert_eq!(warnings, 1, "{}", run.stderr);

    // Naming http:// in the key is the explicit opt-in.
    login(
        &sandbox,
        &format!("http://registry.test:{}", nginx.port(server)),
    );
    let run = fetch(&sandbox, &url, &resolve);
    assert_eq!(run.code, 0, "{run:?}");
    assert_sent(&nginx, server, "/simple/");
}

#[test]
fn look_alike_hosts_get_no_credential() {
    let mut builder = Nginx::builder();
    let real = builder.recorder(&[]);
    let fake = builder.recorder(&[]);
    let nginx = builder.start();
    let sandbox = Sandbox::new();
    // prefix.dev and its subdomains, plain http allowed so only the name decides.
    login(&sandbox, "http://*.prefix.dev");

    let resolve_all = [
        "--resolve",
        "repo.prefix.dev:80:127.0.0.1",
        "--resolve",
        "prefix.dev.evil.test:80:127.0.0.1",
        "--resolve",
        "xprefix.dev:80:127.0.0.1",
        "--resolve",
        "evil-prefix.dev:80:127.0.0.1",
    ];
    let run = fetch(
        &sandbox,
        &format!("http://repo.prefix.dev:{}/ok", nginx.port(real)),
        &resolve_all,
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_sent(&nginx, real, "/ok");

    for host in ["prefix.dev.evil.test", "xprefix.dev", "evil-prefix.dev"] {
        let url = format!("http://{host}:{}/{host}", nginx.port(fake));
        let run = fetch(&sandbox, &url, &resolve_all);
        assert_eq!(run.code, 0, "{host}: {run:?}");
    }
    assert_clean(&nginx, fake);
}
