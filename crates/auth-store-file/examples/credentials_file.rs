//! Read and write a rattler/pixi credentials file: `list`, `set-token HOST`, `remove HOST`.
//!
//! ```sh
//! cargo run -p auth-store-file --example credentials_file -- /tmp/c.json set-token prefix.dev
//! cargo run -p auth-store-file --example credentials_file -- /tmp/c.json list
//! ```
//!
//! The token of `set-token` is read from standard input, so it stays out of the shell history.

#![allow(
    clippy::print_stdout,
    reason = "an example program: its output is the point"
)]

use std::io::BufRead as _;

use auth_core::{Authentication, CredentialStore, HostKey, Secret};
use auth_store_file::FileStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, command) = match args.as_slice() {
        [path, rest @ ..] if !rest.is_empty() => (path, rest),
        _ => return Err("usage: credentials_file FILE list | set-token HOST | remove HOST".into()),
    };
    // A file that does not parse is refused here, with its line and column, and never written.
    let store = FileStore::open(path)?;
    match command {
        [list] if list == "list" => {
            for credential in store.list()? {
                // The key and the kind only: a `Secret` is never printed.
                println!("{}\t{}", credential.key, credential.auth.kind());
            }
        }
        [set, host] if set == "set-token" => {
            let key = HostKey::for_login(host)?;
            let mut token = String::new();
            std::io::stdin().lock().read_line(&mut token)?;
            let auth = Authentication::BearerToken(Secret::new(token.trim().to_owned()));
            auth.validate()?;
            store.set(&key, &auth)?;
            println!("stored a token for {key}");
        }
        [remove, host] if remove == "remove" => {
            let key = HostKey::for_login(host)?;
            let removed = store.remove(&key)?;
            println!("{}", if removed { "removed" } else { "not stored" });
        }
        _ => return Err("commands: list | set-token HOST | remove HOST".into()),
    }
    Ok(())
}
