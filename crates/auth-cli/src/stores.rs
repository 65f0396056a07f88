//! Which stores a command uses: an override file when one is set, else the default chain of the
//! keyring, the credentials file and `.netrc`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use auth_core::{CredentialStore, StoreChain};
use auth_store_file::FileStore;
use auth_store_keyring::{KeyringOptions, KeyringStore};
use auth_store_netrc::NetrcStore;

use crate::config::Config;
use crate::env::Env;

/// The stores of this run, and the files among them (whose unknown entries `status` reports).
#[derive(Debug)]
pub(crate) struct Stores {
    pub(crate) chain: StoreChain,
    pub(crate) files: Vec<Arc<FileStore>>,
    /// Whether the user chose the file (an override), so writing to it deserves no warning.
    pub(crate) file_chosen: bool,
    /// Where processes sharing these stores meet to take turns refreshing OAuth tokens: the
    /// credentials file's directory.
    pub(crate) lock_dir: PathBuf,
    /// How early OAuth tokens are refreshed (the config's `oauth-refresh-margin-seconds`).
    pub(crate) refresh_margin: std::time::Duration,
}

pub(crate) fn open(env: &Env, auth_file: Option<&PathBuf>) -> anyhow::Result<Stores> {
    let config = Config::load(Config::path(env).as_deref())?;
    open_with(env, auth_file, &config)
}

/// [`open`], with the config file already read.
pub(crate) fn open_with(
    env: &Env,
    auth_file: Option<&PathBuf>,
    config: &Config,
) -> anyhow::Result<Stores> {
    // RATTLER_AUTH_FILE > --auth-file > the config's override; whichever is set is the only source.
    let chosen = if let Some(path) = &env.rattler_auth_file {
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
    };
    if let Some((path, source)) = chosen {
        tracing::debug!(path = %path.display(), source, "using only this credentials file");
        let file = Arc::new(FileStore::open(&path)?);
        let lock_dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        return Ok(Stores {
            chain: StoreChain::new(vec![file.clone()]),
            files: vec![file],
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
    let file = Arc::new(FileStore::open(
        home.join(".rattler").join("credentials.json"),
    )?);
    let mut stores: Vec<Arc<dyn CredentialStore>> = vec![keyring, file.clone()];
    let netrc_path = auth_store_netrc::default_path(home, env.netrc.as_deref(), cfg!(windows));
    match NetrcStore::open(&netrc_path) {
        Ok(netrc) => stores.push(Arc::new(netrc)),
        // A broken .netrc must not stop logins to the keyring; say why it is not used.
        Err(err) => tracing::warn!("{err}"),
    }
    Ok(Stores {
        chain: StoreChain::new(stores),
        files: vec![file],
        file_chosen: false,
        lock_dir: home.join(".rattler"),
        refresh_margin: config.oauth_refresh_margin(),
    })
}
