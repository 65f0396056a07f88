//! No secret in any output at any verbosity, in any encoded form, except where a command prints
//! it on purpose (`auth token` on stdout). Every run's exit code is checked too, so a run that
//! failed early cannot pass by printing nothing.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;

use auth_tests::peers::{Nginx, S3, write_files};
use auth_tests::{Run, Sandbox};
use base64::Engine as _;

const SECRETS: [&str; 6] = [
    "leak-bearer-7f3a",
    // The characters that break naive `user:password@host` handling.
    "leak-b@sic:p%ss#9c2e",
    "leak-conda-41bd",
    "leak-s3-secret-8e0f",
    "leak-s3-session-2a6c",
    "leak-stdin-5d1b",
];

/// User names the secrets go with, for the base64 of `user:password` a Basic header carries.
const USERS: [&str; 3] = ["u", "n", "alice"];

/// Every form a secret can take on its way out, with the user names of [`USERS`].
fn forms(secret: &str) -> Vec<String> {
    forms_for(secret, &USERS)
}

/// Every form a secret can take on its way out: as it is, percent-encoded (upper and lower hex,
/// and as a form value), JSON-escaped, base64 (standard and URL-safe, alone and as the
/// `user:secret` of a Basic header, raw or form-encoded as RFC 6749 2.3.1 sends a client's), and
/// as the list of byte values some D-Bus traces print. The OAuth sweep uses it too.
pub(crate) fn forms_for(secret: &str, basic_users: &[&str]) -> Vec<String> {
    let percent = |upper: bool| {
        secret
            .bytes()
            .map(|byte| {
                if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                    char::from(byte).to_string()
                } else if upper {
                    format!("%{byte:02X}")
                } else {
                    format!("%{byte:02x}")
                }
            })
            .collect::<String>()
    };
    let base64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let base64_url = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
    let bytes: Vec<String> = secret.bytes().map(|byte| byte.to_string()).collect();
    let mut forms = vec![
        secret.to_owned(),
        percent(true),
        percent(false),
        // As a form value: a space is `+`.
        percent(true).replace("%20", "+"),
        form_encode(secret),
        serde_json::to_string(secret)
            .unwrap()
            .trim_matches('"')
            .to_owned(),
        base64(secret),
        base64_url(secret),
        bytes.join(", "),
        bytes.join(","),
        bytes.join(" "),
    ];
    for user in basic_users {
        forms.push(base64(&format!("{user}:{secret}")));
        forms.push(base64(&format!(
            "{}:{}",
            form_encode(user),
            form_encode(secret)
        )));
    }
    forms.sort();
    forms.dedup();
    forms
}

/// `application/x-www-form-urlencoded`, as a form body or a client's Basic credentials carry it.
fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b' ' => "+".to_owned(),
            byte if byte.is_ascii_alphanumeric() || b"*-._".contains(&byte) => {
                char::from(byte).to_string()
            }
            byte => format!("%{byte:02X}"),
        })
        .collect()
}

/// Fails when `text` holds any form of any of `secrets`.
fn assert_no_form_of(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        for form in forms(secret) {
            assert!(
                !text.contains(&form),
                "{what} printed the secret {secret} (as {form:?}):\n{text}"
            );
        }
    }
}

fn assert_clean(what: &str, text: &str) {
    assert_no_form_of(what, text, &SECRETS);
}

/// Runs `auth` with `args`, checks its exit code is one of `codes` and that nothing it printed
/// holds a form of `secrets`.
fn checked(sandbox: &Sandbox, args: &[&str], codes: &[i32], secrets: &[&str]) -> Run {
    let run = sandbox.run(args);
    assert!(
        codes.contains(&run.code),
        "`auth {}` exited {}, expected one of {codes:?}:\n{}",
        args.join(" "),
        run.code,
        sandbox.show(&run)
    );
    assert_no_form_of(
        &format!("`auth {}`", args.join(" ")),
        &run.all_output(),
        secrets,
    );
    run
}

#[test]
fn the_forms_of_a_secret_are_what_they_claim() {
    let forms = forms("a@b");
    for expected in ["a@b", "a%40b", "YUBi", "dTphQGI=", "97, 64, 98", "97,64,98"] {
        assert!(
            forms.iter().any(|form| form == expected),
            "{expected}: {forms:?}"
        );
    }
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one table of commands, read top to bottom"
)]
fn no_secret_reaches_any_output_at_any_verbosity() {
    for verbosity in ["-q", "-v", "-vv", "-vvv", "-vvvv"] {
        let sandbox = Sandbox::new();
        let mut runs: Vec<(String, Run)> = Vec::new();
        let mut codes: Vec<&[i32]> = Vec::new();
        let mut run = |args: &[&str], stdin: Option<&str>| {
            let mut full = vec![verbosity];
            full.extend_from_slice(args);
            let result = match stdin {
                Some(input) => sandbox.run_with_stdin(&full, input),
                None => sandbox.run(&full),
            };
            runs.push((full.join(" "), result));
        };
        // The exit code each run below must have, in order.
        codes.extend([&[0][..]; 7]);
        codes.push(&[4]);
        // The password holds `#` and `@`: not a URL, and said so without it.
        codes.push(&[1, 4]);
        codes.push(&[4]);
        codes.push(&[1]);
        codes.push(&[1, 2]);
        codes.extend([&[0][..]; 2]);
        run(&["login", "prefix.dev", "--token", SECRETS[0]], None);
        run(
            &[
                "login",
                "basic.example.com",
                "--username",
                "u",
                "--password",
                SECRETS[1],
            ],
            None,
        );
        run(
            &["login", "conda.anaconda.org", "--conda-token", SECRETS[2]],
            None,
        );
        run(
            &[
                "login",
                "s3://bucket",
                "--s3-access-key-id",
                "AK",
                "--s3-secret-access-key",
                SECRETS[3],
                "--s3-session-token",
                SECRETS[4],
            ],
            None,
        );
        run(
            &["login", "stdin.example.com", "--token", "-"],
            Some(SECRETS[5]),
        );
        run(&["status"], None);
        run(&["status", "--json"], None);
        run(&["token", "nothing.example.com"], None);
        // Secrets inside a URL asked about (for a host with nothing stored) are redacted in errors.
        run(
            &[
                "token",
                &format!("https://u:{}@nothing.example.com/", SECRETS[1]),
            ],
            None,
        );
        run(
            &[
                "token",
                &format!("https://conda.nothing.test/t/{}/x", SECRETS[2]),
            ],
            None,
        );
        run(
            &[
                "login",
                &format!("https://u:{}@*.dev", SECRETS[0]),
                "--token",
                "x",
            ],
            None,
        );
        run(
            &[
                "login",
                "basic.example.com",
                "--token",
                SECRETS[0],
                "--conda-token",
                SECRETS[2],
            ],
            None,
        );
        run(&["logout", "prefix.dev"], None);
        run(&["logout", "--all"], None);
        assert_eq!(runs.len(), codes.len());
        for ((what, result), codes) in runs.iter().zip(&codes) {
            assert!(
                codes.contains(&result.code),
                "`{what}` exited {}, expected {codes:?}:\n{}",
                result.code,
                result.all_output()
            );
            assert_clean(what, &result.all_output());
        }
        // `token` prints the secret on stdout, and only there. (`logout --all` above removed
        // everything, so log in again.)
        let first = sandbox.run(&[
            "login",
            "s3://bucket",
            "--s3-access-key-id",
            "AK",
            "--s3-secret-access-key",
            SECRETS[3],
        ]);
        assert_eq!(first.code, 0);
        let printed = sandbox.run(&[verbosity, "token", "s3://bucket/key"]);
        assert_eq!(printed.stdout, format!("{}\n", SECRETS[3]));
        assert_clean("token's stderr", &printed.stderr);
        if verbosity == "-vvvv" {
            assert!(
                printed.stderr.contains("TRACE") || printed.stderr.contains("DEBUG"),
                "{}",
                printed.stderr
            );
        }
    }
}

const BASIC_USER: &str = "alice";
const BASIC_PASSWORD: &str = "f3tch-p@ss:w%rd#1";
const CONDA_TOKEN: &str = "ct-f3tch-t0ken-2";

// `fetch`'s error paths with `user:password@` URLs and a conda token in the path: a host that
// refuses the connection, a redirect loop, a `Location` that is not a URL, a URL that does not
// parse (the red team's `https://alice:SEC#RET@127.0.0.1:1/x`), all at -vvv, with a stored
// password for the host as well.
#[test]
fn fetch_error_paths_show_no_secret() {
    let mut builder = Nginx::builder();
    let looping = builder.server("location / { return 302 /again; }");
    let bad_location = builder.server("location / { return 302 \"http://bad host/\"; }");
    let nginx = builder.start();
    let sandbox = Sandbox::new();
    let secrets = [
        BASIC_PASSWORD,
        CONDA_TOKEN,
        "SEC#RET",
        "SEC%RET",
        "in-url-p@ss",
    ];
    checked(
        &sandbox,
        &[
            "login",
            "127.0.0.1",
            "--username",
            BASIC_USER,
            "--password",
            BASIC_PASSWORD,
        ],
        &[0],
        &secrets,
    );
    let with_userinfo = |url: &str| url.replacen("://", "://bob:in-url-p@ss@", 1);
    let urls = [
        with_userinfo(&format!("http://127.0.0.1:1/t/{CONDA_TOKEN}/x")),
        with_userinfo(&nginx.url(looping, &format!("/t/{CONDA_TOKEN}/loop"))),
        with_userinfo(&nginx.url(bad_location, &format!("/t/{CONDA_TOKEN}/bad"))),
        nginx.url(looping, &format!("/t/{CONDA_TOKEN}/loop")),
        nginx.url(bad_location, "/bad"),
        "https://alice:SEC#RET@127.0.0.1:1/x".to_owned(),
        "https://alice:SEC%RET@127.0.0.1:1/x".to_owned(),
        "https://SEC#RET@127.0.0.1:1/x".to_owned(),
    ];
    for url in &urls {
        let run = checked(&sandbox, &["-vvv", "fetch", url], &[1, 2], &secrets);
        assert!(run.stderr.contains("error:"), "{}", sandbox.show(&run));
        // `token` prints the URL's own password (what the download sends), or the stored one;
        // its messages hold neither.
        let token = sandbox.run(&["-vvv", "token", url]);
        assert!(
            [0, 1, 2, 4].contains(&token.code),
            "{}",
            sandbox.show(&token)
        );
        assert_no_form_of("token's stderr", &token.stderr, &secrets);
    }
}

// `.netrc` passwords at -vvv, on `token` (stdout only) and on a `fetch` a real nginx accepts.
#[test]
fn netrc_passwords_show_only_on_token_stdout() {
    let password = "n@trc:p%ss#3";
    let mut builder = Nginx::builder();
    let root = write_files(&builder.dir().join("www"), &[("f", b"netrc file\n")]);
    let server = builder.basic("n", password, &root);
    let nginx = builder.start();
    let sandbox = Sandbox::new();
    let netrc = sandbox.home().join(".netrc");
    fs::write(
        &netrc,
        format!("machine 127.0.0.1 login n password \"{password}\"\n"),
    )
    .unwrap();
    fs::set_permissions(&netrc, fs::Permissions::from_mode(0o600)).unwrap();
    let url = nginx.url(server, "/f");

    let fetched = checked(&sandbox, &["-vvv", "fetch", &url], &[0], &[password]);
    assert_eq!(fetched.stdout, "netrc file\n");
    checked(&sandbox, &["-vvv", "status"], &[0], &[password]);
    checked(&sandbox, &["-vvv", "status", "--json"], &[0], &[password]);
    let token = sandbox.run(&["-vvv", "token", &url]);
    assert_eq!(token.code, 0, "{}", sandbox.show(&token));
    assert_eq!(token.stdout, format!("{password}\n"));
    assert_no_form_of("token's stderr", &token.stderr, &[password]);
}

// The keyring store at the loudest level, against the real gnome-keyring: D-Bus traces must not
// show the secret as text or as a list of bytes.
#[test]
fn the_keyring_at_trace_level_shows_no_secret() {
    let secret = "k3yring-tr@ce:s%cret#4";
    let sandbox = Sandbox::with_keyring();
    let login = checked(
        &sandbox,
        &["-vvvv", "login", "prefix.dev", "--token", secret],
        &[0],
        &[secret],
    );
    assert!(
        login.stderr.contains("saved in the keyring"),
        "{}",
        sandbox.show(&login)
    );
    let status = checked(&sandbox, &["-vvvv", "status", "--json"], &[0], &[secret]);
    assert!(
        status.stdout.contains("keyring"),
        "{}",
        sandbox.show(&status)
    );
    assert!(
        status.stderr.contains("TRACE") || status.stderr.contains("DEBUG"),
        "no trace output to check:\n{}",
        status.stderr
    );
    let token = sandbox.run(&["-vvvv", "token", "repo.prefix.dev"]);
    assert_eq!(
        token.stdout,
        format!("{secret}\n"),
        "{}",
        sandbox.show(&token)
    );
    assert_no_form_of("token's stderr", &token.stderr, &[secret]);
    checked(
        &sandbox,
        &["-vvvv", "logout", "prefix.dev"],
        &[0],
        &[secret],
    );
}

// An S3 session token during `fetch`: signed into the request, never printed.
#[test]
fn an_s3_session_token_is_sent_but_never_shown() {
    let (access_key, secret_key, session) = ("AKIDLEAKS", "s3-le@k-secret:5", "s3-le@k-session%6");
    let s3 = S3::start(access_key, secret_key);
    s3.create_bucket("packages");
    s3.put_file("packages", "noarch/a.txt", b"s3 file\n");
    let sandbox = Sandbox::new();
    let config = sandbox.home().join(".config/auth/config.toml");
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    fs::write(
        &config,
        format!(
            "[s3-options.packages]\nendpoint-url = \"{}\"\nregion = \"eu-central-1\"\n",
            s3.endpoint()
        ),
    )
    .unwrap();
    let secrets = [secret_key, session];
    checked(
        &sandbox,
        &[
            "login",
            "s3://packages",
            "--s3-access-key-id",
            access_key,
            "--s3-secret-access-key",
            secret_key,
            "--s3-session-token",
            session,
        ],
        &[0],
        &secrets,
    );
    let fetched = checked(
        &sandbox,
        &["-vvvv", "fetch", "s3://packages/noarch/a.txt"],
        &[0],
        &secrets,
    );
    assert_eq!(fetched.stdout, "s3 file\n");
    checked(&sandbox, &["-vvvv", "status"], &[0], &secrets);
    checked(
        &sandbox,
        &["-vvvv", "fetch", "s3://packages/noarch/missing.txt"],
        &[1, 3, 4],
        &secrets,
    );
}
