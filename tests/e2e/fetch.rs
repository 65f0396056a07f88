//! `auth fetch` against real servers: nginx with Basic, Bearer and conda-token locations, s3s-fs
//! checking SigV4, and the Python `keyring` CLI for a PyPI index.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use auth_tests::peers::{Nginx, PyKeyring, S3, Server, write_files};
use auth_tests::{Run, Sandbox};

const USER: &str = "alice";
/// A password with the characters that break naive `user:password@host` handling.
const PASSWORD: &str = "p:ss@w0rd-basic-7";
const TOKEN: &str = "tk-bearer-secret-8";
const CONDA_TOKEN: &str = "ct-conda-secret-9";
const FILE: &[u8] = b"the package bytes\n";

/// Runs `auth` and checks that no secret shows up in anything it printed.
fn run(sandbox: &Sandbox, args: &[&str], secrets: &[&str]) -> Run {
    let run = sandbox.run(args);
    assert_clean(&run, secrets);
    run
}

fn assert_clean(run: &Run, secrets: &[&str]) {
    let output = run.all_output();
    for secret in secrets {
        assert!(
            !output.contains(secret),
            "a secret leaked into the output:\n{output}"
        );
    }
}

fn stderr_has(run: &Run, text: &str) {
    assert!(
        run.stderr.contains(text),
        "stderr lacks {text:?}:\n{}",
        run.stderr
    );
}

/// One kind of protected location, and how to log in to it.
struct Kind {
    name: &'static str,
    login: fn(&str, bool) -> Vec<String>,
    /// The path to fetch under the server's origin.
    path: &'static str,
}

fn basic_login(host: &str, right: bool) -> Vec<String> {
    let password = if right { PASSWORD } else { "p:ss@wrong" };
    ["login", host, "--username", USER, "--password", password]
        .map(str::to_owned)
        .to_vec()
}

fn bearer_login(host: &str, right: bool) -> Vec<String> {
    let token = if right { TOKEN } else { "tk-wrong" };
    ["login", host, "--token", token]
        .map(str::to_owned)
        .to_vec()
}

fn conda_login(host: &str, right: bool) -> Vec<String> {
    let token = if right { CONDA_TOKEN } else { "ct-wrong" };
    ["login", host, "--conda-token", token]
        .map(str::to_owned)
        .to_vec()
}

#[test]
fn basic_bearer_and_conda_token_right_wrong_and_none() {
    let kinds = [
        Kind {
            name: "basic",
            login: basic_login,
            path: "/pkg/file.bin",
        },
        Kind {
            name: "bearer",
            login: bearer_login,
            path: "/pkg/file.bin",
        },
        Kind {
            name: "conda",
            login: conda_login,
            path: "/pkg/file.bin",
        },
    ];
    let mut builder = Nginx::builder();
    let root = write_files(&builder.dir().join("www"), &[("pkg/file.bin", FILE)]);
    let basic = builder.basic(USER, PASSWORD, &root);
    let bearer = builder.bearer(TOKEN, &root);
    let conda = builder.conda_token(CONDA_TOKEN, &root);
    let nginx = builder.start();
    let secrets = [PASSWORD, TOKEN, CONDA_TOKEN];

    for (kind, server) in kinds.iter().zip([basic, bearer, conda]) {
        let name = kind.name;
        let host = format!("127.0.0.1:{}", nginx.port(server));
        let url = nginx.url(server, kind.path);
        let sandbox = Sandbox::new();

        // Nothing stored: the server's 401 becomes "run auth login".
        let none = run(&sandbox, &["fetch", &url], &secrets);
        assert_eq!(none.code, 4, "{name}: {none:?}");
        stderr_has(
            &none,
            &format!("no credential is stored for it; run `auth login {host}`"),
        );
        assert!(none.stdout.is_empty(), "{name}: {none:?}");

        // A wrong one: "rejected", naming the key and the store, exit code 3.
        let login = (kind.login)(&host, false);
        let login: Vec<&str> = login.iter().map(String::as_str).collect();
        assert_eq!(sandbox.run(&login).code, 0, "{name}");
        let wrong = run(&sandbox, &["fetch", &url], &secrets);
        assert_eq!(wrong.code, 3, "{name}: {wrong:?}");
        stderr_has(
            &wrong,
            &format!("rejected the credential for {host} from the file"),
        );
        stderr_has(&wrong, &format!("run `auth login {host}` to replace it"));

        // The right one: the file, and at -v the key and store that authenticated it.
        let login = (kind.login)(&host, true);
        let login: Vec<&str> = login.iter().map(String::as_str).collect();
        assert_eq!(sandbox.run(&login).code, 0, "{name}");
        let right = run(&sandbox, &["fetch", &url, "-v"], &secrets);
        assert_eq!(right.code, 0, "{name}: {right:?}");
        assert_eq!(right.stdout.as_bytes(), FILE, "{name}");
        stderr_has(&right, &format!("key=\"{host}\""));
        stderr_has(&right, "store=the file");

        // Every verbosity, and the file written with -o.
        let out = sandbox.home().join(format!("{name}.bin"));
        let out_arg = out.to_str().unwrap();
        let loud = run(&sandbox, &["fetch", &url, "-vvv", "-o", out_arg], &secrets);
        assert_eq!(loud.code, 0, "{name}: {loud:?}");
        assert_eq!(std::fs::read(&out).unwrap(), FILE, "{name}");
    }
}

#[test]
fn a_failed_download_prints_the_url_redacted_and_leaves_no_file() {
    let mut builder = Nginx::builder();
    let root = write_files(&builder.dir().join("www"), &[("pkg/file.bin", FILE)]);
    let conda = builder.conda_token(CONDA_TOKEN, &root);
    let nginx = builder.start();
    let sandbox = Sandbox::new();
    let host = format!("127.0.0.1:{}", nginx.port(conda));
    let login = sandbox.run(&["login", &host, "--conda-token", CONDA_TOKEN]);
    assert_eq!(login.code, 0, "{login:?}");
    // A URL that already has the token is sent as it is: inserted again, the path would not
    // exist and the download would fail.
    let present = nginx.url(conda, &format!("/t/{CONDA_TOKEN}/pkg/file.bin"));
    let fetched = run(&sandbox, &["fetch", &present], &[CONDA_TOKEN]);
    assert_eq!(fetched.code, 0, "{fetched:?}");
    assert_eq!(fetched.stdout.as_bytes(), FILE);

    let out = sandbox.home().join("missing.bin");
    // The user's own URL carries the token too: it is shown redacted.
    let url = nginx.url(conda, &format!("/t/{CONDA_TOKEN}/pkg/missing.bin"));
    let missing = run(
        &sandbox,
        &["fetch", &url, "-o", out.to_str().unwrap()],
        &[CONDA_TOKEN],
    );
    assert_eq!(missing.code, 1, "{missing:?}");
    stderr_has(&missing, "the server answered HTTP 404 Not Found");
    stderr_has(&missing, "/t/****/pkg/missing.bin");
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(sandbox.home())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with(".auth-fetch-")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

const ACCESS_KEY: &str = "AKIDAUTHTEST";
const SECRET_KEY: &str = "s3-secret-key-10";

/// A sandbox whose config gives bucket `packages` the endpoint of `s3` (region eu-central-1).
pub(crate) fn s3_sandbox(s3: &S3) -> Sandbox {
    let sandbox = Sandbox::new();
    let config = sandbox.home().join(".config/auth/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        format!(
            "[s3-options.packages]\nendpoint-url = \"{}\"\nregion = \"eu-central-1\"\n",
            s3.endpoint()
        ),
    )
    .unwrap();
    sandbox
}

#[test]
fn s3_with_stored_keys_wrong_keys_and_aws_variables() {
    let s3 = S3::start(ACCESS_KEY, SECRET_KEY);
    s3.create_bucket("packages");
    s3.put_file("packages", "noarch/pkg 1.0.tar.bz2", FILE);
    let url = "s3://packages/noarch/pkg%201.0.tar.bz2";
    let secrets = [SECRET_KEY, "wrong-secret"];

    // No keys anywhere.
    let sandbox = s3_sandbox(&s3);
    let none = run(&sandbox, &["fetch", url], &secrets);
    assert_eq!(none.code, 4, "{none:?}");
    stderr_has(&none, "no S3 credentials for s3://packages/");

    // Stored keys: the real server checks the signature.
    let login = |secret: &str| {
        sandbox.run(&[
            "login",
            "s3://packages",
            "--s3-access-key-id",
            ACCESS_KEY,
            "--s3-secret-access-key",
            secret,
        ])
    };
    assert_eq!(login(SECRET_KEY).code, 0);
    let right = run(&sandbox, &["fetch", url, "-vvv"], &secrets);
    assert_eq!(right.code, 0, "{right:?}");
    assert_eq!(right.stdout.as_bytes(), FILE);

    assert_eq!(login("wrong-secret").code, 0);
    let wrong = run(&sandbox, &["fetch", url], &secrets);
    assert_eq!(wrong.code, 3, "{wrong:?}");
    stderr_has(
        &wrong,
        "rejected the credential for s3://packages from the file",
    );
    stderr_has(&wrong, "HTTP 403");

    // Nothing stored, keys and endpoint from the AWS_* variables.
    let mut sandbox = Sandbox::new();
    sandbox
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_ENDPOINT_URL", s3.endpoint())
        .env("AWS_REGION", "us-west-2");
    let from_env = run(&sandbox, &["fetch", url, "-vvv"], &secrets);
    assert_eq!(from_env.code, 0, "{from_env:?}");
    assert_eq!(from_env.stdout.as_bytes(), FILE);
}

const INDEX_PASSWORD: &str = "p:ss@index-11";

/// A Basic-protected PyPI index, and a sandbox whose `keyring` is the real Python one.
fn pypi() -> (Nginx, String, Sandbox, PyKeyring) {
    let mut builder = Nginx::builder();
    let root = write_files(
        &builder.dir().join("www"),
        &[("simple/index.html", b"<a>demo-1.0.tar.gz</a>\n")],
    );
    let server = builder.basic(USER, INDEX_PASSWORD, &root);
    let nginx = builder.start();
    let host = format!("127.0.0.1:{}", nginx.port(server));
    let mut sandbox = Sandbox::new();
    let keyring = PyKeyring::new(sandbox.home());
    for (key, value) in keyring.env() {
        sandbox.env(key, value);
    }
    (nginx, host, sandbox, keyring)
}

#[test]
fn the_python_keyring_supplies_a_pypi_password() {
    let (_nginx, host, sandbox, keyring) = pypi();
    let index = format!("http://{host}/simple/");
    keyring.set(&index, USER, INDEX_PASSWORD);
    let url = format!("http://{USER}@{host}/simple/");
    let secrets = [INDEX_PASSWORD];

    // Disabled by default, as in uv: the server's 401 says to log in.
    let disabled = run(&sandbox, &["fetch", &url], &secrets);
    assert_eq!(disabled.code, 4, "{disabled:?}");

    let enabled = run(
        &sandbox,
        &[
            "fetch",
            &url,
            "--pypi-keyring-provider",
            "subprocess",
            "-vv",
        ],
        &secrets,
    );
    assert_eq!(enabled.code, 0, "{enabled:?}");
    assert_eq!(enabled.stdout, "<a>demo-1.0.tar.gz</a>\n");
    stderr_has(&enabled, "asking the keyring command");

    // The config file's pypi-config.keyring-provider does the same; the flag overrides it.
    let config = sandbox.home().join(".config/auth/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        "[pypi-config]\nkeyring-provider = \"subprocess\"\n",
    )
    .unwrap();
    let configured = run(&sandbox, &["fetch", &url], &secrets);
    assert_eq!(configured.code, 0, "{configured:?}");
    let overridden = run(
        &sandbox,
        &["fetch", &url, "--pypi-keyring-provider", "disabled"],
        &secrets,
    );
    assert_eq!(overridden.code, 4, "{overridden:?}");
}

// `auth token` ignored the PyPI keyring provider that `fetch` uses, so a script was told "no
// credentials" for an index a download authenticates to. Both now share one resolution.
#[test]
fn token_asks_the_keyring_command_as_fetch_does() {
    let (_nginx, host, sandbox, keyring) = pypi();
    let index = format!("http://{host}/simple/");
    keyring.set(&index, USER, INDEX_PASSWORD);
    let url = format!("http://{USER}@{host}/simple/");

    // Disabled (the default): neither sends the keyring's password.
    let fetched = run(&sandbox, &["fetch", &url], &[INDEX_PASSWORD]);
    assert_eq!(fetched.code, 4, "{fetched:?}");
    let token = run(&sandbox, &["token", &url], &[INDEX_PASSWORD]);
    assert_eq!(token.code, 4, "{token:?}");

    // Turned on in the config: fetch authenticates, and token prints the password it sent.
    let config = sandbox.home().join(".config/auth/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        "[pypi-config]\nkeyring-provider = \"subprocess\"\n",
    )
    .unwrap();
    let fetched = run(&sandbox, &["fetch", &url], &[INDEX_PASSWORD]);
    assert_eq!(fetched.code, 0, "{fetched:?}");
    let token = sandbox.run(&["token", &url, "-vv"]);
    assert_eq!(token.code, 0, "{token:?}");
    assert_eq!(token.stdout, format!("{INDEX_PASSWORD}\n"));
    assert!(
        !token.stderr.contains(INDEX_PASSWORD),
        "the password leaked into the log:\n{}",
        token.stderr
    );
}

#[test]
fn the_keyring_is_asked_for_the_host_after_the_url() {
    let (_nginx, host, sandbox, keyring) = pypi();
    // Stored under the host only, as `keyring set 127.0.0.1:PORT alice` would.
    keyring.set(&host, USER, INDEX_PASSWORD);
    let url = format!("http://{USER}@{host}/simple/");
    let fetched = run(
        &sandbox,
        &["fetch", &url, "--pypi-keyring-provider", "subprocess"],
        &[INDEX_PASSWORD],
    );
    assert_eq!(fetched.code, 0, "{fetched:?}");
}

#[test]
fn the_keyring_is_not_run_for_a_host_the_store_answers() {
    let (_nginx, host, sandbox, keyring) = pypi();
    keyring.set(
        &format!("http://{host}/simple/"),
        USER,
        "stale-keyring-password",
    );
    assert_eq!(
        sandbox
            .run(&[
                "login",
                &host,
                "--username",
                USER,
                "--password",
                INDEX_PASSWORD
            ])
            .code,
        0
    );
    let url = format!("http://{USER}@{host}/simple/");
    let fetched = run(
        &sandbox,
        &[
            "fetch",
            &url,
            "--pypi-keyring-provider",
            "subprocess",
            "-vv",
        ],
        &[INDEX_PASSWORD, "stale-keyring-password"],
    );
    assert_eq!(fetched.code, 0, "{fetched:?}");
    assert!(
        !fetched.stderr.contains("asking the keyring command"),
        "{}",
        fetched.stderr
    );
    stderr_has(&fetched, "store=the file");
}

/// An nginx serving `FILE` at `/pkg/file.bin` to anyone, and the file's URL.
fn open_server() -> (Nginx, String) {
    let mut builder = Nginx::builder();
    let root = write_files(&builder.dir().join("www"), &[("pkg/file.bin", FILE)]);
    let server = builder.server(&format!("root {};", root.display()));
    let nginx = builder.start();
    let url = nginx.url(server, "/pkg/file.bin");
    (nginx, url)
}

/// `auth ARGS` started by `wrapper` (a shell that sets the umask, `timeout`), with the sandbox's
/// environment: `wrapper` ends with the command it runs.
fn wrapped(sandbox: &Sandbox, wrapper: &[&str], args: &[&str]) -> Command {
    let auth = sandbox.command(args);
    let mut command = Command::new(wrapper[0]);
    command
        .args(&wrapper[1..])
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
    command
}

/// Runs `auth ARGS` under `umask MASK`.
fn run_with_umask(sandbox: &Sandbox, mask: &str, args: &[&str]) -> Run {
    let script = format!("umask {mask} && exec \"$@\"");
    sandbox.run_command(wrapped(sandbox, &["sh", "-c", &script, "sh"], args), None)
}

/// Runs `auth ARGS`, killed by `timeout` after 20 s (exit code 124) if it has not ended.
fn run_within_20s(sandbox: &Sandbox, args: &[&str]) -> Run {
    sandbox.run_command(wrapped(sandbox, &["timeout", "20"], args), None)
}

#[cfg(unix)]
fn file_type(path: &Path) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    let kind = std::fs::metadata(path).unwrap().file_type();
    if kind.is_char_device() {
        "char device"
    } else if kind.is_fifo() {
        "fifo"
    } else if kind.is_file() {
        "file"
    } else if kind.is_dir() {
        "directory"
    } else {
        "other"
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// The `.auth-fetch-*` temporary files left in `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".auth-fetch-"))
        .collect()
}

// `auth fetch URL -o /dev/null`, run as root, renamed its temporary file over /dev/null and left
// a 0600 regular file in place of the device.
#[cfg(unix)]
#[test]
fn a_device_target_is_written_in_place_and_stays_a_device() {
    let (_nginx, url) = open_server();
    let sandbox = Sandbox::new();
    // A link to /dev/null first: code that replaces the target replaces this link (in the
    // sandbox) and fails here, before the real /dev/null below is at risk.
    let link = sandbox.home().join("null-link");
    std::os::unix::fs::symlink("/dev/null", &link).unwrap();
    for target in [link.as_path(), Path::new("/dev/null")] {
        let run = run(
            &sandbox,
            &["fetch", &url, "-o", target.to_str().unwrap()],
            &[],
        );
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.is_empty(), "{run:?}");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink(),
            "the link to /dev/null was replaced"
        );
        assert_eq!(file_type(target), "char device", "{}", target.display());
    }
    assert_eq!(file_type(Path::new("/dev/null")), "char device");
    assert!(leftovers(sandbox.home()).is_empty());
}

#[cfg(unix)]
#[test]
fn dash_and_a_link_to_the_stdout_descriptor_write_the_body_to_standard_output() {
    let (_nginx, url) = open_server();
    let sandbox = Sandbox::new();
    // As /dev/stdout is, in the sandbox: code that replaces the target replaces this link, not
    // the system's /dev/stdout.
    let link = sandbox.home().join("stdout");
    std::os::unix::fs::symlink("/proc/self/fd/1", &link).unwrap();
    for target in ["-", link.to_str().unwrap()] {
        let run = run(&sandbox, &["fetch", &url, "-o", target], &[]);
        assert_eq!(run.code, 0, "{target}: {run:?}");
        assert_eq!(run.stdout.as_bytes(), FILE, "{target}");
    }
    assert!(!sandbox.home().join("-").exists());
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_target_gets_the_body_and_stays_a_fifo() {
    let (_nginx, url) = open_server();
    let sandbox = Sandbox::new();
    let fifo = sandbox.home().join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let (sent, received) = std::sync::mpsc::channel();
    let reader = fifo.clone();
    // Opening a FIFO waits for a writer: the body arrives only if `auth` writes to the FIFO.
    std::thread::spawn(move || sent.send(std::fs::read(reader).unwrap()));

    let run = run(
        &sandbox,
        &["fetch", &url, "-o", fifo.to_str().unwrap()],
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(file_type(&fifo), "fifo", "the FIFO was replaced");
    let body = received
        .recv_timeout(Duration::from_secs(30))
        .expect("the reader of the FIFO got the body");
    assert_eq!(body, FILE);
}

#[cfg(unix)]
#[test]
fn a_downloaded_file_gets_the_umasks_permissions() {
    let (_nginx, url) = open_server();
    let sandbox = Sandbox::new();
    for (mask, expected) in [("022", 0o644), ("027", 0o640), ("002", 0o664)] {
        let out = sandbox.home().join(format!("umask-{mask}.bin"));
        let run = run_with_umask(
            &sandbox,
            mask,
            &["fetch", &url, "-o", out.to_str().unwrap()],
        );
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(std::fs::read(&out).unwrap(), FILE);
        assert_eq!(mode(&out), expected, "umask {mask}: {:o}", mode(&out));
    }
    // A file replaced keeps its permissions, whatever the umask.
    let existing = sandbox.home().join("existing.bin");
    std::fs::write(&existing, b"old").unwrap();
    std::fs::set_permissions(
        &existing,
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .unwrap();
    let run = run_with_umask(
        &sandbox,
        "077",
        &["fetch", &url, "-o", existing.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(std::fs::read(&existing).unwrap(), FILE);
    assert_eq!(mode(&existing), 0o640);
}

#[cfg(unix)]
#[test]
fn a_link_to_a_file_stays_a_link_and_its_target_is_replaced() {
    let (_nginx, url) = open_server();
    let sandbox = Sandbox::new();
    let real_dir = sandbox.home().join("real");
    std::fs::create_dir(&real_dir).unwrap();
    let real = real_dir.join("file.bin");
    std::fs::write(&real, b"old").unwrap();
    let link = sandbox.home().join("link.bin");
    std::os::unix::fs::symlink("real/file.bin", &link).unwrap();
    // A dangling link: the file it names is made.
    let dangling = sandbox.home().join("dangling.bin");
    std::os::unix::fs::symlink("real/new.bin", &dangling).unwrap();

    for target in [&link, &dangling] {
        let run = run(
            &sandbox,
            &["fetch", &url, "-o", target.to_str().unwrap()],
            &[],
        );
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            std::fs::symlink_metadata(target)
                .unwrap()
                .file_type()
                .is_symlink(),
            "{} is no longer a link",
            target.display()
        );
    }
    assert_eq!(std::fs::read(&real).unwrap(), FILE);
    assert_eq!(std::fs::read(real_dir.join("new.bin")).unwrap(), FILE);
    assert!(leftovers(sandbox.home()).is_empty());
    assert!(leftovers(&real_dir).is_empty());
}

#[test]
fn a_directory_target_is_refused_before_the_download() {
    let (_nginx, url) = open_server();
    let sandbox = Sandbox::new();
    let dir = sandbox.home().join("downloads");
    std::fs::create_dir(&dir).unwrap();
    let run = run(&sandbox, &["fetch", &url, "-o", dir.to_str().unwrap()], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    stderr_has(
        &run,
        "downloads is a directory; give the file to write, like -o ",
    );
    assert!(dir.is_dir());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    assert!(leftovers(sandbox.home()).is_empty());
}

/// The port of a listener that accepts connections and never sends a byte.
fn silent_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            match stream {
                Ok(stream) => held.push(stream),
                Err(_) => return,
            }
        }
    });
    port
}

// `auth fetch` had no read timeout: a server that accepts and never answers hung it for good.
#[test]
fn a_server_that_never_answers_times_out_naming_the_host() {
    let port = silent_server();
    let sandbox = Sandbox::new();
    let url = format!("http://127.0.0.1:{port}/pkg/file.bin");
    let started = Instant::now();
    let run = run_within_20s(&sandbox, &["fetch", &url, "--read-timeout", "1"]);
    let took = started.elapsed();
    assert_eq!(run.code, 1, "{run:?}");
    stderr_has(
        &run,
        &format!(
            "timed out after 1 s waiting for 127.0.0.1:{port} to answer; raise --read-timeout"
        ),
    );
    assert!(took < Duration::from_secs(15), "took {took:?}");

    // The same from the config file, which the flag overrides.
    let config = sandbox.home().join(".config/auth/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "read-timeout-seconds = 0.5\n").unwrap();
    let run = run_within_20s(&sandbox, &["fetch", &url]);
    assert_eq!(run.code, 1, "{run:?}");
    stderr_has(&run, "timed out after 0.5 s waiting for 127.0.0.1:");
    let run = run_within_20s(&sandbox, &["fetch", &url, "--read-timeout", "1.5"]);
    stderr_has(&run, "timed out after 1.5 s waiting for 127.0.0.1:");
}

/// The port of a server that answers every request with the headers and the first bytes of a
/// 1000-byte body, then sends nothing more.
fn stalling_server() -> u16 {
    use std::io::{Read as _, Write as _};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = [0; 4096];
            let _ = stream.read(&mut request);
            let _ =
                stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nthe first bytes");
            held.push(stream);
        }
    });
    port
}

#[test]
fn a_body_that_stops_coming_times_out_and_leaves_the_target_as_it_was() {
    let port = stalling_server();
    let sandbox = Sandbox::new();
    let url = format!("http://127.0.0.1:{port}/pkg/file.bin");
    let new = sandbox.home().join("new.bin");
    let existing = sandbox.home().join("existing.bin");
    std::fs::write(&existing, b"old").unwrap();
    for target in [&new, &existing] {
        let run = run_within_20s(
            &sandbox,
            &[
                "fetch",
                &url,
                "--read-timeout",
                "1",
                "-o",
                target.to_str().unwrap(),
            ],
        );
        assert_eq!(run.code, 1, "{run:?}");
        stderr_has(
            &run,
            &format!("timed out after 1 s waiting for 127.0.0.1:{port} to answer"),
        );
    }
    assert!(!new.exists());
    assert_eq!(std::fs::read(&existing).unwrap(), b"old");
    assert!(leftovers(sandbox.home()).is_empty());
}

/// A listener whose queue of connections not yet accepted is full, so a new connection is never
/// completed: the connections that filled it are returned, to be held.
fn full_listener() -> (TcpListener, Vec<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    // The kernel drops a connection request when the queue is full; std's backlog is 128.
    for _ in 0..4096 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            Ok(stream) => held.push(stream),
            Err(_) => return (listener, held),
        }
    }
    panic!("the listen queue of {addr} never filled");
}

#[test]
fn a_server_that_does_not_connect_times_out_naming_the_host() {
    let (listener, _held) = full_listener();
    let port = listener.local_addr().unwrap().port();
    let sandbox = Sandbox::new();
    let url = format!("http://127.0.0.1:{port}/pkg/file.bin");
    let run = run_within_20s(&sandbox, &["fetch", &url, "--connect-timeout", "1"]);
    assert_eq!(run.code, 1, "{run:?}");
    stderr_has(
        &run,
        &format!("could not connect to 127.0.0.1:{port} within 1 s;"),
    );
    stderr_has(&run, "raise --connect-timeout");
}

#[test]
fn timeouts_that_are_not_a_number_of_seconds_are_usage_errors() {
    let sandbox = Sandbox::new();
    let mut shown = String::new();
    for args in [
        ["--read-timeout", "soon"],
        ["--connect-timeout", "0"],
        ["--read-timeout", "inf"],
        ["--resolve", "example.com"],
    ] {
        let mut all = vec!["fetch", "http://127.0.0.1:9/x"];
        all.extend(args);
        let run = sandbox.run(&all);
        assert_eq!(run.code, 2, "{run:?}");
        shown.push_str(run.stderr.lines().next().unwrap_or_default());
        shown.push('\n');
    }
    insta::assert_snapshot!(shown, @r"
    error: invalid value 'soon' for '--read-timeout <SECS>': a number of seconds (like 30 or 2.5), not `soon`
    error: invalid value '0' for '--connect-timeout <SECS>': must be a number of seconds between 0 and 86400, not 0
    error: invalid value 'inf' for '--read-timeout <SECS>': must be a number of seconds between 0 and 86400, not inf
    error: invalid value 'example.com' for '--resolve <HOST:PORT:ADDR>': takes HOST:PORT:ADDR (like example.com:443:127.0.0.1)
    ");
}

/// What a run said last, for a table of runs: a usage error's first line (what is wrong), another
/// error's last (why); ports and the sandbox's path replaced.
fn last_word(run: &Run, sandbox: &Sandbox, nginx: &Nginx, servers: &[Server]) -> String {
    let line = if run.code == 2 {
        run.stderr.lines().next()
    } else {
        run.stderr.lines().last()
    };
    let mut said = line.unwrap_or_default().trim_start().to_owned();
    for server in servers {
        said = said.replace(&nginx.port(*server).to_string(), "PORT");
    }
    said.replace(&sandbox.home().display().to_string(), "[HOME]")
}

// `auth fetch` of a URL whose own user name and password the server rejected exited 1; the
// documented code of a rejected credential is 3.
#[test]
fn every_documented_exit_code_of_fetch() {
    let mut builder = Nginx::builder();
    let root = write_files(&builder.dir().join("www"), &[("pkg/file.bin", FILE)]);
    let open = builder.server(&format!("root {};", root.display()));
    let bearer = builder.bearer(TOKEN, &root);
    let basic = builder.basic(USER, PASSWORD, &root);
    let forbidden = builder.server("return 403;");
    let nginx = builder.start();
    let secrets = [PASSWORD, TOKEN, "tk-wrong", "p:ss@wrong"];

    let nothing = Sandbox::new();
    let stored = Sandbox::new();
    for server in [bearer, forbidden] {
        let host = format!("127.0.0.1:{}", nginx.port(server));
        let login = stored.run(&["login", &host, "--token", "tk-wrong"]);
        assert_eq!(login.code, 0, "{login:?}");
    }
    let with_userinfo = |server, password: &str| {
        let url = nginx.url(server, "/pkg/file.bin");
        url.replacen("http://", &format!("http://{USER}:{password}@"), 1)
    };
    let wrong_password = "wr0ng-pass";
    let cases: Vec<(&str, &Sandbox, Vec<String>)> = vec![
        (
            "downloaded",
            &nothing,
            vec![nginx.url(open, "/pkg/file.bin")],
        ),
        ("404", &nothing, vec![nginx.url(open, "/pkg/missing.bin")]),
        ("no URL", &nothing, vec![]),
        (
            "unknown flag",
            &nothing,
            vec![nginx.url(open, "/pkg/file.bin"), "--retry".to_owned()],
        ),
        (
            "401, stored",
            &stored,
            vec![nginx.url(bearer, "/pkg/file.bin")],
        ),
        (
            "403, stored",
            &stored,
            vec![nginx.url(forbidden, "/pkg/file.bin")],
        ),
        (
            "401, URL's own",
            &nothing,
            vec![with_userinfo(basic, wrong_password)],
        ),
        (
            "403, URL's own",
            &nothing,
            vec![with_userinfo(forbidden, wrong_password)],
        ),
        (
            "401, none",
            &nothing,
            vec![nginx.url(bearer, "/pkg/file.bin")],
        ),
        (
            "403, none",
            &nothing,
            vec![nginx.url(forbidden, "/pkg/file.bin")],
        ),
    ];
    let mut table = String::new();
    for (name, sandbox, args) in &cases {
        let mut all = vec!["fetch"];
        all.extend(args.iter().map(String::as_str));
        let run = run(sandbox, &all, &[&secrets[..], &[wrong_password]].concat());
        let said = last_word(&run, sandbox, &nginx, &[open, bearer, basic, forbidden]);
        table.push_str(format!("{name:<16} {}  {said}", run.code).trim_end());
        table.push('\n');
        if run.code == 0 {
            assert_eq!(run.stdout.as_bytes(), FILE);
        } else {
            assert!(run.stdout.is_empty(), "{run:?}");
        }
    }
    insta::assert_snapshot!(table, @r"
    downloaded       0
    404              1  error: could not download http://127.0.0.1:PORT/pkg/missing.bin: the server answered HTTP 404 Not Found
    no URL           2  error: the following required arguments were not provided:
    unknown flag     2  error: unexpected argument '--retry' found
    401, stored      3  caused by: 127.0.0.1:PORT rejected the credential for 127.0.0.1:PORT from the file [HOME]/.rattler/credentials.json (HTTP 401); it may have expired or been revoked: run `auth login 127.0.0.1:PORT` to replace it
    403, stored      3  caused by: 127.0.0.1:PORT rejected the credential for 127.0.0.1:PORT from the file [HOME]/.rattler/credentials.json (HTTP 403); it may have expired or been revoked: run `auth login 127.0.0.1:PORT` to replace it
    401, URL's own   3  caused by: 127.0.0.1:PORT rejected the credential for the user name and password from the URL (HTTP 401); it may have expired or been revoked: run `auth login 127.0.0.1:PORT` to replace it
    403, URL's own   3  caused by: 127.0.0.1:PORT rejected the credential for the user name and password from the URL (HTTP 403); it may have expired or been revoked: run `auth login 127.0.0.1:PORT` to replace it
    401, none        4  caused by: 127.0.0.1:PORT answered HTTP 401 and no credential is stored for it; run `auth login 127.0.0.1:PORT`
    403, none        4  caused by: 127.0.0.1:PORT answered HTTP 403 and no credential is stored for it; run `auth login 127.0.0.1:PORT`
    ");
}

/// A password with every character that breaks naive user info handling.
const URL_PASSWORD: &str = "p@ss#w%rd";
const URL_PASSWORD_ENCODED: &str = "p%40ss%23w%25rd";
const PATH_TOKEN: &str = "tk-path-leak-5150";

#[test]
fn no_failed_fetch_shows_the_password_or_token_of_its_url() {
    use base64::Engine as _;
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let mut builder = Nginx::builder();
    let root = write_files(&builder.dir().join("www"), &[("pkg/file.bin", FILE)]);
    let conda = builder.conda_token(CONDA_TOKEN, &root);
    let nginx = builder.start();
    let silent = silent_server();
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let sandbox = Sandbox::new();
    let dir = sandbox.home().join("a-directory");
    std::fs::create_dir(&dir).unwrap();
    let dir = dir.to_str().unwrap();

    // The password as typed (a WHATWG parser ends the host at its `@` and starts a fragment at
    // `#`) and percent-encoded; reqwest sends either as Basic.
    let encoded_basic = b64(&format!("{USER}:{URL_PASSWORD}"));
    let typed_basic = b64(&format!("{USER}:p"));
    let forms = [
        URL_PASSWORD,
        URL_PASSWORD_ENCODED,
        "ss#w%rd",
        "w%rd",
        "w%25rd",
        PATH_TOKEN,
        encoded_basic.as_str(),
        typed_basic.as_str(),
    ];
    let url = |port: u16, password: &str| {
        format!("http://{USER}:{password}@127.0.0.1:{port}/t/{PATH_TOKEN}/pkg/file.bin")
    };
    let cases: Vec<(&str, String, Vec<&str>, i32)> = vec![
        (
            "401",
            url(nginx.port(conda), URL_PASSWORD_ENCODED),
            vec![],
            3,
        ),
        (
            "unreachable host",
            url(nginx.port(conda), URL_PASSWORD),
            vec![],
            1,
        ),
        ("closed port", url(closed, URL_PASSWORD_ENCODED), vec![], 1),
        (
            "timeout",
            url(silent, URL_PASSWORD_ENCODED),
            vec!["--read-timeout", "1"],
            1,
        ),
        (
            "directory -o",
            url(nginx.port(conda), URL_PASSWORD_ENCODED),
            vec!["-o", dir],
            1,
        ),
        (
            "directory -o, typed",
            url(nginx.port(conda), URL_PASSWORD),
            vec!["-o", dir],
            1,
        ),
    ];
    for (name, url, extra, code) in &cases {
        for verbosity in ["-v", "-vvv"] {
            let mut args = vec!["fetch", url.as_str(), verbosity];
            args.extend(extra);
            let run = run_within_20s(&sandbox, &args);
            assert_eq!(run.code, *code, "{name} {verbosity}: {run:?}");
            let output = run.all_output();
            for form in forms {
                assert!(
                    !output.contains(form),
                    "{name} {verbosity} printed {form}:\n{output}"
                );
            }
        }
    }
}
