//! A `.netrc` file as a read-only [`CredentialStore`](auth_core::CredentialStore): each
//! `machine HOST login L password P` entry answers for `HOST` with HTTP Basic credentials
//! (RFC 7617), and the `default` entry answers for every other http(s) host.
//!
//! The key design decision is to read the file with our own small parser (`parse.rs`), checked
//! against a table of Python's `test_netrc.py` and curl's netrc tests, rather than with the
//! `netrc-rs` crate: that crate rejects files with `#` comments or quoted values, mistakes a
//! repeated `password` for a syntax error and echoes file content in its errors. `netrc` 0.4
//! fails the same cases, and `rust-netrc` (a port of Python's module) keeps the last entry for a
//! host and drops backslashes from values. Lookups follow curl: the first entry for a host that
//! has a password wins; `default` answers only when no such `machine` entry exists, wherever it
//! stands in the file, as in Python.
//!
//! The library never reads the environment: the caller finds the file with [`default_path`].

mod error;
mod parse;
#[cfg(test)]
mod properties;
mod store;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

pub use error::NetrcError;
pub use store::NetrcStore;

/// Where the `.netrc` file is: `$NETRC` when set (and not empty), else `.netrc` in the home
/// directory (`_netrc` on Windows), as curl and Python look for it.
pub fn default_path(home: &Path, netrc_var: Option<&OsStr>, windows: bool) -> PathBuf {
    match netrc_var {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => home.join(if windows { "_netrc" } else { ".netrc" }),
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;
    use std::path::Path;

    use super::default_path;

    #[test]
    fn netrc_variable_wins_and_windows_uses_underscore() {
        let home = Path::new("/home/me");
        let custom = Some(OsStr::new("/etc/custom-netrc"));
        let empty = Some(OsStr::new(""));
        assert_eq!(
            default_path(home, custom, false),
            Path::new("/etc/custom-netrc")
        );
        assert_eq!(
            default_path(home, custom, true),
            Path::new("/etc/custom-netrc")
        );
        assert_eq!(
            default_path(home, None, false),
            Path::new("/home/me/.netrc")
        );
        assert_eq!(
            default_path(home, empty, false),
            Path::new("/home/me/.netrc")
        );
        assert_eq!(default_path(home, None, true), home.join("_netrc"));
    }
}
