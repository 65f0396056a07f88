//! `KeyringCliError`: why the `keyring` command gave no answer, said so a user can act on it.

use std::ffi::OsString;
use std::fmt;
use std::sync::Arc;

/// An error of the `keyring` command. No message quotes what the command printed on stdout, which
/// is where a password would be; `Failed` carries only the last line of its stderr.
///
/// The error is `Clone` because [`KeyringCli`](crate::KeyringCli) caches it like an answer: a
/// keyring that times out once is not asked again for every file of the index.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringCliError {
    /// The program does not exist (or is not on `PATH`).
    #[error(
        "the keyring provider `subprocess` runs `{}`, which was not found. Install it (`pip \
         install keyring`), or set the keyring provider to `disabled`",
        program.display()
    )]
    NotInstalled {
        /// The program as configured.
        program: OsString,
    },
    /// The program exited with an error (any exit code but 0, or 1 with nothing printed).
    #[error(
        "`{} get` failed ({}): {}. Run `{} get <index host> <user name>` to see the whole \
         error, or set the keyring provider to `disabled`",
        program.display(),
        ExitDescription(*code),
        if stderr_tail.is_empty() { "it printed no message" } else { stderr_tail },
        program.display()
    )]
    Failed {
        /// The program as configured.
        program: OsString,
        /// The exit code; `None` when a signal ended it.
        code: Option<i32>,
        /// The last non-empty line of its stderr, trimmed, at most 200 characters.
        stderr_tail: String,
    },
    /// The program did not exit in time; it was killed.
    #[error(
        "`{} get` did not answer within {seconds} s; is it waiting for a password prompt? It was \
         stopped. Unlock the keyring or choose a backend that needs no prompt \
         (`PYTHON_KEYRING_BACKEND`), or set the keyring provider to `disabled`",
        program.display()
    )]
    TimedOut {
        /// The program as configured.
        program: OsString,
        /// The timeout.
        seconds: f64,
    },
    /// The program succeeded but printed a password that is not UTF-8.
    #[error(
        "`{} get` printed a password that is not UTF-8, so it was not used",
        program.display()
    )]
    NotUtf8 {
        /// The program as configured.
        program: OsString,
    },
    /// The program could not be started or waited for (other than not being found).
    #[error("could not run `{} get`: {source}", program.display())]
    Run {
        /// The program as configured.
        program: OsString,
        /// The OS error.
        source: Arc<std::io::Error>,
    },
}

/// `exit code 3`, or `ended by a signal`.
struct ExitDescription(Option<i32>);

impl fmt::Display for ExitDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(code) => write!(f, "exit code {code}"),
            None => f.write_str("ended by a signal"),
        }
    }
}
