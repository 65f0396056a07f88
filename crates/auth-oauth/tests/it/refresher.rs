//! The `Refresher` against the real provider, with time driven by the test: a token is refreshed
//! once it expires within the margin and not before, the requests of one process share one
//! refresh, a token this process just refreshed is not refreshed again before half its life, a
//! long-running process refreshes in the background before expiry, and two processes sharing a
//! store refresh one login once.

use std::sync::Arc;
use std::time::Duration;

use auth_core::{CredentialStore, Found, HostKey};
use auth_middleware::TokenRefresher;
use auth_oauth::{Authentication, Flow, RefreshError, Refresher, login};
use auth_tests::peers::Oidc;

use crate::support::{
    BrowserScript, BrowserUi, ProcessStore, Rendezvous, SharedFile, TestClock, config, fields,
    http, provider, userinfo_status,
};

/// The provider's access tokens live an hour (`OidcOptions::default`).
const TOKEN_LIFE: i64 = 3600;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// One thread, as the CLI runs a command.
fn process_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A login at the provider, stored in a credentials file under `registry.test`, on the test's
/// clock; and the directory of the cross-process refresh lock, beside that file.
struct Setup {
    oidc: Arc<Oidc>,
    clock: TestClock,
    file: Arc<SharedFile>,
    key: HostKey,
    /// When the stored access token expires.
    expires_at: i64,
    lock_dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        let oidc = provider();
        let clock = TestClock::new();
        let ui = BrowserUi::new(BrowserScript::Follow);
        let auth = process_runtime()
            .block_on(login(
                &http(),
                &config(&oidc),
                Flow::AuthCode,
                &ui,
                clock.as_fn(),
            ))
            .unwrap_or_else(|err| panic!("{err}\n{}", oidc.log()));
        assert_eq!(ui.finish(), ["ok"]);
        let expires_at = auth
            .expires_at()
            .expect("the provider says when it expires");
        assert_eq!(expires_at, clock.now() + TOKEN_LIFE);
        let file = SharedFile::new();
        let key = HostKey::parse("registry.test").unwrap();
        ProcessStore::open(&file).set(&key, &auth).unwrap();
        Self {
            oidc,
            clock,
            file,
            key,
            expires_at,
            lock_dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The login as a process finds it: read through its own view of the file.
    fn found(&self, store: Arc<ProcessStore>) -> Found {
        Found {
            credential: store.get(&self.key).unwrap().expect("the login is stored"),
            store,
        }
    }

    /// A refresher of one process, on the test's clock.
    fn refresher(&self, margin: Duration) -> Arc<Refresher> {
        Refresher::with_margin(http(), self.lock_dir.path(), self.clock.as_now(), margin)
    }

    fn stored(&self) -> Authentication {
        ProcessStore::open(&self.file)
            .get(&self.key)
            .unwrap()
            .expect("the login is stored")
            .auth
            .clone()
    }
}

fn access_token(auth: &Authentication) -> String {
    fields(auth).access_token.expose().clone()
}

fn chain(err: &RefreshError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

#[test]
fn a_token_is_refreshed_once_it_expires_within_the_margin_and_not_before() {
    let setup = Setup::new();
    let rt = runtime();
    let margin = Duration::from_mins(5);
    let refresher = setup.refresher(margin);
    let found = setup.found(ProcessStore::open(&setup.file));
    let margin_starts = setup.expires_at - 300;

    // A second before the margin: the token is sent as it is.
    setup.clock.set(margin_starts - 1);
    let early = rt.block_on(refresher.fresh(&found)).unwrap();
    assert!(early.is_none(), "refreshed outside the margin");
    assert_eq!(setup.oidc.token_requests("refresh_token"), 0);

    // Within the margin (its first second): refreshed before it is sent.
    setup.clock.set(margin_starts);
    let renewed = rt
        .block_on(refresher.fresh(&found))
        .unwrap_or_else(|err| panic!("{}\n{}", chain(&err), setup.oidc.log()))
        .expect("refreshed within the margin");
    assert_eq!(setup.oidc.token_requests("refresh_token"), 1);
    assert_ne!(access_token(&renewed), access_token(&found.credential.auth));
    assert_eq!(renewed.expires_at(), Some(margin_starts + TOKEN_LIFE));
    assert_eq!(access_token(&setup.stored()), access_token(&renewed));
    assert_eq!(
        userinfo_status(&setup.oidc, &fields(&renewed).access_token),
        200
    );
}

#[test]
fn concurrent_requests_of_one_process_share_one_refresh() {
    let setup = Setup::new();
    let rt = runtime();
    // A margin as long as the token's life: the margin alone would call every token due.
    let refresher = setup.refresher(Duration::from_hours(1));
    let found = setup.found(ProcessStore::open(&setup.file));
    // Expired: whichever request runs first, and however late the others start, each must get
    // a fresh token.
    setup.clock.set(setup.expires_at);

    let tokens: Vec<String> = rt.block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (refresher, found) = (Arc::clone(&refresher), found.clone());
                tokio::spawn(async move { refresher.fresh(&found).await })
            })
            .collect();
        let mut tokens = Vec::new();
        for task in tasks {
            let auth = task
                .await
                .unwrap()
                .unwrap_or_else(|err| panic!("{}", chain(&err)))
                .expect("an expired token is replaced");
            tokens.push(access_token(&auth));
        }
        tokens
    });
    assert_eq!(
        setup.oidc.token_requests("refresh_token"),
        1,
        "{}",
        setup.oidc.log()
    );
    assert!(
        tokens.iter().all(|token| *token == tokens[0]),
        "one new token for all"
    );
    assert_ne!(tokens[0], access_token(&found.credential.auth));
    let stored = setup.stored();
    assert_eq!(access_token(&stored), tokens[0]);

    // The next requests, with the new token: the margin says it is due at once, but a token this
    // process just got is good for half its life.
    let refreshed_at = setup.clock.now();
    let latest = setup.found(ProcessStore::open(&setup.file));
    let half_life = refreshed_at + TOKEN_LIFE / 2;
    setup.clock.set(half_life - 1);
    assert!(rt.block_on(refresher.fresh(&latest)).unwrap().is_none());
    assert_eq!(setup.oidc.token_requests("refresh_token"), 1);
    // At half its life, it is refreshed.
    setup.clock.set(half_life);
    let again = rt
        .block_on(refresher.fresh(&latest))
        .unwrap()
        .expect("due at half its life");
    assert_ne!(access_token(&again), tokens[0]);
    assert_eq!(setup.oidc.token_requests("refresh_token"), 2);
}

#[test]
fn a_long_running_process_refreshes_in_the_background_before_expiry() {
    let setup = Setup::new();
    let rt = runtime();
    let margin = Duration::from_mins(5);
    let refresher = setup.refresher(margin);
    let found = setup.found(ProcessStore::open(&setup.file));
    let margin_starts = setup.expires_at - 300;

    // The first request, a second before the margin: nothing happens now ...
    // (Through the middleware's hook, which starts the background task.)
    setup.clock.set(margin_starts - 1);
    let writes = setup.file.writes();
    let now_result = rt.block_on(TokenRefresher::fresh(refresher.as_ref(), &found));
    assert!(matches!(now_result, Ok(None)), "{now_result:?}");
    assert_eq!(setup.oidc.token_requests("refresh_token"), 0);

    // ... but once the clock reaches the margin, the background task refreshes the token with
    // no request asking, before it expires.
    setup.clock.set(margin_starts);
    setup
        .file
        .wait_for_write_after(writes, "the background refresh to store a new token");
    let stored = setup.stored();
    assert_ne!(access_token(&stored), access_token(&found.credential.auth));
    assert_eq!(stored.expires_at(), Some(margin_starts + TOKEN_LIFE));
    assert_eq!(setup.oidc.token_requests("refresh_token"), 1);
    assert_eq!(setup.oidc.token_errors("refresh_token"), 0);
}

// Removing the refresher's lock file left every test green: two processes (two refreshers, each
// with its own gates and its own view of the file) must still refresh a login once, or the
// second spends a refresh token the first rotated and the provider ends the whole grant.
#[test]
fn two_processes_refresh_an_expired_login_once() {
    let setup = Setup::new();
    // Expired: neither process may send the stored token.
    setup.clock.set(setup.expires_at);
    // Both processes have read the stale login past their caches before either takes the lock.
    let rendezvous = Rendezvous::new(2);
    let results: Vec<Result<Option<Authentication>, RefreshError>> = std::thread::scope(|scope| {
        let processes: Vec<_> = (0..2)
            .map(|_| {
                let store = ProcessStore::open_meeting(&setup.file, Some(Arc::clone(&rendezvous)));
                let found = setup.found(store);
                let refresher = setup.refresher(auth_oauth::DEFAULT_MARGIN);
                scope.spawn(move || process_runtime().block_on(refresher.fresh(&found)))
            })
            .collect();
        processes
            .into_iter()
            .map(|process| process.join().unwrap())
            .collect()
    });
    let tokens: Vec<String> = results
        .iter()
        .map(|result| match result {
            Ok(Some(auth)) => access_token(auth),
            Ok(None) => panic!("a process sent the expired token"),
            Err(err) => panic!("{}\n{}", chain(err), setup.oidc.log()),
        })
        .collect();
    assert_eq!(
        setup.oidc.token_errors("refresh_token"),
        0,
        "no process spent a rotated refresh token"
    );
    assert_eq!(setup.oidc.token_requests("refresh_token"), 1);
    assert_eq!(tokens[0], tokens[1], "the second process used the first's");
    let stored = setup.stored();
    assert_eq!(access_token(&stored), tokens[0]);
    assert_eq!(
        userinfo_status(&setup.oidc, &fields(&stored).access_token),
        200
    );
}
