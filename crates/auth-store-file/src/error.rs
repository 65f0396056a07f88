//! `FileStoreError`: what can go wrong with the credentials file, said so a user can act on it.
//!
//! A message never repeats its cause: the OS error is the `source`, which the CLI prints as the
//! next link of the chain.

use std::path::PathBuf;

/// An error of the credentials file. Each message names the file and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileStoreError {
    /// The file could not be inspected or read, or its directory could not be created.
    #[error("could not {action} {}", path.display())]
    Io {
        /// What we were doing, with its object: `read the credentials file`.
        action: &'static str,
        /// The file (or its directory).
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A write failed part way: the lock, the temporary file or the rename. The credentials file
    /// is as it was, and no temporary file is left.
    #[error("could not {action} {}; the credentials file was left unchanged", path.display())]
    Write {
        /// What we were doing, with its object: `replace the credentials file`.
        action: &'static str,
        /// The file, its lock or the temporary file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The path, or what a symbolic link there points to, is a device, FIFO, socket or
    /// directory. Nothing was opened, so nothing blocked and nothing was written.
    #[error(
        "the credentials file {} is {what}, not a regular file; move it away, or point \
         RATTLER_AUTH_FILE at a regular file",
        path.display()
    )]
    NotARegularFile {
        /// The path as given.
        path: PathBuf,
        /// What is there: `a FIFO`, `a symbolic link to /dev/null, which is a character device`.
        what: String,
    },
    /// The path is a symbolic link to nothing. Writing through it would replace the link with a
    /// regular file, so it is refused.
    #[error(
        "the credentials file {} is a symbolic link to {}, which does not exist; create the file \
         it points to (`{{}}` is an empty credentials file), or remove the link",
        path.display(),
        target.display()
    )]
    DanglingLink {
        /// The link.
        path: PathBuf,
        /// What the link says, as written in it.
        target: PathBuf,
    },
    /// The lock file beside the credentials file is not a regular file.
    #[error(
        "the lock file {} is {what}, not a regular file; remove it (it holds no data)",
        path.display()
    )]
    LockNotARegularFile {
        /// The lock file.
        path: PathBuf,
        /// What is there: `a FIFO`, `a directory`.
        what: String,
    },
    /// The file is not valid JSON (or not UTF-8). It is left untouched.
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
