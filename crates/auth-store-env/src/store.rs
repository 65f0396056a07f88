//! `EnvStore`: the credentials that environment variables give, built once from a map of the
//! variables, each entry remembering the variables it came from.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use auth_core::{
    Authentication, Credential, CredentialIndex, CredentialStore, HostKey, HostSpec, Secret,
    StoreError, UrlTarget, redact_url,
};

use crate::names::{NameError, decode_host};

/// What [`CredentialStore::location`] says for this store.
pub const LOCATION: &str = "environment variables";

/// The prefixes of the variable names this store reads. A caller that filters the process
/// environment before [`EnvStore::from_vars`] keeps every variable with one of these prefixes
/// or one of [`NAMES`].
pub const PREFIXES: [&str; 7] = [
    "AUTH_TOKEN_",
    "AUTH_CONDA_TOKEN_",
    "AUTH_USERNAME_",
    "AUTH_PASSWORD_",
    "TF_TOKEN_",
    "UV_INDEX_",
    "CARGO_REGISTRIES_",
];

/// The whole variable names this store reads.
pub const NAMES: [&str; 7] = [
    "UV_INDEX",
    "UV_DEFAULT_INDEX",
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "GH_ENTERPRISE_TOKEN",
    "GITHUB_ENTERPRISE_TOKEN",
    "GH_HOST",
];

/// The hosts gh sends `GH_TOKEN` to: github.com and its API hosts, and every GitHub Enterprise
/// Cloud tenant under `ghe.com`.
const GITHUB_KEYS: [&str; 4] = [
    "github.com",
    "api.github.com",
    "uploads.github.com",
    "*.ghe.com",
];

/// A variable that gives no credential, and why. Never holds a value: only names and reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The variable (or the first of several) the problem is about.
    pub variable: String,
    /// Why it is not used, in words that say what to change.
    pub reason: String,
}

/// Credentials from environment variables, read-only.
///
/// Lookups, `get` and `list` behave as in any store; `set` and `remove` fail with
/// [`StoreError::ReadOnly`], which makes a chain write to (or remove from) its next store.
#[derive(Debug, Default)]
pub struct EnvStore {
    index: CredentialIndex<Arc<Credential>>,
    /// The variables each canonical key came from.
    sources: HashMap<Box<str>, Vec<String>>,
    problems: Vec<Problem>,
}

/// One credential a family of variables gives, before conflicts are settled.
struct Candidate {
    key: HostKey,
    auth: Authentication,
    variables: Vec<String>,
    /// Lower wins when two families give the same key.
    rank: u8,
}

/// The families, in the order they win a conflict over the same key.
mod rank {
    pub(super) const AUTH_BASIC: u8 = 0;
    pub(super) const AUTH_CONDA: u8 = 1;
    pub(super) const AUTH_TOKEN: u8 = 2;
    pub(super) const TF_TOKEN: u8 = 3;
    pub(super) const UV_INDEX: u8 = 4;
    pub(super) const CARGO: u8 = 5;
    pub(super) const GH_ENTERPRISE: u8 = 6;
    pub(super) const GH: u8 = 7;
}

impl EnvStore {
    /// Reads the credentials out of these variables (name → value). Variables that are not
    /// credentials are ignored; a credential variable whose name does not decode or whose value
    /// cannot be sent is left out and listed in [`EnvStore::problems`].
    pub fn from_vars(vars: &BTreeMap<String, Secret>) -> Self {
        let mut builder = Builder {
            vars,
            candidates: Vec::new(),
            problems: Vec::new(),
        };
        builder.auth_family();
        builder.host_tokens("TF_TOKEN_", rank::TF_TOKEN, Authentication::BearerToken);
        builder.uv();
        builder.cargo();
        builder.github();
        builder.finish()
    }

    /// The variables the entry under this key came from (`["TF_TOKEN_app_terraform_io"]`,
    /// `["AUTH_USERNAME_example_com", "AUTH_PASSWORD_example_com"]`).
    pub fn sources(&self, key: &HostKey) -> Option<&[String]> {
        self.sources
            .get(key.canonical().as_str())
            .map(Vec::as_slice)
    }

    /// The credential variables that were left out, and why.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    fn read_only() -> StoreError {
        StoreError::ReadOnly {
            store: "the env store (environment variables)".to_owned(),
        }
    }
}

impl CredentialStore for EnvStore {
    fn name(&self) -> &'static str {
        "env"
    }

    fn location(&self) -> String {
        LOCATION.to_owned()
    }

    fn describe(&self) -> String {
        "the environment variables".to_owned()
    }

    fn get(&self, key: &HostKey) -> Result<Option<Arc<Credential>>, StoreError> {
        Ok(self.index.get(&key.canonical()).cloned())
    }

    fn find(&self, target: &UrlTarget<'_>) -> Result<Option<Arc<Credential>>, StoreError> {
        Ok(self
            .index
            .find(target)
            .map(|(_, credential)| Arc::clone(credential)))
    }

    fn set(&self, _: &HostKey, _: &Authentication) -> Result<(), StoreError> {
        Err(Self::read_only())
    }

    fn remove(&self, _: &HostKey) -> Result<bool, StoreError> {
        Err(Self::read_only())
    }

    fn list(&self) -> Result<Vec<Arc<Credential>>, StoreError> {
        Ok(self
            .index
            .iter()
            .map(|(_, credential)| Arc::clone(credential))
            .collect())
    }
}

struct Builder<'a> {
    vars: &'a BTreeMap<String, Secret>,
    candidates: Vec<Candidate>,
    problems: Vec<Problem>,
}

impl Builder<'_> {
    fn problem(&mut self, variable: &str, reason: impl Into<String>) {
        self.problems.push(Problem {
            variable: variable.to_owned(),
            reason: reason.into(),
        });
    }

    /// The variables whose names start with `prefix`, with the rest of the name.
    fn with_prefix<'v>(
        vars: &'v BTreeMap<String, Secret>,
        prefix: &'v str,
    ) -> impl Iterator<Item = (&'v str, &'v str, &'v Secret)> + use<'v> {
        vars.range::<str, _>((
            std::ops::Bound::Included(prefix),
            std::ops::Bound::Unbounded,
        ))
        .take_while(move |(name, _)| name.starts_with(prefix))
        .map(move |(name, value)| (name.as_str(), &name[prefix.len()..], value))
    }

    /// The key a host-named variable gives, or a problem.
    fn host_key(&mut self, variable: &str, encoded: &str) -> Option<HostKey> {
        let decoded = match decode_host(encoded) {
            Ok(decoded) => decoded,
            Err(err) => {
                self.problem(variable, name_problem(&err));
                return None;
            }
        };
        match HostKey::parse(&decoded.key_text()) {
            Ok(key) => Some(key.canonical()),
            Err(err) => {
                self.problem(
                    variable,
                    format!("its name gives the key `{}`: {err}", decoded.key_text()),
                );
                None
            }
        }
    }

    /// The value as it is sent: without the line break a file's last line or a pasted secret
    /// ends with. `None`, with a problem, when nothing is left.
    fn value(&mut self, variable: &str, value: &Secret) -> Option<Secret> {
        let trimmed = value.expose().trim_end_matches(['\n', '\r']);
        if trimmed.is_empty() {
            self.problem(variable, "it is empty");
            return None;
        }
        Some(Secret::new(trimmed.to_owned()))
    }

    /// Adds a candidate after [`Authentication::validate`], which never quotes the value.
    /// A user name and a password from two variables, as one Basic entry; nothing when either
    /// value is unusable (`value` has reported it).
    fn push_basic(&mut self, key: HostKey, user: &str, password: &str, rank: u8) {
        let vars = self.vars;
        let (Some(username), Some(secret)) = (
            self.value(user, &vars[user]),
            self.value(password, &vars[password]),
        ) else {
            return;
        };
        let auth = Authentication::BasicHTTP {
            username: username.expose().clone(),
            password: secret,
        };
        self.push(key, auth, vec![user.to_owned(), password.to_owned()], rank);
    }

    fn push(&mut self, key: HostKey, auth: Authentication, variables: Vec<String>, rank: u8) {
        if let Err(err) = auth.validate() {
            let first = variables.first().cloned().unwrap_or_default();
            self.problem(&first, format!("its value cannot be sent: {err}"));
            return;
        }
        self.candidates.push(Candidate {
            key,
            auth,
            variables,
            rank,
        });
    }

    /// `PREFIX<host>=TOKEN`.
    fn host_tokens(&mut self, prefix: &str, rank: u8, kind: fn(Secret) -> Authentication) {
        let vars = self.vars;
        for (name, encoded, value) in Self::with_prefix(vars, prefix) {
            let Some(key) = self.host_key(name, encoded) else {
                continue;
            };
            let Some(token) = self.value(name, value) else {
                continue;
            };
            self.push(key, kind(token), vec![name.to_owned()], rank);
        }
    }

    /// `AUTH_TOKEN_<host>`, `AUTH_CONDA_TOKEN_<host>`, `AUTH_USERNAME_<host>` with
    /// `AUTH_PASSWORD_<host>`.
    fn auth_family(&mut self) {
        self.host_tokens("AUTH_TOKEN_", rank::AUTH_TOKEN, Authentication::BearerToken);
        self.host_tokens(
            "AUTH_CONDA_TOKEN_",
            rank::AUTH_CONDA,
            Authentication::CondaToken,
        );
        let vars = self.vars;
        // Paired by the key they decode to, so the two names may differ in case.
        let mut pairs: BTreeMap<String, (HostKey, Option<&str>, Option<&str>)> = BTreeMap::new();
        for (prefix, is_user) in [("AUTH_USERNAME_", true), ("AUTH_PASSWORD_", false)] {
            for (name, encoded, _) in Self::with_prefix(vars, prefix) {
                let Some(key) = self.host_key(name, encoded) else {
                    continue;
                };
                let slot = pairs
                    .entry(key.as_str().to_owned())
                    .or_insert((key, None, None));
                let side = if is_user { &mut slot.1 } else { &mut slot.2 };
                if let Some(first) = side {
                    self.problem(
                        name,
                        format!("{first} gives the same key `{}` and is used", slot.0),
                    );
                } else {
                    *side = Some(name);
                }
            }
        }
        for (_, (key, user, password)) in pairs {
            match (user, password) {
                (Some(user), Some(password)) => {
                    self.push_basic(key, user, password, rank::AUTH_BASIC);
                }
                (Some(user), None) => self.problem(
                    user,
                    format!(
                        "there is no AUTH_PASSWORD_{} to go with it",
                        &user["AUTH_USERNAME_".len()..]
                    ),
                ),
                (None, Some(password)) => self.problem(
                    password,
                    format!(
                        "there is no AUTH_USERNAME_{} to go with it",
                        &password["AUTH_PASSWORD_".len()..]
                    ),
                ),
                (None, None) => {}
            }
        }
    }

    /// uv's named indexes (`UV_INDEX="name=URL other=URL"`, `UV_DEFAULT_INDEX="name=URL"`) and
    /// `UV_INDEX_<NAME>_USERNAME` / `_PASSWORD`.
    fn uv(&mut self) {
        let vars = self.vars;
        // The name as uv puts it into variable names → (the index URL, the variable naming it).
        let mut urls: BTreeMap<String, (String, &str)> = BTreeMap::new();
        for list in ["UV_DEFAULT_INDEX", "UV_INDEX"] {
            let Some(value) = vars.get(list) else {
                continue;
            };
            for item in value.expose().split_whitespace() {
                let Some((name, url)) = item.split_once('=') else {
                    continue;
                };
                if name.is_empty()
                    || !name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                {
                    continue;
                }
                urls.insert(uv_env_name(name), (url.to_owned(), list));
            }
        }
        let mut names: BTreeMap<&str, (Option<&str>, Option<&str>)> = BTreeMap::new();
        for (name, rest, _) in Self::with_prefix(vars, "UV_INDEX_") {
            if let Some(index) = rest.strip_suffix("_USERNAME") {
                names.entry(index).or_default().0 = Some(name);
            } else if let Some(index) = rest.strip_suffix("_PASSWORD") {
                names.entry(index).or_default().1 = Some(name);
            }
            // Anything else (UV_INDEX_URL, UV_INDEX_STRATEGY) is a setting, not a credential.
        }
        for (index, (user, password)) in names {
            let first = user.or(password).unwrap_or_default();
            let Some((url, list)) = urls.get(index) else {
                self.problem(
                    first,
                    format!(
                        "no index named {index} is in UV_INDEX or UV_DEFAULT_INDEX (as `name=URL`), so auth does not know its URL"
                    ),
                );
                continue;
            };
            let (Some(user), Some(password)) = (user, password) else {
                self.problem(
                    first,
                    format!(
                        "set both UV_INDEX_{index}_USERNAME and UV_INDEX_{index}_PASSWORD (Basic authentication needs a user name)"
                    ),
                );
                continue;
            };
            let key = match uv_key(url) {
                Ok(key) => key,
                Err(reason) => {
                    self.problem(
                        list,
                        format!(
                            "the URL of the index {index}, `{}`, {reason}",
                            redact_url(url)
                        ),
                    );
                    continue;
                }
            };
            self.push_basic(key, user, password, rank::UV_INDEX);
        }
    }

    /// `CARGO_REGISTRIES_<NAME>_INDEX` with `CARGO_REGISTRIES_<NAME>_TOKEN`.
    fn cargo(&mut self) {
        let vars = self.vars;
        let mut registries: BTreeMap<&str, (Option<&str>, Option<&str>)> = BTreeMap::new();
        for (name, rest, _) in Self::with_prefix(vars, "CARGO_REGISTRIES_") {
            if let Some(registry) = rest.strip_suffix("_INDEX") {
                registries.entry(registry).or_default().0 = Some(name);
            } else if let Some(registry) = rest.strip_suffix("_TOKEN") {
                registries.entry(registry).or_default().1 = Some(name);
            }
        }
        for (registry, (index, token)) in registries {
            let Some(token) = token else { continue };
            let Some(index) = index else {
                self.problem(
                    token,
                    format!(
                        "there is no CARGO_REGISTRIES_{registry}_INDEX to say which registry it is for (auth does not read .cargo/config.toml)"
                    ),
                );
                continue;
            };
            let url = vars[index].expose();
            let key = match cargo_key(url) {
                Ok(key) => key,
                Err(reason) => {
                    self.problem(index, format!("`{}` {reason}", redact_url(url)));
                    continue;
                }
            };
            let Some(secret) = self.value(token, &vars[token]) else {
                continue;
            };
            self.push(
                key,
                Authentication::BearerToken(secret),
                vec![token.to_owned(), index.to_owned()],
                rank::CARGO,
            );
        }
    }

    /// gh's variables: `GH_TOKEN` (else `GITHUB_TOKEN`) for github.com and `*.ghe.com`;
    /// `GH_ENTERPRISE_TOKEN` (else `GITHUB_ENTERPRISE_TOKEN`) for the `GH_HOST` server.
    fn github(&mut self) {
        let vars = self.vars;
        let first = |names: [&'static str; 2]| {
            names
                .into_iter()
                .find_map(|name| vars.get(name).map(|value| (name, value)))
        };
        if let Some((name, value)) = first(["GH_TOKEN", "GITHUB_TOKEN"])
            && let Some(token) = self.value(name, value)
        {
            for key in GITHUB_KEYS {
                // `*.ghe.com` is skipped should the public-suffix list ever make it a suffix.
                if let Ok(key) = HostKey::parse(key) {
                    self.push(
                        key,
                        Authentication::BearerToken(token.clone()),
                        vec![name.to_owned()],
                        rank::GH,
                    );
                }
            }
        }
        let Some((name, value)) = first(["GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"]) else {
            return;
        };
        let Some(host) = vars.get("GH_HOST") else {
            self.problem(
                name,
                "set GH_HOST to the GitHub Enterprise Server host it is for, as gh needs",
            );
            return;
        };
        let host = host.expose().trim();
        let key = match HostKey::parse(host) {
            Ok(key) if matches!(key.host(), HostSpec::Exact(_)) => key.canonical(),
            _ => {
                self.problem(
                    "GH_HOST",
                    format!("`{}` is not a host name", redact_url(host)),
                );
                return;
            }
        };
        let github = key.as_str() == "github.com" || key.as_str().ends_with(".ghe.com");
        if github {
            // gh uses GH_TOKEN there, never the enterprise token.
            return;
        }
        if let Some(token) = self.value(name, value) {
            self.push(
                key,
                Authentication::BearerToken(token),
                vec![name.to_owned(), "GH_HOST".to_owned()],
                rank::GH_ENTERPRISE,
            );
        }
    }

    /// One entry per key: the first family, then the first variable name, wins; the others are
    /// problems that name the winner.
    fn finish(mut self) -> EnvStore {
        self.candidates
            .sort_by(|a, b| (a.rank, &a.variables).cmp(&(b.rank, &b.variables)));
        let mut store = EnvStore::default();
        for candidate in self.candidates {
            let canonical: Box<str> = candidate.key.as_str().into();
            if let Some(winner) = store.sources.get(&canonical) {
                self.problems.push(Problem {
                    variable: candidate.variables[0].clone(),
                    reason: format!(
                        "{} gives the same key `{}` and is used",
                        winner.join(" and "),
                        candidate.key
                    ),
                });
                continue;
            }
            store.sources.insert(canonical, candidate.variables);
            let credential = Arc::new(Credential {
                key: candidate.key.clone(),
                auth: candidate.auth,
            });
            store.index.insert(candidate.key, credential);
        }
        self.problems.sort_by(|a, b| a.variable.cmp(&b.variable));
        store.problems = self.problems;
        store
    }
}

fn name_problem(err: &NameError) -> String {
    format!("its name cannot be read: {err}")
}

/// uv's name for an index in variable names: upper case, every other character than a letter or
/// digit as `_` (`internal-proxy` → `INTERNAL_PROXY`).
pub(crate) fn uv_env_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The key for an index URL: its scheme, host, port and path, without a final `/simple`, so the
/// files an index serves beside `/simple/` (`/packages/`, as PyPI-style servers do) get the
/// credentials too.
fn uv_key(url: &str) -> Result<HostKey, String> {
    if !url.contains("://") {
        return Err("is not an http(s) URL".to_owned());
    }
    let key = HostKey::parse(url)
        .map_err(|err| format!("is not a URL auth can match: {err}"))?
        .canonical();
    let text = key.as_str();
    let trimmed = text
        .strip_suffix("/simple")
        .filter(|rest| {
            rest.contains("://") && rest.split_once("://").is_some_and(|(_, r)| !r.is_empty())
        })
        .unwrap_or(text);
    HostKey::parse(trimmed).map_err(|err| format!("is not a URL auth can match: {err}"))
}

/// The key for a cargo index URL (`sparse+https://host/path/`): its host and port only, as
/// `auth helper cargo login` stores it, since cargo sends the token to the index, the downloads
/// and the API, which need not share a path.
fn cargo_key(url: &str) -> Result<HostKey, String> {
    let plain = url
        .strip_prefix("sparse+")
        .or_else(|| url.strip_prefix("registry+"))
        .unwrap_or(url);
    let Some((_, rest)) = plain.split_once("://") else {
        return Err("is not an index URL (`sparse+https://HOST/PATH/`)".to_owned());
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    HostKey::parse(authority)
        .map(|key| key.canonical())
        .map_err(|err| format!("is not an index URL auth can match: {err}"))
}
