//! `KeyringStore`: the probe, the per-process index, reads (on the Secret Service straight on
//! D-Bus, else through `keyring-core`) and writes through `keyring-core`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock, mpsc};
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
    backend: OnceLock<Result<Backend, String>>,
    /// Every entry of the service, by key, found once per process; `None` until the first search.
    index: RwLock<Option<CredentialIndex<Arc<Slot>>>>,
    /// Why the last keyring call failed, when it did (a collection locked since the probe, say):
    /// what [`CredentialStore::unavailable_reason`] answers after the probe succeeded, so a miss
    /// is never reported as "nothing stored" when the keyring could not be asked.
    last_failure: Mutex<Option<String>>,
    /// Set when a call did not answer within the timeout. Its thread may still hold the
    /// connection, so every later call fails at once with this reason instead of waiting again.
    stuck: OnceLock<String>,
}

/// What the probe opened.
#[derive(Debug)]
struct Backend {
    /// `keyring-core`'s store: the caller's, or opened by the probe; on the Secret Service
    /// opened only when a write, a fresh read or a fallback of the direct path needs it.
    core: OnceLock<Result<Arc<keyring_core::CredentialStore>, String>>,
    /// The Secret Service's direct read path: the search and secret reads, without
    /// `keyring-core`'s round trips per item.
    fast: Option<Arc<platform::Fast>>,
}

/// Where a slot's secret is read from.
#[derive(Debug)]
enum Source {
    /// The keyring entry: the search's own, so no second search.
    Entry(Entry),
    /// The Secret Service item the direct path found, by object path.
    Item(String),
}

/// One entry of the service: found by the search (which gives its account, the host key, but not
/// its secret) or written by this process. The secret is read the first time a lookup settles on
/// this key, and the answer is kept for the process, as the search is: one host costs one secret
/// read, however many entries the keyring holds. The answer is `None` when the secret is not
/// text, is gone, or is not a credential this version understands; the key still decides a
/// lookup, so a broader key never answers for it. A keyring that cannot be asked (locked,
/// failing) leaves the slot unread. `get_fresh` and `set` replace the whole slot.
#[derive(Debug)]
struct Slot {
    key: HostKey,
    source: Source,
    credential: OnceLock<Option<Arc<Credential>>>,
}

impl Slot {
    fn unread(key: HostKey, source: Source) -> Arc<Self> {
        Arc::new(Self {
            key,
            source,
            credential: OnceLock::new(),
        })
    }

    fn read(key: HostKey, entry: Entry, credential: Option<Arc<Credential>>) -> Arc<Self> {
        Arc::new(Self {
            key,
            source: Source::Entry(entry),
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
            last_failure: Mutex::new(None),
            stuck: OnceLock::new(),
        }
    }

    /// A store on a `keyring-core` store the caller already has (an embedder's own, or
    /// `keyring_core::mock` in tests); no probe.
    pub fn with_store(store: Arc<keyring_core::CredentialStore>, options: KeyringOptions) -> Self {
        let backend = OnceLock::new();
        let _ = backend.set(Ok(Backend {
            core: OnceLock::from(Ok(store)),
            fast: None,
        }));
        Self {
            options,
            backend,
            index: RwLock::new(None),
            last_failure: Mutex::new(None),
            stuck: OnceLock::new(),
        }
    }

    fn backend(&self) -> Result<&Backend, StoreError> {
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
            result.map(|opened| Backend {
                core: opened
                    .core
                    .map_or_else(OnceLock::new, |core| OnceLock::from(Ok(core))),
                fast: opened.fast.map(Arc::new),
            })
        });
        backend
            .as_ref()
            .map_err(|reason| unavailable(reason.clone()))
    }

    /// `keyring-core`'s store, opened (under the timeout) the first time it is needed.
    fn core(&self) -> Result<Arc<keyring_core::CredentialStore>, StoreError> {
        let backend = self.backend()?;
        if let Some(reason) = self.stuck.get() {
            return Err(unavailable(reason.clone()));
        }
        let core = backend.core.get_or_init(|| {
            let opened = run_with_timeout(self.options.timeout, platform::open_core);
            opened.unwrap_or_else(|| {
                let reason = format!(
                    "the keyring did not answer within {}",
                    seconds(self.options.timeout)
                );
                Err(self.stuck.get_or_init(|| reason).clone())
            })
        });
        core.clone().map_err(|reason| self.failed(reason))
    }

    /// Runs a keyring call; when nobody can answer a prompt, under the timeout. A failure is
    /// kept as the store's [`unavailable_reason`](CredentialStore::unavailable_reason) until a
    /// call succeeds; a call that did not answer makes the store unavailable for the process.
    fn call<T: Send + 'static>(
        &self,
        call: impl FnOnce() -> Result<T, keyring_core::Error> + Send + 'static,
    ) -> Result<T, StoreError> {
        if let Some(reason) = self.stuck.get() {
            return Err(unavailable(reason.clone()));
        }
        let result = if self.options.interactive {
            call()
        } else if let Some(result) = run_with_timeout(self.options.timeout, call) {
            result
        } else {
            let reason = format!(
                "the keyring did not answer within {}",
                seconds(self.options.timeout)
            );
            let reason = self.stuck.get_or_init(|| reason).clone();
            return Err(self.failed(reason));
        };
        match result {
            Ok(value) => {
                *lock(&self.last_failure) = None;
                Ok(value)
            }
            Err(err) => Err(self.failed(describe(&err))),
        }
    }

    /// The error of a failed call, remembered for `unavailable_reason`.
    fn failed(&self, reason: String) -> StoreError {
        *lock(&self.last_failure) = Some(reason.clone());
        unavailable(reason)
    }

    /// Searches for the entries of the service, once, and indexes them by key; reads no secret.
    fn load(&self) -> Result<(), StoreError> {
        if read(&self.index).is_some() {
            return Ok(());
        }
        let found = match self.fast_search()? {
            Some(found) => found,
            None => self.core_search()?,
        };
        let mut index = CredentialIndex::new();
        for (account, source) in found {
            let Ok(key) = HostKey::parse(&account) else {
                tracing::debug!(
                    account = %auth_core::escape_control(&account),
                    "skipping a keyring entry whose account is not a host key"
                );
                continue;
            };
            index.insert(key.clone(), Slot::unread(key, source));
        }
        // Another thread may have searched too, and this process may have written since.
        write(&self.index).get_or_insert(index);
        Ok(())
    }

    /// The search on the direct path: the account and item of every entry of the service, as
    /// [`core_search`](Self::core_search) finds them; `None` when it leaves the search to
    /// `keyring-core` (some items are locked, or the service answered what it did not expect).
    fn fast_search(&self) -> Result<Option<Vec<(String, Source)>>, StoreError> {
        let Some(fast) = self.backend()?.fast.clone() else {
            return Ok(None);
        };
        let service = self.options.service.clone();
        let answer = self.call(move || {
            let spec = platform::search_spec(&service);
            let spec: HashMap<&str, &str> = spec.iter().map(|(k, v)| (*k, v.as_str())).collect();
            Ok(fast.search(&spec).map(|found| {
                found.map(|found| {
                    found
                        .into_iter()
                        .filter_map(|item| {
                            let mut attributes = item.attributes;
                            // What `keyring-core`'s item wrapper answers as its specifiers.
                            let found_service = attributes.remove("service")?;
                            let account = attributes.remove("username")?;
                            (found_service == service).then(|| (account, Source::Item(item.path)))
                        })
                        .collect()
                })
            }))
        })?;
        match answer {
            Ok(Some(found)) => Ok(Some(found)),
            Ok(None) => {
                tracing::debug!("some keyring items are locked; searching through keyring-core");
                Ok(None)
            }
            Err(reason) => {
                tracing::debug!(reason, "searching through keyring-core");
                Ok(None)
            }
        }
    }

    /// The search through `keyring-core`: the account and entry of every entry of the service.
    fn core_search(&self) -> Result<Vec<(String, Source)>, StoreError> {
        let store = self.core()?;
        let service = self.options.service.clone();
        self.call(move || {
            let spec = platform::search_spec(&service);
            let spec = spec.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let mut found = Vec::new();
            for entry in store.search(&spec)? {
                let Some((found_service, account)) = entry.get_specifiers() else {
                    // No service and account: either the entry is not one of ours, or it cannot
                    // be read now (the Secret Service store answers `None` for an entry whose
                    // collection is locked). Skipping that one would answer "nothing stored"
                    // for a key that is stored, so the search fails instead.
                    match entry.get_attributes() {
                        Err(err) if !is_entry_error(&err) => return Err(err),
                        _ => continue,
                    }
                };
                if found_service == service {
                    found.push((account, Source::Entry(entry)));
                }
            }
            Ok(found)
        })
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
    /// meanwhile, so a slow keyring never holds up this process's writes. What the entry holds
    /// is kept for the process; a keyring that could not be asked (locked, failing) is an error
    /// and nothing is kept, so the next lookup asks again.
    fn credential(&self, slot: Option<Arc<Slot>>) -> Result<Option<Arc<Credential>>, StoreError> {
        let Some(slot) = slot else {
            return Ok(None);
        };
        if let Some(known) = slot.credential.get() {
            return Ok(known.clone());
        }
        let (slot, secret) = self
            .secrets(vec![slot])?
            .pop()
            .expect("one answer per slot");
        Ok(slot.fill(secret))
    }

    /// The secrets of these slots, each an answer to keep or the call's error: the items of the
    /// direct path in one `GetSecrets`, then the rest (and any item that call did not answer)
    /// through `keyring-core`, in one call under the timeout. The first failure of the keyring
    /// ends the read, as a slot it could not read may be any of them.
    #[allow(
        clippy::type_complexity,
        reason = "each slot with the answer to keep for it"
    )]
    fn secrets(
        &self,
        slots: Vec<Arc<Slot>>,
    ) -> Result<Vec<(Arc<Slot>, Result<String, keyring_core::Error>)>, StoreError> {
        let mut answered = Vec::with_capacity(slots.len());
        let mut rest = Vec::new();
        let items: Vec<String> = slots
            .iter()
            .filter_map(|slot| match &slot.source {
                Source::Item(path) => Some(path.clone()),
                Source::Entry(_) => None,
            })
            .collect();
        let fast = self.backend()?.fast.clone();
        let mut secrets = match fast {
            Some(fast) if !items.is_empty() => {
                match self.call(move || Ok(fast.secrets(&items)))? {
                    Ok(secrets) => secrets,
                    Err(reason) => {
                        tracing::debug!(reason, "reading the secrets through keyring-core");
                        HashMap::new()
                    }
                }
            }
            _ => HashMap::new(),
        };
        for slot in slots {
            let secret = match &slot.source {
                Source::Item(path) => secrets.remove(path),
                Source::Entry(_) => None,
            };
            match secret {
                Some(secret) => {
                    let secret = String::from_utf8(secret)
                        .map_err(|err| keyring_core::Error::BadEncoding(err.into_bytes()));
                    answered.push((slot, secret));
                }
                None => rest.push(slot),
            }
        }
        if rest.is_empty() {
            return Ok(answered);
        }
        // An item the direct path found but could not read is read as `get_fresh` reads it.
        let mut entries = Vec::with_capacity(rest.len());
        for slot in &rest {
            if let Source::Item(_) = slot.source {
                let store = self.core()?;
                entries.push(Some(self.entry(&store, &slot.key)?));
            } else {
                entries.push(None);
            }
        }
        let read = self.call(move || {
            let mut read = Vec::with_capacity(rest.len());
            for (slot, entry) in rest.into_iter().zip(entries) {
                let entry = match (&slot.source, &entry) {
                    (Source::Entry(entry), _) | (Source::Item(_), Some(entry)) => entry,
                    (Source::Item(_), None) => unreachable!("an entry was made for every item"),
                };
                let secret = entry_answer(entry.get_password())?;
                read.push((slot, secret));
            }
            Ok(read)
        })?;
        answered.extend(read);
        Ok(answered)
    }

    fn entry(
        &self,
        store: &Arc<keyring_core::CredentialStore>,
        key: &HostKey,
    ) -> Result<Entry, StoreError> {
        Entry::new_in_store(store, &self.options.service, key.as_str())
            .map_err(|err| self.failed(describe(&err)))
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

    /// The probe's failure, else the failure of the last keyring call when it failed: a lookup
    /// that found nothing because the keyring could not be asked says so.
    fn unavailable_reason(&self) -> Option<String> {
        match self.backend() {
            Err(StoreError::Unavailable { reason, .. }) => Some(reason),
            Err(other) => Some(other.to_string()),
            Ok(_) => lock(&self.last_failure).clone(),
        }
    }

    fn get(&self, key: &HostKey) -> Result<Option<Arc<Credential>>, StoreError> {
        let slot = self.with_index(|index| index.get(key).cloned())?;
        self.credential(slot)
    }

    /// Reads this one entry from the keyring again and updates the cache with it.
    fn get_fresh(&self, key: &HostKey) -> Result<Option<Arc<Credential>>, StoreError> {
        let store = self.core()?;
        let entry = self.entry(&store, key)?;
        let (entry, secret) = self.call(move || match entry.get_password() {
            Err(keyring_core::Error::NoEntry) => Ok((entry, None)),
            answer => entry_answer(answer).map(|secret| (entry, Some(secret))),
        })?;
        let Some(secret) = secret else {
            if let Some(index) = write(&self.index).as_mut() {
                index.remove(key);
            }
            return Ok(None);
        };
        let credential = parse(key, secret);
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
        let store = self.core()?;
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
        let store = self.core()?;
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

    /// Every entry, so every secret not read yet is read now: on the direct path in one
    /// `GetSecrets`, else in one call under the timeout.
    fn list(&self) -> Result<Vec<Arc<Credential>>, StoreError> {
        let slots: Vec<Arc<Slot>> =
            self.with_index(|index| index.iter().map(|(_, slot)| Arc::clone(slot)).collect())?;
        let unread: Vec<Arc<Slot>> = slots
            .iter()
            .filter(|slot| slot.credential.get().is_none())
            .cloned()
            .collect();
        if !unread.is_empty() {
            // Every answer of an entry is kept; the first failure of the keyring ends the
            // listing, as an entry it could not read may be any of them.
            for (slot, secret) in self.secrets(unread)? {
                slot.fill(secret);
            }
        }
        Ok(slots
            .iter()
            .filter_map(|slot| slot.credential.get().cloned().flatten())
            .collect())
    }
}

/// Whether an error is about the one entry (its secret is not text, it is gone), which is kept
/// as that entry's answer, rather than about the keyring (locked, failing, not answering),
/// which makes the keyring unavailable for this call.
fn is_entry_error(err: &keyring_core::Error) -> bool {
    matches!(
        err,
        keyring_core::Error::NoEntry
            | keyring_core::Error::BadEncoding(_)
            | keyring_core::Error::BadDataFormat(..)
    )
}

/// An entry's secret or its entry error as the answer to keep; a keyring error as the call's
/// error.
fn entry_answer(
    secret: Result<String, keyring_core::Error>,
) -> Result<Result<String, keyring_core::Error>, keyring_core::Error> {
    match secret {
        Err(err) if !is_entry_error(&err) => Err(err),
        answer => Ok(answer),
    }
}

/// What an entry's secret is as a credential; `None`, with a warning, when it could not be read or
/// is not a credential this version understands. The entry itself is left as it is. The warning
/// names the key and describes the secret by its shape only: it may be a token in a format of
/// another version, or anything a program put there.
fn parse(key: &HostKey, secret: Result<String, keyring_core::Error>) -> Option<Arc<Credential>> {
    let key_shown = auth_core::escape_control(key.as_str());
    let json = match secret {
        Ok(json) => json,
        Err(err) => {
            tracing::warn!(
                key = %key_shown,
                "could not read a keyring entry: {}",
                describe(&err)
            );
            return None;
        }
    };
    let parsed = serde_json::from_str::<serde_json::Value>(&json)
        .map_err(|_| "the secret is not JSON".to_owned())
        .and_then(|value| Authentication::from_json_value(value).map_err(|err| err.to_string()));
    match parsed {
        Ok(auth) => Some(Arc::new(Credential {
            key: key.clone(),
            auth,
        })),
        Err(reason) => {
            tracing::warn!(
                key = %key_shown,
                "the keyring entry is not a credential this version understands ({reason}); it \
                 was left as it is and not used"
            );
            None
        }
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

/// A keyring error in words, never including a secret: two variants carry the secret's bytes,
/// and `Ambiguous` prints its entries. The rest comes from the platform (a D-Bus peer's own
/// error text), so control characters are escaped; a locked keyring says how to unlock it.
fn describe(err: &keyring_core::Error) -> String {
    if let Some(explained) = platform::explain(err) {
        return explained;
    }
    let described = match err {
        keyring_core::Error::BadEncoding(_) | keyring_core::Error::BadDataFormat(..) => {
            "an entry's secret is not text".to_owned()
        }
        keyring_core::Error::Ambiguous(entries) => format!(
            "{} keyring entries match one key; remove all but one",
            entries.len()
        ),
        keyring_core::Error::NoStorageAccess(inner) => {
            format!("the keyring refused access ({inner})")
        }
        keyring_core::Error::PlatformFailure(inner) => format!("the keyring failed ({inner})"),
        other => other.to_string(),
    };
    auth_core::escape_control(&described).into_owned()
}

fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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
mod tests;
