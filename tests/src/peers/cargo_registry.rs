//! A private cargo registry: a sparse index (`config.json` with `"auth-required": true`, index
//! files) and a real `.crate` made by `cargo package`, served by a real nginx that answers only
//! requests whose `Authorization` header is the registry's token, and logs every header.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::{Nginx, Server, write_files};
use crate::deadline::output_within;

/// The crate the registry serves: `foo 0.1.0`, with `pub fn answer() -> u32 { 42 }`.
pub const CRATE: &str = "foo";
/// Its version.
pub const VERSION: &str = "0.1.0";

/// A running private registry; dropping it stops its nginx.
#[derive(Debug)]
pub struct CargoRegistry {
    nginx: Nginx,
    server: Server,
}

impl CargoRegistry {
    /// Starts a registry whose index and downloads need `Authorization: <token>` exactly (the
    /// token as `cargo login` takes it: cargo sends it as it is). Anything else gets 401 with
    /// `WWW-Authenticate: Cargo`.
    ///
    /// # Panics
    /// When nginx cannot start or the crate cannot be packaged, or when the token holds a
    /// character nginx's config would read differently (`"`, `\`, `$`, `'`, control
    /// characters).
    pub fn start(token: &str) -> Self {
        assert!(
            !token
                .chars()
                .any(|c| matches!(c, '"' | '\\' | '$' | '\'') || c.is_control()),
            "the registry's token must be one nginx can compare as a quoted string"
        );
        let mut builder = Nginx::builder();
        let root = builder.dir().join("registry");
        let variable = "$peers_cargo_token_ok";
        builder.http(&format!(
            "map $http_authorization {variable} {{\n    default 0;\n    \"{token}\" 1;\n}}"
        ));
        let server = builder.server(&format!(
            "location / {{\n    if ({variable} = 0) {{\n        add_header WWW-Authenticate 'Cargo login_url=\"{{origin.0}}/me\"' always;\n        return 401;\n    }}\n    root \"{}\";\n}}",
            root.display()
        ));
        builder.record(server);
        let nginx = builder.start();
        let origin = nginx.origin(server);
        // nginx reads the files at each request, so they can follow its port.
        let crate_file = packaged_crate();
        let cksum = sha256(crate_file);
        let config = format!(
            "{{\"dl\":\"{origin}/api/v1/crates\",\"api\":\"{origin}\",\"auth-required\":true}}\n"
        );
        let line = format!(
            "{{\"name\":\"{CRATE}\",\"vers\":\"{VERSION}\",\"deps\":[],\"cksum\":\"{cksum}\",\"features\":{{}},\"yanked\":false}}\n"
        );
        let bytes = std::fs::read(crate_file).expect("the packaged crate is readable");
        write_files(
            &root,
            &[
                ("index/config.json", config.as_bytes()),
                ("index/3/f/foo", line.as_bytes()),
                (
                    &format!("api/v1/crates/{CRATE}/{VERSION}/download"),
                    bytes.as_slice(),
                ),
            ],
        );
        Self { nginx, server }
    }

    /// `sparse+http://127.0.0.1:PORT/index/`, the `index` of `[registries.NAME]`.
    pub fn index_url(&self) -> String {
        format!("sparse+{}", self.nginx.url(self.server, "index/"))
    }

    /// `127.0.0.1:PORT`, what `auth login` takes for this registry.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.nginx.port(self.server))
    }

    /// Every request that reached the registry, one line each (see [`Nginx::recorded`]).
    pub fn recorded(&self) -> String {
        self.nginx.recorded(self.server)
    }
}

/// `foo-0.1.0.crate`, packaged once per test process by the cargo running the tests, offline,
/// with a `CARGO_HOME` and target directory of its own.
fn packaged_crate() -> &'static Path {
    static CRATE_FILE: OnceLock<PathBuf> = OnceLock::new();
    CRATE_FILE.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("auth-cargo-crate-")
            .tempdir()
            .expect("a temporary directory")
            .keep();
        let project = write_files(
            &dir.join("foo"),
            &[
                (
                    "Cargo.toml",
                    b"[package]\nname = \"foo\"\nversion = \"0.1.0\"\nedition = \"2021\"\ndescription = \"A crate of the auth tests' private registry.\"\nlicense = \"MIT\"\n",
                ),
                ("src/lib.rs", b"pub fn answer() -> u32 {\n    42\n}\n"),
            ],
        );
        let mut command = cargo_command(&dir.join("cargo-home"));
        command
            .args(["package", "--offline", "--no-verify", "--allow-dirty"])
            .current_dir(&project)
            .env("CARGO_TARGET_DIR", dir.join("target"));
        let output = output_within(&mut command, None, "cargo package of the registry's crate");
        assert!(
            output.status.success(),
            "cargo package failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let file = dir.join("target/package").join(format!("{CRATE}-{VERSION}.crate"));
        assert!(file.is_file(), "cargo package made no {}", file.display());
        file
    })
}

/// The cargo that runs the tests (`CARGO`, the toolchain's own binary rather than rustup's
/// proxy, which would look for its toolchains in the sandbox's HOME), with a clean environment
/// but PATH, and `cargo_home` as its `CARGO_HOME`.
#[allow(
    clippy::disallowed_methods,
    reason = "the real cargo is the one running the tests, and it needs our PATH"
)]
pub fn cargo_command(cargo_home: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.env_clear().env("CARGO_HOME", cargo_home);
    for name in ["PATH", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command
}

/// The SHA-256 of a file in hex, by coreutils' `sha256sum` (what the index's `cksum` holds).
fn sha256(file: &Path) -> String {
    let output = output_within(
        Command::new("sha256sum").arg(file),
        None,
        "sha256sum of the registry's crate",
    );
    assert!(output.status.success(), "sha256sum failed");
    String::from_utf8(output.stdout)
        .expect("sha256sum prints hex")
        .split_whitespace()
        .next()
        .expect("sha256sum prints the hash first")
        .to_owned()
}
