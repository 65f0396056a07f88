//! `KeyringCli`: `keyring get` run as a subprocess, with a timeout and a per-origin cache.

use std::ffi::OsString;
use std::fmt;
use std::io::{self, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use auth_core::{SafeUrl, Secret};
use rustc_hash::FxHashMap;
use tracing::debug;
use url::Url;

use crate::KeyringCliError;

/// The longest `stderr_tail` kept for [`KeyringCliError::Failed`], in characters.
const STDERR_TAIL_CHARS: usize = 200;

/// What one lookup answers; cached as is.
type Outcome = Result<Option<Secret>, KeyringCliError>;

/// The cache key: the origin (`scheme://host:port`) and the user name.
type CacheKey = (String, String);

/// Python's `keyring` command as a password source, as uv's `subprocess` keyring provider.
///
/// For a URL and a user name it runs, as uv does (`crates/uv-auth/src/keyring.rs`,
/// `KeyringProvider::fetch` and `fetch_subprocess`):
///
/// 1. `keyring get <URL> <USER>`, the URL without its user information (uv passes the request
///    URL, whose credentials reqwest has already moved to headers; we also drop the fragment);
/// 2. if that finds nothing, `keyring get <HOST> <USER>`, where HOST carries the port when the URL
///    names a non-default one (`host:8443`), exactly as uv formats it.
///
/// Answers are cached per origin and user name for the life of the value, misses and errors
/// included (uv likewise runs the fetch once per realm and user name). Concurrent callers for the
/// same key wait on one per-key [`OnceLock`]: only one of them runs the command; callers for other
/// keys are not held up.
///
/// Where uv differs: uv trims all trailing whitespace from the password and accepts an empty one
/// (with a warning); we strip exactly one trailing `\n` or `\r\n` and treat an empty password as
/// none. uv lets `keyring`'s stderr through to the terminal and treats every failure as "no
/// password"; we capture stderr and report exit codes other than 1 as
/// [`KeyringCliError::Failed`]. uv has no timeout.
pub struct KeyringCli {
    program: OsString,
    timeout: Duration,
    cache: Mutex<FxHashMap<CacheKey, Arc<OnceLock<Outcome>>>>,
    calls: AtomicUsize,
}

impl KeyringCli {
    /// The `keyring` program found on `PATH`, with a 10 s timeout.
    pub fn new() -> Self {
        Self {
            program: OsString::from("keyring"),
            timeout: Duration::from_secs(10),
            cache: Mutex::default(),
            calls: AtomicUsize::new(0),
        }
    }

    /// Runs `program` instead of `keyring` (a path, or a name looked up on `PATH`).
    #[must_use]
    pub fn with_program(mut self, program: impl Into<OsString>) -> Self {
        self.program = program.into();
        self
    }

    /// How long one `keyring get` may take before it is killed.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The password for `username` at `url`, or `None` when keyring has none.
    ///
    /// `username` is the user name as keyring knows it (percent-decoded from the URL, as uv does).
    /// A URL without a host, or an empty user name, gets `None` without running anything.
    ///
    /// Cached per (origin = `scheme://host:port`, username), misses and errors too, for the life
    /// of the value: a downloader asks once per index, not once per file. So the URL of the
    /// first call for an origin is the one `keyring get` sees.
    pub fn password(&self, url: &Url, username: &str) -> Result<Option<Secret>, KeyringCliError> {
        let Some(host) = url.host_str() else {
            debug!(url = %SafeUrl::new(url.as_str()), "no keyring lookup for a URL without a host");
            return Ok(None);
        };
        if username.is_empty() {
            debug!(host, "no keyring lookup without a user name");
            return Ok(None);
        }
        let key = (origin(url, host), username.to_owned());
        let cell = Arc::clone(
            self.cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(key)
                .or_default(),
        );
        cell.get_or_init(|| self.fetch(url, host, username)).clone()
    }

    /// How many subprocesses were started (for tests and `-v` output).
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    /// The URL lookup, then the host lookup; an error stops at once.
    fn fetch(&self, url: &Url, host: &str, username: &str) -> Outcome {
        if let Some(password) = self.get(&service_url(url), username)? {
            return Ok(Some(password));
        }
        let host_service = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        self.get(&host_service, username)
    }

    /// One `keyring get SERVICE USERNAME`.
    fn get(&self, service: &str, username: &str) -> Outcome {
        debug!(
            command = %format_args!("{} get {} {username}", self.program.display(), SafeUrl::new(service)),
            "asking the keyring command"
        );
        let spawned = Command::new(&self.program)
            .arg("get")
            .arg(service)
            .arg(username)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Err(KeyringCliError::NotInstalled {
                    program: self.program.clone(),
                });
            }
            Err(err) => return Err(self.run_error(err)),
        };
        self.calls.fetch_add(1, Ordering::Relaxed);

        let (status, stdout, stderr) = match self.collect(&mut child) {
            Ok(collected) => collected,
            Err(err) => {
                // Killed on a timeout or a read error; reap it so no zombie is left.
                let _ = child.kill();
                let _ = child.wait();
                return Err(err);
            }
        };
        let outcome = self.interpret(status, stdout, &stderr);
        debug!(
            service = %SafeUrl::new(service),
            username,
            found = matches!(outcome, Ok(Some(_))),
            error = outcome.is_err(),
            "keyring command answered"
        );
        outcome
    }

    /// Reads stdout and stderr to their end, each in its own thread (so a full stderr pipe cannot
    /// block the child while we read stdout), waiting on the channels until the deadline; then
    /// reaps the child. Once both pipes are closed the child is exiting, so the final `wait` does
    /// not block in practice; a child that closed both pipes and kept running would be waited for.
    fn collect(
        &self,
        child: &mut Child,
    ) -> Result<(ExitStatus, Vec<u8>, Vec<u8>), KeyringCliError> {
        let deadline = Instant::now() + self.timeout;
        let stdout = read_in_thread(child.stdout.take()).map_err(|err| self.run_error(err))?;
        let stderr = read_in_thread(child.stderr.take()).map_err(|err| self.run_error(err))?;
        let stdout = self.receive(&stdout, deadline)?;
        let stderr = self.receive(&stderr, deadline)?;
        let status = child.wait().map_err(|err| self.run_error(err))?;
        Ok((status, stdout, stderr))
    }

    /// One pipe's content, or `TimedOut` once the deadline has passed.
    fn receive(
        &self,
        pipe: &mpsc::Receiver<io::Result<Vec<u8>>>,
        deadline: Instant,
    ) -> Result<Vec<u8>, KeyringCliError> {
        match pipe.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(err)) => Err(self.run_error(err)),
            Err(RecvTimeoutError::Timeout) => Err(KeyringCliError::TimedOut {
                program: self.program.clone(),
                seconds: self.timeout.as_secs_f64(),
            }),
            Err(RecvTimeoutError::Disconnected) => Err(self.run_error(io::Error::other(
                "the thread reading the command's output stopped",
            ))),
        }
    }

    /// Exit 0: the password (one trailing newline stripped, empty = none). Exit 1 with nothing
    /// printed: none. Anything else: `Failed`, with the last stderr line and never stdout.
    fn interpret(&self, status: ExitStatus, stdout: Vec<u8>, stderr: &[u8]) -> Outcome {
        match status.code() {
            Some(0) => {
                let Ok(password) = String::from_utf8(stdout) else {
                    return Err(KeyringCliError::NotUtf8 {
                        program: self.program.clone(),
                    });
                };
                let password = strip_one_newline(password);
                Ok((!password.is_empty()).then(|| Secret::new(password)))
            }
            Some(1) if stdout.is_empty() => {
                let tail = stderr_tail(stderr);
                if !tail.is_empty() {
                    debug!(stderr = %tail, "keyring command found nothing");
                }
                Ok(None)
            }
            code => Err(KeyringCliError::Failed {
                program: self.program.clone(),
                code,
                stderr_tail: stderr_tail(stderr),
            }),
        }
    }

    fn run_error(&self, err: io::Error) -> KeyringCliError {
        KeyringCliError::Run {
            program: self.program.clone(),
            source: Arc::new(err),
        }
    }
}

impl Default for KeyringCli {
    fn default() -> Self {
        Self::new()
    }
}

/// Shows the configuration and counters; the cache only by its size.
impl fmt::Debug for KeyringCli {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("KeyringCli")
            .field("program", &self.program)
            .field("timeout", &self.timeout)
            .field("cached", &cached)
            .field("calls", &self.calls())
            .finish()
    }
}

/// `scheme://host:port`, the port spelled out even when it is the scheme's default.
fn origin(url: &Url, host: &str) -> String {
    match url.port_or_known_default() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// The URL as the first `keyring get` sees it: no user information, no fragment.
fn service_url(url: &Url) -> String {
    let mut url = url.clone();
    // Both fail only for URLs that cannot carry user information, which then have none.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_fragment(None);
    url.into()
}

/// Reads `pipe` to its end in a new thread; the content arrives on the returned channel.
fn read_in_thread<R: Read + Send + 'static>(
    pipe: Option<R>,
) -> io::Result<mpsc::Receiver<io::Result<Vec<u8>>>> {
    let (sender, receiver) = mpsc::channel();
    thread::Builder::new()
        .name("keyring-cli-pipe".to_owned())
        .spawn(move || {
            let mut bytes = Vec::new();
            let result = match pipe {
                Some(mut pipe) => pipe.read_to_end(&mut bytes).map(|_| bytes),
                None => Ok(bytes),
            };
            // The receiver is gone after a timeout; nobody needs the content then.
            let _ = sender.send(result);
        })?;
    Ok(receiver)
}

/// `password` without one trailing `\r\n` or `\n`.
fn strip_one_newline(mut password: String) -> String {
    if password.ends_with("\r\n") {
        password.truncate(password.len() - 2);
    } else if password.ends_with('\n') {
        password.truncate(password.len() - 1);
    }
    password
}

/// The last non-empty line of `stderr`, trimmed, cut to [`STDERR_TAIL_CHARS`] characters.
fn stderr_tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text
        .lines()
        .rev()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or_default();
    if line.chars().count() <= STDERR_TAIL_CHARS {
        return line.to_owned();
    }
    let mut cut: String = line.chars().take(STDERR_TAIL_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::{origin, service_url, stderr_tail, strip_one_newline};

    fn check_strip(input: &str, expect: &str) {
        assert_eq!(strip_one_newline(input.to_owned()), expect, "{input:?}");
    }

    #[test]
    fn strips_exactly_one_newline() {
        check_strip("pw\n", "pw");
        check_strip("pw\r\n", "pw");
        check_strip("pw\n\n", "pw\n");
        check_strip("pw\r", "pw\r");
        check_strip(" pw \n", " pw ");
        check_strip("\n", "");
        check_strip("", "");
    }

    #[test]
    fn stderr_tail_is_the_last_line_cut_short() {
        assert_eq!(
            stderr_tail(b"Traceback\n  boom\nValueError: bad \n\n"),
            "ValueError: bad"
        );
        assert_eq!(stderr_tail(b""), "");
        let long = "é".repeat(300);
        let tail = stderr_tail(long.as_bytes());
        assert_eq!(tail.chars().count(), 200);
        assert!(tail.ends_with('…'));
    }

    #[test]
    fn service_and_origin() {
        let url = url::Url::parse("https://alice:pw@Host.Example:443/simple/#frag").unwrap();
        insta::assert_snapshot!(service_url(&url), @"https://host.example/simple/");
        insta::assert_snapshot!(origin(&url, url.host_str().unwrap()), @"https://host.example:443");
        let url = url::Url::parse("http://alice@[::1]:8080/simple/").unwrap();
        insta::assert_snapshot!(service_url(&url), @"http://[::1]:8080/simple/");
        insta::assert_snapshot!(origin(&url, url.host_str().unwrap()), @"http://[::1]:8080");
    }
}
