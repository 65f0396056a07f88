//! Failed writes, made to fail for real: each error names the path and says the file was left
//! unchanged, the file is byte for byte as it was, and no temporary file is left.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::Command;

use auth_core::CredentialStore;
use auth_store_file::{FileStore, FileStoreError};

use crate::{bearer, chain, file_error, key, names_in, temp_file};

const ORIGINAL: &str = "{\n  \"a.example.com\": {\"BearerToken\": \"keep\"}\n}\n";

/// A file or directory that refuses changes until dropped: `chmod a-w` for a normal user, and
/// `chattr +i` for root, whom permissions do not stop (and for a file's rename, which only the
/// immutable flag stops).
struct Frozen {
    path: PathBuf,
    immutable: bool,
    mode: u32,
}

fn is_root(dir: &Path) -> bool {
    fs::metadata(dir).unwrap().uid() == 0
}

impl Frozen {
    /// `path` frozen by the immutable flag, or by its mode (a directory no file can be created
    /// in, a file that cannot be opened for writing).
    fn new(path: &Path, immutable: bool) -> Self {
        let mode = fs::metadata(path).unwrap().permissions().mode();
        if immutable {
            let status = Command::new("chattr").arg("+i").arg(path).status();
            assert!(
                status.is_ok_and(|status| status.success()),
                "`chattr +i {}` failed: this test needs chattr (apt-get install e2fsprogs), root \
                 (CAP_LINUX_IMMUTABLE) and a file system with the immutable flag (ext4, xfs, btrfs)",
                path.display()
            );
        } else {
            fs::set_permissions(path, fs::Permissions::from_mode(0o500)).unwrap();
        }
        Self {
            path: path.to_owned(),
            immutable,
            mode,
        }
    }

    /// A directory no file can be created in.
    fn dir(path: &Path) -> Self {
        Self::new(path, is_root(path))
    }

    /// A file that cannot be replaced (by a rename over it).
    fn file(path: &Path) -> Self {
        Self::new(path, true)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        if self.immutable {
            let _ = Command::new("chattr").arg("-i").arg(&self.path).status();
        } else {
            let _ = fs::set_permissions(&self.path, fs::Permissions::from_mode(self.mode));
        }
    }
}

/// A store on a file holding `ORIGINAL` whose lock already exists (a first write made it).
fn written_store() -> (tempfile::TempDir, PathBuf, FileStore) {
    let (dir, path) = temp_file(None);
    let store = FileStore::open(&path).unwrap();
    store.set(&key("a.example.com"), &bearer("keep")).unwrap();
    fs::write(&path, ORIGINAL).unwrap();
    (dir, path, store)
}

/// The failed write's message (paths as `[DIR]`), after checking what every failed write must
/// leave: the file as it was, no temporary file, and the cause printed once.
fn check_failed_write(dir: &Path, path: &Path, err: &auth_core::StoreError) -> String {
    let err: &FileStoreError = file_error(err);
    assert_eq!(fs::read_to_string(path).unwrap(), ORIGINAL);
    assert_eq!(names_in(dir), ["credentials.json", "credentials.json.lock"]);
    let cause = std::error::Error::source(err)
        .expect("an OS error")
        .to_string();
    let text = chain(err);
    assert_eq!(text.matches(&cause).count(), 1, "{text}");
    err.to_string().replace(&dir.display().to_string(), "[DIR]")
}

#[test]
fn an_unwritable_directory_leaves_the_file_and_no_temporary_file() {
    let (dir, path, store) = written_store();
    let frozen = Frozen::dir(dir.path());
    let err = store
        .set(&key("b.example.com"), &bearer("SECRETZZ1"))
        .unwrap_err();
    drop(frozen);
    insta::assert_snapshot!(check_failed_write(dir.path(), &path, &err), @"could not create a temporary file beside [DIR]/credentials.json; the credentials file was left unchanged");
}

#[test]
fn a_failed_rename_leaves_the_file_and_no_temporary_file() {
    let (dir, path, store) = written_store();
    let frozen = Frozen::file(&path);
    let err = store
        .set(&key("b.example.com"), &bearer("SECRETZZ1"))
        .unwrap_err();
    drop(frozen);
    insta::assert_snapshot!(check_failed_write(dir.path(), &path, &err), @"could not replace the credentials file [DIR]/credentials.json; the credentials file was left unchanged");
}

#[test]
fn a_lock_that_cannot_be_taken_leaves_the_file() {
    let (dir, path, store) = written_store();
    let lock = dir.path().join("credentials.json.lock");
    let frozen = Frozen::new(&lock, is_root(dir.path()));
    let err = store.remove(&key("a.example.com")).unwrap_err();
    drop(frozen);
    insta::assert_snapshot!(check_failed_write(dir.path(), &path, &err), @"could not open the lock file [DIR]/credentials.json.lock; the credentials file was left unchanged");
}

// Regression: the message interpolated the OS error, which the CLI then printed again as the
// cause ("Permission denied" twice).
#[test]
fn an_unreadable_file_prints_its_cause_once() {
    let (dir, path) = temp_file(Some(ORIGINAL));
    // A directory in the way of a component of the path fails for root too.
    let err = FileStore::open(path.join("credentials.json")).expect_err("refused");
    let cause = std::error::Error::source(&err)
        .expect("an OS error")
        .to_string();
    let text = chain(&err);
    assert_eq!(text.matches(&cause).count(), 1, "{text}");
    insta::assert_snapshot!(err.to_string().replace(&dir.path().display().to_string(), "[DIR]"), @"could not inspect the credentials file [DIR]/credentials.json/credentials.json");
}
