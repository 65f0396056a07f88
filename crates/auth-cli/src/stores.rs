//! Which stores a command uses: the override file when one is set, else the default chain.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use auth_core::{CredentialStore, StoreChain};
use auth_store_file::FileStore;

use crate::env::Env;

/// The stores of this run, and the files among them (whose unknown entries `status` reports).
#[derive(Debug)]
pub(crate) struct Stores {
    pub(crate) chain: StoreChain,
    pub(crate) files: Vec<Arc<FileStore>>,
}

/// Where the credentials file comes from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileSource {
    EnvVar,
    Flag,
    Default,
}

pub(crate) fn open(env: &Env, auth_file: Option<&PathBuf>) -> anyhow::Result<Stores> {
    // RATTLER_AUTH_FILE > --auth-file > the default chain; an override is the only source.
    let (path, source) = if let Some(path) = &env.rattler_auth_file {
        if auth_file.is_some_and(|flag| flag != path) {
            tracing::info!(
                "RATTLER_AUTH_FILE={} takes precedence over --auth-file",
                path.display()
            );
        }
        (path.clone(), FileSource::EnvVar)
    } else if let Some(path) = auth_file {
        (path.clone(), FileSource::Flag)
    } else {
        let home = env.home.as_ref().context(
            "cannot find the home directory for ~/.rattler/credentials.json; set HOME, or pass --auth-file PATH",
        )?;
        (
            home.join(".rattler").join("credentials.json"),
            FileSource::Default,
        )
    };
    tracing::debug!(path = %path.display(), ?source, "using the credentials file");
    let file = Arc::new(FileStore::open(&path)?);
    let stores: Vec<Arc<dyn CredentialStore>> = vec![file.clone()];
    Ok(Stores {
        chain: StoreChain::new(stores),
        files: vec![file],
    })
}
