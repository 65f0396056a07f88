//! `NetrcError`: why a `.netrc` file could not be used, said so a user can act on it.

use std::path::{Path, PathBuf};

/// An error of the `.netrc` file. Each message names the file and says what to do; none quotes
/// the file's content, which holds passwords.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetrcError {
    /// The file exists but could not be read (no permission, a path through a file). The OS
    /// error is the [`source`](std::error::Error::source), printed once by whoever prints the
    /// chain of causes.
    #[error(
        "could not read the .netrc file {}; make it a readable file, or point NETRC at another one",
        shown(path)
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The path names a FIFO, a device, a socket or a directory, which is never opened: a FIFO
    /// blocks until a writer comes and a device such as `/dev/zero` never ends.
    #[error(
        "the .netrc file {} is {kind}, not a regular file, so it was not read; make it a regular \
         file, or point NETRC at one",
        shown(path)
    )]
    NotRegularFile {
        /// The file, as given (a symbolic link is followed to find what it is).
        path: PathBuf,
        /// What it is instead: "a FIFO (named pipe)", "a character device", ...
        kind: &'static str,
    },
    /// The file is larger than any `.netrc` a person writes: not read, so a wrong `NETRC` (a
    /// disk image, a log) cannot fill the memory.
    #[error(
        "the .netrc file {} is larger than {limit_mib} MiB, so it was not read; point NETRC at \
         the right file",
        shown(path)
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit, in MiB.
        limit_mib: u64,
    },
    /// The file is not a `.netrc` file; no credential was taken from it.
    #[error(
        "could not parse the .netrc file {} at line {line}: {reason}. No credential was read from \
         it; fix that line",
        shown(path)
    )]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// What is wrong, never quoting the file's content.
        reason: String,
    },
}

/// A path as a message shows it: control characters (from a `NETRC` value, say) escaped, so a
/// path cannot move the cursor or rewrite the terminal's title.
fn shown(path: &Path) -> String {
    auth_core::escape_control(&path.display().to_string()).into_owned()
}
