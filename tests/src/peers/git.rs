//! A git server over smart HTTP: nginx in front of `fcgiwrap` running git's own
//! `git-http-backend`, serving bare repositories made by the real git, behind `auth_basic`
//! (and, on a second server, behind a bearer token), on 127.0.0.1. Clone and push work
//! through it as through any git host.
//!
//! `git` is the one on PATH, and `git-http-backend` is the one in that git's `--exec-path`, so
//! client and server are the same version. [`git_command`] runs that git with a HOME of the
//! test's and nothing of the machine's config.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use super::{Nginx, Server, htpasswd, system_program};
use crate::deadline::{Deadline, Watched, output_within};

/// The repository every server has, with one commit on `main`.
pub const REPO: &str = "repo.git";

/// The user git-http-backend sees on the bearer server (`REMOTE_USER`, which allows a push).
const BEARER_USER: &str = "token-user";

/// A git host on 127.0.0.1; dropping it stops nginx and fcgiwrap.
#[derive(Debug)]
pub struct GitHttp {
    /// Declared first: stopped before `fcgiwrap` and before the directory goes.
    nginx: Nginx,
    #[expect(dead_code, reason = "held for its Drop, which kills fcgiwrap")]
    fcgiwrap: Watched,
    dir: tempfile::TempDir,
    basic: Server,
    bearer: Server,
}

impl GitHttp {
    /// A git host whose [`GitHttp::basic_url`] takes `user` and `password` (HTTP Basic) and
    /// whose [`GitHttp::bearer_url`] takes `Authorization: Bearer <token>`, both serving the
    /// same bare [`REPO`] with one commit, push allowed.
    ///
    /// # Panics
    /// When git, fcgiwrap or nginx is missing (the message says what to install), or one of
    /// them fails to start within the deadline.
    pub fn start(user: &str, password: &str, token: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("auth-git-")
            .tempdir()
            .expect("a temporary directory");
        let root = dir.path().join("repos");
        std::fs::create_dir_all(&root).expect("the repositories' directory");
        make_repo(dir.path(), &root.join(REPO));
        let backend = http_backend();
        let socket = dir.path().join("fcgiwrap.sock");
        let fcgiwrap = start_fcgiwrap(&socket);

        let mut builder = Nginx::builder();
        let users = htpasswd(builder.dir(), user, password);
        let cgi = |remote_user: &str| {
            format!(
                "client_max_body_size 0;\n\
                 fastcgi_pass unix:{socket};\n\
                 fastcgi_param SCRIPT_FILENAME {backend};\n\
                 fastcgi_param GIT_PROJECT_ROOT {root};\n\
                 fastcgi_param GIT_HTTP_EXPORT_ALL \"\";\n\
                 fastcgi_param REMOTE_USER {remote_user};\n\
                 fastcgi_param PATH_INFO $uri;\n\
                 fastcgi_param QUERY_STRING $query_string;\n\
                 fastcgi_param REQUEST_METHOD $request_method;\n\
                 fastcgi_param CONTENT_TYPE $content_type;\n\
                 fastcgi_param CONTENT_LENGTH $content_length;\n\
                 fastcgi_param HTTP_GIT_PROTOCOL $http_git_protocol;",
                socket = socket.display(),
                backend = backend.display(),
                root = root.display(),
            )
        };
        let basic = builder.server(&format!(
            "location / {{\n    auth_basic \"git\";\n    auth_basic_user_file {};\n{}\n}}",
            users.display(),
            indent(&cgi("$remote_user")),
        ));
        builder.http(&format!(
            "map $http_authorization $peers_git_bearer_ok {{\n    default 0;\n    \"Bearer {token}\" 1;\n}}"
        ));
        let bearer = builder.server(&format!(
            "location / {{\n    if ($peers_git_bearer_ok = 0) {{\n        add_header WWW-Authenticate \"Bearer realm=\\\"git\\\"\" always;\n        return 401;\n    }}\n{}\n}}",
            indent(&cgi(BEARER_USER)),
        ));
        builder.record(basic);
        builder.record(bearer);
        let nginx = builder.start();
        Self {
            nginx,
            fcgiwrap,
            dir,
            basic,
            bearer,
        }
    }

    /// `http://127.0.0.1:PORT/repo.git` behind HTTP Basic.
    pub fn basic_url(&self) -> String {
        self.nginx.url(self.basic, REPO)
    }

    /// `http://127.0.0.1:PORT/repo.git` behind a bearer token.
    pub fn bearer_url(&self) -> String {
        self.nginx.url(self.bearer, REPO)
    }

    /// `127.0.0.1:PORT` of the Basic server: the key to log in to.
    pub fn basic_host(&self) -> String {
        format!("127.0.0.1:{}", self.nginx.port(self.basic))
    }

    /// `127.0.0.1:PORT` of the bearer server.
    pub fn bearer_host(&self) -> String {
        format!("127.0.0.1:{}", self.nginx.port(self.bearer))
    }

    /// The requests the Basic server answered (see [`Nginx::recorded`]).
    pub fn basic_requests(&self) -> String {
        self.nginx.recorded(self.basic)
    }

    /// The requests the bearer server answered.
    pub fn bearer_requests(&self) -> String {
        self.nginx.recorded(self.bearer)
    }

    /// The subject of the newest commit on `main` in the server's repository.
    pub fn head_subject(&self) -> String {
        let repo = self.dir.path().join("repos").join(REPO);
        let output = run_git(
            self.dir.path(),
            &[
                "--git-dir",
                &repo.display().to_string(),
                "log",
                "-1",
                "--format=%s",
                "main",
            ],
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }
}

/// The git on PATH, with `home` as its HOME and nothing of the machine's configuration
/// (`GIT_CONFIG_NOSYSTEM`), no prompt (`GIT_TERMINAL_PROMPT=0`, no askpass), and a fixed
/// identity for commits, in `home` as its working directory. Stdio is piped.
///
/// # Panics
/// When git is not installed: the message says how to install it.
#[allow(
    clippy::disallowed_methods,
    reason = "git needs our PATH to find its own programs"
)]
pub fn git_command(home: &Path) -> Command {
    let mut command = Command::new(system_program("git", "git"));
    command
        .env_clear()
        .current_dir(home)
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "")
        .env("SSH_ASKPASS", "")
        .env("LC_ALL", "C")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.test")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.test")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command
}

/// The version of the git on PATH, as `(major, minor)`.
///
/// # Panics
/// When git is missing or prints something else than `git version X.Y...`.
pub fn git_version() -> (u32, u32) {
    let dir = tempfile::tempdir().expect("a temporary HOME");
    let output = run_git(dir.path(), &["--version"]);
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text
        .trim()
        .strip_prefix("git version ")
        .unwrap_or_else(|| panic!("`git --version` printed {text:?}"));
    let mut parts = version.split('.').map(|part| part.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor),
        _ => panic!("`git --version` printed {text:?}"),
    }
}

/// Runs the git on PATH with `home` as HOME, within the deadline; panics unless it succeeds.
fn run_git(home: &Path, args: &[&str]) -> Output {
    let mut command = git_command(home);
    command.args(args);
    let output = output_within(&mut command, None, "git to finish");
    assert!(
        output.status.success(),
        "`git {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A bare repository at `bare` with one commit on `main`, pushes over HTTP allowed.
fn make_repo(dir: &Path, bare: &Path) {
    let work = dir.join("seed");
    let work_text = work.display().to_string();
    run_git(dir, &["init", "--quiet", "-b", "main", &work_text]);
    std::fs::write(work.join("README"), "seeded by auth-tests\n").expect("a file to commit");
    run_git(dir, &["-C", &work_text, "add", "README"]);
    run_git(dir, &["-C", &work_text, "commit", "--quiet", "-m", "seed"]);
    let bare_text = bare.display().to_string();
    run_git(dir, &["clone", "--quiet", "--bare", &work_text, &bare_text]);
    run_git(
        dir,
        &[
            "--git-dir",
            &bare_text,
            "config",
            "http.receivepack",
            "true",
        ],
    );
}

/// `git-http-backend` of the git on PATH: `$(git --exec-path)/git-http-backend`.
fn http_backend() -> PathBuf {
    let dir = tempfile::tempdir().expect("a temporary HOME");
    let output = run_git(dir.path(), &["--exec-path"]);
    let exec_path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    let backend = exec_path.join("git-http-backend");
    assert!(
        backend.is_file(),
        "{} is missing: the git on PATH has no git-http-backend; install Debian's with: \
         apt-get install -y --no-install-recommends git",
        backend.display()
    );
    backend
}

/// `fcgiwrap -s unix:SOCKET`, ready once the socket accepts a connection.
fn start_fcgiwrap(socket: &Path) -> Watched {
    let program = system_program("fcgiwrap", "fcgiwrap");
    let mut command = Command::new(program);
    command
        .arg("-s")
        .arg(format!("unix:{}", socket.display()))
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let process = Watched::spawn(&mut command);
    let deadline = Deadline::start();
    let mut pause = Duration::from_millis(1);
    while std::os::unix::net::UnixStream::connect(socket).is_err() {
        assert!(
            !deadline.passed(),
            "fcgiwrap did not listen on {} within {:?}\n--- stderr\n{}",
            socket.display(),
            deadline.total(),
            process.stderr_so_far()
        );
        pause_briefly(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
    process
}

#[allow(
    clippy::disallowed_methods,
    reason = "a pause between two polls of fcgiwrap's socket; the deadline, not the pause, ends \
              the wait"
)]
fn pause_briefly(pause: Duration) {
    std::thread::sleep(pause);
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}
