//! No token or secret reaches a `Debug` or `Display` of an error or of the config.

use auth_oauth::{Flow, OAuthConfig, OAuthError, Secret, login, refresh};
use url::Url;

use crate::support::{
    BrowserScript, BrowserUi, DeviceAnswer, DeviceUi, TestClock, block_on, config, fields, http,
    provider,
};

fn assert_clean(text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{secret:?} leaked into: {text}");
    }
}

#[test]
fn config_debug_hides_the_client_secret_and_url_passwords() {
    let mut config = OAuthConfig::new(
        Url::parse("https://user:url-password-9f2@idp.example/").unwrap(),
        "rattler",
    );
    config.client_secret = Some(Secret::from("client-secret-71c4"));
    let printed = format!("{config:?} {config:#?}");
    assert_clean(&printed, &["client-secret-71c4", "url-password-9f2"]);
    assert!(printed.contains("rattler"), "{printed}");
}

#[test]
fn errors_of_real_failures_hold_no_token() {
    let oidc = provider();
    let ui = BrowserUi::new(BrowserScript::Follow);
    let auth = block_on(login(
        &http(),
        &config(&oidc),
        Flow::AuthCode,
        &ui,
        TestClock::new().as_fn(),
    ))
    .unwrap();
    ui.finish();
    let got = fields(&auth);
    let refresh_token = got.refresh_token.clone().unwrap();
    let tokens = [
        got.access_token.expose().as_str(),
        refresh_token.expose().as_str(),
    ];

    let mut errors: Vec<OAuthError> = Vec::new();
    // Rotated: the old refresh token is refused, then the grant is gone.
    block_on(refresh(&http(), &auth, TestClock::new().now())).unwrap();
    errors.push(block_on(refresh(&http(), &auth, TestClock::new().now())).unwrap_err());
    // A forged redirect carrying a code.
    let forged = BrowserUi::new(BrowserScript::Forge {
        query: "code=forged-code-8d1e&state=forged-state-2b7a",
    });
    errors.push(
        block_on(login(
            &http(),
            &config(&oidc),
            Flow::AuthCode,
            &forged,
            TestClock::new().as_fn(),
        ))
        .unwrap_err(),
    );
    forged.finish();
    // A denied device code.
    let denied = DeviceUi::new(&oidc, DeviceAnswer::Deny, false);
    errors.push(
        block_on(login(
            &http(),
            &config(&oidc),
            Flow::DeviceCode,
            &denied,
            TestClock::new().as_fn(),
        ))
        .unwrap_err(),
    );
    denied.finish();
    let user_code = denied.shown.lock().unwrap()[0].1.clone();
    // An unreachable provider.
    let mut gone = config(&oidc);
    gone.issuer = Url::parse("http://127.0.0.1:9/").unwrap();
    errors.push(
        block_on(login(
            &http(),
            &gone,
            Flow::AuthCode,
            &forged,
            TestClock::new().as_fn(),
        ))
        .unwrap_err(),
    );

    for err in &errors {
        let printed = format!("{err} {err:?} {err:#?}");
        assert_clean(
            &printed,
            &[
                tokens[0],
                tokens[1],
                "forged-code-8d1e",
                "forged-state-2b7a",
                &user_code,
            ],
        );
    }
    assert_eq!(errors.len(), 4);
}
