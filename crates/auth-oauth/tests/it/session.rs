//! A stored login later on: refresh with rotation (and what reusing a rotated refresh token
//! costs), and revocation on logout.

use auth_oauth::{Authentication, Flow, OAuthError, Revoked, login, refresh, revoke};
use auth_tests::peers::Oidc;

use crate::support::{
    BrowserScript, BrowserUi, TestClock, block_on, config, fields, http, provider, userinfo_status,
};

fn log_in(oidc: &Oidc, clock: &TestClock) -> Authentication {
    let ui = BrowserUi::new(BrowserScript::Follow);
    let auth = block_on(login(
        &http(),
        &config(oidc),
        Flow::AuthCode,
        &ui,
        clock.as_fn(),
    ))
    .unwrap_or_else(|err| panic!("{err}\n{}", oidc.log()));
    assert_eq!(ui.finish(), ["ok"]);
    auth
}

fn introspect(oidc: &Oidc, token: &str) -> serde_json::Value {
    serde_json::from_str(&oidc.introspect(token)).unwrap()
}

#[test]
fn refresh_rotates_and_a_reused_refresh_token_ends_the_session() {
    let oidc = provider();
    let clock = TestClock::new();
    let first = log_in(&oidc, &clock);
    let old = fields(&first);
    // The provider's hour, from the moment of the login on the test's clock.
    let expires_at = old.expires_at.unwrap();
    assert_eq!(expires_at, clock.now() + 3600);

    // A refresh an hour later (on the clock the refresh is given: the provider's tokens are still
    // good, but the stored expiry moves on with it).
    clock.set(expires_at);
    let second = block_on(refresh(&http(), &first, clock.now()))
        .unwrap_or_else(|err| panic!("{err}\n{}", oidc.log()));
    let new = fields(&second);
    assert_ne!(new.access_token, old.access_token);
    assert_ne!(
        new.refresh_token, old.refresh_token,
        "public clients rotate"
    );
    assert!(new.refresh_token.is_some());
    assert_eq!(new.token_endpoint, old.token_endpoint);
    assert_eq!(new.revocation_endpoint, old.revocation_endpoint);
    assert_eq!(new.issuer, old.issuer);
    assert_eq!(new.client_id, old.client_id);
    assert_eq!(new.expires_at, Some(expires_at + 3600));
    assert_eq!(userinfo_status(&oidc, &new.access_token), 200);
    assert_eq!(oidc.token_requests("refresh_token"), 1);

    // A second process that read the old login before the first one refreshed it.
    let err = block_on(refresh(&http(), &first, clock.now())).unwrap_err();
    assert!(matches!(err, OAuthError::SessionExpired { .. }), "{err:?}");
    insta::assert_snapshot!(err, @"the login session has expired or was revoked (grant request is invalid); log in again");
    // The provider took the reuse for a theft and revoked the grant: the newest login is dead too.
    let err = block_on(refresh(&http(), &second, clock.now())).unwrap_err();
    assert!(matches!(err, OAuthError::SessionExpired { .. }), "{err:?}");
    assert_eq!(oidc.token_errors("refresh_token"), 2);
    assert_eq!(oidc.token_requests("refresh_token"), 1);
}

#[test]
fn revoke_ends_the_refresh_token_at_the_provider() {
    let oidc = provider();
    let clock = TestClock::new();
    let auth = log_in(&oidc, &clock);
    let got = fields(&auth);
    let refresh_token = got.refresh_token.clone().unwrap();
    assert_eq!(introspect(&oidc, refresh_token.expose())["active"], true);
    assert_eq!(introspect(&oidc, got.access_token.expose())["active"], true);

    let revoked = block_on(revoke(&http(), &auth)).unwrap();
    assert_eq!(
        revoked,
        Revoked::Tokens {
            refresh_token: true,
            access_token: true
        }
    );
    insta::assert_snapshot!(revoked, @"revoked the refresh and access tokens at the provider");
    assert_eq!(introspect(&oidc, refresh_token.expose())["active"], false);
    assert_eq!(
        introspect(&oidc, got.access_token.expose())["active"],
        false
    );
    let err = block_on(refresh(&http(), &auth, clock.now())).unwrap_err();
    assert!(matches!(err, OAuthError::SessionExpired { .. }), "{err:?}");
}

#[test]
fn revoke_without_an_endpoint_says_so() {
    let oidc = provider();
    let clock = TestClock::new();
    let mut auth = log_in(&oidc, &clock);
    if let Authentication::OAuth {
        revocation_endpoint,
        ..
    } = &mut auth
    {
        *revocation_endpoint = None;
    }
    let revoked = block_on(revoke(&http(), &auth)).unwrap();
    assert_eq!(revoked, Revoked::NoEndpoint);
    // Nothing was revoked: the refresh token still works.
    assert!(block_on(refresh(&http(), &auth, clock.now())).is_ok());
}

#[test]
fn a_stored_plain_http_endpoint_off_the_loopback_is_never_sent_a_token() {
    let oidc = provider();
    let clock = TestClock::new();
    let mut auth = log_in(&oidc, &clock);
    if let Authentication::OAuth { token_endpoint, .. } = &mut auth {
        *token_endpoint = "http://idp.example/token".to_owned();
    }
    let err = block_on(refresh(&http(), &auth, clock.now())).unwrap_err();
    assert!(matches!(err, OAuthError::InsecureIssuer { .. }), "{err:?}");
    assert_eq!(oidc.token_requests("refresh_token"), 0);
}
