//! `auth login --oauth` and what follows, against the real `oidc-provider`: both flows with no
//! human, refreshes (also by 8 processes at once), revocation on logout, and a download from an
//! nginx that asks the provider whether the token is good (`auth_request` to its userinfo).

use std::process::Stdio;

use auth_tests::peers::{Nginx, Oidc, OidcOptions, Server, write_files};
use auth_tests::{Deadline, Run, Sandbox, Watched};

const FILE: &[u8] = b"a file behind OpenID Connect\n";

/// An nginx whose files are served only to a Bearer token the provider's userinfo accepts.
fn protected(oidc: &Oidc) -> (Nginx, Server) {
    protected_file(oidc, FILE)
}

/// [`protected`], serving `file` as `/pkg/file.bin`; the OAuth leak sweep uses it too.
pub(crate) fn protected_file(oidc: &Oidc, file: &[u8]) -> (Nginx, Server) {
    let mut builder = Nginx::builder();
    let root = write_files(&builder.dir().join("www"), &[("pkg/file.bin", file)]);
    let userinfo = oidc.userinfo_url();
    let server = builder.server(&format!(
        "location = /_userinfo {{\n\
             internal;\n\
             proxy_pass {userinfo};\n\
             proxy_pass_request_body off;\n\
             proxy_set_header Content-Length \"\";\n\
             proxy_set_header Authorization $http_authorization;\n\
         }}\n\
         location / {{\n\
             auth_request /_userinfo;\n\
             root {};\n\
         }}",
        root.display()
    ));
    builder.record(server);
    (builder.start(), server)
}

/// A sandbox whose `BROWSER` follows the login page to the loopback redirect.
fn sandbox_with_browser() -> Sandbox {
    let mut sandbox = Sandbox::new();
    let browser = Oidc::browser_script(sandbox.home());
    sandbox.env("BROWSER", browser);
    sandbox
}

fn set_margin(sandbox: &Sandbox, seconds: u64) {
    let config = sandbox.home().join(".config/auth/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        config,
        format!("oauth-refresh-margin-seconds = {seconds}\n"),
    )
    .unwrap();
}

fn login_args<'a>(host: &'a str, oidc: &'a Oidc, flow: &'a str) -> Vec<&'a str> {
    vec![
        "login",
        host,
        "--oauth",
        "--oauth-issuer-url",
        oidc.issuer(),
        "--oauth-flow",
        flow,
    ]
}

/// The stored OAuth entry of the sandbox's credentials file.
fn stored(sandbox: &Sandbox, key: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(sandbox.default_file()).unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    file[key]["OAuth"].clone()
}

fn token_of(entry: &serde_json::Value, field: &str) -> String {
    entry[field].as_str().unwrap_or_default().to_owned()
}

fn assert_no_token(run: &Run, tokens: &[&str]) {
    let output = run.all_output();
    for token in tokens {
        assert!(
            token.is_empty() || !output.contains(token),
            "a token leaked into the output:\n{output}"
        );
    }
}

#[test]
fn auth_code_login_then_fetch_token_status_and_logout() {
    let oidc = Oidc::start(&OidcOptions::default());
    let (nginx, server) = protected(&oidc);
    let host = format!("127.0.0.1:{}", nginx.port(server));
    let sandbox = sandbox_with_browser();
    let url = nginx.url(server, "/pkg/file.bin");

    // Nothing stored: nginx's 401 says to log in.
    let before = sandbox.run(&["fetch", &url]);
    assert_eq!(before.code, 4, "{before:?}");

    let mut args = login_args(&host, &oidc, "auth-code");
    args.push("-vvv");
    let login = sandbox.run(&args);
    assert_eq!(login.code, 0, "{login:?}");
    assert_eq!(oidc.token_requests("authorization_code"), 1);
    let entry = stored(&sandbox, &host);
    let access = token_of(&entry, "access_token");
    let refresh = token_of(&entry, "refresh_token");
    assert!(!access.is_empty() && !refresh.is_empty(), "{entry}");
    assert_eq!(entry["client_id"], "rattler");
    assert_eq!(entry["issuer"], oidc.issuer());
    assert!(
        entry["token_endpoint"]
            .as_str()
            .unwrap()
            .starts_with(oidc.issuer())
    );
    assert!(entry["expires_at"].is_i64(), "{entry}");
    assert_no_token(&login, &[&access, &refresh]);

    let fetched = sandbox.run(&["fetch", &url, "-vvv"]);
    assert_eq!(fetched.code, 0, "{fetched:?}");
    assert_eq!(fetched.stdout.as_bytes(), FILE);
    assert_no_token(&fetched, &[&access, &refresh]);

    let status = sandbox.run(&["status"]);
    assert_eq!(status.code, 0, "{status:?}");
    assert!(status.stdout.contains("OAuth"), "{}", status.stdout);
    assert!(
        status.stdout.contains("(in "),
        "no expiry shown: {}",
        status.stdout
    );
    assert_no_token(&status, &[&access, &refresh]);

    let token = sandbox.run(&["token", &host]);
    assert_eq!((token.code, token.stdout.trim()), (0, access.as_str()));

    // Logout revokes at the provider, then deletes.
    let logout = sandbox.run(&["logout", &host]);
    assert_eq!(logout.code, 0, "{logout:?}");
    assert!(logout.stderr.contains("revoked"), "{}", logout.stderr);
    assert!(oidc.introspect(&refresh).contains(r#""active":false"#));
    assert!(oidc.introspect(&access).contains(r#""active":false"#));
    assert!(stored(&sandbox, &host).is_null());
}

#[test]
fn device_code_login_prints_the_code_and_waits_for_approval() {
    let oidc = Oidc::start(&OidcOptions::default());
    let sandbox = Sandbox::new();
    let host = "registry.test";
    let mut login = Watched::spawn(
        sandbox
            .command(&login_args(host, &oidc, "device-code"))
            .stderr(Stdio::piped()),
    );
    let line = login
        .wait_for_line("the device code", Deadline::start(), |_, line| {
            line.contains("enter the code ")
        })
        .unwrap_or_else(|output| panic!("no user code was printed:\n{output:?}"));
    let (_, code) = line
        .split_once("enter the code ")
        .expect("the line names the code");
    oidc.approve_device(code.trim());
    let output = login.finish("the device-code login to finish", Deadline::start());
    let printed = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{printed}");
    assert!(printed.contains(&oidc.url("/device")), "{printed}");
    assert_eq!(
        oidc.token_requests("urn:ietf:params:oauth:grant-type:device_code"),
        1,
        "one successful poll"
    );
    let entry = stored(&sandbox, host);
    assert!(!token_of(&entry, "refresh_token").is_empty(), "{entry}");
}

#[test]
fn auto_uses_the_device_code_when_no_browser_can_open() {
    let oidc = Oidc::start(&OidcOptions::default());
    // No BROWSER, no DISPLAY: a headless machine.
    let sandbox = Sandbox::new();
    let mut login = Watched::spawn(
        sandbox
            .command(&login_args("registry.test", &oidc, "auto"))
            .stderr(Stdio::piped()),
    );
    let line = login
        .wait_for_line("the device code", Deadline::start(), |_, line| {
            line.contains("enter the code ")
        })
        .unwrap_or_else(|output| panic!("auto did not fall back to a device code:\n{output:?}"));
    let (_, code) = line
        .split_once("enter the code ")
        .expect("the line names the code");
    oidc.approve_device(code.trim());
    let output = login.finish("the login to finish", Deadline::start());
    let printed = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{printed}");
    assert_eq!(oidc.token_requests("authorization_code"), 0, "{printed}");
}

/// A login whose access tokens live 2 seconds and are refreshed only once expired, to a file
/// behind the provider.
struct ShortLived {
    oidc: Oidc,
    nginx: Nginx,
    server: Server,
    host: String,
    sandbox: Sandbox,
}

impl ShortLived {
    fn logged_in() -> Self {
        let oidc = Oidc::start(&OidcOptions {
            access_token_ttl: 2,
        });
        let (nginx, server) = protected(&oidc);
        let host = format!("127.0.0.1:{}", nginx.port(server));
        let sandbox = sandbox_with_browser();
        set_margin(&sandbox, 0);
        let login = sandbox.run(&login_args(&host, &oidc, "auth-code"));
        assert_eq!(login.code, 0, "{login:?}");
        Self {
            oidc,
            nginx,
            server,
            host,
            sandbox,
        }
    }
}

/// Waits (by asking the provider, not by sleeping) until the provider no longer accepts the
/// stored access token.
fn wait_until_inactive(oidc: &Oidc, access_token: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while oidc.introspect(access_token).contains(r#""active":true"#) {
        assert!(
            std::time::Instant::now() < deadline,
            "the access token never expired"
        );
    }
}

#[test]
fn a_request_after_expiry_refreshes_and_succeeds() {
    let ShortLived {
        oidc,
        nginx,
        server,
        host,
        sandbox,
    } = ShortLived::logged_in();
    let first = stored(&sandbox, &host);
    let url = nginx.url(server, "/pkg/file.bin");

    let before = sandbox.run(&["fetch", &url]);
    assert_eq!(before.code, 0, "{before:?}");
    assert_eq!(
        oidc.token_requests("refresh_token"),
        0,
        "fresh: no refresh yet"
    );

    wait_until_inactive(&oidc, &token_of(&first, "access_token"));
    let after = sandbox.run(&["fetch", &url, "-v"]);
    assert_eq!(after.code, 0, "{after:?}");
    assert_eq!(after.stdout.as_bytes(), FILE);
    assert_eq!(oidc.token_requests("refresh_token"), 1);
    let second = stored(&sandbox, &host);
    assert_ne!(second["access_token"], first["access_token"]);
    assert_ne!(second["refresh_token"], first["refresh_token"], "rotated");
    assert_no_token(
        &after,
        &[
            &token_of(&second, "access_token"),
            &token_of(&second, "refresh_token"),
        ],
    );
}

#[test]
fn eight_processes_across_the_expiry_refresh_once() {
    let ShortLived {
        oidc,
        nginx,
        server,
        host,
        sandbox,
    } = ShortLived::logged_in();
    let first = stored(&sandbox, &host);
    wait_until_inactive(&oidc, &token_of(&first, "access_token"));

    let url = nginx.url(server, "/pkg/file.bin");
    let children: Vec<_> = (0..8)
        .map(|_| Watched::spawn(&mut sandbox.command(&["fetch", &url])))
        .collect();
    for child in children {
        let output = child.finish("a concurrent fetch to finish", Deadline::start());
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.stdout, FILE);
    }
    assert_eq!(oidc.token_requests("refresh_token"), 1, "{}", oidc.log());
    assert_eq!(oidc.token_errors("refresh_token"), 0, "no invalid_grant");
    // The grant survives: the stored refresh token is still good.
    let latest = stored(&sandbox, &host);
    assert!(
        oidc.introspect(&token_of(&latest, "refresh_token"))
            .contains(r#""active":true"#)
    );
}

#[test]
fn a_failed_refresh_says_to_log_in_again_and_sends_nothing() {
    let ShortLived {
        oidc,
        nginx,
        server,
        host,
        sandbox,
    } = ShortLived::logged_in();
    let entry = stored(&sandbox, &host);
    // The access token expires; then the provider forgets the grant (a logout elsewhere).
    wait_until_inactive(&oidc, &token_of(&entry, "access_token"));
    let revoked = std::process::Command::new("curl")
        .args(["-sS", "--fail", "--data-urlencode"])
        .arg(format!("token={}", token_of(&entry, "refresh_token")))
        .args(["--data", "client_id=rattler"])
        .arg(oidc.url("/token/revocation"))
        .status()
        .unwrap();
    assert!(revoked.success());
    assert!(
        oidc.introspect(&token_of(&entry, "refresh_token"))
            .contains(r#""active":false"#)
    );

    let url = nginx.url(server, "/pkg/file.bin");
    let run = sandbox.run(&["fetch", &url]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "the session for {host} has expired; run `auth login {host}`"
        )),
        "{}",
        run.stderr
    );
    // The stale token never reached nginx.
    assert!(
        nginx.recorded(server).trim().is_empty(),
        "{}",
        nginx.recorded(server)
    );
}

#[test]
fn a_given_redirect_uri_is_where_the_browser_comes_back() {
    let oidc = Oidc::start(&OidcOptions::default());
    let sandbox = sandbox_with_browser();
    // A fixed loopback port, as an IdP registration names one (the provider allows any port on
    // 127.0.0.1 with its registered path); the login only completes if the browser comes back
    // there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let mut args = login_args("registry.test", &oidc, "auth-code");
    args.extend(["--oauth-redirect-uri", &redirect]);
    let login = sandbox.run(&args);
    assert_eq!(login.code, 0, "{login:?}");
    let encoded = format!("redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}%2Fcallback");
    assert!(login.stderr.contains(&encoded), "{}", login.stderr);
    assert!(stored(&sandbox, "registry.test")["refresh_token"].is_string());
}

#[test]
fn logout_deletes_even_when_the_provider_cannot_revoke() {
    let oidc = Oidc::start(&OidcOptions::default());
    let sandbox = sandbox_with_browser();
    assert_eq!(
        sandbox
            .run(&login_args("registry.test", &oidc, "auth-code"))
            .code,
        0
    );
    let entry = stored(&sandbox, "registry.test");
    drop(oidc);

    let logout = sandbox.run(&["logout", "registry.test"]);
    assert_eq!(logout.code, 0, "{logout:?}");
    assert!(
        logout
            .stderr
            .contains("could not revoke the tokens of registry.test")
            && logout.stderr.contains("deleting them here anyway"),
        "{}",
        logout.stderr
    );
    assert!(
        logout.stderr.contains("Logged out of registry.test"),
        "{}",
        logout.stderr
    );
    assert!(stored(&sandbox, "registry.test").is_null());
    assert_no_token(
        &logout,
        &[
            &token_of(&entry, "access_token"),
            &token_of(&entry, "refresh_token"),
        ],
    );
}
