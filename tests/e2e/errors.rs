//! What a user reads when something is wrong: what failed, for which host or file, what to run;
//! the exit codes exactly as `auth --help` documents them; each cause said once; colour only on
//! a terminal.

use std::fmt::Write as _;
use std::fs;
use std::process::{Command, Stdio};

use auth_tests::{Run, Sandbox};

#[test]
fn errors_say_what_to_do() {
    let sandbox = Sandbox::new();
    let cases: &[&[&str]] = &[
        &["login", "example.com"],
        &["login", "example.com", "--token", "a", "--conda-token", "b"],
        &["login", "example.com", "--password", "p"],
        &["login", "example.com", "--username", "u"],
        &[
            "login",
            "example.com",
            "--s3-access-key-id",
            "AK",
            "--s3-secret-access-key",
            "SK",
        ],
        &["login", "s3://bucket", "--token", "t"],
        &["login", "*.co.uk", "--token", "t"],
        &["login", "ftp://example.com", "--token", "t"],
        &["login", "example.com", "--token", "-"],
        &["token", "example.com"],
        &["token", "https://user@example.com/t/c0nda-s3cr3t/x"],
        &["logout", "example.com"],
        &["logout"],
        &["status"],
        &["logout", "--all"],
    ];
    let mut shown = String::new();
    for args in cases {
        let run = sandbox.run(args);
        assert!(
            !run.all_output().contains("hunter2") && !run.all_output().contains("c0nda-s3cr3t"),
            "{args:?}: {run:?}"
        );
        // The command line is ours, not output; mask its secrets so a grep of snapshots stays clean.
        let command = args
            .join(" ")
            .replace("hunter2", "[SECRET]")
            .replace("c0nda-s3cr3t", "[SECRET]");
        writeln!(shown, "$ auth {command}\n{}", sandbox.show(&run).trim_end()).unwrap();
    }
    insta::assert_snapshot!(shown);
}

/// How a case's HOME is set up before the command runs.
#[derive(Debug, Clone, Copy)]
enum Setup {
    /// Nothing stored.
    Empty,
    /// `example.com` logged in, in the credentials file.
    LoggedIn,
    /// A credentials file that does not parse.
    Corrupt,
    /// `example.com` only in `.netrc`, which auth never writes.
    NetrcOnly,
}

fn sandbox_for(setup: Setup) -> Sandbox {
    let sandbox = Sandbox::new();
    match setup {
        Setup::Empty => {}
        Setup::LoggedIn => {
            let login = sandbox.run(&["login", "example.com", "--token", "exit-code-token"]);
            assert_eq!(login.code, 0, "{}", sandbox.show(&login));
        }
        Setup::Corrupt => {
            let file = sandbox.default_file();
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::write(&file, "{\"a.example.com\": {\"BearerToken\": \"x\"}\n").unwrap();
        }
        Setup::NetrcOnly => {
            fs::write(
                sandbox.home().join(".netrc"),
                "machine example.com login u password netrc-exit-pw\n",
            )
            .unwrap();
        }
    }
    sandbox
}

/// Every (command, exit code) pair `auth --help` documents, each with the runs that must give
/// it. `fetch` has its own tests (`fetch.rs`).
const CASES: &[(&str, i32, Setup, &[&str])] = &[
    (
        "login",
        0,
        Setup::Empty,
        &["login", "example.com", "--token", "t"],
    ),
    ("logout", 0, Setup::LoggedIn, &["logout", "example.com"]),
    ("logout", 0, Setup::Empty, &["logout", "--all"]),
    ("status", 0, Setup::LoggedIn, &["status"]),
    ("status", 0, Setup::LoggedIn, &["status", "--json"]),
    ("token", 0, Setup::LoggedIn, &["token", "example.com"]),
    ("helper", 0, Setup::Empty, &["helper", "docker", "version"]),
    ("helper", 0, Setup::LoggedIn, &["helper", "docker", "list"]),
    ("completions", 0, Setup::Empty, &["completions", "bash"]),
    // 1: a store that could not be read, a file that did not parse, bad input.
    ("login", 1, Setup::Empty, &["login", "example.com"]),
    (
        "login",
        1,
        Setup::Empty,
        &["login", "ftp://example.com", "--token", "t"],
    ),
    (
        "login",
        1,
        Setup::Corrupt,
        &["login", "example.com", "--token", "t"],
    ),
    ("logout", 1, Setup::Corrupt, &["logout", "example.com"]),
    ("logout", 1, Setup::Corrupt, &["logout", "--all"]),
    ("logout", 1, Setup::NetrcOnly, &["logout", "example.com"]),
    ("status", 1, Setup::Corrupt, &["status"]),
    ("status", 1, Setup::Corrupt, &["status", "--json"]),
    ("token", 1, Setup::Corrupt, &["token", "example.com"]),
    ("token", 1, Setup::Empty, &["token", "*.*.example.com"]),
    ("helper", 1, Setup::Corrupt, &["helper", "docker", "list"]),
    // 2: usage errors, clap's own: unknown flag, missing argument, conflicting options.
    ("login", 2, Setup::Empty, &["login"]),
    (
        "login",
        2,
        Setup::Empty,
        &["login", "example.com", "--tokn", "t"],
    ),
    // Two ways to authenticate at once (these exited 1 after the command had started).
    (
        "login",
        2,
        Setup::Empty,
        &[
            "login",
            "example.com",
            "--token",
            "T",
            "--username",
            "u",
            "--password",
            "p",
        ],
    ),
    (
        "login",
        2,
        Setup::Empty,
        &["login", "example.com", "--token", "a", "--conda-token", "b"],
    ),
    (
        "login",
        2,
        Setup::Empty,
        &["login", "example.com", "--token", "t", "--oauth"],
    ),
    (
        "login",
        2,
        Setup::Empty,
        &[
            "login",
            "example.com",
            "--conda-token",
            "c",
            "--oauth-flow",
            "device-code",
        ],
    ),
    (
        "login",
        2,
        Setup::Empty,
        &[
            "login",
            "s3://b",
            "--username",
            "u",
            "--s3-access-key-id",
            "AK",
        ],
    ),
    (
        "login",
        2,
        Setup::Empty,
        &["login", "s3://b", "--s3-access-key-id", "AK", "--oauth"],
    ),
    ("logout", 2, Setup::Empty, &["logout"]),
    (
        "logout",
        2,
        Setup::LoggedIn,
        &["logout", "example.com", "--all"],
    ),
    ("status", 2, Setup::Empty, &["status", "--jsn"]),
    ("status", 2, Setup::Empty, &["status", "-v", "-q"]),
    ("token", 2, Setup::Empty, &["token"]),
    ("helper", 2, Setup::Empty, &["helper", "svn"]),
    ("helper", 2, Setup::Empty, &["helper", "install", "svn"]),
    ("completions", 2, Setup::Empty, &["completions", "tcsh"]),
    (
        "token",
        2,
        Setup::Empty,
        &["token", "a.example.com", "b.example.com"],
    ),
    // 4: nothing stored for the host.
    ("logout", 4, Setup::Empty, &["logout", "example.com"]),
    ("token", 4, Setup::Empty, &["token", "example.com"]),
    ("token", 4, Setup::LoggedIn, &["token", "other.example.org"]),
];

/// The exit codes of `auth --help`, each with the commands its line names in backticks (none:
/// every command).
fn documented_exit_codes(sandbox: &Sandbox) -> Vec<(i32, Vec<String>)> {
    let help = sandbox.run(&["--help"]);
    assert_eq!(help.code, 0, "{help:?}");
    let commands: Vec<String> = help
        .stdout
        .split("Commands:\n")
        .nth(1)
        .expect("`auth --help` lists its commands")
        .lines()
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    let section = help
        .stdout
        .split("Exit codes:\n")
        .nth(1)
        .expect("`auth --help` lists the exit codes");
    let mut codes: Vec<(i32, String)> = Vec::new();
    for line in section.lines() {
        let code = line
            .strip_prefix("  ")
            .and_then(|rest| rest.split_once("  "))
            .and_then(|(number, _)| number.parse::<i32>().ok());
        match (code, codes.last_mut()) {
            (Some(code), _) => codes.push((code, line.to_owned())),
            (None, Some((_, text))) => text.push_str(line),
            (None, None) => {}
        }
    }
    codes
        .into_iter()
        .map(|(code, text)| {
            let named: Vec<String> = text
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect();
            (
                code,
                if named.is_empty() {
                    commands.clone()
                } else {
                    named
                },
            )
        })
        .collect()
}

fn check_exit_code(expected: i32) {
    let documented = documented_exit_codes(&Sandbox::new());
    let (_, commands) = documented
        .iter()
        .find(|(code, _)| *code == expected)
        .unwrap_or_else(|| panic!("exit code {expected} is not documented: {documented:?}"));
    // `fetch` has tests of its own; `completions` reads no store, so it fails (1) only when its
    // output cannot be written.
    for command in commands
        .iter()
        .filter(|command| *command != "fetch" && !(expected == 1 && *command == "completions"))
    {
        let cases: Vec<_> = CASES
            .iter()
            .filter(|(name, code, _, _)| name == command && *code == expected)
            .collect();
        assert!(
            !cases.is_empty(),
            "no case shows `auth {command}` exiting {expected}, as documented"
        );
        for (_, _, setup, args) in cases {
            let sandbox = sandbox_for(*setup);
            let run = sandbox.run(args);
            assert_eq!(
                run.code,
                expected,
                "auth {} ({setup:?}):\n{}",
                args.join(" "),
                sandbox.show(&run)
            );
            if expected == 2 {
                // clap's usage error, with its usage line or (for a value outside a list, which
                // clap answers with the list) its pointer to --help.
                assert!(
                    run.stderr.starts_with("error: ")
                        && (run.stderr.contains("Usage: auth ")
                            || run.stderr.contains("For more information, try '--help'.")),
                    "{}",
                    sandbox.show(&run)
                );
            }
        }
    }
    // Nothing exits with a code the help does not give it.
    for (command, code, _, args) in CASES {
        assert!(
            documented
                .iter()
                .any(|(documented, commands)| documented == code
                    && commands.contains(&(*command).to_owned())),
            "auth {} exits {code}, which `auth --help` does not document for `{command}`",
            args.join(" ")
        );
    }
}

#[test]
fn exit_code_0_success() {
    check_exit_code(0);
}

#[test]
fn exit_code_1_failure() {
    check_exit_code(1);
}

#[test]
fn exit_code_2_usage_error() {
    check_exit_code(2);
}

#[test]
fn exit_code_4_nothing_stored() {
    check_exit_code(4);
}

#[test]
fn every_documented_code_but_fetchs_own_is_tested() {
    let documented = documented_exit_codes(&Sandbox::new());
    let codes: Vec<i32> = documented.iter().map(|(code, _)| *code).collect();
    assert_eq!(codes, [0, 1, 2, 3, 4], "{documented:?}");
    // 3 (rejected credentials) needs a server that rejects: fetch.rs tests it for `fetch`,
    // check.rs for `login --check` and `status --check`.
    assert_eq!(
        documented[3].1,
        ["fetch", "login --check", "status --check"]
    );
}

// `auth logout` alone printed `Usage: auth logout <HOST>`, while its --help showed `[HOST]`.
#[test]
fn logout_usage_agrees_with_its_help() {
    let sandbox = Sandbox::new();
    let help = sandbox.run(&["logout", "--help"]);
    let error = sandbox.run(&["logout"]);
    assert_eq!(error.code, 2);
    let usage = |text: &str| {
        let line = text
            .lines()
            .find_map(|line| line.strip_prefix("Usage: "))
            .unwrap_or_else(|| panic!("no usage line in {text}"));
        line.replace(" [OPTIONS]", "")
    };
    assert_eq!(usage(&help.stdout), usage(&error.stderr));
    assert_eq!(usage(&error.stderr), "auth logout <HOST|--all>");
}

/// Each `caused by:` line of stderr, and whether its text shows up anywhere else in stderr.
fn causes_said_twice(run: &Run) -> Vec<String> {
    let causes: Vec<&str> = run
        .stderr
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("caused by: "))
        .collect();
    causes
        .iter()
        .filter(|cause| run.stderr.matches(*cause).count() != 1)
        .map(|cause| (*cause).to_owned())
        .collect()
}

// `could not read the credentials file X: Not a directory (os error 20)` was followed by
// `caused by: Not a directory (os error 20)`: the cause was in the message and in the chain.
// The file is made unreadable in a way that stops root too (chmod 000 does not): its path goes
// through a regular file, so every open fails with ENOTDIR.
#[test]
fn an_unreadable_credentials_file_is_reported_with_each_cause_once() {
    let sandbox = Sandbox::new();
    let blocker = sandbox.home().join("not-a-directory");
    fs::write(&blocker, "").unwrap();
    let path = blocker.join("credentials.json");
    let path = path.to_str().unwrap();
    let mut shown = String::new();
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["token", "example.com"],
        &["login", "example.com", "--token", "t"],
        &["logout", "example.com"],
        &["logout", "--all"],
    ] {
        let mut all = vec!["--auth-file", path];
        all.extend_from_slice(args);
        let run = sandbox.run(&all);
        assert_eq!(run.code, 1, "{}", sandbox.show(&run));
        assert!(
            run.stderr
                .contains("caused by: Not a directory (os error 20)"),
            "the OS error must be the cause:\n{}",
            sandbox.show(&run)
        );
        assert_eq!(
            causes_said_twice(&run),
            Vec::<String>::new(),
            "{}",
            sandbox.show(&run)
        );
        writeln!(
            shown,
            "$ auth {}\n{}",
            args.join(" "),
            run.stderr.trim_end()
        )
        .unwrap();
    }
    // The same for a broken .netrc: a warning for the commands that go on without it, an error
    // in `status`, each on one line with its cause said once.
    let mut token = sandbox.command(&["token", "example.com"]);
    token.env("NETRC", blocker.join("netrc"));
    let run = sandbox.run_command(token, None);
    assert_eq!(run.code, 4, "{}", sandbox.show(&run));
    let warning = run
        .stderr
        .lines()
        .find(|line| line.starts_with("warning: could not read the .netrc file"))
        .unwrap_or_else(|| panic!("no warning about .netrc:\n{}", run.stderr));
    assert_eq!(
        warning.matches("Not a directory (os error 20)").count(),
        1,
        "{warning}"
    );
    insta::assert_snapshot!(shown.replace(&sandbox.home().display().to_string(), "[HOME]"));
}

#[test]
fn color_follows_the_flag() {
    let sandbox = Sandbox::new();
    let always = sandbox.run(&["--color", "always", "token", "example.com"]);
    assert!(always.stderr.contains("\u{1b}["), "{:?}", always.stderr);
    let never = sandbox.run(&["--color", "never", "token", "example.com"]);
    assert!(!never.stderr.contains('\u{1b}'));
    // `auto` never colors a pipe.
    let auto = sandbox.run(&["token", "example.com"]);
    assert!(!auto.stderr.contains('\u{1b}'), "{:?}", auto.stderr);
}

/// `auth ARGS` on a pseudo-terminal (util-linux `script`), as a person runs it: stdin, stdout and
/// stderr are the terminal, and what it wrote comes back on `script`'s stdout.
fn on_a_terminal(sandbox: &Sandbox, args: &[&str], no_color: bool) -> Run {
    let auth = sandbox.command(args);
    let line = std::iter::once(auth.get_program())
        .chain(auth.get_args())
        .map(|word| format!("'{}'", word.to_str().unwrap().replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ");
    let mut script = Command::new("script");
    script
        .args(["--quiet", "--return", "--command", &line, "/dev/null"])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in auth.get_envs() {
        if let Some(value) = value {
            script.env(key, value);
        }
    }
    // The terminal `script` makes needs a type; `auto` colors it unless NO_COLOR is set.
    script.env("TERM", "xterm");
    if no_color {
        script.env("NO_COLOR", "1");
    }
    let output = script.output().unwrap_or_else(|err| {
        panic!("cannot run `script` ({err}); install util-linux: apt-get install -y bsdutils")
    });
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8"),
    }
}

// The NO_COLOR check ran with stderr on a pipe, where `auto` never colors: it could not fail.
#[test]
fn no_color_turns_colour_off_on_a_real_terminal() {
    let sandbox = Sandbox::new();
    let colored = on_a_terminal(&sandbox, &["token", "example.com"], false);
    assert_eq!(colored.code, 4, "{colored:?}");
    assert!(
        colored.stdout.contains("\u{1b}[") && colored.stdout.contains("error:"),
        "a terminal is colored by default: {:?}",
        colored.stdout
    );
    let plain = on_a_terminal(&sandbox, &["token", "example.com"], true);
    assert_eq!(plain.code, 4, "{plain:?}");
    assert!(
        plain.stdout.contains("error: no credentials"),
        "{:?}",
        plain.stdout
    );
    assert!(
        !plain.stdout.contains('\u{1b}'),
        "NO_COLOR=1: {:?}",
        plain.stdout
    );
    // --color always wins over NO_COLOR, as documented.
    let forced = on_a_terminal(
        &sandbox,
        &["--color", "always", "token", "example.com"],
        true,
    );
    assert!(forced.stdout.contains("\u{1b}["), "{:?}", forced.stdout);
}
