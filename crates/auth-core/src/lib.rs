//! The credential model of `auth`, host matching and the store traits; the crate docs are its README.
#![doc = include_str!("../README.md")]

mod authentication;
mod decision;
mod error_chain;
mod escape;
mod host;
mod index;
mod redact;
mod secret;
mod store;
mod url_target;

pub use authentication::{Authentication, InvalidCredential};
pub use decision::{Decision, Placement, Withheld, is_loopback, url_credential};
pub use error_chain::error_chain;
pub use escape::escape_control;
pub use host::{HostKey, HostKeyError, HostSpec, Specificity};
pub use index::CredentialIndex;
pub use redact::{SafeUrl, redact_url};
pub use secret::Secret;
pub use store::{
    Credential, CredentialStore, Found, Listed, MemoryStore, Saved, StoreChain, StoreError,
};
pub use url_target::{Scheme, UrlTarget, UrlTargetError};
