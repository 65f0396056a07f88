//! The JSON credentials file of rattler and pixi (`~/.rattler/credentials.json`) as a
//! [`CredentialStore`].
//!
//! The key design decision is that the file is held as text plus the byte ranges of its entries,
//! never as a re-serialized map: an entry this version does not understand is written back byte
//! for byte, and a file that does not parse is never written at all. Every read-modify-write runs
//! under an advisory lock on a sidecar `.lock` file and ends in an atomic rename of a 0600 temp
//! file in the same directory, so concurrent `auth login`s lose no entry and a crash leaves either
//! the old file or the new one.
//!
//! The path is checked before anything opens it, by one function for reads and writes alike. A
//! symbolic link is followed, and a write replaces the file it points to atomically in that
//! file's own directory, so the link stays a link, as editors do. A link to nothing is refused,
//! and so is a path (or a link) to anything but a regular file: a device, a FIFO, a socket or a
//! directory. So a read never blocks on a FIFO, and a device is never replaced by a regular file
//! holding a token. A write also removes the temporary files a killed writer left (named
//! `.credentials.json.auth-XXXXXXXXXXXX.tmp`, a name no person picks), which may hold tokens.
//!
//! No message quotes a value of the file: parse errors give the line, the column and what is
//! wrong, and an entry that is not understood is described by its key and its shape only.

mod document;
mod error;
mod store;

pub use error::FileStoreError;
pub use store::{FileStore, UnknownEntry};
