//! The Secret Service's direct read path against `keyring-core`'s on one real gnome-keyring: the
//! same answer for every URL, key and listing, and a lookup that costs one `Get` per item, one
//! `plain` session and one secret read, where `keyring-core` made two sequential `Get`s per item
//! and a second, Diffie-Hellman, session.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use auth_core::{Authentication, Credential, CredentialStore, HostKey, Secret, UrlTarget};
use auth_store_keyring::{KeyringOptions, KeyringStore};

use crate::session::{INSTALL, in_session, report, run_in_session};

fn options() -> KeyringOptions {
    KeyringOptions {
        timeout: Duration::from_secs(10),
        ..KeyringOptions::default()
    }
}

/// A store reading through `keyring-core` only: the path every read took before, and still
/// takes when the direct one leaves it.
fn through_keyring_core() -> KeyringStore {
    let core = zbus_secret_service_keyring_store::Store::new().unwrap();
    KeyringStore::with_store(core, options())
}

/// An item written by `secret-tool`, as another program would write it.
fn secret_tool_store(attributes: &[&str], secret: &[u8]) {
    let mut child = Command::new("secret-tool")
        .arg("store")
        .arg("--label=written by another program")
        .args(attributes)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run secret-tool ({err}); install it with: {INSTALL}"));
    child.stdin.take().unwrap().write_all(secret).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "secret-tool store: {output:?}");
}

/// What a lookup answered, with the credential's kind (never its secret).
fn answer(found: Result<Option<Arc<Credential>>, auth_core::StoreError>) -> String {
    match found {
        Ok(Some(credential)) => format!("{} ({})", credential.key, credential.auth.kind()),
        Ok(None) => "nothing".to_owned(),
        Err(err) => format!("error: {err}"),
    }
}

/// The debug log of `f` on this thread, where the store says when it falls back.
fn logged<T>(f: impl FnOnce() -> T) -> (T, String) {
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let result = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    (result, text)
}

/// Credentials of every kind and key shape written through `keyring-core`, and what other
/// programs may leave under the service: a secret that is not a credential, one that is not
/// text, an account that is not a host key, an item with no account, and an item of another
/// service under a key we hold.
fn fill_keyring() {
    let writer = through_keyring_core();
    let token = |text: &str| Authentication::BearerToken(Secret::from(text));
    for (key, auth) in [
        ("prefix.dev", token("tok-exact")),
        ("*.prefix.dev", token("tok-wild")),
        ("*.repo.prefix.dev", token("tok-wild-deeper")),
        ("repo.prefix.dev/channels/private", token("tok-path")),
        ("repo.prefix.dev:8443", token("tok-port")),
        (
            "https://conda.example.org",
            Authentication::CondaToken(Secret::from("tok-conda")),
        ),
        (
            "*.example.org",
            Authentication::BasicHTTP {
                username: "me".to_owned(),
                password: Secret::from("pw-basic"),
            },
        ),
    ] {
        writer.set(&HostKey::parse(key).unwrap(), &auth).unwrap();
    }
    secret_tool_store(
        &["service", "rattler", "username", "odd.example.net"],
        b"[1, 2]",
    );
    secret_tool_store(
        &["service", "rattler", "username", "bytes.example.net"],
        b"\xff\xfe",
    );
    secret_tool_store(&["service", "rattler", "username", "not a key!"], b"{}");
    secret_tool_store(&["service", "rattler", "target", "default"], b"{}");
    secret_tool_store(
        &["service", "other", "username", "prefix.dev"],
        br#"{"BearerToken":"not-ours"}"#,
    );
}

#[test]
fn the_direct_path_and_keyring_core_give_the_same_answers() {
    if !in_session() {
        let found = run_in_session("agree::the_direct_path_and_keyring_core_give_the_same_answers");
        insta::assert_snapshot!(found, @r#"
        https://prefix.dev/x                           prefix.dev (BearerToken)
        https://a.prefix.dev/x                         *.prefix.dev (BearerToken)
        https://repo.prefix.dev/channels/private/pkg   repo.prefix.dev/channels/private (BearerToken)
        https://repo.prefix.dev/channels/public/pkg    *.repo.prefix.dev (BearerToken)
        https://repo.prefix.dev:8443/x                 repo.prefix.dev:8443 (BearerToken)
        https://a.repo.prefix.dev/x                    *.repo.prefix.dev (BearerToken)
        https://conda.example.org/t/x                  https://conda.example.org (CondaToken)
        http://conda.example.org/t/x                   *.example.org (BasicHTTP)
        https://files.example.org/x                    *.example.org (BasicHTTP)
        https://odd.example.net/x                      nothing
        https://bytes.example.net/x                    nothing
        https://nothing.example.com/x                  nothing
        get prefix.dev                                 prefix.dev (BearerToken)
        get *.prefix.dev                               *.prefix.dev (BearerToken)
        get repo.prefix.dev/channels/private           repo.prefix.dev/channels/private (BearerToken)
        get odd.example.net                            nothing
        get missing.example.com                        nothing
        list: *.example.org, *.prefix.dev, *.repo.prefix.dev, https://conda.example.org, prefix.dev, repo.prefix.dev/channels/private, repo.prefix.dev:8443
        "#);
        return;
    }
    fill_keyring();
    let urls = [
        "https://prefix.dev/x",
        "https://a.prefix.dev/x",
        "https://repo.prefix.dev/channels/private/pkg",
        "https://repo.prefix.dev/channels/public/pkg",
        "https://repo.prefix.dev:8443/x",
        "https://a.repo.prefix.dev/x",
        "https://conda.example.org/t/x",
        "http://conda.example.org/t/x",
        "https://files.example.org/x",
        "https://odd.example.net/x",
        "https://bytes.example.net/x",
        "https://nothing.example.com/x",
    ];
    let keys = [
        "prefix.dev",
        "*.prefix.dev",
        "repo.prefix.dev/channels/private",
        "odd.example.net",
        "missing.example.com",
    ];
    let direct = KeyringStore::new(options());
    let core = through_keyring_core();
    let mut found = String::new();
    let (answers, log) = logged(|| {
        let mut answers = Vec::new();
        for url in urls {
            let target = UrlTarget::parse(url).unwrap();
            answers.push((url.to_owned(), answer(direct.find(&target))));
        }
        for key in keys {
            let key = HostKey::parse(key).unwrap();
            answers.push((format!("get {key}"), answer(direct.get(&key))));
        }
        answers
    });
    assert!(
        !log.contains("keyring-core"),
        "the direct path fell back to keyring-core:\n{log}"
    );
    for (asked, direct_answer) in &answers {
        let core_answer = match asked.strip_prefix("get ") {
            Some(key) => answer(core.get(&HostKey::parse(key).unwrap())),
            None => answer(core.find(&UrlTarget::parse(asked).unwrap())),
        };
        assert_eq!(direct_answer, &core_answer, "{asked}");
        writeln!(found, "{asked:<46} {direct_answer}").unwrap();
    }
    // The same credentials, secrets included, not only the same keys.
    let listed = |store: &KeyringStore| {
        let mut all: Vec<Credential> = store
            .list()
            .unwrap()
            .iter()
            .map(|credential| Credential::clone(credential))
            .collect();
        all.sort_by(|a, b| a.key.as_str().cmp(b.key.as_str()));
        all
    };
    let direct_list = listed(&KeyringStore::new(options()));
    assert_eq!(direct_list, listed(&through_keyring_core()));
    let keys: Vec<&str> = direct_list.iter().map(|c| c.key.as_str()).collect();
    writeln!(found, "list: {}", keys.join(", ")).unwrap();
    report(&found);
}

/// `dbus-monitor` on the session bus, read by a thread, line by line.
struct Monitor {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Monitor {
    fn start() -> Self {
        let mut child = Command::new("dbus-monitor")
            .arg("--session")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!("cannot run dbus-monitor ({err}); install it with: {INSTALL}")
            });
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        // The bus takes its names away (`NameLost`) when it makes it a monitor: every call made
        // after that passes it.
        loop {
            let line = lines
                .recv_timeout(Duration::from_mins(1))
                .expect("dbus-monitor did not become a monitor within a minute");
            if line.contains("member=NameLost") {
                break;
            }
        }
        let mut monitor = Self { child, lines };
        monitor.mark("auth.test.start");
        monitor
    }

    /// Makes a call that passes the monitor and returns every line it printed up to that call.
    fn mark(&mut self, marker: &str) -> Vec<String> {
        let status = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                &format!("string:{marker}"),
            ])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "dbus-send NameHasOwner failed");
        let quoted = format!("\"{marker}\"");
        let mut seen = Vec::new();
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_mins(1))
                .unwrap_or_else(|_| panic!("dbus-monitor did not show the call {marker}"));
            if line.contains(&quoted) {
                return seen;
            }
            seen.push(line);
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Secret Service's methods called in these monitor lines, counted, with the algorithm of
/// every session opened.
fn calls_to_the_service(lines: &[String]) -> String {
    let mut calls: BTreeMap<String, usize> = BTreeMap::new();
    let mut sessions = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        if !line.starts_with("method call") || !line.contains("destination=org.freedesktop.secrets")
        {
            continue;
        }
        let member = line.rsplit("member=").next().unwrap_or_default().to_owned();
        if member == "OpenSession"
            && let Some(algorithm) = lines.get(at + 1)
        {
            sessions.push(algorithm.trim().to_owned());
        }
        *calls.entry(member).or_default() += 1;
    }
    let mut out = String::new();
    for (member, count) in calls {
        writeln!(out, "{member}: {count}").unwrap();
    }
    writeln!(out, "sessions: {}", sessions.join(", ")).unwrap();
    out
}

// A lookup on the Secret Service went through `keyring-core`, whose search result asks each
// item whether it is locked and then for its attributes (two sequential `Get`s per item), and
// whose store opened a second connection with a Diffie-Hellman session: 111 calls for 51 items,
// where `secret-tool lookup` makes 11.
#[test]
fn a_lookup_asks_each_item_once_in_one_plain_session() {
    const ITEMS: usize = 20;
    if !in_session() {
        let found = run_in_session("agree::a_lookup_asks_each_item_once_in_one_plain_session");
        insta::assert_snapshot!(found, @r#"
        20 items, found host10.example.com (BearerToken)
        Get: 21
        GetSecrets: 1
        OpenSession: 1
        ReadAlias: 1
        SearchItems: 1
        sessions: string "plain"
        "#);
        return;
    }
    for i in 0..ITEMS {
        let host = format!("host{i}.example.com");
        let json = format!(r#"{{"BearerToken":"pfx_{i}"}}"#);
        secret_tool_store(&["service", "rattler", "username", &host], json.as_bytes());
    }
    let mut monitor = Monitor::start();
    let store = KeyringStore::new(options());
    let target = UrlTarget::parse("https://host10.example.com/x").unwrap();
    let found = answer(store.find(&target));
    let lines = monitor.mark("auth.test.end");
    report(&format!(
        "{ITEMS} items, found {found}\n{}",
        calls_to_the_service(&lines)
    ));
}
