//! `NetrcStore`: the entries of a `.netrc` file, read once, in a `CredentialIndex`.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use auth_core::{
    Authentication, Credential, CredentialIndex, CredentialStore, HostKey, HostSpec, Secret,
    StoreError, UrlTarget,
};

use crate::error::NetrcError;
use crate::parse::{self, Entry};

/// The label under which the `default` entry is listed.
const DEFAULT_LABEL: &str = "default";

/// A `.netrc` file, read when opened. It only reads: `set` and `remove` answer
/// [`StoreError::ReadOnly`].
pub struct NetrcStore {
    path: PathBuf,
    index: CredentialIndex<Arc<Credential>>,
}

impl NetrcStore {
    /// Reads the file at `path`; a missing file is an empty store. A path that is not a regular
    /// file (a FIFO, a device, a socket, a directory) is refused before it is opened, and so is
    /// a file larger than any `.netrc`.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, NetrcError> {
        let path = path.into();
        match read_file(&path)? {
            Some(bytes) => Self::from_bytes(path, bytes),
            None => Self::from_text(path, ""),
        }
    }

    /// The store for these bytes, as if read from `path`: UTF-8, then parsed.
    pub(crate) fn from_bytes(path: PathBuf, bytes: Vec<u8>) -> Result<Self, NetrcError> {
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(err) => {
                let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
                let line = valid.split(|&b| b == b'\n').count();
                return Err(NetrcError::Parse {
                    path,
                    line,
                    reason: "the file is not UTF-8 text; save it as UTF-8".to_owned(),
                });
            }
        };
        Self::from_text(path, &text)
    }

    /// The store for this text, as if read from `path`.
    pub(crate) fn from_text(path: PathBuf, text: &str) -> Result<Self, NetrcError> {
        let entries = match parse::parse(text) {
            Ok(entries) => entries,
            Err(err) => {
                return Err(NetrcError::Parse {
                    path,
                    line: err.line,
                    reason: err.reason.to_string(),
                });
            }
        };
        let mut index = CredentialIndex::new();
        for entry in entries {
            let Some(credential) = credential(entry) else {
                continue;
            };
            // The first entry for a host wins, as in curl (CPython keeps the last).
            if index.get(&credential.key).is_none() {
                index.insert(credential.key.clone(), Arc::new(credential));
            }
        }
        Ok(Self { path, index })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The most a `.netrc` may hold. Far more than anyone writes by hand (a thousand entries take
/// about 100 KiB), and little enough that a wrong `NETRC` cannot fill the memory.
const MAX_LEN_MIB: u64 = 16;
const MAX_LEN: u64 = MAX_LEN_MIB * 1024 * 1024;

/// The file's bytes; `None` when there is no file.
///
/// What the path is comes first, following symbolic links, and nothing but a regular file is
/// opened: opening a FIFO blocks until some process writes to it (`auth status` hung forever),
/// and a device such as `/dev/zero` never ends. The open file is checked again, as the path may
/// have been replaced in between, and read to at most [`MAX_LEN`] bytes whatever its size says.
fn read_file(path: &Path) -> Result<Option<Vec<u8>>, NetrcError> {
    let read_error = |source| NetrcError::Read {
        path: path.to_owned(),
        source,
    };
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        // A dangling symbolic link is no file either, as for curl.
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(read_error(source)),
    };
    if is_dev_null(&metadata) {
        return Ok(None);
    }
    check_regular(path, &metadata)?;
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(read_error(source)),
    };
    let metadata = file.metadata().map_err(read_error)?;
    check_regular(path, &metadata)?;
    let too_large = || NetrcError::TooLarge {
        path: path.to_owned(),
        limit_mib: MAX_LEN_MIB,
    };
    if metadata.len() > MAX_LEN {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(MAX_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    // A file that grew after it was measured.
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_LEN {
        return Err(too_large());
    }
    Ok(Some(bytes))
}

/// Whether this is `/dev/null`, under any name: `NETRC=/dev/null` is how curl users turn
/// `.netrc` off, and it reads as an empty file without being opened.
#[cfg(unix)]
fn is_dev_null(metadata: &fs::Metadata) -> bool {
    use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _};
    metadata.file_type().is_char_device()
        && fs::metadata("/dev/null")
            .is_ok_and(|null| null.file_type().is_char_device() && null.rdev() == metadata.rdev())
}

#[cfg(not(unix))]
fn is_dev_null(_metadata: &fs::Metadata) -> bool {
    false
}

/// Refuses anything but a regular file, saying what it is.
fn check_regular(path: &Path, metadata: &fs::Metadata) -> Result<(), NetrcError> {
    let file_type = metadata.file_type();
    if file_type.is_file() {
        return Ok(());
    }
    Err(NetrcError::NotRegularFile {
        path: path.to_owned(),
        kind: kind_of(file_type),
    })
}

fn kind_of(file_type: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// The credential of an entry, or `None` (logged) when it has none we can use.
fn credential(entry: Entry) -> Option<Credential> {
    let Entry {
        machine,
        login,
        password,
        line,
        ..
    } = entry;
    let key = match &machine {
        None => HostKey::any_host(DEFAULT_LABEL),
        Some(name) => {
            let Some(key) = machine_key(name) else {
                // The name is not shown: one written as a URL may carry a password
                // (`https://user:secret@host`).
                tracing::debug!(
                    line,
                    "skipped a .netrc entry: its machine name is not a plain host name (a \
                     wildcard, scheme, user, port or path)"
                );
                return None;
            };
            key
        }
    };
    let Some(password) = password else {
        // curl then looks further, as we do: a later entry for the host, else `default`.
        tracing::debug!(
            line,
            machine = key.as_str(),
            "skipped a .netrc entry: it has no password"
        );
        return None;
    };
    Some(Credential {
        key,
        auth: Authentication::BasicHTTP {
            username: login.unwrap_or_default(),
            password: Secret::from(password),
        },
    })
}

/// The key of a `machine` name: an exact host, matched on any port. A wildcard, scheme, user,
/// port or path is not a `.netrc` machine name (curl compares the bare host name), so none is
/// accepted.
fn machine_key(name: &str) -> Option<HostKey> {
    if name.contains('@') {
        return None;
    }
    let key = HostKey::parse(name).ok()?.canonical();
    match key.host() {
        HostSpec::Exact(host) if **host == *key.as_str() => Some(key),
        _ => None,
    }
}

impl fmt::Debug for NetrcStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetrcStore")
            .field("path", &self.path)
            .field("entries", &self.index.len())
            .finish()
    }
}

impl CredentialStore for NetrcStore {
    fn name(&self) -> &'static str {
        "netrc"
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn describe(&self) -> String {
        format!("the .netrc file {}", self.path.display())
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

    fn set(&self, _key: &HostKey, _auth: &Authentication) -> Result<(), StoreError> {
        Err(self.read_only())
    }

    fn remove(&self, _key: &HostKey) -> Result<bool, StoreError> {
        Err(self.read_only())
    }

    fn list(&self) -> Result<Vec<Arc<Credential>>, StoreError> {
        let mut entries: Vec<_> = self
            .index
            .iter()
            .map(|(_, credential)| Arc::clone(credential))
            .collect();
        entries.sort_by(|a, b| a.key.as_str().cmp(b.key.as_str()));
        Ok(entries)
    }
}

impl NetrcStore {
    fn read_only(&self) -> StoreError {
        StoreError::ReadOnly {
            store: format!("the .netrc file {}", self.path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::path::PathBuf;

    use auth_core::{Authentication, CredentialStore, UrlTarget};

    use super::NetrcStore;
    use crate::parse;

    /// The entries the parser finds, then what a lookup of each host answers.
    fn check(input: &str, hosts: &[&str]) -> String {
        let mut out = String::new();
        let entries = match parse::parse(input) {
            Ok(entries) => entries,
            Err(err) => return format!("error: {err}"),
        };
        for entry in &entries {
            match &entry.machine {
                Some(name) => write!(out, "machine {name:?}").unwrap(),
                None => out.push_str("default"),
            }
            for (field, value) in [
                ("login", &entry.login),
                ("password", &entry.password),
                ("account", &entry.account),
            ] {
                if let Some(value) = value {
                    write!(out, " {field} {value:?}").unwrap();
                }
            }
            out.push('\n');
        }
        let store = NetrcStore::from_text(PathBuf::from("netrc"), input).unwrap();
        for host in hosts {
            let url = format!("https://{host}/");
            let target = UrlTarget::parse(&url).unwrap();
            write!(out, "{host} -> ").unwrap();
            match store.find(&target).unwrap() {
                Some(found) => match &found.auth {
                    Authentication::BasicHTTP { username, password } => {
                        writeln!(out, "{username:?}:{:?} ({})", password.expose(), found.key)
                            .unwrap();
                    }
                    other => writeln!(out, "{}", other.kind()).unwrap(),
                },
                None => out.push_str("-\n"),
            }
        }
        out
    }

    /// Several files, each with its result.
    fn table(inputs: &[&str], hosts: &[&str]) -> String {
        inputs
            .iter()
            .map(|input| format!("{input:?}\n{}", check(input, hosts)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    const HOSTS: &[&str] = &["host.domain.com", "other.example"];
    const COMMENT_HOSTS: &[&str] = &["foo.domain.com", "bar.domain.com"];

    // CPython's Lib/test/test_netrc.py (3.11 to 3.13), one test per function. CPython keeps the
    // last entry for a host; `test_security` checks file permissions, which we do not.

    #[test]
    fn cpython_toplevel_tokens() {
        insta::assert_snapshot!(check("machine host.domain.com login log1 password pass1 account acct1\ndefault login log2 password pass2 account acct2\n", HOSTS), @r#"
        machine "host.domain.com" login "log1" password "pass1" account "acct1"
        default login "log2" password "pass2" account "acct2"
        host.domain.com -> "log1":"pass1" (host.domain.com)
        other.example -> "log2":"pass2" (default)
        "#);
    }

    #[test]
    fn cpython_toplevel_non_ordered_tokens() {
        insta::assert_snapshot!(check("machine host.domain.com password pass1 login log1 account acct1\ndefault login log2 password pass2 account acct2\n", HOSTS), @r#"
        machine "host.domain.com" login "log1" password "pass1" account "acct1"
        default login "log2" password "pass2" account "acct2"
        host.domain.com -> "log1":"pass1" (host.domain.com)
        other.example -> "log2":"pass2" (default)
        "#);
    }

    #[test]
    fn cpython_macros() {
        let macros = "macdef macro1\nline1\nline2\n\nmacdef macro2\nline3\nline4\n\n";
        insta::assert_snapshot!(check(macros, HOSTS), @r"
        host.domain.com -> -
        other.example -> -
        ");
        // CPython rejects a body that runs to the end of the file; curl accepts it, and so do we:
        // no entry can be lost after it.
        insta::assert_snapshot!(check(&macros[..macros.len() - 1], HOSTS), @r"
        host.domain.com -> -
        other.example -> -
        ");
    }

    #[test]
    fn cpython_optional_tokens() {
        // CPython reads each as ("", "", ""); without a password there is no credential.
        let inputs = [
            "machine host.domain.com",
            "machine host.domain.com login",
            "machine host.domain.com account",
            "machine host.domain.com password",
            "machine host.domain.com login \"\" account",
            "machine host.domain.com login \"\" password",
            "machine host.domain.com account \"\" password",
            "default",
            "default login",
            "default account",
            "default password",
            "default login \"\" account",
            "default login \"\" password",
            "default account \"\" password",
        ];
        insta::assert_snapshot!(table(&inputs, &["host.domain.com"]), @r#"
        "machine host.domain.com"
        machine "host.domain.com"
        host.domain.com -> -

        "machine host.domain.com login"
        machine "host.domain.com"
        host.domain.com -> -

        "machine host.domain.com account"
        machine "host.domain.com"
        host.domain.com -> -

        "machine host.domain.com password"
        machine "host.domain.com"
        host.domain.com -> -

        "machine host.domain.com login \"\" account"
        machine "host.domain.com" login ""
        host.domain.com -> -

        "machine host.domain.com login \"\" password"
        machine "host.domain.com" login ""
        host.domain.com -> -

        "machine host.domain.com account \"\" password"
        machine "host.domain.com" account ""
        host.domain.com -> -

        "default"
        default
        host.domain.com -> -

        "default login"
        default
        host.domain.com -> -

        "default account"
        default
        host.domain.com -> -

        "default password"
        default
        host.domain.com -> -

        "default login \"\" account"
        default login ""
        host.domain.com -> -

        "default login \"\" password"
        default login ""
        host.domain.com -> -

        "default account \"\" password"
        default account ""
        host.domain.com -> -
        "#);
    }

    #[test]
    fn cpython_invalid_tokens() {
        let inputs = [
            "invalid host.domain.com",
            "machine host.domain.com invalid",
            "machine host.domain.com login log password pass account acct invalid",
            "default host.domain.com invalid",
            "default host.domain.com login log password pass account acct invalid",
        ];
        insta::assert_snapshot!(table(&inputs, HOSTS), @r#"
        "invalid host.domain.com"
        error: line 1: expected `machine`, `default` or `macdef` here; an entry starts with `machine HOST` or `default`
        "machine host.domain.com invalid"
        error: line 1: expected `login`, `password`, `account`, `machine`, `default` or `macdef` here; a value that contains spaces must be written in double quotes
        "machine host.domain.com login log password pass account acct invalid"
        error: line 1: expected `login`, `password`, `account`, `machine`, `default` or `macdef` here; a value that contains spaces must be written in double quotes
        "default host.domain.com invalid"
        error: line 1: expected `login`, `password`, `account`, `machine`, `default` or `macdef` here; a value that contains spaces must be written in double quotes
        "default host.domain.com login log password pass account acct invalid"
        error: line 1: expected `login`, `password`, `account`, `machine`, `default` or `macdef` here; a value that contains spaces must be written in double quotes
        "#);
    }

    #[test]
    fn cpython_token_value_quotes() {
        let inputs = [
            "machine host.domain.com login \"log\" password pass account acct\n",
            "machine host.domain.com login log password pass account \"acct\"\n",
            "machine host.domain.com login log password \"pass\" account acct\n",
        ];
        insta::assert_snapshot!(table(&inputs, &["host.domain.com"]), @r#"
        "machine host.domain.com login \"log\" password pass account acct\n"
        machine "host.domain.com" login "log" password "pass" account "acct"
        host.domain.com -> "log":"pass" (host.domain.com)

        "machine host.domain.com login log password pass account \"acct\"\n"
        machine "host.domain.com" login "log" password "pass" account "acct"
        host.domain.com -> "log":"pass" (host.domain.com)

        "machine host.domain.com login log password \"pass\" account acct\n"
        machine "host.domain.com" login "log" password "pass" account "acct"
        host.domain.com -> "log":"pass" (host.domain.com)
        "#);
    }

    #[test]
    fn cpython_token_value_escape() {
        let inputs = [
            r#"machine host.domain.com login \"log password pass account acct"#,
            r#"machine host.domain.com login "\"log" password pass account acct"#,
            r#"machine host.domain.com login log password pass account \"acct"#,
            r#"machine host.domain.com login log password pass account "\"acct""#,
            r#"machine host.domain.com login log password \"pass account acct"#,
            r#"machine host.domain.com login log password "\"pass" account acct"#,
        ];
        insta::assert_snapshot!(table(&inputs, &["host.domain.com"]), @r#"
        "machine host.domain.com login \\\"log password pass account acct"
        machine "host.domain.com" login "\"log" password "pass" account "acct"
        host.domain.com -> "\"log":"pass" (host.domain.com)

        "machine host.domain.com login \"\\\"log\" password pass account acct"
        machine "host.domain.com" login "\"log" password "pass" account "acct"
        host.domain.com -> "\"log":"pass" (host.domain.com)

        "machine host.domain.com login log password pass account \\\"acct"
        machine "host.domain.com" login "log" password "pass" account "\"acct"
        host.domain.com -> "log":"pass" (host.domain.com)

        "machine host.domain.com login log password pass account \"\\\"acct\""
        machine "host.domain.com" login "log" password "pass" account "\"acct"
        host.domain.com -> "log":"pass" (host.domain.com)

        "machine host.domain.com login log password \\\"pass account acct"
        machine "host.domain.com" login "log" password "\"pass" account "acct"
        host.domain.com -> "log":"\"pass" (host.domain.com)

        "machine host.domain.com login log password \"\\\"pass\" account acct"
        machine "host.domain.com" login "log" password "\"pass" account "acct"
        host.domain.com -> "log":"\"pass" (host.domain.com)
        "#);
    }

    #[test]
    fn cpython_token_value_whitespace() {
        let inputs = [
            "machine host.domain.com login \"lo g\" password pass account acct\n",
            "machine host.domain.com login log password \"pas s\" account acct\n",
            "machine host.domain.com login log password pass account \"acc t\"\n",
        ];
        insta::assert_snapshot!(table(&inputs, &["host.domain.com"]), @r#"
        "machine host.domain.com login \"lo g\" password pass account acct\n"
        machine "host.domain.com" login "lo g" password "pass" account "acct"
        host.domain.com -> "lo g":"pass" (host.domain.com)

        "machine host.domain.com login log password \"pas s\" account acct\n"
        machine "host.domain.com" login "log" password "pas s" account "acct"
        host.domain.com -> "log":"pas s" (host.domain.com)

        "machine host.domain.com login log password pass account \"acc t\"\n"
        machine "host.domain.com" login "log" password "pass" account "acc t"
        host.domain.com -> "log":"pass" (host.domain.com)
        "#);
    }

    #[test]
    fn cpython_token_value_non_ascii() {
        let inputs = [
            "machine host.domain.com login \u{a1}\u{a2} password pass account acct\n",
            "machine host.domain.com login log password pass account \u{a1}\u{a2}\n",
            "machine host.domain.com login log password \u{a1}\u{a2} account acct\n",
        ];
        insta::assert_snapshot!(table(&inputs, &["host.domain.com"]), @r#"
        "machine host.domain.com login ¡¢ password pass account acct\n"
        machine "host.domain.com" login "¡¢" password "pass" account "acct"
        host.domain.com -> "¡¢":"pass" (host.domain.com)

        "machine host.domain.com login log password pass account ¡¢\n"
        machine "host.domain.com" login "log" password "pass" account "¡¢"
        host.domain.com -> "log":"pass" (host.domain.com)

        "machine host.domain.com login log password ¡¢ account acct\n"
        machine "host.domain.com" login "log" password "¡¢" account "acct"
        host.domain.com -> "log":"¡¢" (host.domain.com)
        "#);
    }

    #[test]
    fn cpython_token_value_hashes() {
        let inputs = [
            // Leading.
            "machine host.domain.com login #log password pass account acct\n",
            "machine host.domain.com login log password pass account #acct\n",
            "machine host.domain.com login log password #pass account acct\n",
            // Trailing.
            "machine host.domain.com login log# password pass account acct\n",
            "machine host.domain.com login log password pass account acct#\n",
            "machine host.domain.com login log password pass# account acct\n",
            // Internal.
            "machine host.domain.com login lo#g password pass account acct\n",
            "machine host.domain.com login log password pass account ac#ct\n",
            "machine host.domain.com login log password pa#ss account acct\n",
        ];
        insta::assert_snapshot!(table(&inputs, &["host.domain.com"]), @r##"
        "machine host.domain.com login #log password pass account acct\n"
        machine "host.domain.com" login "#log" password "pass" account "acct"
        host.domain.com -> "#log":"pass" (host.domain.com)

        "machine host.domain.com login log password pass account #acct\n"
        machine "host.domain.com" login "log" password "pass" account "#acct"
        host.domain.com -> "log":"pass" (host.domain.com)

        "machine host.domain.com login log password #pass account acct\n"
        machine "host.domain.com" login "log" password "#pass" account "acct"
        host.domain.com -> "log":"#pass" (host.domain.com)

        "machine host.domain.com login log# password pass account acct\n"
        machine "host.domain.com" login "log#" password "pass" account "acct"
        host.domain.com -> "log#":"pass" (host.domain.com)

        "machine host.domain.com login log password pass account acct#\n"
        machine "host.domain.com" login "log" password "pass" account "acct#"
        host.domain.com -> "log":"pass" (host.domain.com)

        "machine host.domain.com login log password pass# account acct\n"
        machine "host.domain.com" login "log" password "pass#" account "acct"
        host.domain.com -> "log":"pass#" (host.domain.com)

        "machine host.domain.com login lo#g password pass account acct\n"
        machine "host.domain.com" login "lo#g" password "pass" account "acct"
        host.domain.com -> "lo#g":"pass" (host.domain.com)

        "machine host.domain.com login log password pass account ac#ct\n"
        machine "host.domain.com" login "log" password "pass" account "ac#ct"
        host.domain.com -> "log":"pass" (host.domain.com)

        "machine host.domain.com login log password pa#ss account acct\n"
        machine "host.domain.com" login "log" password "pa#ss" account "acct"
        host.domain.com -> "log":"pa#ss" (host.domain.com)
        "##);
    }

    #[test]
    fn cpython_comments() {
        let first = "machine foo.domain.com login bar password pass\n";
        let second = "machine bar.domain.com login foo password pass\n";
        let mut inputs = Vec::new();
        for comment in ["# comment\n", "#comment\n", "#\n"] {
            inputs.push(format!("{comment}{first}{second}"));
            inputs.push(format!("{first}{comment}{second}"));
            inputs.push(format!("{first}{second}{comment}"));
        }
        inputs.push(format!(
            "machine foo.domain.com login bar password pass # comment\n{second}"
        ));
        inputs.push(format!(
            "machine foo.domain.com login bar password pass #comment\n{second}"
        ));
        inputs.push(format!(
            "machine foo.domain.com login bar password #pass #comment\n{second}"
        ));
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        insta::assert_snapshot!(table(&inputs, COMMENT_HOSTS), @r##"
        "# comment\nmachine foo.domain.com login bar password pass\nmachine bar.domain.com login foo password pass\n"
        machine "foo.domain.com" login "bar" password "pass"
        machine "bar.domain.com" login "foo" password "pass"
        foo.domain.com -> "bar":"pass" (foo.domain.com)
        bar.domain.com -> "foo":"pass" (bar.domain.com)

        "machine foo.domain.com login bar password pass\n# comment\nmachine bar.domain.com login foo password pass\n"
        machine "foo.domain.com" login "bar" password "pass"
        machine "bar.domain.com" login "foo" password "pass"
        foo.domain.com -> "bar":"pass" (foo.domain.com)
        bar.domain.com -> "foo":"pass" (bar.domain.com)

        "machine foo.domain.com login bar password pass\nmachine bar.domain.com login foo password pass\n# comment\n"
        machine "foo.domain.com" login "bar" password "pass"
        machine "bar.domain.com" login "foo" password "pass"
        foo.domain.com -> "bar":"pass" (foo.domain.com)
        bar.domain.com -> "foo":"pass" (bar.domain.com)

        "#comment\nmachine foo.domain.com login bar password pass\nmachine bar.domain.com login foo password pass\n"
        machine "foo.domain.com" login "bar" password "pass"
        machine "bar.domain.com" login "foo" password "pass"
        foo.domain.com -> "bar":"pass" (foo.domain.com)
        bar.domain.com -> "foo":"pass" (bar.domain.com)

        "machine foo.domain.com login bar password pass\n#comment\nmachine bar.domain.com login foo password pass\n"
        machine "foo.domain.com" login "bar" password "pass"
        machine "bar.domain.com" login "foo" password "pass"
        foo.domain.com -> "bar":"pass" (foo.domain.com)
        bar.domain.com -> "foo":"pass" (bar.domain.com)

        "machine foo.domain.com login bar password pass\nmachine bar.domain.com login foo password pass\n#comment\n"
        machine "foo.domain.com" login "bar" password "pass"
        machine "bar.domain.com" login "foo" password "pass"
        foo.domain.com -> "bar":"pass" (foo.domain.com)
        bar.domain.com -> "foo":"pass" (bar.domain.com)

        "#\nmachine foo.domain.com login bar password pass\nmachine bar.domain.com login foo password pass\n"
        machine "foo.domain.com" login "bar" password "pass"
        machine "bar.domain.com" login "foo" password "pass"
        foo.domain.com -> "bar":"pass" (foo.domain.com)
        bar.domain.com -> "foo":"pass" (bar.domain.com)

        "machine foo.domain.com login bar password pass\n#\nmachine bar.domain.com login foo password pass\n"
        machine "foo.domain.com" login "bar" password "pass"
        machine "bar.domain.com" login "foo" password "pass"
        foo.domain.com -> "bar":"pass" (foo.domain.com)
        bar.domain.com -> "foo":"pass" (bar.domain.com)

        "machine foo.domain.com login bar password pass\nmachine bar.domain.com login foo password pass\n#\n"
        machine "foo.domain.com" login "bar" password "pass"
        machine "bar.domain.com" login "foo" password "pass"
        foo.domain.com -> "bar":"pass" (foo.domain.com)
        bar.domain.com -> "foo":"pass" (bar.domain.com)

        "machine foo.domain.com login bar password pass # comment\nmachine bar.domain.com login foo password pass\n"
        machine "foo.domain.com" login "bar" password "pass"
        machine "bar.domain.com" login "foo" password "pass"
        foo.domain.com -> "bar":"pass" (foo.domain.com)
        bar.domain.com -> "foo":"pass" (bar.domain.com)

        "machine foo.domain.com login bar password pass #comment\nmachine bar.domain.com login foo password pass\n"
        machine "foo.domain.com" login "bar" password "pass"
        machine "bar.domain.com" login "foo" password "pass"
        foo.domain.com -> "bar":"pass" (foo.domain.com)
        bar.domain.com -> "foo":"pass" (bar.domain.com)

        "machine foo.domain.com login bar password #pass #comment\nmachine bar.domain.com login foo password pass\n"
        machine "foo.domain.com" login "bar" password "#pass"
        machine "bar.domain.com" login "foo" password "pass"
        foo.domain.com -> "bar":"#pass" (foo.domain.com)
        bar.domain.com -> "foo":"pass" (bar.domain.com)
        "##);
    }

    // curl: tests/unit/unit1304.c on tests/data/test1304, and tests/data/test130, test257 and
    // test478. Each lookup below was also checked against curl 7.88.1 itself.

    #[test]
    fn curl_unit1304() {
        let text = "machine example.com login admin password passwd\nmachine curl.example.com login none password none\n";
        insta::assert_snapshot!(check(text, &["test.example.com", "example.com", "curl.example.com"]), @r#"
        machine "example.com" login "admin" password "passwd"
        machine "curl.example.com" login "none" password "none"
        test.example.com -> -
        example.com -> "admin":"passwd" (example.com)
        curl.example.com -> "none":"none" (curl.example.com)
        "#);
    }

    #[test]
    fn curl_test130_comments_several_accounts_and_default() {
        let text = "# the following two lines were created while testing curl\n# machine 127.0.0.1 login user1 password commented\nmachine 127.0.0.1 login user1 password passwd1\nmachine 127.0.0.1 login user2 password passwd2\ndefault login userdef password passwddef\n";
        insta::assert_snapshot!(check(text, &["127.0.0.1", "other.example"]), @r#"
        machine "127.0.0.1" login "user1" password "passwd1"
        machine "127.0.0.1" login "user2" password "passwd2"
        default login "userdef" password "passwddef"
        127.0.0.1 -> "user1":"passwd1" (127.0.0.1)
        other.example -> "userdef":"passwddef" (default)
        "#);
    }

    #[test]
    fn curl_test257_two_of_three_hosts() {
        let text = "machine supersite.com login user1 password passwd1\nmachine anotherone.com login user2 password passwd2\n";
        insta::assert_snapshot!(check(text, &["supersite.com", "anotherone.com", "athird.com"]), @r#"
        machine "supersite.com" login "user1" password "passwd1"
        machine "anotherone.com" login "user2" password "passwd2"
        supersite.com -> "user1":"passwd1" (supersite.com)
        anotherone.com -> "user2":"passwd2" (anotherone.com)
        athird.com -> -
        "#);
    }

    #[test]
    fn curl_test478_several_entries_for_one_host() {
        let text = "\nmachine github.com\npassword weird\npassword firstone\nlogin daniel\n\nmachine github.com\n\nmachine github.com\nlogin debbie\n\nmachine github.com\npassword weird\npassword \"second\\r\"\nlogin debbie\n\n";
        insta::assert_snapshot!(check(text, &["github.com"]), @r#"
        machine "github.com" login "daniel" password "firstone"
        machine "github.com"
        machine "github.com" login "debbie"
        machine "github.com" login "debbie" password "second\r"
        github.com -> "daniel":"firstone" (github.com)
        "#);
    }

    #[test]
    fn curl_crlf_line_endings() {
        let text = "machine example.com login admin password passwd\r\nmachine curl.example.com login none password none\r\nmacdef init\r\ncd /pub\r\n\r\nmachine crlf.example login c password cp\r\n";
        insta::assert_snapshot!(check(text, &["example.com", "curl.example.com", "crlf.example"]), @r#"
        machine "example.com" login "admin" password "passwd"
        machine "curl.example.com" login "none" password "none"
        machine "crlf.example" login "c" password "cp"
        example.com -> "admin":"passwd" (example.com)
        curl.example.com -> "none":"none" (curl.example.com)
        crlf.example -> "c":"cp" (crlf.example)
        "#);
    }

    #[test]
    fn curl_empty_files() {
        insta::assert_snapshot!(table(&["", "  \n\t\n", "# only a comment\n"], &["example.com"]), @r##"
        ""
        example.com -> -

        "  \n\t\n"
        example.com -> -

        "# only a comment\n"
        example.com -> -
        "##);
    }

    #[test]
    fn curl_default_is_used_only_when_no_machine_matches() {
        let inputs = [
            "machine a.example login a password ap\ndefault login d password dp\n",
            // curl answers `d` for a.example here, as it reads top to bottom; netrc(5) puts
            // `default` last, and CPython (like us) prefers the machine wherever it is.
            "default login d password dp\nmachine a.example login a password ap\n",
        ];
        insta::assert_snapshot!(table(&inputs, &["a.example", "b.example"]), @r#"
        "machine a.example login a password ap\ndefault login d password dp\n"
        machine "a.example" login "a" password "ap"
        default login "d" password "dp"
        a.example -> "a":"ap" (a.example)
        b.example -> "d":"dp" (default)

        "default login d password dp\nmachine a.example login a password ap\n"
        default login "d" password "dp"
        machine "a.example" login "a" password "ap"
        a.example -> "a":"ap" (a.example)
        b.example -> "d":"dp" (default)
        "#);
    }

    #[test]
    fn curl_entries_without_a_password_are_passed_over() {
        // As curl: the next entry for the host, else `default` (CPython answers "nopass":"").
        let text = "machine a.example login only\nmachine a.example login second password p2\nmachine b.example login nopass\ndefault login d password dp\n";
        insta::assert_snapshot!(check(text, &["a.example", "b.example"]), @r#"
        machine "a.example" login "only"
        machine "a.example" login "second" password "p2"
        machine "b.example" login "nopass"
        default login "d" password "dp"
        a.example -> "second":"p2" (a.example)
        b.example -> "d":"dp" (default)
        "#);
    }

    #[test]
    fn curl_quoted_tokens() {
        // `\t` is a tab, as curl documents (CPython reads it as `t`).
        let text = r#"machine q.example login "a user" password "p \"q\" \\ \t end""#;
        insta::assert_snapshot!(check(text, &["q.example"]), @r#"
        machine "q.example" login "a user" password "p \"q\" \\ \t end"
        q.example -> "a user":"p \"q\" \\ \t end" (q.example)
        "#);
    }

    #[test]
    fn curl_unterminated_quote_is_an_error() {
        // curl refuses the file; CPython reads the rest of the file into the password.
        let text =
            "machine q.example login u password \"open\nmachine r.example login r password rp\n";
        insta::assert_snapshot!(check(text, &["q.example"]), @r#"error: line 1: a double-quoted value is never closed; add the closing `"`"#);
    }

    #[test]
    fn curl_macdef_bodies_are_skipped() {
        let inputs = [
            "machine a.example login a password ap\nmacdef init\ncd /pub\nmachine evil.example login x password y\n\nmachine z.example login z password zp\n",
            "machine a.example login a password ap macdef init\nmachine evil.example login x password y\n\nmachine z.example login z password zp\n",
            // Only an empty line ends a body, not one of spaces (curl and CPython agree).
            "macdef init\ncd /pub\n   \nmachine z.example login z password zp\n",
            "macdef init\necho \u{e9}\u{e9}\u{e9}\u{e9}\n\nmachine z.example login z password zp\n",
        ];
        insta::assert_snapshot!(table(&inputs, &["a.example", "evil.example", "z.example"]), @r#"
        "machine a.example login a password ap\nmacdef init\ncd /pub\nmachine evil.example login x password y\n\nmachine z.example login z password zp\n"
        machine "a.example" login "a" password "ap"
        machine "z.example" login "z" password "zp"
        a.example -> "a":"ap" (a.example)
        evil.example -> -
        z.example -> "z":"zp" (z.example)

        "machine a.example login a password ap macdef init\nmachine evil.example login x password y\n\nmachine z.example login z password zp\n"
        machine "a.example" login "a" password "ap"
        machine "z.example" login "z" password "zp"
        a.example -> "a":"ap" (a.example)
        evil.example -> -
        z.example -> "z":"zp" (z.example)

        "macdef init\ncd /pub\n   \nmachine z.example login z password zp\n"
        a.example -> -
        evil.example -> -
        z.example -> -

        "macdef init\necho éééé\n\nmachine z.example login z password zp\n"
        machine "z.example" login "z" password "zp"
        a.example -> -
        evil.example -> -
        z.example -> "z":"zp" (z.example)
        "#);
    }

    #[test]
    fn curl_comments_anywhere_a_keyword_may_stand() {
        let inputs = [
            "machine a.example login a password ap # trailing words here\n  # indented comment machine evil.example login x password y\nmachine b.example login b password bp\n",
            // CPython rejects both of these.
            "#comment more words\nmachine a.example login a password ap\n",
            "\n\n# comment words\nmachine a.example login a password ap\n",
        ];
        insta::assert_snapshot!(table(&inputs, &["a.example", "b.example", "evil.example"]), @r##"
        "machine a.example login a password ap # trailing words here\n  # indented comment machine evil.example login x password y\nmachine b.example login b password bp\n"
        machine "a.example" login "a" password "ap"
        machine "b.example" login "b" password "bp"
        a.example -> "a":"ap" (a.example)
        b.example -> "b":"bp" (b.example)
        evil.example -> -

        "#comment more words\nmachine a.example login a password ap\n"
        machine "a.example" login "a" password "ap"
        a.example -> "a":"ap" (a.example)
        b.example -> -
        evil.example -> -

        "\n\n# comment words\nmachine a.example login a password ap\n"
        machine "a.example" login "a" password "ap"
        a.example -> "a":"ap" (a.example)
        b.example -> -
        evil.example -> -
        "##);
    }

    #[test]
    fn curl_token_order_and_layout_are_free() {
        let inputs = [
            "machine a.example\n  password ap\n  account acct\n  login a\n",
            "machine a.example login a password ap machine b.example login b password bp default login d password dp\n",
            // Keywords in any case, as curl; the host is compared without case.
            "MACHINE Example.COM Login u PASSWORD p\n",
            // `user` means `login`, as in CPython.
            "machine h.example user u password p\n",
        ];
        insta::assert_snapshot!(table(&inputs, &["a.example", "b.example", "c.example", "example.com", "h.example"]), @r#"
        "machine a.example\n  password ap\n  account acct\n  login a\n"
        machine "a.example" login "a" password "ap" account "acct"
        a.example -> "a":"ap" (a.example)
        b.example -> -
        c.example -> -
        example.com -> -
        h.example -> -

        "machine a.example login a password ap machine b.example login b password bp default login d password dp\n"
        machine "a.example" login "a" password "ap"
        machine "b.example" login "b" password "bp"
        default login "d" password "dp"
        a.example -> "a":"ap" (a.example)
        b.example -> "b":"bp" (b.example)
        c.example -> "d":"dp" (default)
        example.com -> "d":"dp" (default)
        h.example -> "d":"dp" (default)

        "MACHINE Example.COM Login u PASSWORD p\n"
        machine "Example.COM" login "u" password "p"
        a.example -> -
        b.example -> -
        c.example -> -
        example.com -> "u":"p" (example.com)
        h.example -> -

        "machine h.example user u password p\n"
        machine "h.example" login "u" password "p"
        a.example -> -
        b.example -> -
        c.example -> -
        example.com -> -
        h.example -> "u":"p" (h.example)
        "#);
    }

    #[test]
    fn curl_backslashes_outside_quotes_are_kept() {
        // cpython#99080: CPython 3.11+ reads `CORPalice` and `password`.
        let text = r"machine h.example login CORP\alice password pass\word";
        insta::assert_snapshot!(check(text, &["h.example"]), @r#"
        machine "h.example" login "CORP\\alice" password "pass\\word"
        h.example -> "CORP\\alice":"pass\\word" (h.example)
        "#);
    }

    #[test]
    fn machine_names_that_are_not_plain_hosts_are_skipped() {
        let text = "machine *.dev login w password wp\nmachine https://s.example/x login s password sp\nmachine h.example:8443 login p password pp\nmachine u@h.example login u password up\nmachine ok.example login o password op\n";
        insta::assert_snapshot!(check(text, &["ok.example", "s.example", "h.example", "x.dev"]), @r#"
        machine "*.dev" login "w" password "wp"
        machine "https://s.example/x" login "s" password "sp"
        machine "h.example:8443" login "p" password "pp"
        machine "u@h.example" login "u" password "up"
        machine "ok.example" login "o" password "op"
        ok.example -> "o":"op" (ok.example)
        s.example -> -
        h.example -> -
        x.dev -> -
        "#);
    }
}
