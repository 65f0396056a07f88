//! `auth fetch` against real servers: nginx with Basic, Bearer and conda-token locations, s3s-fs
//! checking SigV4, and the Python `keyring` CLI for a PyPI index.

use auth_tests::peers::{Nginx, PyKeyring, S3, write_files};
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
    sandbox.run(&["login", &host, "--conda-token", CONDA_TOKEN]);

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

fn s3_sandbox(s3: &S3) -> Sandbox {
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
