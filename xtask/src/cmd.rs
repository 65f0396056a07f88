//! Running commands: each one is printed to stderr before it runs, and any failure stops the task
//! with the command that failed.

use std::ffi::{OsStr, OsString};
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail};

/// The workspace root: xtask lives in `<root>/xtask`.
pub(crate) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is a directory inside the workspace")
}

/// The cargo that runs this xtask (`$CARGO`), so every step uses the pinned toolchain.
fn cargo_program() -> OsString {
    #[allow(
        clippy::disallowed_methods,
        reason = "xtask is a developer tool, not part of `auth`: it may read its environment"
    )]
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// `cargo`, run in the workspace root.
pub(crate) fn cargo() -> Command {
    let mut command = Command::new(cargo_program());
    command.current_dir(root());
    command
}

/// Prints `command`, runs it with our stdin, stdout and stderr, and fails unless it succeeds.
pub(crate) fn run(command: &mut Command) -> Result<()> {
    run_hiding(command, None)
}

/// As [`run`], but an argument equal to `secret` is printed as `***`.
pub(crate) fn run_hiding(command: &mut Command, secret: Option<&str>) -> Result<()> {
    let shown = announce(command, secret);
    let status = command
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// As [`run`], but returns what the command printed on stdout instead of showing it.
pub(crate) fn stdout_of(command: &mut Command) -> Result<String> {
    let shown = announce(command, None);
    let output = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !output.status.success() {
        bail!("`{shown}` failed ({})", output.status);
    }
    String::from_utf8(output.stdout)
        .with_context(|| format!("`{shown}` printed something that is not UTF-8"))
}

/// As [`run`], but each line the command prints on stdout is also handed to `on_line`, after it
/// is printed.
pub(crate) fn run_watching(command: &mut Command, mut on_line: impl FnMut(&str)) -> Result<()> {
    let shown = announce(command, None);
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start `{shown}`"))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    for line in BufReader::new(stdout).lines() {
        let line = line.with_context(|| format!("could not read the output of `{shown}`"))?;
        println!("{line}");
        on_line(&line);
    }
    let status = child
        .wait()
        .with_context(|| format!("could not wait for `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// Builds the debug `auth` binary and returns its path, as cargo reports it.
pub(crate) fn build_auth() -> Result<PathBuf> {
    let messages = stdout_of(cargo().args([
        "build",
        "-p",
        "auth-cli",
        "--bin",
        "auth",
        "--message-format=json-render-diagnostics",
    ]))?;
    let exe_name = format!("auth{}", std::env::consts::EXE_SUFFIX);
    for line in messages.lines() {
        if !line.contains(r#""reason":"compiler-artifact""#) {
            continue;
        }
        if let Some(path) = json_string_after(line, r#""executable":""#)? {
            let path = PathBuf::from(path);
            if path.file_name() == Some(OsStr::new(&exe_name)) {
                return Ok(path);
            }
        }
    }
    bail!("`cargo build -p auth-cli` succeeded but reported no `auth` executable")
}

/// The JSON string that follows `prefix` in `line` (cargo's messages are one object a line).
fn json_string_after(line: &str, prefix: &str) -> Result<Option<String>> {
    let Some(start) = line.find(prefix) else {
        return Ok(None);
    };
    let mut value = String::new();
    let mut chars = line[start + prefix.len()..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Ok(Some(value)),
            '\\' => match chars.next() {
                Some(escaped @ ('"' | '\\' | '/')) => value.push(escaped),
                other => bail!(
                    "unexpected escape `\\{}` in a cargo message",
                    other.unwrap_or(' ')
                ),
            },
            c => value.push(c),
        }
    }
    bail!("unterminated string in a cargo message")
}

/// Prints `$ command` to stderr and returns the text printed.
fn announce(command: &Command, secret: Option<&str>) -> String {
    let shown = show(command, secret);
    eprintln!("$ {shown}");
    shown
}

/// `command` as a shell line: `env -u REMOVED SET=value program args`, relative to the root.
fn show(command: &Command, secret: Option<&str>) -> String {
    let mut words = Vec::new();
    let removed: Vec<&OsStr> = command
        .get_envs()
        .filter(|(_, value)| value.is_none())
        .map(|(key, _)| key)
        .collect();
    if !removed.is_empty() {
        words.push("env".to_owned());
        for key in removed {
            words.push(format!("-u {}", quote(key)));
        }
    }
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            words.push(format!("{}={}", key.to_string_lossy(), quote(value)));
        }
    }
    let program = command.get_program();
    words.push(if program == cargo_program() {
        "cargo".to_owned()
    } else {
        quote(
            Path::new(program)
                .strip_prefix(root())
                .map_or(program, Path::as_os_str),
        )
    });
    for arg in command.get_args() {
        words.push(if secret.is_some_and(|secret| arg == secret) {
            "***".to_owned()
        } else {
            quote(arg)
        });
    }
    words.join(" ")
}

/// `word` as the shell would need it: bare when safe, else in single quotes.
fn quote(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
