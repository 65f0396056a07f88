//! `KeyringStore`: the probe, the per-process index, and reads and writes through `keyring-core`.

use std::sync::{Arc, OnceLock, RwLock, mpsc};
use std::time::Duration;

use auth_core::{
    Authentication, Credential, CredentialIndex, CredentialStore, HostKey, StoreError, UrlTarget,
};
use keyring_core::Entry;

use crate::platform;

/// How the keyring is used.
#[derive(Debug, Clone)]
pub struct KeyringOptions {
    /// The service name of every entry: `rattler`, shared with pixi.
    pub service: String,
    /// How long the keyring may take to answer the probe (and, when not interactive, any call).
    pub timeout: Duration,
    /// Whether a person can answer an unlock prompt (standard input is a terminal). When not,
    /// a locked collection makes the keyring unavailable instead of waiting for a prompt.
    pub interactive: bool,
}

impl Default for KeyringOptions {
    fn default() -> Self {
        Self {
            service: "rattler".to_owned(),
            timeout: Duration::from_secs(1),
            interactive: false,
        }
    }
}

/// The OS keyring as a credential store.
#[derive(Debug)]
pub struct KeyringStore {
    options: KeyringOptions,
    backend: OnceLock<Result<Arc<keyring_core::CredentialStore>, String>>,
    /// Every entry of the service, by key, found once per process; `None` until the first search.
    index: RwLock<Option<CredentialIndex<Arc<Slot>>>>,
}

/// One entry of the service: found by the search (which gives its account, the host key, but not
/// its secret) or written by this process. The secret is read the first time a lookup settles on
/// this key, and the answer is kept for the process, as the search is: one host costs one secret
/// read, however many entries the keyring holds. The answer is `None` when the secret could not
/// be read or is not a credential this version understands; the key still decides a lookup, so a
/// broader key never answers for it. `get_fresh` and `set` replace the whole slot.
#[derive(Debug)]
struct Slot {
    key: HostKey,
    /// The keyring entry to read the secret from: the search's own, so no second search.
    entry: Entry,
    credential: OnceLock<Option<Arc<Credential>>>,
}

impl Slot {
    fn unread(key: HostKey, entry: Entry) -> Arc<Self> {
        Arc::new(Self {
            key,
            entry,
            credential: OnceLock::new(),
        })
    }

    fn read(key: HostKey, entry: Entry, credential: Option<Arc<Credential>>) -> Arc<Self> {
        Arc::new(Self {
            key,
            entry,
            credential: OnceLock::from(credential),
        })
    }

    /// Keeps what the keyring answered for this entry, unless another thread was first.
    fn fill(&self, secret: Result<String, keyring_core::Error>) -> Option<Arc<Credential>> {
        let credential = parse(&self.key, secret);
        self.credential.get_or_init(|| credential).clone()
    }
}

impl KeyringStore {
    /// A store that probes the keyring on first use.
    pub fn new(options: KeyringOptions) -> Self {
        Self {
            options,
            backend: OnceLock::new(),
            index: RwLock::new(None),
        }
    }

    /// A store on a `keyring-core` store the caller already has (an embedder's own, or
    /// `keyring_core::mock` in tests); no probe.
    pub fn with_store(store: Arc<keyring_core::CredentialStore>, options: KeyringOptions) -> Self {
        let backend = OnceLock::new();
        let _ = backend.set(Ok(store));
        Self {
            options,
            backend,
            index: RwLock::new(None),
        }
    }

    fn backend(&self) -> Result<Arc<keyring_core::CredentialStore>, StoreError> {
        let interactive = self.options.interactive;
        let backend = self.backend.get_or_init(|| {
            let probed =
                run_with_timeout(self.options.timeout, move || platform::open(interactive));
            let result = probed.unwrap_or_else(|| {
                Err(format!(
                    "the keyring did not answer within {}",
                    seconds(self.options.timeout)
                ))
            });
            if let Err(reason) = &result {
                tracing::debug!(reason, "the keyring is unavailable");
            }
            result
        });
        backend.clone().map_err(unavailable)
    }

    /// Runs a keyring call; when nobody can answer a prompt, under the timeout.
    fn call<T: Send + 'static>(
        &self,
        call: impl FnOnce() -> Result<T, keyring_core::Error> + Send + 'static,
    ) -> Result<T, StoreError> {
        let result = if self.options.interactive {
            call()
        } else {
            run_with_timeout(self.options.timeout, call).ok_or_else(|| {
                unavailable(format!(
                    "the keyring did not answer within {}",
                    seconds(self.options.timeout)
                ))
            })?
        };
        result.map_err(|err| unavailable(describe(&err)))
    }

    /// Searches for the entries of the service, once, and indexes them by key; reads no secret.
    fn load(&self) -> Result<(), StoreError> {
        if read(&self.index).is_some() {
            return Ok(());
        }
        let store = self.backend()?;
        let service = self.options.service.clone();
        let found: Vec<(String, Entry)> = self.call(move || {
            let spec = platform::search_spec(&service);
            let spec = spec.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let mut found = Vec::new();
            for entry in store.search(&spec)? {
                let Some((found_service, account)) = entry.get_specifiers() else {
                    continue;
                };
                if found_service == service {
                    found.push((account, entry));
                }
            }
            Ok(found)
        })?;
        let mut index = CredentialIndex::new();
        for (account, entry) in found {
            let Ok(key) = HostKey::parse(&account) else {
                tracing::debug!(
                    account,
                    "skipping a keyring entry whose account is not a host key"
                );
                continue;
            };
            index.insert(key.clone(), Slot::unread(key, entry));
        }
        // Another thread may have searched too, and this process may have written since.
        write(&self.index).get_or_insert(index);
        Ok(())
    }

    fn with_index<T>(
        &self,
        f: impl FnOnce(&CredentialIndex<Arc<Slot>>) -> T,
    ) -> Result<T, StoreError> {
        self.load()?;
        let guard = read(&self.index);
        Ok(f(guard.as_ref().expect("loaded above")))
    }

    /// The slot's credential, reading its secret the first time. The index is not locked
    /// meanwhile, so a slow keyring never holds up this process's writes.
    fn credential(&self, slot: Option<Arc<Slot>>) -> Result<Option<Arc<Credential>>, StoreError> {
        let Some(slot) = slot else {
            return Ok(None);
        };
        if let Some(known) = slot.credential.get() {
            return Ok(known.clone());
        }
        let reading = Arc::clone(&slot);
        let secret = self.call(move || Ok(reading.entry.get_password()))?;
        Ok(slot.fill(secret))
    }

    fn entry(
        &self,
        store: &Arc<keyring_core::CredentialStore>,
        key: &HostKey,
    ) -> Result<Entry, StoreError> {
        Entry::new_in_store(store, &self.options.service, key.as_str())
            .map_err(|err| unavailable(describe(&err)))
    }
}

impl CredentialStore for KeyringStore {
    fn name(&self) -> &'static str {
        "keyring"
    }

    fn location(&self) -> String {
        let kind = if cfg!(target_os = "macos") {
            "macOS Keychain"
        } else if cfg!(target_os = "windows") {
            "Windows Credential Manager"
        } else {
            "Secret Service"
        };
        format!("{kind}, service `{}`", self.options.service)
    }

    fn describe(&self) -> String {
        format!("the keyring ({})", self.location())
    }

    fn unavailable_reason(&self) -> Option<String> {
        self.backend().err().map(|err| match err {
            StoreError::Unavailable { reason, .. } => reason,
            other => other.to_string(),
        })
    }

    fn get(&self, key: &HostKey) -> Result<Option<Arc<Credential>>, StoreError> {
        let slot = self.with_index(|index| index.get(key).cloned())?;
        self.credential(slot)
    }

    /// Reads this one entry from the keyring again and updates the cache with it.
    fn get_fresh(&self, key: &HostKey) -> Result<Option<Arc<Credential>>, StoreError> {
        let store = self.backend()?;
        let entry = self.entry(&store, key)?;
        let (entry, secret) = self.call(move || match entry.get_password() {
            Ok(secret) => Ok((entry, Some(secret))),
            Err(keyring_core::Error::NoEntry) => Ok((entry, None)),
            Err(err) => Err(err),
        })?;
        let Some(secret) = secret else {
            if let Some(index) = write(&self.index).as_mut() {
                index.remove(key);
            }
            return Ok(None);
        };
        let credential = parse(key, Ok(secret));
        if let Some(index) = write(&self.index).as_mut() {
            let slot = Slot::read(key.clone(), entry, credential.clone());
            index.insert(key.clone(), slot);
        }
        Ok(credential)
    }

    /// The most specific matching key decides, whether or not its value is understood: an entry
    /// for a host is never silently replaced by a broader one.
    fn find(&self, target: &UrlTarget<'_>) -> Result<Option<Arc<Credential>>, StoreError> {
        let slot = self.with_index(|index| index.find(target).map(|(_, slot)| Arc::clone(slot)))?;
        self.credential(slot)
    }

    fn set(&self, key: &HostKey, auth: &Authentication) -> Result<(), StoreError> {
        let store = self.backend()?;
        let entry = self.entry(&store, key)?;
        let json = serde_json::to_string(auth).expect("a credential always serializes");
        let entry = self.call(move || entry.set_password(&json).map(|()| entry))?;
        if let Some(index) = write(&self.index).as_mut() {
            let credential = Arc::new(Credential {
                key: key.clone(),
                auth: auth.clone(),
            });
            index.insert(
                key.clone(),
                Slot::read(key.clone(), entry, Some(credential)),
            );
        }
        Ok(())
    }

    fn remove(&self, key: &HostKey) -> Result<bool, StoreError> {
        let store = self.backend()?;
        let entry = self.entry(&store, key)?;
        let removed = self.call(move || match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(err) => Err(err),
        })?;
        if let Some(index) = write(&self.index).as_mut() {
            index.remove(key);
        }
        Ok(removed)
    }

    /// Every entry, so every secret not read yet is read now, in one call under the timeout.
    fn list(&self) -> Result<Vec<Arc<Credential>>, StoreError> {
        let slots: Vec<Arc<Slot>> =
            self.with_index(|index| index.iter().map(|(_, slot)| Arc::clone(slot)).collect())?;
        let unread: Vec<Arc<Slot>> = slots
            .iter()
            .filter(|slot| slot.credential.get().is_none())
            .cloned()
            .collect();
        if !unread.is_empty() {
            let read = self.call(move || {
                Ok(unread
                    .into_iter()
                    .map(|slot| {
                        let secret = slot.entry.get_password();
                        (slot, secret)
                    })
                    .collect::<Vec<_>>())
            })?;
            for (slot, secret) in read {
                slot.fill(secret);
            }
        }
        Ok(slots
            .iter()
            .filter_map(|slot| slot.credential.get().cloned().flatten())
            .collect())
    }
}

/// What an entry's secret is as a credential; `None`, with a warning, when it could not be read or
/// is not a credential this version understands. The entry itself is left as it is.
fn parse(key: &HostKey, secret: Result<String, keyring_core::Error>) -> Option<Arc<Credential>> {
    let json = match secret {
        Ok(json) => json,
        Err(err) => {
            tracing::warn!(
                key = key.as_str(),
                "could not read a keyring entry: {}",
                describe(&err)
            );
            return None;
        }
    };
    if let Ok(auth) = serde_json::from_str::<Authentication>(&json) {
        Some(Arc::new(Credential {
            key: key.clone(),
            auth,
        }))
    } else {
        tracing::warn!(
            key = key.as_str(),
            "the keyring entry is not a credential this version understands; it was left as it is and not used"
        );
        None
    }
}

fn unavailable(reason: String) -> StoreError {
    StoreError::Unavailable {
        store: "the keyring".to_owned(),
        reason,
    }
}

/// Runs `work` on its own thread and waits at most `timeout`. A thread that never finishes
/// (a bus that accepts and never answers) is left behind; the process does not wait for it.
fn run_with_timeout<T: Send + 'static>(
    timeout: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (sender, receiver) = mpsc::channel();
    std::thread::Builder::new()
        .name("keyring".to_owned())
        .spawn(move || {
            let _ = sender.send(work());
        })
        .ok()?;
    receiver.recv_timeout(timeout).ok()
}

/// A keyring error in words, never including a secret: two variants carry the secret's bytes.
fn describe(err: &keyring_core::Error) -> String {
    match err {
        keyring_core::Error::BadEncoding(_) | keyring_core::Error::BadDataFormat(..) => {
            "an entry's secret is not text".to_owned()
        }
        keyring_core::Error::NoStorageAccess(inner) => {
            format!("the keyring refused access ({inner})")
        }
        keyring_core::Error::PlatformFailure(inner) => format!("the keyring failed ({inner})"),
        other => other.to_string(),
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use auth_core::{Authentication, CredentialStore as _, HostKey, Secret, UrlTarget};
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
}
