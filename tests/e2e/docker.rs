//! `auth helper docker` (run as `docker-credential-auth`), the docker credential helper, with
//! the real `skopeo` against a real registry (Debian's `docker-registry` with htpasswd,
//! `peers::Registry`): copy an image in and inspect it with the credential only `auth` holds,
//! `skopeo login --get-login`, nothing for another host; the protocol's get, list, store and
//! erase with the look-alike and plain-http rules; `auth helper install|uninstall docker` on a
//! `config.json` with other keys. Every run is at `AUTH_LOG=trace`, and everything skopeo and
//! `auth` print is searched for every form of the password: stdout holds it only in `get`'s
//! answer.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use auth_tests::peers::{Registry, oci_image};
use auth_tests::{Run, Sandbox, auth_bin};

use crate::leaks::forms_for;

/// The registry's user.
const USER: &str = "dock-user";
/// Its password, with the characters a Basic header, JSON and a URL treat specially.
const PASSWORD: &str = "Reg1stry:p@ss%w/rd+x";
/// The client's answer when we have nothing.
const NOT_FOUND: &str = "credentials not found in native keychain\n";

/// A user logged in to a running registry with `auth login`, `docker-credential-auth` on PATH
/// (a link to the `auth` under test) and skopeo reading only the sandbox's files.
struct World {
    sandbox: Sandbox,
    registry: Registry,
    /// The registry as skopeo and docker name it: `127.0.0.1:PORT`.
    host: String,
}

impl World {
    fn new() -> Self {
        let mut sandbox = Sandbox::new();
        let home = sandbox.home().to_owned();
        let run = home.join("run");
        std::fs::create_dir_all(&run).unwrap();
        sandbox
            .env("AUTH_LOG", "trace")
            .env("XDG_RUNTIME_DIR", &run)
            .env("DOCKER_CONFIG", home.join(".docker"));
        let registry = Registry::start(USER, PASSWORD);
        let host = registry.host();
        let world = Self {
            sandbox,
            registry,
            host,
        };
        let login = world.auth_stdin(
            &["login", &world.host, "--username", USER, "--password", "-"],
            &format!("{PASSWORD}\n"),
        );
        assert_ok("auth login", &login);
        world
    }

    /// Puts a `docker-credential-auth` link to the `auth` under test first on PATH.
    fn link_helper(&mut self) {
        let bin = self.sandbox.home().join("helper-bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(auth_bin(), bin.join("docker-credential-auth")).unwrap();
        self.sandbox.prepend_path(bin);
    }

    fn auth(&self, args: &[&str]) -> Run {
        let run = self.sandbox.run(args);
        assert_no_password(&format!("auth {}", args.join(" ")), &run.all_output());
        run
    }

    fn auth_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let run = self.sandbox.run_with_stdin(args, stdin);
        assert_no_password(&format!("auth {}", args.join(" ")), &run.all_output());
        run
    }

    /// `docker-credential-auth OPERATION` with `stdin`, as docker runs it; its stderr (at
    /// `AUTH_LOG=trace`) is checked for leaks, its stdout is returned for the caller to check.
    fn helper(&self, operation: &str, stdin: &str) -> Run {
        let run = self
            .sandbox
            .run_with_stdin(&["helper", "docker", operation], stdin);
        assert_no_password(&format!("docker-credential-auth {operation}"), &run.stderr);
        run
    }

    /// The real skopeo with the sandbox's environment (HOME, PATH, `XDG_RUNTIME_DIR`,
    /// `DOCKER_CONFIG`, `AUTH_LOG`), checked for leaks.
    fn skopeo(&self, args: &[&str]) -> Run {
        assert!(
            Path::new("/usr/bin/skopeo").is_file(),
            "`skopeo` is not installed, and the docker tests need it as a real peer; run `cargo xtask test` (as root), or install it with: apt-get install -y --no-install-recommends skopeo"
        );
        let template = self.sandbox.command(&[]);
        let mut command = Command::new("/usr/bin/skopeo");
        command.env_clear();
        for (name, value) in template.get_envs() {
            if let Some(value) = value {
                command.env(name, value);
            }
        }
        command
            .args(args)
            .current_dir(self.sandbox.home())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let run = self.sandbox.run_command(command, None);
        assert_no_password(&format!("skopeo {}", args.join(" ")), &run.all_output());
        run
    }

    /// A containers `auth.json` that sends this registry to `docker-credential-auth`.
    fn authfile(&self) -> PathBuf {
        let file = self.sandbox.home().join("auth.json");
        std::fs::write(
            &file,
            format!("{{\"credHelpers\": {{\"{}\": \"auth\"}}}}", self.host),
        )
        .unwrap();
        file
    }

    /// A policy that accepts every image, so that skopeo reads nothing of the machine's.
    fn policy(&self) -> PathBuf {
        let file = self.sandbox.home().join("policy.json");
        std::fs::write(&file, r#"{"default":[{"type":"insecureAcceptAnything"}]}"#).unwrap();
        file
    }

    /// `skopeo copy` of a fresh one-layer image to `docker://HOST/test/img:1`.
    fn push(&self, authfile: &Path) -> Run {
        let layout = oci_image(&self.sandbox.home().join("image"), "v1");
        let policy = self.policy();
        self.skopeo(&[
            "copy",
            "--policy",
            path(&policy),
            "--dest-tls-verify=false",
            "--dest-authfile",
            path(authfile),
            &format!("oci:{}:v1", layout.display()),
            &format!("docker://{}/test/img:1", self.host),
        ])
    }

    fn inspect(&self, authfile: &Path) -> Run {
        self.skopeo(&[
            "inspect",
            "--tls-verify=false",
            "--authfile",
            path(authfile),
            &format!("docker://{}/test/img:1", self.host),
        ])
    }
}

fn path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

fn assert_no_password(what: &str, output: &str) {
    for form in forms_for(PASSWORD, &[USER]) {
        assert!(
            !output.contains(&form),
            "{what} printed the password (as {form:?}):\n{output}"
        );
    }
}

fn assert_ok(what: &str, run: &Run) {
    assert_eq!(run.code, 0, "{what} failed:\n{}{}", run.stdout, run.stderr);
}

/// `get`'s answer for the registry: the one place the password may be printed.
fn answer(server_url: &str) -> String {
    format!(
        "{{\"ServerURL\":\"{server_url}\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}\n"
    )
}

#[test]
fn skopeo_copies_and_inspects_with_the_credential_only_auth_holds() {
    let mut world = World::new();
    world.link_helper();
    let authfile = world.authfile();

    let push = world.push(&authfile);
    assert_ok("skopeo copy", &push);
    assert!(push.stderr.contains("Writing manifest") || push.stdout.contains("Writing manifest"));
    let inspect = world.inspect(&authfile);
    assert_ok("skopeo inspect", &inspect);
    let image: serde_json::Value = serde_json::from_str(&inspect.stdout).unwrap();
    assert_eq!(image["Name"], format!("{}/test/img", world.host));
    assert_eq!(image["RepoTags"], serde_json::json!(["1"]));
    assert!(
        world
            .registry
            .log()
            .contains(&format!("auth.user.name={USER}")),
        "the registry saw requests authenticated as {USER}:\n{}",
        world.registry.log()
    );

    let login = world.skopeo(&[
        "login",
        "--get-login",
        "--authfile",
        path(&authfile),
        &world.host,
    ]);
    assert_ok("skopeo login --get-login", &login);
    assert_eq!(login.stdout, format!("{USER}\n"));
    let other = world.skopeo(&[
        "login",
        "--get-login",
        "--authfile",
        path(&authfile),
        "127.0.0.2:1",
    ]);
    assert_ne!(other.code, 0, "nothing for another host: {other:?}");

    // Without the credential the registry refuses: an auth file that names no helper, and then
    // ours once auth has logged out.
    let empty = world.sandbox.home().join("empty.json");
    std::fs::write(&empty, "{}").unwrap();
    let refused = world.inspect(&empty);
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("unauthorized"),
        "{}",
        refused.stderr
    );
    assert_ok("auth logout", &world.auth(&["logout", &world.host]));
    let refused = world.inspect(&authfile);
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("unauthorized"),
        "{}",
        refused.stderr
    );
}

#[test]
fn get_answers_for_our_registries_only() {
    let world = World::new();
    let host = world.host.as_str();

    // get: the bare host as docker and skopeo send it, and a URL.
    let get = world.helper("get", &format!("{host}\n"));
    assert_ok("get", &get);
    assert_eq!(get.stdout, answer(host));
    let url = format!("https://{host}/v2/");
    assert_eq!(world.helper("get", &url).stdout, answer(&url));
    // Loopback may be plain http (the registry here is).
    let plain = format!("http://{host}");
    assert_eq!(world.helper("get", &plain).stdout, answer(&plain));

    // Another port, another host, a look-alike: not found, exactly as clients match it.
    let port: u16 = host.rsplit_once(':').unwrap().1.parse().unwrap();
    for other in [
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        "127.0.0.2".to_owned(),
        format!("127.0.0.1.evil.example:{port}"),
    ] {
        let run = world.helper("get", &other);
        assert_eq!((run.code, run.stdout.as_str()), (1, NOT_FOUND), "{other}");
    }
    // A non-loopback registry: a look-alike gets nothing, nor does plain http, which the key
    // does not name.
    log_in_elsewhere(&world);
    assert_eq!(
        world.helper("get", "registry.example.org").stdout,
        answer("registry.example.org")
    );
    for other in [
        "registry.example.org.evil.test",
        "evilregistry.example.org",
        "http://registry.example.org",
    ] {
        let run = world.helper("get", other);
        assert_eq!((run.code, run.stdout.as_str()), (1, NOT_FOUND), "{other}");
    }
    // A token is not a registry login: docker would take it for an identity token.
    let token = world.helper("get", "tokens.example.org");
    assert_eq!((token.code, token.stdout.as_str()), (1, NOT_FOUND));
    assert!(
        token.stderr.contains("which docker cannot use"),
        "{}",
        token.stderr
    );
}

/// Logs in to `registry.example.org` with the password and to `tokens.example.org` with a
/// token.
fn log_in_elsewhere(world: &World) {
    let login = world.auth_stdin(
        &[
            "login",
            "registry.example.org",
            "--username",
            USER,
            "--password",
            "-",
        ],
        PASSWORD,
    );
    assert_ok("auth login registry.example.org", &login);
    assert_ok(
        "auth login --token",
        &world.auth(&["login", "tokens.example.org", "--token", "tok-123"]),
    );
}

#[test]
fn list_store_and_erase_through_the_protocol() {
    let world = World::new();
    let host = world.host.as_str();
    log_in_elsewhere(&world);

    // list: registries and user names, never a secret.
    let list = world.helper("list", "");
    assert_ok("list", &list);
    assert_no_password("list's stdout", &list.stdout);
    let listed: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(
        listed,
        serde_json::json!({ host: USER, "registry.example.org": USER })
    );

    // store and erase through the protocol, as `docker login` and `docker logout` do; an
    // identity token comes back as docker gave it.
    let store = world.helper(
        "store",
        r#"{"ServerURL":"https://idp.example.org/v1/","Username":"<token>","Secret":"id-tok-9"}"#,
    );
    assert_ok("store", &store);
    assert_eq!(store.stdout, "");
    // As with `auth login`: the read-only env store is not worth a warning.
    assert!(!store.stderr.contains("read-only"), "{}", store.stderr);
    let get = world.helper("get", "idp.example.org");
    assert_eq!(
        get.stdout,
        "{\"ServerURL\":\"idp.example.org\",\"Username\":\"<token>\",\"Secret\":\"id-tok-9\"}\n"
    );
    let status = world.auth(&["status"]);
    assert!(
        status.stdout.contains("idp.example.org"),
        "{}",
        status.stdout
    );
    assert_ok(
        "erase",
        &world.helper("erase", "https://idp.example.org/v1/"),
    );
    let gone = world.helper("get", "idp.example.org");
    assert_eq!((gone.code, gone.stdout.as_str()), (1, NOT_FOUND));
    let again = world.helper("erase", "idp.example.org");
    assert_eq!((again.code, again.stdout.as_str()), (1, NOT_FOUND));
    // erase leaves what docker did not store: the token login stays.
    let kept = world.helper("erase", "tokens.example.org");
    assert_eq!((kept.code, kept.stdout.as_str()), (1, NOT_FOUND));
    assert!(
        world
            .auth(&["status"])
            .stdout
            .contains("tokens.example.org")
    );

    // A request that breaks the protocol gets one line on stdout and exit 1.
    let bad = world.helper("store", "{not json");
    assert_eq!(bad.code, 1);
    assert!(
        bad.stdout.starts_with("docker sent `store` something"),
        "{}",
        bad.stdout
    );
    let empty = world.helper("get", "");
    assert_eq!(empty.code, 1);
    assert!(
        empty.stdout.starts_with("no credentials server URL"),
        "{}",
        empty.stdout
    );
    let version = world.helper("version", "");
    assert!(version.stdout.starts_with("docker-credential-auth (auth) "));
}

/// The `auth` under test, linked (or copied) into the sandbox, so that the
/// `docker-credential-auth` link install makes beside it is the sandbox's.
fn own_auth(sandbox: &Sandbox) -> PathBuf {
    let bin = sandbox.home().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let exe = bin.join("auth");
    if std::fs::hard_link(auth_bin(), &exe).is_err() {
        std::fs::copy(auth_bin(), &exe).unwrap();
    }
    exe
}

#[test]
fn install_and_uninstall_change_only_our_entries() {
    let mut world = World::new();
    let auth = own_auth(&world.sandbox);
    let bin = auth.parent().unwrap().to_owned();
    world.sandbox.prepend_path(&bin);
    let config = world.sandbox.home().join(".docker").join("config.json");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    // As docker writes it (MarshalIndent with a tab, no newline at the end).
    let before = "{\n\t\"auths\": {\n\t\t\"other.example\": {\n\t\t\t\"auth\": \"b3RoZXI6cHc=\"\n\t\t}\n\t},\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\"\n\t},\n\t\"psFormat\": \"table {{.ID}}\"\n}";
    std::fs::write(&config, before).unwrap();
    let run_own = |args: &[&str]| {
        let command = world.sandbox.command(args);
        let mut own = Command::new(&auth);
        own.env_clear();
        for (name, value) in command.get_envs() {
            if let Some(value) = value {
                own.env(name, value);
            }
        }
        own.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let run = world.sandbox.run_command(own, None);
        assert_no_password(&format!("auth {}", args.join(" ")), &run.all_output());
        run
    };
    let link = bin.join("docker-credential-auth");

    let dry = run_own(&["helper", "install", "docker", "--dry-run"]);
    assert_ok("install --dry-run", &dry);
    assert!(dry.stderr.contains("would be set"), "{}", dry.stderr);
    assert!(
        dry.stderr
            .contains(&format!("would link {}", link.display())),
        "{}",
        dry.stderr
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
    assert!(link.symlink_metadata().is_err(), "a dry run makes no link");

    let install = run_own(&["helper", "install", "docker"]);
    assert_ok("install", &install);
    let after = std::fs::read_to_string(&config).unwrap();
    assert_eq!(
        after,
        before.replace(
            "\"gcr.io\": \"gcloud\"\n",
            &format!(
                "\"gcr.io\": \"gcloud\",\n\t\t\"{}\": \"auth\"\n",
                world.host
            )
        )
    );
    assert_eq!(std::fs::read_link(&link).unwrap(), auth);
    assert!(
        install
            .stderr
            .contains("undo with `auth helper uninstall docker`")
    );
    let twice = run_own(&["helper", "install", "docker"]);
    assert_ok("install again", &twice);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), after);
    assert!(twice.stderr.contains("nothing changed"), "{}", twice.stderr);

    // skopeo finds the helper through what install wrote: $DOCKER_CONFIG/config.json and the
    // link on PATH, no auth file of ours.
    let push = world.push(&config);
    assert_ok("skopeo copy through the installed helper", &push);
    let inspect = world.skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{}/test/img:1", world.host),
    ]);
    assert_ok("skopeo inspect through $DOCKER_CONFIG", &inspect);

    let dry = run_own(&["helper", "uninstall", "docker", "--dry-run"]);
    assert_ok("uninstall --dry-run", &dry);
    assert!(dry.stderr.contains("would be removed"), "{}", dry.stderr);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), after);
    assert!(link.is_symlink());

    let uninstall = run_own(&["helper", "uninstall", "docker"]);
    assert_ok("uninstall", &uninstall);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
    assert!(link.symlink_metadata().is_err(), "the link is gone");
    let again = run_own(&["helper", "uninstall", "docker"]);
    assert_ok("uninstall again", &again);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
}
