//! The default chain on a variable map with a temporary HOME: which file wins
//! (`RATTLER_AUTH_FILE` > `--auth-file` > the config), the order of the default chain (the `env`
//! store first), what is left out and why, and the client on it against a real nginx.
//!
//! The keyring finds its session bus through the process environment (zbus reads
//! `DBUS_SESSION_BUS_ADDRESS` itself; a `ChainEnv` cannot name it), so the tests that ask the
//! keyring run this binary again with a bus address that does not exist ([`without_bus`]).

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use auth_chain::auth_core::{Authentication, HostKey, Secret, UrlTarget};
use auth_chain::{ChainEnv, ChainError, ChainOptions, OverrideSource, Slot};
use auth_tests::peers::Nginx;

/// Set in the run without a session bus.
const WITHOUT_BUS: &str = "AUTH_CHAIN_IT_WITHOUT_BUS";

/// Around what the run without a bus found, in its standard output.
const BEGIN: &str = "--- outcome\n";
const END: &str = "--- end\n";

fn vars<'a>(pairs: &[(&'a str, &'a OsStr)]) -> ChainEnv {
    ChainEnv::from_vars(pairs.iter().copied())
}

fn names(chain: &auth_chain::DefaultChain) -> Vec<String> {
    chain
        .chain
        .stores()
        .iter()
        .map(|store| store.name().to_owned())
        .collect()
}

fn token(secret: &str) -> Authentication {
    Authentication::BearerToken(Secret::new(secret.to_owned()))
}

#[test]
fn rattler_auth_file_wins_over_the_auth_file_the_config_and_the_default_chain() {
    let home = tempfile::tempdir().unwrap();
    let env_file = home.path().join("from-env").join("credentials.json");
    let env = vars(&[
        ("HOME", home.path().as_os_str()),
        ("RATTLER_AUTH_FILE", env_file.as_os_str()),
        ("AUTH_TOKEN_REPO_PREFIX_DEV", OsStr::new("pfx_from_env")),
    ]);
    let options = ChainOptions {
        auth_file: Some(home.path().join("flag.json")),
        override_file: Some(home.path().join("config.json")),
        ..ChainOptions::default()
    };
    let chain = auth_chain::open(&env, &options).unwrap();
    assert_eq!(
        names(&chain),
        ["file"],
        "the override file is the only store"
    );
    let chosen = chain.chosen.as_ref().unwrap();
    assert_eq!(chosen.path, env_file);
    assert_eq!(chosen.source, OverrideSource::RattlerAuthFile);
    assert_eq!(chain.lock_dir, home.path().join("from-env"));
    assert!(chain.env.is_none(), "the env store is not consulted");
    // The token of the environment variable is not found: only the file answers.
    let target = UrlTarget::parse("https://repo.prefix.dev/channel/").unwrap();
    assert!(chain.chain.find(&target).unwrap().is_none());
}

#[test]
fn the_auth_file_wins_over_the_config_and_the_config_over_the_default_chain() {
    let home = tempfile::tempdir().unwrap();
    let env = vars(&[("HOME", home.path().as_os_str())]);
    let (flag, config) = (
        home.path().join("flag.json"),
        home.path().join("config.json"),
    );
    let both = ChainOptions {
        auth_file: Some(flag.clone()),
        override_file: Some(config.clone()),
        ..ChainOptions::default()
    };
    let chosen = auth_chain::chosen_file(&env, &both).unwrap();
    assert_eq!(
        (chosen.path, chosen.source),
        (flag, OverrideSource::AuthFile)
    );
    let config_only = ChainOptions {
        override_file: Some(config.clone()),
        ..ChainOptions::default()
    };
    let chosen = auth_chain::chosen_file(&env, &config_only).unwrap();
    assert_eq!(
        (chosen.path, chosen.source.as_str()),
        (config, "authentication-override-file in the config file")
    );
    assert!(auth_chain::chosen_file(&env, &ChainOptions::default()).is_none());
}

#[test]
fn the_default_chain_is_env_keyring_file_netrc_and_the_env_store_comes_first() {
    let home = tempfile::tempdir().unwrap();
    let env = vars(&[
        ("HOME", home.path().as_os_str()),
        ("AUTH_TOKEN_REPO_PREFIX_DEV", OsStr::new("pfx_from_env")),
        ("PATH", OsStr::new("/usr/bin")),
        ("AUTH_TOKEN_EMPTY_EXAMPLE_COM", OsStr::new("")),
        ("AWS_PROFILE", OsStr::new("conda")),
    ]);
    assert_eq!(env.aws.keys().collect::<Vec<_>>(), ["AWS_PROFILE"]);
    for (name, read) in [
        ("HOME", true),
        ("NETRC", true),
        ("AWS_REGION", true),
        ("TF_TOKEN_app_terraform_io", true),
        ("GH_TOKEN", true),
        ("PATH", false),
        ("AUTH_LOG", false),
    ] {
        assert_eq!(ChainEnv::reads(name), read, "{name}");
    }
    assert_eq!(
        env.credential_vars.keys().collect::<Vec<_>>(),
        ["AUTH_TOKEN_REPO_PREFIX_DEV"],
        "only the env store's variables are kept, and an empty one counts as unset"
    );
    let chain = auth_chain::open(&env, &ChainOptions::default()).unwrap();
    assert_eq!(names(&chain), ["env", "keyring", "file", "netrc"]);
    assert!(chain.chosen.is_none());
    assert_eq!(chain.lock_dir, home.path().join(".rattler"));
    assert!(chain.left_out.is_empty(), "{:?}", chain.left_out);
    // The file's entry under the same key: the env store, earlier in the chain, wins the tie.
    // (Asked store by store, not through the chain, so this process's keyring is not asked.)
    let file = &chain.files[0];
    let key = HostKey::parse("repo.prefix.dev").unwrap();
    auth_chain::auth_core::CredentialStore::set(file.as_ref(), &key, &token("pfx_from_file"))
        .unwrap();
    let env_store = chain.env.as_ref().unwrap();
    assert_eq!(
        env_store.sources(&key).unwrap(),
        ["AUTH_TOKEN_REPO_PREFIX_DEV"]
    );
    let first = &chain.chain.stores()[0];
    let target = UrlTarget::parse("https://repo.prefix.dev/channel/").unwrap();
    let found = first.find(&target).unwrap().unwrap();
    assert_eq!(found.auth.primary_secret().expose(), "pfx_from_env");
}

#[test]
fn a_netrc_that_cannot_be_read_is_left_out_with_why_and_a_broken_file_stops_the_chain() {
    let home = tempfile::tempdir().unwrap();
    // NETRC names a directory: refused before it is opened.
    let env = vars(&[
        ("HOME", home.path().as_os_str()),
        ("NETRC", home.path().as_os_str()),
    ]);
    let chain = auth_chain::open(&env, &ChainOptions::default()).unwrap();
    assert_eq!(names(&chain), ["env", "keyring", "file"]);
    assert_eq!(chain.left_out.len(), 1, "{:?}", chain.left_out);
    let left_out = &chain.left_out[0];
    assert_eq!(
        left_out.store,
        format!("the netrc {}", home.path().display())
    );
    assert!(
        left_out.reason.contains(&home.path().display().to_string()),
        "the reason names the file: {}",
        left_out.reason
    );

    let rattler = home.path().join(".rattler");
    std::fs::create_dir(&rattler).unwrap();
    std::fs::write(rattler.join("credentials.json"), "{ not json").unwrap();
    let survey = auth_chain::survey(&env, &ChainOptions::default()).unwrap();
    let broken: Vec<&str> = survey
        .slots
        .iter()
        .filter_map(|slot| match slot {
            Slot::Broken(broken) => Some(broken.name),
            Slot::Open(_) => None,
        })
        .collect();
    assert_eq!(
        broken,
        ["file", "netrc"],
        "the survey keeps both, for status"
    );
    let err = auth_chain::open(&env, &ChainOptions::default()).unwrap_err();
    assert!(matches!(err, ChainError::File(_)), "{err:?}");
    assert!(err.to_string().contains("credentials.json"), "{err}");
}

#[test]
fn no_home_and_no_override_file_is_no_chain() {
    let err = auth_chain::open(&ChainEnv::default(), &ChainOptions::default()).unwrap_err();
    assert!(matches!(err, ChainError::NoHome), "{err:?}");
    // An override file needs no home.
    let options = ChainOptions {
        auth_file: Some("relative.json".into()),
        ..ChainOptions::default()
    };
    let chain = auth_chain::open(&ChainEnv::default(), &options).unwrap();
    assert_eq!(chain.lock_dir, Path::new("."));
}

/// Runs the test `test` of this binary again with a session bus that does not exist and returns
/// what it reported; fails when that run fails.
#[allow(
    clippy::disallowed_methods,
    reason = "the run without a bus needs our PATH, and is told apart by its environment"
)]
fn without_bus(test: &str) -> Option<String> {
    if std::env::var_os(WITHOUT_BUS).is_some() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(WITHOUT_BUS, "1")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", dir.path().join("no-bus").display()),
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let found = stdout
        .split_once(BEGIN)
        .and_then(|(_, rest)| rest.split_once(END))
        .map(|(found, _)| found.to_owned());
    match found {
        Some(found) if output.status.success() => Some(found),
        _ => panic!(
            "the run without a session bus failed ({})\n--- stdout\n{stdout}\n--- stderr\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// What the run without a bus found, for the outer run to check.
fn report(found: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{BEGIN}{found}{END}").unwrap();
}

#[test]
fn without_a_session_bus_the_keyring_is_skipped_with_why_and_a_login_falls_back_to_the_file() {
    if let Some(found) = without_bus(
        "without_a_session_bus_the_keyring_is_skipped_with_why_and_a_login_falls_back_to_the_file",
    ) {
        let lines: Vec<&str> = found.lines().collect();
        assert_eq!(lines.len(), 4, "{found}");
        assert!(
            lines[0].starts_with("unavailable: the keyring ")
                && lines[0].contains(
                    "is unavailable: cannot reach the Secret Service on the D-Bus session bus"
                ),
            "{found}"
        );
        assert_eq!(lines[1], "saved in: file");
        assert!(
            lines[2].starts_with("skipped: the keyring ") && lines[2].contains("is unavailable"),
            "the env store's refusal is not worth saying; the keyring's is: {found}"
        );
        assert!(
            lines[3].starts_with("plain text in: ")
                && lines[3].ends_with("/.rattler/credentials.json"),
            "{found}"
        );
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let env = vars(&[("HOME", home.path().as_os_str())]);
    let chain = auth_chain::open(&env, &ChainOptions::default()).unwrap();
    let mut found = String::new();
    for skipped in chain.unavailable() {
        writeln!(found, "unavailable: {}", skipped.reason).unwrap();
    }
    let key = HostKey::parse("*.prefix.dev").unwrap();
    let saved = chain.chain.set(&key, &token("pfx_saved")).unwrap();
    writeln!(found, "saved in: {}", saved.store.name()).unwrap();
    let fallback = chain.fallback(&saved);
    for skipped in &fallback.skipped {
        writeln!(found, "skipped: {}", skipped.reason).unwrap();
    }
    if let Some(file) = &fallback.plain_text {
        writeln!(found, "plain text in: {file}").unwrap();
    }
    report(&found);
}

#[test]
fn the_client_on_the_default_chain_sends_the_env_stores_token_and_nothing_without_one() {
    let Some(found) = without_bus(
        "the_client_on_the_default_chain_sends_the_env_stores_token_and_nothing_without_one",
    ) else {
        return in_the_run_without_a_bus();
    };
    assert_eq!(found, "200 served\n401\n", "{found}");
}

/// The body of the client test: nginx wants a Bearer token, which only an environment variable
/// holds.
fn in_the_run_without_a_bus() {
    let mut builder = Nginx::builder();
    let root = auth_tests::peers::write_files(&builder.dir().join("www"), &[("f", b"served")]);
    let server = builder.bearer("tk-chain-17", &root);
    let nginx = builder.start();
    let port = nginx.port(server);
    let home = tempfile::tempdir().unwrap();
    let variable = format!("AUTH_TOKEN_127_0_0_1_{port}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut found = String::new();
    for with_token in [true, false] {
        let mut pairs = vec![("HOME", home.path().as_os_str())];
        if with_token {
            pairs.push((variable.as_str(), OsStr::new("tk-chain-17")));
        }
        let env = vars(&pairs);
        let chain = auth_chain::open(&env, &ChainOptions::default()).unwrap();
        let http = auth_chain::auth_middleware::reqwest_client(reqwest::Client::builder()).unwrap();
        let client = chain
            .client(&env, http, auth_chain::auth_middleware::system_clock())
            .unwrap();
        let outcome = runtime.block_on(client.get(nginx.url(server, "/f")).send());
        match outcome {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = runtime.block_on(response.text()).unwrap();
                writeln!(found, "{status} {body}").unwrap();
            }
            Err(reqwest_middleware_error) => {
                let text = reqwest_middleware_error.to_string();
                assert!(text.contains("no credential is stored"), "{text}");
                assert!(!text.contains("tk-chain-17"), "{text}");
                found.push_str("401\n");
            }
        }
    }
    report(&found);
}
