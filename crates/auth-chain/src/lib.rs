//! The default credential chain of `auth` as a library, and the layers re-exported; the crate
//! docs are its README.
#![doc = include_str!("../README.md")]

mod chain;
mod client;
mod vars;

pub use crate::chain::{
    Broken, ChainError, ChainOptions, Chosen, DefaultChain, Fallback, OpenError, OverrideSource,
    Skipped, Slot, Survey, chosen_file, open, skipped_worth_saying, survey,
};
#[cfg(all(feature = "s3", feature = "middleware"))]
pub use crate::client::AwsChainCredentials;
pub use crate::vars::ChainEnv;

// The layers, so a downstream crate needs one dependency (as ripgrep's `grep` re-exports its
// crates).
pub use auth_core;
#[cfg(feature = "middleware")]
pub use auth_middleware;
#[cfg(feature = "oauth")]
pub use auth_oauth;
#[cfg(any(feature = "s3", feature = "middleware"))]
pub use auth_s3;
#[cfg(feature = "env")]
pub use auth_store_env;
pub use auth_store_file;
#[cfg(feature = "keyring")]
pub use auth_store_keyring;
#[cfg(feature = "netrc")]
pub use auth_store_netrc;
