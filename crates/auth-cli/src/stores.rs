//! Which stores a command uses: `auth_chain`'s chain (an override file when one is set, else the
//! environment variables (`env`, read-only), the keyring, the credentials file and `.netrc`),
//! fed from `Env` and the config, with the CLI's own messages.
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

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use auth_chain::{ChainEnv, ChainError, ChainOptions};
use auth_core::{CredentialStore, Found, Saved, StoreChain};
use auth_store_env::EnvStore;
use auth_store_file::FileStore;

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
    let chain =
        auth_chain::open(&chain_env(env), &options(env, auth_file, config)).map_err(chain_error)?;
    // A broken .netrc must not stop logins to the keyring; say why it is not used.
    for left_out in &chain.left_out {
        tracing::warn!("{}", left_out.reason);
    }
    Ok(Stores {
        file_chosen: chain.chosen.is_some(),
        lock_dir: chain.lock_dir,
        refresh_margin: chain.refresh_margin,
        env: chain.env,
        chain: chain.chain,
    })
}

/// The variables of `env` the chain reads (`AWS_*` are the S3 code's, in `s3.rs`).
fn chain_env(env: &Env) -> ChainEnv {
    ChainEnv {
        home: env.home.clone(),
        rattler_auth_file: env.rattler_auth_file.clone(),
        netrc: env.netrc.clone(),
        credential_vars: env.credential_vars.clone(),
        aws: BTreeMap::new(),
    }
}

/// The command line's and the config's part of the chain.
fn options(env: &Env, auth_file: Option<&PathBuf>, config: &Config) -> ChainOptions {
    ChainOptions {
        auth_file: auth_file.cloned(),
        override_file: config.authentication_override_file.clone(),
        keyring_timeout: config.keyring_timeout(),
        interactive: env.stdin_is_terminal,
        refresh_margin: config.oauth_refresh_margin(),
    }
}

/// The library's error in the CLI's words: without a home directory, `--auth-file` is a way out.
fn chain_error(err: ChainError) -> anyhow::Error {
    match err {
        ChainError::NoHome => anyhow::anyhow!(
            "cannot find the home directory for ~/.rattler/credentials.json; set HOME, or pass --auth-file PATH"
        ),
        other => other.into(),
    }
}

/// The credentials file a run uses alone, and what chose it: `RATTLER_AUTH_FILE` >
/// `--auth-file` > the config's override file; `None` for the default chain.
pub(crate) fn chosen_file(
    env: &Env,
    auth_file: Option<&PathBuf>,
    config: &Config,
) -> Option<(PathBuf, &'static str)> {
    auth_chain::chosen_file(&chain_env(env), &options(env, auth_file, config))
        .map(|chosen| (chosen.path, chosen.source.as_str()))
}

/// Opens every store of this run. Fails only when there is no chain at all (no home directory
/// for the default one); a store that cannot be opened is a [`Slot::Broken`].
pub(crate) fn survey_with(
    env: &Env,
    auth_file: Option<&PathBuf>,
    config: &Config,
) -> anyhow::Result<Survey> {
    let survey = auth_chain::survey(&chain_env(env), &options(env, auth_file, config))
        .map_err(chain_error)?;
    let slots = survey
        .slots
        .into_iter()
        .map(|slot| match slot {
            auth_chain::Slot::Open(store) => Slot::Open(store),
            auth_chain::Slot::Broken(broken) => Slot::Broken(Broken {
                name: broken.name,
                location: broken.location,
                error: broken.error.into(),
            }),
        })
        .collect();
    Ok(Survey {
        slots,
        files: survey.files,
        env: survey.env,
    })
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

impl Stores {
    /// What a save through [`Stores::chain`] deserves a warning about, for `auth login` and
    /// every helper alike: each store passed over that is worth saying (never the read-only
    /// `env` store, which every write passes), then, when the file took a credential nobody
    /// chose to keep there, that it is plain text. `what` names the credential ("the token"),
    /// `it` its pronoun ("it", "them").
    pub(crate) fn save_warnings(&self, saved: &Saved, what: &str, it: &str) -> Vec<String> {
        let skipped = auth_chain::skipped_worth_saying(&saved.skipped);
        let mut warnings: Vec<String> = skipped.iter().map(|&reason| reason.to_owned()).collect();
        if !skipped.is_empty() && saved.store.name() == "file" && !self.file_chosen {
            let was = if it == "them" { "were" } else { "was" };
            warnings.push(format!(
                "{what} {was} saved in plain text in {} instead; anyone who can read that file \
                 can use {it}",
                saved.store.location()
            ));
        }
        warnings
    }
}

/// An error and its causes on one line, each said once: `what failed: why: why`.
pub(crate) fn one_line(err: &anyhow::Error) -> String {
    format!("{err:#}")
}
