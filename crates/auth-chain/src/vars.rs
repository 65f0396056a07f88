//! `ChainEnv`: the variables of the process environment the default chain reads, handed in by
//! the caller (the library never reads the process environment itself).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use auth_core::Secret;

/// The variables the default chain reads, taken from a map the caller passes in: `HOME`,
/// `RATTLER_AUTH_FILE`, `NETRC`, the `env` store's variables (`AUTH_TOKEN_*`, `TF_TOKEN_*`,
/// `UV_INDEX_*`, ...) and the `AWS_*` ones. An empty value counts as unset, as in `auth`.
///
/// [`ChainEnv::from_vars`] keeps what the chain needs from all of a process's variables
/// (`std::env::vars_os()`); a caller that knows the values sets the fields itself.
#[derive(Debug, Clone, Default)]
pub struct ChainEnv {
    /// `HOME`: where `~/.rattler/credentials.json` and `~/.netrc` are. `from_vars` takes `HOME`
    /// only; a caller on a platform without it (Windows) sets the home directory it knows.
    pub home: Option<PathBuf>,
    /// `RATTLER_AUTH_FILE`: a credentials file used alone, before `--auth-file` and the config.
    pub rattler_auth_file: Option<PathBuf>,
    /// `NETRC`: the `.netrc` to read instead of `~/.netrc`.
    pub netrc: Option<OsString>,
    /// The variables the `env` store reads (every name with one of `auth_store_env::PREFIXES`
    /// or among `auth_store_env::NAMES`), each a [`Secret`]. Kept and read only with the `env`
    /// feature.
    pub credential_vars: BTreeMap<String, Secret>,
    /// Every `AWS_*` variable, for `s3://` URLs and the AWS credential chain. Read only with the
    /// `s3` and `middleware` features.
    pub aws: BTreeMap<String, Secret>,
}

impl ChainEnv {
    /// Whether the default chain reads the variable `name`: what [`ChainEnv::from_vars`] keeps.
    pub fn reads(name: &str) -> bool {
        matches!(name, "HOME" | "RATTLER_AUTH_FILE" | "NETRC")
            || name.starts_with("AWS_")
            || is_credential_var(name)
    }

    /// The chain's variables among `vars` (all of a process's, or a test's own); the others are
    /// dropped. Names or values that are not Unicode are dropped too, except for the paths.
    pub fn from_vars<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        let mut env = Self::default();
        for (name, value) in vars {
            let (name, value): (OsString, OsString) = (name.into(), value.into());
            if value.is_empty() {
                continue;
            }
            let Some(name) = name.to_str() else { continue };
            match name {
                "HOME" => env.home = Some(PathBuf::from(value)),
                "RATTLER_AUTH_FILE" => env.rattler_auth_file = Some(PathBuf::from(value)),
                "NETRC" => env.netrc = Some(value),
                _ => {
                    let aws = name.starts_with("AWS_");
                    if !aws && !is_credential_var(name) {
                        continue;
                    }
                    let Ok(value) = value.into_string() else {
                        continue;
                    };
                    let map = if aws {
                        &mut env.aws
                    } else {
                        &mut env.credential_vars
                    };
                    map.insert(name.to_owned(), Secret::new(value));
                }
            }
        }
        env
    }
}

/// Whether the `env` store reads the variable `name`; with the `env` feature off, none is read.
fn is_credential_var(name: &str) -> bool {
    #[cfg(feature = "env")]
    {
        auth_store_env::NAMES.contains(&name)
            || auth_store_env::PREFIXES
                .iter()
                .any(|prefix| name.starts_with(prefix))
    }
    #[cfg(not(feature = "env"))]
    {
        let _ = name;
        false
    }
}
