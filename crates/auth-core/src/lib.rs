//! The credential model of `auth`: what a credential is, which URL a stored key applies to, and
//! how stores are chained. No I/O happens here.
//!
//! The key design decision is that matching is done on parsed [`HostKey`]s held in a
//! [`CredentialIndex`], not by trying candidate strings against each store: a lookup costs a few
//! hash probes whatever the number of keys, and the rules (exact host, `host:port`, wildcard at a
//! label boundary, path prefix on a segment boundary, `s3://bucket/prefix`) live in one place.
//! Backends implement [`CredentialStore`]; [`StoreChain`] composes them.

mod authentication;
mod decision;
mod escape;
mod host;
mod index;
mod redact;
mod secret;
mod store;
mod url_target;

pub use authentication::{Authentication, InvalidCredential};
pub use decision::{Decision, Placement, Withheld, is_loopback, url_credential};
pub use escape::escape_control;
pub use host::{HostKey, HostKeyError, HostSpec, Specificity};
pub use index::CredentialIndex;
pub use redact::{SafeUrl, redact_url};
pub use secret::Secret;
pub use store::{
    Credential, CredentialStore, Found, Listed, MemoryStore, Saved, StoreChain, StoreError,
};
pub use url_target::{Scheme, UrlTarget, UrlTargetError};
