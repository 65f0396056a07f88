//! Integration tests of `auth-oauth` against a real `OpenID` Connect provider (`oidc-provider`,
//! see `auth_tests::peers::Oidc`): logins in both flows, the attacks a login must refuse, refresh
//! with rotation, revocation, and redaction.

mod flows;
mod peer;
mod redaction;
mod refresher;
mod security;
mod session;
mod support;
