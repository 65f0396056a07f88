//! Real network peers for the end-to-end tests (see `tests/README.md`): nginx demanding
//! credentials, an S3 server that checks SigV4, the Python `keyring` CLI, and an `OpenID` Connect
//! provider.
//!
//! Each peer runs on 127.0.0.1 on a port of its own, is started by the test that needs it and is
//! stopped (by its PID, or by shutting its runtime down) when its handle is dropped. A peer that
//! cannot start fails the test with a message that says what to install: `cargo xtask test`
//! installs every one of them. None of them is ever skipped. Every wait on one (to start, to
//! answer, to stop) has a deadline ([`mod@crate::deadline`]): a peer that hangs fails the test.

pub mod cargo_registry;
pub mod git;
mod http;
pub mod moto;
mod nginx;
pub mod oidc;
mod pykeyring;
pub mod registry;
mod s3;

use std::path::{Path, PathBuf};

pub use cargo_registry::CargoRegistry;
pub use git::GitHttp;
pub use http::{Response, http_get, http_request, https_get};
pub use moto::Moto;
pub use nginx::{Nginx, NginxBuilder, Server, htpasswd};
pub use oidc::{Oidc, OidcOptions};
pub use pykeyring::PyKeyring;
pub use registry::{Registry, oci_image};
pub use s3::S3;

/// What to run when a peer is missing.
const INSTALL_ALL: &str = "run `cargo xtask test`, which installs every peer of the tests";

/// Writes `files` (relative path, contents) under `root`, making the directories on the way, and
/// returns `root`: a document root for [`Nginx`] (`simple/index.html`, `pkg/file.bin`, ...).
///
/// # Panics
/// When a file cannot be written.
pub fn write_files(root: &Path, files: &[(&str, &[u8])]) -> PathBuf {
    std::fs::create_dir_all(root).expect("a document root");
    for (name, contents) in files {
        let path = root.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("the directories of a served file");
        }
        std::fs::write(&path, contents).expect("a served file");
    }
    root.to_owned()
}

/// The path of a system program: on PATH, or in `/usr/sbin` and `/sbin`, where Debian puts
/// daemons such as nginx and where a non-root PATH often does not look.
///
/// # Panics
/// When the program is nowhere: the message names the Debian package that provides it.
#[allow(
    clippy::disallowed_methods,
    reason = "the harness finds the peers' programs on the developer's PATH"
)]
pub(crate) fn system_program(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not installed, and the tests need it as a real peer; {INSTALL_ALL} \
                 (as root), or install it with: apt-get install -y --no-install-recommends {package}"
            )
        })
}

/// The directories where `cargo xtask test` may have put `peers/`: `CARGO_TARGET_DIR`, the
/// workspace's `target/`, and the target directory this test binary was built in.
#[allow(
    clippy::disallowed_methods,
    reason = "the peers live in the developer's CARGO_TARGET_DIR, if set"
)]
pub(crate) fn target_dirs() -> Vec<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace");
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|dir| !dir.is_empty()) {
        dirs.push(workspace.join(dir));
    }
    dirs.push(workspace.join("target"));
    // target/[<triple>/]<profile>/deps/<test binary>
    if let Ok(exe) = std::env::current_exe() {
        dirs.extend(exe.ancestors().skip(3).take(2).map(Path::to_owned));
    }
    let mut seen = Vec::new();
    dirs.retain(|dir| {
        let new = !seen.contains(dir);
        seen.push(dir.clone());
        new
    });
    dirs
}

/// `count` different ports that were free a moment ago on 127.0.0.1, for a server that must bind
/// them itself. Another process may take one in between: callers retry on "Address already in
/// use".
pub(crate) fn free_ports(count: usize) -> Vec<u16> {
    // All bound at once, so that the kernel cannot hand out one port twice.
    let listeners: Vec<std::net::TcpListener> = (0..count)
        .map(|_| std::net::TcpListener::bind(("127.0.0.1", 0)).expect("a free port on 127.0.0.1"))
        .collect();
    listeners
        .iter()
        .map(|listener| listener.local_addr().expect("a bound port").port())
        .collect()
}
