//! Integration tests of `EnvStore` through its public API and the `CredentialStore` trait: the
//! naming table, conflicts and problems, read-only writes in a chain, and property tests.

mod chain;
mod naming;
mod properties;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use auth_core::{Authentication, CredentialStore, Secret};
use auth_store_env::EnvStore;

/// A store made from these variables.
fn store(vars: &[(&str, &str)]) -> EnvStore {
    EnvStore::from_vars(&map(vars))
}

fn map(vars: &[(&str, &str)]) -> BTreeMap<String, Secret> {
    vars.iter()
        .map(|(name, value)| ((*name).to_owned(), Secret::from(*value)))
        .collect()
}

/// Every entry (`key kind [user] <- VARIABLES`) and every problem (`! VARIABLE: reason`), one a
/// line, sorted: what the store made of the variables, values shown only where a test asks.
fn render(store: &EnvStore) -> String {
    let mut rows: Vec<String> = store
        .list()
        .unwrap()
        .iter()
        .map(|credential| {
            let user = match &credential.auth {
                Authentication::BasicHTTP { username, .. } => format!(" ({username})"),
                _ => String::new(),
            };
            format!(
                "{} {}{user} <- {}",
                credential.key,
                credential.auth.kind(),
                store.sources(&credential.key).unwrap().join(" ")
            )
        })
        .collect();
    rows.sort();
    let mut out = rows.join("\n");
    for problem in store.problems() {
        let _ = write!(out, "\n! {}: {}", problem.variable, problem.reason);
    }
    out
}
