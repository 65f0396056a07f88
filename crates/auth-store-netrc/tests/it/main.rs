//! Integration tests of `NetrcStore` against real files in a temporary directory, used only
//! through the `CredentialStore` trait.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use auth_core::{
    Authentication, CredentialStore, HostKey, MemoryStore, Secret, StoreChain, StoreError,
    UrlTarget,
};
use auth_store_netrc::{NetrcError, NetrcStore};

/// Every password in the files below; none may appear in an error or a `Debug` print.
const PASSWORDS: &[&str] = &[
    "s3cr3t-host",
    "s3cr3t-second",
    "s3cr3t-default",
    "s3cr3t-bad",
];

const NETRC: &str = "\
# Credentials for the package mirrors.
machine host.example login alice password s3cr3t-host
machine host.example login bob password s3cr3t-second
machine Mirror.Example
    login \"carol smith\"
    password \"with space\"  # the first entry for a host wins
macdef init
machine evil.example login mallory password stolen

default login anonymous password s3cr3t-default
";

fn write_netrc(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".netrc");
    fs::write(&path, text).unwrap();
    (dir, path)
}

fn lookup(store: &dyn CredentialStore, url: &str) -> String {
    let target = UrlTarget::parse(url).unwrap();
    match store.find(&target).unwrap() {
        Some(found) => match &found.auth {
            Authentication::BasicHTTP { username, password } => {
                format!("{} {username}:{}", found.key, password.expose())
            }
            other => format!("{} {}", found.key, other.kind()),
        },
        None => "-".to_owned(),
    }
}

fn assert_no_password(text: &str) {
    for password in PASSWORDS {
        assert!(!text.contains(password), "{password} leaked into: {text}");
    }
}

fn redact_path(text: &str, path: &Path) -> String {
    text.replace(&path.display().to_string(), "[FILE]")
}

#[test]
fn answers_urls_from_a_real_file() {
    let (_dir, path) = write_netrc(NETRC);
    let store: Arc<dyn CredentialStore> = Arc::new(NetrcStore::open(&path).unwrap());
    let urls = [
        "https://host.example/x",
        "http://host.example:8080/any/port",
        "https://HOST.example./trailing-dot",
        "https://mirror.example/",
        "https://sub.host.example/",
        "https://unknown.example/",
        "s3://bucket/key",
        "https://evil.example/",
    ];
    let answers: Vec<String> = urls
        .iter()
        .map(|url| format!("{url} -> {}", lookup(store.as_ref(), url)))
        .collect();
    insta::assert_snapshot!(answers.join("\n"), @"
    https://host.example/x -> host.example alice:s3cr3t-host
    http://host.example:8080/any/port -> host.example alice:s3cr3t-host
    https://HOST.example./trailing-dot -> host.example alice:s3cr3t-host
    https://mirror.example/ -> mirror.example carol smith:with space
    https://sub.host.example/ -> default anonymous:s3cr3t-default
    https://unknown.example/ -> default anonymous:s3cr3t-default
    s3://bucket/key -> -
    https://evil.example/ -> default anonymous:s3cr3t-default
    ");

    assert_eq!(store.name(), "netrc");
    assert_eq!(store.location(), path.display().to_string());
    let listed: Vec<String> = store
        .list()
        .unwrap()
        .iter()
        .map(|c| c.key.to_string())
        .collect();
    assert_eq!(listed, ["default", "host.example", "mirror.example"]);

    let get = |key: &HostKey| store.get(key).unwrap().map(|c| c.key.to_string());
    assert_eq!(
        get(&HostKey::parse("Host.Example").unwrap()).as_deref(),
        Some("host.example")
    );
    assert_eq!(
        get(&HostKey::any_host("default")).as_deref(),
        Some("default")
    );
    assert_eq!(get(&HostKey::parse("evil.example").unwrap()), None);

    let debug = format!("{store:?} {:?}", store.list().unwrap());
    assert_no_password(&debug);
    insta::assert_snapshot!(redact_path(&format!("{store:?}"), &path), @r#"NetrcStore { path: "[FILE]", entries: 3 }"#);
}

#[test]
fn refuses_to_write_and_a_chain_writes_elsewhere() {
    let (_dir, path) = write_netrc(NETRC);
    let netrc = Arc::new(NetrcStore::open(&path).unwrap());
    let key = HostKey::parse("host.example").unwrap();
    let auth = Authentication::BearerToken(Secret::from("new-token"));

    let err = netrc.set(&key, &auth).unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
    insta::assert_snapshot!(redact_path(&err.to_string(), &path), @"the .netrc file [FILE] is read-only");
    let err = netrc.remove(&key).unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
    assert_eq!(fs::read_to_string(&path).unwrap(), NETRC);

    let memory = Arc::new(MemoryStore::new());
    let chain = StoreChain::new(vec![netrc.clone(), memory.clone()]);
    let saved = chain.set(&key, &auth).unwrap();
    assert_eq!(saved.store.name(), "memory");
    assert_eq!(saved.skipped.len(), 1);
    // Equally specific keys: the earlier store, `.netrc`, still answers.
    let target = UrlTarget::parse("https://host.example/").unwrap();
    assert_eq!(chain.find(&target).unwrap().unwrap().store.name(), "netrc");
}

#[test]
fn a_missing_file_is_an_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = NetrcStore::open(dir.path().join("no-such-netrc")).unwrap();
    assert!(store.list().unwrap().is_empty());
    assert_eq!(lookup(&store, "https://host.example/"), "-");
}

#[test]
fn an_unreadable_path_is_an_error_that_names_it_and_leaves_the_cause_to_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    fs::write(&file, "").unwrap();
    // A path through a regular file: `metadata` fails with "Not a directory", even as root.
    let path = file.join(".netrc");
    let err = open_err(&path);
    assert!(matches!(err, NetrcError::Read { .. }), "{err:?}");
    let message = redact_path(&err.to_string(), &path);
    insta::assert_snapshot!(message, @"could not read the .netrc file [FILE]; make it a readable file, or point NETRC at another one");
    // The OS error is the source, printed once by the chain, not a second time in the message.
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(source.contains("Not a directory"), "{source}");
    assert!(!message.contains(&source), "{message}");
}

/// Opens the store on another thread and fails the test, instead of hanging it, when the open
/// does not come back: on the code before the fix, opening a FIFO blocked forever.
fn open_within_deadline(path: &Path) -> Result<NetrcStore, NetrcError> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let owned = path.to_owned();
    std::thread::spawn(move || {
        let _ = sender.send(NetrcStore::open(owned));
    });
    receiver
        .recv_timeout(std::time::Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("opening {} did not return within 30 s", path.display()))
}

/// The error of opening `path`, within the deadline.
fn open_err(path: &Path) -> NetrcError {
    match open_within_deadline(path) {
        Ok(store) => panic!("{} opened as {store:?}", path.display()),
        Err(err) => err,
    }
}

// `auth status` hung forever on a `.netrc` that is a FIFO (opening one waits for a writer), and
// a `.netrc` linked to /dev/zero would have been read until the memory ran out.
#[cfg(unix)]
#[test]
fn a_path_that_is_not_a_regular_file_is_refused_before_it_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let socket = dir.path().join("socket");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let directory = dir.path().join("directory");
    fs::create_dir(&directory).unwrap();
    let link = |name: &str, target: &Path| {
        let link = dir.path().join(name);
        std::os::unix::fs::symlink(target, &link).unwrap();
        link
    };
    let cases = [
        fifo.clone(),
        link("link-to-fifo", &fifo),
        link("link-to-dev-zero", Path::new("/dev/zero")),
        PathBuf::from("/dev/zero"),
        socket,
        directory,
    ];
    let mut out = String::new();
    for path in &cases {
        let err = open_err(path);
        assert!(
            matches!(err, NetrcError::NotRegularFile { .. }),
            "{}: {err:?}",
            path.display()
        );
        let message = err
            .to_string()
            .replace(&dir.path().display().to_string(), "[DIR]");
        out.push_str(&message);
        out.push('\n');
    }
    insta::assert_snapshot!(out, @"
    the .netrc file [DIR]/fifo is a FIFO (named pipe), not a regular file, so it was not read; make it a regular file, or point NETRC at one
    the .netrc file [DIR]/link-to-fifo is a FIFO (named pipe), not a regular file, so it was not read; make it a regular file, or point NETRC at one
    the .netrc file [DIR]/link-to-dev-zero is a character device, not a regular file, so it was not read; make it a regular file, or point NETRC at one
    the .netrc file /dev/zero is a character device, not a regular file, so it was not read; make it a regular file, or point NETRC at one
    the .netrc file [DIR]/socket is a socket, not a regular file, so it was not read; make it a regular file, or point NETRC at one
    the .netrc file [DIR]/directory is a directory, not a regular file, so it was not read; make it a regular file, or point NETRC at one
    ");

    // `NETRC=/dev/null` is how curl users turn `.netrc` off: an empty store, under any name.
    for path in [
        PathBuf::from("/dev/null"),
        link("link-to-dev-null", Path::new("/dev/null")),
    ] {
        let store = open_within_deadline(&path).unwrap();
        assert!(store.list().unwrap().is_empty());
    }
}

#[test]
fn a_file_larger_than_any_netrc_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".netrc");
    // Sparse: 17 MiB that cost no disk space and would all be read on the old code.
    let file = fs::File::create(&path).unwrap();
    file.set_len(17 * 1024 * 1024).unwrap();
    drop(file);
    let err = open_err(&path);
    assert!(matches!(err, NetrcError::TooLarge { .. }), "{err:?}");
    insta::assert_snapshot!(redact_path(&err.to_string(), &path), @"the .netrc file [FILE] is larger than 16 MiB, so it was not read; point NETRC at the right file");

    // Just under the limit is read (and here, being NUL bytes, is not a .netrc).
    let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(16 * 1024 * 1024).unwrap();
    drop(file);
    let err = open_err(&path);
    assert!(matches!(err, NetrcError::Parse { .. }), "{err:?}");
}

#[test]
fn a_control_character_in_the_path_is_escaped_in_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net\u{1b}]0;title\u{7}rc");
    fs::create_dir(&path).unwrap();
    let message = open_err(&path).to_string();
    assert!(!message.contains('\u{1b}'), "{message:?}");
    assert!(
        message.contains("net\\u{1b}]0;title\\u{7}rc"),
        "{message:?}"
    );
}

#[test]
fn a_file_that_does_not_parse_is_an_error_with_its_line_and_no_secret() {
    // The stray word is the second half of a password written without quotes.
    let (_dir, path) = write_netrc(
        "machine host.example login alice password s3cr3t-host\n\nmachine other.example login u password s3cr3t bad\n",
    );
    let err = NetrcStore::open(&path).unwrap_err();
    let message = redact_path(&err.to_string(), &path);
    insta::assert_snapshot!(message, @"could not parse the .netrc file [FILE] at line 3: expected `login`, `password`, `account`, `machine`, `default` or `macdef` here; a value that contains spaces must be written in double quotes. No credential was read from it; fix that line");
    assert_no_password(&message);
    assert!(!message.contains("bad"), "{message}");
    assert_no_password(&format!("{err:?}"));

    let (_dir, path) = write_netrc("machine a.example password \"s3cr3t-bad\nmachine b.example\n");
    let err = NetrcStore::open(&path).unwrap_err();
    assert!(matches!(err, NetrcError::Parse { line: 1, .. }), "{err:?}");
    assert_no_password(&err.to_string());
    assert_no_password(&format!("{err:?}"));
}

#[test]
fn a_file_that_is_not_utf8_is_an_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".netrc");
    fs::write(
        &path,
        b"machine a.example login a password s3cr3t-host\nmachine b.example login b password caf\xe9\n",
    )
    .unwrap();
    let err = NetrcStore::open(&path).unwrap_err();
    let message = redact_path(&err.to_string(), &path);
    insta::assert_snapshot!(message, @"could not parse the .netrc file [FILE] at line 2: the file is not UTF-8 text; save it as UTF-8. No credential was read from it; fix that line");
    assert_no_password(&message);
}
