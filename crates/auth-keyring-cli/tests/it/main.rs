//! Integration tests of `KeyringCli` with small shell scripts standing in for Python's `keyring`
//! command: they check our subprocess handling (arguments, exit codes, output, timeout, cache).
//! The real `keyring` is exercised end to end in the workspace `tests/` crate.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Barrier, RwLock};
use std::thread;
use std::time::Duration;

use auth_core::Secret;
use auth_keyring_cli::{KeyringCli, KeyringCliError};
use url::Url;

/// Every password the scripts below print; none may appear in an error or a `Debug` print.
const PASSWORDS: &[&str] = &["s3cr3t-url", "s3cr3t-host", "s3cr3t-stdout", "p a:s@s w"];

/// Writing an executable while another test thread forks can make its `exec` fail with "text file
/// busy" (the forked child holds the write descriptor until it execs). Scripts are written under
/// the write lock and commands run under the read lock, so the two never overlap.
static SPAWN_LOCK: RwLock<()> = RwLock::new(());

/// A temporary directory for one test's script and what the script records.
struct Fake {
    dir: tempfile::TempDir,
}

impl Fake {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Writes an executable `keyring` script that first appends its arguments, each followed by
    /// `|`, as one line to `argv`, then runs `body`. `$DIR` in the body is this directory.
    fn script(&self, body: &str) -> PathBuf {
        let path = self.dir.path().join("keyring");
        let text = format!(
            "#!/bin/sh\nDIR='{}'\nprintf '%s|' \"$@\" >> \"$DIR/argv\"\necho >> \"$DIR/argv\"\n{body}\n",
            self.dir.path().display()
        );
        let _guard = SPAWN_LOCK.write().unwrap();
        fs::write(&path, text).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn cli(&self, body: &str) -> KeyringCli {
        KeyringCli::new().with_program(self.script(body))
    }

    /// The argument lines recorded by the script so far.
    fn argv(&self) -> Vec<String> {
        match fs::read_to_string(self.dir.path().join("argv")) {
            Ok(text) => text.lines().map(str::to_owned).collect(),
            Err(_) => Vec::new(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

fn ask(cli: &KeyringCli, url: &Url, username: &str) -> Result<Option<Secret>, KeyringCliError> {
    let _guard = SPAWN_LOCK.read().unwrap();
    cli.password(url, username)
}

fn exposed(answer: Result<Option<Secret>, KeyringCliError>) -> Option<String> {
    answer.unwrap().map(Secret::into_exposed)
}

fn assert_no_password(text: &str) {
    for password in PASSWORDS {
        assert!(!text.contains(password), "{password:?} leaked in {text}");
    }
}

fn assert_error_hides_passwords(err: &KeyringCliError) {
    assert_no_password(&format!("{err} {err:?} {err:#?}"));
}

#[test]
fn found_on_the_url_call() {
    let fake = Fake::new();
    let cli = fake.cli(
        r#"[ "$2" = "https://pypi.example/simple/" ] && [ "$3" = alice ] && { echo s3cr3t-url; exit 0; }
exit 1"#,
    );
    let index = url("https://alice@pypi.example/simple/#frag");
    assert_eq!(
        exposed(ask(&cli, &index, "alice")).as_deref(),
        Some("s3cr3t-url")
    );
    assert_eq!(fake.argv(), ["get|https://pypi.example/simple/|alice|"]);
    assert_eq!(cli.calls(), 1);
    assert_no_password(&format!("{cli:?} {cli:#?}"));
}

#[test]
fn found_only_on_the_host_call_with_its_port() {
    let fake = Fake::new();
    let cli = fake.cli(
        r#"[ "$2" = "pypi.example:8443" ] && { printf 's3cr3t-host\n'; exit 0; }
exit 1"#,
    );
    let index = url("https://alice:@pypi.example:8443/simple/");
    assert_eq!(
        exposed(ask(&cli, &index, "alice")).as_deref(),
        Some("s3cr3t-host")
    );
    // As uv: the URL without user information, then the host with its (non-default) port.
    assert_eq!(
        fake.argv(),
        [
            "get|https://pypi.example:8443/simple/|alice|",
            "get|pypi.example:8443|alice|",
        ]
    );
    assert_eq!(cli.calls(), 2);
    assert_no_password(&format!("{cli:?}"));
}

#[test]
fn not_found_is_none_and_cached_per_origin_and_user() {
    let fake = Fake::new();
    let cli = fake.cli("exit 1");
    let index = url("https://alice@pypi.example:443/simple/");
    assert_eq!(exposed(ask(&cli, &index, "alice")), None);
    // A default port is not part of the host lookup.
    assert_eq!(
        fake.argv(),
        [
            "get|https://pypi.example/simple/|alice|",
            "get|pypi.example|alice|"
        ]
    );
    assert_eq!(cli.calls(), 2);

    // Another file of the same index: the miss is cached, no process starts.
    let file = url("https://alice@pypi.example/simple/pkg/pkg-1.0.tar.gz");
    assert_eq!(exposed(ask(&cli, &file, "alice")), None);
    assert_eq!(cli.calls(), 2);

    // Another user, another port or another scheme is another key.
    assert_eq!(exposed(ask(&cli, &index, "bob")), None);
    assert_eq!(
        exposed(ask(&cli, &url("https://pypi.example:8443/"), "alice")),
        None
    );
    assert_eq!(
        exposed(ask(&cli, &url("http://pypi.example/"), "alice")),
        None
    );
    assert_eq!(cli.calls(), 8);
    assert_eq!(fake.argv().len(), 8);
}

#[test]
fn nothing_runs_without_a_user_name_or_a_host() {
    let fake = Fake::new();
    let cli = fake.cli("echo s3cr3t-url");
    assert_eq!(exposed(ask(&cli, &url("https://pypi.example/"), "")), None);
    assert_eq!(
        exposed(ask(&cli, &url("file:///srv/simple/"), "alice")),
        None
    );
    assert_eq!(cli.calls(), 0);
}

#[test]
fn password_comes_back_exactly() {
    let fake = Fake::new();
    let cli = fake.cli(r"printf ' p a:s@s w \r\n'");
    let index = url("https://alice@pypi.example/simple/");
    assert_eq!(
        exposed(ask(&cli, &index, "alice")).as_deref(),
        Some(" p a:s@s w ")
    );
    assert_no_password(&format!("{cli:?}"));

    // Only one newline is stripped.
    let fake = Fake::new();
    let cli = fake.cli(r"printf 'pw\n\n'");
    assert_eq!(exposed(ask(&cli, &index, "alice")).as_deref(), Some("pw\n"));
}

#[test]
fn empty_password_counts_as_none() {
    let fake = Fake::new();
    let cli = fake.cli("echo; exit 0");
    let index = url("https://alice@pypi.example/simple/");
    assert_eq!(exposed(ask(&cli, &index, "alice")), None);
    // Like a miss on the URL: the host is asked too.
    assert_eq!(cli.calls(), 2);
}

#[test]
fn other_exit_code_fails_with_the_stderr_tail_and_is_cached() {
    let fake = Fake::new();
    let cli = fake.cli(
        "echo s3cr3t-stdout
echo 'Traceback (most recent call last):' >&2
echo '  a frame' >&2
echo '  keyring.errors.KeyringLocked: the collection is locked  ' >&2
exit 3",
    );
    let index = url("https://alice@pypi.example/simple/");
    let err = ask(&cli, &index, "alice").unwrap_err();
    let KeyringCliError::Failed {
        code, stderr_tail, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(*code, Some(3));
    assert_eq!(
        stderr_tail,
        "keyring.errors.KeyringLocked: the collection is locked"
    );
    assert_error_hides_passwords(&err);
    insta::with_settings!({ filters => vec![(fake.path().to_str().unwrap(), "[TEMP]")] }, {
        insta::assert_snapshot!(err, @"`[TEMP]/keyring get` failed (exit code 3): keyring.errors.KeyringLocked: the collection is locked. Run `[TEMP]/keyring get <index host> <user name>` to see the whole error, or set the keyring provider to `disabled`");
    });
    // No host lookup after an error, and the error is cached.
    assert_eq!(cli.calls(), 1);
    assert!(matches!(
        ask(&cli, &index, "alice"),
        Err(KeyringCliError::Failed { .. })
    ));
    assert_eq!(cli.calls(), 1);
}

#[test]
fn exit_one_with_output_is_a_failure() {
    let fake = Fake::new();
    let cli = fake.cli("echo s3cr3t-stdout; exit 1");
    let err = ask(&cli, &url("https://alice@pypi.example/"), "alice").unwrap_err();
    assert!(
        matches!(err, KeyringCliError::Failed { code: Some(1), .. }),
        "{err:?}"
    );
    assert_error_hides_passwords(&err);
}

#[test]
fn non_utf8_password_is_an_error() {
    let fake = Fake::new();
    let cli = fake.cli(r"printf 'pw\377\n'");
    let err = ask(&cli, &url("https://alice@pypi.example/"), "alice").unwrap_err();
    assert!(matches!(err, KeyringCliError::NotUtf8 { .. }), "{err:?}");
}

#[test]
fn missing_program_is_not_installed() {
    let dir = tempfile::tempdir().unwrap();
    let cli = KeyringCli::new().with_program(dir.path().join("no-such-keyring"));
    let err = ask(&cli, &url("https://alice@pypi.example/"), "alice").unwrap_err();
    assert!(
        matches!(err, KeyringCliError::NotInstalled { .. }),
        "{err:?}"
    );
    assert_eq!(cli.calls(), 0);
    insta::with_settings!({ filters => vec![(dir.path().to_str().unwrap(), "[TEMP]")] }, {
        insta::assert_snapshot!(err, @"the keyring provider `subprocess` runs `[TEMP]/no-such-keyring`, which was not found. Install it (`pip install keyring`), or set the keyring provider to `disabled`");
    });
}

#[test]
fn a_command_that_never_answers_is_killed() {
    let fake = Fake::new();
    let cli = fake
        .cli(r#"echo $$ > "$DIR/pid"; exec sleep 30"#)
        .with_timeout(Duration::from_millis(300));
    let err = ask(&cli, &url("https://alice@pypi.example/"), "alice").unwrap_err();
    assert!(
        matches!(&err, KeyringCliError::TimedOut { seconds, .. } if (*seconds - 0.3).abs() < 1e-9),
        "{err:?}"
    );
    insta::with_settings!({ filters => vec![(fake.path().to_str().unwrap(), "[TEMP]")] }, {
        insta::assert_snapshot!(err, @"`[TEMP]/keyring get` did not answer within 0.3 s; is it waiting for a password prompt? It was stopped. Unlock the keyring or choose a backend that needs no prompt (`PYTHON_KEYRING_BACKEND`), or set the keyring provider to `disabled`");
    });
    // The script wrote its PID, then became `sleep`: that process was killed and reaped.
    let pid = fs::read_to_string(fake.path().join("pid"))
        .expect("the script did not start within the timeout");
    if cfg!(target_os = "linux") {
        let proc = PathBuf::from(format!("/proc/{}", pid.trim()));
        assert!(
            !proc.exists(),
            "{} is still running (or a zombie)",
            proc.display()
        );
    }
    // No host lookup after a timeout, and no second wait.
    assert_eq!(cli.calls(), 1);
    assert!(matches!(
        ask(&cli, &url("https://alice@pypi.example/other/"), "alice"),
        Err(KeyringCliError::TimedOut { .. })
    ));
    assert_eq!(cli.calls(), 1);
}

#[test]
fn concurrent_callers_for_one_key_start_one_process() {
    let fake = Fake::new();
    let cli = fake.cli("echo s3cr3t-url");
    let index = url("https://alice@pypi.example/simple/");
    let barrier = Barrier::new(4);
    let answers: Vec<_> = thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    exposed(ask(&cli, &index, "alice"))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        answers.iter().all(|a| a.as_deref() == Some("s3cr3t-url")),
        "{answers:?}"
    );
    assert_eq!(cli.calls(), 1);
}

#[test]
fn debug_shows_configuration_only() {
    let cli = KeyringCli::new();
    insta::assert_snapshot!(format!("{cli:?}"), @"KeyringCli { program: \"keyring\", timeout: 10s, cached: 0, calls: 0 }");
}
