//! A collection locked after the store connected, as when a desktop session or a person locks
//! the keyring: lookups say the keyring is locked and how to unlock it, never that nothing is
//! stored.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use auth_core::{Authentication, CredentialStore, HostKey, Secret, StoreError, UrlTarget};
use auth_store_keyring::{KeyringOptions, KeyringStore};

const INSTALL: &str =
    "apt-get install -y --no-install-recommends gnome-keyring dbus dbus-x11 libsecret-tools";

/// Set in the run inside the session.
const IN_SESSION: &str = "AUTH_STORE_KEYRING_IN_SESSION";

/// Around what the run inside the session found, in its standard output.
const BEGIN: &str = "--- outcome\n";
const END: &str = "--- end\n";

/// How the store says to unlock (`platform::UNLOCK_HINT`), shortened in snapshots.
const UNLOCK_HINT: &str = "unlock it (log in to the desktop session or unlock it in your \
     keyring app; without a desktop, start gnome-keyring with `gnome-keyring-daemon --unlock`, \
     which reads its password on standard input) and try again";

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
fn in_session() -> bool {
    std::env::var_os(IN_SESSION).is_some()
}

/// Runs the test `test` of this binary inside a fresh session and returns what it found
/// ([`report`]); fails when that run fails or does not end within two minutes.
#[allow(clippy::disallowed_methods, reason = "the session needs our PATH")]
fn run_in_session(test: &str) -> String {
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
fn report(found: &str) {
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{BEGIN}{found}{END}").unwrap();
}

/// A tool of the session.
fn tool(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("cannot run {program} ({err}); install it with: {INSTALL}"));
    assert!(output.status.success(), "{program} {args:?}: {output:?}");
}

fn lock_default_collection() {
    tool(
        "dbus-send",
        &[
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/aliases/default",
        ],
    );
}

fn store(interactive: bool) -> KeyringStore {
    KeyringStore::new(KeyringOptions {
        timeout: Duration::from_secs(10),
        interactive,
        ..KeyringOptions::default()
    })
}

/// A lookup of the stored key, and what the store says of its availability after it.
fn lookup(store: &KeyringStore) -> String {
    let target = UrlTarget::parse("https://locked.example.com/x").unwrap();
    let found = match store.find(&target) {
        Ok(Some(found)) => format!("found {}", found.key),
        Ok(None) => "nothing stored".to_owned(),
        Err(StoreError::Unavailable { reason, .. }) => format!("unavailable: {reason}"),
        Err(other) => format!("error: {other}"),
    };
    format!(
        "{found}\n  unavailable_reason: {:?}",
        store.unavailable_reason()
    )
}

// With the keyring locked and nobody to answer the unlock prompt, `auth token HOST` said "no
// credentials are stored" for a key stored there: once the probe had passed, a lookup's failure
// ("prompt dismissed") was not what `unavailable_reason` answered, so the CLI could only say
// "not stored".
#[test]
fn a_collection_locked_after_the_probe_is_unavailable_saying_so() {
    if !in_session() {
        let found =
            run_in_session("locked::a_collection_locked_after_the_probe_is_unavailable_saying_so");
        assert!(found.contains(UNLOCK_HINT), "{found}");
        insta::assert_snapshot!(found.replace(UNLOCK_HINT, "[HOW TO UNLOCK]"), @r#"
        before the lock: found locked.example.com
          unavailable_reason: None
        probed before the lock: unavailable: the keyring is locked, and its unlock prompt was dismissed or could not be shown (no desktop session to show it in); [HOW TO UNLOCK]
          unavailable_reason: Some("the keyring is locked, and its unlock prompt was dismissed or could not be shown (no desktop session to show it in); [HOW TO UNLOCK]")
        interactive, so the probe passes: unavailable: the keyring is locked, and its unlock prompt was dismissed or could not be shown (no desktop session to show it in); [HOW TO UNLOCK]
          unavailable_reason: Some("the keyring is locked, and its unlock prompt was dismissed or could not be shown (no desktop session to show it in); [HOW TO UNLOCK]")
        probed after the lock: unavailable: the default keyring collection is locked, and unlocking it needs a prompt that nobody can answer (standard input is not a terminal); [HOW TO UNLOCK]
          unavailable_reason: Some("the default keyring collection is locked, and unlocking it needs a prompt that nobody can answer (standard input is not a terminal); [HOW TO UNLOCK]")
        "#);
        return;
    }
    let key = HostKey::parse("locked.example.com").unwrap();
    store(false)
        .set(
            &key,
            &Authentication::BearerToken(Secret::from("tok-locked")),
        )
        .unwrap();
    let mut found = format!("before the lock: {}\n", lookup(&store(false)));
    // A process that probed while the collection was unlocked (a long-running downloader, or a
    // lock between the probe and the lookup) and has not searched yet.
    let early = store(false);
    assert_eq!(early.unavailable_reason(), None);

    lock_default_collection();
    writeln!(found, "probed before the lock: {}", lookup(&early)).unwrap();
    writeln!(
        found,
        "interactive, so the probe passes: {}",
        lookup(&store(true))
    )
    .unwrap();
    writeln!(found, "probed after the lock: {}", lookup(&store(false))).unwrap();
    report(&found);
}
