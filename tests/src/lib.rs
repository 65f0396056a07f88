//! The harness of the end-to-end tests: a temporary HOME, a clean environment, and the `auth`
//! binary run as a user would run it.

pub mod deadline;
pub mod peers;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

pub use crate::deadline::{Deadline, Watched, deadline, output_within, wait_with_deadline};

/// The `auth` binary of this build, rebuilt once per test process so it is never stale.
/// `AUTH_BIN` names another one.
///
/// # Panics
/// When the binary cannot be built: the tests cannot run without it.
#[allow(
    clippy::disallowed_methods,
    reason = "AUTH_BIN lets a run test another build"
)]
pub fn auth_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| match std::env::var_os("AUTH_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => build_artifact("auth-cli", "--bin", "auth"),
    })
}

/// A binary (`--bin`) or example (`--example`) of the workspace, built by cargo in the profile
/// the tests run in (so it is never stale), at its place in the target directory.
///
/// # Panics
/// When cargo cannot build it; the message says which command to run to see why.
#[allow(
    clippy::disallowed_methods,
    reason = "the harness passes the test process's cargo on"
)]
pub fn build_artifact(package: &str, kind: &str, name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    // target/<profile>/deps/<test binary> -> target/<profile>/[examples/]<name>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps");
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    let path = match kind {
        "--example" => profile_dir.join("examples").join(file),
        _ => profile_dir.join(file),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build.args(["build", "--quiet", "--package", package, kind, name]);
    if profile_dir.file_name().is_some_and(|dir| dir == "release") {
        build.arg("--release");
    }
    let status = build.status().expect("cargo runs");
    assert!(
        status.success(),
        "could not build {name}; run `cargo build -p {package} {kind} {name}` and read its errors"
    );
    assert!(
        path.exists(),
        "built {name}, but {} is missing",
        path.display()
    );
    path
}

/// A user's machine in a temporary directory: its own HOME and nothing else from ours.
///
/// By default it has no keyring: its D-Bus session bus address names a socket that does not
/// exist, so `auth` falls back to the file as on a server. [`Sandbox::with_keyring`] gives it a
/// real one.
#[derive(Debug)]
pub struct Sandbox {
    dir: tempfile::TempDir,
    bus: Option<SecretService>,
    bus_address: String,
    /// Directories before our PATH in `auth`'s PATH ([`Sandbox::prepend_path`]).
    path_prefix: Vec<PathBuf>,
    /// Variables set in `auth`'s environment after the others ([`Sandbox::env`]).
    extra_env: Vec<(OsString, OsString)>,
}

/// What one run of `auth` did.
#[derive(Debug, Clone)]
pub struct Run {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Stdout and stderr together, for leak checks.
    pub fn all_output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    /// A new, empty HOME.
    ///
    /// # Panics
    /// When no temporary directory can be made.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("auth-e2e-")
            .tempdir()
            .expect("a temporary directory");
        let bus_address = format!("unix:path={}", dir.path().join("no-session-bus").display());
        Self {
            dir,
            bus: None,
            bus_address,
            path_prefix: Vec::new(),
            extra_env: Vec::new(),
        }
    }

    /// A HOME with a real Secret Service: gnome-keyring on a private D-Bus session bus, its
    /// login collection unlocked, as on a desktop.
    ///
    /// # Panics
    /// When gnome-keyring cannot be started: the message says what to install.
    pub fn with_keyring() -> Self {
        let mut sandbox = Self::new();
        let bus = SecretService::start(sandbox.home());
        sandbox.bus_address.clone_from(&bus.address);
        sandbox.bus = Some(bus);
        sandbox
    }

    /// Points the sandbox's D-Bus session bus address elsewhere (a bus that never answers).
    pub fn set_bus_address(&mut self, address: String) {
        self.bus_address = address;
    }

    /// Sets a variable in the environment of every later `auth` run ([`Sandbox::command`]),
    /// after HOME, PATH and the others, so it may replace them.
    pub fn env(&mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> &mut Self {
        self.extra_env.push((key.into(), value.into()));
        self
    }

    /// Puts a directory before our PATH in every later `auth` run (for a peer's CLI such as
    /// `keyring`). Directories added later come first.
    pub fn prepend_path(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.path_prefix.insert(0, dir.into());
        self
    }

    /// Runs a tool of the system (`secret-tool`, `dbus-send`) with this sandbox's HOME and bus.
    ///
    /// # Panics
    /// When the tool cannot be started.
    pub fn system_tool(&self, program: &str, args: &[&str], stdin: Option<&str>) -> Run {
        let mut command = Command::new(program);
        command
            .args(args)
            .env("HOME", self.home())
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        self.run_command(command, Some(stdin.unwrap_or("")))
    }

    /// The HOME directory.
    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    /// `~/.rattler/credentials.json` of this HOME.
    pub fn default_file(&self) -> PathBuf {
        self.home().join(".rattler").join("credentials.json")
    }

    /// `auth ARGS` with a clean environment: only PATH, HOME and a fixed terminal width, then
    /// what [`Sandbox::prepend_path`] and [`Sandbox::env`] added.
    #[allow(
        clippy::disallowed_methods,
        reason = "the child needs our PATH and nothing else"
    )]
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(auth_bin());
        command
            .args(args)
            .env_clear()
            .env("HOME", self.home())
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .env("COLUMNS", "100")
            // No test asks the EC2 instance metadata service: the AWS chain would otherwise try
            // 169.254.169.254 for every bucket without keys.
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let inherited = std::env::var_os("PATH");
        if self.path_prefix.is_empty() {
            if let Some(path) = inherited {
                command.env("PATH", path);
            }
        } else {
            let inherited = inherited.unwrap_or_default();
            let dirs = self
                .path_prefix
                .iter()
                .cloned()
                .chain(std::env::split_paths(&inherited));
            command.env(
                "PATH",
                std::env::join_paths(dirs).expect("PATH entries without `:`"),
            );
        }
        for (key, value) in &self.extra_env {
            command.env(key, value);
        }
        command
    }

    /// Runs `auth ARGS` to the end, within [`deadline()`].
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_command(self.command(args), None)
    }

    /// Runs `auth ARGS` with this on standard input, within [`deadline()`].
    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut command = self.command(args);
        command.stdin(Stdio::piped());
        self.run_command(command, Some(stdin))
    }

    /// Runs a prepared command to the end (its stdout and stderr piped, as [`Sandbox::command`]
    /// sets them), within [`deadline()`].
    ///
    /// # Panics
    /// When the process cannot be started, or has not ended by the deadline: then it is killed
    /// and the message has its command line and its output so far.
    pub fn run_command(&self, mut command: Command, stdin: Option<&str>) -> Run {
        let mut process = Watched::spawn(&mut command);
        if let Some(input) = stdin {
            process.write_stdin(input.as_bytes());
        }
        let output = process.finish("the command to exit", Deadline::start());
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }

    /// A run as text for a snapshot, with this sandbox's path replaced by `[HOME]`.
    pub fn show(&self, run: &Run) -> String {
        let text = format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            run.code, run.stdout, run.stderr
        );
        text.replace(&self.home().display().to_string(), "[HOME]")
    }
}

/// gnome-keyring on a private D-Bus session bus (`dbus-run-session`), for as long as this lives.
#[derive(Debug)]
struct SecretService {
    session: Option<Watched>,
    /// The session's stdin: it lasts until this closes.
    stdin: Option<std::process::ChildStdin>,
    address: String,
}

const INSTALL: &str =
    "apt-get install -y --no-install-recommends gnome-keyring dbus dbus-x11 libsecret-tools";

/// Unlocks a fresh login keyring, makes one real call so the Secret Service is answering, prints
/// the bus address, then holds the session open until stdin closes.
const SESSION_SCRIPT: &str = r#"set -e
printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
secret-tool search --all service auth-tests-readiness >/dev/null 2>&1 || true
printf '%s\n' "$DBUS_SESSION_BUS_ADDRESS"
exec cat >/dev/null"#;

impl SecretService {
    #[allow(clippy::disallowed_methods, reason = "the session needs our PATH")]
    fn start(home: &Path) -> Self {
        let runtime = home.join("run");
        std::fs::create_dir_all(&runtime).expect("a runtime directory");
        #[cfg(unix)]
        std::fs::set_permissions(
            &runtime,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .expect("a private runtime directory");
        let mut command = Command::new("dbus-run-session");
        command
            .args(["--", "sh", "-c", SESSION_SCRIPT])
            .env_clear()
            .env("HOME", home)
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        let mut session = Watched::try_spawn(&mut command).unwrap_or_else(|err| {
            panic!(
                "cannot start dbus-run-session ({err}); install the Secret Service with: {INSTALL}"
            )
        });
        let stdin = session.take_stdin();
        let ready = session.wait_for_line(
            "gnome-keyring to unlock and answer a `secret-tool` call on the session bus",
            Deadline::start(),
            |stream, line| stream == deadline::Stream::Stdout && line.starts_with("unix:"),
        );
        let address = match ready {
            Ok(line) => line.trim().to_owned(),
            Err(output) => panic!(
                "gnome-keyring did not start on a session bus (it exited with {}); install it \
                 with: {INSTALL}\n--- stdout\n{}\n--- stderr\n{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
            ),
        };
        Self {
            session: Some(session),
            stdin,
            address,
        }
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        // Closing stdin ends `cat`, which ends the session and its bus.
        drop(self.stdin.take());
        let Some(session) = self.session.take() else {
            return;
        };
        let ended = session.try_finish(
            "the keyring session to end once its stdin closed",
            Deadline::start(),
        );
        if let Err(message) = ended
            && !std::thread::panicking()
        {
            panic!("{message}");
        }
    }
}
