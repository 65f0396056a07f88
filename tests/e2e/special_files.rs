//! Files `auth` reads that are not regular files: a config file that is a FIFO, a directory or
//! a device is refused before it is opened, with what is wrong, instead of blocking.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use auth_tests::{Run, Sandbox};

fn config_path(sandbox: &Sandbox) -> PathBuf {
    let path = sandbox.home().join(".config/auth/config.toml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    path
}

/// `auth ARGS`, killed by `timeout` after 20 s (exit code 124) if it has not ended.
fn run_within_20s(sandbox: &Sandbox, args: &[&str]) -> Run {
    let auth = sandbox.command(args);
    let mut command = Command::new("timeout");
    command
        .arg("20")
        .arg(auth.get_program())
        .args(auth.get_args())
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in auth.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    sandbox.run_command(command, None)
}

/// Puts a file of some kind at a path.
type MakeFile = fn(&Path);

fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

// A config file that is a FIFO blocked every command, waiting for a writer that never came.
#[cfg(unix)]
#[test]
fn a_config_file_that_is_not_a_regular_file_is_refused_without_blocking() {
    let mut shown = String::new();
    let makers: [(&str, MakeFile); 4] = [
        ("fifo", mkfifo),
        ("directory", |path| std::fs::create_dir(path).unwrap()),
        ("device", |path| {
            std::os::unix::fs::symlink("/dev/zero", path).unwrap();
        }),
        ("link to a fifo", |path| {
            let target = path.with_file_name("real-fifo");
            mkfifo(&target);
            std::os::unix::fs::symlink(&target, path).unwrap();
        }),
    ];
    for (name, make) in makers {
        let sandbox = Sandbox::new();
        make(&config_path(&sandbox));
        for args in [&["status"][..], &["fetch", "http://127.0.0.1:9/x"]] {
            let run = run_within_20s(&sandbox, args);
            assert_eq!(run.code, 1, "{name}: {run:?}");
            let said = run
                .stderr
                .replace(&sandbox.home().display().to_string(), "[HOME]");
            let _ = write!(shown, "{name}, {}: {said}", args[0]);
        }
    }
    insta::assert_snapshot!(shown, @r"
    fifo, status: error: the config file [HOME]/.config/auth/config.toml is a FIFO (named pipe), not a regular file; replace it with a TOML file, or remove it
    fifo, fetch: error: the config file [HOME]/.config/auth/config.toml is a FIFO (named pipe), not a regular file; replace it with a TOML file, or remove it
    directory, status: error: the config file [HOME]/.config/auth/config.toml is a directory, not a regular file; replace it with a TOML file, or remove it
    directory, fetch: error: the config file [HOME]/.config/auth/config.toml is a directory, not a regular file; replace it with a TOML file, or remove it
    device, status: error: the config file [HOME]/.config/auth/config.toml is a device, not a regular file; replace it with a TOML file, or remove it
    device, fetch: error: the config file [HOME]/.config/auth/config.toml is a device, not a regular file; replace it with a TOML file, or remove it
    link to a fifo, status: error: the config file [HOME]/.config/auth/config.toml is a FIFO (named pipe), not a regular file; replace it with a TOML file, or remove it
    link to a fifo, fetch: error: the config file [HOME]/.config/auth/config.toml is a FIFO (named pipe), not a regular file; replace it with a TOML file, or remove it
    ");
}

#[cfg(unix)]
#[test]
fn a_config_file_behind_a_link_is_read() {
    let sandbox = Sandbox::new();
    let real = sandbox.home().join("dotfiles-config.toml");
    std::fs::write(&real, "keyring-timeout-seconds = -2\n").unwrap();
    std::os::unix::fs::symlink(&real, config_path(&sandbox)).unwrap();
    let run = sandbox.run(&["status"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "keyring-timeout-seconds must be a number of seconds between 0 and 600, not -2"
        ),
        "{}",
        run.stderr
    );
}
