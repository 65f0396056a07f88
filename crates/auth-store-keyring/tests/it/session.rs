//! Running a test inside a fresh D-Bus session with gnome-keyring: the store connects to the bus
//! named by `DBUS_SESSION_BUS_ADDRESS`, which only a new process can be given, so each test runs
//! itself again inside the session ([`in_session`]) and checks what that run [`report`]s.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub(crate) const INSTALL: &str =
    "apt-get install -y --no-install-recommends gnome-keyring dbus dbus-x11 libsecret-tools";

/// Set in the run inside the session.
const IN_SESSION: &str = "AUTH_STORE_KEYRING_IN_SESSION";

/// Around what the run inside the session found, in its standard output.
const BEGIN: &str = "--- outcome\n";
const END: &str = "--- end\n";

/// Starts gnome-keyring with an unlocked login collection, as on a desktop, waits until it
/// answers, then runs the test named `$TEST_NAME` of this binary again inside that session.
const SESSION_SCRIPT: &str = r#"set -e
printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
secret-tool search --all service auth-tests-readiness >/dev/null 2>&1 || true
exec "$TEST_BINARY" --exact "$TEST_NAME" --nocapture --test-threads=1"#;

/// Whether this run is the one inside the session.
#[allow(
    clippy::disallowed_methods,
    reason = "a test tells its run inside the session from the outer run"
)]
pub(crate) fn in_session() -> bool {
    std::env::var_os(IN_SESSION).is_some()
}

/// Runs the test `test` of this binary inside a fresh session and returns what it found
/// ([`report`]); fails when that run fails or does not end within two minutes.
#[allow(clippy::disallowed_methods, reason = "the session needs our PATH")]
pub(crate) fn run_in_session(test: &str) -> String {
    let home = tempfile::Builder::new()
        .prefix("auth-keyring-it-")
        .tempdir()
        .unwrap();
    let runtime = home.path().join("run");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::set_permissions(
        &runtime,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let mut command = Command::new("dbus-run-session");
    command
        .args(["--", "sh", "-c", SESSION_SCRIPT])
        .env_clear()
        .env("HOME", home.path())
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("TEST_BINARY", std::env::current_exe().unwrap())
        .env("TEST_NAME", test)
        .env(IN_SESSION, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    let child = command.spawn().unwrap_or_else(|err| {
        panic!("cannot start dbus-run-session ({err}); install the Secret Service with: {INSTALL}")
    });
    let pid = child.id();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    let Ok(output) = receiver.recv_timeout(Duration::from_mins(2)) else {
        let _ = Command::new("kill").arg(pid.to_string()).status();
        panic!("the run inside the keyring session did not end within 120 s");
    };
    let output = output.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let found = stdout
        .split_once(BEGIN)
        .and_then(|(_, rest)| rest.split_once(END))
        .map(|(found, _)| found.to_owned());
    match found {
        Some(found) if output.status.success() => found,
        _ => panic!(
            "the run inside the keyring session failed ({}); if gnome-keyring is missing, \
             install it with: {INSTALL}\n--- stdout\n{stdout}\n--- stderr\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// What the run inside the session found, for the outer run to check.
pub(crate) fn report(found: &str) {
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{BEGIN}{found}{END}").unwrap();
}

/// A tool of the session.
pub(crate) fn tool(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("cannot run {program} ({err}); install it with: {INSTALL}"));
    assert!(output.status.success(), "{program} {args:?}: {output:?}");
}
