//! What every test needs: a provider, an HTTP client, a clock the test sets, stores that behave
//! like one process's view of a shared file, and test `LoginUi`s that play the user's part (a
//! curl "browser", a user approving a device code).

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use auth_core::{Credential, CredentialStore, HostKey, MemoryStore, StoreError, UrlTarget};
use auth_oauth::{Authentication, LoginUi, Now, OAuthConfig, Secret};
use auth_tests::Deadline;
use auth_tests::peers::{Oidc, OidcOptions, http_get};
use rustc_hash::FxHashMap;
use url::Url;

/// The scopes of every test login: an ID token and a refresh token.
pub(crate) const SCOPES: [&str; 2] = ["openid", "offline_access"];

/// A provider with default settings, shared with the UI threads.
pub(crate) fn provider() -> Arc<Oidc> {
    Arc::new(Oidc::start(&OidcOptions::default()))
}

/// The config of the public client `rattler` at `oidc`.
pub(crate) fn config(oidc: &Oidc) -> OAuthConfig {
    let mut config = OAuthConfig::new(Url::parse(oidc.issuer()).unwrap(), "rattler");
    config.scopes = SCOPES.map(str::to_owned).to_vec();
    config.timeout = Duration::from_mins(1);
    config
}

/// An HTTP client as the CLI makes one (reqwest with rustls on ring).
pub(crate) fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The clock of a test: Unix seconds that move only when the test moves them. It starts at the
/// real time, which the provider runs on, so the tokens' stored expiry looks as a real one does;
/// from then on the test decides "now" relative to a token's expiry, and no outcome depends on
/// how fast the machine is.
#[derive(Debug, Clone)]
pub(crate) struct TestClock(Arc<AtomicI64>);

impl TestClock {
    #[allow(
        clippy::disallowed_methods,
        reason = "the clock starts where the provider's real clock is"
    )]
    pub(crate) fn new() -> Self {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        Self(Arc::new(AtomicI64::new(
            i64::try_from(since.as_secs()).unwrap(),
        )))
    }

    pub(crate) fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    pub(crate) fn set(&self, at: i64) {
        self.0.store(at, Ordering::SeqCst);
    }

    /// The clock as `login` takes it.
    pub(crate) fn as_fn(&self) -> impl Fn() -> i64 + Send + Sync + 'static {
        let clock = self.clone();
        move || clock.now()
    }

    /// The clock as a `Refresher` takes it.
    pub(crate) fn as_now(&self) -> Now {
        Arc::new(self.as_fn())
    }
}

/// A single-threaded runtime, as the CLI uses: the loopback listener and the token requests share
/// one thread, and the test's "user" runs on threads of its own.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// The fields of an `Authentication::OAuth`, for assertions.
pub(crate) struct OAuthFields {
    pub(crate) access_token: Secret,
    pub(crate) refresh_token: Option<Secret>,
    pub(crate) expires_at: Option<i64>,
    pub(crate) token_endpoint: String,
    pub(crate) revocation_endpoint: Option<String>,
    pub(crate) client_id: String,
    pub(crate) issuer: Option<String>,
}

pub(crate) fn fields(auth: &Authentication) -> OAuthFields {
    match auth {
        Authentication::OAuth {
            access_token,
            refresh_token,
            expires_at,
            token_endpoint,
            revocation_endpoint,
            client_id,
            issuer,
            ..
        } => OAuthFields {
            access_token: access_token.clone(),
            refresh_token: refresh_token.clone(),
            expires_at: *expires_at,
            token_endpoint: token_endpoint.clone(),
            revocation_endpoint: revocation_endpoint.clone(),
            client_id: client_id.clone(),
            issuer: issuer.clone(),
        },
        other => panic!("expected OAuth, got {}", other.kind()),
    }
}

/// Whether the provider's userinfo endpoint accepts this access token.
pub(crate) fn userinfo_status(oidc: &Oidc, access_token: &Secret) -> u16 {
    let header = format!("Bearer {}", access_token.expose());
    http_get(&oidc.userinfo_url(), &[("Authorization", &header)]).status
}

/// What the browser should do before (or instead of) following the authorization URL.
#[derive(Debug, Clone)]
pub(crate) enum BrowserScript {
    /// Follow the URL with the curl browser, as a user would.
    Follow,
    /// First request `path` on the loopback listener (a stray request, e.g. `/favicon.ico`),
    /// expecting `status`, then follow the URL.
    StrayFirst { path: &'static str, status: u16 },
    /// Request the redirect URI with this query instead of following the URL: a foreign page
    /// trying to slip its own code in.
    Forge { query: &'static str },
}

/// A `LoginUi` with a browser: the curl script of [`Oidc::browser_script`], run on a thread.
pub(crate) struct BrowserUi {
    script: PathBuf,
    plan: BrowserScript,
    runs: Mutex<Vec<JoinHandle<String>>>,
    _dir: tempfile::TempDir,
}

impl BrowserUi {
    pub(crate) fn new(plan: BrowserScript) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = Oidc::browser_script(dir.path());
        Self {
            script,
            plan,
            runs: Mutex::new(Vec::new()),
            _dir: dir,
        }
    }

    /// Waits for the browser thread and returns what it reported (`ok` or curl's complaint).
    pub(crate) fn finish(&self) -> Vec<String> {
        let runs = std::mem::take(&mut *self.runs.lock().unwrap());
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    }
}

impl LoginUi for BrowserUi {
    fn open_browser(&self, url: &Url) -> Result<(), auth_oauth::BoxError> {
        let redirect = url
            .query_pairs()
            .find(|(key, _)| key == "redirect_uri")
            .map(|(_, value)| value.into_owned())
            .expect("the authorization URL has a redirect_uri");
        let script = self.script.clone();
        let plan = self.plan.clone();
        let url = url.to_string();
        let run = std::thread::spawn(move || {
            match plan {
                BrowserScript::Follow => {}
                BrowserScript::StrayFirst { path, status } => {
                    let stray = Url::parse(&redirect).unwrap().join(path).unwrap();
                    let answer = http_get(stray.as_str(), &[]);
                    assert_eq!(answer.status, status, "{}", answer.text());
                }
                BrowserScript::Forge { query } => {
                    let answer = http_get(&format!("{redirect}?{query}"), &[]);
                    return format!("forged: {}", answer.status);
                }
            }
            let output = auth_tests::output_within(
                Command::new(&script).arg(&url),
                None,
                "the curl browser to reach the loopback redirect",
            );
            if output.status.success() {
                "ok".to_owned()
            } else {
                format!("curl failed: {}", String::from_utf8_lossy(&output.stderr))
            }
        });
        self.runs.lock().unwrap().push(run);
        Ok(())
    }

    fn can_open_browser(&self) -> bool {
        true
    }

    fn show_device_code(&self, _: &Url, _: &str, _: Option<&Url>) {
        panic!("a login with a browser must not fall back to a device code");
    }
}

/// What the user does with a device code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceAnswer {
    Approve,
    Deny,
}

/// A `LoginUi` whose user approves or denies the device code on the provider's page (on a thread
/// of its own, as on another device). `browser_fails` makes it a machine where opening a browser
/// was expected to work but fails.
pub(crate) struct DeviceUi {
    oidc: Arc<Oidc>,
    answer: DeviceAnswer,
    browser_fails: bool,
    pub(crate) shown: Mutex<Vec<(String, String, Option<String>)>>,
    runs: Mutex<Vec<JoinHandle<()>>>,
}

impl DeviceUi {
    pub(crate) fn new(oidc: &Arc<Oidc>, answer: DeviceAnswer, browser_fails: bool) -> Self {
        Self {
            oidc: Arc::clone(oidc),
            answer,
            browser_fails,
            shown: Mutex::new(Vec::new()),
            runs: Mutex::new(Vec::new()),
        }
    }

    /// Waits for the user's thread (and so surfaces its panics).
    pub(crate) fn finish(&self) {
        for run in std::mem::take(&mut *self.runs.lock().unwrap()) {
            run.join().unwrap();
        }
    }
}

impl LoginUi for DeviceUi {
    fn open_browser(&self, _: &Url) -> Result<(), auth_oauth::BoxError> {
        Err("no browser in this test".into())
    }

    fn can_open_browser(&self) -> bool {
        self.browser_fails
    }

    fn show_device_code(&self, uri: &Url, user_code: &str, complete: Option<&Url>) {
        self.shown.lock().unwrap().push((
            uri.to_string(),
            user_code.to_owned(),
            complete.map(Url::to_string),
        ));
        let oidc = Arc::clone(&self.oidc);
        let answer = self.answer;
        let user_code = user_code.to_owned();
        self.runs
            .lock()
            .unwrap()
            .push(std::thread::spawn(move || match answer {
                DeviceAnswer::Approve => {
                    oidc.approve_device(&user_code);
                }
                DeviceAnswer::Deny => {
                    oidc.deny_device(&user_code);
                }
            }));
    }
}

/// What several processes share: the entries of one credentials file.
#[derive(Debug, Default)]
pub(crate) struct SharedFile {
    entries: MemoryStore,
    /// How many writes the file has seen, for a test to wait on one.
    writes: Mutex<u64>,
    written: Condvar,
}

impl SharedFile {
    pub(crate) fn new() -> Arc<Self> {
        Arc::default()
    }

    /// How many writes so far.
    pub(crate) fn writes(&self) -> u64 {
        *self.writes.lock().unwrap()
    }

    /// Waits (within the harness's deadline) until the file has seen more than `seen` writes.
    pub(crate) fn wait_for_write_after(&self, seen: u64, what: &str) {
        let deadline = Deadline::start();
        let writes = self.writes.lock().unwrap();
        let (writes, _) = self
            .written
            .wait_timeout_while(writes, deadline.remaining(), |writes| *writes <= seen)
            .unwrap();
        assert!(
            *writes > seen,
            "gave up after {:?} waiting for {what}",
            deadline.total()
        );
    }
}

/// Several parties meeting at one point: none goes on before all have arrived, or the test
/// fails at the harness's deadline (never a hang).
#[derive(Debug)]
pub(crate) struct Rendezvous {
    parties: usize,
    arrived: Mutex<usize>,
    all_here: Condvar,
}

impl Rendezvous {
    pub(crate) fn new(parties: usize) -> Arc<Self> {
        Arc::new(Self {
            parties,
            arrived: Mutex::new(0),
            all_here: Condvar::new(),
        })
    }

    fn arrive(&self, what: &str) {
        let deadline = Deadline::start();
        let mut arrived = self.arrived.lock().unwrap();
        *arrived += 1;
        self.all_here.notify_all();
        let (arrived, _) = self
            .all_here
            .wait_timeout_while(arrived, deadline.remaining(), |arrived| {
                *arrived < self.parties
            })
            .unwrap();
        assert!(
            *arrived >= self.parties,
            "gave up after {:?} waiting for {} parties at {what}; {} came",
            deadline.total(),
            self.parties,
            *arrived
        );
    }
}

/// One process's view of a [`SharedFile`], as a `FileStore` is: `get` answers from what this
/// process read before, `get_fresh` reads the file again (and refreshes the cache), `set` writes
/// the file. Another process's write is seen only through `get_fresh`.
#[derive(Debug)]
pub(crate) struct ProcessStore {
    file: Arc<SharedFile>,
    cache: Mutex<FxHashMap<String, Arc<Credential>>>,
    /// Where this store's first `get_fresh` waits for the other processes' first one.
    first_fresh_read: Option<Arc<Rendezvous>>,
    read_fresh: AtomicBool,
}

impl ProcessStore {
    pub(crate) fn open(file: &Arc<SharedFile>) -> Arc<Self> {
        Self::open_meeting(file, None)
    }

    /// A store whose first read past the cache waits at `rendezvous` until every other process
    /// has made its own: so that all of them have seen the same stale entry before any refreshes.
    pub(crate) fn open_meeting(
        file: &Arc<SharedFile>,
        rendezvous: Option<Arc<Rendezvous>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            file: Arc::clone(file),
            cache: Mutex::default(),
            first_fresh_read: rendezvous,
            read_fresh: AtomicBool::new(false),
        })
    }

    fn cache(&self, key: &HostKey, credential: Option<&Arc<Credential>>) {
        let mut cache = self.cache.lock().unwrap();
        match credential {
            Some(credential) => cache.insert(key.as_str().to_owned(), Arc::clone(credential)),
            None => cache.remove(key.as_str()),
        };
    }
}

impl CredentialStore for ProcessStore {
    fn name(&self) -> &'static str {
        "process"
    }

    fn get(&self, key: &HostKey) -> Result<Option<Arc<Credential>>, StoreError> {
        if let Some(cached) = self.cache.lock().unwrap().get(key.as_str()) {
            return Ok(Some(Arc::clone(cached)));
        }
        let read = self.file.entries.get(key)?;
        self.cache(key, read.as_ref());
        Ok(read)
    }

    fn get_fresh(&self, key: &HostKey) -> Result<Option<Arc<Credential>>, StoreError> {
        let first = !self.read_fresh.swap(true, Ordering::SeqCst);
        if let Some(rendezvous) = &self.first_fresh_read
            && first
        {
            rendezvous.arrive("the first read past the cache");
        }
        let read = self.file.entries.get(key)?;
        self.cache(key, read.as_ref());
        Ok(read)
    }

    fn find(&self, target: &UrlTarget<'_>) -> Result<Option<Arc<Credential>>, StoreError> {
        self.file.entries.find(target)
    }

    fn set(&self, key: &HostKey, auth: &Authentication) -> Result<(), StoreError> {
        self.file.entries.set(key, auth)?;
        let credential = Arc::new(Credential {
            key: key.clone(),
            auth: auth.clone(),
        });
        self.cache(key, Some(&credential));
        *self.file.writes.lock().unwrap() += 1;
        self.file.written.notify_all();
        Ok(())
    }

    fn remove(&self, key: &HostKey) -> Result<bool, StoreError> {
        self.cache(key, None);
        self.file.entries.remove(key)
    }

    fn list(&self) -> Result<Vec<Arc<Credential>>, StoreError> {
        self.file.entries.list()
    }
}
