//! No secret in any output at any verbosity, except where a command prints it on purpose
//! (`auth token` on stdout).

use auth_tests::{Run, Sandbox};

const SECRETS: [&str; 6] = [
    "leak-bearer-7f3a",
    "leak-basic-9c2e",
    "leak-conda-41bd",
    "leak-s3-secret-8e0f",
    "leak-s3-session-2a6c",
    "leak-stdin-5d1b",
];

fn assert_clean(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(
            !text.contains(secret),
            "{what} printed the secret {secret}:\n{text}"
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
        let mut run = |args: &[&str], stdin: Option<&str>| {
            let mut full = vec![verbosity];
            full.extend_from_slice(args);
            let result = match stdin {
                Some(input) => sandbox.run_with_stdin(&full, input),
                None => sandbox.run(&full),
            };
            runs.push((full.join(" "), result));
        };
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
        for (what, result) in &runs {
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
