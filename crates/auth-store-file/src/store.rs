//! `FileStore`: lookups over the file's entries, and locked, atomic rewrites of it.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use auth_core::{
    Authentication, Credential, CredentialIndex, CredentialStore, HostKey, HostSpec, SafeUrl,
    Specificity, StoreError, UrlTarget,
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
    /// The key as written in the file, redacted: user information in a key may be a password.
    pub key: SafeUrl,
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
                key = %SafeUrl::new(self.doc.key(&self.doc.entries[at])),
                "the matching credential is not understood by this version and was not used"
            );
        }
        found
    }

    /// One pass over the raw keys, parsing only those whose host could match. It answers what
    /// the index answers: the most specific key; among equally specific ones the first written,
    /// except that a later duplicate of the very same key text replaces the earlier one.
    fn scan(&self, target: &UrlTarget<'_>) -> Option<usize> {
        let mut best: Option<(Specificity, HostKey, usize)> = None;
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
            let specificity = key.specificity();
            let better = match &best {
                None => true,
                Some((best, best_key, _)) => {
                    specificity > *best || specificity == *best && key.as_str() == best_key.as_str()
                }
            };
            if better {
                best = Some((specificity, key, at));
            }
        }
        best.map(|(_, _, at)| at)
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
/// its bytes. It answers `false` only when the key's host part cannot be `host` or a wildcard
/// over it, whatever the scheme, port or path: it over-approximates `HostKey::parse` followed by
/// a host match, so the cold scan finds every key the index finds. It splits the key as the
/// parse does (trimmed, a scheme in any case, the authority up to the first `/`, user information
/// up to its last `@`, a port after a `:`); anything unusual (IPv6, percent signs, non-ASCII,
/// numeric hosts, other schemes) answers `true` and is decided by the full parse.
fn could_match(raw: &str, host: &str) -> bool {
    // The parse trims Unicode white space; other than ASCII, it is non-ASCII, which is unusual.
    let bytes = raw.as_bytes().trim_ascii();
    // The host is what follows the scheme or the last `@` before the first `/`, up to a `:`.
    let (mut host_start, mut host_end, mut unusual) = (0, None, false);
    let mut end = bytes.len();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {}
            b'/' => {
                end = at;
                break;
            }
            b'@' => (host_start, host_end, unusual) = (at + 1, None, false),
            b':' if bytes[at..].starts_with(b"://") => {
                // A scheme, in any case, as the parse reads it; any other is for the parse.
                let scheme = &bytes[..at];
                let known = [&b"https"[..], b"http", b"s3"]
                    .iter()
                    .any(|known| scheme.eq_ignore_ascii_case(known));
                if !known || host_start != 0 {
                    return true;
                }
                at += 3;
                (host_start, host_end, unusual) = (at, None, false);
                continue;
            }
            b':' => host_end = host_end.or(Some(at)),
            _ => unusual |= host_end.is_none(),
        }
        at += 1;
    }
    if unusual {
        return true;
    }
    let mut name = &bytes[host_start..host_end.unwrap_or(end)];
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

/// The raw key is this key, written the same way or another way (`PREFIX.dev.` for
/// `prefix.dev`, `HTTPS://` for `https://`, `user@host` for `host`).
fn same_key(raw: &str, key: &HostKey, canonical: &HostKey) -> bool {
    if raw == key.as_str() {
        return true;
    }
    // Another spelling has the same host, so the host prefilter skips the parse of almost every
    // other key; it never rules out a spelling, since it over-approximates the parse.
    let host = match canonical.host() {
        HostSpec::Exact(host) | HostSpec::Wildcard(host) => host,
        HostSpec::Any => return false,
    };
    could_match(raw, host)
        && HostKey::parse(raw).is_ok_and(|parsed| parsed.canonical().as_str() == canonical.as_str())
}

impl FileStore {
    /// Opens the file; a missing file is an empty store, created on the first write.
    ///
    /// A symbolic link is followed: reads see the file it points to, and writes replace that file
    /// atomically in its own directory, so the link stays a link (as editors do). A link to
    /// nothing, and a path (or link) to anything but a regular file (a device, FIFO, socket or
    /// directory), are refused with [`FileStoreError::DanglingLink`] and
    /// [`FileStoreError::NotARegularFile`], checked before the file is opened: a FIFO never
    /// blocks a read, and a device is never replaced by a file holding a token.
    ///
    /// Logs a warning when other users can read the file or write its directory.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, FileStoreError> {
        let path = path.into();
        let doc = read_document(&path)?;
        warn_if_others_have_access(&path);
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
            // Reasons name the key's parts and the value's shape, never a value: any string of
            // a credentials file may be a secret.
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
                key: SafeUrl::new(key),
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
    /// atomically. `change` returns whether it changed anything. Every run, changed or not, also
    /// removes the temporary files a killed writer left beside the file, which may hold tokens.
    fn modify<R>(
        &self,
        change: impl FnOnce(&mut BTreeMap<String, String>) -> (R, bool),
    ) -> Result<R, FileStoreError> {
        let target = resolve(&self.path)?.path;
        let dir = target
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        create_private_dir(dir).map_err(|source| FileStoreError::Io {
            action: "create the directory",
            path: dir.to_owned(),
            source,
        })?;
        let lock_path = lock_path(&target);
        let lock = open_lock(&lock_path)?;
        lock.lock()
            .map_err(|source| write_error("lock", &lock_path, source))?;

        // Under the lock no writer of ours is part way, so a temporary file is a leftover.
        remove_leftover_temp_files(dir, &target);
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

fn write_error(action: &'static str, path: &Path, source: io::Error) -> FileStoreError {
    FileStoreError::Write {
        action,
        path: path.to_owned(),
        source,
    }
}

/// Where the credentials file at a path really is.
#[derive(Debug)]
struct Resolved {
    /// The path itself, or for a symbolic link the file it points to (every link followed).
    path: PathBuf,
    /// Whether a (regular) file is there.
    exists: bool,
}

/// The one check of the path, before anything opens it, used by reads and writes alike: a
/// symbolic link is followed to its target, which must exist; what is there must be a regular
/// file. So a read never blocks on a FIFO or a device, and a write never replaces one.
fn resolve(path: &Path) -> Result<Resolved, FileStoreError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Ok(Resolved {
                path: path.to_owned(),
                exists: false,
            });
        }
        Err(source) => {
            return Err(FileStoreError::Io {
                action: "inspect the credentials file",
                path: path.to_owned(),
                source,
            });
        }
    };
    if !meta.file_type().is_symlink() {
        if let Some(what) = not_regular(meta.file_type()) {
            return Err(FileStoreError::NotARegularFile {
                path: path.to_owned(),
                what: what.to_owned(),
            });
        }
        return Ok(Resolved {
            path: path.to_owned(),
            exists: true,
        });
    }
    let target = match fs::canonicalize(path) {
        Ok(target) => target,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Err(FileStoreError::DanglingLink {
                path: path.to_owned(),
                target: fs::read_link(path).unwrap_or_default(),
            });
        }
        Err(source) => {
            return Err(FileStoreError::Io {
                action: "follow the symbolic link",
                path: path.to_owned(),
                source,
            });
        }
    };
    let meta = fs::metadata(&target).map_err(|source| FileStoreError::Io {
        action: "inspect the credentials file",
        path: target.clone(),
        source,
    })?;
    if let Some(what) = not_regular(meta.file_type()) {
        return Err(FileStoreError::NotARegularFile {
            path: path.to_owned(),
            what: format!("a symbolic link to {}, which is {what}", target.display()),
        });
    }
    Ok(Resolved {
        path: target,
        exists: true,
    })
}

/// What a file that is not a regular file is, in words; `None` for a regular file.
fn not_regular(file_type: fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        return None;
    }
    if file_type.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if file_type.is_fifo() {
            return Some("a FIFO");
        }
        if file_type.is_char_device() {
            return Some("a character device");
        }
        if file_type.is_block_device() {
            return Some("a block device");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
    }
    if file_type.is_symlink() {
        return Some("a symbolic link");
    }
    Some("a special file")
}

fn read_document(path: &Path) -> Result<Document, FileStoreError> {
    let resolved = resolve(path)?;
    if !resolved.exists {
        return Ok(Document::default());
    }
    let read_error = |source| FileStoreError::Io {
        action: "read the credentials file",
        path: path.to_owned(),
        source,
    };
    let mut file = match fs::File::open(&resolved.path) {
        Ok(file) => file,
        // Removed since we looked: as if it had never been there.
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Document::default()),
        Err(source) => return Err(read_error(source)),
    };
    // The path may have been swapped since we looked; what we opened is what must be regular.
    let meta = file.metadata().map_err(read_error)?;
    if let Some(what) = not_regular(meta.file_type()) {
        return Err(FileStoreError::NotARegularFile {
            path: path.to_owned(),
            what: what.to_owned(),
        });
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(read_error)?;
    Document::parse_bytes(bytes).map_err(
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

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".lock");
    path.with_file_name(name)
}

/// Opens (creating it) the lock file, refusing a lock path that is not a regular file (a
/// symbolic link included: we never create one), checked before opening and again on what was
/// opened.
fn open_lock(path: &Path) -> Result<fs::File, FileStoreError> {
    let refuse = |what: &str| FileStoreError::LockNotARegularFile {
        path: path.to_owned(),
        what: what.to_owned(),
    };
    if let Ok(meta) = fs::symlink_metadata(path)
        && let Some(what) = not_regular(meta.file_type())
    {
        return Err(refuse(what));
    }
    let lock =
        open_private(path).map_err(|source| write_error("open the lock file", path, source))?;
    let meta = lock
        .metadata()
        .map_err(|source| write_error("open the lock file", path, source))?;
    match not_regular(meta.file_type()) {
        Some(what) => Err(refuse(what)),
        None => Ok(lock),
    }
}

/// How many random characters a temporary file's name holds.
const TEMP_RANDOM_LEN: usize = 12;
/// The temporary file of `credentials.json` is `.credentials.json.auth-XXXXXXXXXXXX.tmp`: a name
/// no person picks, so removing leftovers never removes a file of the user's.
const TEMP_MARK: &str = ".auth-";
const TEMP_SUFFIX: &str = ".tmp";

fn temp_prefix(target: &Path) -> OsString {
    let mut prefix = OsString::from(".");
    prefix.push(target.file_name().unwrap_or_default());
    prefix.push(TEMP_MARK);
    prefix
}

/// Whether `name` is exactly a temporary file name of ours for the file `target`.
fn is_temp_file_name(name: &OsStr, target: &Path) -> bool {
    let prefix = temp_prefix(target);
    name.as_encoded_bytes()
        .strip_prefix(prefix.as_encoded_bytes())
        .and_then(|rest| rest.strip_suffix(TEMP_SUFFIX.as_bytes()))
        .is_some_and(|random| {
            random.len() == TEMP_RANDOM_LEN && random.iter().all(u8::is_ascii_alphanumeric)
        })
}

/// Removes the temporary files of `target` that a writer killed before its rename left in
/// `dir`. Called under the lock. Only regular files named exactly as ours are touched.
fn remove_leftover_temp_files(dir: &Path, target: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if !is_temp_file_name(&entry.file_name(), target)
            || !entry.file_type().is_ok_and(|kind| kind.is_file())
        {
            continue;
        }
        let path = entry.path();
        match fs::remove_file(&path) {
            Ok(()) => tracing::debug!(
                "removed the temporary file {} a killed writer left",
                path.display()
            ),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => tracing::warn!(
                error = %err,
                "could not remove the leftover temporary file {}, which may hold credentials; \
                 remove it",
                path.display()
            ),
        }
    }
}

/// A new temporary file for `target` in `dir`, created with mode 0600 (said here rather than left
/// to `tempfile`'s default, so the rule has one line a test guards), removed when dropped.
fn new_temp_file(dir: &Path, target: &Path) -> io::Result<tempfile::NamedTempFile> {
    let prefix = temp_prefix(target);
    let mut builder = tempfile::Builder::new();
    builder
        .prefix(&prefix)
        .rand_bytes(TEMP_RANDOM_LEN)
        .suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(fs::Permissions::from_mode(0o600));
    }
    builder.tempfile_in(dir)
}

fn write_atomically(dir: &Path, path: &Path, text: &str) -> Result<(), FileStoreError> {
    // Every error below drops the temporary file, which removes it.
    let mut temp = new_temp_file(dir, path)
        .map_err(|source| write_error("create a temporary file beside", path, source))?;
    temp.write_all(text.as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|source| write_error("write a temporary file beside", path, source))?;
    temp.persist(path)
        .map_err(|err| write_error("replace the credentials file", path, err.error))?;
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

/// Warns when other users can read the file, or write a directory that holds it or the link to
/// it (and so could replace it).
#[cfg(unix)]
fn warn_if_others_have_access(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |path: &Path| {
        fs::metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o7777)
    };
    if let Some(mode) = mode(path)
        && mode & 0o077 != 0
    {
        tracing::warn!(
            "the credentials file {} can be read by other users (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
    let dir_of = |path: &Path| {
        path.parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_owned()
    };
    let mut dirs = vec![dir_of(path)];
    if let Ok(target) = fs::canonicalize(path) {
        let target_dir = dir_of(&target);
        if fs::canonicalize(&dirs[0]).ok().as_ref() != Some(&target_dir) {
            dirs.push(target_dir);
        }
    }
    for dir in dirs {
        if let Some(mode) = mode(&dir)
            && mode & 0o022 != 0
        {
            tracing::warn!(
                "the directory {} of the credentials file can be written by other users (mode \
                 {mode:o}), who could replace the file or put a link in its place; run \
                 `chmod go-w {}`",
                dir.display(),
                dir.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_others_have_access(_path: &Path) {}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;
    use std::path::Path;

    use auth_core::{HostKey, UrlTarget};
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};

    use super::{
        could_match, is_temp_file_name, new_temp_file, remove_leftover_temp_files, same_key,
    };

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
            ("user@host", "other", false),
            ("user@host", "host", true),
            ("u:p@host:8443/x", "host", true),
            ("u:p@other/x@host", "host", false),
            ("a@b:c@host:1", "host", true),
            ("ü:p@host", "host", true),
            ("[::1]:443", "other", true),
            ("exa mple.com", "other", true),
            ("0x7f.1", "127.0.0.1", true),
            ("bücher.example", "xn--bcher-kva.example", true),
            ("*.dev", "prefix.dev", true),
            // Regression: a scheme in another case hid the key from the cold scan.
            ("HTTPS://example.com", "example.com", true),
            ("Http://example.com:8080/x", "example.com", true),
            ("S3://bkt", "bkt", true),
            ("hTTps://*.Example.COM.", "a.example.com", true),
            ("HTTPS://other.com", "example.com", false),
            ("  example.com  ", "example.com", true),
            ("ftp://example.com", "other.com", true),
        ];
        for (raw, host, expected) in cases {
            assert_eq!(could_match(raw, host), expected, "{raw} for {host}");
        }
    }

    #[test]
    fn temp_file_names_are_ours_exactly() {
        let target = Path::new("/d/credentials.json");
        let cases = [
            (".credentials.json.auth-Ab3dEf9hIj2k.tmp", true),
            (".credentials.json.auth-Ab3dEf9hIj2.tmp", false),
            (".credentials.json.auth-Ab3dEf9hIj2k_.tmp", false),
            (".credentials.json.auth-Ab3dEf9h-j2k.tmp", false),
            (".other.json.auth-Ab3dEf9hIj2k.tmp", false),
            (".credentialsbackup.tmp", false),
            ("credentials.json.auth-Ab3dEf9hIj2k.tmp", false),
            ("foo.tmp", false),
        ];
        for (name, ours) in cases {
            assert_eq!(is_temp_file_name(OsStr::new(name), target), ours, "{name}");
        }
    }

    /// The cleanup recognises the temporary files the writer makes, and only those.
    #[test]
    fn leftovers_of_a_killed_writer_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("credentials.json");
        let other = dir.path().join("other.json");
        // `keep` is what a writer killed before its rename leaves behind.
        let (_, ours) = new_temp_file(dir.path(), &target).unwrap().keep().unwrap();
        let (_, not_ours) = new_temp_file(dir.path(), &other).unwrap().keep().unwrap();
        assert!(
            is_temp_file_name(ours.file_name().unwrap(), &target),
            "{}",
            ours.display()
        );
        remove_leftover_temp_files(dir.path(), &target);
        assert!(!ours.exists());
        assert!(not_ours.exists());
    }

    #[test]
    fn other_spellings_are_the_same_key() {
        let cases = [
            ("example.com", "example.com", true),
            ("EXAMPLE.com.", "example.com", true),
            ("user@example.com", "example.com", true),
            ("https://user:pw@Example.com/", "https://example.com", true),
            ("HTTPS://example.com", "https://example.com", true),
            ("example.com///", "example.com", true),
            ("*.Example.com", "*.example.com", true),
            ("example.com", "*.example.com", false),
            ("https://example.com", "example.com", false),
            ("example.com:8443", "example.com", false),
        ];
        for (raw, key, same) in cases {
            let key = HostKey::parse(key).unwrap();
            assert_eq!(
                same_key(raw, &key, &key.canonical()),
                same,
                "{raw} for {key}"
            );
        }
    }

    /// The suite's config: proptest's defaults (which read `PROPTEST_CASES`), a fixed seed unless
    /// `PROPTEST_RNG_SEED` gives one, and no failure files written into the source tree.
    fn config() -> Config {
        let mut config = Config::default();
        if config.rng_seed == RngSeed::Random {
            config.rng_seed = RngSeed::Fixed(0x0f11_e570);
        }
        config.failure_persistence = None;
        config
    }

    fn host() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("example.com".to_owned()),
            Just("repo.example.com".to_owned()),
            Just("xn--bcher-kva.example".to_owned()),
            Just("bücher.example".to_owned()),
            Just("my_bucket".to_owned()),
            Just("127.0.0.1".to_owned()),
            Just("[::1]".to_owned()),
            "[a-z]{1,4}(\\.[a-z]{1,4}){0,2}",
        ]
    }

    fn key_text() -> impl Strategy<Value = String> {
        host().prop_flat_map(key_on)
    }

    /// Any spelling of a key on `host`: scheme in any case, wildcard, case, trailing dot, user
    /// information, port, path, spaces.
    fn key_on(host: String) -> impl Strategy<Value = String> {
        (
            "(|[hH][tT][tT][pP][sS]?://|[sS]3://|ftp://)",
            (any::<bool>(), Just(host), any::<bool>(), any::<bool>()),
            "(|user@|u:p@|a@b:c@)",
            "(|:8443|:80|:443)",
            "(|/|/org|/org/sub/)",
            "( ?)",
        )
            .prop_map(
                |(scheme, (wildcard, host, upper, dot), userinfo, port, path, space)| {
                    let host = if upper { host.to_uppercase() } else { host };
                    let star = if wildcard { "*." } else { "" };
                    let dot = if dot { "." } else { "" };
                    format!("{space}{scheme}{userinfo}{star}{host}{dot}{port}{path}{space}")
                },
            )
    }

    /// A URL on `host`, a subdomain of it, or a look-alike.
    fn url_near(host: &str) -> impl Strategy<Value = String> + use<> {
        (
            "(https|http|s3|HTTPS)",
            prop_oneof![
                Just(host.to_owned()),
                Just(format!("a.{host}")),
                Just(format!("x{host}")),
                Just(host.to_uppercase()),
            ],
            "(|:8443|:80|:443)",
            "(/|/org/x|/orgx)",
        )
            .prop_map(|(scheme, host, port, path)| format!("{scheme}://{host}{port}{path}"))
    }

    /// A key and a URL around the same host.
    fn key_and_url() -> impl Strategy<Value = (String, String)> {
        host().prop_flat_map(|host| (key_on(host.clone()), url_near(&host)))
    }

    proptest! {
        #![proptest_config(config())]

        /// The prefilter over-approximates the parse: it never rules out a key that matches.
        #[test]
        fn prop_prefilter_never_rules_out_a_match((raw, url) in key_and_url()) {
            let Ok(target) = UrlTarget::parse(&url) else { return Ok(()) };
            if HostKey::parse(&raw).is_ok_and(|key| key.matches(&target)) {
                prop_assert!(could_match(&raw, target.host()), "{raw:?} matches {url}");
            }
        }

        /// Every spelling of a key is found as the same key by `set` and `remove`.
        #[test]
        fn prop_same_key_finds_every_spelling(raw in key_text()) {
            if let Ok(key) = HostKey::parse(&raw) {
                let canonical = key.canonical();
                prop_assert!(same_key(&raw, &canonical, &canonical), "{raw:?} is {canonical}");
            }
        }
    }
}
