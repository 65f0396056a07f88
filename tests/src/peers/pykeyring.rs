//! The Python `keyring` CLI (PyPI `keyring` + `keyrings.alt`), the credential helper that uv and
//! pip call, from the venv `cargo xtask test` makes in `<target>/peers/pyvenv`. It stores in a
//! plain file (`keyrings.alt.file.PlaintextKeyring`) under a directory of the test's, so it never
//! prompts and never touches the developer's keyring.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{INSTALL_ALL, target_dirs};
use crate::deadline::output_within;

/// The backend: a file, no prompt, no D-Bus.
const BACKEND: &str = "keyrings.alt.file.PlaintextKeyring";

/// One store of the `keyring` CLI, in `XDG_DATA_HOME` = `<dir>/.local/share`.
#[derive(Debug, Clone)]
pub struct PyKeyring {
    program: PathBuf,
    home: PathBuf,
    bin_dir: PathBuf,
    data_home: PathBuf,
}

impl PyKeyring {
    /// The store for the HOME `dir` (e.g. [`crate::Sandbox::home`]), and a directory
    /// `<dir>/.peers-bin` that holds only `keyring`, to put first on a PATH.
    ///
    /// # Panics
    /// When the venv is missing: the message says to run `cargo xtask test`.
    pub fn new(dir: &Path) -> Self {
        let candidates: Vec<PathBuf> = target_dirs()
            .into_iter()
            .map(|target| target.join("peers/pyvenv/bin/keyring"))
            .collect();
        let program = candidates
            .iter()
            .find(|candidate| candidate.is_file())
            .unwrap_or_else(|| {
                panic!(
                    "the Python `keyring` CLI is not installed (looked for {}); {INSTALL_ALL} \
                     (it makes the venv with `python3 -m venv` and `pip install keyring \
                     keyrings.alt`)",
                    candidates
                        .iter()
                        .map(|candidate| candidate.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .clone();
        let bin_dir = dir.join(".peers-bin");
        std::fs::create_dir_all(&bin_dir).expect("a directory for `keyring`");
        // The script's shebang names the venv's python by its absolute path, so a link to it
        // runs in the venv from anywhere.
        let link = bin_dir.join("keyring");
        if !link.exists() {
            std::os::unix::fs::symlink(&program, &link).expect("a link to `keyring`");
        }
        let data_home = dir.join(".local").join("share");
        std::fs::create_dir_all(&data_home).expect("XDG_DATA_HOME");
        Self {
            program,
            home: dir.to_owned(),
            bin_dir,
            data_home,
        }
    }

    /// `keyring set SERVICE USER` with the password on stdin, as a user stores a credential.
    ///
    /// # Panics
    /// When `keyring` fails.
    pub fn set(&self, service: &str, user: &str, password: &str) {
        let output = self.run(&["set", service, user], &format!("{password}\n"));
        assert!(
            output.status.success(),
            "`keyring set {service} {user}` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `keyring get SERVICE USER`: the password, or `None` when there is none (exit 1).
    ///
    /// # Panics
    /// When `keyring` fails otherwise.
    pub fn get(&self, service: &str, user: &str) -> Option<String> {
        let output = self.run(&["get", service, user], "");
        match output.status.code() {
            Some(0) => {
                let text = String::from_utf8(output.stdout).expect("keyring prints UTF-8");
                Some(text.strip_suffix('\n').unwrap_or(&text).to_owned())
            }
            Some(1) if output.stdout.is_empty() => None,
            _ => panic!(
                "`keyring get {service} {user}` failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ),
        }
    }

    /// The directory with `keyring` in it, to put first on the PATH of a program that calls it.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// What a program (the `auth` binary) needs in its environment for its `keyring`
    /// subprocess to use this store: the backend, `XDG_DATA_HOME`, and PATH with
    /// [`PyKeyring::bin_dir`] first.
    pub fn env(&self) -> Vec<(&'static str, OsString)> {
        vec![
            ("PYTHON_KEYRING_BACKEND", BACKEND.into()),
            ("XDG_DATA_HOME", self.data_home.clone().into()),
            ("PATH", self.path()),
        ]
    }

    /// [`PyKeyring::bin_dir`], then the test process's PATH.
    #[allow(
        clippy::disallowed_methods,
        reason = "the CLI runs with the developer's PATH behind its own directory"
    )]
    fn path(&self) -> OsString {
        let inherited = std::env::var_os("PATH").unwrap_or_default();
        let dirs = std::iter::once(self.bin_dir.clone()).chain(std::env::split_paths(&inherited));
        std::env::join_paths(dirs).expect("PATH entries without `:`")
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        output_within(
            Command::new(&self.program)
                .args(args)
                .env_clear()
                .env("HOME", &self.home)
                .envs(self.env()),
            Some(stdin.as_bytes()),
            "the Python `keyring` CLI to exit",
        )
    }
}
