//! Tests of `KeyringStore` on `keyring_core::mock` and on stores scripted to fail, block or
//! hide their entries as a locked Secret Service does.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::{Authentication, CredentialStore as _, HostKey, Secret, StoreError, UrlTarget};
use keyring_core::Entry;
use keyring_core::api::{CredentialApi, CredentialStoreApi};

use super::{KeyringOptions, KeyringStore};

/// The mock store, recording the account of every secret read: the mock counts nothing
/// itself, and on the Secret Service each read is a D-Bus round trip.
#[derive(Debug)]
struct Recording {
    mock: Arc<keyring_core::CredentialStore>,
    reads: Arc<Mutex<Vec<String>>>,
}

impl Recording {
    fn wrap(&self, entry: Entry) -> Entry {
        Entry::new_with_credential(Arc::new(RecordingEntry {
            entry,
            reads: Arc::clone(&self.reads),
        }))
    }
}

impl CredentialStoreApi for Recording {
    fn vendor(&self) -> String {
        "recording mock".to_owned()
    }
    fn id(&self) -> String {
        self.mock.id()
    }
    fn build(
        &self,
        service: &str,
        user: &str,
        modifiers: Option<&HashMap<&str, &str>>,
    ) -> keyring_core::Result<Entry> {
        Ok(self.wrap(self.mock.build(service, user, modifiers)?))
    }
    fn search(&self, spec: &HashMap<&str, &str>) -> keyring_core::Result<Vec<Entry>> {
        let found = self.mock.search(spec)?;
        Ok(found.into_iter().map(|entry| self.wrap(entry)).collect())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[derive(Debug)]
struct RecordingEntry {
    entry: Entry,
    reads: Arc<Mutex<Vec<String>>>,
}

impl CredentialApi for RecordingEntry {
    fn set_secret(&self, secret: &[u8]) -> keyring_core::Result<()> {
        self.entry.set_secret(secret)
    }
    fn get_secret(&self) -> keyring_core::Result<Vec<u8>> {
        let (_, account) = self.entry.get_specifiers().unwrap();
        self.reads.lock().unwrap().push(account);
        self.entry.get_secret()
    }
    fn delete_credential(&self) -> keyring_core::Result<()> {
        self.entry.delete_credential()
    }
    fn get_credential(&self) -> keyring_core::Result<Option<Arc<keyring_core::Credential>>> {
        self.entry.get_credential().map(|_| None)
    }
    fn get_specifiers(&self) -> Option<(String, String)> {
        self.entry.get_specifiers()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// What another program (pixi, `secret-tool`) would put in the keyring.
fn put(backend: &Arc<keyring_core::CredentialStore>, service: &str, account: &str, json: &str) {
    Entry::new_in_store(backend, service, account)
        .unwrap()
        .set_password(json)
        .unwrap();
}

fn find(store: &KeyringStore, url: &str) -> Option<String> {
    let found = store.find(&UrlTarget::parse(url).unwrap()).unwrap()?;
    Some(found.key.to_string())
}

#[test]
fn a_fresh_read_sees_another_processs_write_and_updates_the_cache() {
    let backend: Arc<keyring_core::CredentialStore> = keyring_core::mock::Store::new().unwrap();
    put(
        &backend,
        "rattler",
        "*.prefix.dev",
        r#"{"BearerToken":"old"}"#,
    );
    let store = KeyringStore::with_store(backend.clone(), KeyringOptions::default());
    let key = HostKey::parse("*.prefix.dev").unwrap();
    let token = |credential: Option<Arc<auth_core::Credential>>| {
        credential.map(|c| c.auth.primary_secret().expose().clone())
    };
    assert_eq!(token(store.get(&key).unwrap()).as_deref(), Some("old"));

    // Another process refreshes the token: the cache still has the old one ...
    put(
        &backend,
        "rattler",
        "*.prefix.dev",
        r#"{"BearerToken":"new"}"#,
    );
    assert_eq!(token(store.get(&key).unwrap()).as_deref(), Some("old"));
    // ... a fresh read has the new one, and so has the cache from then on.
    assert_eq!(
        token(store.get_fresh(&key).unwrap()).as_deref(),
        Some("new")
    );
    assert_eq!(token(store.get(&key).unwrap()).as_deref(), Some("new"));

    // Another process logs out.
    Entry::new_in_store(&backend, "rattler", "*.prefix.dev")
        .unwrap()
        .delete_credential()
        .unwrap();
    assert_eq!(token(store.get_fresh(&key).unwrap()), None);
    assert_eq!(token(store.get(&key).unwrap()), None);
}

#[test]
fn lookups_are_cached_per_process_and_follow_this_processs_writes() {
    let backend: Arc<keyring_core::CredentialStore> = keyring_core::mock::Store::new().unwrap();
    put(
        &backend,
        "rattler",
        "*.prefix.dev",
        r#"{"BearerToken":"a"}"#,
    );
    put(
        &backend,
        "rattler-other",
        "other.example.com",
        r#"{"BearerToken":"x"}"#,
    );
    let store = KeyringStore::with_store(backend.clone(), KeyringOptions::default());

    assert_eq!(
        find(&store, "https://repo.prefix.dev/x").as_deref(),
        Some("*.prefix.dev")
    );
    assert_eq!(
        find(&store, "https://other.example.com/"),
        None,
        "another service's entry"
    );

    // A miss is cached like a hit: what another program adds now is not read again ...
    assert_eq!(find(&store, "https://late.example.com/"), None);
    put(
        &backend,
        "rattler",
        "late.example.com",
        r#"{"BearerToken":"late"}"#,
    );
    assert_eq!(find(&store, "https://late.example.com/"), None);

    // ... but this process's own writes are seen at once.
    let key = HostKey::parse("mine.example.com").unwrap();
    store
        .set(&key, &Authentication::BearerToken(Secret::from("mine")))
        .unwrap();
    assert_eq!(
        find(&store, "https://mine.example.com/").as_deref(),
        Some("mine.example.com")
    );
    assert!(
        store
            .remove(&HostKey::parse("*.prefix.dev").unwrap())
            .unwrap()
    );
    assert_eq!(find(&store, "https://repo.prefix.dev/x"), None);
    assert!(
        !store
            .remove(&HostKey::parse("*.prefix.dev").unwrap())
            .unwrap()
    );

    // A new process (a new store) reads everything again.
    let fresh = KeyringStore::with_store(backend, KeyringOptions::default());
    assert_eq!(
        find(&fresh, "https://late.example.com/").as_deref(),
        Some("late.example.com")
    );
    assert_eq!(
        find(&fresh, "https://mine.example.com/").as_deref(),
        Some("mine.example.com")
    );
    assert_eq!(find(&fresh, "https://repo.prefix.dev/x"), None);
}

#[test]
fn an_entry_that_is_not_a_credential_is_skipped_not_fatal() {
    let backend: Arc<keyring_core::CredentialStore> = keyring_core::mock::Store::new().unwrap();
    put(&backend, "rattler", "bad.example.com", "not json sekrit");
    put(
        &backend,
        "rattler",
        "good.example.com",
        r#"{"CondaToken":"c"}"#,
    );
    let store = KeyringStore::with_store(backend, KeyringOptions::default());
    let keys: Vec<String> = store
        .list()
        .unwrap()
        .iter()
        .map(|c| c.key.to_string())
        .collect();
    assert_eq!(keys, ["good.example.com"]);
}

// The first lookup of a process read every entry's secret, one D-Bus round trip each, to
// answer for one host.
#[test]
fn a_lookup_reads_only_the_secret_of_the_key_it_settles_on() {
    let reads = Arc::new(Mutex::new(Vec::new()));
    let backend: Arc<keyring_core::CredentialStore> = Arc::new(Recording {
        mock: keyring_core::mock::Store::new().unwrap(),
        reads: Arc::clone(&reads),
    });
    for n in 0..20 {
        let json = format!(r#"{{"BearerToken":"t{n}"}}"#);
        put(&backend, "rattler", &format!("host{n}.example.com"), &json);
    }
    let store = KeyringStore::with_store(backend, KeyringOptions::default());
    let reads = || reads.lock().unwrap().clone();
    assert!(reads().is_empty());

    let found = store
        .find(&UrlTarget::parse("https://host7.example.com/x").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(found.auth.primary_secret().expose(), "t7");
    assert_eq!(reads(), ["host7.example.com"]);

    // Read once: the answer is kept, as is a miss, which reads nothing.
    assert_eq!(
        find(&store, "https://host7.example.com/y").as_deref(),
        Some("host7.example.com")
    );
    assert_eq!(find(&store, "https://nobody.example.com/"), None);
    let key = HostKey::parse("host3.example.com").unwrap();
    assert!(store.get(&key).unwrap().is_some());
    assert!(store.get(&key).unwrap().is_some());
    assert_eq!(reads(), ["host7.example.com", "host3.example.com"]);

    // Listing needs every entry, and reads each of the others once.
    assert_eq!(store.list().unwrap().len(), 20);
    let mut all = reads();
    assert_eq!(all.len(), 20);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 20);
    assert_eq!(store.list().unwrap().len(), 20);
    assert_eq!(reads().len(), 20);
}

#[test]
fn an_entry_not_understood_is_not_replaced_by_a_broader_key() {
    let backend: Arc<keyring_core::CredentialStore> = keyring_core::mock::Store::new().unwrap();
    put(
        &backend,
        "rattler",
        "*.example.com",
        r#"{"BearerToken":"broad"}"#,
    );
    put(
        &backend,
        "rattler",
        "future.example.com",
        r#"{"Kerberos":"t"}"#,
    );
    let store = KeyringStore::with_store(backend, KeyringOptions::default());
    assert_eq!(find(&store, "https://future.example.com/"), None);
    assert_eq!(find(&store, "https://future.example.com/"), None);
    assert_eq!(
        find(&store, "https://other.example.com/").as_deref(),
        Some("*.example.com")
    );
    let key = HostKey::parse("future.example.com").unwrap();
    assert!(store.get_fresh(&key).unwrap().is_none());
    assert_eq!(find(&store, "https://future.example.com/"), None);
}

/// What a scripted store does for one kind of call.
#[derive(Debug, Clone, Copy, Default)]
enum Act {
    /// As the mock does.
    #[default]
    Answer,
    /// Fails with this error.
    Fail(fn() -> keyring_core::Error),
    /// Never answers while the test runs: a bus that took the call and went silent.
    Block,
}

#[derive(Debug, Default, Clone, Copy)]
struct Script {
    search: Act,
    /// Entries found by the search have no service and account, and this for their
    /// attributes: the Secret Service store's answer for an entry whose collection is locked.
    hidden: Option<Act>,
    get: Act,
    set: Act,
    delete: Act,
}

/// Blocks a call until the test ends and drops the sender.
#[derive(Debug)]
struct Gate(Mutex<std::sync::mpsc::Receiver<()>>);

impl Gate {
    fn wait(&self) -> keyring_core::Error {
        let _ = self.0.lock().unwrap().recv();
        keyring_core::Error::PlatformFailure("released at the end of the test".into())
    }
}

/// The mock store, doing what its script says; every call that reached it is counted.
#[derive(Debug)]
struct Scripted {
    mock: Arc<keyring_core::CredentialStore>,
    script: Arc<Mutex<Script>>,
    gate: Arc<Gate>,
    calls: Arc<Mutex<Vec<&'static str>>>,
}

impl Scripted {
    fn act(&self, call: &'static str, act: Act) -> keyring_core::Result<()> {
        self.calls.lock().unwrap().push(call);
        act_out(act, &self.gate)
    }
}

fn act_out(act: Act, gate: &Gate) -> keyring_core::Result<()> {
    match act {
        Act::Answer => Ok(()),
        Act::Fail(err) => Err(err()),
        Act::Block => Err(gate.wait()),
    }
}

impl CredentialStoreApi for Scripted {
    fn vendor(&self) -> String {
        "scripted mock".to_owned()
    }
    fn id(&self) -> String {
        self.mock.id()
    }
    fn build(
        &self,
        service: &str,
        user: &str,
        modifiers: Option<&HashMap<&str, &str>>,
    ) -> keyring_core::Result<Entry> {
        let entry = self.mock.build(service, user, modifiers)?;
        Ok(self.wrap(entry, false))
    }
    fn search(&self, spec: &HashMap<&str, &str>) -> keyring_core::Result<Vec<Entry>> {
        let script = *self.script.lock().unwrap();
        self.act("search", script.search)?;
        let found = self.mock.search(spec)?;
        Ok(found
            .into_iter()
            .map(|entry| self.wrap(entry, true))
            .collect())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Scripted {
    fn wrap(&self, entry: Entry, found: bool) -> Entry {
        Entry::new_with_credential(Arc::new(ScriptedEntry {
            entry,
            found,
            script: Arc::clone(&self.script),
            gate: Arc::clone(&self.gate),
            calls: Arc::clone(&self.calls),
        }))
    }
}

#[derive(Debug)]
struct ScriptedEntry {
    entry: Entry,
    /// Found by a search (not built from a key).
    found: bool,
    script: Arc<Mutex<Script>>,
    gate: Arc<Gate>,
    calls: Arc<Mutex<Vec<&'static str>>>,
}

impl ScriptedEntry {
    fn act(&self, call: &'static str, pick: fn(&Script) -> Act) -> keyring_core::Result<()> {
        let act = pick(&self.script.lock().unwrap());
        self.calls.lock().unwrap().push(call);
        act_out(act, &self.gate)
    }
}

impl CredentialApi for ScriptedEntry {
    fn set_secret(&self, secret: &[u8]) -> keyring_core::Result<()> {
        self.act("set", |script| script.set)?;
        self.entry.set_secret(secret)
    }
    fn get_secret(&self) -> keyring_core::Result<Vec<u8>> {
        self.act("get", |script| script.get)?;
        self.entry.get_secret()
    }
    fn get_attributes(&self) -> keyring_core::Result<HashMap<String, String>> {
        self.act("attributes", |script| script.hidden.unwrap_or_default())?;
        Ok(HashMap::new())
    }
    fn delete_credential(&self) -> keyring_core::Result<()> {
        self.act("delete", |script| script.delete)?;
        self.entry.delete_credential()
    }
    fn get_credential(&self) -> keyring_core::Result<Option<Arc<keyring_core::Credential>>> {
        self.entry.get_credential().map(|_| None)
    }
    fn get_specifiers(&self) -> Option<(String, String)> {
        if self.found && self.script.lock().unwrap().hidden.is_some() {
            return None;
        }
        self.entry.get_specifiers()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A scripted store holding `entries` (account, secret) of the `rattler` service, the sender
/// that releases its blocked calls when dropped, and its script and call log.
struct Setup {
    store: Arc<KeyringStore>,
    script: Arc<Mutex<Script>>,
    calls: Arc<Mutex<Vec<&'static str>>>,
    _release: std::sync::mpsc::Sender<()>,
}

fn scripted(entries: &[(&str, &str)], timeout: Duration) -> Setup {
    let mock = keyring_core::mock::Store::new().unwrap();
    let mock: Arc<keyring_core::CredentialStore> = mock;
    for (account, secret) in entries {
        put(&mock, "rattler", account, secret);
    }
    let (release, gate) = std::sync::mpsc::channel();
    let script = Arc::new(Mutex::new(Script::default()));
    let calls = Arc::new(Mutex::new(Vec::new()));
    let backend: Arc<keyring_core::CredentialStore> = Arc::new(Scripted {
        mock,
        script: Arc::clone(&script),
        gate: Arc::new(Gate(Mutex::new(gate))),
        calls: Arc::clone(&calls),
    });
    let options = KeyringOptions {
        timeout,
        ..KeyringOptions::default()
    };
    Setup {
        store: Arc::new(KeyringStore::with_store(backend, options)),
        script,
        calls,
        _release: release,
    }
}

/// Runs `op` on the store on another thread, and fails the test, instead of hanging it, when
/// it does not come back within 30 s.
fn within_deadline<T: Send + 'static>(
    store: &Arc<KeyringStore>,
    op: impl FnOnce(&KeyringStore) -> T + Send + 'static,
) -> T {
    let (sender, receiver) = std::sync::mpsc::channel();
    let store = Arc::clone(store);
    std::thread::spawn(move || {
        let _ = sender.send(op(&store));
    });
    receiver
        .recv_timeout(Duration::from_secs(30))
        .expect("the keyring call did not return within 30 s: the timeout does not hold")
}

/// A store call in words: what it answered, or its error.
fn outcome<T: std::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Ok(value) => format!("ok {value:?}"),
        Err(StoreError::Unavailable { reason, .. }) => format!("unavailable: {reason}"),
        Err(other) => format!("error: {other}"),
    }
}

fn found_key(store: &KeyringStore, url: &str) -> Result<Option<String>, StoreError> {
    let found = store.find(&UrlTarget::parse(url).unwrap())?;
    Ok(found.map(|c| c.key.to_string()))
}

// The timeout was only ever exercised by the probe: a call that hangs after a good connection
// (the search, a secret's read, a write) must give up within the timeout as well, and the store
// then answers at once for the rest of the process instead of waiting again.
#[test]
fn a_call_that_never_answers_after_a_good_connection_gives_up_within_the_timeout() {
    type Op = fn(&KeyringStore) -> String;
    type Block = fn(&mut Script);
    let key = || HostKey::parse("a.example.com").unwrap();
    let cases: [(&str, Block, Op); 4] = [
        (
            "search",
            |script| script.search = Act::Block,
            |store| outcome(found_key(store, "https://a.example.com/")),
        ),
        (
            "get",
            |script| script.get = Act::Block,
            |store| outcome(found_key(store, "https://a.example.com/")),
        ),
        (
            "set",
            |script| script.set = Act::Block,
            |store| {
                let auth = Authentication::BearerToken(Secret::from("new"));
                outcome(store.set(&HostKey::parse("a.example.com").unwrap(), &auth))
            },
        ),
        (
            "delete",
            |script| script.delete = Act::Block,
            |store| outcome(store.remove(&HostKey::parse("a.example.com").unwrap())),
        ),
    ];
    let mut out = String::new();
    for (name, script, op) in cases {
        let setup = scripted(
            &[("a.example.com", r#"{"BearerToken":"t"}"#)],
            Duration::from_millis(200),
        );
        script(&mut setup.script.lock().unwrap());
        let first = within_deadline(&setup.store, op);
        let calls_after_first = setup.calls.lock().unwrap().len();
        // Later calls fail at once, without another call reaching the stuck keyring.
        let again = within_deadline(&setup.store, move |store| outcome(store.get(&key())));
        let calls_after_again = setup.calls.lock().unwrap().len();
        writeln!(
            out,
            "{name}: {first}\n  again: {again}\n  calls that reached the keyring after it: {}\n  unavailable_reason: {:?}",
            calls_after_again - calls_after_first,
            setup.store.unavailable_reason(),
        )
        .unwrap();
    }
    insta::assert_snapshot!(out, @r#"
    search: unavailable: the keyring did not answer within 0.2 s
      again: unavailable: the keyring did not answer within 0.2 s
      calls that reached the keyring after it: 0
      unavailable_reason: Some("the keyring did not answer within 0.2 s")
    get: unavailable: the keyring did not answer within 0.2 s
      again: unavailable: the keyring did not answer within 0.2 s
      calls that reached the keyring after it: 0
      unavailable_reason: Some("the keyring did not answer within 0.2 s")
    set: unavailable: the keyring did not answer within 0.2 s
      again: unavailable: the keyring did not answer within 0.2 s
      calls that reached the keyring after it: 0
      unavailable_reason: Some("the keyring did not answer within 0.2 s")
    delete: unavailable: the keyring did not answer within 0.2 s
      again: unavailable: the keyring did not answer within 0.2 s
      calls that reached the keyring after it: 0
      unavailable_reason: Some("the keyring did not answer within 0.2 s")
    "#);
}

/// The errors a locked Secret Service collection gives through the Secret Service store.
#[cfg(all(unix, not(any(target_os = "macos", target_os = "ios"))))]
fn locked() -> keyring_core::Error {
    keyring_core::Error::NoStorageAccess(Box::new(secret_service::Error::Locked))
}

#[cfg(all(unix, not(any(target_os = "macos", target_os = "ios"))))]
fn dismissed() -> keyring_core::Error {
    keyring_core::Error::NoStorageAccess(Box::new(secret_service::Error::Prompt))
}

// With the keyring locked and nobody to answer the unlock prompt, `auth token HOST` said "no
// credentials are stored" for a key that is stored there: an entry the search found but could
// not read was skipped, one whose secret could not be read was kept as "no credential" for the
// process, and a lookup's failure was not what `unavailable_reason` answered, so the CLI said
// nothing of it.
#[cfg(all(unix, not(any(target_os = "macos", target_os = "ios"))))]
#[test]
fn a_locked_keyring_is_unavailable_saying_so_never_empty() {
    type Lock = fn(&mut Script);
    let cases: [(&str, Lock); 3] = [
        ("entries hidden by the search", |script| {
            script.hidden = Some(Act::Fail(locked));
        }),
        ("the secret's read", |script| script.get = Act::Fail(locked)),
        ("the unlock prompt dismissed", |script| {
            script.search = Act::Fail(dismissed);
        }),
    ];
    let mut out = String::new();
    for (name, lock) in cases {
        let setup = scripted(
            &[("a.example.com", r#"{"BearerToken":"t"}"#)],
            Duration::from_secs(5),
        );
        lock(&mut setup.script.lock().unwrap());
        let store = &setup.store;
        let locked = outcome(found_key(store, "https://a.example.com/"));
        let reason = store.unavailable_reason();
        // Unlocked: the same store finds the entry, and is available again.
        *setup.script.lock().unwrap() = Script::default();
        let unlocked = outcome(found_key(store, "https://a.example.com/"));
        writeln!(
            out,
            "{name}:\n  {locked}\n  unavailable_reason: {reason:?}\n  unlocked: {unlocked}, unavailable_reason: {:?}",
            store.unavailable_reason()
        )
        .unwrap();
    }
    assert!(out.contains(crate::platform::UNLOCK_HINT));
    insta::assert_snapshot!(out.replace(crate::platform::UNLOCK_HINT, "[HOW TO UNLOCK]"), @r#"
    entries hidden by the search:
      unavailable: the keyring collection that holds the entries is locked; [HOW TO UNLOCK]
      unavailable_reason: Some("the keyring collection that holds the entries is locked; [HOW TO UNLOCK]")
      unlocked: ok Some("a.example.com"), unavailable_reason: None
    the secret's read:
      unavailable: the keyring collection that holds the entries is locked; [HOW TO UNLOCK]
      unavailable_reason: Some("the keyring collection that holds the entries is locked; [HOW TO UNLOCK]")
      unlocked: ok Some("a.example.com"), unavailable_reason: None
    the unlock prompt dismissed:
      unavailable: the keyring is locked, and its unlock prompt was dismissed or could not be shown (no desktop session to show it in); [HOW TO UNLOCK]
      unavailable_reason: Some("the keyring is locked, and its unlock prompt was dismissed or could not be shown (no desktop session to show it in); [HOW TO UNLOCK]")
      unlocked: ok Some("a.example.com"), unavailable_reason: None
    "#);
    insta::assert_snapshot!(crate::platform::UNLOCK_HINT, @"unlock it (log in to the desktop session or unlock it in your keyring app; without a desktop, start gnome-keyring with `gnome-keyring-daemon --unlock`, which reads its password on standard input) and try again");
}

/// Every log event of `f`, at every level, with its fields as they were given: no formatter in
/// between that could escape what the store did not.
fn logged<T>(f: impl FnOnce() -> T) -> (T, String) {
    use tracing_subscriber::layer::SubscriberExt as _;

    struct Raw(Arc<Mutex<String>>);
    struct Fields<'a>(&'a mut String);
    impl tracing::field::Visit for Fields<'_> {
        fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
            write!(self.0, " {field}={value}").unwrap();
        }
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            write!(self.0, " {field}={value:?}").unwrap();
        }
    }
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Raw {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            let mut line = event.metadata().level().to_string();
            event.record(&mut Fields(&mut line));
            let mut out = self.0.lock().unwrap();
            out.push_str(&line);
            out.push('\n');
        }
    }

    let out = Arc::new(Mutex::new(String::new()));
    let subscriber = tracing_subscriber::registry().with(Raw(Arc::clone(&out)));
    let value = tracing::subscriber::with_default(subscriber, f);
    let text = out.lock().unwrap().clone();
    (value, text)
}

// Bytes from a misbehaving D-Bus peer (its error text) and from another program's entries (an
// account) went into errors and logs as they were, escape sequences included.
#[test]
fn keyring_text_reaches_errors_and_logs_with_control_characters_escaped() {
    fn hostile() -> keyring_core::Error {
        keyring_core::Error::PlatformFailure(
            "peer says \u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}gnp.exe".into(),
        )
    }
    let setup = scripted(
        &[
            ("evil\u{1b}[31m.example.com", r#"{"BearerToken":"t"}"#),
            ("a.example.com", r#"{"BearerToken":"t"}"#),
        ],
        Duration::from_secs(5),
    );
    setup.script.lock().unwrap().search = Act::Fail(hostile);
    let (failed, failed_logs) =
        logged(|| outcome(found_key(&setup.store, "https://a.example.com/")));
    let reason = setup.store.unavailable_reason().unwrap();
    setup.script.lock().unwrap().search = Act::Answer;
    let (found, found_logs) = logged(|| outcome(found_key(&setup.store, "https://a.example.com/")));
    let all = format!("{failed}\n{reason}\n{failed_logs}{found}\n{found_logs}");
    assert!(
        !all.contains(['\u{1b}', '\u{7}', '\u{202e}']),
        "a control character got through: {all:?}"
    );
    insta::assert_snapshot!(all, @r#"
    unavailable: the keyring failed (peer says \u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}gnp.exe)
    the keyring failed (peer says \u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}gnp.exe)
    ok Some("a.example.com")
    DEBUG message=skipping a keyring entry whose account is not a host key account=evil\u{1b}[31m.example.com
    "#);
}

// An entry not understood is described by its key and its shape, never its value: any string in
// it may be a secret, the names of its fields too.
#[test]
fn an_entry_not_understood_is_described_by_key_and_shape_only() {
    let setup = scripted(
        &[
            ("a.example.com", "SECRETZZ123"),
            ("b.example.com", r#"{"BearerToken": 5}"#),
            ("c.example.com", r#"{"SECRETZZ123": {}}"#),
            (
                "d.example.com",
                r#"{"BasicHTTP": {"username": "SECRETZZ123", "password": 5}}"#,
            ),
            (
                "e.example.com",
                r#"{"BearerToken": "SECRETZZ123", "CondaToken": "SECRETZZ123"}"#,
            ),
            ("f.example.com", r#"["SECRETZZ123"]"#),
            ("g.example.com", r#"{"BearerToken":"good"}"#),
        ],
        Duration::from_secs(5),
    );
    // Not text: the Secret Service stores bytes.
    let backend = setup.store.core().unwrap();
    Entry::new_in_store(&backend, "rattler", "h.example.com")
        .unwrap()
        .set_secret(b"\xffSECRETZZ123")
        .unwrap();
    let (listed, logs) = logged(|| {
        setup
            .store
            .list()
            .map(|all| all.iter().map(|c| c.key.to_string()).collect::<Vec<_>>())
    });
    assert_eq!(listed.unwrap(), ["g.example.com"]);
    let key = HostKey::parse("c.example.com").unwrap();
    let (fresh, fresh_logs) = logged(|| outcome(setup.store.get_fresh(&key)));
    let mut logs: Vec<&str> = logs.lines().collect();
    logs.sort_unstable();
    let all = format!("{}\n{fresh}\n{fresh_logs}", logs.join("\n"));
    assert!(!all.contains("ZZ123"), "{all}");
    insta::assert_snapshot!(all, @"
    WARN message=could not read a keyring entry: an entry's secret is not text key=h.example.com
    WARN message=the keyring entry is not a credential this version understands (`BearerToken` holds a number where a string was expected); it was left as it is and not used key=b.example.com
    WARN message=the keyring entry is not a credential this version understands (an array where an object naming the credential kind (BearerToken, BasicHTTP, CondaToken, S3Credentials, OAuth) was expected); it was left as it is and not used key=f.example.com
    WARN message=the keyring entry is not a credential this version understands (an object with 2 fields where one naming the credential kind (BearerToken, BasicHTTP, CondaToken, S3Credentials, OAuth) was expected); it was left as it is and not used key=e.example.com
    WARN message=the keyring entry is not a credential this version understands (an unknown credential kind (expected one of BearerToken, BasicHTTP, CondaToken, S3Credentials, OAuth)); it was left as it is and not used key=c.example.com
    WARN message=the keyring entry is not a credential this version understands (the field `password` of `BasicHTTP` is a number where a string was expected); it was left as it is and not used key=d.example.com
    WARN message=the keyring entry is not a credential this version understands (the secret is not JSON); it was left as it is and not used key=a.example.com
    ok None
    WARN message=the keyring entry is not a credential this version understands (an unknown credential kind (expected one of BearerToken, BasicHTTP, CondaToken, S3Credentials, OAuth)); it was left as it is and not used key=c.example.com
    ");
}

#[test]
fn an_ambiguous_match_is_described_without_its_entries() {
    let backend: Arc<keyring_core::CredentialStore> = keyring_core::mock::Store::new().unwrap();
    put(&backend, "rattler", "a.example.com", "SECRETZZ123");
    let entry = || Entry::new_in_store(&backend, "rattler", "a.example.com").unwrap();
    let described = super::describe(&keyring_core::Error::Ambiguous(vec![entry(), entry()]));
    insta::assert_snapshot!(described, @"2 keyring entries match one key; remove all but one");
}
