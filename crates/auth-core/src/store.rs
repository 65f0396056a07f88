//! The `CredentialStore` trait, the `StoreChain` that reads and writes through several stores,
//! and `MemoryStore` for tests and embedders.

use std::fmt;
use std::sync::{Arc, RwLock};

use rustc_hash::FxHashSet;

use crate::{Authentication, CredentialIndex, HostKey, UrlTarget};

/// A key and its credential, as a store hands them out. Shared (`Arc`) so a lookup on the hot
/// path copies no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The key it is stored under.
    pub key: HostKey,
    /// The credential.
    pub auth: Authentication,
}

/// What went wrong in a store. The variants say what the caller does next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store cannot be used now (no keyring daemon, say): try the next store.
    #[error("{store} is unavailable: {reason}")]
    Unavailable {
        /// Which store.
        store: String,
        /// Why, in words a user can act on.
        reason: String,
    },
    /// The store only reads (`.netrc`): write elsewhere.
    #[error("{store} is read-only")]
    ReadOnly {
        /// Which store.
        store: String,
    },
    /// No store in the chain took the write.
    #[error("no credential store could save the credential: {reasons}")]
    NoWritableStore {
        /// Why each store refused.
        reasons: String,
    },
    /// A credential no server could accept (an empty token, say); nothing was written.
    #[error(transparent)]
    Invalid(#[from] crate::InvalidCredential),
    /// Any other failure of a backend (an unreadable file, a parse error); stop and report it.
    #[error(transparent)]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

/// A place credentials are kept: the OS keyring, a JSON file, `.netrc`, memory.
///
/// Implementations use interior mutability and are shared across threads, as a middleware does.
pub trait CredentialStore: Send + Sync + fmt::Debug {
    /// A short name for tables: `file`, `keyring`, `netrc`, `memory`.
    fn name(&self) -> &str;

    /// Where the store keeps its entries, such as the file's path, for tables and JSON.
    fn location(&self) -> String {
        self.name().to_owned()
    }

    /// The store in a sentence: `the file /home/me/.rattler/credentials.json`.
    fn describe(&self) -> String {
        format!("the {} {}", self.name(), self.location())
    }

    /// Why the store cannot be used now, if it cannot (a keyring with no daemon); `None` for a
    /// store that is always there. May probe, so it can take as long as a first read.
    fn unavailable_reason(&self) -> Option<String> {
        None
    }

    /// The entry stored under exactly this key string.
    fn get(&self, key: &HostKey) -> Result<Option<Arc<Credential>>, StoreError>;

    /// The entry under exactly this key as the backend holds it now, past any cache: what
    /// another process wrote since this one read it (a refreshed OAuth token, say). The default
    /// is [`CredentialStore::get`], right for stores without a cache.
    fn get_fresh(&self, key: &HostKey) -> Result<Option<Arc<Credential>>, StoreError> {
        self.get(key)
    }

    /// The most specific entry whose key matches the URL.
    fn find(&self, target: &UrlTarget<'_>) -> Result<Option<Arc<Credential>>, StoreError>;

    /// Stores a credential, replacing one under the same key.
    fn set(&self, key: &HostKey, auth: &Authentication) -> Result<(), StoreError>;

    /// Removes the entry under this key; `false` when there was none.
    fn remove(&self, key: &HostKey) -> Result<bool, StoreError>;

    /// Every entry this store holds.
    fn list(&self) -> Result<Vec<Arc<Credential>>, StoreError>;
}

/// A credential and the store it came from.
#[derive(Debug, Clone)]
pub struct Found {
    /// The key and credential.
    pub credential: Arc<Credential>,
    /// Where it was found.
    pub store: Arc<dyn CredentialStore>,
}

/// One row of [`StoreChain::list`].
#[derive(Debug, Clone)]
pub struct Listed {
    /// The key and credential.
    pub credential: Arc<Credential>,
    /// Where it is stored.
    pub store: Arc<dyn CredentialStore>,
    /// An earlier store holds the same key, so this entry is never used.
    pub shadowed: bool,
}

/// Where [`StoreChain::set`] wrote, and the stores it passed over on the way.
#[derive(Debug, Clone)]
pub struct Saved {
    /// The store that took the credential.
    pub store: Arc<dyn CredentialStore>,
    /// Stores before it that could not take it, each with the reason.
    pub skipped: Vec<(String, String)>,
}

/// Several stores in order of preference.
///
/// A read takes the most specific key any store has, the earlier store winning a tie; a write
/// goes to the first store that accepts it; a remove removes from every store.
#[derive(Debug, Clone, Default)]
pub struct StoreChain {
    stores: Vec<Arc<dyn CredentialStore>>,
}

impl StoreChain {
    /// A chain of these stores, first preferred.
    pub fn new(stores: Vec<Arc<dyn CredentialStore>>) -> Self {
        Self { stores }
    }

    /// The stores, in order.
    pub fn stores(&self) -> &[Arc<dyn CredentialStore>] {
        &self.stores
    }

    /// The credential for a URL.
    pub fn find(&self, target: &UrlTarget<'_>) -> Result<Option<Found>, StoreError> {
        let mut best: Option<Found> = None;
        for store in &self.stores {
            let found = match store.find(target) {
                Ok(found) => found,
                Err(StoreError::Unavailable { .. }) => continue,
                Err(err) => return Err(err),
            };
            let Some(credential) = found else { continue };
            let better = best.as_ref().is_none_or(|best| {
                credential.key.specificity() > best.credential.key.specificity()
            });
            if better {
                best = Some(Found {
                    credential,
                    store: Arc::clone(store),
                });
            }
        }
        Ok(best)
    }

    /// The entry under exactly this key, from the first store that has it.
    pub fn get(&self, key: &HostKey) -> Result<Option<Found>, StoreError> {
        for store in &self.stores {
            match store.get(key) {
                Ok(Some(credential)) => {
                    return Ok(Some(Found {
                        credential,
                        store: Arc::clone(store),
                    }));
                }
                Ok(None) | Err(StoreError::Unavailable { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(None)
    }

    /// Saves to the first store that accepts the credential.
    ///
    /// A credential that [`Authentication::validate`] refuses is written nowhere.
    pub fn set(&self, key: &HostKey, auth: &Authentication) -> Result<Saved, StoreError> {
        auth.validate()?;
        let mut skipped = Vec::new();
        for store in &self.stores {
            match store.set(key, auth) {
                Ok(()) => {
                    return Ok(Saved {
                        store: Arc::clone(store),
                        skipped,
                    });
                }
                Err(err @ (StoreError::Unavailable { .. } | StoreError::ReadOnly { .. })) => {
                    skipped.push((store.describe(), err.to_string()));
                }
                Err(err) => return Err(err),
            }
        }
        let reasons = if skipped.is_empty() {
            "no store is configured".to_owned()
        } else {
            skipped
                .iter()
                .map(|(_, reason)| reason.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        };
        Err(StoreError::NoWritableStore { reasons })
    }

    /// Removes the key from every store that has it; returns those stores.
    pub fn remove(&self, key: &HostKey) -> Result<Vec<Arc<dyn CredentialStore>>, StoreError> {
        let mut removed = Vec::new();
        for store in &self.stores {
            match store.remove(key) {
                Ok(true) => removed.push(Arc::clone(store)),
                Ok(false) | Err(StoreError::Unavailable { .. } | StoreError::ReadOnly { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(removed)
    }

    /// Every entry of every store, sorted by key, marking those an earlier store shadows.
    pub fn list(&self) -> Result<Vec<Listed>, StoreError> {
        let mut rows: Vec<Listed> = Vec::new();
        // The canonical keys listed so far: one hash probe per entry, so a listing is linear in
        // the number of entries (it was quadratic: 20 s for 16k entries).
        let mut seen: FxHashSet<Box<str>> = FxHashSet::default();
        for store in &self.stores {
            let entries = match store.list() {
                Ok(entries) => entries,
                Err(StoreError::Unavailable { .. }) => continue,
                Err(err) => return Err(err),
            };
            for credential in entries {
                let canonical: Box<str> = credential.key.canonical().as_str().into();
                let shadowed = !seen.insert(canonical);
                rows.push(Listed {
                    credential,
                    store: Arc::clone(store),
                    shadowed,
                });
            }
        }
        rows.sort_by(|a, b| a.credential.key.as_str().cmp(b.credential.key.as_str()));
        Ok(rows)
    }
}

/// Credentials in memory, for tests and for embedders that bring their own.
#[derive(Debug, Default)]
pub struct MemoryStore {
    index: RwLock<CredentialIndex<Arc<Credential>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl CredentialStore for MemoryStore {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn get(&self, key: &HostKey) -> Result<Option<Arc<Credential>>, StoreError> {
        Ok(read(&self.index).get(key).cloned())
    }

    fn find(&self, target: &UrlTarget<'_>) -> Result<Option<Arc<Credential>>, StoreError> {
        Ok(read(&self.index)
            .find(target)
            .map(|(_, credential)| Arc::clone(credential)))
    }

    fn set(&self, key: &HostKey, auth: &Authentication) -> Result<(), StoreError> {
        let credential = Arc::new(Credential {
            key: key.clone(),
            auth: auth.clone(),
        });
        write(&self.index).insert(key.clone(), credential);
        Ok(())
    }

    fn remove(&self, key: &HostKey) -> Result<bool, StoreError> {
        Ok(write(&self.index).remove(key).is_some())
    }

    fn list(&self) -> Result<Vec<Arc<Credential>>, StoreError> {
        Ok(read(&self.index)
            .iter()
            .map(|(_, credential)| Arc::clone(credential))
            .collect())
    }
}

/// A poisoned lock only means another thread panicked mid-lookup; the index itself is intact
/// because every mutation is a single call.
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

    use super::{CredentialStore, MemoryStore, StoreChain, StoreError};
    use crate::{Authentication, Credential, HostKey, Secret, UrlTarget};

    fn bearer(token: &str) -> Authentication {
        Authentication::BearerToken(Secret::from(token))
    }

    fn key(text: &str) -> HostKey {
        HostKey::parse(text).unwrap()
    }

    /// A store that is never there, as a keyring without a daemon.
    #[derive(Debug)]
    struct Absent;

    impl CredentialStore for Absent {
        fn name(&self) -> &'static str {
            "absent"
        }
        fn get(&self, _: &HostKey) -> Result<Option<Arc<Credential>>, StoreError> {
            Err(unavailable())
        }
        fn find(&self, _: &UrlTarget<'_>) -> Result<Option<Arc<Credential>>, StoreError> {
            Err(unavailable())
        }
        fn set(&self, _: &HostKey, _: &Authentication) -> Result<(), StoreError> {
            Err(unavailable())
        }
        fn remove(&self, _: &HostKey) -> Result<bool, StoreError> {
            Err(unavailable())
        }
        fn list(&self) -> Result<Vec<Arc<Credential>>, StoreError> {
            Err(unavailable())
        }
    }

    fn unavailable() -> StoreError {
        StoreError::Unavailable {
            store: "absent".into(),
            reason: "no daemon".into(),
        }
    }

    #[test]
    fn chain_reads_writes_and_removes_through_stores() {
        let first = Arc::new(MemoryStore::new());
        let second = Arc::new(MemoryStore::new());
        second.set(&key("*.prefix.dev"), &bearer("wild")).unwrap();
        second
            .set(&key("repo.prefix.dev"), &bearer("exact-second"))
            .unwrap();
        first
            .set(&key("repo.prefix.dev"), &bearer("exact-first"))
            .unwrap();
        let chain = StoreChain::new(vec![Arc::new(Absent), first.clone(), second.clone()]);

        let target = UrlTarget::parse("https://repo.prefix.dev/x").unwrap();
        let found = chain.find(&target).unwrap().unwrap();
        assert_eq!(found.credential.auth, bearer("exact-first"));
        assert!(Arc::ptr_eq(
            &found.store,
            &(first.clone() as Arc<dyn CredentialStore>)
        ));

        // The more specific key wins even from a later store.
        first.remove(&key("repo.prefix.dev")).unwrap();
        first
            .set(&key("*.prefix.dev"), &bearer("wild-first"))
            .unwrap();
        let found = chain.find(&target).unwrap().unwrap();
        assert_eq!(found.credential.auth, bearer("exact-second"));

        let rows = chain.list().unwrap();
        let summary: Vec<_> = rows
            .iter()
            .map(|r| (r.credential.key.as_str(), r.store.name(), r.shadowed))
            .collect();
        assert_eq!(
            summary,
            [
                ("*.prefix.dev", "memory", false),
                ("*.prefix.dev", "memory", true),
                ("repo.prefix.dev", "memory", false)
            ]
        );

        let saved = chain.set(&key("new.example.com"), &bearer("n")).unwrap();
        assert_eq!(
            saved.skipped,
            [(
                "the absent absent".to_owned(),
                "absent is unavailable: no daemon".to_owned()
            )]
        );
        assert!(first.get(&key("new.example.com")).unwrap().is_some());

        assert_eq!(chain.remove(&key("*.prefix.dev")).unwrap().len(), 2);
        assert!(chain.get(&key("*.prefix.dev")).unwrap().is_none());
    }

    #[test]
    fn a_chain_with_no_writable_store_says_why() {
        let chain = StoreChain::new(vec![Arc::new(Absent)]);
        let err = chain.set(&key("example.com"), &bearer("t")).unwrap_err();
        insta::assert_snapshot!(err, @"no credential store could save the credential: absent is unavailable: no daemon");
    }
}
