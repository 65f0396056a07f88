//! The rattler/pixi JSON credentials file as a `CredentialStore`; the crate docs are its README.
#![doc = include_str!("../README.md")]

mod document;
mod error;
mod store;

pub use error::FileStoreError;
pub use store::{FileStore, UnknownEntry};
