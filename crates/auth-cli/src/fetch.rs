//! `auth fetch URL`: an authenticated download through the middleware, so a user can check a
//! login and a script can fetch a file; a URL under a `[mirrors]` prefix is fetched from the first
//! of its mirrors that answers.

use std::fmt;
use std::fs;
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use auth_core::{SafeUrl, redact_url};
use auth_keyring_cli::KeyringCli;
use auth_middleware::{AuthError, AuthMiddleware};

use crate::cli::{FetchArgs, GlobalArgs, KeyringProviderArg};
use crate::config::{Config, KeyringProvider};
use crate::env::Env;
use crate::output::Printer;
use crate::stores;

/// A server that did not connect or answer in time, with the flag that gives it longer.
#[derive(Debug)]
struct TimedOut {
    host: String,
    after: Duration,
    connecting: bool,
}

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (host, seconds) = (&self.host, self.after.as_secs_f64());
        if self.connecting {
            write!(
                f,
                "could not connect to {host} within {seconds} s; check the address, or raise \
                 --connect-timeout (connect-timeout-seconds in the config file) on a slow network"
            )
        } else {
            write!(
                f,
                "timed out after {seconds} s waiting for {host} to answer; raise --read-timeout \
                 (read-timeout-seconds in the config file) if the server is slow"
            )
        }
    }
}

impl std::error::Error for TimedOut {}

/// Every mirror of a URL failed: each one tried, and what failed.
#[derive(Debug)]
struct MirrorsFailed {
    url: SafeUrl,
    failures: Vec<(SafeUrl, String)>,
}

impl fmt::Display for MirrorsFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "could not download {} from any of its mirrors:",
            self.url
        )?;
        for (mirror, reason) in &self.failures {
            write!(f, "\n  {mirror}: {reason}")?;
        }
        Ok(())
    }
}

impl std::error::Error for MirrorsFailed {}

/// How long a download may take to connect, and to wait for each next byte.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub(crate) connect: Duration,
    pub(crate) read: Duration,
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
    // Decided before the request, so a bad -o costs no download.
    let target = Target::of(args.output.as_deref())?;
    let config = Config::load_layered(env)?;
    let stores = stores::open_with(env, global.auth_file.as_ref(), &config)?;
    let timeouts = Timeouts {
        connect: args
            .connect_timeout
            .unwrap_or_else(|| config.connect_timeout()),
        read: args.read_timeout.unwrap_or_else(|| config.read_timeout()),
    };

    let provider = match args.pypi_keyring_provider {
        Some(KeyringProviderArg::Subprocess) => KeyringProvider::Subprocess,
        Some(KeyringProviderArg::Disabled) => KeyringProvider::Disabled,
        None => config
            .pypi
            .keyring_provider
            .unwrap_or(KeyringProvider::Disabled),
    };
    let (_, client) = client(env, &stores, &config, timeouts, &args.resolve, provider)?;
    let mirrors = config.mirrors().mirrors_for(&url);

    let show_progress = !global.no_progress && global.quiet == 0 && env.stderr_is_terminal;
    crate::oauth::runtime()?.block_on(download(
        &client,
        url,
        mirrors,
        &shown,
        target,
        timeouts,
        show_progress,
    ))?;
    if let Some(output) = args
        .output
        .as_deref()
        .filter(|path| *path != Path::new("-"))
    {
        printer.info(&format!("saved {shown} to {}", output.display()));
    }
    Ok(())
}

/// The client of a download: the middleware over `stores`, with the config's S3 options and
/// the OAuth refresher, connect and read timeouts, and `resolve`'s addresses. Also the plain
/// client under it (one TLS setup), for requests that carry no credential. `auth fetch` and
/// `--check` (`check.rs`) use it, so a check sends what a download sends.
pub(crate) fn client(
    env: &Env,
    stores: &stores::Stores,
    config: &Config,
    timeouts: Timeouts,
    resolve: &[(String, SocketAddr)],
    provider: KeyringProvider,
) -> anyhow::Result<(reqwest::Client, reqwest_middleware::ClientWithMiddleware)> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("auth/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(timeouts.connect)
        .read_timeout(timeouts.read);
    for (host, addr) in resolve {
        builder = builder.resolve(host, *addr);
    }
    // One client (one TLS setup) for the download and for a token refresh on the way.
    let http =
        auth_middleware::reqwest_client(builder).context("could not set up the HTTP client")?;

    let refresher = crate::oauth::refresher(env, stores, http.clone());
    let mut middleware = AuthMiddleware::new(stores.chain.clone(), auth_middleware::system_clock())
        .with_s3(crate::s3::s3_options(env, config, http.clone())?)
        .with_refresher(refresher);
    if provider == KeyringProvider::Subprocess {
        middleware = middleware.with_keyring_provider(Arc::new(KeyringCli::new()));
    }
    Ok((
        http.clone(),
        auth_middleware::with_middleware(http, middleware),
    ))
}

/// Downloads `url` (from `mirrors` in their order when it is under a `[mirrors]` prefix) to
/// `target`.
async fn download(
    client: &reqwest_middleware::ClientWithMiddleware,
    url: reqwest::Url,
    mirrors: Option<Vec<reqwest::Url>>,
    shown: &str,
    target: Target,
    timeouts: Timeouts,
    show_progress: bool,
) -> anyhow::Result<()> {
    let mut response = match mirrors {
        None => {
            let response = send(client, url, timeouts)
                .await
                .map_err(|failed| failed.into_error(shown))?;
            let status = response.status();
            if !status.is_success() {
                bail!("could not download {shown}: the server answered HTTP {status}");
            }
            response
        }
        Some(mirrors) => from_mirrors(client, &url, mirrors, shown, timeouts).await?,
    };
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

    let host = host_port(response.url());
    let mut sink = Sink::open(target)?;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(err) => {
                let err = anyhow::Error::new(err.without_url());
                return Err(timed_out(&err, &host, timeouts)
                    .unwrap_or_else(|| err.context(format!("the download of {shown} broke off"))));
            }
        };
        sink.write(&chunk)?;
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();
    sink.finish()
}

/// A request that got no response.
struct Failed {
    /// What failed: a [`TimedOut`], or the error's own chain.
    err: anyhow::Error,
    timed_out: bool,
    /// Whether the transport failed (no connection, TLS, a timeout, a reset), rather than the
    /// middleware refusing (a 401 or 403, a store that cannot be read, a redirect loop): a
    /// mirror that failed so is skipped for the next one.
    transport: bool,
}

impl Failed {
    /// The error of a download that is not from a mirror.
    fn into_error(self, shown: &str) -> anyhow::Error {
        if self.timed_out {
            self.err
        } else {
            self.err.context(format!("could not download {shown}"))
        }
    }
}

/// One GET of `url` through the middleware; any status is a response.
async fn send(
    client: &reqwest_middleware::ClientWithMiddleware,
    url: reqwest::Url,
    timeouts: Timeouts,
) -> Result<reqwest::Response, Failed> {
    let request_host = host_port(&url);
    // Sent as it is: reqwest's request builder would move the URL's user name and password into
    // an `Authorization` header, which the middleware takes for the caller's own and whose 401 it
    // hands back as a response. Left in the URL, they go through the middleware's one rule for a
    // URL's own credential (`auth_core::url_credential`), and a refusal is its `Rejected`.
    let request = reqwest::Request::new(reqwest::Method::GET, url);
    let err = match client.execute(request).await {
        Ok(response) => return Ok(response),
        Err(err) => middleware_error(err),
    };
    let transport = match err
        .chain()
        .find_map(|cause| cause.downcast_ref::<AuthError>())
    {
        Some(cause) => matches!(cause, AuthError::Send { .. }),
        None => err
            .chain()
            .any(<dyn std::error::Error>::is::<reqwest::Error>),
    };
    // The host of the hop that failed (a redirect may have led elsewhere).
    let host = err
        .chain()
        .find_map(|cause| match cause.downcast_ref::<AuthError>() {
            Some(AuthError::Send { url, .. }) => url::Url::parse(url.as_str()).ok(),
            _ => None,
        })
        .map_or(request_host, |url| host_port(&url));
    Err(match timed_out(&err, &host, timeouts) {
        Some(err) => Failed {
            err,
            timed_out: true,
            transport: true,
        },
        None => Failed {
            err,
            timed_out: false,
            transport,
        },
    })
}

/// The first successful response of `mirrors`, tried in order, each a request of its own (so
/// the middleware looks up the credential for the mirror's URL, never for `url`'s). A mirror
/// that cannot be reached, or answers 5xx, is skipped for the next; any other answer (a 404, a
/// 401) is the answer.
async fn from_mirrors(
    client: &reqwest_middleware::ClientWithMiddleware,
    url: &reqwest::Url,
    mirrors: Vec<reqwest::Url>,
    shown: &str,
    timeouts: Timeouts,
) -> anyhow::Result<reqwest::Response> {
    let original = SafeUrl::from(url);
    let count = mirrors.len();
    let mut failures = Vec::with_capacity(count);
    for (index, mirror) in mirrors.into_iter().enumerate() {
        let safe = SafeUrl::from(&mirror);
        let reason = if matches!(mirror.scheme(), "http" | "https" | "s3") {
            tracing::debug!("trying mirror {safe} (for {original})");
            match send(client, mirror, timeouts).await {
                Ok(response) if response.status().is_success() => {
                    tracing::info!("downloading from mirror {safe} (for {original})");
                    return Ok(response);
                }
                Ok(response) if response.status().is_server_error() => {
                    format!("the server answered HTTP {}", response.status())
                }
                Ok(response) => bail!(
                    "could not download {shown}: its mirror {safe} answered HTTP {}",
                    response.status()
                ),
                Err(failed) if failed.transport => reason(&failed.err, &safe),
                Err(failed) => {
                    return Err(failed
                        .err
                        .context(format!("could not download {shown} from its mirror {safe}")));
                }
            }
        } else {
            format!(
                "`auth fetch` downloads http://, https:// and s3:// URLs, not {}://",
                mirror.scheme()
            )
        };
        if index + 1 < count {
            tracing::warn!("mirror {safe} failed: {reason}; trying the next mirror");
        }
        failures.push((safe, reason));
    }
    Err(MirrorsFailed {
        url: original,
        failures,
    }
    .into())
}

/// Why a request to `url` failed, in one line: the causes, without a first "request to `url`
/// failed" (the URL is named already).
fn reason(err: &anyhow::Error, url: &SafeUrl) -> String {
    let mut causes = err.chain();
    if let Some(AuthError::Send { url: sent, .. }) = err.downcast_ref::<AuthError>()
        && sent == url
    {
        causes.next();
    }
    causes
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

/// A [`TimedOut`] in place of `err` when a timeout caused it: the chain below (hyper's
/// "operation timed out") says nothing more.
fn timed_out(err: &anyhow::Error, host: &str, timeouts: Timeouts) -> Option<anyhow::Error> {
    let cause = err
        .chain()
        .find_map(|cause| cause.downcast_ref::<reqwest::Error>())
        .filter(|cause| cause.is_timeout())?;
    let connecting = cause.is_connect();
    Some(
        TimedOut {
            host: host.to_owned(),
            after: if connecting {
                timeouts.connect
            } else {
                timeouts.read
            },
            connecting,
        }
        .into(),
    )
}

/// `host:port` of a URL, for messages (no user info, no path).
fn host_port(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// Where the bytes go, decided from what is at the `-o` path now.
#[derive(Debug)]
enum Target {
    /// No `-o`, or `-o -`.
    Stdout,
    /// A device, FIFO or socket, or a descriptor of this process (`/dev/stdout` on a file):
    /// opened for appending and written as the bytes come. Replacing it would turn
    /// `/dev/null` into a regular file.
    InPlace(PathBuf),
    /// A regular file, or nothing yet: a temporary file beside it, renamed over it at the end,
    /// so a broken download never leaves half a file behind. `path` is where a chain of
    /// symbolic links ends, so the link stays a link, as editors save.
    Replace {
        path: PathBuf,
        /// The permissions of the file replaced; a new file gets the umask's.
        mode: Option<fs::Permissions>,
    },
}

impl Target {
    fn of(output: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = output.filter(|path| *path != Path::new("-")) else {
            return Ok(Self::Stdout);
        };
        if path.as_os_str().is_empty() {
            bail!("-o needs a file name (or `-` for standard output)");
        }
        let cannot_look = || format!("could not look at {}", path.display());
        let mode = match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => bail!(
                "{} is a directory; give the file to write, like -o {}",
                path.display(),
                path.join("NAME").display()
            ),
            Ok(meta) if !meta.is_file() => return Ok(Self::InPlace(path.to_owned())),
            Ok(meta) => Some(meta.permissions()),
            // Nothing there, or a link to nothing yet; `DIR/` names a directory, not a file.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                if path
                    .as_os_str()
                    .to_string_lossy()
                    .ends_with(std::path::MAIN_SEPARATOR)
                {
                    bail!(
                        "{} names a directory, which does not exist; give the file to write, \
                         like -o {}",
                        path.display(),
                        path.join("NAME").display()
                    );
                }
                None
            }
            Err(err) => return Err(err).with_context(cannot_look),
        };
        let Some(resolved) = resolve_links(path).with_context(cannot_look)? else {
            return Ok(Self::InPlace(path.to_owned()));
        };
        let dir = parent_dir(&resolved);
        if !dir.is_dir() {
            bail!(
                "cannot write {}: the directory {} does not exist",
                path.display(),
                dir.display()
            );
        }
        Ok(Self::Replace {
            path: resolved,
            mode,
        })
    }
}

/// Where the chain of symbolic links at `path` ends (`path` itself when it is no link); the
/// end may not exist yet. `None` when the chain has a link in `/proc` (`/dev/stdout`,
/// `/dev/fd/N`, `/proc/self/fd/N`, however reached): those links name an open descriptor, which
/// is written in place.
fn resolve_links(path: &Path) -> std::io::Result<Option<PathBuf>> {
    // As the kernel's limit (ELOOP).
    const MAX_LINKS: usize = 40;
    let mut current = path.to_owned();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let dir = fs::canonicalize(parent_dir(&current))?;
                if dir.starts_with("/proc") {
                    return Ok(None);
                }
                let target = fs::read_link(&current)?;
                current = parent_dir(&current).join(target);
            }
            Ok(_) => return Ok(Some(current)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Some(current)),
            Err(err) => return Err(err),
        }
    }
    Err(std::io::Error::other(format!(
        "more than {MAX_LINKS} symbolic links in a chain"
    )))
}

/// The directory a path's file is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// An open [`Target`].
enum Sink {
    Stdout(std::io::StdoutLock<'static>),
    InPlace {
        file: std::io::BufWriter<fs::File>,
        path: PathBuf,
    },
    Replace {
        file: std::io::BufWriter<tempfile::NamedTempFile>,
        path: PathBuf,
    },
}

impl Sink {
    fn open(target: Target) -> anyhow::Result<Self> {
        match target {
            Target::Stdout => Ok(Self::Stdout(std::io::stdout().lock())),
            Target::InPlace(path) => {
                // Append, so `-o /dev/stdout` on a file opened with `>>` adds to it.
                let file = fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .with_context(|| format!("could not open {}", path.display()))?;
                Ok(Self::InPlace {
                    file: std::io::BufWriter::new(file),
                    path,
                })
            }
            Target::Replace { path, mode } => {
                let dir = parent_dir(&path);
                let mut builder = tempfile::Builder::new();
                builder.prefix(".auth-fetch-");
                // tempfile makes 0600 files by default; a download gets a file's normal
                // permissions: 0666 less the umask (open(2) applies it).
                #[cfg(unix)]
                builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
                let file = builder
                    .tempfile_in(dir)
                    .with_context(|| format!("could not write to {}", dir.display()))?;
                if let Some(mode) = mode {
                    // The file replaced keeps its permissions, as when a program rewrites it.
                    fs::set_permissions(file.path(), mode)
                        .with_context(|| format!("could not write to {}", dir.display()))?;
                }
                Ok(Self::Replace {
                    file: std::io::BufWriter::new(file),
                    path,
                })
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        match self {
            Self::Stdout(out) => out.write_all(bytes).context("could not write to stdout"),
            Self::InPlace { file, path } => file
                .write_all(bytes)
                .with_context(|| format!("could not write {}", path.display())),
            Self::Replace { file, path } => file
                .write_all(bytes)
                .with_context(|| format!("could not write {}", path.display())),
        }
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {
            Self::Stdout(mut out) => out.flush().context("could not write to stdout"),
            Self::InPlace { mut file, path } => file
                .flush()
                .with_context(|| format!("could not write {}", path.display())),
            Self::Replace { file, path } => {
                let file = file
                    .into_inner()
                    .map_err(std::io::IntoInnerError::into_error)
                    .with_context(|| format!("could not write {}", path.display()))?;
                file.as_file()
                    .sync_all()
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
pub(crate) fn middleware_error(err: reqwest_middleware::Error) -> anyhow::Error {
    match err {
        reqwest_middleware::Error::Middleware(err) => err,
        reqwest_middleware::Error::Reqwest(err) => err.without_url().into(),
    }
}

/// `HOST:PORT:ADDR`, as curl's `--resolve` (IPv6 addresses may be in brackets); clap's parser of
/// the flag, so a bad one is a usage error.
pub(crate) fn parse_resolve(text: &str) -> Result<(String, SocketAddr), String> {
    let parsed = text.split_once(':').and_then(|(host, rest)| {
        let (port, addr) = rest.split_once(':')?;
        let port: u16 = port.parse().ok()?;
        let addr = addr.trim_start_matches('[').trim_end_matches(']');
        let ip: IpAddr = addr.parse().ok()?;
        (!host.is_empty()).then(|| (host.to_ascii_lowercase(), SocketAddr::new(ip, port)))
    });
    parsed.ok_or_else(|| "takes HOST:PORT:ADDR (like example.com:443:127.0.0.1)".to_owned())
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    /// What `-o PATH` becomes, with the temporary directory shown as `[DIR]`.
    fn target(dir: &Path, output: &str) -> String {
        let shown = |path: &Path| {
            path.display()
                .to_string()
                .replace(&dir.display().to_string(), "[DIR]")
        };
        match Target::of(Some(Path::new(output))) {
            Ok(Target::Stdout) => "stdout".to_owned(),
            Ok(Target::InPlace(path)) => format!("in place: {}", shown(&path)),
            Ok(Target::Replace { path, mode }) => format!(
                "replace: {} ({})",
                shown(&path),
                if mode.is_some() {
                    "keeps its mode"
                } else {
                    "new"
                }
            ),
            Err(err) => format!("error: {}", shown(Path::new(&format!("{err:#}")))),
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_target_is_replaced_only_when_it_is_a_regular_file_or_nothing() {
        use std::os::unix::fs::symlink;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        fs::write(dir.join("file"), b"x").unwrap();
        fs::create_dir(dir.join("sub")).unwrap();
        symlink("file", dir.join("link")).unwrap();
        symlink("link", dir.join("link-to-link")).unwrap();
        symlink("sub/new", dir.join("dangling")).unwrap();
        symlink("/dev/null", dir.join("null")).unwrap();
        symlink("loop-b", dir.join("loop-a")).unwrap();
        symlink("loop-a", dir.join("loop-b")).unwrap();
        let mut out = String::new();
        for output in [
            "-",
            "/dev/null",
            "/dev/stdout",
            "/dev/fd/1",
            "/proc/self/fd/2",
            "",
            "[DIR]/newdir/",
            "[DIR]/file",
            "[DIR]/new",
            "[DIR]/link",
            "[DIR]/link-to-link",
            "[DIR]/dangling",
            "[DIR]/null",
            "[DIR]/sub",
            "[DIR]/missing/file",
            "[DIR]/loop-a",
        ] {
            let path = output.replace("[DIR]", &dir.display().to_string());
            let _ = writeln!(out, "{output:<20} {}", target(dir, &path));
        }
        // Nothing was created or replaced by looking.
        assert!(
            fs::symlink_metadata(dir.join("null"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(!dir.join("new").exists());
        insta::assert_snapshot!(out, @r"
        -                    stdout
        /dev/null            in place: /dev/null
        /dev/stdout          in place: /dev/stdout
        /dev/fd/1            in place: /dev/fd/1
        /proc/self/fd/2      in place: /proc/self/fd/2
                             error: -o needs a file name (or `-` for standard output)
        [DIR]/newdir/        error: [DIR]/newdir/ names a directory, which does not exist; give the file to write, like -o [DIR]/newdir/NAME
        [DIR]/file           replace: [DIR]/file (keeps its mode)
        [DIR]/new            replace: [DIR]/new (new)
        [DIR]/link           replace: [DIR]/file (keeps its mode)
        [DIR]/link-to-link   replace: [DIR]/file (keeps its mode)
        [DIR]/dangling       replace: [DIR]/sub/new (new)
        [DIR]/null           in place: [DIR]/null
        [DIR]/sub            error: [DIR]/sub is a directory; give the file to write, like -o [DIR]/sub/NAME
        [DIR]/missing/file   error: cannot write [DIR]/missing/file: the directory [DIR]/missing does not exist
        [DIR]/loop-a         error: could not look at [DIR]/loop-a: Too many levels of symbolic links (os error 40)
        ");
    }

    #[test]
    fn resolve_is_curls() {
        let (host, addr) = parse_resolve("Example.com:8443:127.0.0.1").unwrap();
        assert_eq!(host, "example.com");
        assert_eq!(addr, "127.0.0.1:8443".parse().unwrap());
        let (_, addr) = parse_resolve("a.test:80:[::1]").unwrap();
        assert_eq!(addr, "[::1]:80".parse().unwrap());
        for bad in [
            "a.test",
            "a.test:80",
            "a.test:x:127.0.0.1",
            ":80:127.0.0.1",
            "a.test:80:host",
        ] {
            assert!(parse_resolve(bad).is_err(), "{bad}");
        }
    }
}
