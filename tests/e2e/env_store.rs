//! The `env` store end to end: a CI job with only environment variables (empty HOME, no
//! keyring) downloads from a real nginx with each kind of credential, `status` names the
//! variables and never their values, `login` and `logout` leave them alone, the store wins at
//! the front of the chain, and an override file (`RATTLER_AUTH_FILE`, `--auth-file`) is the only
//! source.

use auth_tests::peers::{Nginx, Server, write_files};
use auth_tests::{Run, Sandbox};

use crate::leaks::forms_for;

const USER: &str = "ci-user";
/// A password with the characters that break naive `user:password@host` handling.
const PASSWORD: &str = "p:ss@env-basic-31";
const TOKEN: &str = "tk-env-bearer-32";
const CONDA_TOKEN: &str = "ct-env-conda-33";
const UV_PASSWORD: &str = "uv-env-password-34";
const CARGO_TOKEN: &str = "cargo-env-token-35";
const FILE: &[u8] = b"the package bytes\n";
const SECRETS: [&str; 5] = [PASSWORD, TOKEN, CONDA_TOKEN, UV_PASSWORD, CARGO_TOKEN];

/// Servers for each kind of credential, all serving `pkg/file.bin` and `simple/index.html`.
struct Servers {
    nginx: Nginx,
    basic: Server,
    bearer: Server,
    conda: Server,
    uv: Server,
    cargo: Server,
}

fn servers() -> Servers {
    let mut builder = Nginx::builder();
    let root = write_files(
        &builder.dir().join("www"),
        &[("pkg/file.bin", FILE), ("simple/index.html", FILE)],
    );
    let basic = builder.basic(USER, PASSWORD, &root);
    let bearer = builder.bearer(TOKEN, &root);
    let conda = builder.conda_token(CONDA_TOKEN, &root);
    let uv = builder.basic("__token__", UV_PASSWORD, &root);
    let cargo = builder.bearer(CARGO_TOKEN, &root);
    Servers {
        nginx: builder.start(),
        basic,
        bearer,
        conda,
        uv,
        cargo,
    }
}

/// `127_0_0_1_PORT`: the host of a server as a variable name encodes it.
fn encoded(servers: &Servers, server: Server) -> String {
    format!("127_0_0_1_{}", servers.nginx.port(server))
}

/// A CI job's environment: one variable family per server.
fn ci_sandbox(servers: &Servers) -> Sandbox {
    let mut sandbox = Sandbox::new();
    let basic = encoded(servers, servers.basic);
    sandbox
        .env(format!("AUTH_USERNAME_{basic}"), USER)
        .env(format!("AUTH_PASSWORD_{basic}"), PASSWORD)
        // Terraform's name, with a trailing newline as `$(cat token-file)` in some shells and a
        // pasted CI secret leave it.
        .env(
            format!("TF_TOKEN_{}", encoded(servers, servers.bearer)),
            format!("{TOKEN}\n"),
        )
        .env(
            format!("AUTH_CONDA_TOKEN_{}", encoded(servers, servers.conda)),
            CONDA_TOKEN,
        )
        .env(
            "UV_INDEX",
            format!("private-pypi={}", servers.nginx.url(servers.uv, "/simple/")),
        )
        .env("UV_INDEX_PRIVATE_PYPI_USERNAME", "__token__")
        .env("UV_INDEX_PRIVATE_PYPI_PASSWORD", UV_PASSWORD)
        .env(
            "CARGO_REGISTRIES_MY_REG_INDEX",
            format!("sparse+{}", servers.nginx.url(servers.cargo, "/index/")),
        )
        .env("CARGO_REGISTRIES_MY_REG_TOKEN", CARGO_TOKEN)
        // Settings that share a prefix, never credentials.
        .env("AUTH_LOG", "info")
        .env("UV_INDEX_STRATEGY", "first-index");
    sandbox
}

/// Every form of every secret, for the leak sweeps.
fn all_forms() -> Vec<String> {
    SECRETS
        .iter()
        .flat_map(|secret| forms_for(secret, &[USER, "__token__"]))
        .collect()
}

fn assert_no_secret(run: &Run, what: &str) {
    let output = run.all_output();
    for form in all_forms() {
        assert!(
            !output.contains(&form),
            "{what}: a form of a secret ({form:?}) shows in:\n{output}"
        );
    }
}

/// The output with the servers' ports as `[PORT:name]`, for exact comparisons.
fn ports(servers: &Servers, text: &str) -> String {
    let mut text = text.to_owned();
    for (name, server) in [
        ("basic", servers.basic),
        ("bearer", servers.bearer),
        ("conda", servers.conda),
        ("uv", servers.uv),
        ("cargo", servers.cargo),
    ] {
        text = text.replace(
            &servers.nginx.port(server).to_string(),
            &format!("[PORT:{name}]"),
        );
    }
    text
}

#[test]
fn a_ci_job_with_only_variables_downloads_with_each_kind() {
    let servers = servers();
    let sandbox = ci_sandbox(&servers);
    let cases = [
        ("basic", servers.basic, "/pkg/file.bin", "AUTH_USERNAME_"),
        ("bearer", servers.bearer, "/pkg/file.bin", "TF_TOKEN_"),
        ("conda", servers.conda, "/pkg/file.bin", "AUTH_CONDA_TOKEN_"),
        (
            "uv",
            servers.uv,
            "/simple/index.html",
            "UV_INDEX_PRIVATE_PYPI",
        ),
        (
            "cargo",
            servers.cargo,
            "/pkg/file.bin",
            "CARGO_REGISTRIES_MY_REG",
        ),
    ];
    for (name, server, path, _) in cases {
        let url = servers.nginx.url(server, path);
        let fetched = sandbox.run(&["fetch", &url, "-v"]);
        assert_eq!(fetched.code, 0, "{name}: {fetched:?}");
        assert_eq!(fetched.stdout.as_bytes(), FILE, "{name}");
        assert!(
            fetched.stderr.contains("store=the environment variables"),
            "{name}: {}",
            fetched.stderr
        );
        assert_no_secret(&fetched, name);
        // The loudest log shows no form of any secret either.
        let loud = sandbox.run(&["fetch", &url, "-vvvv", "-o", "/dev/null"]);
        assert_eq!(loud.code, 0, "{name}: {loud:?}");
        assert_no_secret(&loud, name);
    }
    // Without the variables, the same sandbox has nothing: it was the environment.
    let bare = Sandbox::new();
    let url = servers.nginx.url(servers.bearer, "/pkg/file.bin");
    assert_eq!(bare.run(&["fetch", &url]).code, 4);
}

#[test]
fn token_agrees_with_fetch() {
    let servers = servers();
    let sandbox = ci_sandbox(&servers);
    // The trailing newline of the variable is not part of the token.
    let bearer = sandbox.run(&["token", &servers.nginx.url(servers.bearer, "/pkg/")]);
    assert_eq!(
        (bearer.code, bearer.stdout.as_str()),
        (0, "tk-env-bearer-32\n")
    );
    let cargo = sandbox.run(&["token", &servers.nginx.url(servers.cargo, "/index/")]);
    assert_eq!(
        (cargo.code, cargo.stdout.as_str()),
        (0, "cargo-env-token-35\n")
    );
    let basic = sandbox.run(&["token", &servers.nginx.origin(servers.basic)]);
    assert_eq!(
        (basic.code, basic.stdout.as_str()),
        (0, "p:ss@env-basic-31\n")
    );
}

#[test]
fn status_names_the_variables_and_never_the_values() {
    let servers = servers();
    let mut sandbox = ci_sandbox(&servers);
    sandbox
        .env("AUTH_TOKEN___bad", "never-shown-36")
        .env("AUTH_USERNAME_lonely_example", "u");
    let status = sandbox.run(&["status"]);
    assert_no_secret(&status, "status");
    assert!(!status.all_output().contains("never-shown-36"));
    assert_eq!(status.code, 0, "{status:?}");
    // The table's rows with the ports as names, sorted (the order of ports varies), one space
    // between cells (their width varies with the ports).
    let shown = ports(&servers, &sandbox.show(&status));
    let (table, rest) = shown.split_once("\n\n").expect("a table, then the stores");
    let mut rows: Vec<String> = table
        .lines()
        .skip(3)
        .map(|row| row.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    rows.sort();
    assert_eq!(rows.join("\n"), STATUS_ROWS.trim());
    // The env store comes first; the problems are warnings that name the variable.
    assert!(
        rest.starts_with("env: environment variables\nkeyring: "),
        "{shown}"
    );
    assert!(rest.ends_with(STATUS_STDERR), "{shown}");

    let json = sandbox.run(&["status", "--json"]);
    assert_eq!(json.code, 0, "{json:?}");
    assert_no_secret(&json, "status --json");
    assert!(!json.all_output().contains("never-shown-36"));
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["stores"][0]["name"], "env");
    assert_eq!(report["stores"][0]["location"], "environment variables");
    let rows: Vec<String> = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            format!(
                "{} {} {} {}",
                entry["key"].as_str().unwrap(),
                entry["kind"].as_str().unwrap(),
                entry["store"].as_str().unwrap(),
                entry["variables"]
            )
        })
        .collect();
    let mut rows: Vec<String> = rows.iter().map(|row| ports(&servers, row)).collect();
    rows.sort();
    assert_eq!(rows.join("\n"), JSON_ROWS.trim());
    let unknown: Vec<String> = report["unknown_entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            format!(
                "{} {}: {}",
                row["store"].as_str().unwrap(),
                row["key"].as_str().unwrap(),
                row["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        unknown,
        [
            "env AUTH_TOKEN___bad: its name cannot be read: a host cannot start with `-` (`__` at the start)",
            "env AUTH_USERNAME_lonely_example: there is no AUTH_PASSWORD_lonely_example to go with it",
        ]
    );
}

const STATUS_ROWS: &str = "
127.0.0.1:[PORT:basic] BasicHTTP (ci-user) env (AUTH_USERNAME_127_0_0_1_[PORT:basic] AUTH_PASSWORD_127_0_0_1_[PORT:basic]) -
127.0.0.1:[PORT:bearer] BearerToken env (TF_TOKEN_127_0_0_1_[PORT:bearer]) -
127.0.0.1:[PORT:cargo] BearerToken env (CARGO_REGISTRIES_MY_REG_TOKEN CARGO_REGISTRIES_MY_REG_INDEX) -
127.0.0.1:[PORT:conda] CondaToken env (AUTH_CONDA_TOKEN_127_0_0_1_[PORT:conda]) -
http://127.0.0.1:[PORT:uv] BasicHTTP (__token__) env (UV_INDEX_PRIVATE_PYPI_USERNAME UV_INDEX_PRIVATE_PYPI_PASSWORD) -";

const STATUS_STDERR: &str = "\
--- stderr
warning: the environment variable AUTH_TOKEN___bad is not used: its name cannot be read: a host cannot start with `-` (`__` at the start)
warning: the environment variable AUTH_USERNAME_lonely_example is not used: there is no AUTH_PASSWORD_lonely_example to go with it
";

const JSON_ROWS: &str = r#"
127.0.0.1:[PORT:basic] BasicHTTP env ["AUTH_USERNAME_127_0_0_1_[PORT:basic]","AUTH_PASSWORD_127_0_0_1_[PORT:basic]"]
127.0.0.1:[PORT:bearer] BearerToken env ["TF_TOKEN_127_0_0_1_[PORT:bearer]"]
127.0.0.1:[PORT:cargo] BearerToken env ["CARGO_REGISTRIES_MY_REG_TOKEN","CARGO_REGISTRIES_MY_REG_INDEX"]
127.0.0.1:[PORT:conda] CondaToken env ["AUTH_CONDA_TOKEN_127_0_0_1_[PORT:conda]"]
http://127.0.0.1:[PORT:uv] BasicHTTP env ["UV_INDEX_PRIVATE_PYPI_USERNAME","UV_INDEX_PRIVATE_PYPI_PASSWORD"]"#;

#[test]
fn a_machine_without_variables_shows_no_env_store() {
    let sandbox = Sandbox::new();
    let status = sandbox.run(&["status"]);
    assert_eq!(status.code, 0, "{status:?}");
    assert!(!status.stdout.contains("env"), "{status:?}");
}

#[test]
fn login_writes_to_the_file_and_logout_says_to_unset_the_variable() {
    let mut sandbox = Sandbox::new();
    sandbox.env("AUTH_TOKEN_repo_example_com", "env-token-37");
    let login = sandbox.run(&["login", "other.example.com", "--token", "file-token-38"]);
    assert_eq!(login.code, 0, "{login:?}");
    // The keyring (absent here) is worth a warning; the read-only env store is not.
    assert!(!login.stderr.contains("env"), "{login:?}");
    assert!(!login.stderr.contains("read-only"), "{login:?}");
    assert!(login.stderr.contains("saved in the file"), "{login:?}");
    let stored = std::fs::read_to_string(sandbox.home().join(".rattler/credentials.json")).unwrap();
    assert!(stored.contains("file-token-38") && !stored.contains("env-token-37"));

    let logout = sandbox.run(&["logout", "repo.example.com"]);
    assert_eq!(
        sandbox.show(&logout),
        "\
exit: 1
--- stdout
--- stderr
error: the credentials for repo.example.com come from the environment variable AUTH_TOKEN_repo_example_com, which auth only reads; unset it
"
    );
    assert!(!logout.all_output().contains("env-token-37"));

    // Stored under the variable's key as well: the stored entry goes, and logout says the
    // variable still gives credentials.
    let login = sandbox.run(&["login", "repo.example.com", "--token", "file-token-39"]);
    assert_eq!(login.code, 0, "{login:?}");
    let logout = sandbox.run(&["logout", "repo.example.com"]);
    assert_eq!(logout.code, 0, "{logout:?}");
    assert!(
        logout.stderr.contains(
            "AUTH_TOKEN_repo_example_com still gives credentials for repo.example.com; unset it"
        ),
        "{logout:?}"
    );
    let token = sandbox.run(&["token", "repo.example.com"]);
    assert_eq!(token.stdout, "env-token-37\n");
}

#[test]
fn the_variable_wins_over_a_stored_entry_for_the_same_key() {
    let servers = servers();
    let sandbox = ci_sandbox(&servers);
    let host = format!("127.0.0.1:{}", servers.nginx.port(servers.bearer));
    let login = sandbox.run(&["login", &host, "--token", "tk-stale-in-the-file"]);
    assert_eq!(login.code, 0, "{login:?}");
    let url = servers.nginx.url(servers.bearer, "/pkg/file.bin");
    let fetched = sandbox.run(&["fetch", &url, "-v"]);
    assert_eq!(fetched.code, 0, "{fetched:?}");
    assert_eq!(fetched.stdout.as_bytes(), FILE);
    assert!(
        fetched.stderr.contains("store=the environment variables"),
        "{fetched:?}"
    );
    assert_eq!(sandbox.run(&["token", &host]).stdout, format!("{TOKEN}\n"));
    // status shows the file's entry as shadowed.
    let status = sandbox.run(&["status"]);
    assert!(
        status
            .stdout
            .contains("file (shadowed by an earlier store)"),
        "{status:?}"
    );
}

#[test]
fn an_override_file_is_the_only_source() {
    let servers = servers();
    let url = servers.nginx.url(servers.bearer, "/pkg/file.bin");
    let host = format!("127.0.0.1:{}", servers.nginx.port(servers.bearer));
    for how in ["RATTLER_AUTH_FILE", "--auth-file"] {
        let mut sandbox = ci_sandbox(&servers);
        let file = sandbox.home().join("override.json");
        std::fs::write(&file, "{}").unwrap();
        let file = file.to_str().unwrap().to_owned();
        let flag: Vec<String> = if how == "RATTLER_AUTH_FILE" {
            sandbox.env("RATTLER_AUTH_FILE", &file);
            Vec::new()
        } else {
            vec!["--auth-file".to_owned(), file.clone()]
        };
        let run = |args: &[&str]| {
            let all: Vec<&str> = flag
                .iter()
                .map(String::as_str)
                .chain(args.iter().copied())
                .collect();
            sandbox.run(&all)
        };
        let fetched = run(&["fetch", &url]);
        assert_eq!(fetched.code, 4, "{how}: {fetched:?}");
        assert_no_secret(&fetched, how);
        let token = run(&["token", &host]);
        assert_eq!(token.code, 4, "{how}: {token:?}");
        let status = run(&["status"]);
        assert_eq!(status.code, 0, "{how}: {status:?}");
        assert!(!status.stdout.contains("env"), "{how}: {status:?}");
        // A login to the override file still works, and then it answers.
        let login = run(&["login", &host, "--token", TOKEN]);
        assert_eq!(login.code, 0, "{how}: {login:?}");
        let fetched = run(&["fetch", &url, "-v"]);
        assert_eq!(fetched.code, 0, "{how}: {fetched:?}");
        assert!(
            fetched.stderr.contains("store=the file"),
            "{how}: {fetched:?}"
        );
    }
}
