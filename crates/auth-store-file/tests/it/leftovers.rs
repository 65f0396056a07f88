//! What a killed writer leaves, and directories other users could write.

use std::fs;

use auth_core::CredentialStore;
use auth_store_file::FileStore;

use crate::{bearer, key, names_in, temp_file, with_logs};

// Regression: a login killed with SIGKILL left `.credentials*.tmp` files holding tokens.
#[test]
fn every_write_removes_temporary_files_a_killed_writer_left() {
    let (dir, path) = temp_file(Some(r#"{"a.example.com": {"BearerToken": "a"}}"#));
    let leftover = ".credentials.json.auth-Ab3dEf9hIj2k.tmp";
    let kept = [
        "foo.tmp",
        ".credentialsbackup.tmp",
        ".credentials.json.auth-short.tmp",
        ".other.json.auth-Ab3dEf9hIj2k.tmp",
    ];
    let store = FileStore::open(&path).unwrap();
    for (change, name) in ["set", "remove of nothing", "remove"].iter().enumerate() {
        fs::write(
            dir.path().join(leftover),
            "{\"x\": {\"BearerToken\": \"SECRETZZ1\"}}",
        )
        .unwrap();
        for kept in kept {
            fs::write(dir.path().join(kept), "mine").unwrap();
        }
        match change {
            0 => store.set(&key("b.example.com"), &bearer("b")).unwrap(),
            // `logout --all` goes through `remove`, which cleans up even when nothing changes.
            1 => assert!(!store.remove(&key("missing.example.com")).unwrap()),
            _ => assert!(store.remove(&key("b.example.com")).unwrap()),
        }
        let mut expected: Vec<&str> = kept.to_vec();
        expected.extend(["credentials.json", "credentials.json.lock"]);
        expected.sort_unstable();
        assert_eq!(names_in(dir.path()), expected, "after {name}");
    }
}

#[cfg(unix)]
#[test]
fn warns_when_other_users_can_read_the_file_or_write_its_directory() {
    use std::os::unix::fs::PermissionsExt as _;
    let (dir, path) = temp_file(Some("{}"));
    let chmod = |path: &std::path::Path, mode| {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    };
    let mut out = Vec::new();
    for (file_mode, dir_mode) in [
        (0o600, 0o700),
        (0o644, 0o700),
        (0o600, 0o770),
        (0o600, 0o1777),
    ] {
        chmod(&path, file_mode);
        chmod(dir.path(), dir_mode);
        let ((), logs) = with_logs(|| drop(FileStore::open(&path).unwrap()));
        let logs = logs.replace(&dir.path().display().to_string(), "[DIR]");
        out.push(format!("{file_mode:o} {dir_mode:o}:\n{logs}"));
    }
    chmod(dir.path(), 0o700);
    insta::assert_snapshot!(out.join(""), @r"
    600 700:
    644 700:
     WARN auth_store_file::store: the credentials file [DIR]/credentials.json can be read by other users (mode 644); run `chmod 600 [DIR]/credentials.json`
    600 770:
     WARN auth_store_file::store: the directory [DIR] of the credentials file can be written by other users (mode 770), who could replace the file or put a link in its place; run `chmod go-w [DIR]`
    600 1777:
     WARN auth_store_file::store: the directory [DIR] of the credentials file can be written by other users (mode 1777), who could replace the file or put a link in its place; run `chmod go-w [DIR]`
    ");
}
