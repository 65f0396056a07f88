//! The JSON credentials file of rattler and pixi (`~/.rattler/credentials.json`) as a
//! [`CredentialStore`].
//!
//! The key design decision is that the file is held as text plus the byte ranges of its entries,
//! never as a re-serialized map: an entry this version does not understand is written back byte
//! for byte, and a file that does not parse is never written at all. Every read-modify-write runs
//! under an advisory lock on a sidecar `.lock` file and ends in an atomic rename of a 0600 temp
//! file in the same directory, so concurrent `auth login`s lose no entry and a crash leaves either
//! the old file or the new one.

mod document;
mod error;
mod store;

pub use error::FileStoreError;
pub use store::{FileStore, UnknownEntry};
