//! `auth fetch URL`: an authenticated download through the middleware, so a user can check a
//! login and a script can fetch a file.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use auth_core::redact_url;
use auth_keyring_cli::KeyringCli;
use auth_middleware::{AuthError, AuthMiddleware, S3Options};
use auth_s3::S3Settings;

use crate::cli::{FetchArgs, GlobalArgs, KeyringProviderArg};
use crate::config::{Config, KeyringProvider};
use crate::env::Env;
use crate::output::Printer;
use crate::stores;

/// How the server's refusal maps to an exit code: 3 for rejected credentials, 4 for none.
pub(crate) fn exit_code(err: &anyhow::Error) -> Option<u8> {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<AuthError>())
        .and_then(|err| match err {
            AuthError::Rejected { .. } | AuthError::Withheld { .. } => Some(3),
            AuthError::NotLoggedIn { .. } | AuthError::NoS3Credentials { .. } => Some(4),
            _ => None,
        })
}

pub(crate) fn fetch(
    args: &FetchArgs,
    global: &GlobalArgs,
    env: &Env,
    printer: Printer,
) -> anyhow::Result<()> {
    let shown = redact_url(&args.url);
    let url: reqwest::Url = args
        .url
        .parse()
        .with_context(|| format!("`{shown}` is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https" | "s3") {
        bail!("`auth fetch` downloads http://, https:// and s3:// URLs, not {shown}");
    }
    let config = Config::load(Config::path(env).as_deref())?;
    let stores = stores::open_with(env, global.auth_file.as_ref(), &config)?;

    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("auth/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30));
    for resolve in &args.resolve {
        let (host, addr) = parse_resolve(resolve)?;
        builder = builder.resolve(&host, addr);
    }
    // One client (one TLS setup) for the download and for a token refresh on the way.
    let http =
        auth_middleware::reqwest_client(builder).context("could not set up the HTTP client")?;

    let refresher = crate::oauth::refresher(env, &stores, http.clone());
    let mut middleware = AuthMiddleware::new(stores.chain, auth_middleware::system_clock())
        .with_s3(s3_options(env, &config)?)
        .with_refresher(refresher);
    let provider = match args.pypi_keyring_provider {
        Some(KeyringProviderArg::Subprocess) => KeyringProvider::Subprocess,
        Some(KeyringProviderArg::Disabled) => KeyringProvider::Disabled,
        None => config
            .pypi
            .keyring_provider
            .unwrap_or(KeyringProvider::Disabled),
    };
    if provider == KeyringProvider::Subprocess {
        middleware = middleware.with_keyring_provider(Arc::new(KeyringCli::new()));
    }

    let client = auth_middleware::with_middleware(http, middleware);

    let show_progress = !global.no_progress && global.quiet == 0 && env.stderr_is_terminal;
    crate::oauth::runtime()?.block_on(download(
        &client,
        url,
        &shown,
        args.output.as_deref(),
        show_progress,
    ))?;
    if let Some(output) = &args.output {
        printer.info(&format!("saved {shown} to {}", output.display()));
    }
    Ok(())
}

async fn download(
    client: &reqwest_middleware::ClientWithMiddleware,
    url: reqwest::Url,
    shown: &str,
    output: Option<&Path>,
    show_progress: bool,
) -> anyhow::Result<()> {
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(middleware_error)
        .with_context(|| format!("could not download {shown}"))?;
    let status = response.status();
    if !status.is_success() {
        bail!("could not download {shown}: the server answered HTTP {status}");
    }
    let progress = if show_progress {
        let bar = response.content_length().map_or_else(
            indicatif::ProgressBar::no_length,
            indicatif::ProgressBar::new,
        );
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} {bytes_per_sec} {wide_bar} {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };

    let mut sink = Sink::open(output)?;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(reqwest::Error::without_url)
        .with_context(|| format!("the download of {shown} broke off"))?
    {
        sink.write(&chunk)?;
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();
    sink.finish()
}

/// Where the bytes go: standard output, or a temporary file renamed over FILE at the end, so a
/// broken download never leaves half a file behind.
enum Sink {
    Stdout(std::io::StdoutLock<'static>),
    File {
        file: std::io::BufWriter<tempfile::NamedTempFile>,
        path: std::path::PathBuf,
    },
}

impl Sink {
    fn open(output: Option<&Path>) -> anyhow::Result<Self> {
        match output {
            None => Ok(Self::Stdout(std::io::stdout().lock())),
            Some(path) if path == Path::new("-") => Ok(Self::Stdout(std::io::stdout().lock())),
            Some(path) => {
                let dir = match path.parent() {
                    Some(dir) if !dir.as_os_str().is_empty() => dir,
                    _ => Path::new("."),
                };
                let file = tempfile::Builder::new()
                    .prefix(".auth-fetch-")
                    .tempfile_in(dir)
                    .with_context(|| format!("could not write to {}", dir.display()))?;
                Ok(Self::File {
                    file: std::io::BufWriter::new(file),
                    path: path.to_owned(),
                })
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        match self {
            Self::Stdout(out) => out.write_all(bytes).context("could not write to stdout"),
            Self::File { file, path } => file
                .write_all(bytes)
                .with_context(|| format!("could not write {}", path.display())),
        }
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {
            Self::Stdout(mut out) => out.flush().context("could not write to stdout"),
            Self::File { file, path } => {
                let file = file
                    .into_inner()
                    .map_err(std::io::IntoInnerError::into_error)
                    .with_context(|| format!("could not write {}", path.display()))?;
                file.persist(&path)
                    .map_err(|err| err.error)
                    .with_context(|| format!("could not save {}", path.display()))?;
                Ok(())
            }
        }
    }
}

/// reqwest-middleware's error as a plain error chain, with any URL in it dropped (ours are
/// redacted in the messages already).
fn middleware_error(err: reqwest_middleware::Error) -> anyhow::Error {
    match err {
        reqwest_middleware::Error::Middleware(err) => err,
        reqwest_middleware::Error::Reqwest(err) => err.without_url().into(),
    }
}

/// `HOST:PORT:ADDR`, as curl's `--resolve` (IPv6 addresses may be in brackets).
fn parse_resolve(text: &str) -> anyhow::Result<(String, SocketAddr)> {
    let parsed = text.split_once(':').and_then(|(host, rest)| {
        let (port, addr) = rest.split_once(':')?;
        let port: u16 = port.parse().ok()?;
        let addr = addr.trim_start_matches('[').trim_end_matches(']');
        let ip: IpAddr = addr.parse().ok()?;
        (!host.is_empty()).then(|| (host.to_ascii_lowercase(), SocketAddr::new(ip, port)))
    });
    parsed.with_context(|| {
        format!("--resolve takes HOST:PORT:ADDR (like example.com:443:127.0.0.1), not `{text}`")
    })
}

/// S3 settings from the config's `[s3-options.*]` and the `AWS_*` variables.
fn s3_options(env: &Env, config: &Config) -> anyhow::Result<S3Options> {
    let get = |name: &str| env.aws.get(name).map(|value| value.expose().clone());
    let default = S3Settings::from_env(get).context("the AWS_* variables are not valid")?;
    let mut options = S3Options {
        default,
        env_credentials: auth_s3::credentials_from_env(get),
        ..S3Options::default()
    };
    for (bucket, bucket_config) in &config.s3_options {
        let endpoint = match &bucket_config.endpoint_url {
            Some(url) => Some(url.parse().with_context(|| {
                format!(
                    "the config file: s3-options.{bucket}.endpoint-url is not a URL: {}",
                    redact_url(url)
                )
            })?),
            None => None,
        };
        options.buckets.insert(
            bucket.clone(),
            S3Settings {
                region: bucket_config.region.clone(),
                endpoint,
                force_path_style: bucket_config.force_path_style,
            },
        );
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_is_curls() {
        let (host, addr) = parse_resolve("Example.com:8443:127.0.0.1").unwrap();
        assert_eq!(host, "example.com");
        assert_eq!(addr, "127.0.0.1:8443".parse().unwrap());
        let (_, addr) = parse_resolve("a.test:80:[::1]").unwrap();
        assert_eq!(addr, "[::1]:80".parse().unwrap());
        for bad in [
            "a.test",
            "a.test:x:127.0.0.1",
            ":80:127.0.0.1",
            "a.test:80:host",
        ] {
            assert!(parse_resolve(bad).is_err(), "{bad}");
        }
    }
}
