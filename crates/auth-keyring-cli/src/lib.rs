//! Python's `keyring` command as uv's subprocess provider; the crate docs are its README.
#![doc = include_str!("../README.md")]

mod cli;
mod error;

pub use cli::KeyringCli;
pub use error::KeyringCliError;
