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
    /// Every entry of the service, read once per process; `None` until the first read.
    index: RwLock<Option<CredentialIndex<Arc<Credential>>>>,
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

    /// Reads every entry of the service into the index, once.
    fn load(&self) -> Result<(), StoreError> {
        if read(&self.index).is_some() {
            return Ok(());
        }
        let store = self.backend()?;
        let service = self.options.service.clone();
        let raw: Vec<(String, Result<String, keyring_core::Error>)> = self.call(move || {
            let spec = platform::search_spec(&service);
            let spec = spec.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let mut raw = Vec::new();
            for entry in store.search(&spec)? {
                let Some((found_service, account)) = entry.get_specifiers() else {
                    continue;
                };
                if found_service == service {
                    raw.push((account, entry.get_password()));
                }
            }
            Ok(raw)
        })?;
        let mut index = CredentialIndex::new();
        for (account, secret) in raw {
            let Ok(key) = HostKey::parse(&account) else {
                tracing::debug!(
                    account,
                    "skipping a keyring entry whose account is not a host key"
                );
                continue;
            };
            let auth = match secret {
                Ok(json) => serde_json::from_str::<Authentication>(&json),
                Err(err) => {
                    tracing::warn!(
                        key = account,
                        "could not read a keyring entry: {}",
                        describe(&err)
                    );
                    continue;
                }
            };
            if let Ok(auth) = auth {
                index.insert(key.clone(), Arc::new(Credential { key, auth }));
            } else {
                tracing::warn!(
                    key = account,
                    "the keyring entry is not a credential this version understands; it was left as it is"
                );
            }
        }
        *write(&self.index) = Some(index);
        Ok(())
    }

    fn with_index<T>(
        &self,
        f: impl FnOnce(&CredentialIndex<Arc<Credential>>) -> T,
    ) -> Result<T, StoreError> {
        self.load()?;
        let guard = read(&self.index);
        Ok(f(guard.as_ref().expect("loaded above")))
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
        self.with_index(|index| index.get(key).cloned())
    }

    /// Reads this one entry from the keyring again and updates the cache with it.
    fn get_fresh(&self, key: &HostKey) -> Result<Option<Arc<Credential>>, StoreError> {
        let store = self.backend()?;
        let entry = self.entry(&store, key)?;
        let secret = self.call(move || match entry.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(err) => Err(err),
        })?;
        let credential = secret.and_then(|json| {
            if let Ok(auth) = serde_json::from_str::<Authentication>(&json) {
                Some(Arc::new(Credential {
                    key: key.clone(),
                    auth,
                }))
            } else {
                tracing::warn!(
                    key = key.as_str(),
                    "the keyring entry is not a credential this version understands"
                );
                None
            }
        });
        if let Some(index) = write(&self.index).as_mut() {
            match &credential {
                Some(credential) => {
                    index.insert(key.clone(), Arc::clone(credential));
                }
                None => {
                    index.remove(key);
                }
            }
        }
        Ok(credential)
    }

    fn find(&self, target: &UrlTarget<'_>) -> Result<Option<Arc<Credential>>, StoreError> {
        self.with_index(|index| {
            index
                .find(target)
                .map(|(_, credential)| Arc::clone(credential))
        })
    }

    fn set(&self, key: &HostKey, auth: &Authentication) -> Result<(), StoreError> {
        let store = self.backend()?;
        let entry = self.entry(&store, key)?;
        let json = serde_json::to_string(auth).expect("a credential always serializes");
        self.call(move || entry.set_password(&json))?;
        if let Some(index) = write(&self.index).as_mut() {
            let credential = Arc::new(Credential {
                key: key.clone(),
                auth: auth.clone(),
            });
            index.insert(key.clone(), credential);
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

    fn list(&self) -> Result<Vec<Arc<Credential>>, StoreError> {
        self.with_index(|index| {
            index
                .iter()
                .map(|(_, credential)| Arc::clone(credential))
                .collect()
        })
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
    use std::sync::Arc;

    use auth_core::{Authentication, CredentialStore as _, HostKey, Secret, UrlTarget};
    use keyring_core::Entry;

    use super::{KeyringOptions, KeyringStore};

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
}
