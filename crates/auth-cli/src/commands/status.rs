//! `auth status`: first collect what every store holds and whether it could be read, then show
//! it as a table or as JSON.
//!
//! The JSON is a public interface: it is made only from the `#[derive(Serialize)]` types below,
//! its shape is published in `docs/status.schema.json`, and `version` changes when a field
//! changes meaning or goes away. It is printed whatever broke: a store that could not be read is
//! a store with `"state": "error"`, and the command then exits 1.
//!
//! Every step is linear in the number of entries: one `list` per store, one hash probe per entry
//! for shadowing, one sort, one pass to print (100k entries in well under a second; see the
//! `status` benchmark).

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::{self, Write as _};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::anyhow;
use auth_core::{
    Authentication, Credential, CredentialStore, Decision, HostKey, StoreChain, StoreError,
    UrlTarget,
};
use auth_store_env::EnvStore;
use auth_store_file::FileStore;
use serde::Serialize;

use crate::check::Outcome;
use crate::config::Config;
use crate::env::Env;
use crate::output::{self, Printer};
use crate::stores::{self, Slot};

/// The version of the JSON's shape (`docs/status.schema.json`).
const VERSION: u32 = 1;

/// How many unknown entries the table form warns about one by one; the JSON lists them all.
const UNKNOWN_WARNINGS: usize = 20;

/// Everything `status` found, before it is shown.
#[derive(Debug)]
pub(crate) struct Collected {
    config_path: Option<PathBuf>,
    config_error: Option<anyhow::Error>,
    /// The config files read (auth's own, then pixi's), named in the table output.
    config_sources: Vec<PathBuf>,
    /// No chain could be made: no home directory for the default one.
    chain_error: Option<anyhow::Error>,
    /// Whether the stores of this run are known: not when the config file, which may name the
    /// only file to use, could not be read.
    stores_known: bool,
    stores: Vec<StoreStatus>,
    entries: Vec<Entry>,
    unknown: Vec<Unknown>,
    /// `status HOST_OR_URL`: the URL, and what a request to it would carry.
    target: Option<TargetView>,
    /// `--check` could not open the stores or the client.
    check_error: Option<anyhow::Error>,
}

/// The URL `status HOST_OR_URL` asks about: a bare host is `https://HOST/`.
#[derive(Debug)]
pub(crate) struct Target {
    url: url::Url,
    /// As the user gave it, redacted, for messages.
    shown: String,
}

impl Target {
    /// `HOST[:PORT]` or a URL (`https://`, `http://`, `s3://`).
    pub(crate) fn parse(text: &str) -> anyhow::Result<Self> {
        let shown = auth_core::redact_url(text);
        let url = if text.contains("://") {
            text.to_owned()
        } else {
            format!("https://{text}/")
        };
        let url = url::Url::parse(&url)
            .ok()
            .filter(|url| UrlTarget::from_url(url).is_ok())
            .ok_or_else(|| anyhow!("`{shown}` is not a host name or an http(s):// or s3:// URL"))?;
        Ok(Self { url, shown })
    }
}

/// What a request to the target URL would carry.
#[derive(Debug)]
struct TargetView {
    url: String,
    shown: String,
    decision: TargetDecision,
}

#[derive(Debug)]
enum TargetDecision {
    /// This entry's credential (key, store name, store location).
    Send {
        key: String,
        store: String,
        location: String,
    },
    /// This entry matched, but its credential would not be sent.
    Withhold {
        key: String,
        store: String,
        location: String,
        reason: String,
    },
    /// Nothing applies.
    NotStored,
    /// A store could not answer.
    Error(String),
}

#[derive(Debug)]
struct StoreStatus {
    name: String,
    location: String,
    health: Health,
}

#[derive(Debug)]
enum Health {
    Ok,
    Unavailable(String),
    Error(anyhow::Error),
}

#[derive(Debug)]
struct Entry {
    credential: Arc<Credential>,
    /// Index into [`Collected::stores`].
    store: usize,
    shadowed: bool,
    /// An OAuth access token's scopes, when it is a JWT that says.
    scopes: Option<Vec<String>>,
    /// The variables an `env` entry came from (never their values).
    variables: Option<Vec<String>>,
    /// With a target: whether a request to it would use this entry.
    would_be_used: Option<bool>,
    /// With `--check`: what the check found (`None` for a shadowed entry, never used).
    check: Option<Outcome>,
}

#[derive(Debug)]
struct Unknown {
    /// Index into [`Collected::stores`].
    store: usize,
    /// Redacted: user information in a key may be a password. For the `env` store, the name of
    /// the variable that gives no credential.
    key: String,
    reason: String,
}

/// Reads the config, opens every store and lists each one; never fails, so that whatever broke
/// is shown beside what could be read.
pub(crate) fn collect(
    env: &Env,
    auth_file: Option<&PathBuf>,
    target: Option<&Target>,
) -> Collected {
    let config_path = Config::path(env);
    let (config, config_error) = match Config::load_layered(env) {
        Ok(config) => (Some(config), None),
        Err(err) => (None, Some(err)),
    };
    // With a config that could not be read, a file named outside it (RATTLER_AUTH_FILE,
    // --auth-file) is still the only store. Otherwise the stores are not known: the config may
    // name an override file, so the default chain may not be this run's, and the config's error
    // says what to fix.
    let defaults = Config::default();
    let survey = if let Some(config) = &config {
        Some(stores::survey_with(env, auth_file, config))
    } else {
        stores::chosen_file(env, auth_file, &defaults)
            .map(|_| stores::survey_with(env, auth_file, &defaults))
    };
    let mut collected = Collected {
        config_path,
        config_sources: config
            .as_ref()
            .map(|c| c.sources().to_vec())
            .unwrap_or_default(),
        config_error,
        chain_error: None,
        stores_known: false,
        stores: Vec::new(),
        entries: Vec::new(),
        unknown: Vec::new(),
        target: None,
        check_error: None,
    };
    let survey = match survey {
        Some(Ok(survey)) => survey,
        Some(Err(err)) => {
            collected.chain_error = Some(err);
            return collected;
        }
        None => return collected,
    };
    collected.stores_known = true;
    // The canonical keys listed so far, in the chain's order: a later store's entry under one of
    // them is never used (the earlier store wins a tie), so it is marked shadowed.
    let mut seen: HashSet<Box<str>> = HashSet::new();
    // The open stores in order: the chain a request would ask, for the target's decision.
    let mut opened: Vec<Arc<dyn CredentialStore>> = Vec::new();
    for slot in survey.slots {
        let store = match slot {
            Slot::Open(store) => {
                opened.push(Arc::clone(&store));
                store
            }
            Slot::Broken(broken) => {
                collected.stores.push(StoreStatus {
                    name: broken.name.to_owned(),
                    location: broken.location,
                    health: Health::Error(broken.error),
                });
                continue;
            }
        };
        let at = collected.stores.len();
        let (health, listed) = list(store.as_ref());
        // The `env` store is shown when some credential variable is set: a machine without
        // any sees the list it always saw.
        if store.name() == "env"
            && listed.is_empty()
            && survey
                .env
                .as_ref()
                .is_none_or(|env| env.problems().is_empty())
        {
            continue;
        }
        collected.stores.push(StoreStatus {
            name: store.name().to_owned(),
            location: store.location(),
            health,
        });
        for credential in listed {
            let canonical: Box<str> = credential.key.canonical().as_str().into();
            let shadowed = !seen.insert(canonical);
            let scopes = match &credential.auth {
                Authentication::OAuth { access_token, .. } => {
                    auth_oauth::describe_token(access_token.expose()).map(|info| info.scopes)
                }
                _ => None,
            };
            let variables = match &survey.env {
                Some(env) if store.name() == "env" => {
                    env.sources(&credential.key).map(<[String]>::to_vec)
                }
                _ => None,
            };
            collected.entries.push(Entry {
                credential,
                store: at,
                shadowed,
                scopes,
                variables,
                would_be_used: None,
                check: None,
            });
        }
    }
    collected.finish(env, survey.env.as_deref(), &survey.files, target, opened);
    collected
}

impl Collected {
    /// After the entries: the AWS line, the order, the unknown entries, the target's view.
    fn finish(
        &mut self,
        env: &Env,
        env_store: Option<&EnvStore>,
        files: &[Arc<FileStore>],
        target: Option<&Target>,
        opened: Vec<Arc<dyn CredentialStore>>,
    ) {
        // Where S3 buckets without s3-options take keys from (described, never resolved).
        if let Some((name, location)) = crate::s3::status_source(env) {
            self.stores.push(StoreStatus {
                name,
                location,
                health: Health::Ok,
            });
        }
        // Stable: under one key, the earlier store's entry comes first.
        self.entries
            .sort_by(|a, b| a.credential.key.as_str().cmp(b.credential.key.as_str()));
        self.add_unknown(env_store, files);
        if let Some(target) = target {
            self.only_for(target, &StoreChain::new(opened));
        }
    }

    /// Keeps the entries a request to `target` would consider, and marks the one the chain's
    /// decision picks (the one decision every request makes) and the shadowed ones.
    fn only_for(&mut self, target: &Target, chain: &StoreChain) {
        let url_target = UrlTarget::from_url(&target.url).expect("checked when parsed");
        self.entries
            .retain(|entry| entry.credential.key.matches(&url_target));
        let winner = |found: &auth_core::Found| {
            (
                found.credential.key.to_string(),
                found.store.name().to_owned(),
                found.store.location(),
            )
        };
        let decision = match chain.decide(&url_target) {
            Ok(Decision::Send { found, .. }) => {
                let (key, store, location) = winner(&found);
                TargetDecision::Send {
                    key,
                    store,
                    location,
                }
            }
            Ok(Decision::Withhold { found, reason }) => {
                let (key, store, location) = winner(&found);
                TargetDecision::Withhold {
                    reason: reason.explain(&found, &url_target),
                    key,
                    store,
                    location,
                }
            }
            Ok(Decision::NotStored) => TargetDecision::NotStored,
            Err(err) => TargetDecision::Error(stores::one_line(&anyhow::Error::new(err))),
        };
        let chosen = match &decision {
            TargetDecision::Send {
                key,
                store,
                location,
            }
            | TargetDecision::Withhold {
                key,
                store,
                location,
                ..
            } => Some((key.clone(), store.clone(), location.clone())),
            _ => None,
        };
        for entry in &mut self.entries {
            let store = &self.stores[entry.store];
            entry.would_be_used = Some(chosen.as_ref().is_some_and(|(key, name, location)| {
                *key == entry.credential.key.to_string()
                    && *name == store.name
                    && *location == store.location
            }));
        }
        self.target = Some(TargetView {
            url: auth_core::redact_url(target.url.as_str()),
            shown: target.shown.clone(),
            decision,
        });
    }

    /// `--check`: one request for every entry that is used (not shadowed by an earlier store).
    pub(crate) fn check(
        &mut self,
        env: &Env,
        auth_file: Option<&PathBuf>,
        check_url: Option<&str>,
    ) {
        if !self.stores_known || self.entries.iter().all(|entry| entry.shadowed) {
            return;
        }
        match crate::check::Checker::open(env, auth_file, check_url) {
            Ok(checker) => {
                let used: Vec<&HostKey> = self
                    .entries
                    .iter()
                    .filter(|entry| !entry.shadowed)
                    .map(|entry| &entry.credential.key)
                    .collect();
                let mut outcomes = checker.check_all(&used).into_iter();
                for entry in self.entries.iter_mut().filter(|entry| !entry.shadowed) {
                    entry.check = outcomes.next();
                }
            }
            Err(err) => self.check_error = Some(err.context("could not check the credentials")),
        }
    }

    /// What is kept out of every lookup: the variables of the `env` store that give no
    /// credential (by name), and the unknown entries of each credentials file.
    fn add_unknown(&mut self, env: Option<&EnvStore>, files: &[Arc<FileStore>]) {
        let collected = self;
        // Variables that give no credential: kept out of every lookup, listed here by name.
        if let Some(env) = env
            && let Some(at) = collected
                .stores
                .iter()
                .position(|store| store.name == "env")
        {
            collected
                .unknown
                .extend(env.problems().iter().map(|problem| Unknown {
                    store: at,
                    key: problem.variable.clone(),
                    reason: problem.reason.clone(),
                }));
        }
        for file in files {
            let location = file.location();
            let Some(at) = collected
                .stores
                .iter()
                .position(|store| store.name == file.name() && store.location == location)
            else {
                continue;
            };
            collected
                .unknown
                .extend(file.unknown_entries().into_iter().map(|entry| Unknown {
                    store: at,
                    key: entry.key.to_string(),
                    reason: entry.reason,
                }));
        }
    }
}

/// One store's entries, and whether it could answer.
fn list(store: &dyn CredentialStore) -> (Health, Vec<Arc<Credential>>) {
    if let Some(reason) = store.unavailable_reason() {
        return (Health::Unavailable(reason), Vec::new());
    }
    match store.list() {
        Ok(entries) => (Health::Ok, entries),
        Err(StoreError::Unavailable { reason, .. }) => (Health::Unavailable(reason), Vec::new()),
        Err(err) => (
            Health::Error(anyhow::Error::new(err).context(format!(
                "could not list the entries of {}",
                store.describe()
            ))),
            Vec::new(),
        ),
    }
}

impl Collected {
    /// Every failure, in order: the config, the chain, then each store that could not be read.
    fn errors(&self) -> impl Iterator<Item = &anyhow::Error> {
        self.config_error
            .iter()
            .chain(&self.chain_error)
            .chain(self.stores.iter().filter_map(|store| match &store.health {
                Health::Error(err) => Some(err),
                _ => None,
            }))
            .chain(&self.check_error)
    }

    /// `Ok` when everything could be read; else the failure (or a summary of several), for the
    /// exit code and the `error:` line. What could be read has been printed already.
    pub(crate) fn outcome(self) -> anyhow::Result<()> {
        let count = self.errors().count();
        if count > 1 {
            let messages: Vec<String> = self.errors().map(stores::one_line).collect();
            return Err(anyhow!(
                "{count} problems left this list incomplete: {}",
                messages.join("; ")
            ));
        }
        let rejected = self.rejected();
        let Self {
            config_error,
            chain_error,
            stores,
            check_error,
            ..
        } = self;
        let store_error = stores.into_iter().find_map(|store| match store.health {
            Health::Error(err) => Some(err),
            _ => None,
        });
        match config_error.or(chain_error).or(store_error).or(check_error) {
            Some(err) => Err(err),
            None => rejected.map_or(Ok(()), Err),
        }
    }

    /// The first credential a server rejected (exit code 3), with how many were.
    fn rejected(&self) -> Option<anyhow::Error> {
        let mut rejected = self.entries.iter().filter_map(|entry| match &entry.check {
            Some(Outcome::Rejected { status, host }) => Some((entry, *status, host)),
            _ => None,
        });
        let (entry, status, host) = rejected.next()?;
        let more = rejected.count();
        let key = &entry.credential.key;
        let login = key.to_string();
        let err = anyhow::Error::new(auth_middleware::AuthError::Rejected {
            host: host.clone(),
            key: login.clone(),
            store: self.stores[entry.store].name.clone(),
            login: login.strip_prefix("*.").unwrap_or(&login).to_owned(),
            status,
        });
        Some(if more == 0 {
            err
        } else {
            err.context(format!("{} credentials were rejected", more + 1))
        })
    }

    /// The entries and the stores as two tables on stdout; unknown entries as warnings.
    pub(crate) fn print_table(&self, printer: Printer, now: i64) -> io::Result<()> {
        if !self.stores_known {
            return Ok(());
        }
        let mut out = io::BufWriter::new(io::stdout().lock());
        if self.entries.is_empty() {
            if let Some(target) = &self.target {
                writeln!(
                    out,
                    "No credentials apply to {}. Run `auth login {}` to add one.",
                    auth_core::escape_control(&target.url),
                    auth_core::escape_control(&target.shown)
                )?;
            } else if self.errors().next().is_some() {
                writeln!(out, "No credentials could be read.")?;
            } else {
                writeln!(
                    out,
                    "No credentials are stored. Run `auth login HOST` to add one."
                )?;
            }
        } else {
            let mut headers = vec!["KEY", "KIND", "STORE", "EXPIRES"];
            if self.target.is_some() {
                headers.push("USE");
            }
            let checked = self.entries.iter().any(|entry| entry.check.is_some());
            if checked {
                headers.push("CHECK");
            }
            let cells: Vec<Vec<String>> = self
                .entries
                .iter()
                .map(|entry| {
                    let mut cells = self.entry_cells(entry, now);
                    if let Some(used) = entry.would_be_used {
                        cells.push(if used { "would be used" } else { "shadowed" }.to_owned());
                    }
                    if checked {
                        cells.push(
                            entry
                                .check
                                .as_ref()
                                .map_or_else(|| "-".to_owned(), Outcome::cell),
                        );
                    }
                    cells
                })
                .collect();
            out.write_all(output::table(printer, &headers, &cells).as_bytes())?;
        }
        if let Some(line) = self.target_line() {
            writeln!(out, "{}", auth_core::escape_control(&line))?;
        }
        // One line a store, in the chain's order: `file: PATH`, `keyring: unavailable: WHY`,
        // `netrc: error: WHAT`. Escaped, as a table cell is: a path may hold control characters.
        writeln!(out)?;
        for path in &self.config_sources {
            let line = format!("config: {}", path.display());
            writeln!(out, "{}", auth_core::escape_control(&line))?;
        }
        for store in &self.stores {
            let line = match &store.health {
                Health::Ok => format!("{}: {}", store.name, store.location),
                Health::Unavailable(reason) => format!("{}: unavailable: {reason}", store.name),
                Health::Error(err) => format!("{}: error: {}", store.name, stores::one_line(err)),
            };
            writeln!(out, "{}", auth_core::escape_control(&line))?;
        }
        out.flush()?;
        drop(out);
        for unknown in self.unknown.iter().take(UNKNOWN_WARNINGS) {
            let store = &self.stores[unknown.store];
            printer.warning(&if store.name == "env" {
                format!(
                    "the environment variable {} is not used: {}",
                    unknown.key, unknown.reason
                )
            } else {
                format!(
                    "{}: the entry `{}` is kept but not used: {}",
                    store.location, unknown.key, unknown.reason
                )
            });
        }
        if let Some(more) = self.unknown.len().checked_sub(UNKNOWN_WARNINGS)
            && more > 0
        {
            printer.warning(&format!(
                "{more} more entries are kept but not used; `auth status --json` lists them all"
            ));
        }
        Ok(())
    }

    /// What a request to the target would carry, in words; `None` without a target, or when
    /// nothing applies (the table's place says so).
    fn target_line(&self) -> Option<String> {
        let target = self.target.as_ref()?;
        let url = &target.url;
        Some(match &target.decision {
            TargetDecision::Send { key, store, .. } => {
                format!("A request to {url} would use the credential for {key} from {store}.")
            }
            TargetDecision::Withhold { reason, .. } => {
                format!("A request to {url} would send no credential: {reason}")
            }
            TargetDecision::NotStored if self.entries.is_empty() => return None,
            TargetDecision::NotStored => format!("A request to {url} would send no credential."),
            TargetDecision::Error(message) => {
                format!("Which credential a request to {url} would use is unknown: {message}")
            }
        })
    }

    fn entry_cells(&self, entry: &Entry, now: i64) -> Vec<String> {
        let auth = &entry.credential.auth;
        let kind = match (auth, &entry.scopes) {
            (Authentication::BasicHTTP { username, .. }, _) => format!("BasicHTTP ({username})"),
            (Authentication::OAuth { .. }, Some(scopes)) if !scopes.is_empty() => {
                format!("OAuth ({})", scopes.join(" "))
            }
            (other, _) => other.kind().to_owned(),
        };
        let name = match &entry.variables {
            // `env (TF_TOKEN_app_terraform_io)`: the variable to change, never its value.
            Some(variables) => format!(
                "{} ({})",
                self.stores[entry.store].name,
                variables.join(" ")
            ),
            None => self.stores[entry.store].name.clone(),
        };
        let store = if entry.shadowed {
            format!("{name} (shadowed by an earlier store)")
        } else {
            name
        };
        let expires = auth
            .expires_at()
            .map_or_else(|| "-".to_owned(), |at| output::expiry(at, now));
        vec![
            shown_key(&entry.credential.key).into_owned(),
            kind,
            store,
            expires,
        ]
    }

    /// The whole report as one JSON document on stdout.
    pub(crate) fn print_json(&self) -> io::Result<()> {
        let errors: Vec<String> = self.errors().map(stores::one_line).collect();
        let report = Report {
            version: VERSION,
            config: ConfigRow {
                path: self
                    .config_path
                    .as_ref()
                    .map(|path| path.display().to_string()),
                state: match &self.config_error {
                    None => ConfigState::Ok,
                    Some(err) => ConfigState::Error {
                        message: stores::one_line(err),
                    },
                },
            },
            stores: self
                .stores
                .iter()
                .map(|store| StoreRow {
                    name: &store.name,
                    location: &store.location,
                    state: match &store.health {
                        Health::Ok => StoreState::Ok,
                        Health::Unavailable(reason) => StoreState::Unavailable { reason },
                        Health::Error(err) => StoreState::Error {
                            message: stores::one_line(err),
                        },
                    },
                })
                .collect(),
            entries: self
                .entries
                .iter()
                .map(|entry| {
                    let auth = &entry.credential.auth;
                    let store = &self.stores[entry.store];
                    EntryRow {
                        key: shown_key(&entry.credential.key),
                        kind: auth.kind(),
                        username: match auth {
                            Authentication::BasicHTTP { username, .. } => Some(username),
                            _ => None,
                        },
                        store: &store.name,
                        location: &store.location,
                        expires_at: auth.expires_at(),
                        scopes: entry.scopes.as_deref(),
                        variables: entry.variables.as_deref(),
                        shadowed: entry.shadowed,
                        would_be_used: entry.would_be_used,
                        check: entry.check.as_ref(),
                    }
                })
                .collect(),
            unknown_entries: self
                .unknown
                .iter()
                .map(|unknown| {
                    let store = &self.stores[unknown.store];
                    UnknownRow {
                        store: &store.name,
                        location: &store.location,
                        key: &unknown.key,
                        reason: &unknown.reason,
                    }
                })
                .collect(),
            target: self.target.as_ref().map(TargetRow::of),
            errors,
        };
        let mut text = serde_json::to_string_pretty(&report).map_err(io::Error::other)?;
        text.push('\n');
        let mut out = io::stdout().lock();
        out.write_all(escape_for_terminal(&text).as_bytes())?;
        out.flush()
    }
}

/// `auth status --json`, version 1 (`docs/status.schema.json`).
#[derive(Debug, Serialize)]
struct Report<'a> {
    version: u32,
    config: ConfigRow,
    stores: Vec<StoreRow<'a>>,
    entries: Vec<EntryRow<'a>>,
    unknown_entries: Vec<UnknownRow<'a>>,
    /// `status HOST_OR_URL`: the URL and what a request to it would carry.
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<TargetRow<'a>>,
    /// Every failure that left the report incomplete, one line each; empty when complete.
    errors: Vec<String>,
}

#[derive(Debug, Serialize)]
struct TargetRow<'a> {
    url: &'a str,
    /// `send`, `withhold`, `none` or `error`.
    decision: &'static str,
    key: Option<&'a str>,
    store: Option<&'a str>,
    location: Option<&'a str>,
    /// Why nothing would be sent (`withhold`), or what failed (`error`).
    reason: Option<&'a str>,
}

impl<'a> TargetRow<'a> {
    fn of(view: &'a TargetView) -> Self {
        let mut row = Self {
            url: &view.url,
            decision: "none",
            key: None,
            store: None,
            location: None,
            reason: None,
        };
        match &view.decision {
            TargetDecision::Send {
                key,
                store,
                location,
            } => {
                row.decision = "send";
                (row.key, row.store, row.location) = (
                    Some(key.as_str()),
                    Some(store.as_str()),
                    Some(location.as_str()),
                );
            }
            TargetDecision::Withhold {
                key,
                store,
                location,
                reason,
            } => {
                row.decision = "withhold";
                (row.key, row.store, row.location) = (
                    Some(key.as_str()),
                    Some(store.as_str()),
                    Some(location.as_str()),
                );
                row.reason = Some(reason.as_str());
            }
            TargetDecision::NotStored => {}
            TargetDecision::Error(message) => {
                row.decision = "error";
                row.reason = Some(message.as_str());
            }
        }
        row
    }
}

#[derive(Debug, Serialize)]
struct ConfigRow {
    /// `None` when there is no home directory to look in.
    path: Option<String>,
    #[serde(flatten)]
    state: ConfigState,
}

#[derive(Debug, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
enum ConfigState {
    /// Read, or absent (the defaults).
    Ok,
    Error {
        message: String,
    },
}

#[derive(Debug, Serialize)]
struct StoreRow<'a> {
    name: &'a str,
    location: &'a str,
    #[serde(flatten)]
    state: StoreState<'a>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
enum StoreState<'a> {
    Ok,
    /// Not there now (a keyring with no daemon); not an error.
    Unavailable {
        reason: &'a str,
    },
    Error {
        message: String,
    },
}

#[derive(Debug, Serialize)]
struct EntryRow<'a> {
    key: Cow<'a, str>,
    kind: &'static str,
    username: Option<&'a str>,
    store: &'a str,
    location: &'a str,
    expires_at: Option<i64>,
    scopes: Option<&'a [String]>,
    /// The variables an `env` entry came from; `None` for other stores.
    variables: Option<&'a [String]>,
    shadowed: bool,
    /// With `status HOST_OR_URL` only: whether a request to it would use this entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    would_be_used: Option<bool>,
    /// With `--check` only: what the check found (absent for a shadowed entry).
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<&'a Outcome>,
}

#[derive(Debug, Serialize)]
struct UnknownRow<'a> {
    store: &'a str,
    location: &'a str,
    key: &'a str,
    reason: &'a str,
}

/// A key as it may be shown. A key keeps its text as written, and that may hold user
/// information (`https://user:password@host`, ignored for matching) or a conda token segment
/// (`host/t/TOKEN/`): those are masked, as in every URL `auth` prints.
fn shown_key(key: &HostKey) -> Cow<'_, str> {
    let text = key.as_str();
    if text.contains('@') || text.contains("/t/") {
        let mut shown = auth_core::redact_url(text);
        // A URL's parser adds the root path; the key did not have it.
        if shown.ends_with('/') && !text.ends_with('/') {
            shown.pop();
        }
        Cow::Owned(shown)
    } else {
        Cow::Borrowed(text)
    }
}

/// `serde_json` escapes C0 controls in strings but writes DEL, C1 controls and bidi controls as
/// they are, and a terminal acts on some of them. They can only be inside strings (the rest of
/// the text is ASCII), where `\uXXXX` is the same JSON value.
fn escape_for_terminal(json: &str) -> Cow<'_, str> {
    let unsafe_char =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    // Line breaks and indentation between tokens are the only controls serde_json writes.
    let needs = |c: char| unsafe_char(c) && c != '\n';
    // The first byte of each such character in UTF-8: DEL, C1 (U+0080..U+009F) and the bidi
    // controls (U+202A..U+202E, U+2066..U+2069). Output without them, nearly all, is one pass
    // over bytes.
    if !json.bytes().any(|b| matches!(b, 0x7f | 0xc2 | 0xe2)) || !json.chars().any(needs) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if needs(c) {
            use std::fmt::Write as _;
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::{Target, escape_for_terminal};

    #[test]
    fn a_bare_host_is_its_https_root_and_a_url_is_kept() {
        let shown: Vec<String> = [
            "repo.example.com",
            "repo.example.com:8443",
            "http://127.0.0.1:8080/simple/",
            "s3://bucket/key",
            "https://user:pw@repo.example.com/x",
            "ftp://repo.example.com/",
            "not a host",
        ]
        .iter()
        .map(|text| match Target::parse(text) {
            Ok(target) => format!("{text} -> {} ({})", target.url, target.shown),
            Err(err) => format!("{text} -> error: {err}"),
        })
        .collect();
        insta::assert_snapshot!(shown.join("\n"), @r"
        repo.example.com -> https://repo.example.com/ (repo.example.com)
        repo.example.com:8443 -> https://repo.example.com:8443/ (repo.example.com:8443)
        http://127.0.0.1:8080/simple/ -> http://127.0.0.1:8080/simple/ (http://127.0.0.1:8080/simple/)
        s3://bucket/key -> s3://bucket/key (s3://bucket/key)
        https://user:pw@repo.example.com/x -> https://user:pw@repo.example.com/x (https://****@repo.example.com/x)
        ftp://repo.example.com/ -> error: `ftp://repo.example.com/` is not a host name or an http(s):// or s3:// URL
        not a host -> error: `not a host` is not a host name or an http(s):// or s3:// URL
        ");
    }

    #[test]
    fn json_keeps_its_value_and_loses_terminal_controls() {
        let value = serde_json::json!({ "key": "a\u{7f}b\u{9b}c\u{202e}d\u{1b}e\n" });
        let text = serde_json::to_string_pretty(&value).unwrap();
        let escaped = escape_for_terminal(&text);
        insta::assert_snapshot!(escaped, @r#"
        {
          "key": "a\u007fb\u009bc\u202ed\u001be\n"
        }
        "#);
        let back: serde_json::Value = serde_json::from_str(&escaped).unwrap();
        assert_eq!(back, value);
    }
}
