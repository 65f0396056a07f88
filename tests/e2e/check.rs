//! `auth login --check`, `auth status --check` and `auth status HOST`, against the real peers:
//! nginx (a Bearer location checked through `--check-url`, and a static GraphQL answer in
//! prefix.dev's shape, since prefix.dev itself cannot be reached from CI), oidc-provider (its
//! userinfo names the account) and s3s-fs (a signed `HEAD` of the bucket). Each outcome once:
//! accepted, rejected (the entry stays), unreachable (a closed port), no request known. Every
//! check runs at `-vvvv` and no token shows up in its output.

use std::net::TcpListener;

use auth_tests::peers::{Nginx, Oidc, OidcOptions, S3, Server, write_files};
use auth_tests::{Run, Sandbox};

use crate::leaks::forms_for;

const TOKEN: &str = "tk-check-right-21";
const WRONG: &str = "tk-check-wrong-22";
const ACCESS_KEY: &str = "AKIDCHECK0001";
const SECRET_KEY: &str = "ch3ck/secret+key=23";
const WRONG_SECRET: &str = "wr0ng/secret+key=24";
const SECRETS: [&str; 4] = [TOKEN, WRONG, SECRET_KEY, WRONG_SECRET];

/// Runs `auth ARGS -vvvv` and checks that no secret, in any form, is in its output.
fn run(sandbox: &Sandbox, args: &[&str], extra_secrets: &[&str]) -> Run {
    let mut args = args.to_vec();
    args.push("-vvvv");
    let run = sandbox.run(&args);
    let output = run.all_output();
    for secret in SECRETS.iter().chain(extra_secrets) {
        for form in forms_for(secret, &[]) {
            assert!(
                !output.contains(&form),
                "a secret leaked ({form}) from `auth {}`:\n{output}",
                args.join(" ")
            );
        }
    }
    run
}

fn stderr_has(run: &Run, text: &str) {
    assert!(
        run.stderr.contains(text),
        "stderr lacks {text:?}:\n{}",
        run.stderr
    );
}

/// An nginx with a Bearer location (`/pkg/file.bin` behind [`TOKEN`]) and prefix.dev's GraphQL
/// in miniature: `/api/graphql` answers [`TOKEN`] with a viewer and anything else as prefix.dev
/// answers a visitor, `viewer: null`.
fn nginx() -> (Nginx, Server) {
    let mut builder = Nginx::builder();
    let root = write_files(
        &builder.dir().join("www"),
        &[("pkg/file.bin", b"the package\n".as_slice())],
    );
    builder.http(&format!(
        "map $http_authorization $check_ok {{\n    default 0;\n    \"Bearer {TOKEN}\" 1;\n}}"
    ));
    let server = builder.server(&format!(
        "location = /api/graphql {{\n\
             default_type application/json;\n\
             if ($check_ok = 0) {{\n\
                 return 200 '{{\"data\":{{\"viewer\":null}}}}';\n\
             }}\n\
             return 200 '{{\"data\":{{\"viewer\":{{\"login\":\"wolf-check\"}}}}}}';\n\
         }}\n\
         location / {{\n\
             if ($check_ok = 0) {{\n\
                 add_header WWW-Authenticate Bearer always;\n\
                 return 401;\n\
             }}\n\
             root {};\n\
         }}",
        root.display()
    ));
    (builder.start(), server)
}

#[test]
fn a_token_the_server_accepts_is_said_so_and_a_wrong_one_exits_3_and_stays_saved() {
    let (nginx, server) = nginx();
    let host = format!("127.0.0.1:{}", nginx.port(server));
    let check_url = nginx.url(server, "/pkg/file.bin");
    let sandbox = Sandbox::new();

    let accepted = run(
        &sandbox,
        &[
            "login",
            &host,
            "--token",
            TOKEN,
            "--check",
            "--check-url",
            &check_url,
        ],
        &[],
    );
    assert_eq!(accepted.code, 0, "{}", sandbox.show(&accepted));
    stderr_has(
        &accepted,
        &format!("The server accepted the credential for {host}."),
    );

    let rejected = run(
        &sandbox,
        &[
            "login",
            &host,
            "--token",
            WRONG,
            "--check",
            "--check-url",
            &check_url,
        ],
        &[],
    );
    assert_eq!(rejected.code, 3, "{}", sandbox.show(&rejected));
    stderr_has(
        &rejected,
        &format!("{host} rejected the credential for {host} from the file"),
    );
    stderr_has(&rejected, "(HTTP 401)");
    stderr_has(&rejected, &format!("run `auth login {host}` to replace it"));
    stderr_has(&rejected, "the credential stays saved in the file");

    // Never deleted: the entry is there, and `status --check` finds it rejected too.
    let status = run(&sandbox, &["status"], &[]);
    assert_eq!(status.code, 0, "{}", sandbox.show(&status));
    assert!(status.stdout.contains(&host), "{}", sandbox.show(&status));
    let checked = run(
        &sandbox,
        &["status", "--check", "--check-url", &check_url],
        &[],
    );
    assert_eq!(checked.code, 3, "{}", sandbox.show(&checked));
    assert!(
        checked.stdout.contains("rejected (HTTP 401)"),
        "{}",
        sandbox.show(&checked)
    );
    let json = run(
        &sandbox,
        &["status", "--check", "--check-url", &check_url, "--json"],
        &[],
    );
    assert_eq!(json.code, 3, "{}", sandbox.show(&json));
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let check = &report["entries"][0]["check"];
    assert_eq!(check["outcome"], "rejected", "{report:#}");
    assert_eq!(check["status"], 401, "{report:#}");
}

#[test]
fn prefix_dev_graphql_names_the_viewer_and_a_null_viewer_is_a_rejection() {
    // prefix.dev cannot be reached from CI: its GraphQL answer, served by nginx, is reached
    // through --check-url, whose path `/api/graphql` asks prefix.dev's viewer query.
    let (nginx, server) = nginx();
    let host = format!("127.0.0.1:{}", nginx.port(server));
    let graphql = nginx.url(server, "/api/graphql");
    let sandbox = Sandbox::new();

    let login = |token: &str| {
        run(
            &sandbox,
            &[
                "login",
                &host,
                "--token",
                token,
                "--check",
                "--check-url",
                &graphql,
            ],
            &[],
        )
    };
    let accepted = login(TOKEN);
    assert_eq!(accepted.code, 0, "{}", sandbox.show(&accepted));
    stderr_has(&accepted, "accepted the credential");
    stderr_has(&accepted, "(as wolf-check)");

    let visitor = login(WRONG);
    assert_eq!(visitor.code, 3, "{}", sandbox.show(&visitor));
    stderr_has(&visitor, "(HTTP 200)");
}

#[test]
fn a_closed_port_is_unreachable_and_a_host_without_a_known_api_says_to_pass_check_url() {
    // A port that was free a moment ago, closed again: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sandbox = Sandbox::new();
    let host = format!("127.0.0.1:{port}");
    let url = format!("http://{host}/pkg/file.bin");
    let unreachable = run(
        &sandbox,
        &[
            "login",
            &host,
            "--token",
            TOKEN,
            "--check",
            "--check-url",
            &url,
        ],
        &[],
    );
    assert_eq!(unreachable.code, 1, "{}", sandbox.show(&unreachable));
    stderr_has(
        &unreachable,
        &format!("could not check the credential for {host}: request to {url} failed"),
    );
    stderr_has(&unreachable, "it is saved in the file");

    let unknown = run(
        &sandbox,
        &["login", "repo.example.test", "--token", TOKEN, "--check"],
        &[],
    );
    assert_eq!(unknown.code, 1, "{}", sandbox.show(&unknown));
    stderr_has(
        &unknown,
        "did not check the credential for repo.example.test: no API is known to check \
         repo.example.test with; pass --check-url URL",
    );

    // A --check-url the key is not for is refused before anything is saved.
    let elsewhere = run(
        &sandbox,
        &[
            "login",
            "other.example.test",
            "--token",
            TOKEN,
            "--check",
            "--check-url",
            "https://repo.example.test/",
        ],
        &[],
    );
    assert_eq!(elsewhere.code, 1, "{}", sandbox.show(&elsewhere));
    stderr_has(&elsewhere, "is not under other.example.test");
    let status = sandbox.run(&["status"]);
    assert!(
        !status.stdout.contains("other.example.test"),
        "{}",
        sandbox.show(&status)
    );

    // `status --check` shows both outcomes in its CHECK column.
    let checked = run(&sandbox, &["status", "--check", "--check-url", &url], &[]);
    assert_eq!(checked.code, 0, "{}", sandbox.show(&checked));
    let shown = sandbox.show(&checked).replace(&port.to_string(), "[PORT]");
    assert!(
        shown.contains("unreachable: request to http://127.0.0.1:[PORT]/pkg/file.bin failed"),
        "{shown}"
    );
    assert!(
        shown.contains("not checked: no known API; pass --check-url"),
        "{shown}"
    );
}

#[test]
fn an_oauth_login_is_checked_at_the_providers_userinfo_which_names_the_account() {
    let oidc = Oidc::start(&OidcOptions::default());
    let mut sandbox = Sandbox::new();
    let browser = Oidc::browser_script(sandbox.home());
    sandbox.env("BROWSER", browser);
    let login = run(
        &sandbox,
        &[
            "login",
            "registry.test",
            "--oauth",
            "--oauth-issuer-url",
            oidc.issuer(),
            "--oauth-flow",
            "auth-code",
            "--check",
        ],
        &[],
    );
    let issued = oidc.issued_secrets();
    assert!(!issued.is_empty(), "the provider issued nothing");
    let issued: Vec<&str> = issued.iter().map(String::as_str).collect();
    assert_clean(&sandbox, &login, &issued);
    assert_eq!(login.code, 0, "{}\n{}", sandbox.show(&login), oidc.log());
    stderr_has(
        &login,
        "The server accepted the credential for registry.test (as test-user).",
    );

    let status = run(&sandbox, &["status", "--check"], &issued);
    assert_eq!(status.code, 0, "{}", sandbox.show(&status));
    assert!(
        status.stdout.contains("accepted (as test-user)"),
        "{}",
        sandbox.show(&status)
    );
}

/// No secret the provider issued is in the output.
fn assert_clean(sandbox: &Sandbox, run: &Run, secrets: &[&str]) {
    let output = run.all_output();
    for secret in secrets {
        assert!(
            secret.is_empty() || !output.contains(secret),
            "an issued secret leaked:\n{}",
            sandbox.show(run)
        );
    }
}

#[test]
fn s3_keys_are_checked_with_a_signed_head_of_the_bucket() {
    let s3 = S3::start(ACCESS_KEY, SECRET_KEY);
    s3.create_bucket("packages");
    let sandbox = crate::fetch::s3_sandbox(&s3);
    let login = |secret: &str| {
        run(
            &sandbox,
            &[
                "login",
                "s3://packages",
                "--s3-access-key-id",
                ACCESS_KEY,
                "--s3-secret-access-key",
                secret,
                "--check",
            ],
            &[],
        )
    };
    let right = login(SECRET_KEY);
    assert_eq!(right.code, 0, "{}", sandbox.show(&right));
    stderr_has(
        &right,
        "The server accepted the credential for s3://packages.",
    );

    let wrong = login(WRONG_SECRET);
    assert_eq!(wrong.code, 3, "{}", sandbox.show(&wrong));
    stderr_has(&wrong, "rejected the credential for s3://packages");
    stderr_has(&wrong, "(HTTP 403)");
}

#[test]
fn status_host_lists_what_applies_with_the_winner_and_the_shadowed() {
    let mut sandbox = Sandbox::new();
    // A wildcard in the file, an exact key from a variable of the env store, and a key for
    // another host that `status repo.example.test` leaves out.
    for (key, token) in [
        ("*.example.test", "tk-wild-25"),
        ("other.example.org", "tk-other-26"),
    ] {
        let login = sandbox.run(&["login", key, "--token", token]);
        assert_eq!(login.code, 0, "{}", sandbox.show(&login));
    }
    sandbox.env("AUTH_TOKEN_repo_example_test", "tk-env-27");
    let secrets = ["tk-wild-25", "tk-other-26", "tk-env-27"];

    let verbose = run(&sandbox, &["status", "repo.example.test"], &secrets);
    assert_eq!(verbose.code, 0, "{}", sandbox.show(&verbose));
    let table = sandbox.run(&["status", "repo.example.test"]);
    insta::assert_snapshot!(sandbox.show(&table), @r"
    exit: 0
    --- stdout
    KEY                KIND         STORE                               EXPIRES  USE
    *.example.test     BearerToken  file                                -        shadowed
    repo.example.test  BearerToken  env (AUTH_TOKEN_repo_example_test)  -        would be used
    A request to https://repo.example.test/ would use the credential for repo.example.test from env.

    env: environment variables
    keyring: unavailable: cannot reach the Secret Service on the D-Bus session bus (zbus error: Failed to connect to address `unix:path=[HOME]/no-session-bus`: No such file or directory (os error 2))
    file: [HOME]/.rattler/credentials.json
    netrc: [HOME]/.netrc
    --- stderr
    ");

    let json = run(
        &sandbox,
        &["status", "repo.example.test", "--json"],
        &secrets,
    );
    assert_eq!(json.code, 0, "{}", sandbox.show(&json));
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["target"]["decision"], "send", "{report:#}");
    assert_eq!(report["target"]["key"], "repo.example.test", "{report:#}");
    assert_eq!(report["target"]["store"], "env", "{report:#}");
    let used: Vec<(&str, bool)> = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["key"].as_str().unwrap(),
                entry["would_be_used"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        used,
        [("*.example.test", false), ("repo.example.test", true)]
    );

    // Another host of the wildcard: the file's entry wins there.
    let other = run(
        &sandbox,
        &["status", "https://mirror.example.test/x"],
        &secrets,
    );
    assert_eq!(other.code, 0, "{}", sandbox.show(&other));
    assert!(
        other.stdout.contains(
            "A request to https://mirror.example.test/x would use the credential for \
             *.example.test from file."
        ),
        "{}",
        sandbox.show(&other)
    );
    // Nothing applies.
    let none = run(&sandbox, &["status", "nothing.example.net"], &secrets);
    assert_eq!(none.code, 0, "{}", sandbox.show(&none));
    assert!(
        none.stdout.contains(
            "No credentials apply to https://nothing.example.net/. Run `auth login \
             nothing.example.net` to add one."
        ),
        "{}",
        sandbox.show(&none)
    );
}
