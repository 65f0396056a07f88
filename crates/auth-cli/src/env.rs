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
    /// The `AWS_*` variables `s3://` downloads read (keys among them, so each is a `Secret`).
    pub(crate) aws: BTreeMap<&'static str, Secret>,
}

/// The `AWS_*` variables S3 downloads use, as the AWS CLI reads them.
const AWS_VARIABLES: [&str; 7] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
];

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
            aws: AWS_VARIABLES
                .into_iter()
                .filter_map(|name| {
                    let value = std::env::var(name).ok().filter(|value| !value.is_empty())?;
                    Some((name, Secret::new(value)))
                })
                .collect(),
        }
    }
}
