//! The published `rattler_networking` crate (the library pixi uses) as a command-line peer, so the
//! end-to-end tests can check what `auth` writes against what rattler reads, and the reverse.
//!
//! It is a separate process because rattler's keyring backend finds the Secret Service through
//! its own process environment (`DBUS_SESSION_BUS_ADDRESS`), which the tests must not change.
//!
//! ```text
//! rattler_peer keyring-store HOST JSON     store an Authentication under service `rattler`
//! rattler_peer keyring-get HOST            print it as JSON, or exit 4 when there is none
//! rattler_peer keyring-list                print every entry of service `rattler` as a JSON map
//! rattler_peer keyring-get-url URL         what rattler's URL lookup (wildcards, s3) finds
//! rattler_peer file-store PATH HOST JSON   the same for rattler's `FileStorage` at PATH
//! rattler_peer file-get PATH HOST
//! rattler_peer file-get-url PATH URL
//! rattler_peer --version           print a line and exit: the start-up of a binary this size
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use rattler_networking::authentication_storage::StorageBackend;
use rattler_networking::authentication_storage::backends::file::FileStorage;
use rattler_networking::authentication_storage::backends::keyring::KeyringAuthenticationStorage;
use rattler_networking::{Authentication, AuthenticationStorage};

/// The exit code for "no credentials", as `auth token` uses it.
const NONE: u8 = 4;

fn main() -> Result<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let keyring = || Arc::new(KeyringAuthenticationStorage::default());
    let file = |path: &str| -> Result<Arc<FileStorage>> {
        Ok(Arc::new(FileStorage::from_path(PathBuf::from(path))?))
    };
    match args.as_slice() {
        ["--version"] => Ok(print_version()),
        ["keyring-store", host, json] => store(&*keyring(), host, json),
        ["keyring-get", host] => print_found(keyring().get(host)?),
        ["keyring-list"] => print_map(keyring().list()?),
        ["keyring-get-url", url] => get_by_url(keyring(), url),
        ["file-store", path, host, json] => store(&*file(path)?, host, json),
        ["file-get", path, host] => print_found(file(path)?.get(host)?),
        ["file-get-url", path, url] => get_by_url(file(path)?, url),
        _ => bail!("unknown arguments {args:?}; see the comment at the top of rattler_peer.rs"),
    }
}

fn store(backend: &dyn StorageBackend, host: &str, json: &str) -> Result<ExitCode> {
    let auth: Authentication =
        serde_json::from_str(json).with_context(|| format!("rattler cannot parse {json}"))?;
    backend.store(host, &auth)?;
    Ok(ExitCode::SUCCESS)
}

/// Looks the URL up as rattler does before a download: the exact host, then `s3://` prefixes,
/// then `*.` wildcards of each parent domain.
fn get_by_url(backend: Arc<dyn StorageBackend + Send + Sync>, url: &str) -> Result<ExitCode> {
    let mut storage = AuthenticationStorage::empty();
    storage.add_backend(backend);
    let (_, found) = storage.get_by_url_with_host(url)?;
    match found {
        Some((key, auth)) => print_map(vec![(key, auth)]),
        None => Ok(ExitCode::from(NONE)),
    }
}

/// What `auth --version` is measured against: a process that links the same libraries and
/// does nothing.
#[allow(clippy::print_stdout, reason = "this peer answers on stdout")]
fn print_version() -> ExitCode {
    println!("rattler_peer {}", env!("CARGO_PKG_VERSION"));
    ExitCode::SUCCESS
}

#[allow(clippy::print_stdout, reason = "this peer answers on stdout")]
fn print_found(found: Option<Authentication>) -> Result<ExitCode> {
    let Some(auth) = found else {
        return Ok(ExitCode::from(NONE));
    };
    println!("{}", serde_json::to_string(&auth)?);
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::print_stdout, reason = "this peer answers on stdout")]
fn print_map(entries: Vec<(String, Authentication)>) -> Result<ExitCode> {
    let map: BTreeMap<String, Authentication> = entries.into_iter().collect();
    println!("{}", serde_json::to_string(&map)?);
    Ok(ExitCode::SUCCESS)
}
