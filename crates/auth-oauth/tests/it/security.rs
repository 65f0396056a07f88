//! What a login must refuse: a redirect with a `state` it did not send, and redirect URIs that
//! are not this client's (our own check and the provider's).

use auth_oauth::{Flow, OAuthError, login};
use auth_tests::peers::http_get;
use url::Url;

use crate::support::{BrowserScript, BrowserUi, TestClock, block_on, config, http, provider};

// A foreign page must not be able to slip its own code into our login: a wrong `state` aborts it.
#[test]
fn a_redirect_with_a_foreign_state_aborts_the_login() {
    let oidc = provider();
    let ui = BrowserUi::new(BrowserScript::Forge {
        query: "code=attacker-code&state=attacker-state",
    });
    let err = block_on(login(
        &http(),
        &config(&oidc),
        Flow::AuthCode,
        &ui,
        TestClock::new().as_fn(),
    ))
    .unwrap_err();
    assert!(matches!(err, OAuthError::StateMismatch), "{err:?}");
    // The forged request got the failure page, and no code reached the token endpoint.
    assert_eq!(ui.finish(), ["forged: 400"]);
    assert_eq!(oidc.token_requests("authorization_code"), 0);
    assert_eq!(oidc.token_errors("authorization_code"), 0);
}

#[test]
fn a_redirect_without_state_aborts_the_login() {
    let oidc = provider();
    let ui = BrowserUi::new(BrowserScript::Forge {
        query: "code=attacker-code",
    });
    let err = block_on(login(
        &http(),
        &config(&oidc),
        Flow::AuthCode,
        &ui,
        TestClock::new().as_fn(),
    ))
    .unwrap_err();
    assert!(matches!(err, OAuthError::StateMismatch), "{err:?}");
    assert_eq!(ui.finish(), ["forged: 400"]);
}

#[test]
fn a_redirect_uri_off_this_machine_is_refused_before_anything_is_sent() {
    let oidc = provider();
    let mut config = config(&oidc);
    config.redirect_uri = Some(Url::parse("https://evil.example/callback").unwrap());
    let ui = BrowserUi::new(BrowserScript::Follow);
    let err = block_on(login(
        &http(),
        &config,
        Flow::AuthCode,
        &ui,
        TestClock::new().as_fn(),
    ))
    .unwrap_err();
    insta::assert_snapshot!(err, @"the redirect URI https://evil.example/callback is not a loopback URL such as http://127.0.0.1:PORT/callback; a command-line login can only receive the redirect on this machine");
    assert!(ui.finish().is_empty(), "no browser was opened");
}

#[test]
fn the_provider_refuses_a_foreign_redirect_uri() {
    let oidc = provider();
    let authorize = |redirect_uri: &str| {
        let mut url = Url::parse(&oidc.url("/auth")).unwrap();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", "rattler")
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", "openid")
            .append_pair("state", "s")
            .append_pair(
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            )
            .append_pair("code_challenge_method", "S256");
        http_get(url.as_str(), &[])
    };
    // Any loopback port is this native client's (RFC 8252, section 7.3)...
    let ours = authorize("http://127.0.0.1:4711/callback");
    assert_eq!(ours.status, 303, "{}", ours.text());
    // ...but not another host, nor another path.
    for foreign in [
        "http://evil.example/callback",
        "https://127.0.0.1/callback",
        "http://127.0.0.1:4711/elsewhere",
    ] {
        let answer = authorize(foreign);
        assert_eq!(answer.status, 400, "{foreign}: {}", answer.text());
        assert!(answer.text().contains("redirect_uri"), "{}", answer.text());
        assert!(answer.header("location").is_none());
    }
}

#[test]
fn plain_http_is_refused_off_the_loopback_interface() {
    let config =
        auth_oauth::OAuthConfig::new(Url::parse("http://idp.example/").unwrap(), "rattler");
    let ui = BrowserUi::new(BrowserScript::Follow);
    let err = block_on(login(
        &http(),
        &config,
        Flow::AuthCode,
        &ui,
        TestClock::new().as_fn(),
    ))
    .unwrap_err();
    insta::assert_snapshot!(err, @"http://idp.example/ uses plain http, which would expose the tokens; OAuth needs https (plain http is allowed only on 127.0.0.1, [::1] and localhost)");
}
