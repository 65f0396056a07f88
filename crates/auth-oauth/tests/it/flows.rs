//! Whole logins against the real provider: the authorization code flow through a curl "browser"
//! and the device code flow approved (or denied) on the provider's device page.

use auth_oauth::{Flow, OAuthError, login};

use crate::support::{
    BrowserScript, BrowserUi, DeviceAnswer, DeviceUi, TestClock, block_on, config, fields, http,
    provider, userinfo_status,
};

#[test]
fn auth_code_login_stores_everything_a_refresh_and_a_logout_need() {
    let oidc = provider();
    let ui = BrowserUi::new(BrowserScript::StrayFirst {
        // A browser asks for the icon of every page; the listener answers 404 and keeps waiting.
        path: "/favicon.ico",
        status: 404,
    });
    let clock = TestClock::new();
    let auth = block_on(login(
        &http(),
        &config(&oidc),
        Flow::AuthCode,
        &ui,
        clock.as_fn(),
    ))
    .unwrap_or_else(|err| panic!("{err}\n{}", oidc.log()));
    assert_eq!(ui.finish(), ["ok"]);

    let got = fields(&auth);
    assert_eq!(got.client_id, "rattler");
    assert_eq!(got.issuer.as_deref(), Some(oidc.issuer()));
    assert_eq!(got.token_endpoint, oidc.url("/token"));
    assert_eq!(
        got.revocation_endpoint.as_deref(),
        Some(oidc.url("/token/revocation").as_str())
    );
    assert!(
        got.refresh_token.is_some(),
        "offline_access gives a refresh token"
    );
    let expires_at = got
        .expires_at
        .expect("the provider says when the token expires");
    // The provider's hour, from the moment of the login.
    assert_eq!(expires_at, clock.now() + 3600);
    assert_eq!(userinfo_status(&oidc, &got.access_token), 200);
    assert_eq!(oidc.token_requests("authorization_code"), 1);
}

#[test]
fn auto_falls_back_to_a_device_code_when_the_browser_fails() {
    let oidc = provider();
    let ui = DeviceUi::new(&oidc, DeviceAnswer::Approve, true);
    let auth = block_on(login(
        &http(),
        &config(&oidc),
        Flow::Auto,
        &ui,
        TestClock::new().as_fn(),
    ))
    .unwrap_or_else(|err| panic!("{err}\n{}", oidc.log()));
    ui.finish();

    let shown = ui.shown.lock().unwrap().clone();
    assert_eq!(shown.len(), 1);
    let (page, code, complete) = &shown[0];
    assert_eq!(page, &oidc.url("/device"));
    assert_eq!(
        complete.as_deref(),
        Some(format!("{}?user_code={code}", oidc.url("/device")).as_str())
    );
    let got = fields(&auth);
    assert!(got.refresh_token.is_some());
    assert_eq!(userinfo_status(&oidc, &got.access_token), 200);
    assert_eq!(
        oidc.token_requests("urn:ietf:params:oauth:grant-type:device_code"),
        1
    );
}

#[test]
fn a_denied_device_code_is_access_denied() {
    let oidc = provider();
    let ui = DeviceUi::new(&oidc, DeviceAnswer::Deny, false);
    let err = block_on(login(
        &http(),
        &config(&oidc),
        Flow::DeviceCode,
        &ui,
        TestClock::new().as_fn(),
    ))
    .unwrap_err();
    ui.finish();
    assert!(
        matches!(&err, OAuthError::AccessDenied { .. }),
        "{err:?}\n{}",
        oidc.log()
    );
    insta::assert_snapshot!(err, @"the login was refused: End-User aborted interaction; run the login again and approve it");
}
