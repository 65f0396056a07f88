//! What every test needs: a provider, an HTTP client, the clock, and test `LoginUi`s that play
//! the user's part (a curl "browser", a user approving a device code).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use auth_oauth::{Authentication, LoginUi, OAuthConfig, Secret};
use auth_tests::peers::{Oidc, OidcOptions, http_get};
use url::Url;

/// The scopes of every test login: an ID token and a refresh token.
pub(crate) const SCOPES: [&str; 2] = ["openid", "offline_access"];

/// A provider with default settings, shared with the UI threads.
pub(crate) fn provider() -> Arc<Oidc> {
    Arc::new(Oidc::start(&OidcOptions::default()))
}

/// A provider whose access tokens live `seconds`.
pub(crate) fn provider_with_ttl(seconds: u64) -> Arc<Oidc> {
    Arc::new(Oidc::start(&OidcOptions {
        access_token_ttl: seconds,
    }))
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

/// The real clock, as the CLI passes it: the provider runs on it too.
#[allow(
    clippy::disallowed_methods,
    reason = "the provider under test uses the real clock, so the client must too"
)]
pub(crate) fn now() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_secs()).unwrap()
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
    fn open_browser(&self, url: &Url) -> Result<(), String> {
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
            let output = Command::new(&script)
                .arg(&url)
                .stdin(Stdio::null())
                .output()
                .unwrap();
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
    fn open_browser(&self, _: &Url) -> Result<(), String> {
        Err("no browser in this test".to_owned())
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
