//! `auth token URL` prints exactly what `auth fetch URL` sends, or says why it would send
//! nothing: the red team's `token http://example.com/` printed the `*.example.com` token that a
//! download withheld, and `token s3://example.com/key` a bearer token that a download refused.

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;

use auth_tests::Sandbox;
use auth_tests::peers::Nginx;
use base64::Engine as _;

const FILE: &str = r#"{
  "*.example.test": {"BearerToken": "tok-wildcard-31"},
  "http://plain.example.test": {"BearerToken": "tok-opted-in-32"},
  "conda.example.test": {"CondaToken": "tok-conda-33"},
  "basic.example.test": {"BasicHTTP": {"username": "u", "password": "pw-basic-34"}},
  "127.0.0.1/bearer": {"BearerToken": "tok-loopback-35"},
  "127.0.0.1/conda": {"CondaToken": "tok-loopback-conda-36"}
}"#;

const NETRC: &str = "\
machine netrc.example.net login n password pw-netrc-37
default login d password pw-default-38
";

/// What reached the server for `path`: the secret of a Bearer or Basic header or a `/t/` path.
fn sent(log: &str, path: &str, secrets: &[(&str, &str)]) -> Option<String> {
    let line = log
        .lines()
        .find(|line| line.contains(path))
        .unwrap_or_else(|| panic!("no request for {path} reached the server:\n{log}"));
    secrets.iter().find_map(|(user, secret)| {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
        (line.contains(secret) || line.contains(&basic)).then(|| (*secret).to_owned())
    })
}

fn write_file(sandbox: &Sandbox) {
    let path = sandbox.default_file();
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, FILE).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn token_prints_exactly_what_a_download_sends() {
    let mut builder = Nginx::builder();
    let server = builder.recorder(&[]);
    let nginx = builder.start();
    let port = nginx.port(server);
    let sandbox = Sandbox::new();
    write_file(&sandbox);
    fs::write(sandbox.home().join(".netrc"), NETRC).unwrap();
    let secrets = [
        ("", "tok-wildcard-31"),
        ("", "tok-opted-in-32"),
        ("", "tok-conda-33"),
        ("u", "pw-basic-34"),
        ("", "tok-loopback-35"),
        ("", "tok-loopback-conda-36"),
        ("n", "pw-netrc-37"),
        ("d", "pw-default-38"),
        ("bob", "url-pw-39"),
    ];

    let hosts = [
        "repo.example.test",
        "plain.example.test",
        "conda.example.test",
        "basic.example.test",
        "netrc.example.net",
        "anywhere.example.org",
        "127.0.0.1",
        "localhost",
    ];
    let mut table = String::new();
    for (i, host) in hosts.iter().enumerate() {
        for prefix in ["/bearer", "/conda", "/other"] {
            let path = format!("{prefix}/case-{i}");
            let url = format!("http://{host}:{port}{path}");
            let token = sandbox.run(&["token", &url]);
            let resolve = format!("{host}:{port}:127.0.0.1");
            let fetch = sandbox.run(&["fetch", &url, "--resolve", &resolve]);
            assert_eq!(fetch.code, 0, "{}", sandbox.show(&fetch));
            let got = sent(&nginx.recorded(server), &path, &secrets);
            let printed = (token.code == 0).then(|| token.stdout.trim_end().to_owned());
            assert_eq!(
                printed,
                got,
                "token and fetch disagree on {url}:\n{}",
                sandbox.show(&token)
            );
            if printed.is_none() {
                assert_eq!(token.code, 4, "{}", sandbox.show(&token));
            }
            writeln!(
                table,
                "{:<40} {}",
                url.replace(&port.to_string(), "PORT"),
                printed.as_deref().unwrap_or("-")
            )
            .unwrap();
        }
    }
    // A URL's own user information wins over everything stored, for both.
    let url = format!("http://bob:url-pw-39@127.0.0.1:{port}/bearer/in-url");
    let token = sandbox.run(&["token", &url]);
    let fetch = sandbox.run(&["fetch", &url]);
    assert_eq!(fetch.code, 0, "{}", sandbox.show(&fetch));
    assert_eq!(token.stdout, "url-pw-39\n", "{}", sandbox.show(&token));
    let got = sent(&nginx.recorded(server), "/bearer/in-url", &secrets);
    assert_eq!(got.as_deref(), Some("url-pw-39"));

    // The table pins which URLs get a credential at all, so agreement on "nothing" everywhere
    // cannot pass.
    insta::assert_snapshot!(table, @r"
    http://repo.example.test:PORT/bearer/case-0 -
    http://repo.example.test:PORT/conda/case-0 -
    http://repo.example.test:PORT/other/case-0 -
    http://plain.example.test:PORT/bearer/case-1 tok-opted-in-32
    http://plain.example.test:PORT/conda/case-1 tok-opted-in-32
    http://plain.example.test:PORT/other/case-1 tok-opted-in-32
    http://conda.example.test:PORT/bearer/case-2 -
    http://conda.example.test:PORT/conda/case-2 -
    http://conda.example.test:PORT/other/case-2 -
    http://basic.example.test:PORT/bearer/case-3 -
    http://basic.example.test:PORT/conda/case-3 -
    http://basic.example.test:PORT/other/case-3 -
    http://netrc.example.net:PORT/bearer/case-4 -
    http://netrc.example.net:PORT/conda/case-4 -
    http://netrc.example.net:PORT/other/case-4 -
    http://anywhere.example.org:PORT/bearer/case-5 -
    http://anywhere.example.org:PORT/conda/case-5 -
    http://anywhere.example.org:PORT/other/case-5 -
    http://127.0.0.1:PORT/bearer/case-6      tok-loopback-35
    http://127.0.0.1:PORT/conda/case-6       tok-loopback-conda-36
    http://127.0.0.1:PORT/other/case-6       pw-default-38
    http://localhost:PORT/bearer/case-7      pw-default-38
    http://localhost:PORT/conda/case-7       pw-default-38
    http://localhost:PORT/other/case-7       pw-default-38
    ");
}

#[test]
fn token_says_why_a_download_would_send_nothing() {
    let sandbox = Sandbox::new();
    write_file(&sandbox);
    let mut out = String::new();
    for url in ["http://repo.example.test/x", "s3://example.test/key"] {
        let run = sandbox.run(&["token", url]);
        assert_eq!(run.code, 4, "{}", sandbox.show(&run));
        assert!(run.stdout.is_empty(), "{}", sandbox.show(&run));
        out.push_str(&run.stderr);
    }
    insta::assert_snapshot!(out, @r"
    error: a download of http://repo.example.test/x would send no credential: the credential for *.example.test is not sent to repo.example.test over plain http; use https, or log in to `http://repo.example.test` to allow it
    error: a download of s3://example.test/key would send no credential: the credential for *.example.test is a BearerToken, which cannot sign S3 requests; log in to `s3://example.test` with --s3-access-key-id and --s3-secret-access-key
    ");
}
