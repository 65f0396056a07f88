//! `auth helper install|uninstall git`: one `credential.helper` entry in git's global config,
//! written and removed by the real `git config`, so git's own rules for `HOME`,
//! `XDG_CONFIG_HOME` and `GIT_CONFIG_GLOBAL` pick the file, and nothing else in it changes.
//!
//! The entry is `!/absolute/path/to/auth helper git`, as `gh auth setup-git` writes
//! `!/usr/bin/gh auth git-credential`: it works whatever PATH git is started with (an IDE, a
//! cron job), and it is added after the user's own helpers (`--add`), which git asks first.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use anyhow::{Context as _, bail};

use crate::env::Env;
use crate::output::Printer;

/// The config key.
const KEY: &str = "credential.helper";

/// Adds (`on`) or removes our `credential.helper` entry; `dry_run` says what it would run.
pub(in crate::helpers) fn install(
    env: &Env,
    printer: Printer,
    on: bool,
    dry_run: bool,
) -> anyhow::Result<()> {
    let exe = env
        .current_exe
        .clone()
        .context("could not find the path of this auth binary, which git's setting must name")?;
    let value = helper_value(&exe);
    let existing = helpers()?;
    let present = existing.iter().any(|(_, entry)| *entry == value);
    let quoted = shell_word(&value);
    match (on, present, dry_run) {
        (true, true, _) | (false, false, _) => {
            let state = if on {
                "already asks auth"
            } else {
                "does not ask this auth"
            };
            let file = existing
                .iter()
                .find(|(_, entry)| *entry == value)
                .map_or_else(String::new, |(origin, _)| format!(" ({origin})"));
            printer.info(&format!(
                "git's global config{file} {state}: nothing changed ({KEY} = {value})"
            ));
        }
        (true, false, true) => printer.info(&format!(
            "would run: git config --global --add {KEY} {quoted}"
        )),
        (false, true, true) => printer.info(&format!(
            "would run: git config --global --fixed-value --unset-all {KEY} {quoted}"
        )),
        (true, false, false) => {
            git(&["config", "--global", "--add", KEY, &value])?;
            let origin = helpers()?
                .into_iter()
                .find(|(_, entry)| *entry == value)
                .map(|(origin, _)| origin)
                .context("git config --global --add ran, and git does not list the new entry")?;
            printer.info(&format!(
                "Added {KEY} = {value} to git's global config ({origin}); git now asks auth for \
                 credentials after any helper configured before it."
            ));
            for (origin, entry) in others(&existing, &value) {
                printer.warning(&format!(
                    "{origin} also has {KEY} = {entry}, an older entry for auth; remove it with \
                     `git config --global --fixed-value --unset-all {KEY} {}`",
                    shell_word(&entry)
                ));
            }
        }
        (false, true, false) => {
            let origin = existing
                .iter()
                .find(|(_, entry)| *entry == value)
                .map(|(origin, _)| origin.clone())
                .unwrap_or_default();
            git(&[
                "config",
                "--global",
                "--fixed-value",
                "--unset-all",
                KEY,
                &value,
            ])?;
            // `--add` made a `[credential]` section when there was none; git leaves it behind,
            // empty, when its last entry goes.
            let rest = git_output(&["config", "--global", "--get-regexp", r"^credential\.[^.]*$"])?;
            if rest.status.code() == Some(1) {
                let _ = git_output(&["config", "--global", "--remove-section", "credential"])?;
            }
            printer.info(&format!(
                "Removed {KEY} = {value} from git's global config ({origin})."
            ));
        }
    }
    Ok(())
}

/// `!/path/to/auth helper git`, the path shell-quoted when it needs to be (git runs a `!`
/// helper with the shell).
fn helper_value(exe: &Path) -> String {
    format!("!{} helper git", shell_word(&exe.to_string_lossy()))
}

/// A word for `sh`: as it is when it is plain, else single-quoted.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:=@%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Entries of `credential.helper` in the global config that run some auth's `helper git` but
/// not this one: left from a binary that moved.
fn others(existing: &[(String, String)], value: &str) -> Vec<(String, String)> {
    existing
        .iter()
        .filter(|(_, entry)| {
            entry != value && entry.starts_with('!') && entry.ends_with("auth helper git")
        })
        .cloned()
        .collect()
}

/// Every `credential.helper` of the global config, with the file it is in.
fn helpers() -> anyhow::Result<Vec<(String, String)>> {
    let output = git_output(&["config", "--global", "--show-origin", "--get-all", KEY])?;
    // Exit code 1: the key is not set (or there is no global config file yet).
    if output.status.code() == Some(1) {
        return Ok(Vec::new());
    }
    check(&output, "git config --global --get-all credential.helper")?;
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text
        .lines()
        .filter_map(|line| {
            let (origin, value) = line.split_once('\t')?;
            let origin = origin.strip_prefix("file:").unwrap_or(origin);
            Some((origin.to_owned(), value.to_owned()))
        })
        .collect())
}

fn git(args: &[&str]) -> anyhow::Result<()> {
    let output = git_output(args)?;
    check(&output, &format!("git {}", args.join(" ")))
}

/// Runs git with the environment auth was given (git reads `HOME`, `GIT_CONFIG_GLOBAL` and
/// the others itself).
fn git_output(args: &[&str]) -> anyhow::Result<Output> {
    Command::new("git")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("could not run `git`: is git installed and on PATH?")
}

fn check(output: &Output, what: &str) -> anyhow::Result<()> {
    if output.status.success() {
        return Ok(());
    }
    bail!(
        "`{what}` failed ({}): {}",
        output.status,
        auth_core::escape_control(String::from_utf8_lossy(&output.stderr).trim())
    )
}

#[cfg(test)]
mod tests {
    use super::{helper_value, shell_word};
    use std::path::Path;

    #[test]
    fn the_helper_names_this_binary_for_the_shell() {
        assert_eq!(
            helper_value(Path::new("/usr/local/bin/auth")),
            "!/usr/local/bin/auth helper git"
        );
        assert_eq!(
            helper_value(Path::new("/home/a b/it's/auth")),
            r"!'/home/a b/it'\''s/auth' helper git"
        );
        assert_eq!(shell_word("$(rm -rf /)"), "'$(rm -rf /)'");
    }
}
