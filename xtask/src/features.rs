//! `cargo xtask features`: every feature combination a downstream crate is offered builds, each
//! checked on its own (`auth-chain` with no default features and with each feature alone,
//! `auth-s3` with and without `chain`), so a `#[cfg]` that only the full set covers fails here.
//!
//! Clippy with `-D warnings` rather than `cargo check`: an import or a helper that only some
//! features use warns in the others, and that is the mistake these combinations exist to catch.

use anyhow::Result;

use crate::cmd;

/// `(package, features)`: `None` is `--no-default-features` alone.
const COMBINATIONS: &[(&str, Option<&str>)] = &[
    ("auth-chain", None),
    ("auth-chain", Some("env")),
    ("auth-chain", Some("keyring")),
    ("auth-chain", Some("netrc")),
    ("auth-chain", Some("s3")),
    ("auth-chain", Some("oauth")),
    ("auth-chain", Some("middleware")),
    ("auth-s3", None),
    ("auth-s3", Some("chain")),
];

pub(crate) fn run() -> Result<()> {
    for (package, features) in COMBINATIONS {
        let mut command = cmd::cargo();
        command.args(["clippy", "-q", "-p", package, "--no-default-features"]);
        if let Some(features) = features {
            command.args(["--features", features]);
        }
        command.args(["--", "-D", "warnings"]);
        cmd::run(&mut command)?;
    }
    eprintln!(
        "features: {} combinations build without warnings",
        COMBINATIONS.len()
    );
    Ok(())
}
