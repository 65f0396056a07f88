//! `Env`: everything `auth` takes from the process (variables, terminals, the clock), read once
//! in `main` and passed down, so nothing else reads globals.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use auth_core::Secret;

#[derive(Debug, Clone)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent facts about the process, read once"
)]
pub(crate) struct Env {
    pub(crate) home: Option<PathBuf>,
    pub(crate) rattler_auth_file: Option<PathBuf>,
    pub(crate) xdg_config_home: Option<PathBuf>,
    pub(crate) netrc: Option<OsString>,
    pub(crate) no_color: bool,
    pub(crate) stdin_is_terminal: bool,
    pub(crate) stderr_is_terminal: bool,
    /// Now, in Unix seconds.
    pub(crate) now: i64,
    /// `BROWSER`: the command that opens the login page.
    pub(crate) browser: Option<OsString>,
    /// Whether a graphical session is there to open a browser in (`DISPLAY`, `WAYLAND_DISPLAY`,
    /// or macOS and Windows, which always have one).
    pub(crate) desktop: bool,
    /// Every `AWS_*` variable, for `s3://` downloads and the AWS credential chain (keys among
    /// them, so each is a `Secret`).
    pub(crate) aws: BTreeMap<String, Secret>,
    /// The variables credentials may come from (the `env` store): every variable whose name
    /// starts with one of [`CREDENTIAL_PREFIXES`] or is one of [`CREDENTIAL_NAMES`]. Each is a
    /// `Secret`.
    pub(crate) credential_vars: BTreeMap<String, Secret>,
    /// `AUTH_LOG`: the log level when no `-v`/`-q` is given (credential helpers take no flags).
    pub(crate) log: Option<String>,
    /// `PIXI_HOME`: where pixi keeps its global config (`$PIXI_HOME/config.toml`).
    pub(crate) pixi_home: Option<PathBuf>,
    /// `CARGO_HOME`: where cargo keeps its config (`$CARGO_HOME/config.toml`, default
    /// `~/.cargo`), for `auth helper install cargo`.
    pub(crate) cargo_home: Option<PathBuf>,
    /// `DOCKER_CONFIG`: the directory of docker's `config.json` (default `~/.docker`), for
    /// `auth helper install docker`.
    pub(crate) docker_config: Option<PathBuf>,
    /// The path of the running binary, which `auth helper install` writes into git's, cargo's
    /// and docker's config; `None` when the system cannot say.
    pub(crate) current_exe: Option<PathBuf>,
}

/// Prefixes of the variable names the `env` store reads (`AUTH_TOKEN_`, `TF_TOKEN_`, ...; never
/// all of `AUTH_`, whose `AUTH_LOG` is a setting).
pub(crate) const CREDENTIAL_PREFIXES: [&str; 7] = auth_store_env::PREFIXES;

/// Whole variable names the `env` store reads (`UV_INDEX`, `GH_TOKEN`, `GH_HOST`, ...).
pub(crate) const CREDENTIAL_NAMES: [&str; 7] = auth_store_env::NAMES;

impl Env {
    #[allow(
        clippy::disallowed_methods,
        reason = "this is the one place auth reads the process environment and the clock"
    )]
    pub(crate) fn from_process() -> Self {
        let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        Self {
            home: var("HOME").map(PathBuf::from).or_else(std::env::home_dir),
            rattler_auth_file: var("RATTLER_AUTH_FILE").map(PathBuf::from),
            xdg_config_home: var("XDG_CONFIG_HOME").map(PathBuf::from),
            netrc: var("NETRC"),
            no_color: var("NO_COLOR").is_some_and(|value: OsString| !value.is_empty()),
            stdin_is_terminal: std::io::stdin().is_terminal(),
            stderr_is_terminal: std::io::stderr().is_terminal(),
            now: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| {
                    i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
                }),
            browser: var("BROWSER"),
            desktop: cfg!(any(target_os = "macos", windows))
                || var("DISPLAY").is_some()
                || var("WAYLAND_DISPLAY").is_some(),
            aws: variables(|name| name.starts_with("AWS_")),
            credential_vars: variables(|name| {
                CREDENTIAL_NAMES.contains(&name)
                    || CREDENTIAL_PREFIXES
                        .iter()
                        .any(|prefix| name.starts_with(prefix))
            }),
            log: var("AUTH_LOG").and_then(|value| value.into_string().ok()),
            pixi_home: var("PIXI_HOME").map(PathBuf::from),
            cargo_home: var("CARGO_HOME").map(PathBuf::from),
            docker_config: var("DOCKER_CONFIG").map(PathBuf::from),
            current_exe: std::env::current_exe().ok(),
        }
    }
}

/// The process's variables whose names `wanted` accepts, with a non-empty Unicode value.
#[allow(
    clippy::disallowed_methods,
    reason = "called only by Env::from_process, the one place auth reads the environment"
)]
fn variables(wanted: impl Fn(&str) -> bool) -> BTreeMap<String, Secret> {
    std::env::vars_os()
        .filter_map(|(name, value)| {
            let name = name.into_string().ok()?;
            if !wanted(&name) {
                return None;
            }
            let value = value.into_string().ok().filter(|value| !value.is_empty())?;
            Some((name, Secret::new(value)))
        })
        .collect()
}
