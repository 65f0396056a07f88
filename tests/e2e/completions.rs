//! `auth completions SHELL` loaded into a real bash, the other shells' scripts, and the man pages
//! of the hidden `auth __man-pages DIR` rendered by the system's `man`.

use std::path::{Path, PathBuf};
use std::process::Command;

use auth_tests::Sandbox;
use auth_tests::deadline::output_within;

/// Sources the bash script, checks that it registered a function for `auth`, and prints what
/// that function offers for each command line given on standard input (one per line, the word
/// being completed last; a trailing space means an empty word), one block per line ending in
/// `--`.
const DRIVER: &str = r#"
set -u
source "$1"
registered=$(complete -p auth) || { echo "no completion registered for auth"; exit 3; }
function=$(printf '%s\n' "$registered" | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
[ -n "$function" ] || { echo "no -F function in: $registered"; exit 3; }
while IFS= read -r line; do
    read -r -a COMP_WORDS <<< "$line"
    case "$line" in *' ') COMP_WORDS+=("") ;; esac
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMPREPLY=()
    previous=""
    [ "$COMP_CWORD" -gt 0 ] && previous=${COMP_WORDS[COMP_CWORD-1]}
    "$function" auth "${COMP_WORDS[COMP_CWORD]}" "$previous"
    printf '%s\n' "${COMPREPLY[@]}" | sort
    echo --
done
"#;

/// What bash completes for each line, in order.
fn bash_completions(sandbox: &Sandbox, lines: &[&str]) -> Vec<Vec<String>> {
    let run = sandbox.run(&["completions", "bash"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let script = sandbox.home().join("auth.bash");
    std::fs::write(&script, &run.stdout).expect("write the bash script");
    let mut input = lines.join("\n");
    input.push('\n');
    let mut bash = Command::new(system_program("bash", "bash"));
    bash.arg("--norc")
        .arg("--noprofile")
        .arg("-c")
        .arg(DRIVER)
        .arg("driver")
        .arg(&script)
        .env("HOME", sandbox.home());
    let output = output_within(&mut bash, Some(input.as_bytes()), "bash to complete");
    let stdout = String::from_utf8(output.stdout).expect("bash prints UTF-8");
    assert!(
        output.status.success(),
        "bash could not load the completion script ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let blocks: Vec<Vec<String>> = stdout
        .split_terminator("--\n")
        .map(|block| block.lines().map(str::to_owned).collect())
        .collect();
    assert_eq!(blocks.len(), lines.len(), "one answer per line:\n{stdout}");
    blocks
}

/// A program of the system, found on PATH: the tests never skip, so a machine without it is
/// told what to install.
#[allow(
    clippy::disallowed_methods,
    reason = "the test finds the system's bash and man on the developer's PATH"
)]
fn system_program(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not installed, and this test needs the real one; install it with: \
                 apt-get install -y --no-install-recommends {package}"
            )
        })
}

#[test]
fn bash_loads_the_script_and_completes_subcommands_flags_and_values() {
    let sandbox = Sandbox::new();
    let answers = bash_completions(
        &sandbox,
        &[
            "auth lo",
            "auth ",
            "auth logout --a",
            "auth completions ",
            "auth helper in",
            "auth status --color ",
        ],
    );
    assert_eq!(answers[0], ["login", "logout"]);
    // Every visible subcommand, and neither the hidden `__man-pages` nor anything else that is
    // not a flag.
    let subcommands: Vec<&str> = answers[1]
        .iter()
        .map(String::as_str)
        .filter(|word| !word.starts_with('-'))
        .collect();
    assert_eq!(
        subcommands,
        [
            "completions",
            "fetch",
            "help",
            "helper",
            "login",
            "logout",
            "status",
            "token"
        ],
        "{:?}",
        answers[1]
    );
    assert!(answers[1].iter().any(|word| word == "--auth-file"));
    assert_eq!(answers[2], ["--all", "--auth-file"]);
    // Values come with the flags bash may also offer there.
    let values = |answer: &[String]| -> Vec<String> {
        answer
            .iter()
            .filter(|word| !word.starts_with('-'))
            .cloned()
            .collect()
    };
    assert_eq!(
        values(&answers[3]),
        ["bash", "elvish", "fish", "powershell", "zsh"]
    );
    assert_eq!(answers[4], ["install"]);
    assert_eq!(values(&answers[5]), ["always", "auto", "never"]);
}

#[test]
fn every_shell_gets_its_own_script() {
    let sandbox = Sandbox::new();
    for (shell, marker) in [
        ("zsh", "#compdef auth"),
        ("fish", "complete -c auth"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[auth]"),
    ] {
        let run = sandbox.run(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(run.stdout.contains(marker), "{shell}:\n{}", run.stdout);
        assert!(run.stdout.contains("logout"), "{shell}:\n{}", run.stdout);
        assert!(
            !run.stdout.contains("__man-pages"),
            "{shell}:\n{}",
            run.stdout
        );
        assert!(run.stderr.is_empty(), "{shell}: {}", run.stderr);
    }
    let run = sandbox.run(&["completions", "tcsh"]);
    assert_eq!(
        run.code, 2,
        "an unknown shell is a usage error: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("bash, elvish, fish, powershell, zsh"),
        "{}",
        run.stderr
    );
}

/// The subcommands a `--help` lists under `Commands:`, without clap's own `help`.
fn listed_subcommands(help: &str) -> Vec<String> {
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

/// `man -l PAGE` as plain text, with groff's warnings on, its whitespace collapsed.
fn render(page: &Path) -> String {
    let mut man = Command::new(system_program("man", "man-db"));
    man.args(["--warnings", "-l"])
        .arg(page)
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat");
    let output = output_within(&mut man, None, "man to render");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.trim().is_empty(),
        "man -l {} ({}): {stderr}",
        page.display(),
        output.status
    );
    // One space between words: man justifies lines with more.
    String::from_utf8(output.stdout)
        .expect("man prints UTF-8")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn every_command_has_a_man_page_that_man_renders() {
    let sandbox = Sandbox::new();
    let dir = sandbox.home().join("man");
    std::fs::create_dir(&dir).expect("create the man directory");
    let run = sandbox.run(&["__man-pages", dir.to_str().expect("a UTF-8 temp path")]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // Walk `--help` as a user would: every command it lists has a page, and there is no other.
    let mut expected = Vec::new();
    let mut pending = vec![Vec::<String>::new()];
    while let Some(path) = pending.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = sandbox.run(&args);
        assert_eq!(help.code, 0, "{}", help.stderr);
        let name = std::iter::once("auth")
            .chain(path.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join("-");
        expected.push(format!("{name}.1"));
        for child in listed_subcommands(&help.stdout) {
            let mut child_path = path.clone();
            child_path.push(child);
            pending.push(child_path);
        }
    }
    expected.sort();
    let mut written: Vec<String> = std::fs::read_dir(&dir)
        .expect("list the man directory")
        .map(|entry| {
            entry
                .expect("a directory entry")
                .file_name()
                .into_string()
                .expect("UTF-8")
        })
        .collect();
    written.sort();
    assert_eq!(written, expected);
    assert!(
        written.contains(&"auth-helper-git.1".to_owned()),
        "{written:?}"
    );

    for page in &written {
        let text = render(&dir.join(page));
        let command = page.trim_end_matches(".1");
        assert!(text.contains("NAME"), "{page}:\n{text}");
        assert!(text.contains(&format!("{command} - ")), "{page}:\n{text}");
    }
    let auth = render(&dir.join("auth.1"));
    for sub in [
        "auth-login(1)",
        "auth-logout(1)",
        "auth-completions(1)",
        "auth-helper(1)",
    ] {
        assert!(auth.contains(sub), "auth.1 lists {sub}:\n{auth}");
    }
    let login = render(&dir.join("auth-login.1"));
    assert!(login.contains("--conda-token"), "{login}");

    let missing = sandbox.run(&["__man-pages", "no-such-dir"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("no-such-dir"), "{}", missing.stderr);
    assert!(
        missing.stderr.contains("create it first"),
        "{}",
        missing.stderr
    );
}
