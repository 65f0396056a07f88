//! `FileStoreError`: what can go wrong with the credentials file, said so a user can act on it.

use std::path::PathBuf;

/// An error of the credentials file. Each message names the file and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileStoreError {
    /// The file could not be read, written, locked or renamed.
    #[error("could not {action} the credentials file {}: {source}", path.display())]
    Io {
        /// What we were doing: `read`, `write`, `lock`, `replace`.
        action: &'static str,
        /// The file (or its lock or directory).
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid JSON. It is left untouched.
    #[error(
        "could not parse the credentials file {} at line {line}, column {column}: {reason}. \
         The file was left unchanged; fix it, or move it away to start a new one",
        path.display()
    )]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What is wrong, never quoting the file's content.
        reason: String,
    },
}
