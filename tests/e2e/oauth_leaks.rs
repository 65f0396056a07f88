//! No secret of an OAuth login with a confidential client reaches any output at `-vvvv`: not the
//! client secret, nor any authorization code, access, refresh or ID token the provider issued, in
//! any encoded form, through the login, the refresh of `auth token`, `fetch`, `status` and
//! `logout`, nor when a refresh fails. `auth token`'s stdout holding the current access token is
//! the one exception, and it is checked to be exactly that.

use auth_tests::peers::oidc::CONFIDENTIAL_CLIENT;
use auth_tests::peers::{Nginx, Oidc, OidcOptions, Server};
use auth_tests::{Run, Sandbox};

const FILE: &[u8] = b"a file behind OpenID Connect, for a confidential client\n";

/// Every log level is on: the requests, their headers and the stores' traces are printed.
const VERBOSE: &str = "-vvvv";

/// An nginx whose files are served only to a Bearer token the provider's userinfo accepts.
fn protected(oidc: &Oidc) -> (Nginx, Server) {
    crate::oauth::protected_file(oidc, FILE)
}

/// A sandbox whose `BROWSER` follows the login page to the loopback redirect, and whose logins
/// are refreshed only once expired.
fn sandbox_with_browser() -> Sandbox {
    let mut sandbox = Sandbox::new();
    let browser = Oidc::browser_script(sandbox.home());
    sandbox.env("BROWSER", browser);
    let config = sandbox.home().join(".config/auth/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(config, "oauth-refresh-margin-seconds = 0\n").unwrap();
    sandbox
}

/// The stored OAuth entry of the sandbox's credentials file (`null` when there is none).
fn stored(sandbox: &Sandbox, key: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(sandbox.default_file()).unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    file[key]["OAuth"].clone()
}

fn token_of(entry: &serde_json::Value, field: &str) -> String {
    entry[field].as_str().unwrap_or_default().to_owned()
}

/// Waits (by asking the provider, not by sleeping) until the provider no longer accepts the
/// access token.
fn wait_until_inactive(oidc: &Oidc, access_token: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while oidc.introspect(access_token).contains(r#""active":true"#) {
        assert!(
            std::time::Instant::now() < deadline,
            "the access token never expired"
        );
    }
}

/// Every form a secret can take on its way out, a client's Basic header included.
fn forms(secret: &str) -> Vec<String> {
    crate::leaks::forms_for(secret, &[CONFIDENTIAL_CLIENT])
}

/// Fails when `text` holds any form of any of `secrets`.
fn assert_no_form_of(what: &str, text: &str, secrets: &[String]) {
    for secret in secrets {
        for form in forms(secret) {
            assert!(
                !text.contains(&form),
                "{what} printed the secret {secret} (as {form:?}):\n{text}"
            );
        }
    }
}

/// One run of `auth` at [`VERBOSE`]: what it was, and what it printed.
struct Logged {
    what: String,
    run: Run,
}

/// Runs `auth -vvvv ARGS`, checks its exit code, and keeps the run for the leak check.
fn checked(sandbox: &Sandbox, runs: &mut Vec<Logged>, args: &[&str], code: i32) -> Run {
    let mut full = vec![VERBOSE];
    full.extend_from_slice(args);
    let run = sandbox.run(&full);
    // The client secret is on the login's command line: a login is named without its arguments.
    let shown = if args[0] == "login" {
        "login".to_owned()
    } else {
        args.join(" ")
    };
    let what = format!("`auth {VERBOSE} {shown}`");
    assert_eq!(
        run.code,
        code,
        "{what} exited {}, expected {code}:\n{}",
        run.code,
        sandbox.show(&run)
    );
    assert!(
        run.stderr.contains("TRACE") || run.stderr.contains("DEBUG"),
        "{what} printed no debug log, so the leak check would prove little:\n{}",
        run.stderr
    );
    runs.push(Logged {
        what,
        run: run.clone(),
    });
    run
}

/// A confidential-client login by the auth-code flow, its access tokens living 2 seconds.
struct LoggedIn {
    oidc: Oidc,
    nginx: Nginx,
    server: Server,
    host: String,
    sandbox: Sandbox,
    runs: Vec<Logged>,
}

impl LoggedIn {
    fn start() -> Self {
        let oidc = Oidc::start(&OidcOptions {
            access_token_ttl: 2,
        });
        let (nginx, server) = protected(&oidc);
        let host = format!("127.0.0.1:{}", nginx.port(server));
        let sandbox = sandbox_with_browser();
        let mut runs = Vec::new();
        let (client_id, client_secret) = oidc.confidential_client();
        checked(
            &sandbox,
            &mut runs,
            &[
                "login",
                &host,
                "--oauth",
                "--oauth-issuer-url",
                oidc.issuer(),
                "--oauth-flow",
                "auth-code",
                "--oauth-client-id",
                client_id,
                "--oauth-client-secret",
                client_secret,
            ],
            0,
        );
        assert_eq!(oidc.token_requests("authorization_code"), 1);
        let entry = stored(&sandbox, &host);
        assert_eq!(entry["client_id"], client_id, "{entry}");
        assert_eq!(entry["client_secret"], client_secret, "kept to refresh");
        assert!(!token_of(&entry, "refresh_token").is_empty(), "{entry}");
        Self {
            oidc,
            nginx,
            server,
            host,
            sandbox,
            runs,
        }
    }
}

#[test]
fn a_confidential_clients_refresh_fetch_status_and_logout_print_no_secret() {
    let LoggedIn {
        oidc,
        nginx,
        server,
        host,
        sandbox,
        mut runs,
    } = LoggedIn::start();
    let url = nginx.url(server, "/pkg/file.bin");
    let mut seen: Vec<String> = Vec::new();
    let mut see = |entry: &serde_json::Value| {
        for field in ["access_token", "refresh_token"] {
            let token = token_of(entry, field);
            if !token.is_empty() && !seen.contains(&token) {
                seen.push(token);
            }
        }
    };
    let first = stored(&sandbox, &host);
    see(&first);

    // The refresh path of `auth token`: the access token has expired at the provider.
    wait_until_inactive(&oidc, &token_of(&first, "access_token"));
    assert_eq!(oidc.token_requests("refresh_token"), 0, "not refreshed yet");
    let token = checked(&sandbox, &mut runs, &["token", &host], 0);
    let token_run = runs.len() - 1;
    assert_eq!(oidc.token_requests("refresh_token"), 1, "{}", oidc.log());
    let second = stored(&sandbox, &host);
    see(&second);
    let printed = token_of(&second, "access_token");
    assert_ne!(printed, token_of(&first, "access_token"), "refreshed");
    assert_ne!(
        token_of(&second, "refresh_token"),
        token_of(&first, "refresh_token"),
        "rotated"
    );
    assert_eq!(token.stdout, format!("{printed}\n"), "the new token only");
    assert!(
        oidc.introspect(&printed).contains(r#""active":true"#),
        "the printed token is one the provider accepts"
    );

    // fetch refreshes again if the new token has expired meanwhile, or sends it.
    let fetched = checked(&sandbox, &mut runs, &["fetch", &url], 0);
    assert_eq!(fetched.stdout.as_bytes(), FILE);
    let third = stored(&sandbox, &host);
    see(&third);
    assert!(
        nginx.recorded(server).contains("Bearer"),
        "{}",
        nginx.recorded(server)
    );

    for args in [&["status"][..], &["status", "--json"]] {
        let status = checked(&sandbox, &mut runs, args, 0);
        assert!(status.stdout.contains(&host), "{}", status.stdout);
        see(&stored(&sandbox, &host));
    }

    let last = stored(&sandbox, &host);
    let logout = checked(&sandbox, &mut runs, &["logout", &host], 0);
    assert!(logout.stderr.contains("revoked"), "{}", logout.stderr);
    assert!(stored(&sandbox, &host).is_null());
    assert!(
        oidc.introspect(&token_of(&last, "refresh_token"))
            .contains(r#""active":false"#),
        "revoked with the client's secret"
    );

    let secrets = all_secrets(&oidc, &seen);
    // The code, the ID tokens and the tokens of each response: more than the file ever held.
    assert!(secrets.len() > seen.len() + 2, "{secrets:?}");
    for (index, Logged { what, run }) in runs.iter().enumerate() {
        if index == token_run {
            // Its stdout is the access token it printed, checked above; nothing else there.
            let others: Vec<String> = secrets
                .iter()
                .filter(|secret| **secret != printed)
                .cloned()
                .collect();
            assert_no_form_of(&format!("{what}'s stdout"), &run.stdout, &others);
            assert_no_form_of(&format!("{what}'s stderr"), &run.stderr, &secrets);
        } else {
            assert_no_form_of(what, &run.all_output(), &secrets);
        }
    }
}

/// The client secret and every secret the provider issued, after checking that each token the
/// file held is among them.
fn all_secrets(oidc: &Oidc, seen: &[String]) -> Vec<String> {
    let issued = oidc.issued_secrets();
    for token in seen {
        assert!(
            issued.contains(token),
            "a stored token the provider did not issue: {token}\n{issued:?}"
        );
    }
    let mut secrets = issued;
    secrets.push(oidc.confidential_client().1.to_owned());
    secrets
}

/// How a refresh of the confidential client's login is made to fail.
#[derive(Debug, Clone, Copy)]
enum Failure {
    /// The provider ended the grant (a logout elsewhere): the refresh token is `invalid_grant`.
    GrantRevoked,
    /// The file holds another client secret: the provider refuses the client (`invalid_client`).
    WrongClientSecret,
}

const WRONG_CLIENT_SECRET: &str = "wr0ng-s3cr3t:x@y%8";

#[test]
fn a_failed_refresh_of_a_confidential_client_says_to_log_in_again_and_prints_no_secret() {
    for failure in [Failure::GrantRevoked, Failure::WrongClientSecret] {
        let login = LoggedIn::start();
        let LoggedIn {
            oidc,
            nginx,
            server,
            host,
            sandbox,
            mut runs,
        } = login;
        let entry = stored(&sandbox, &host);
        wait_until_inactive(&oidc, &token_of(&entry, "access_token"));
        let mut extra = Vec::new();
        match failure {
            Failure::GrantRevoked => {
                oidc.revoke_as_confidential_client(&token_of(&entry, "refresh_token"));
                assert!(
                    oidc.introspect(&token_of(&entry, "refresh_token"))
                        .contains(r#""active":false"#)
                );
            }
            Failure::WrongClientSecret => {
                let path = sandbox.default_file();
                let mut file: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                file[host.as_str()]["OAuth"]["client_secret"] = WRONG_CLIENT_SECRET.into();
                std::fs::write(&path, serde_json::to_string_pretty(&file).unwrap()).unwrap();
                extra.push(WRONG_CLIENT_SECRET.to_owned());
            }
        }
        let errors_before = oidc.token_errors("refresh_token");

        let expired = format!("the session for {host} has expired; run `auth login {host}`");
        let token = checked(&sandbox, &mut runs, &["token", &host], 1);
        assert_eq!(token.stdout, "", "{failure:?}: no token printed");
        let url = nginx.url(server, "/pkg/file.bin");
        let fetched = checked(&sandbox, &mut runs, &["fetch", &url], 1);
        for run in [&token, &fetched] {
            assert!(
                run.stderr.contains(&expired),
                "{failure:?}:\n{}",
                run.stderr
            );
        }
        assert_eq!(oidc.token_requests("refresh_token"), 0, "{failure:?}");
        assert_eq!(
            oidc.token_errors("refresh_token"),
            errors_before + 2,
            "{failure:?}: each command asked once, and was refused"
        );
        // The stale token never reached nginx, and the login is still there to log in over.
        assert!(
            nginx.recorded(server).trim().is_empty(),
            "{failure:?}: {}",
            nginx.recorded(server)
        );
        assert_eq!(
            token_of(&stored(&sandbox, &host), "refresh_token"),
            token_of(&entry, "refresh_token"),
            "{failure:?}"
        );

        let seen = vec![
            token_of(&entry, "access_token"),
            token_of(&entry, "refresh_token"),
        ];
        let mut secrets = all_secrets(&oidc, &seen);
        secrets.extend(extra);
        for Logged { what, run } in &runs {
            assert_no_form_of(&format!("{failure:?}: {what}"), &run.all_output(), &secrets);
        }
    }
}
