//! `NetrcError`: why a `.netrc` file could not be used, said so a user can act on it.

use std::path::PathBuf;

/// An error of the `.netrc` file. Each message names the file and says what to do; none quotes
/// the file's content, which holds passwords.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetrcError {
    /// The file exists but could not be read (a directory, no permission).
    #[error(
        "could not read the .netrc file {}: {source}. Make it a readable file, or point NETRC at \
         another one",
        path.display()
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not a `.netrc` file; no credential was taken from it.
    #[error(
        "could not parse the .netrc file {} at line {line}: {reason}. No credential was read from \
         it; fix that line",
        path.display()
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
