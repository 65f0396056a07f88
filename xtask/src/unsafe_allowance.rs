//! `cargo xtask lint`: `unsafe_code` is allowed in one place only, `crates/auth-cli/src/libm.rs`.
//!
//! The workspace lint is `deny`, not `forbid`, so that file can allow it for its one
//! `#[unsafe(no_mangle)]`; this check keeps a second `allow(unsafe_code)` from slipping in.

use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::cmd;

/// The files that may name the lint: the exception itself and this check.
const ALLOWED: &[&str] = &[
    "crates/auth-cli/src/libm.rs",
    "xtask/src/unsafe_allowance.rs",
];

/// Fails, naming the files, if a tracked Rust file outside [`ALLOWED`] names `unsafe_code`.
pub(crate) fn run() -> Result<()> {
    let listing = cmd::stdout_of(Command::new("git").current_dir(cmd::root()).args([
        "ls-files",
        "--cached",
        "--others",
        "--exclude-standard",
        "*.rs",
    ]))?;
    let mut files = Vec::new();
    for path in listing.lines() {
        match std::fs::read_to_string(cmd::root().join(path)) {
            Ok(text) => files.push((path.to_owned(), text)),
            // Tracked but deleted in the working tree: nothing to check.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err).with_context(|| format!("could not read {path}")),
        }
    }
    let found = offenders(
        files
            .iter()
            .map(|(path, text)| (path.as_str(), text.as_str())),
    );
    if !found.is_empty() {
        bail!(
            "`unsafe_code` is named outside {}: {}. The workspace keeps unsafe code to that one \
             file; write it in safe Rust, or explain in ARCHITECTURE.md why a second exception is \
             needed and add it to xtask/src/unsafe_allowance.rs",
            ALLOWED[0],
            found.join(", ")
        );
    }
    Ok(())
}

/// The paths, outside [`ALLOWED`], whose text names the lint.
fn offenders<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<&'a str> {
    files
        .into_iter()
        .filter(|(path, text)| !ALLOWED.contains(path) && text.contains("unsafe_code"))
        .map(|(path, _)| path)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::offenders;

    #[test]
    fn only_the_exception_may_allow_unsafe_code() {
        let files = [
            (
                "crates/auth-cli/src/libm.rs",
                "#[allow(unsafe_code, reason = \"…\")]",
            ),
            (
                "crates/auth-core/src/lib.rs",
                "#![allow(\n    unsafe_code,\n)]",
            ),
            ("crates/auth-s3/src/lib.rs", "fn sign() {}"),
            ("tests/src/lib.rs", "#[expect(unsafe_code)]"),
        ];
        assert_eq!(
            offenders(files),
            ["crates/auth-core/src/lib.rs", "tests/src/lib.rs"]
        );
    }
}
