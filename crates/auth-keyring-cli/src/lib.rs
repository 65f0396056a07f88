//! The `subprocess` keyring provider for Python package indexes, as uv has it: the password for an index
//! URL that carries a user name (`https://alice@host/simple/`) comes from Python's `keyring`
//! command, run as `keyring get SERVICE USER`.
//!
//! The key design decision is to run the command at most twice per origin and user name for the
//! life of a [`KeyringCli`], caching misses and errors as well as passwords: the command starts a
//! Python interpreter and may talk to a keyring daemon, and a downloader asks for every file of an
//! index. Unlike uv, every call has a timeout (a keyring waiting for a password prompt nobody sees
//! would otherwise hang the download), after which the child is killed.
//!
//! The library never reads the environment: the child inherits the process environment, which is
//! how `PYTHON_KEYRING_BACKEND` and the like reach `keyring`.

mod cli;
mod error;

pub use cli::KeyringCli;
pub use error::KeyringCliError;
