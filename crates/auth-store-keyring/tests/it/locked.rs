//! A collection locked after the store connected, as when a desktop session or a person locks
//! the keyring: lookups say the keyring is locked and how to unlock it, never that nothing is
//! stored.

use std::fmt::Write as _;
use std::time::Duration;

use auth_core::{Authentication, CredentialStore, HostKey, Secret, StoreError, UrlTarget};
use auth_store_keyring::{KeyringOptions, KeyringStore};

use crate::session::{in_session, report, run_in_session, tool};

/// How the store says to unlock (`platform::UNLOCK_HINT`), shortened in snapshots.
const UNLOCK_HINT: &str = "unlock it (log in to the desktop session or unlock it in your \
     keyring app; without a desktop, start gnome-keyring with `gnome-keyring-daemon --unlock`, \
     which reads its password on standard input) and try again";

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
