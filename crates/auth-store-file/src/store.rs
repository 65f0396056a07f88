//! `FileStore`: lookups over the file's entries, and locked, atomic rewrites of it.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use auth_core::{
    Authentication, Credential, CredentialIndex, CredentialStore, HostKey, Specificity, StoreError,
    UrlTarget,
};

use crate::document::{Document, SyntaxError};
use crate::error::FileStoreError;

/// A credentials file in rattler's JSON format.
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    state: RwLock<Arc<State>>,
}

/// An entry of the file that is kept but never used: its key or its value is not understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEntry {
    /// The key as written in the file.
    pub key: String,
    /// Why it is not used, never quoting the value.
    pub reason: String,
}

/// One reading of the file.
#[derive(Debug)]
struct State {
    doc: Document,
    /// Each entry's key and credential, parsed on first use; `None` when not understood.
    parsed: Vec<OnceLock<Option<Arc<Credential>>>>,
    /// Built on the second lookup: a process that looks up once (the CLI) never pays for it.
    index: OnceLock<CredentialIndex<usize>>,
    lookups: AtomicUsize,
}

impl State {
    fn new(doc: Document) -> Self {
        let parsed = std::iter::repeat_with(OnceLock::new)
            .take(doc.entries.len())
            .collect();
        Self {
            doc,
            parsed,
            index: OnceLock::new(),
            lookups: AtomicUsize::new(0),
        }
    }

    fn credential(&self, at: usize) -> Option<&Arc<Credential>> {
        self.parsed[at]
            .get_or_init(|| {
                let entry = &self.doc.entries[at];
                let key = HostKey::parse(self.doc.key(entry)).ok()?;
                let auth = serde_json::from_str::<Authentication>(self.doc.value(entry)).ok()?;
                Some(Arc::new(Credential { key, auth }))
            })
            .as_ref()
    }

    fn index(&self) -> &CredentialIndex<usize> {
        self.index.get_or_init(|| {
            let mut index = CredentialIndex::new();
            for (at, entry) in self.doc.entries.iter().enumerate() {
                // A later duplicate replaces an earlier one, as when the JSON is read into a map.
                if let Ok(key) = HostKey::parse(self.doc.key(entry)) {
                    index.insert(key, at);
                }
            }
            index
        })
    }

    /// The most specific matching key decides, whether or not its value is understood: an entry
    /// the user wrote for a host is never silently replaced by a broader one.
    fn find(&self, target: &UrlTarget<'_>) -> Option<Arc<Credential>> {
        let at = if self.index.get().is_none() && self.lookups.fetch_add(1, Ordering::Relaxed) == 0
        {
            self.scan(target)?
        } else {
            *self.index().find(target)?.1
        };
        let found = self.credential(at).cloned();
        if found.is_none() {
            tracing::warn!(
                key = self.doc.key(&self.doc.entries[at]),
                "the matching credential is not understood by this version and was not used"
            );
        }
        found
    }

    /// One pass over the raw keys, parsing only those whose host could match.
    fn scan(&self, target: &UrlTarget<'_>) -> Option<usize> {
        let mut best: Option<(Specificity, usize)> = None;
        for (at, entry) in self.doc.entries.iter().enumerate() {
            let raw = self.doc.key(entry);
            if !could_match(raw, target.host()) {
                continue;
            }
            let Ok(key) = HostKey::parse(raw) else {
                continue;
            };
            if !key.matches(target) {
                continue;
            }
            // `>=`: a later duplicate wins, as in the index.
            let specificity = key.specificity();
            if best.is_none_or(|(best, _)| specificity >= best) {
                best = Some((specificity, at));
            }
        }
        best.map(|(_, at)| at)
    }

    fn position(&self, key: &HostKey) -> Option<usize> {
        let canonical = key.canonical();
        self.doc
            .entries
            .iter()
            .rposition(|entry| same_key(self.doc.key(entry), key, &canonical))
    }
}

/// A cheap test on the raw key text that rules out almost every key for a host, one pass over
/// its bytes; anything unusual (user info, IPv6, non-ASCII, numeric hosts, other schemes) answers
/// `true` and is decided by the full parse.
fn could_match(raw: &str, host: &str) -> bool {
    let bytes = raw.as_bytes();
    let start = if bytes.starts_with(b"s3://") {
        5
    } else if bytes.starts_with(b"https://") {
        8
    } else if bytes.starts_with(b"http://") {
        7
    } else {
        0
    };
    let mut end = bytes.len();
    for (at, &byte) in bytes.iter().enumerate().skip(start) {
        match byte {
            b'/' | b':' => {
                end = at;
                break;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {}
            _ => return true,
        }
    }
    let mut name = &bytes[start..end];
    if let [head @ .., b'.'] = name {
        name = head;
    }
    let last_label = name
        .iter()
        .rposition(|&b| b == b'.')
        .map_or(name, |dot| &name[dot + 1..]);
    if last_label.first().is_some_and(u8::is_ascii_digit) {
        return true;
    }
    let host = host.as_bytes();
    match name.strip_prefix(b"*.") {
        Some(base) => {
            host.len() >= base.len()
                && host[host.len() - base.len()..].eq_ignore_ascii_case(base)
                && (host.len() == base.len() || host[host.len() - base.len() - 1] == b'.')
        }
        None => name.eq_ignore_ascii_case(host),
    }
}

/// The raw key is this key, written the same way or another way (`PREFIX.dev` for `prefix.dev`).
fn same_key(raw: &str, key: &HostKey, canonical: &HostKey) -> bool {
    // Spellings of one key differ in case, a trailing dot or slash, or (non-ASCII) IDNA; skip the
    // parse for every other key.
    let close = raw.len().abs_diff(canonical.as_str().len()) <= 2 || !raw.is_ascii();
    raw == key.as_str()
        || close
            && HostKey::parse(raw)
                .is_ok_and(|parsed| parsed.canonical().as_str() == canonical.as_str())
}

impl FileStore {
    /// Opens the file; a missing file is an empty store, created on the first write.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, FileStoreError> {
        let path = path.into();
        let doc = read_document(&path)?;
        warn_if_readable_by_others(&path);
        Ok(Self {
            path,
            state: RwLock::new(Arc::new(State::new(doc))),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the file again, to see what other processes wrote.
    pub fn reload(&self) -> Result<(), FileStoreError> {
        let doc = read_document(&self.path)?;
        *self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(State::new(doc));
        Ok(())
    }

    /// Entries kept in the file but not used, with the reason.
    pub fn unknown_entries(&self) -> Vec<UnknownEntry> {
        let state = self.state();
        let mut unknown = Vec::new();
        for entry in &state.doc.entries {
            let key = state.doc.key(entry);
            let reason = match HostKey::parse(key) {
                Err(err) => format!("the key is not understood: {err}"),
                Ok(_) => match serde_json::from_str::<serde_json::Value>(state.doc.value(entry))
                    .map_err(|_| "the value is not JSON".to_owned())
                    .and_then(|value| {
                        Authentication::from_json_value(value).map_err(|err| err.to_string())
                    }) {
                    Ok(_) => continue,
                    Err(reason) => format!("the credential is not understood: {reason}"),
                },
            };
            unknown.push(UnknownEntry {
                key: key.to_owned(),
                reason,
            });
        }
        unknown
    }

    fn state(&self) -> Arc<State> {
        Arc::clone(
            &self
                .state
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Runs a change on the file's current entries under the lock, then writes the result
    /// atomically. `change` returns whether it changed anything.
    fn modify<R>(
        &self,
        change: impl FnOnce(&mut BTreeMap<String, String>) -> (R, bool),
    ) -> Result<R, FileStoreError> {
        let target = resolve_symlink(&self.path);
        let dir = target
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        create_private_dir(dir)
            .map_err(|source| io_error("create the directory of", dir, source))?;
        let lock_path = lock_path(&target);
        let lock = open_private(&lock_path)
            .map_err(|source| io_error("open the lock of", &lock_path, source))?;
        lock.lock()
            .map_err(|source| io_error("lock", &lock_path, source))?;

        // Re-read under the lock: another process may have written since we opened the file.
        let doc = read_document(&target)?;
        let mut entries: BTreeMap<String, String> = doc
            .entries
            .iter()
            .map(|entry| (doc.key(entry).to_owned(), doc.value(entry).to_owned()))
            .collect();
        let (result, changed) = change(&mut entries);
        let doc = if changed {
            let text = Document::render(entries.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            write_atomically(dir, &target, &text)?;
            Document::parse(text).expect("a rendered document parses")
        } else {
            doc
        };
        *self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(State::new(doc));
        drop(lock);
        Ok(result)
    }
}

impl CredentialStore for FileStore {
    fn name(&self) -> &'static str {
        "file"
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn get(&self, key: &HostKey) -> Result<Option<Arc<Credential>>, StoreError> {
        let state = self.state();
        Ok(state
            .position(key)
            .and_then(|at| state.credential(at).cloned()))
    }

    fn get_fresh(&self, key: &HostKey) -> Result<Option<Arc<Credential>>, StoreError> {
        self.reload()
            .map_err(|err| StoreError::Backend(Box::new(err)))?;
        self.get(key)
    }

    fn find(&self, target: &UrlTarget<'_>) -> Result<Option<Arc<Credential>>, StoreError> {
        // The hot path: hold the read lock rather than clone the state's `Arc`.
        let state = self
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(state.find(target))
    }

    fn set(&self, key: &HostKey, auth: &Authentication) -> Result<(), StoreError> {
        let value = serde_json::to_string_pretty(auth)
            .expect("a credential always serializes")
            .replace('\n', "\n  ");
        self.modify(|entries| {
            let canonical = key.canonical();
            entries.retain(|raw, _| !same_key(raw, key, &canonical));
            entries.insert(key.as_str().to_owned(), value);
            ((), true)
        })
        .map_err(|err| StoreError::Backend(Box::new(err)))
    }

    fn remove(&self, key: &HostKey) -> Result<bool, StoreError> {
        self.modify(|entries| {
            let canonical = key.canonical();
            let before = entries.len();
            entries.retain(|raw, _| !same_key(raw, key, &canonical));
            let removed = entries.len() != before;
            (removed, removed)
        })
        .map_err(|err| StoreError::Backend(Box::new(err)))
    }

    fn list(&self) -> Result<Vec<Arc<Credential>>, StoreError> {
        let state = self.state();
        let mut by_key = BTreeMap::new();
        for at in 0..state.doc.entries.len() {
            if let Some(credential) = state.credential(at) {
                by_key.insert(credential.key.as_str().to_owned(), Arc::clone(credential));
            }
        }
        Ok(by_key.into_values().collect())
    }
}

fn io_error(action: &'static str, path: &Path, source: io::Error) -> FileStoreError {
    FileStoreError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

fn read_document(path: &Path) -> Result<Document, FileStoreError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Document::default()),
        Err(source) => return Err(io_error("read", path, source)),
    };
    Document::parse(text).map_err(
        |SyntaxError {
             line,
             column,
             reason,
         }| FileStoreError::Parse {
            path: path.to_owned(),
            line,
            column,
            reason,
        },
    )
}

/// Writes go to the file a symlink points at, so the link survives.
fn resolve_symlink(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
        }
        _ => path.to_owned(),
    }
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".lock");
    path.with_file_name(name)
}

fn write_atomically(dir: &Path, path: &Path, text: &str) -> Result<(), FileStoreError> {
    // `tempfile` creates the file with mode 0600 on Unix.
    let mut temp = tempfile::Builder::new()
        .prefix(".credentials")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|source| io_error("create a temporary file beside", path, source))?;
    temp.write_all(text.as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|source| io_error("write", temp.path(), source))?;
    temp.persist(path)
        .map_err(|err| io_error("replace", path, err.error))?;
    sync_dir(dir);
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) {
    // The rename is durable once the directory is; a failure here loses no data, only durability.
    if let Ok(dir) = fs::File::open(dir) {
        let _ = dir.sync_all();
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) {}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

fn open_private(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                "the credentials file {} can be read by other users (mode {mode:o}); run `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::could_match;

    #[test]
    fn prefilter_never_rules_out_a_matching_key() {
        let cases = [
            ("*.prefix.dev", "prefix.dev", true),
            ("*.prefix.dev", "repo.prefix.dev", true),
            ("*.prefix.dev", "xprefix.dev", false),
            ("*.PREFIX.dev", "repo.prefix.dev", true),
            ("repo.prefix.dev:8443/x", "repo.prefix.dev", true),
            ("s3://bucket/prefix", "bucket", true),
            ("other.dev", "prefix.dev", false),
            ("user@host", "other", true),
            ("0x7f.1", "127.0.0.1", true),
            ("bücher.example", "xn--bcher-kva.example", true),
            ("*.dev", "prefix.dev", true),
        ];
        for (raw, host, expected) in cases {
            assert_eq!(could_match(raw, host), expected, "{raw} for {host}");
        }
    }
}
