//! A stored login later on: refresh with rotation (and what reusing a rotated refresh token
//! costs), and revocation on logout.

use std::time::Duration;

use auth_oauth::{
    Authentication, Flow, OAuthError, Revoked, login, needs_refresh, refresh, revoke,
};
use auth_tests::peers::Oidc;

use crate::support::{
    BrowserScript, BrowserUi, block_on, config, fields, http, now, provider, provider_with_ttl,
    userinfo_status,
};

fn log_in(oidc: &Oidc) -> Authentication {
    let ui = BrowserUi::new(BrowserScript::Follow);
    let auth = block_on(login(&http(), &config(oidc), Flow::AuthCode, &ui, now))
        .unwrap_or_else(|err| panic!("{err}\n{}", oidc.log()));
    assert_eq!(ui.finish(), ["ok"]);
    auth
}

fn introspect(oidc: &Oidc, token: &str) -> serde_json::Value {
    serde_json::from_str(&oidc.introspect(token)).unwrap()
}

#[test]
fn refresh_rotates_and_a_reused_refresh_token_ends_the_session() {
    let oidc = provider_with_ttl(2);
    let first = log_in(&oidc);
    let old = fields(&first);
    let issued = now();
    let expires_at = old.expires_at.unwrap();
    assert!(
        (issued - 1..=issued + 2).contains(&expires_at),
        "a 2 s token"
    );
    // Due once the clock reaches the expiry: the clock is passed in, so no test waits for it.
    assert!(!needs_refresh(&first, expires_at - 2, Duration::ZERO));
    assert!(needs_refresh(&first, expires_at, Duration::ZERO));
    assert!(needs_refresh(&first, issued, Duration::from_mins(1)));

    let second = block_on(refresh(&http(), &first, now()))
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
    assert!(new.expires_at.unwrap() >= expires_at);
    assert_eq!(userinfo_status(&oidc, &new.access_token), 200);
    assert_eq!(oidc.token_requests("refresh_token"), 1);

    // A second process that read the old login before the first one refreshed it.
    let err = block_on(refresh(&http(), &first, now())).unwrap_err();
    assert!(matches!(err, OAuthError::SessionExpired { .. }), "{err:?}");
    insta::assert_snapshot!(err, @"the login session has expired or was revoked (grant request is invalid); log in again");
    // The provider took the reuse for a theft and revoked the grant: the newest login is dead too.
    let err = block_on(refresh(&http(), &second, now())).unwrap_err();
    assert!(matches!(err, OAuthError::SessionExpired { .. }), "{err:?}");
    assert_eq!(oidc.token_errors("refresh_token"), 2);
    assert_eq!(oidc.token_requests("refresh_token"), 1);
}

#[test]
fn revoke_ends_the_refresh_token_at_the_provider() {
    let oidc = provider();
    let auth = log_in(&oidc);
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
    let err = block_on(refresh(&http(), &auth, now())).unwrap_err();
    assert!(matches!(err, OAuthError::SessionExpired { .. }), "{err:?}");
}

#[test]
fn revoke_without_an_endpoint_says_so() {
    let oidc = provider();
    let mut auth = log_in(&oidc);
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
    assert!(block_on(refresh(&http(), &auth, now())).is_ok());
}

#[test]
fn a_stored_plain_http_endpoint_off_the_loopback_is_never_sent_a_token() {
    let oidc = provider();
    let mut auth = log_in(&oidc);
    if let Authentication::OAuth { token_endpoint, .. } = &mut auth {
        *token_endpoint = "http://idp.example/token".to_owned();
    }
    let err = block_on(refresh(&http(), &auth, now())).unwrap_err();
    assert!(matches!(err, OAuthError::InsecureIssuer { .. }), "{err:?}");
    assert_eq!(oidc.token_requests("refresh_token"), 0);
}
