//! A `.netrc` file as a read-only `CredentialStore`; the crate docs are its README.
#![doc = include_str!("../README.md")]

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
