//! `cargo xtask codegen`: docs/cli.md, the command-line reference, from the built binary's
//! `--help`, walked down every subcommand it lists, and docs/man, the man pages of `auth` and of
//! every subcommand, from the binary's hidden `auth __man-pages DIR` (`clap_mangen`); `--check`
//! fails when a committed file is stale, missing or no longer generated.

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::cmd;

/// Where the reference goes, relative to the workspace root.
const OUTPUT: &str = "docs/cli.md";

/// The directory of the man pages, relative to the workspace root. Codegen owns all of it: a
/// file there that it no longer makes (a removed subcommand's page) is stale.
pub(crate) const MAN_DIR: &str = "docs/man";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Write,
    Check,
}

pub(crate) fn run(mode: Mode) -> Result<()> {
    let auth = cmd::build_auth()?;
    let mut files = vec![(OUTPUT.to_owned(), generate(&auth)?)];
    files.extend(man_pages(&auth)?);
    let root = cmd::root();
    let mut problems = Vec::new();
    for (name, generated) in &files {
        let path = root.join(name);
        let current = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => {
                return Err(err).with_context(|| format!("could not read {}", path.display()));
            }
        };
        match (mode, current) {
            (_, Some(current)) if current == *generated => {}
            (Mode::Check, Some(current)) => problems.push(format!(
                "{name} is out of date ({})",
                first_difference(&current, generated)
            )),
            (Mode::Check, None) => problems.push(format!("{name} is missing")),
            (Mode::Write, _) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("could not create {}", dir.display()))?;
                }
                std::fs::write(&path, generated)
                    .with_context(|| format!("could not write {}", path.display()))?;
                eprintln!("codegen: wrote {name}");
            }
        }
    }
    for name in leftovers(&files)? {
        match mode {
            Mode::Check => problems.push(format!("{name} is no longer generated")),
            Mode::Write => {
                let path = root.join(&name);
                std::fs::remove_file(&path)
                    .with_context(|| format!("could not remove {}", path.display()))?;
                eprintln!("codegen: removed {name}");
            }
        }
    }
    if !problems.is_empty() {
        bail!(
            "{}: run `cargo xtask codegen` and commit the result",
            problems.join("; ")
        );
    }
    eprintln!("codegen: {OUTPUT} and {MAN_DIR} are up to date");
    Ok(())
}

/// The man pages as `(docs/man/NAME.1, roff)`, sorted by name: `auth __man-pages` writes them
/// into an empty scratch directory, from which they are read back.
fn man_pages(auth: &Path) -> Result<Vec<(String, String)>> {
    let scratch = crate::target_dir().join("xtask").join("man");
    match std::fs::remove_dir_all(&scratch) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => {
            return Err(err).with_context(|| format!("could not empty {}", scratch.display()));
        }
    }
    std::fs::create_dir_all(&scratch)
        .with_context(|| format!("could not create {}", scratch.display()))?;
    cmd::run(Command::new(auth).arg("__man-pages").arg(&scratch))?;
    let mut pages = Vec::new();
    for name in file_names(&scratch)? {
        let path = scratch.join(&name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("could not read {}", path.display()))?;
        pages.push((format!("{MAN_DIR}/{name}"), text));
    }
    if pages.is_empty() {
        bail!(
            "`auth __man-pages` wrote no page into {}",
            scratch.display()
        );
    }
    Ok(pages)
}

/// The files in docs/man that codegen did not make this time.
fn leftovers(files: &[(String, String)]) -> Result<Vec<String>> {
    let dir = cmd::root().join(MAN_DIR);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    Ok(file_names(&dir)?
        .into_iter()
        .map(|name| format!("{MAN_DIR}/{name}"))
        .filter(|name| !files.iter().any(|(generated, _)| generated == name))
        .collect())
}

/// The names of the entries of `dir`, sorted, so the output does not depend on the file
/// system's order.
pub(crate) fn file_names(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("could not list {}", dir.display()))?
    {
        let entry = entry.with_context(|| format!("could not list {}", dir.display()))?;
        let name = entry.file_name().into_string().map_err(|name| {
            anyhow::anyhow!(
                "{} holds a file whose name is not UTF-8: {}",
                dir.display(),
                std::path::Path::new(&name).display()
            )
        })?;
        names.push(name);
    }
    names.sort();
    Ok(names)
}

/// The whole Markdown file: `auth --help`, then the help of every subcommand it lists, and of
/// theirs in turn, in the order `--help` lists them. Nothing names the subcommands here, so a new
/// one appears in the reference by itself.
fn generate(auth: &Path) -> Result<String> {
    let mut text = String::from(
        "<!-- Generated by cargo xtask codegen; do not edit by hand. -->\n\n# Command-line reference\n",
    );
    let mut pending: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = pending.pop() {
        let help = help_of(auth, &path)?;
        let heading = std::iter::once("auth")
            .chain(path.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        text.push_str("\n## ");
        text.push_str(&heading);
        text.push_str("\n\n```text\n");
        for line in help.trim_end().lines() {
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text.push_str("```\n");
        // Depth first, in the listed order: push the last first.
        for name in subcommands(&help).into_iter().rev() {
            let mut child = path.clone();
            child.push(name);
            pending.push(child);
        }
    }
    Ok(text)
}

/// `auth [SUBCOMMAND...] --help`, as plain, stable text: no colours, a fixed width.
fn help_of(auth: &Path, path: &[String]) -> Result<String> {
    let mut command = Command::new(auth);
    command
        .args(path)
        .arg("--help")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env("TERM", "dumb");
    cmd::stdout_of(&mut command)
}

/// The subcommands a `--help` text lists under `Commands:` (clap's layout: two spaces, the name,
/// its description; a wrapped description is indented further), without clap's own `help`.
fn subcommands(help: &str) -> Vec<String> {
    let Some((_, listed)) = help.split_once("\nCommands:\n") else {
        return Vec::new();
    };
    listed
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.strip_prefix("  "))
        .filter(|line| !line.starts_with(' '))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Where the two texts first part: the line number, and what each has there.
fn first_difference(current: &str, generated: &str) -> String {
    let mut current_lines = current.lines();
    let mut generated_lines = generated.lines();
    for number in 1.. {
        match (current_lines.next(), generated_lines.next()) {
            (None, None) => break,
            (found, expected) if found != expected => {
                return format!(
                    "line {number}: expected `{}`, found `{}`",
                    expected.unwrap_or("<end of file>"),
                    found.unwrap_or("<end of file>")
                );
            }
            _ => {}
        }
    }
    "only the line endings differ".to_owned()
}

#[cfg(test)]
mod tests {
    use super::subcommands;

    #[test]
    fn subcommands_are_read_from_the_commands_section() {
        let help = "\
Log in

Usage: auth [OPTIONS] <COMMAND>

Commands:
  login   Store credentials for a host
  fetch   Download a URL with the stored credentials, to check a login or to fetch in
          scripts
  help    Print this message or the help of the given subcommand(s)

Options:
  -h, --help     Print help
";
        assert_eq!(subcommands(help), ["login", "fetch"]);
        assert!(subcommands("Usage: auth token <HOST>\n\nOptions:\n  -h, --help\n").is_empty());
    }
}
