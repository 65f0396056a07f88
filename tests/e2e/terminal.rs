//! Terminal safety: hosts, keys, URLs and a peer's words that hold escape sequences, bells or
//! bidi controls reach stderr (and the `status` table) escaped, at every verbosity.

use std::path::Path;

use auth_tests::{Run, Sandbox};

/// Characters a terminal acts on: every control character but the line break, and the bidi
/// controls that reorder what is shown.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn assert_safe(what: &str, text: &str) {
    let bad: Vec<char> = text.chars().filter(|c| is_unsafe(*c)).collect();
    assert!(
        bad.is_empty(),
        "{what} wrote {bad:?} to the terminal:\n{}",
        text.escape_debug()
    );
    // The bytes, as the brief states them (a C1 control is two bytes in UTF-8).
    assert!(
        !text.bytes().any(|b| (b < 0x20 && b != b'\n') || b == 0x7f),
        "{what}: {}",
        text.escape_debug()
    );
}

const VERBOSITIES: [&str; 4] = ["-q", "-v", "-vv", "-vvv"];

/// Runs `auth ARGS` with no `-v` and at each verbosity, checks stderr, and returns the runs.
fn each_verbosity(sandbox: &Sandbox, args: &[&str]) -> Vec<Run> {
    let mut runs = vec![sandbox.run(args)];
    for verbosity in VERBOSITIES {
        let mut all = vec![verbosity];
        all.extend_from_slice(args);
        runs.push(sandbox.run(&all));
    }
    for run in &runs {
        assert_safe(
            &format!("auth {}", args.join(" ").escape_debug()),
            &run.stderr,
        );
    }
    runs
}

const EVIL_HOST: &str = "ex\u{1b}]0;PWNED\u{7}ample.com";

// `auth login $'ex\e]0;PWNED\aample.com' --token T` wrote raw ESC and BEL to stderr.
#[test]
fn a_host_with_an_escape_sequence_is_shown_escaped() {
    let sandbox = Sandbox::new();
    let runs = each_verbosity(&sandbox, &["login", EVIL_HOST, "--token", "tok-term-1"]);
    assert_ne!(runs[0].code, 0, "{:?}", runs[0]);
    assert!(
        runs[0].stderr.contains(r"ex\u{1b}]0;PWNED\u{7}ample.com"),
        "{}",
        runs[0].stderr
    );
    for args in [
        vec!["logout", EVIL_HOST],
        vec!["token", EVIL_HOST],
        vec!["login", "\u{202e}moc.elpmaxe", "--token", "tok-term-2"],
    ] {
        each_verbosity(&sandbox, &args);
    }
}

// A key in the file holding `\u001b[31m` was printed raw by `status`.
#[test]
fn a_stored_key_with_an_escape_sequence_is_listed_escaped() {
    let sandbox = Sandbox::new();
    let file = sandbox.default_file();
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(
        &file,
        r#"{
  "\u001b[31mred.example.com": {"BearerToken": "tok-term-3"},
  "bell\u0007.example.com\r": {"BearerToken": "tok-term-4"},
  "ok.example.com": {"BasicHTTP": {"username": "\u001b]0;PWNED\u0007", "password": "pw"}}
}"#,
    )
    .unwrap();
    for args in [
        vec!["status"],
        vec!["status", "--json"],
        vec!["token", "ok.example.com"],
    ] {
        for run in each_verbosity(&sandbox, &args) {
            if args == ["status"] {
                assert_safe("auth status (stdout)", &run.stdout);
            }
        }
    }
    let run = sandbox.run(&["status"]);
    assert!(
        run.all_output().contains(r"\u{1b}[31mred.example.com"),
        "{}",
        run.all_output()
    );
}

// A URL holding a bell, in its path and in its host.
#[test]
fn a_url_with_a_bell_is_shown_escaped() {
    let sandbox = Sandbox::new();
    for url in [
        "http://127.0.0.1:9/a\u{7}b/\u{1b}[2J",
        "http://ex\u{7}ample.com/",
        "http://user:p\u{1b}w@127.0.0.1:9/x",
        "ftp://\u{1b}]0;PWNED\u{7}/",
        "\u{1b}[31mnot a url",
    ] {
        for run in each_verbosity(&sandbox, &["fetch", url]) {
            assert_eq!(run.code, 1, "{run:?}");
        }
    }
}

/// A `keyring` command that answers with an escape sequence, a bell and a carriage return on
/// stderr, and exits with `code` (1: nothing found, logged at -vv; 2: a failure, an error).
#[cfg(unix)]
fn noisy_keyring(dir: &Path, code: u8) {
    use std::os::unix::fs::PermissionsExt as _;
    let bin = dir.join(format!("bin-{code}"));
    std::fs::create_dir_all(&bin).unwrap();
    let script = bin.join("keyring");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '\\033]0;PWNED\\007\\033[31mred\\rover\\n' >&2\nexit {code}\n"),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
}

// Bytes from a misbehaving peer were echoed in a warning or log line as they came.
#[cfg(unix)]
#[test]
fn a_peers_escape_sequences_are_shown_escaped_in_errors_and_log_lines() {
    for code in [1, 2] {
        let mut sandbox = Sandbox::new();
        noisy_keyring(sandbox.home(), code);
        let bin = sandbox.home().join(format!("bin-{code}"));
        sandbox.prepend_path(bin);
        let runs = each_verbosity(
            &sandbox,
            &[
                "fetch",
                "http://alice@127.0.0.1:9/simple/",
                "--pypi-keyring-provider",
                "subprocess",
            ],
        );
        let all: String = runs.iter().map(|run| run.stderr.as_str()).collect();
        // The peer's words are there, escaped (a log line's or an error's form).
        assert!(all.contains("PWNED"), "exit {code}: {all}");
    }
}
