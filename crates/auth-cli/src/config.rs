//! The config file, `$XDG_CONFIG_HOME/auth/config.toml` (else `~/.config/auth/config.toml`),
//! then pixi's global config files for the keys both read ([`Config::load_layered`]).
//!
//! ```toml
//! authentication-override-file = "/path/to/credentials.json"  # the only source, like --auth-file
//! keyring-timeout-seconds = 1.0                               # how long the keyring may take
//! oauth-refresh-margin-seconds = 300                          # refresh OAuth tokens this early
//! connect-timeout-seconds = 30                                # `auth fetch`: connecting may take
//! read-timeout-seconds = 60                                   # `auth fetch`: silence allowed
//!
//! [pypi-config]
//! keyring-provider = "subprocess"                             # or "disabled" (the default)
//!
//! [s3-options.my-bucket]                                      # as in pixi's config
//! endpoint-url = "https://minio.example.com"
//! region = "eu-central-1"
//! force-path-style = true
//!
//! [mirrors]                                                   # as in pixi's config
//! "https://conda.anaconda.org/conda-forge" = ["https://prefix.dev/conda-forge"]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use auth_middleware::mirrors::Mirrors;
use serde::Deserialize;

use crate::env::Env;

/// The settings of the config file; every one optional.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct Config {
    /// A credentials file that is then the only source, below `RATTLER_AUTH_FILE` and
    /// `--auth-file`.
    pub(crate) authentication_override_file: Option<PathBuf>,
    /// How long the keyring may take to answer before `auth` moves on without it.
    keyring_timeout_seconds: Option<f64>,
    /// How long before it expires an OAuth access token is refreshed.
    oauth_refresh_margin_seconds: Option<u64>,
    /// How long `auth fetch` may take to connect to a server.
    connect_timeout_seconds: Option<f64>,
    /// How long `auth fetch` waits for the next byte from a server.
    read_timeout_seconds: Option<f64>,
    /// `PyPI` index settings.
    #[serde(default, rename = "pypi-config")]
    pub(crate) pypi: PypiConfig,
    /// Per-bucket S3 settings.
    #[serde(default)]
    pub(crate) s3_options: BTreeMap<String, S3BucketConfig>,
    /// `[mirrors]`: URL prefix → the mirrors that serve it, as written.
    #[serde(default)]
    mirrors: BTreeMap<String, Vec<String>>,
    /// `mirrors` checked, then pixi's files' tables below it ([`Config::mirrors`]).
    #[serde(skip)]
    mirror_table: Mirrors,
    /// The config files that were read, auth's own first, then pixi's in lookup order.
    #[serde(skip)]
    sources: Vec<PathBuf>,
}

/// The keys `auth` reads from one of pixi's global config files; every other key is pixi's
/// business and ignored. pixi also accepts the snake-case spellings.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PixiFile {
    #[serde(alias = "authentication_override_file")]
    authentication_override_file: Option<PathBuf>,
    #[serde(default, alias = "pypi_config")]
    pypi_config: PixiPypi,
    #[serde(default, alias = "s3_options")]
    s3_options: BTreeMap<String, PixiBucket>,
    #[serde(default)]
    mirrors: BTreeMap<String, Vec<String>>,
}

/// `[pypi-config]` in pixi's file: `index-url` and the like are pixi's.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PixiPypi {
    #[serde(alias = "keyring_provider")]
    keyring_provider: Option<KeyringProvider>,
}

/// `[s3-options.BUCKET]` in pixi's file.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PixiBucket {
    #[serde(alias = "endpoint_url")]
    endpoint_url: Option<String>,
    region: Option<String>,
    #[serde(default, alias = "force_path_style")]
    force_path_style: bool,
}

/// `[s3-options.BUCKET]`: how one bucket is reached.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct S3BucketConfig {
    pub(crate) endpoint_url: Option<String>,
    pub(crate) region: Option<String>,
    #[serde(default)]
    pub(crate) force_path_style: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct PypiConfig {
    /// Whether the `keyring` command supplies `PyPI` passwords.
    pub(crate) keyring_provider: Option<KeyringProvider>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum KeyringProvider {
    Subprocess,
    Disabled,
}

impl Config {
    /// Where the config file is, if there is a home to put it in.
    pub(crate) fn path(env: &Env) -> Option<PathBuf> {
        match &env.xdg_config_home {
            Some(dir) => Some(dir.join("auth").join("config.toml")),
            None => env
                .home
                .as_ref()
                .map(|home| home.join(".config").join("auth").join("config.toml")),
        }
    }

    /// pixi's global config files, in the order `auth` consults them: the one pixi reads last
    /// (and so lets win) first. `$PIXI_HOME/config.toml`, `~/.pixi/config.toml`,
    /// `$XDG_CONFIG_HOME/pixi/config.toml`, `~/.config/pixi/config.toml`,
    /// `/etc/pixi/config.toml`; a path named twice is read once.
    pub(crate) fn pixi_paths(env: &Env) -> Vec<PathBuf> {
        let mut paths = Vec::new();
        paths.extend(env.pixi_home.as_ref().map(|dir| dir.join("config.toml")));
        paths.extend(
            env.home
                .as_ref()
                .map(|home| home.join(".pixi").join("config.toml")),
        );
        paths.extend(
            env.xdg_config_home
                .as_ref()
                .map(|dir| dir.join("pixi").join("config.toml")),
        );
        paths.extend(
            env.home
                .as_ref()
                .map(|home| home.join(".config").join("pixi").join("config.toml")),
        );
        paths.push(PathBuf::from("/etc/pixi/config.toml"));
        let mut seen = std::collections::BTreeSet::new();
        paths.retain(|path| seen.insert(path.clone()));
        paths
    }

    /// Reads auth's own config file, then each of pixi's ([`Config::pixi_paths`]): for each key
    /// both read, the first file that sets it wins (for `s3-options`, each bucket; for `mirrors`,
    /// each prefix). A file that cannot be read or parsed is an error naming it.
    pub(crate) fn load_layered(env: &Env) -> anyhow::Result<Self> {
        let own = Self::path(env);
        let mut config = Self::load(own.as_deref())?;
        if let Some(own) = own
            && own.is_file()
        {
            config.sources.push(own);
        }
        for path in Self::pixi_paths(env) {
            let Some(text) = read_regular(&path, "pixi's config file")? else {
                continue;
            };
            let pixi: PixiFile = toml::from_str(&text).map_err(|err| {
                anyhow::anyhow!(
                    "pixi's config file {} is not valid: {}\nFix it (see pixi's documentation), \
                     or move it away.",
                    path.display(),
                    err.to_string().trim_end()
                )
            })?;
            config.authentication_override_file = config
                .authentication_override_file
                .take()
                .or(pixi.authentication_override_file);
            config.pypi.keyring_provider = config
                .pypi
                .keyring_provider
                .or(pixi.pypi_config.keyring_provider);
            let mirrors = Mirrors::new(&pixi.mirrors)
                .map_err(|err| anyhow::anyhow!("pixi's config file {}: {err}", path.display()))?;
            config.mirror_table = std::mem::take(&mut config.mirror_table).or(mirrors);
            for (bucket, options) in pixi.s3_options {
                config.s3_options.entry(bucket).or_insert(S3BucketConfig {
                    endpoint_url: options.endpoint_url,
                    region: options.region,
                    force_path_style: options.force_path_style,
                });
            }
            config.sources.push(path);
        }
        Ok(config)
    }

    /// `[mirrors]` of every config file read, the first file that names a prefix winning.
    pub(crate) fn mirrors(&self) -> &Mirrors {
        &self.mirror_table
    }

    /// The config files that were read, in the order they were consulted.
    pub(crate) fn sources(&self) -> &[PathBuf] {
        &self.sources
    }

    /// Reads the config file; a missing one is the defaults. Anything but a regular file (after
    /// following links) is refused before it is opened: reading a FIFO would wait for a writer
    /// forever, and a device never ends.
    pub(crate) fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let unreadable = || format!("could not read the config file {}", path.display());
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_file() => {}
            Ok(meta) => anyhow::bail!(
                "the config file {} is {}, not a regular file; replace it with a TOML file, or \
                 remove it",
                path.display(),
                describe_file_type(meta.file_type())
            ),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(err) => return Err(err).with_context(unreadable),
        }
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(err) => return Err(err).with_context(unreadable),
        };
        let mut config: Self = toml::from_str(&text).map_err(|err| {
            anyhow::anyhow!(
                "the config file {} is not valid: {}\nFix it (see docs/guide.md for the settings), or move it away.",
                path.display(),
                err.to_string().trim_end()
            )
        })?;
        let settings = [
            (
                "keyring-timeout-seconds",
                config.keyring_timeout_seconds,
                600.0,
            ),
            (
                "connect-timeout-seconds",
                config.connect_timeout_seconds,
                MAX_TIMEOUT_SECONDS,
            ),
            (
                "read-timeout-seconds",
                config.read_timeout_seconds,
                MAX_TIMEOUT_SECONDS,
            ),
        ];
        for (name, value, max) in settings {
            if let Some(seconds) = value
                && let Err(message) = seconds_between(seconds, max)
            {
                anyhow::bail!("the config file {}: {name} {message}", path.display());
            }
        }
        config.mirror_table = Mirrors::new(&config.mirrors)
            .map_err(|err| anyhow::anyhow!("the config file {}: {err}", path.display()))?;
        Ok(config)
    }

    /// How early OAuth tokens are refreshed: 5 minutes unless configured.
    pub(crate) fn oauth_refresh_margin(&self) -> Duration {
        self.oauth_refresh_margin_seconds
            .map_or(auth_oauth::DEFAULT_MARGIN, Duration::from_secs)
    }

    /// The keyring timeout: 1 second unless configured.
    pub(crate) fn keyring_timeout(&self) -> Duration {
        self.keyring_timeout_seconds
            .map_or(Duration::from_secs(1), Duration::from_secs_f64)
    }

    /// How long `auth fetch` may take to connect: 30 seconds unless configured.
    pub(crate) fn connect_timeout(&self) -> Duration {
        self.connect_timeout_seconds
            .map_or(Duration::from_secs(30), Duration::from_secs_f64)
    }

    /// How long `auth fetch` waits for the next byte: 60 seconds unless configured.
    pub(crate) fn read_timeout(&self) -> Duration {
        self.read_timeout_seconds
            .map_or(Duration::from_mins(1), Duration::from_secs_f64)
    }
}

/// The longest connect or read timeout, from the flags or the config: a day.
pub(crate) const MAX_TIMEOUT_SECONDS: f64 = 86_400.0;

/// `seconds` as a [`Duration`] when it is a number above 0 and at most `max`, else what is wrong
/// with it (to follow the setting's name). Checked before `Duration::from_secs_f64`, which panics
/// on negative, infinite and huge values.
pub(crate) fn seconds_between(seconds: f64, max: f64) -> Result<Duration, String> {
    if seconds.is_finite() && seconds > 0.0 && seconds <= max {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(format!(
            "must be a number of seconds between 0 and {max}, not {seconds}"
        ))
    }
}

/// The text of the file at `path` (`what` names it in errors), `None` when there is none. Anything
/// but a regular file is refused unopened.
fn read_regular(path: &Path, what: &str) -> anyhow::Result<Option<String>> {
    let unreadable = || format!("could not read {what} {}", path.display());
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {}
        Ok(meta) => anyhow::bail!(
            "{what} {} is {}, not a regular file; replace it with a TOML file, or remove it",
            path.display(),
            describe_file_type(meta.file_type())
        ),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err).with_context(unreadable),
    }
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(unreadable),
    }
}

/// What a file that is not a regular file is, in words.
pub(crate) fn describe_file_type(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::{Config, seconds_between};

    #[test]
    fn seconds_are_above_zero_and_at_most_the_limit() {
        let check = |seconds: f64| match seconds_between(seconds, 600.0) {
            Ok(duration) => format!("{duration:?}"),
            Err(message) => message,
        };
        insta::assert_snapshot!(check(0.5), @"500ms");
        insta::assert_snapshot!(check(600.0), @"600s");
        insta::assert_snapshot!(check(0.0), @"must be a number of seconds between 0 and 600, not 0");
        insta::assert_snapshot!(check(-1.0), @"must be a number of seconds between 0 and 600, not -1");
        insta::assert_snapshot!(check(f64::NAN), @"must be a number of seconds between 0 and 600, not NaN");
        insta::assert_snapshot!(check(1e9), @"must be a number of seconds between 0 and 600, not 1000000000");
    }

    #[test]
    fn fetch_timeouts_default_and_come_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let defaults = Config::default();
        assert_eq!(defaults.connect_timeout().as_secs(), 30);
        assert_eq!(defaults.read_timeout().as_secs(), 60);
        std::fs::write(
            &path,
            "connect-timeout-seconds = 2.5\nread-timeout-seconds = 7\n",
        )
        .unwrap();
        let config = Config::load(Some(&path)).unwrap();
        assert_eq!(config.connect_timeout().as_millis(), 2500);
        assert_eq!(config.read_timeout().as_secs(), 7);
        std::fs::write(&path, "read-timeout-seconds = 0\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(
            err.ends_with(
                "read-timeout-seconds must be a number of seconds between 0 and 86400, not 0"
            ),
            "{err}"
        );
    }

    #[test]
    fn mirrors_come_from_the_file_and_a_bad_one_names_the_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[mirrors]\n\"https://conda.anaconda.org/conda-forge\" = [\"https://prefix.dev/conda-forge\"]\n",
        )
        .unwrap();
        let config = Config::load(Some(&path)).unwrap();
        let url = url::Url::parse("https://conda.anaconda.org/conda-forge/noarch/x.conda").unwrap();
        assert_eq!(
            config.mirrors().candidates(&url)[0].as_str(),
            "https://prefix.dev/conda-forge/noarch/x.conda"
        );
        std::fs::write(
            &path,
            "[mirrors]\n\"https://h.example/\" = [\"not a url\"]\n",
        )
        .unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "the config file {}: [mirrors] `https://h.example/` lists `not a url`, which is \
                 not a mirror URL: relative URL without a base",
                path.display()
            )
        );
        // A misspelled table is an error, as every unknown key of auth's own file.
        std::fs::write(&path, "[mirror]\n\"https://h.example/\" = []\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("unknown field `mirror`"), "{err}");
    }

    // A config file that is a FIFO blocked every command, waiting for a writer.
    #[cfg(unix)]
    #[test]
    fn a_config_file_that_is_not_a_regular_file_is_refused_unopened() {
        let dir = tempfile::tempdir().unwrap();
        let err = Config::load(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("is a directory, not a regular file"), "{err}");
        let device = dir.path().join("config.toml");
        std::os::unix::fs::symlink("/dev/zero", &device).unwrap();
        let err = Config::load(Some(&device)).unwrap_err().to_string();
        assert!(err.contains("is a device, not a regular file"), "{err}");
        assert!(Config::load(Some(&dir.path().join("missing.toml"))).is_ok());
    }
}
