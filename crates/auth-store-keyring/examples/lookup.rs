//! One keyring lookup as a whole process, for measuring the read path against `secret-tool
//! lookup` (docs/performance.md): `lookup direct URL` reads as `auth` does, `lookup core URL`
//! through `keyring-core` only, as every read went before the direct path. Prints the key found
//! and the credential's kind, never its secret.

use std::time::Duration;

use auth_core::{CredentialStore as _, UrlTarget};
use auth_store_keyring::{KeyringOptions, KeyringStore};

#[allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the answer is what the measurement checks"
)]
fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(url)) = (args.next(), args.next()) else {
        eprintln!("usage: lookup direct|core URL");
        std::process::exit(2);
    };
    let options = KeyringOptions {
        timeout: Duration::from_secs(5),
        ..KeyringOptions::default()
    };
    let store = match path.as_str() {
        "direct" => KeyringStore::new(options),
        "core" => {
            let core = zbus_secret_service_keyring_store::Store::new()
                .unwrap_or_else(|err| panic!("cannot open keyring-core's store: {err}"));
            KeyringStore::with_store(core, options)
        }
        other => panic!("unknown path {other}: direct or core"),
    };
    let target = UrlTarget::parse(&url).unwrap_or_else(|err| panic!("{url}: {err}"));
    match store.find(&target) {
        Ok(Some(found)) => println!("{} {}", found.key, found.auth.kind()),
        Ok(None) => println!("nothing"),
        Err(err) => println!("error: {err}"),
    }
}
