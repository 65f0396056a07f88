//! Credentials from environment variables as a read-only `CredentialStore` named `env`.
//!
//! The store reads no environment itself: [`EnvStore::from_vars`] takes the variables as a map,
//! which the binary fills from the process once (and a test fills by hand). The names follow
//! what users of other tools already write:
//!
//! | Variable | Credential | Key |
//! |---|---|---|
//! | `TF_TOKEN_<host>` (Terraform) | Bearer token | the host |
//! | `AUTH_TOKEN_<host>` | Bearer token | the host |
//! | `AUTH_CONDA_TOKEN_<host>` | conda token (`/t/TOKEN/`) | the host |
//! | `AUTH_USERNAME_<host>` + `AUTH_PASSWORD_<host>` | Basic (RFC 7617) | the host |
//! | `UV_INDEX_<NAME>_USERNAME` + `_PASSWORD` (uv) | Basic | the URL of `NAME` in `UV_INDEX` / `UV_DEFAULT_INDEX` |
//! | `CARGO_REGISTRIES_<NAME>_TOKEN` (cargo) | the token as cargo sends it | the host of `CARGO_REGISTRIES_<NAME>_INDEX` |
//! | `GH_TOKEN`, else `GITHUB_TOKEN` (gh) | Bearer token (RFC 6750) | `github.com`, `api.github.com`, `uploads.github.com`, `*.ghe.com` |
//! | `GH_ENTERPRISE_TOKEN`, else `GITHUB_ENTERPRISE_TOKEN` (gh) | Bearer token | `GH_HOST` |
//!
//! `<host>` is Terraform's encoding (`.` as `_`, `-` as `__`, any case), with a leading `_` for
//! `*.` and a final `_NUMBER` for a port ([`decode_host`]). Every entry remembers the variables
//! it came from ([`EnvStore::sources`]), so a message can name the variable, never the value; a
//! variable that gives no credential is a [`Problem`], never an error that stops a lookup.
//!
//! ```
//! use std::collections::BTreeMap;
//! use auth_core::{Authentication, CredentialStore, HostKey, Secret, UrlTarget};
//! use auth_store_env::EnvStore;
//!
//! let mut vars = BTreeMap::new();
//! vars.insert("TF_TOKEN_app_terraform_io".to_owned(), Secret::from("t0ken\n"));
//! let store = EnvStore::from_vars(&vars);
//! let target = UrlTarget::parse("https://app.terraform.io/api/v2").unwrap();
//! let found = store.find(&target).unwrap().unwrap();
//! assert_eq!(found.auth, Authentication::BearerToken(Secret::from("t0ken")));
//! let key = HostKey::parse("app.terraform.io").unwrap();
//! assert_eq!(store.sources(&key).unwrap(), ["TF_TOKEN_app_terraform_io"]);
//! ```

mod names;
mod store;

pub use names::{EncodedHost, NameError, decode_host, encode_host};
pub use store::{EnvStore, LOCATION, NAMES, PREFIXES, Problem};
