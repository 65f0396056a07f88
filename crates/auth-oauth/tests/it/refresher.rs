//! The `Refresher` against the real provider: requests of one process share one refresh, a
//! token this process just refreshed is not refreshed again on every request, and a long-running
//! process refreshes in the background before expiry.

use std::sync::Arc;
use std::time::Duration;

use auth_core::{Credential, CredentialStore, Found, HostKey, MemoryStore};
use auth_middleware::TokenRefresher;
use auth_oauth::{Authentication, Flow, Refresher, login};
use auth_tests::peers::Oidc;

use crate::support::{BrowserScript, BrowserUi, config, fields, http, now, provider_with_ttl};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A login stored in memory under `registry.test`, as the middleware would find it.
fn stored_login(oidc: &Oidc, rt: &tokio::runtime::Runtime) -> Found {
    let ui = BrowserUi::new(BrowserScript::Follow);
    let auth = rt
        .block_on(login(&http(), &config(oidc), Flow::AuthCode, &ui, now))
        .unwrap_or_else(|err| panic!("{err}\n{}", oidc.log()));
    ui.finish();
    let key = HostKey::parse("registry.test").unwrap();
    let store = Arc::new(MemoryStore::new());
    store.set(&key, &auth).unwrap();
    Found {
        credential: Arc::new(Credential { key, auth }),
        store,
    }
}

fn access_token(auth: &Authentication) -> String {
    fields(auth).access_token.expose().clone()
}

fn refresher(margin: Duration) -> Arc<Refresher> {
    let dir = tempfile::tempdir().unwrap().keep();
    Refresher::with_margin(http(), &dir, Arc::new(now), margin)
}

#[test]
fn concurrent_requests_of_one_process_share_one_refresh() {
    let oidc = Arc::new(provider_with_ttl(2));
    let rt = runtime();
    let found = stored_login(&oidc, &rt);
    // A margin longer than the token's life: due at once.
    let refresher = refresher(Duration::from_hours(1));

    let tokens: Vec<String> = rt.block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (refresher, found) = (Arc::clone(&refresher), found.clone());
                tokio::spawn(async move { refresher.fresh(&found).await })
            })
            .collect();
        let mut tokens = Vec::new();
        for task in tasks {
            let auth = task.await.unwrap().unwrap().expect("refreshed");
            tokens.push(access_token(&auth));
        }
        tokens
    });
    assert_eq!(oidc.token_requests("refresh_token"), 1, "{}", oidc.log());
    assert!(
        tokens.iter().all(|token| *token == tokens[0]),
        "one new token for all"
    );
    assert_ne!(tokens[0], access_token(&found.credential.auth));
    let stored = found.store.get(&found.credential.key).unwrap().unwrap();
    assert_eq!(access_token(&stored.auth), tokens[0]);

    // The next request, with the new token: not refreshed again on the spot, although the
    // margin says so: a token this process just got is good for half its life.
    let latest = Found {
        credential: stored,
        store: Arc::clone(&found.store),
    };
    assert!(rt.block_on(refresher.fresh(&latest)).unwrap().is_none());
    assert_eq!(oidc.token_requests("refresh_token"), 1);
}

#[test]
fn a_long_running_process_refreshes_in_the_background_before_expiry() {
    let oidc = Arc::new(provider_with_ttl(2));
    let rt = runtime();
    let found = stored_login(&oidc, &rt);
    let refresher = refresher(Duration::from_secs(1));

    // The first request: the token is fresh, so nothing happens now ...
    // (Through the middleware's hook, which starts the background task.)
    let now_result = rt.block_on(TokenRefresher::fresh(refresher.as_ref(), &found));
    assert_eq!(now_result, Ok(None));
    assert_eq!(oidc.token_requests("refresh_token"), 0);

    // ... but a background task refreshes it before it expires, with no request asking: the
    // test waits for the stored token to change.
    let original = access_token(&found.credential.auth);
    let expires_at = found.credential.auth.expires_at().unwrap();
    let stored = rt.block_on(async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let stored = found.store.get(&found.credential.key).unwrap().unwrap();
            if access_token(&stored.auth) != original {
                break stored;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no background refresh"
            );
            tokio::task::yield_now().await;
        }
    });
    assert!(now() <= expires_at, "refreshed after the old token expired");
    assert!(stored.auth.expires_at().unwrap() > expires_at);
    assert_eq!(oidc.token_requests("refresh_token"), 1);
    assert_eq!(oidc.token_errors("refresh_token"), 0);
}
