//! Symbolic links are followed and stay links; devices, FIFOs, sockets, directories and links to
//! nothing are refused, before anything opens them.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _, symlink};
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use auth_core::CredentialStore;
use auth_store_file::{FileStore, FileStoreError};

use crate::{bearer, chain, file_error, key, lookup, names_in, temp_file};

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// The error's message with the temporary directory written `[DIR]`.
fn shown(err: &FileStoreError, dir: &Path) -> String {
    chain(err).replace(&dir.display().to_string(), "[DIR]")
}

/// Runs `f`, which must answer at once. If it blocks on the FIFO `fifo`, the FIFO is opened for
/// writing here to release it, so that the test fails instead of hanging.
fn at_once<T: Send + 'static>(fifo: &Path, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    let thread = std::thread::spawn(move || sender.send(f()).unwrap());
    let Ok(answer) = receiver.recv_timeout(Duration::from_secs(20)) else {
        let writer = fs::OpenOptions::new().write(true).open(fifo);
        drop(writer);
        let _ = thread.join();
        panic!("blocked on the FIFO {}", fifo.display());
    };
    thread.join().unwrap();
    answer
}

fn open_at_once(path: &Path, fifo: &Path) -> Result<FileStore, FileStoreError> {
    let path = path.to_owned();
    at_once(fifo, move || FileStore::open(&path))
}

#[test]
fn a_symbolic_link_is_followed_and_stays_a_link() {
    let (dir, target) = temp_file(Some(r#"{"old.example.com": {"BearerToken": "old"}}"#));
    let home = dir.path().join("home");
    fs::create_dir(&home).unwrap();
    let link = home.join("credentials.json");
    symlink(&target, &link).unwrap();

    let store = FileStore::open(&link).unwrap();
    assert_eq!(
        lookup(&store, "https://old.example.com/"),
        r#"old.example.com {"BearerToken":"old"}"#
    );
    store.set(&key("new.example.com"), &bearer("new")).unwrap();

    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read_link(&link).unwrap(), target);
    let written = fs::read_to_string(&target).unwrap();
    assert!(written.contains("new.example.com"), "{written}");
    assert_eq!(
        fs::metadata(&target).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // The lock and the temporary file go beside the target, and nothing is left beside the link.
    assert_eq!(names_in(&home), ["credentials.json"]);
    assert_eq!(
        names_in(dir.path()),
        ["credentials.json", "credentials.json.lock", "home"]
    );
    assert_eq!(
        lookup(&FileStore::open(&link).unwrap(), "https://new.example.com/"),
        r#"new.example.com {"BearerToken":"new"}"#
    );
}

// Regression: `auth status` hung forever on a FIFO.
#[test]
fn a_fifo_is_refused_without_blocking() {
    let (dir, path) = temp_file(None);
    mkfifo(&path);
    let link = dir.path().join("link.json");
    symlink(&path, &link).unwrap();
    let errors = [&path, &link].map(|opened| match open_at_once(opened, &path) {
        Ok(_) => panic!("{} was opened", path.display()),
        Err(err) => shown(&err, dir.path()),
    });
    insta::assert_snapshot!(errors.join("\n"), @r"
    the credentials file [DIR]/credentials.json is a FIFO, not a regular file; move it away, or point RATTLER_AUTH_FILE at a regular file
    the credentials file [DIR]/link.json is a symbolic link to [DIR]/credentials.json, which is a FIFO, not a regular file; move it away, or point RATTLER_AUTH_FILE at a regular file
    ");
}

// Regression: `login` with the credentials file a symbolic link to a device replaced the device
// with a regular file holding the token. A FIFO stands for the device here, so that the test
// can never replace a real one.
#[test]
fn a_write_through_a_link_never_replaces_a_special_file() {
    let (dir, fifo) = temp_file(None);
    let link = dir.path().join("link.json");
    // Opened while the link points to a regular file; then a FIFO takes its place, and the
    // write must look again.
    fs::write(&fifo, "{}").unwrap();
    symlink(&fifo, &link).unwrap();
    let store = FileStore::open(&link).unwrap();
    fs::remove_file(&fifo).unwrap();
    mkfifo(&fifo);

    let err = at_once(&fifo, move || {
        store
            .set(&key("example.com"), &bearer("SECRETZZ1"))
            .unwrap_err()
    });
    let message = shown(file_error(&err), dir.path());
    insta::assert_snapshot!(message, @"the credentials file [DIR]/link.json is a symbolic link to [DIR]/credentials.json, which is a FIFO, not a regular file; move it away, or point RATTLER_AUTH_FILE at a regular file");
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(names_in(dir.path()), ["credentials.json", "link.json"]);
}

#[test]
fn a_link_to_a_device_is_refused() {
    let (dir, path) = temp_file(None);
    symlink("/dev/null", &path).unwrap();
    let err = FileStore::open(&path).expect_err("refused");
    insta::assert_snapshot!(shown(&err, dir.path()), @"the credentials file [DIR]/credentials.json is a symbolic link to /dev/null, which is a character device, not a regular file; move it away, or point RATTLER_AUTH_FILE at a regular file");
}

// Regression: a write through a link to nothing replaced the link with a regular file.
#[test]
fn a_dangling_link_is_refused_and_kept() {
    let (dir, target) = temp_file(Some("{}"));
    let link = dir.path().join("link.json");
    symlink(&target, &link).unwrap();
    let store = FileStore::open(&link).unwrap();
    fs::remove_file(&target).unwrap();

    let read = FileStore::open(&link).expect_err("refused");
    let write = store.set(&key("example.com"), &bearer("t")).unwrap_err();
    insta::assert_snapshot!(format!("{}\n{}", shown(&read, dir.path()), shown(file_error(&write), dir.path())), @r"
    the credentials file [DIR]/link.json is a symbolic link to [DIR]/credentials.json, which does not exist; create the file it points to (`{}` is an empty credentials file), or remove the link
    the credentials file [DIR]/link.json is a symbolic link to [DIR]/credentials.json, which does not exist; create the file it points to (`{}` is an empty credentials file), or remove the link
    ");
    assert_eq!(fs::read_link(&link).unwrap(), target);
    assert_eq!(names_in(dir.path()), ["link.json"]);
}

#[test]
fn a_directory_or_socket_is_refused() {
    let (dir, path) = temp_file(None);
    let store = FileStore::open(&path).unwrap();
    fs::create_dir(&path).unwrap();
    let socket_path = dir.path().join("socket.json");
    let _socket = std::os::unix::net::UnixListener::bind(&socket_path).unwrap();

    let write = store.set(&key("example.com"), &bearer("t")).unwrap_err();
    let read_dir = FileStore::open(&path).expect_err("refused");
    let read_socket = FileStore::open(&socket_path).expect_err("refused");
    insta::assert_snapshot!([shown(file_error(&write), dir.path()), shown(&read_dir, dir.path()), shown(&read_socket, dir.path())].join("\n"), @r"
    the credentials file [DIR]/credentials.json is a directory, not a regular file; move it away, or point RATTLER_AUTH_FILE at a regular file
    the credentials file [DIR]/credentials.json is a directory, not a regular file; move it away, or point RATTLER_AUTH_FILE at a regular file
    the credentials file [DIR]/socket.json is a socket, not a regular file; move it away, or point RATTLER_AUTH_FILE at a regular file
    ");
    assert!(fs::metadata(&path).unwrap().is_dir());
    assert_eq!(names_in(&path), Vec::<String>::new());
}

#[test]
fn a_lock_file_that_is_not_a_regular_file_is_refused() {
    let original = "{\"a.example.com\": {\"BearerToken\": \"keep\"}}\n";
    let mut out = Vec::new();
    for make in [mkfifo as fn(&Path), |path: &Path| {
        fs::create_dir(path).unwrap();
    }] {
        let (dir, path) = temp_file(Some(original));
        make(&dir.path().join("credentials.json.lock"));
        let store = FileStore::open(&path).unwrap();
        let err = store.set(&key("b.example.com"), &bearer("t")).unwrap_err();
        out.push(shown(file_error(&err), dir.path()));
        assert_eq!(fs::read_to_string(&path).unwrap(), original);
        assert_eq!(
            names_in(dir.path()),
            ["credentials.json", "credentials.json.lock"]
        );
    }
    insta::assert_snapshot!(out.join("\n"), @r"
    the lock file [DIR]/credentials.json.lock is a FIFO, not a regular file; remove it (it holds no data)
    the lock file [DIR]/credentials.json.lock is a directory, not a regular file; remove it (it holds no data)
    ");
}
