//! `auth completions SHELL` (`clap_complete`'s scripts) and the hidden `auth __man-pages DIR`
//! (`clap_mangen`'s pages) that `cargo xtask codegen` writes into `docs/man`.
//!
//! Both are made from the same clap tree as the parser, so a new flag or subcommand reaches the
//! scripts and the pages without anyone listing it. The scripts are static: they complete
//! subcommands, flags and the values of value enums, not stored hosts (`clap_complete`'s dynamic
//! completion is still behind its `unstable-dynamic` feature, and would read every store,
//! keyring included, on each Tab).

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use clap::CommandFactory as _;

use crate::cli::Cli;

/// Writes the completion script of `shell` to standard output.
pub(crate) fn print(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut completable(), "auth", &mut script);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&script)
        .and_then(|()| stdout.flush())
        .with_context(|| {
            format!("could not write the {shell} completion script to standard output")
        })
}

/// `auth`'s command tree as a shell completes it: the parser's, without hidden subcommands.
///
/// `clap_complete` lists a hidden subcommand like any other (it hides only hidden possible
/// values), and clap has no way to remove one, so the root is rebuilt from its visible parts.
/// Only what the generators read is kept: the name, version, arguments and subcommands.
fn completable() -> clap::Command {
    let parser = Cli::command();
    clap::Command::new("auth")
        .version(env!("CARGO_PKG_VERSION"))
        .args(parser.get_arguments().cloned())
        .subcommands(
            parser
                .get_subcommands()
                .filter(|subcommand| !subcommand.is_hide_set())
                .cloned(),
        )
}

/// Writes `auth.1`, `auth-login.1`, `auth-helper-git.1`, … for every visible command into
/// `dir`, which must exist. The pages carry no date, so the same tree gives the same bytes.
pub(crate) fn write_man_pages(dir: &Path) -> anyhow::Result<()> {
    if !dir.is_dir() {
        anyhow::bail!(
            "cannot write the man pages into {}: it is not a directory; create it first",
            dir.display()
        );
    }
    clap_mangen::generate_to(Cli::command(), dir)
        .with_context(|| format!("could not write the man pages into {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::completable;

    #[test]
    fn completion_scripts_offer_every_visible_subcommand_and_no_hidden_one() {
        let command = completable();
        let names: Vec<&str> = command
            .get_subcommands()
            .map(clap::Command::get_name)
            .collect();
        assert_eq!(
            names,
            [
                "login",
                "logout",
                "status",
                "token",
                "fetch",
                "helper",
                "completions"
            ]
        );
        let mut script = Vec::new();
        clap_complete::generate(
            clap_complete::Shell::Bash,
            &mut completable(),
            "auth",
            &mut script,
        );
        let script = String::from_utf8(script).expect("the bash script is UTF-8");
        assert!(script.contains("--auth-file"), "global flags are completed");
        assert!(!script.contains("__man-pages"), "{script}");
    }
}
