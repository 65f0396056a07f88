//! `auth helper cargo`, cargo's credential provider, with the real `cargo` against a private
//! sparse registry on a real nginx that checks the `Authorization` header
//! (`peers::CargoRegistry`): resolve and fetch with the token only `auth` holds, `cargo login`
//! and `cargo logout` through us, the "not logged in" message, the matching and plain-http rules
//! on the provider protocol, and `auth helper install|uninstall cargo` on a config with comments.
//! Every run is at `AUTH_LOG=trace`, and everything cargo and `auth` print is searched for every
//! form of the token.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use auth_tests::peers::CargoRegistry;
use auth_tests::peers::cargo_registry::cargo_command;
use auth_tests::{Run, Sandbox};

use crate::leaks::forms_for;

/// The registry's token: what `cargo login` takes and cargo sends as `Authorization`.
const TOKEN: &str = "cio-Sekr3t_tok.en+9/=";

/// A user with a private registry named `private` in `$CARGO_HOME/config.toml`, cargo set up by
/// `auth helper install cargo`, and a project that depends only on `foo` from that registry (so
/// cargo never needs crates.io).
struct World {
    sandbox: Sandbox,
    registry: CargoRegistry,
    cargo_home: PathBuf,
    project: PathBuf,
}

impl World {
    fn new() -> Self {
        let mut sandbox = Sandbox::new();
        let cargo_home = sandbox.home().join(".cargo");
        sandbox
            .env("CARGO_HOME", &cargo_home)
            .env("AUTH_LOG", "trace");
        let registry = CargoRegistry::start(TOKEN);
        std::fs::create_dir_all(&cargo_home).unwrap();
        std::fs::write(
            cargo_home.join("config.toml"),
            format!(
                "[registries.private]\nindex = \"{}\"\n",
                registry.index_url()
            ),
        )
        .unwrap();
        let project = sandbox.home().join("project");
        std::fs::create_dir_all(project.join("src")).unwrap();
        std::fs::write(
            project.join("Cargo.toml"),
            "[package]\nname = \"app\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[dependencies]\nfoo = { version = \"0.1\", registry = \"private\" }\n",
        )
        .unwrap();
        std::fs::write(project.join("src/lib.rs"), "").unwrap();
        let world = Self {
            sandbox,
            registry,
            cargo_home,
            project,
        };
        let install = world.auth(&["helper", "install", "cargo"]);
        assert_eq!(install.code, 0, "{}", world.sandbox.show(&install));
        world
    }

    /// `auth ARGS`, checked for leaks.
    fn auth(&self, args: &[&str]) -> Run {
        let run = self.sandbox.run(args);
        assert_no_token(&format!("auth {}", args.join(" ")), &run);
        run
    }

    /// The real cargo in the project, with the sandbox's environment (HOME, `CARGO_HOME`,
    /// `AUTH_LOG`, no keyring) and a target directory of its own; checked for leaks.
    fn cargo(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut command = cargo_command(&self.cargo_home);
        for (name, value) in self.sandbox.command(&[]).get_envs() {
            if let Some(value) = value {
                command.env(name, value);
            }
        }
        command
            .args(args)
            .current_dir(&self.project)
            .env("CARGO_TARGET_DIR", self.sandbox.home().join("target"))
            .env("CARGO_REGISTRIES_CRATES_IO_PROTOCOL", "sparse")
            .env("CARGO_NET_OFFLINE", "false")
            .env("CARGO_TERM_COLOR", "never")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let run = self.sandbox.run_command(command, stdin);
        assert_no_token(&format!("cargo {}", args.join(" ")), &run);
        run
    }

    /// One request of cargo's provider protocol to `auth helper cargo --cargo-plugin`, as cargo
    /// sends it: the answer line after the hello.
    fn provider_get(&self, index_url: &str) -> (Run, serde_json::Value) {
        let request = serde_json::json!({
            "v": 1,
            "registry": { "index-url": index_url, "name": "private" },
            "kind": "get",
            "operation": "read",
            "args": [],
        });
        let run = self.sandbox.run_with_stdin(
            &["helper", "cargo", "--cargo-plugin"],
            &format!("{request}\n"),
        );
        assert_eq!(run.code, 0, "{}", self.sandbox.show(&run));
        // The answer on stdout is the one place the token may be; the logs (AUTH_LOG=trace)
        // hold none of its forms.
        let logs = Run {
            stdout: String::new(),
            ..run.clone()
        };
        assert_no_token("the provider's logs", &logs);
        let mut lines = run.stdout.lines();
        assert_eq!(lines.next(), Some(r#"{"v":[1]}"#), "the hello comes first");
        let answer = serde_json::from_str(lines.next().expect("an answer line")).unwrap();
        assert_eq!(lines.next(), None, "one answer per request");
        (run, answer)
    }
}

fn assert_no_token(what: &str, run: &Run) {
    let output = run.all_output();
    for form in forms_for(TOKEN, &[]) {
        assert!(
            !output.contains(&form),
            "{what} printed the token (as {form:?}):\n{output}"
        );
    }
}

fn assert_ok(what: &str, run: &Run) {
    assert_eq!(run.code, 0, "{what} failed:\n{}{}", run.stdout, run.stderr);
}

/// The `Authorization` values of the requests nginx answered with `status`.
fn authorizations(recorded: &str, status: &str) -> Vec<String> {
    recorded
        .lines()
        .filter(|line| line.split('\t').nth(2) == Some(status))
        .filter_map(|line| line.split('\t').nth(3))
        .map(|field| field.trim_start_matches("authorization=").to_owned())
        .collect()
}

#[test]
fn cargo_resolves_and_fetches_from_a_private_registry_with_the_token_auth_holds() {
    let world = World::new();
    assert_ok(
        "auth login",
        &world.auth(&["login", &world.registry.host(), "--token", TOKEN]),
    );
    assert_ok(
        "cargo generate-lockfile",
        &world.cargo(&["generate-lockfile"], None),
    );
    let lock = std::fs::read_to_string(world.project.join("Cargo.lock")).unwrap();
    assert!(
        lock.contains("name = \"foo\"\nversion = \"0.1.0\"\nsource = \"sparse+http://127.0.0.1:"),
        "{lock}"
    );
    assert_ok("cargo fetch", &world.cargo(&["fetch"], None));
    let cache = world.cargo_home.join("registry").join("cache");
    let fetched: Vec<PathBuf> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|dir| dir.unwrap().path().join("foo-0.1.0.crate"))
        .filter(|file| file.is_file())
        .collect();
    assert_eq!(fetched.len(), 1, "foo-0.1.0.crate in {}", cache.display());

    // What reached the registry: every answered request carried the token as cargo sends it,
    // the download among them.
    let recorded = world.registry.recorded();
    let ok = authorizations(&recorded, "200");
    assert!(!ok.is_empty(), "{recorded}");
    assert!(ok.iter().all(|value| value == TOKEN), "{recorded}");
    assert!(
        recorded.contains("GET\t/api/v1/crates/foo/0.1.0/download\t200\tauthorization="),
        "{recorded}"
    );
}

#[test]
fn cargo_login_and_logout_store_and_remove_through_auth() {
    let world = World::new();
    let login = world.cargo(
        &["login", "--registry", "private"],
        Some(&format!("{TOKEN}\n")),
    );
    assert_ok("cargo login", &login);
    // The read-only env store never takes a write, so it is not worth a warning (as with
    // `auth login`); the missing keyring and the plain-text fallback are.
    assert!(
        !login.stderr.contains("read-only"),
        "{}",
        world.sandbox.show(&login)
    );
    assert!(
        login.stderr.contains("saved in plain text"),
        "{}",
        world.sandbox.show(&login)
    );
    // Stored by us, in the store `auth login` chooses (the file, with no keyring here), and not
    // in cargo's own credentials.toml.
    let status = world.auth(&["status"]);
    assert!(
        status.stdout.contains(&world.registry.host()),
        "{}",
        world.sandbox.show(&status)
    );
    let file = std::fs::read_to_string(world.sandbox.default_file()).unwrap();
    assert!(
        file.contains(&format!("\"{}\"", world.registry.host())) && file.contains("BearerToken"),
        "{file}"
    );
    assert!(!world.cargo_home.join("credentials.toml").exists());

    assert_ok(
        "cargo generate-lockfile",
        &world.cargo(&["generate-lockfile"], None),
    );
    assert!(
        authorizations(&world.registry.recorded(), "200")
            .iter()
            .all(|value| value == TOKEN)
    );

    assert_ok(
        "cargo logout",
        &world.cargo(&["logout", "--registry", "private"], None),
    );
    let status = world.auth(&["status"]);
    assert!(
        !status.stdout.contains(&world.registry.host()),
        "{}",
        world.sandbox.show(&status)
    );
}

#[test]
fn without_a_login_cargo_says_to_log_in_with_auth_and_sends_nothing() {
    let world = World::new();
    let run = world.cargo(&["generate-lockfile"], None);
    assert_ne!(run.code, 0, "{}", world.sandbox.show(&run));
    let host = world.registry.host();
    let expected = format!(
        "not logged in to {host}; run `auth login {host} --token …` or `cargo login --registry private`"
    );
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
    let recorded = world.registry.recorded();
    assert!(
        authorizations(&recorded, "401")
            .iter()
            .all(|value| value == "-"),
        "{recorded}"
    );
}

#[test]
fn a_token_for_another_port_of_the_same_host_is_not_sent() {
    let world = World::new();
    assert_ok(
        "auth login",
        &world.auth(&["login", "127.0.0.1:1", "--token", TOKEN]),
    );
    let run = world.cargo(&["generate-lockfile"], None);
    assert_ne!(run.code, 0, "{}", world.sandbox.show(&run));
    let recorded = world.registry.recorded();
    assert!(!recorded.contains(TOKEN), "{recorded}");
}

#[test]
fn look_alike_hosts_and_plain_http_get_no_token_from_the_provider() {
    let world = World::new();
    assert_ok(
        "auth login",
        &world.auth(&["login", "registry.example.com", "--token", TOKEN]),
    );
    // The control: the host itself gets the token, as cargo sends it.
    let (_, answer) = world.provider_get("sparse+https://registry.example.com/index/");
    assert_eq!(
        answer,
        serde_json::json!({"Ok": {"kind": "get", "token": TOKEN, "cache": "session", "operation_independent": true}})
    );
    for look_alike in [
        "sparse+https://registry.example.com.evil.test/index/",
        "sparse+https://evilregistry.example.com/index/",
        "sparse+https://registry.example.co/index/",
    ] {
        let (run, answer) = world.provider_get(look_alike);
        assert_eq!(
            answer,
            serde_json::json!({"Err": {"kind": "not-found"}}),
            "{look_alike}"
        );
        assert!(!run.stdout.contains(TOKEN), "{look_alike}: {}", run.stdout);
    }
    // Plain http to a host that is not loopback: we hold one and say why cargo gets none.
    let (run, answer) = world.provider_get("sparse+http://registry.example.com/index/");
    assert_eq!(answer["Err"]["kind"], "other", "{answer}");
    let message = answer["Err"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("auth will not give cargo the credential for sparse+http://registry.example.com/index/: "),
        "{message}"
    );
    assert!(message.contains("http"), "{message}");
    assert!(!run.stdout.contains(TOKEN), "{}", run.stdout);
}

#[test]
fn oauth_tokens_go_as_bearer_with_their_expiry_and_other_kinds_are_not_cargo_tokens() {
    let world = World::new();
    // An OAuth login far from expiry (no refresh needed), and a Basic login.
    std::fs::create_dir_all(world.sandbox.default_file().parent().unwrap()).unwrap();
    std::fs::write(
        world.sandbox.default_file(),
        serde_json::json!({
            "oauth.example.com": {"OAuth": {
                "access_token": TOKEN,
                "refresh_token": null,
                "expires_at": 4_102_444_800_i64,
                "token_endpoint": "https://oauth.example.com/token",
                "revocation_endpoint": null,
                "client_id": "rattler",
            }},
            "basic.example.com": {"BasicHTTP": {"username": "alice", "password": TOKEN}},
        })
        .to_string(),
    )
    .unwrap();
    let (_, answer) = world.provider_get("sparse+https://oauth.example.com/index/");
    assert_eq!(
        answer,
        serde_json::json!({"Ok": {
            "kind": "get",
            "token": format!("Bearer {TOKEN}"),
            "cache": "expires",
            "expiration": 4_102_444_800_i64,
            "operation_independent": true,
        }})
    );
    let (run, answer) = world.provider_get("sparse+https://basic.example.com/index/");
    assert_eq!(
        answer,
        serde_json::json!({"Err": {"kind": "url-not-supported"}})
    );
    assert!(!run.stdout.contains(TOKEN));
}

#[test]
fn the_provider_outside_cargo_says_what_it_is_for() {
    let world = World::new();
    let run = world.auth(&["helper", "cargo"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains(
            "`auth helper cargo` is cargo's credential provider: cargo runs it with --cargo-plugin"
        ),
        "{}",
        run.stderr
    );
}

/// A config.toml with comments, odd spacing and other keys, the registry table included.
const USER_CONFIG: &str = "# My cargo settings.\n[net]\ngit-fetch-with-cli = true   # behind a proxy\n\n[registry]\ndefault = \"private\" # mine\n\n[registries.private]\nindex = \"sparse+https://cargo.example.com/index/\"\n";

fn config_text(home: &Path) -> String {
    std::fs::read_to_string(home.join("config.toml")).unwrap()
}

#[test]
fn install_and_uninstall_change_only_our_entry_and_dry_run_nothing() {
    let world = World::new();
    // World::new installed once already; start from the user's own file.
    std::fs::write(world.cargo_home.join("config.toml"), USER_CONFIG).unwrap();
    let entry = format!("{} helper cargo", auth_tests::auth_bin().display());

    let dry = world.auth(&["helper", "install", "cargo", "--dry-run"]);
    assert_ok("install --dry-run", &dry);
    assert!(dry.stderr.contains("would be added"), "{}", dry.stderr);
    assert_eq!(config_text(&world.cargo_home), USER_CONFIG);

    let install = world.auth(&["helper", "install", "cargo"]);
    assert_ok("install", &install);
    let shown = world.cargo_home.join("config.toml").display().to_string();
    assert_eq!(
        install.stderr,
        format!(
            "{shown}: \"{entry}\" added to registry.global-credential-providers; cargo now asks auth for registry tokens\n"
        )
    );
    let installed = config_text(&world.cargo_home);
    assert_eq!(
        installed,
        USER_CONFIG.replace(
            "default = \"private\" # mine\n",
            &format!("default = \"private\" # mine\n# Added by `auth helper install cargo`; `auth helper uninstall cargo` removes it.\nglobal-credential-providers = [\"cargo:token\", \"{entry}\"]\n")
        )
    );
    let again = world.auth(&["helper", "install", "cargo"]);
    assert_ok("install again", &again);
    assert!(again.stderr.contains("nothing changed"), "{}", again.stderr);
    assert_eq!(config_text(&world.cargo_home), installed);

    let dry = world.auth(&["helper", "uninstall", "cargo", "--dry-run"]);
    assert_ok("uninstall --dry-run", &dry);
    assert!(dry.stderr.contains("would be removed"), "{}", dry.stderr);
    assert_eq!(config_text(&world.cargo_home), installed);

    let uninstall = world.auth(&["helper", "uninstall", "cargo"]);
    assert_ok("uninstall", &uninstall);
    assert_eq!(
        uninstall.stderr,
        format!("{shown}: \"{entry}\" removed from registry.global-credential-providers\n")
    );
    assert_eq!(config_text(&world.cargo_home), USER_CONFIG);

    let again = world.auth(&["helper", "uninstall", "cargo"]);
    assert_ok("uninstall again", &again);
    assert!(again.stderr.contains("nothing changed"), "{}", again.stderr);
    assert_eq!(config_text(&world.cargo_home), USER_CONFIG);
}

#[test]
fn install_into_a_new_cargo_home_and_back() {
    let mut sandbox = Sandbox::new();
    let fresh = sandbox.home().join("fresh-cargo-home");
    sandbox.env("CARGO_HOME", &fresh);
    let install = sandbox.run(&["helper", "install", "cargo"]);
    assert_ok("install", &install);
    let entry = format!("{} helper cargo", auth_tests::auth_bin().display());
    assert_eq!(
        config_text(&fresh),
        format!(
            "# Added by `auth helper install cargo`; `auth helper uninstall cargo` removes it.\n[registry]\nglobal-credential-providers = [\"cargo:token\", \"{entry}\"]\n"
        )
    );
    let dry = sandbox.run(&["helper", "uninstall", "cargo", "--dry-run"]);
    assert_ok("uninstall --dry-run", &dry);
    assert!(
        dry.stderr.contains("the file would be removed"),
        "{}",
        dry.stderr
    );
    assert!(fresh.join("config.toml").is_file());
    let uninstall = sandbox.run(&["helper", "uninstall", "cargo"]);
    assert_ok("uninstall", &uninstall);
    assert!(
        uninstall
            .stderr
            .contains("it held nothing else, so the file was removed"),
        "{}",
        uninstall.stderr
    );
    // What install created goes: no empty config.toml is left behind.
    assert!(!fresh.join("config.toml").exists());
}
