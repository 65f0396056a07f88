//! `cargo xtask`: the project's automation (tests, CI, benchmarks, the demo, generated docs),
//! written in Rust so it runs wherever cargo does. See `cargo xtask help`.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line tool: what it runs goes to stderr, results to stdout"
)]

mod cmd;
mod codegen;
mod demo;
mod dist;
mod features;
mod fuzz;
mod public_api;
mod symbol_order;
mod unsafe_allowance;

use std::fmt;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{Context as _, Result, bail};

use crate::cmd::cargo;

const HELP: &str = "\
Usage: cargo xtask <TASK>

Tasks:
  test             Install the tests' peers, build the binaries, then run every test of the workspace
  peers            Only install the real components the tests talk to (apt as root, venvs, npm)
  lint             fmt --check, clippy -D warnings, codegen --check, `cargo doc` -D warnings,
                   public-api --check, and `cargo deny check`
                   (licenses, bans, sources; cargo-deny is installed into target/tools once)
  ci               What CI runs: lint, then test
  bench [--quick] [-- ARGS]  Build the release `auth`, then run every benchmark; ARGS go to
                   `cargo bench`; --quick runs each one briefly
                   (e.g. `cargo xtask bench -- --bench status`)
  fuzz --minutes N [--cases N]
                   Run the proptest properties (tests named `*prop*`) for N minutes, each round
                   with a new seed and N cases per property (default 10000)
  demo             Log in, list, look up and log out with the real `auth` in a temporary HOME
  codegen [--check]
                   Regenerate docs/cli.md from `auth --help` and every subcommand's, and the man
                   pages in docs/man; --check fails if any is stale
  dist [--check] [--profile NAME]
                   Build the release `auth` and target/dist/auth-VERSION-TARGET.tar.gz (binary,
                   completions, man pages, README, licenses, SHA256SUMS) with its SHA256SUMS;
                   --check builds it again from nothing and fails unless the archives are equal;
                   --profile builds with another cargo profile into target/dist/NAME (CI checks
                   reproducibility with `repro-check`, the release profile without LTO)
  features         Clippy -D warnings on each feature combination offered downstream
                   (auth-chain with no default features and each feature alone, auth-s3 with
                   and without `chain`)
  symbol-order     Profile the release `auth` under valgrind and write
                   crates/auth-cli/symbol-order.txt, the functions its per-operation commands run,
                   which the linker places together (docs/performance.md); rerun after a
                   dependency or toolchain update
  public-api [--check]
                   Write each library crate's public API to crates/<crate>/public-api.txt
                   (from rustdoc's JSON); --check fails if one changed
  help             Print this list";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let Some((task, rest)) = args.split_first() else {
        println!("{HELP}");
        return Ok(());
    };
    match task.as_str() {
        "help" | "--help" | "-h" => {
            no_arguments(task, rest)?;
            println!("{HELP}");
            Ok(())
        }
        "test" => {
            no_arguments(task, rest)?;
            test().map(|_| ())
        }
        "ci" => {
            no_arguments(task, rest)?;
            ci()
        }
        "public-api" => match rest {
            [] => public_api::run(public_api::Mode::Write),
            [flag] if flag == "--check" => public_api::run(public_api::Mode::Check),
            _ => bail!(
                "`cargo xtask public-api` takes only `--check`, not `{}`",
                rest.join(" ")
            ),
        },
        "peers" => {
            no_arguments(task, rest)?;
            install_peers()
        }
        "features" => {
            no_arguments(task, rest)?;
            features::run()
        }
        "lint" => {
            no_arguments(task, rest)?;
            lint()
        }
        "bench" => bench(rest),
        "fuzz" => fuzz::run(fuzz::parse(rest)?, seed_from_clock()),
        "demo" => {
            no_arguments(task, rest)?;
            demo::run()
        }
        "dist" => dist::run(dist::parse(rest)?),
        "symbol-order" => match rest {
            [] => symbol_order::run(),
            _ => bail!("`cargo xtask symbol-order` takes no arguments"),
        },
        "codegen" => match rest {
            [] => codegen::run(codegen::Mode::Write),
            [flag] if flag == "--check" => codegen::run(codegen::Mode::Check),
            _ => bail!(
                "`cargo xtask codegen` takes only `--check`, not `{}`",
                rest.join(" ")
            ),
        },
        other => bail!("unknown task `{other}`\n\n{HELP}"),
    }
}

fn no_arguments(task: &str, rest: &[String]) -> Result<()> {
    if !rest.is_empty() {
        bail!(
            "`cargo xtask {task}` takes no arguments, not `{}`",
            rest.join(" ")
        );
    }
    Ok(())
}

/// Every test, on a fresh machine: the e2e tests run `<target>/debug/auth`, so build it first.
/// Ends with one line adding up every test binary's `test result:` line.
fn test() -> Result<TestCounts> {
    install_peers()?;
    cmd::run(cargo().args(["build", "--workspace", "--bins"]))?;
    let mut counts = TestCounts::default();
    let result = cmd::run_watching(
        cargo().args(["test", "--workspace", "--no-fail-fast"]),
        |line| counts.add(line),
    );
    println!("{counts}");
    result.map(|()| counts)
}

/// The tests of a whole `cargo test` run, from the `test result:` line of each test binary.
#[derive(Debug, Default, Clone, Copy)]
struct TestCounts {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl TestCounts {
    /// Adds `test result: ok. 14 passed; 0 failed; 0 ignored; 0 measured; ...`; ignores other lines.
    fn add(&mut self, line: &str) {
        let Some(result) = line.strip_prefix("test result: ") else {
            return;
        };
        for part in result.split([';', '.']) {
            let mut words = part.split_whitespace();
            let (Some(number), Some(kind)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(number) = number.parse::<u64>() else {
                continue;
            };
            match kind {
                "passed" => self.passed += number,
                "failed" => self.failed += number,
                "ignored" => self.ignored += number,
                _ => {}
            }
        }
    }
}

impl fmt::Display for TestCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            passed,
            failed,
            ignored,
        } = self;
        write!(
            f,
            "tests: {passed} passed, {failed} failed, {ignored} skipped"
        )
    }
}

/// The Debian packages the tests' real components come from, and a command each provides.
const PEER_PACKAGES: &[(&str, &str)] = &[
    // The Secret Service: gnome-keyring on a private session bus, and the tools that read it.
    ("gnome-keyring", "gnome-keyring-daemon"),
    ("dbus", "dbus-run-session"),
    ("dbus-x11", "dbus-launch"),
    ("libsecret-tools", "secret-tool"),
    // HTTP servers that demand credentials (`peers::Nginx`), their password files, and the
    // self-signed certificate of their TLS servers.
    ("nginx", "nginx"),
    ("apache2-utils", "htpasswd"),
    ("openssl", "openssl"),
    // The venv of the Python `keyring` CLI (`peers::PyKeyring`); Debian's python3 needs
    // python3-venv for `python3 -m venv`.
    ("python3", "python3"),
    // The test "browser" and device-page user of the OpenID Connect provider (`peers::Oidc`).
    ("curl", "curl"),
    // git over smart HTTP behind nginx (`peers::GitHttp`): git's own http-backend through fcgiwrap.
    ("git", "git"),
    ("fcgiwrap", "fcgiwrap"),
    // An OCI registry with htpasswd auth and the client that copies images into it
    // (`peers::Registry`).
    ("docker-registry", "docker-registry"),
    ("skopeo", "skopeo"),
];

/// The Python packages of the `keyring` CLI peer, installed into `<target>/peers/pyvenv`.
const PEER_PYTHON_PACKAGES: &[&str] = &["keyring", "keyrings.alt"];

/// moto, the local AWS emulator (STS, S3, SSO, instance metadata), installed into
/// `<target>/peers/motovenv` (`peers::Moto`).
const MOTO_PYTHON_PACKAGES: &[&str] = &["moto[server]==5.2.5"];

/// Installs the real components the tests talk to, each only when missing, so a second run is
/// quick. As root it installs them; otherwise it fails and prints the command to run.
fn install_peers() -> Result<()> {
    install_debian_packages()?;
    install_python_keyring()?;
    install_moto()?;
    install_oidc_provider()
}

/// The Debian packages of [`PEER_PACKAGES`] whose command is missing.
fn install_debian_packages() -> Result<()> {
    let mut missing: Vec<&str> = PEER_PACKAGES
        .iter()
        .filter(|(_, command)| !on_path(command))
        .map(|(package, _)| *package)
        .collect();
    if missing.contains(&"python3") {
        missing.push("python3-venv");
    }
    if missing.is_empty() {
        return Ok(());
    }
    let install = format!(
        "apt-get install -y --no-install-recommends {}",
        missing.join(" ")
    );
    let is_root = cmd::stdout_of(Command::new("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0");
    if !is_root {
        bail!(
            "the tests need {} (real components, never fakes); install them with: sudo {install}",
            missing.join(", ")
        );
    }
    cmd::run(
        Command::new("apt-get")
            .args(["update", "-qq"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    cmd::run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// The Python `keyring` CLI with the `keyrings.alt` backends in a venv of the build tree, where
/// `peers::PyKeyring` looks for it. Skipped when the venv's `keyring` exists.
fn install_python_keyring() -> Result<()> {
    let venv = target_dir().join("peers").join("pyvenv");
    if venv.join("bin").join("keyring").is_file() {
        return Ok(());
    }
    cmd::run(Command::new("python3").args(["-m", "venv"]).arg(&venv)).context(
        "could not make the venv of the Python `keyring` CLI; on Debian install python3-venv",
    )?;
    // The machine's PIP_FIND_LINKS and PIP_CERT are not the project's: the install must work
    // the same without them.
    cmd::run(
        Command::new(venv.join("bin").join("pip"))
            .args(["install", "--disable-pip-version-check", "-q"])
            .args(PEER_PYTHON_PACKAGES)
            .env_remove("PIP_FIND_LINKS")
            .env_remove("PIP_CERT"),
    )
}

/// moto's server in a venv of the build tree, where `peers::Moto` looks for it. Skipped when
/// the venv's `moto_server` exists.
fn install_moto() -> Result<()> {
    let venv = target_dir().join("peers").join("motovenv");
    if venv.join("bin").join("moto_server").is_file() {
        return Ok(());
    }
    cmd::run(Command::new("python3").args(["-m", "venv"]).arg(&venv))
        .context("could not make the venv of moto; on Debian install python3-venv")?;
    cmd::run(
        Command::new(venv.join("bin").join("pip"))
            .args(["install", "--disable-pip-version-check", "-q"])
            .args(MOTO_PYTHON_PACKAGES)
            .env_remove("PIP_FIND_LINKS")
            .env_remove("PIP_CERT"),
    )
}

/// The npm package of the OpenID Connect provider peer (`peers::Oidc`).
const PEER_NPM_PACKAGE: &str = "oidc-provider@9";

/// The OpenID Connect provider (npm `oidc-provider`) in `<target>/peers/oidc`, where
/// `peers::Oidc` looks for it. Skipped when the package is there. It needs Node.js 20 or later
/// and npm, which are not Debian packages here: Debian's own node may be too old.
fn install_oidc_provider() -> Result<()> {
    let prefix = target_dir().join("peers").join("oidc");
    if prefix
        .join("node_modules")
        .join("oidc-provider")
        .join("package.json")
        .is_file()
    {
        return Ok(());
    }
    cmd::run(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg(PEER_NPM_PACKAGE),
    )
    .context(
        "could not install the OpenID Connect provider of the tests; it needs Node.js 20 or later \
         and npm on PATH (https://nodejs.org)",
    )
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set (relative to the current directory,
/// as cargo reads it), else `<workspace>/target`.
#[allow(
    clippy::disallowed_methods,
    reason = "xtask follows the developer's CARGO_TARGET_DIR, as cargo does"
)]
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|dir| !dir.is_empty()) {
        Some(dir) => std::env::current_dir()
            .unwrap_or_else(|_| cmd::root().to_owned())
            .join(dir),
        None => cmd::root().join("target"),
    }
}

/// Whether a command is on PATH, or in the system directories (`/usr/sbin`, `/sbin`) that a
/// user's PATH may lack but where Debian puts daemons such as nginx.
#[allow(
    clippy::disallowed_methods,
    reason = "xtask looks up tools on the developer's PATH"
)]
fn on_path(command: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .any(|dir| dir.join(command).is_file())
}

/// Everything CI checks: `lint`, then `test` (`.ci/run` calls the two in that order).
fn ci() -> Result<()> {
    lint()?;
    dist::run(dist::Args {
        mode: dist::Mode::Check,
        profile: "repro-check".to_owned(),
    })?;
    let counts = test()?;
    eprintln!("ci: all checks passed");
    // Last, so the log closes on the test count.
    println!("{counts}");
    Ok(())
}

/// Formatting, lints, generated files and dependency policy: the checks that are not tests.
fn lint() -> Result<()> {
    cmd::run(cargo().args(["fmt", "--all", "--check"]))?;
    cmd::run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    features::run()?;
    unsafe_allowance::run()?;
    codegen::run(codegen::Mode::Check)?;
    public_api::docs()?;
    public_api::run(public_api::Mode::Check)?;
    // Every publishable crate packages (metadata, versions on path dependencies, its README).
    // `--no-verify`: building each crate again from its package was not measured to fit in lint.
    cmd::run(cargo().args([
        "package",
        "--workspace",
        "--exclude",
        "auth-tests",
        "--exclude",
        "xtask",
        "--allow-dirty",
        "--no-verify",
    ]))?;
    cargo_deny()
}

/// The cargo-deny release whose checks `deny.toml` is written for.
const CARGO_DENY_VERSION: &str = "0.20.2";

/// `cargo deny check licenses bans sources` (deny.toml), with cargo-deny installed under
/// `<target>/tools` on the first run, so a rerun is quick and nothing goes outside the build tree.
fn cargo_deny() -> Result<()> {
    let tools = target_dir().join("tools");
    let deny = tools
        .join("bin")
        .join(format!("cargo-deny{}", std::env::consts::EXE_SUFFIX));
    if !deny.is_file() {
        cmd::run(
            cargo()
                .args(["install", "--locked", "cargo-deny", "--version"])
                .arg(CARGO_DENY_VERSION)
                .arg("--root")
                .arg(&tools),
        )
        .context("could not install cargo-deny, which `cargo xtask lint` runs")?;
    }
    cmd::run(Command::new(&deny).current_dir(cmd::root()).args([
        "check",
        "--hide-inclusion-graph",
        "licenses",
        "bans",
        "sources",
    ]))?;
    // Not skipped silently: `advisories` clones the RustSec database from GitHub, which the
    // project's machines cannot reach.
    eprintln!(
        "note: not run: `cargo deny check advisories` needs the RustSec advisory database from \
         GitHub, which this machine cannot reach; run it where the network allows"
    );
    Ok(())
}

/// A seed for `fuzz` that differs from run to run: the clock's nanoseconds.
#[allow(
    clippy::disallowed_methods,
    reason = "xtask is a developer tool, not part of `auth`: any seed will do, so the clock's"
)]
fn seed_from_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_nanos() % u128::from(u64::MAX)).unwrap_or(0)
        })
}

/// Every benchmark. `token_process` times the release `auth` binary against the release
/// `rattler_peer` example and `secret-tool`, so build both first; `fetch` downloads from nginx
/// and `token_process` asks a real gnome-keyring, so install the peers. `--quick` runs each
/// benchmark briefly (criterion's `--quick`, fewer rounds in `token_process`'s summary).
fn bench(args: &[String]) -> Result<()> {
    let (quick, args) = match args.split_first() {
        Some((first, rest)) if first == "--quick" => (true, rest),
        _ => (false, args),
    };
    let extra = match args.split_first() {
        Some((first, rest)) if first == "--" => rest,
        _ => args,
    };
    install_peers()?;
    cmd::run(cargo().args(["build", "--release", "-p", "auth-cli"]))?;
    cmd::run(cargo().args([
        "build",
        "--release",
        "-p",
        "auth-tests",
        "--example",
        "rattler_peer",
    ]))?;
    let mut bench = cargo();
    bench.args(["bench", "--workspace"]).args(extra);
    if quick {
        bench.env("AUTH_BENCH_QUICK", "1");
        // Only the criterion benches take `--quick`; libtest's bench harness of the library
        // targets would refuse it.
        if extra.is_empty() {
            bench.args(["--bench", "*", "--", "--quick"]);
        }
    }
    cmd::run(&mut bench)
}
