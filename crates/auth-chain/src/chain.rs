//! Which stores, in which order: an override file alone (`RATTLER_AUTH_FILE` > `--auth-file` >
//! the config's `authentication-override-file`), else the default chain of the environment
//! variables (`env`, read-only), the keyring, the credentials file and `.netrc`.
//!
//! An override file is the only source, as rattler reads `RATTLER_AUTH_FILE`: the `env` store
//! is not consulted then. A store whose feature is off is left out of the chain.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use auth_core::{CredentialStore, Saved, StoreChain};
use auth_store_file::{FileStore, FileStoreError};

use crate::ChainEnv;

/// What the caller knows besides the environment: the command line and the config file.
#[derive(Debug, Clone)]
pub struct ChainOptions {
    /// A credentials file named on the command line (`auth --auth-file PATH`); the environment's
    /// `RATTLER_AUTH_FILE` wins over it.
    pub auth_file: Option<PathBuf>,
    /// The config's `authentication-override-file`: used when neither `RATTLER_AUTH_FILE` nor
    /// [`ChainOptions::auth_file`] is set.
    pub override_file: Option<PathBuf>,
    /// How long the keyring may take to answer (and, when not interactive, any call).
    pub keyring_timeout: Duration,
    /// Whether a person can answer a keyring unlock prompt (standard input is a terminal).
    pub interactive: bool,
    /// How long before expiry an OAuth token is refreshed (with the `oauth` feature).
    pub refresh_margin: Duration,
}

impl Default for ChainOptions {
    /// No override file, the keyring's one-second timeout, not interactive, a five-minute
    /// refresh margin: what `auth` does with no flags and no config.
    fn default() -> Self {
        Self {
            auth_file: None,
            override_file: None,
            keyring_timeout: Duration::from_secs(1),
            interactive: false,
            refresh_margin: Duration::from_mins(5),
        }
    }
}

/// What chose the one credentials file of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OverrideSource {
    /// The `RATTLER_AUTH_FILE` variable.
    RattlerAuthFile,
    /// The command line's `--auth-file` ([`ChainOptions::auth_file`]).
    AuthFile,
    /// The config's `authentication-override-file` ([`ChainOptions::override_file`]).
    Config,
}

impl OverrideSource {
    /// The source in words: `RATTLER_AUTH_FILE`, `--auth-file`, `authentication-override-file
    /// in the config file`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RattlerAuthFile => "RATTLER_AUTH_FILE",
            Self::AuthFile => "--auth-file",
            Self::Config => "authentication-override-file in the config file",
        }
    }
}

impl std::fmt::Display for OverrideSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The credentials file used alone, and what chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// The file.
    pub path: PathBuf,
    /// What named it.
    pub source: OverrideSource,
}

/// The credentials file a run uses alone: `RATTLER_AUTH_FILE` > `--auth-file` > the config's
/// override file; `None` for the default chain.
pub fn chosen_file(env: &ChainEnv, options: &ChainOptions) -> Option<Chosen> {
    if let Some(path) = &env.rattler_auth_file {
        if options.auth_file.as_ref().is_some_and(|flag| flag != path) {
            tracing::info!(
                "RATTLER_AUTH_FILE={} takes precedence over --auth-file",
                path.display()
            );
        }
        return Some(Chosen {
            path: path.clone(),
            source: OverrideSource::RattlerAuthFile,
        });
    }
    let (path, source) = match (&options.auth_file, &options.override_file) {
        (Some(path), _) => (path, OverrideSource::AuthFile),
        (None, Some(path)) => (path, OverrideSource::Config),
        (None, None) => return None,
    };
    Some(Chosen {
        path: path.clone(),
        source,
    })
}

/// Why there is no chain, or why it cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// No override file and no home directory, so no default credentials file.
    #[error(
        "cannot find the home directory for ~/.rattler/credentials.json; set HOME, or name a \
         credentials file (RATTLER_AUTH_FILE)"
    )]
    NoHome,
    /// The credentials file could not be opened (it does not parse, or is not a file): a file
    /// that does not parse is never written, and a lookup without it could answer wrongly.
    #[error(transparent)]
    File(#[from] FileStoreError),
    /// An `AWS_*` variable is not valid (`AWS_ENDPOINT_URL` not a URL, say).
    #[cfg(feature = "middleware")]
    #[error("the AWS_* variables are not valid")]
    AwsSettings(#[source] auth_s3::S3Error),
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The credentials file; its message names the file, line and column.
    #[error(transparent)]
    File(#[from] FileStoreError),
    /// `.netrc`; its message names the file.
    #[cfg(feature = "netrc")]
    #[error(transparent)]
    Netrc(#[from] auth_store_netrc::NetrcError),
}

/// One store of the chain, in the chain's order, as [`survey`] found it.
#[derive(Debug)]
pub enum Slot {
    /// Opened. Whether it can answer (a keyring may have no session bus) is asked when it is
    /// used, or by [`DefaultChain::unavailable`].
    Open(Arc<dyn CredentialStore>),
    /// Could not be opened: a credentials file that does not parse or is not a file, a `.netrc`
    /// that cannot be read.
    Broken(Broken),
}

/// A store that could not be opened, and why.
#[derive(Debug)]
pub struct Broken {
    /// The store's name, as [`CredentialStore::name`] would give it: `file`, `netrc`.
    pub name: &'static str,
    /// Where it is: the path.
    pub location: String,
    /// Why it could not be opened.
    pub error: OpenError,
}

/// Every store of a run as opened, the broken ones included (what `auth status` shows).
#[derive(Debug)]
#[non_exhaustive]
pub struct Survey {
    /// The stores, in the chain's order.
    pub slots: Vec<Slot>,
    /// The credentials files among the open stores (whose unknown entries `status` reports).
    pub files: Vec<Arc<FileStore>>,
    /// The `env` store when it is in the chain (not with an override file), for the variables
    /// of its entries and its problems.
    #[cfg(feature = "env")]
    pub env: Option<Arc<auth_store_env::EnvStore>>,
    /// The override file, when one replaces the default chain.
    pub chosen: Option<Chosen>,
    /// Where processes sharing these stores meet to take turns refreshing OAuth tokens: the
    /// credentials file's directory.
    pub lock_dir: PathBuf,
    /// [`ChainOptions::refresh_margin`].
    pub refresh_margin: Duration,
}

/// Opens every store of a run. Fails only when there is no chain at all (no home directory for
/// the default one); a store that cannot be opened is a [`Slot::Broken`].
pub fn survey(env: &ChainEnv, options: &ChainOptions) -> Result<Survey, ChainError> {
    if let Some(chosen) = chosen_file(env, options) {
        tracing::debug!(
            path = %chosen.path.display(),
            source = chosen.source.as_str(),
            "using only this credentials file"
        );
        let lock_dir = match chosen.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        let (slot, files) = open_file(&chosen.path);
        return Ok(Survey {
            slots: vec![slot],
            files,
            #[cfg(feature = "env")]
            env: None,
            chosen: Some(chosen),
            lock_dir,
            refresh_margin: options.refresh_margin,
        });
    }

    let home = env.home.as_ref().ok_or(ChainError::NoHome)?;
    let mut slots = Vec::with_capacity(4);
    #[cfg(feature = "env")]
    let env_store = {
        let store = Arc::new(auth_store_env::EnvStore::from_vars(&env.credential_vars));
        for problem in store.problems() {
            // `auth status` says it; a download only notes it, since the variable may be meant
            // for another tool.
            tracing::debug!(variable = %problem.variable, "not used: {}", problem.reason);
        }
        slots.push(Slot::Open(store.clone()));
        store
    };
    #[cfg(feature = "keyring")]
    slots.push(Slot::Open(Arc::new(auth_store_keyring::KeyringStore::new(
        auth_store_keyring::KeyringOptions {
            timeout: options.keyring_timeout,
            interactive: options.interactive,
            ..auth_store_keyring::KeyringOptions::default()
        },
    ))));
    let (file, files) = open_file(&home.join(".rattler").join("credentials.json"));
    slots.push(file);
    #[cfg(feature = "netrc")]
    {
        let path = auth_store_netrc::default_path(home, env.netrc.as_deref(), cfg!(windows));
        slots.push(match auth_store_netrc::NetrcStore::open(&path) {
            Ok(netrc) => Slot::Open(Arc::new(netrc)),
            Err(err) => Slot::Broken(Broken {
                name: "netrc",
                location: path.display().to_string(),
                error: err.into(),
            }),
        });
    }
    Ok(Survey {
        slots,
        files,
        #[cfg(feature = "env")]
        env: Some(env_store),
        chosen: None,
        lock_dir: home.join(".rattler"),
        refresh_margin: options.refresh_margin,
    })
}

fn open_file(path: &Path) -> (Slot, Vec<Arc<FileStore>>) {
    match FileStore::open(path) {
        Ok(file) => {
            let file = Arc::new(file);
            (Slot::Open(file.clone()), vec![file])
        }
        Err(err) => (
            Slot::Broken(Broken {
                name: "file",
                location: path.display().to_string(),
                error: err.into(),
            }),
            Vec::new(),
        ),
    }
}

/// A store left out of the chain or passed over, and why, in words for a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The store in a sentence ([`CredentialStore::describe`]): `the keyring Secret Service`.
    pub store: String,
    /// Why, naming the store: `the keyring … is unavailable: cannot reach the Secret Service …`.
    pub reason: String,
}

/// The chain a run reads and writes through: what `auth` would use.
#[derive(Debug)]
#[non_exhaustive]
pub struct DefaultChain {
    /// The stores, first preferred.
    pub chain: StoreChain,
    /// The override file, when one replaces the default chain (so writing to it deserves no
    /// warning).
    pub chosen: Option<Chosen>,
    /// The credentials files of the chain.
    pub files: Vec<Arc<FileStore>>,
    /// The `env` store when it is in the chain, to name the variable an entry came from.
    #[cfg(feature = "env")]
    pub env: Option<Arc<auth_store_env::EnvStore>>,
    /// Where processes sharing these stores take turns refreshing OAuth tokens.
    pub lock_dir: PathBuf,
    /// [`ChainOptions::refresh_margin`].
    pub refresh_margin: Duration,
    /// Stores that could not be opened and were left out: a `.netrc` that cannot be read must
    /// not stop logins to the keyring. `auth` warns with each reason.
    pub left_out: Vec<Skipped>,
}

/// What a write through the chain passed over on its way, worth telling the user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fallback {
    /// The stores before the one that took the write, each with why (`the keyring … is
    /// unavailable: …`); the read-only `env` store, passed over by every write, is left out.
    pub skipped: Vec<Skipped>,
    /// Where the credential went in plain text instead of the keyring: the credentials file's
    /// path, when the file was not chosen as an override and a store before it was skipped.
    pub plain_text: Option<String>,
}

impl Survey {
    /// The chain of the open stores. A credentials file that could not be opened stops it (a
    /// file that does not parse is never written); a broken `.netrc` is left out, with why in
    /// [`DefaultChain::left_out`].
    pub fn into_chain(self) -> Result<DefaultChain, ChainError> {
        let mut stores: Vec<Arc<dyn CredentialStore>> = Vec::with_capacity(self.slots.len());
        #[cfg_attr(not(feature = "netrc"), allow(unused_mut))]
        let mut left_out = Vec::new();
        for slot in self.slots {
            match slot {
                Slot::Open(store) => stores.push(store),
                Slot::Broken(Broken {
                    error: OpenError::File(err),
                    ..
                }) => return Err(ChainError::File(err)),
                #[cfg(feature = "netrc")]
                Slot::Broken(broken) => left_out.push(Skipped {
                    store: format!("the netrc {}", broken.location),
                    reason: auth_core::error_chain(&broken.error),
                }),
            }
        }
        Ok(DefaultChain {
            chain: StoreChain::new(stores),
            chosen: self.chosen,
            files: self.files,
            #[cfg(feature = "env")]
            env: self.env,
            lock_dir: self.lock_dir,
            refresh_margin: self.refresh_margin,
            left_out,
        })
    }
}

/// The chain `auth` would use with this environment and these options: [`survey`], then
/// [`Survey::into_chain`].
pub fn open(env: &ChainEnv, options: &ChainOptions) -> Result<DefaultChain, ChainError> {
    survey(env, options)?.into_chain()
}

impl DefaultChain {
    /// The stores of the chain that cannot be used now, each with why: a keyring with no
    /// session bus or a locked collection. This probes (the keyring answers within
    /// [`ChainOptions::keyring_timeout`]); the chain itself skips such a store on every read and
    /// write without asking first.
    pub fn unavailable(&self) -> Vec<Skipped> {
        self.chain
            .stores()
            .iter()
            .filter_map(|store| {
                let reason = store.unavailable_reason()?;
                Some(Skipped {
                    reason: format!("{} is unavailable: {reason}", store.describe()),
                    store: store.describe(),
                })
            })
            .collect()
    }

    /// What a write ([`StoreChain::set`]) passed over, as `auth login` warns about it: each
    /// skipped store but the read-only `env` one, and the file the credential went to in plain
    /// text when the keyring could not take it.
    pub fn fallback(&self, saved: &Saved) -> Fallback {
        let skipped: Vec<Skipped> = saved
            .skipped
            .iter()
            .filter(|(store, _)| !is_env_store(store))
            .map(|(store, reason)| Skipped {
                store: store.clone(),
                reason: reason.clone(),
            })
            .collect();
        let plain_text =
            (!skipped.is_empty() && saved.store.name() == "file" && self.chosen.is_none())
                .then(|| saved.store.location());
        Fallback {
            skipped,
            plain_text,
        }
    }
}

/// The reasons of the stores a write passed over that are worth a warning (`Saved::skipped`):
/// all but the `env` store's, which never takes a write (saying so each time would be noise).
pub fn skipped_worth_saying(skipped: &[(String, String)]) -> Vec<&str> {
    skipped
        .iter()
        .filter(|(store, _)| !is_env_store(store))
        .map(|(_, reason)| reason.as_str())
        .collect()
}

/// Whether `described` ([`CredentialStore::describe`]) is the `env` store's.
fn is_env_store(described: &str) -> bool {
    #[cfg(feature = "env")]
    {
        described == auth_store_env::EnvStore::default().describe()
    }
    #[cfg(not(feature = "env"))]
    {
        let _ = described;
        false
    }
}
