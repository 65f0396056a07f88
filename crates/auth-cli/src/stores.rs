//! Which stores a command uses: an override file when one is set, else the default chain of the
//! environment variables (`env`, read-only), the keyring, the credentials file and `.netrc`.
//!
//! An override file (`RATTLER_AUTH_FILE`, `--auth-file`, the config's
//! `authentication-override-file`) is the only source, as rattler reads `RATTLER_AUTH_FILE`: the
//! `env` store is not consulted then.
//!
//! [`survey_with`] opens every store and keeps the ones that could not be opened, each with its
//! error, so `auth status` can show what it read and what it could not. [`open_with`] is the same
//! survey for the commands that read and write: a credentials file that could not be opened stops
//! them (a file that does not parse is never written), a broken `.netrc` is left out with a
//! warning (it must not stop logins to the keyring).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use auth_core::{CredentialStore, Found, StoreChain};
use auth_store_env::EnvStore;
use auth_store_file::FileStore;
use auth_store_keyring::{KeyringOptions, KeyringStore};
use auth_store_netrc::NetrcStore;

use crate::config::Config;
use crate::env::Env;

/// The stores of this run.
#[derive(Debug)]
pub(crate) struct Stores {
    pub(crate) chain: StoreChain,
    /// Whether the user chose the file (an override), so writing to it deserves no warning.
    pub(crate) file_chosen: bool,
    /// Where processes sharing these stores meet to take turns refreshing OAuth tokens: the
    /// credentials file's directory.
    pub(crate) lock_dir: PathBuf,
    /// How early OAuth tokens are refreshed (the config's `oauth-refresh-margin-seconds`).
    pub(crate) refresh_margin: std::time::Duration,
    /// The `env` store when it is in the chain (not with an override file), to name the
    /// variable an entry came from.
    pub(crate) env: Option<Arc<EnvStore>>,
}

/// One store of the chain, in the chain's order, as [`survey_with`] found it.
#[derive(Debug)]
pub(crate) enum Slot {
    /// Opened. Whether it can answer (a keyring may have no daemon) is asked when it is used.
    Open(Arc<dyn CredentialStore>),
    /// Could not be opened: a credentials file that does not parse or is not a file, a `.netrc`
    /// that cannot be read.
    Broken(Broken),
}

/// A store that could not be opened, and why.
#[derive(Debug)]
pub(crate) struct Broken {
    /// The store's name, as [`CredentialStore::name`] would give it: `file`, `netrc`.
    pub(crate) name: &'static str,
    /// Where it is: the path.
    pub(crate) location: String,
    /// Why it could not be opened; its message names the file.
    pub(crate) error: anyhow::Error,
}

/// Every store of this run as opened, the broken ones included.
#[derive(Debug)]
pub(crate) struct Survey {
    pub(crate) slots: Vec<Slot>,
    /// The credentials files among the open stores (whose unknown entries `status` reports).
    pub(crate) files: Vec<Arc<FileStore>>,
    /// The `env` store when it is in the chain, for the variables of its entries and its
    /// problems.
    pub(crate) env: Option<Arc<EnvStore>>,
    file_chosen: bool,
    lock_dir: PathBuf,
    refresh_margin: std::time::Duration,
}

pub(crate) fn open(env: &Env, auth_file: Option<&PathBuf>) -> anyhow::Result<Stores> {
    let config = Config::load_layered(env)?;
    open_with(env, auth_file, &config)
}

/// [`open`], with the config file already read.
pub(crate) fn open_with(
    env: &Env,
    auth_file: Option<&PathBuf>,
    config: &Config,
) -> anyhow::Result<Stores> {
    let survey = survey_with(env, auth_file, config)?;
    let mut stores: Vec<Arc<dyn CredentialStore>> = Vec::with_capacity(survey.slots.len());
    for slot in survey.slots {
        match slot {
            Slot::Open(store) => stores.push(store),
            // A broken .netrc must not stop logins to the keyring; say why it is not used.
            Slot::Broken(broken) if broken.name == "netrc" => {
                tracing::warn!("{}", one_line(&broken.error));
            }
            // A credentials file that could not be read stops every command: one that does not
            // parse must never be overwritten, and a lookup without it could answer wrongly.
            Slot::Broken(broken) => return Err(broken.error),
        }
    }
    Ok(Stores {
        chain: StoreChain::new(stores),
        file_chosen: survey.file_chosen,
        lock_dir: survey.lock_dir,
        refresh_margin: survey.refresh_margin,
        env: survey.env,
    })
}

/// The credentials file a run uses alone, and what chose it: `RATTLER_AUTH_FILE` >
/// `--auth-file` > the config's override file; `None` for the default chain.
pub(crate) fn chosen_file(
    env: &Env,
    auth_file: Option<&PathBuf>,
    config: &Config,
) -> Option<(PathBuf, &'static str)> {
    if let Some(path) = &env.rattler_auth_file {
        if auth_file.is_some_and(|flag| flag != path) {
            tracing::info!(
                "RATTLER_AUTH_FILE={} takes precedence over --auth-file",
                path.display()
            );
        }
        Some((path.clone(), "RATTLER_AUTH_FILE"))
    } else if let Some(path) = auth_file {
        Some((path.clone(), "--auth-file"))
    } else {
        config
            .authentication_override_file
            .clone()
            .map(|path| (path, "authentication-override-file in the config file"))
    }
}

/// Opens every store of this run. Fails only when there is no chain at all (no home directory
/// for the default one); a store that cannot be opened is a [`Slot::Broken`].
pub(crate) fn survey_with(
    env: &Env,
    auth_file: Option<&PathBuf>,
    config: &Config,
) -> anyhow::Result<Survey> {
    if let Some((path, source)) = chosen_file(env, auth_file, config) {
        tracing::debug!(path = %path.display(), source, "using only this credentials file");
        let lock_dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        let (slot, files) = open_file(&path);
        return Ok(Survey {
            slots: vec![slot],
            files,
            env: None,
            file_chosen: true,
            lock_dir,
            refresh_margin: config.oauth_refresh_margin(),
        });
    }

    let home = env.home.as_ref().context(
        "cannot find the home directory for ~/.rattler/credentials.json; set HOME, or pass --auth-file PATH",
    )?;
    let keyring = Arc::new(KeyringStore::new(KeyringOptions {
        timeout: config.keyring_timeout(),
        interactive: env.stdin_is_terminal,
        ..KeyringOptions::default()
    }));
    let env_store = Arc::new(EnvStore::from_vars(&env.credential_vars));
    for problem in env_store.problems() {
        // Said by `status`; a download only notes it, since the variable may be meant for
        // another tool.
        tracing::debug!(variable = %problem.variable, "not used: {}", problem.reason);
    }
    let (file, files) = open_file(&home.join(".rattler").join("credentials.json"));
    let netrc_path = auth_store_netrc::default_path(home, env.netrc.as_deref(), cfg!(windows));
    let netrc = match NetrcStore::open(&netrc_path) {
        Ok(netrc) => Slot::Open(Arc::new(netrc)),
        Err(err) => Slot::Broken(Broken {
            name: "netrc",
            location: netrc_path.display().to_string(),
            error: err.into(),
        }),
    };
    Ok(Survey {
        slots: vec![
            Slot::Open(env_store.clone()),
            Slot::Open(keyring),
            file,
            netrc,
        ],
        files,
        env: Some(env_store),
        file_chosen: false,
        lock_dir: home.join(".rattler"),
        refresh_margin: config.oauth_refresh_margin(),
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

impl Stores {
    /// The variables an entry of the `env` store came from, or `None` for another store's.
    pub(crate) fn env_variables(&self, found: &Found) -> Option<&[String]> {
        if found.store.name() != "env" {
            return None;
        }
        self.env.as_ref()?.sources(&found.credential.key)
    }

    /// Where a credential that no store could remove comes from, and what to do instead:
    /// `the environment variable TF_TOKEN_x, which auth only reads; unset it`.
    pub(crate) fn read_only_source(&self, found: &Found) -> String {
        match self.env_variables(found) {
            Some([variable]) => {
                format!("the environment variable {variable}, which auth only reads; unset it")
            }
            Some(variables) => format!(
                "the environment variables {}, which auth only reads; unset them",
                variables.join(" and ")
            ),
            None => format!(
                "{}, which auth only reads; remove them from that file",
                found.store.describe()
            ),
        }
    }
}

/// The stores a write passed over that are worth a warning: all but the `env` store, which
/// never takes a write (so saying so each time would be noise).
pub(crate) fn skipped_worth_saying(skipped: &[(String, String)]) -> Vec<&str> {
    let env = EnvStore::default().describe();
    skipped
        .iter()
        .filter(|(store, _)| *store != env)
        .map(|(_, reason)| reason.as_str())
        .collect()
}

/// An error and its causes on one line, each said once: `what failed: why: why`.
pub(crate) fn one_line(err: &anyhow::Error) -> String {
    format!("{err:#}")
}
