//! Refreshing a stored OAuth login before it expires: once for all the requests of a process,
//! and once for all the processes that share the store.
//!
//! Providers rotate refresh tokens and treat the reuse of an old one as theft, revoking the
//! whole grant. So two processes must never refresh with the same token: a refresh takes a file
//! lock, reads the stored entry again past every cache, and refreshes only if it is still stale;
//! a process that waited finds the token the other one stored.

use std::collections::hash_map::Entry;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use auth_core::{Authentication, Credential, Found, HostKey, StoreError};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::{OAuthError, refresh};

/// Why a refresh failed. Each message ends with what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefreshError {
    /// The provider refused: the session is over.
    #[error("the session for {key} has expired; run `auth login {login}`")]
    Expired {
        /// The stored key.
        key: String,
        /// What to pass to `auth login`.
        login: String,
        /// The provider's answer.
        #[source]
        source: OAuthError,
    },
    /// The entry is gone: another process logged out.
    #[error("the login for {key} was removed while refreshing it; run `auth login {login}`")]
    LoggedOut {
        /// The stored key.
        key: String,
        /// What to pass to `auth login`.
        login: String,
    },
    /// The store could not be read or written.
    #[error("could not read or save the refreshed login for {key}")]
    Store {
        /// The stored key.
        key: String,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// The lock that serializes refreshes across processes could not be taken.
    #[error("could not lock {path} to refresh the login for {key}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The stored key.
        key: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Unix seconds now; passed in so tests control time.
pub type Now = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Keeps OAuth logins fresh; share one per process (it is cheap to clone behind an `Arc`).
pub struct Refresher {
    /// This refresher, for the background tasks it spawns.
    me: Weak<Refresher>,
    http: reqwest::Client,
    lock_path: PathBuf,
    margin: Duration,
    now: Now,
    /// One gate per key, so the requests of this process share one refresh.
    gates: Mutex<FxHashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Keys with a background task that refreshes before expiry.
    watched: Mutex<FxHashSet<String>>,
    /// When this process last refreshed each key (Unix seconds).
    refreshed_at: Mutex<FxHashMap<String, i64>>,
}

impl std::fmt::Debug for Refresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refresher")
            .field("lock_path", &self.lock_path)
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}

/// Five minutes, as the seed's tools use.
pub const DEFAULT_MARGIN: Duration = Duration::from_mins(5);

impl Refresher {
    /// A refresher whose cross-process lock is `lock_dir/.auth-oauth-refresh.lock`: the
    /// directory of the credentials file, so every process using the same store meets there.
    pub fn new(http: reqwest::Client, lock_dir: &Path, now: Now) -> Arc<Self> {
        Self::with_margin(http, lock_dir, now, DEFAULT_MARGIN)
    }

    /// [`Refresher::new`], refreshing `margin` before expiry instead of 5 minutes.
    pub fn with_margin(
        http: reqwest::Client,
        lock_dir: &Path,
        now: Now,
        margin: Duration,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            me: me.clone(),
            http,
            lock_path: lock_dir.join(".auth-oauth-refresh.lock"),
            margin,
            now,
            gates: Mutex::default(),
            watched: Mutex::default(),
            refreshed_at: Mutex::default(),
        })
    }

    /// The credential to send instead of `found`'s, refreshed and stored, when its access token
    /// expires within the margin; `None` when `found` is fresh enough (or not an OAuth login).
    pub async fn fresh(&self, found: &Found) -> Result<Option<Authentication>, RefreshError> {
        let auth = &found.credential.auth;
        if !matches!(auth, Authentication::OAuth { .. }) || !self.due(found, auth) {
            return Ok(None);
        }
        let key = &found.credential.key;
        let gate = self.gate(key);
        let _in_process = gate.lock().await;

        // A request of this process that held the gate before us may have refreshed already.
        let current = Self::reread(found)?;
        if let Some(usable) = self.settled(found, &current) {
            return Ok(Some(usable));
        }

        let lock = self.lock(key).await?;
        // Under the lock: another process may have refreshed while we waited for it.
        let current = Self::reread(found)?;
        if let Some(usable) = self.settled(found, &current) {
            tracing::debug!(key = %key, "another process refreshed the login");
            return Ok(Some(usable));
        }
        tracing::debug!(key = %key, "refreshing the OAuth login");
        let now = (self.now)();
        let refreshed = refresh(&self.http, &current.auth, now)
            .await
            .map_err(|source| RefreshError::Expired {
                key: key.to_string(),
                login: login_hint(key),
                source,
            })?;
        found
            .store
            .set(key, &refreshed)
            .map_err(|source| RefreshError::Store {
                key: key.to_string(),
                source,
            })?;
        drop(lock);
        self.refreshed_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key.as_str().to_owned(), now);
        tracing::info!(key = %key, "refreshed the OAuth login");
        Ok(Some(refreshed))
    }

    /// Refreshes `found` in the background shortly before it expires, again and again, for a
    /// long-running process. Once per key; a failed refresh ends it (the next request reports
    /// the error). Needs a tokio runtime.
    pub fn keep_fresh(&self, found: Found) {
        let key = found.credential.key.as_str().to_owned();
        let first = self
            .watched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key);
        if !first {
            return;
        }
        let Some(this) = self.me.upgrade() else {
            return;
        };
        tokio::spawn(async move {
            let mut found = found;
            loop {
                let Some(at) = this.due_at(&found, &found.credential.auth) else {
                    return;
                };
                // At least a second between looks, whatever the clock says.
                let wait = u64::try_from(at.saturating_sub((this.now)())).unwrap_or(0);
                tokio::time::sleep(Duration::from_secs(wait.max(1))).await;
                match this.fresh(&found).await {
                    Ok(Some(auth)) => {
                        let credential = Credential {
                            key: found.credential.key.clone(),
                            auth,
                        };
                        found = Found {
                            credential: Arc::new(credential),
                            store: Arc::clone(&found.store),
                        };
                    }
                    Ok(None) => {}
                    Err(err) => {
                        tracing::debug!("background refresh stopped: {err}");
                        return;
                    }
                }
            }
        });
    }

    /// Whether `auth` (the credential of `found`'s key) should be refreshed now.
    fn due(&self, found: &Found, auth: &Authentication) -> bool {
        self.due_at(found, auth)
            .is_some_and(|at| (self.now)() >= at)
    }

    /// When `auth` falls due: `margin` before it expires, but never before half the life of a
    /// token this process refreshed itself (a provider whose tokens live shorter than the margin
    /// must not be asked on every request), and at once when it has expired. `None` for a token
    /// that cannot be refreshed (no expiry, or no refresh token: it is used until refused).
    fn due_at(&self, found: &Found, auth: &Authentication) -> Option<i64> {
        let Authentication::OAuth {
            expires_at: Some(expires_at),
            refresh_token: Some(_),
            ..
        } = auth
        else {
            return None;
        };
        let margin = i64::try_from(self.margin.as_secs()).unwrap_or(i64::MAX);
        // The token expires within the margin from this moment on.
        let mut at = expires_at.saturating_sub(margin);
        let refreshed_at = self
            .refreshed_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(found.credential.key.as_str())
            .copied();
        if let Some(refreshed_at) = refreshed_at {
            let half_life = refreshed_at + (expires_at - refreshed_at) / 2;
            at = at.max(half_life.min(*expires_at));
        }
        Some(at)
    }

    /// After waiting for our turn: the credential to use without refreshing, when the stored
    /// one is no longer due or was replaced since `found` was read (another caller refreshed).
    fn settled(&self, found: &Found, current: &Credential) -> Option<Authentication> {
        let replaced = current.auth.primary_secret().expose()
            != found.credential.auth.primary_secret().expose();
        let expired = current
            .auth
            .expires_at()
            .is_some_and(|expires_at| (self.now)() >= expires_at);
        if !self.due(found, &current.auth) || (replaced && !expired) {
            Some(current.auth.clone())
        } else {
            None
        }
    }

    fn gate(&self, key: &HostKey) -> Arc<tokio::sync::Mutex<()>> {
        let mut gates = self
            .gates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match gates.entry(key.as_str().to_owned()) {
            Entry::Occupied(gate) => Arc::clone(gate.get()),
            Entry::Vacant(slot) => Arc::clone(slot.insert(Arc::default())),
        }
    }

    /// The stored entry as it is now, past the store's cache.
    fn reread(found: &Found) -> Result<Arc<Credential>, RefreshError> {
        let key = &found.credential.key;
        found
            .store
            .get_fresh(key)
            .map_err(|source| RefreshError::Store {
                key: key.to_string(),
                source,
            })?
            .ok_or_else(|| RefreshError::LoggedOut {
                key: key.to_string(),
                login: login_hint(key),
            })
    }

    /// Takes the cross-process lock on a blocking thread; released when the file is dropped.
    async fn lock(&self, key: &HostKey) -> Result<File, RefreshError> {
        let path = self.lock_path.clone();
        let locked = tokio::task::spawn_blocking(move || -> std::io::Result<File> {
            if let Some(dir) = path.parent() {
                // Private, like the credentials file's own directory (`~/.rattler`).
                let mut builder = std::fs::DirBuilder::new();
                builder.recursive(true);
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
                builder.create(dir)?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.create(true).truncate(false).write(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let file = options.open(&path)?;
            file.lock()?;
            Ok(file)
        })
        .await
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()));
        locked.map_err(|source| RefreshError::Lock {
            path: self.lock_path.clone(),
            key: key.to_string(),
            source,
        })
    }
}

/// `auth login` takes the host a wildcard key was made from: `*.prefix.dev` → `prefix.dev`.
fn login_hint(key: &HostKey) -> String {
    let text = key.to_string();
    text.strip_prefix("*.").unwrap_or(&text).to_owned()
}

#[async_trait::async_trait]
impl auth_middleware::TokenRefresher for Refresher {
    async fn fresh(
        &self,
        found: &Found,
    ) -> Result<Option<Authentication>, auth_middleware::BoxError> {
        // The typed error, boxed: the middleware keeps it as its error's source, causes and all.
        let fresh = Refresher::fresh(self, found).await?;
        // A long-running process keeps the login fresh from now on, before requests need it.
        if tokio::runtime::Handle::try_current().is_ok() {
            let current = match &fresh {
                Some(auth) => Found {
                    credential: Arc::new(Credential {
                        key: found.credential.key.clone(),
                        auth: auth.clone(),
                    }),
                    store: Arc::clone(&found.store),
                },
                None => found.clone(),
            };
            self.keep_fresh(current);
        }
        Ok(fresh)
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::sync::Arc;
    use std::time::Duration;

    use auth_core::{
        Authentication, Credential, CredentialStore as _, Found, HostKey, MemoryStore, Secret,
    };

    use super::Refresher;

    /// A stored OAuth login that expires at `expires_at`.
    fn oauth(expires_at: Option<i64>, refresh_token: bool) -> Authentication {
        Authentication::OAuth {
            audience: None,
            access_token: Secret::from("at"),
            refresh_token: refresh_token.then(|| Secret::from("rt")),
            expires_at,
            token_endpoint: "https://idp.example/token".to_owned(),
            revocation_endpoint: None,
            client_id: "rattler".to_owned(),
            issuer: None,
            client_secret: None,
        }
    }

    /// When `auth` falls due for a refresher with a 300-second margin, this process having last
    /// refreshed its key at `refreshed_at`.
    fn due_at(auth: &Authentication, refreshed_at: Option<i64>) -> Option<i64> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let refresher = Refresher::with_margin(
            reqwest::Client::new(),
            dir.path(),
            Arc::new(|| 0),
            Duration::from_mins(5),
        );
        let key = HostKey::parse("registry.test").unwrap();
        let store = Arc::new(MemoryStore::new());
        store.set(&key, auth).unwrap();
        if let Some(at) = refreshed_at {
            refresher
                .refreshed_at
                .lock()
                .unwrap()
                .insert(key.as_str().to_owned(), at);
        }
        let found = Found {
            credential: Arc::new(Credential {
                key,
                auth: auth.clone(),
            }),
            store,
        };
        refresher.due_at(&found, auth)
    }

    // The decision every request and the background task take: `due_at`, not a helper beside it.
    #[test]
    fn when_a_login_falls_due() {
        let cases = [
            ("expires at 10000", oauth(Some(10_000), true), None),
            // Refreshed here a while ago: the margin comes before half its life.
            (
                "refreshed here at 9000",
                oauth(Some(10_000), true),
                Some(9_000),
            ),
            // A token that lives shorter than the margin: not due before half its life, so a
            // provider of short-lived tokens is not asked on every request.
            (
                "refreshed here at 9800",
                oauth(Some(10_000), true),
                Some(9_800),
            ),
            // A token stored by another process that expired before this one refreshed: due at
            // its expiry, which has passed.
            (
                "refreshed here at 10200",
                oauth(Some(10_000), true),
                Some(10_200),
            ),
            ("no expiry", oauth(None, true), None),
            ("no refresh token", oauth(Some(10_000), false), None),
            (
                "not OAuth",
                Authentication::BearerToken(Secret::from("t")),
                None,
            ),
        ];
        let mut table = String::new();
        for (case, auth, refreshed_at) in &cases {
            let due = due_at(auth, *refreshed_at).map_or("never".to_owned(), |at| at.to_string());
            writeln!(table, "{case}: due at {due}").unwrap();
        }
        insta::assert_snapshot!(table, @r"
        expires at 10000: due at 9700
        refreshed here at 9000: due at 9700
        refreshed here at 9800: due at 9900
        refreshed here at 10200: due at 10000
        no expiry: due at never
        no refresh token: due at never
        not OAuth: due at never
        ");
    }
}
