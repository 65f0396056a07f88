//! The provider peer itself: it starts, its discovery document lists what the crate relies on,
//! and its counters and browser script work.

use auth_tests::peers::http_get;

use crate::support::provider;

#[test]
fn provider_starts_and_lists_every_endpoint_we_use() {
    let oidc = provider();
    let discovery = http_get(&oidc.url("/.well-known/openid-configuration"), &[]);
    assert_eq!(discovery.status, 200, "{}", oidc.log());
    let document: serde_json::Value = serde_json::from_slice(&discovery.body).unwrap();
    assert_eq!(document["issuer"], oidc.issuer());
    for (field, path) in [
        ("authorization_endpoint", "/auth"),
        ("token_endpoint", "/token"),
        ("revocation_endpoint", "/token/revocation"),
        ("introspection_endpoint", "/token/introspection"),
        ("device_authorization_endpoint", "/device/auth"),
        ("userinfo_endpoint", "/me"),
    ] {
        assert_eq!(document[field], oidc.url(path), "{field}");
    }
    assert_eq!(oidc.userinfo_url(), oidc.url("/me"));
    assert_eq!(oidc.token_requests("refresh_token"), 0);
    assert_eq!(oidc.token_errors("refresh_token"), 0);
}

#[test]
fn unknown_tokens_introspect_as_inactive() {
    let oidc = provider();
    let answer: serde_json::Value =
        serde_json::from_str(&oidc.introspect("no-such-token")).unwrap();
    assert_eq!(answer, serde_json::json!({ "active": false }));
}
