//! Integration tests of `FileStore` against real files in a temporary directory.

mod leftovers;
mod properties;
mod secrets;
mod special_files;
mod write_errors;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use auth_core::{Authentication, CredentialStore, HostKey, Secret, UrlTarget};
use auth_store_file::{FileStore, FileStoreError};

/// The example file of the pixi authentication page, as printed there.
const SEED_EXAMPLE: &str = include_str!("../../../../tests/fixtures/pixi-credentials.json");

/// A message and its chain of causes, one per line, as the CLI prints them.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str("\ncaused by: ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The file error inside a store error.
fn file_error(err: &auth_core::StoreError) -> &FileStoreError {
    match err {
        auth_core::StoreError::Backend(inner) => inner
            .downcast_ref::<FileStoreError>()
            .expect("a FileStoreError"),
        other => panic!("not a backend error: {other:?}"),
    }
}

/// Every file name in `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// A log writer shared with the test.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().write(bytes)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `f` with every log event of this thread, at every level, recorded; returns the log text.
fn with_logs<R>(f: impl FnOnce() -> R) -> (R, String) {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .without_time()
        .with_writer(move || writer.clone())
        .finish();
    let result = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    (result, text)
}

fn temp_file(text: Option<&str>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials.json");
    if let Some(text) = text {
        fs::write(&path, text).unwrap();
    }
    (dir, path)
}

fn key(text: &str) -> HostKey {
    HostKey::parse(text).unwrap()
}

fn bearer(token: &str) -> Authentication {
    Authentication::BearerToken(Secret::from(token))
}

fn lookup(store: &FileStore, url: &str) -> String {
    let target = UrlTarget::parse(url).unwrap();
    match store.find(&target).unwrap() {
        Some(found) => format!(
            "{} {}",
            found.key,
            serde_json::to_string(&found.auth).unwrap()
        ),
        None => "-".to_owned(),
    }
}

#[test]
fn reads_the_seed_example_as_is() {
    let (_dir, path) = temp_file(Some(SEED_EXAMPLE));
    let store = FileStore::open(&path).unwrap();
    let urls = [
        "https://repo.prefix.dev/channel/repodata.json",
        "https://otherhost.com/x",
        "https://conda.anaconda.org/t/abc/conda-forge",
        "s3://my-bucket/linux-64/repodata.json",
        "https://anaconda.org/x",
    ];
    // A store's first lookup scans the raw entries, later ones use the index: both must agree.
    let scanned: Vec<String> = urls
        .iter()
        .map(|url| lookup(&FileStore::open(&path).unwrap(), url))
        .collect();
    lookup(&store, "https://warm.up/");
    let indexed: Vec<String> = urls.iter().map(|url| lookup(&store, url)).collect();
    assert_eq!(scanned, indexed);
    insta::assert_snapshot!(indexed.join("\n"), @r#"
        *.prefix.dev {"BearerToken":"your_token"}
        otherhost.com {"BasicHTTP":{"username":"your_username","password":"your_password"}}
        conda.anaconda.org {"CondaToken":"your_token"}
        s3://my-bucket {"S3Credentials":{"access_key_id":"my-access-key-id","secret_access_key":"my-secret-access-key","session_token":null}}
        -
        "#);
    assert_eq!(store.list().unwrap().len(), 4);
    assert!(store.unknown_entries().is_empty());
}

#[test]
fn writes_rattlers_format_and_keeps_entries_it_does_not_understand() {
    let unknown = r#"{ "Kerberos" : { "ticket": "opaque", "n": [1,2] } }"#;
    let bad_key = r#"{"BearerToken":"kept"}"#;
    let original = format!(
        "{{\"future.example.com\": {unknown}, \"*.dev\": {bad_key}, \"old.example.com\": {{\"BearerToken\":\"old\"}}}}"
    );
    let (_dir, path) = temp_file(Some(&original));
    let store = FileStore::open(&path).unwrap();
    insta::assert_debug_snapshot!(store.unknown_entries(), @r#"
    [
        UnknownEntry {
            key: SafeUrl("future.example.com"),
            reason: "the credential is not understood: an unknown credential kind (expected one of BearerToken, BasicHTTP, CondaToken, S3Credentials, OAuth)",
        },
        UnknownEntry {
            key: SafeUrl("*.dev"),
            reason: "the key is not understood: `*.dev` would match every site under the public suffix `dev`; use the registry's own domain, such as `*.example.dev`",
        },
    ]
    "#);

    store
        .set(
            &key("s3://bucket"),
            &Authentication::S3Credentials {
                access_key_id: "AK".into(),
                secret_access_key: Secret::from("SK"),
                session_token: None,
            },
        )
        .unwrap();
    store.remove(&key("old.example.com")).unwrap();
    let written = fs::read_to_string(&path).unwrap();
    insta::assert_snapshot!(written, @r#"
    {
      "*.dev": {"BearerToken":"kept"},
      "future.example.com": { "Kerberos" : { "ticket": "opaque", "n": [1,2] } },
      "s3://bucket": {
        "S3Credentials": {
          "access_key_id": "AK",
          "secret_access_key": "SK",
          "session_token": null
        }
      }
    }
    "#);
    // What we wrote is what rattler's serde model reads.
    let parsed: std::collections::BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&written).unwrap();
    let s3 = Authentication::from_json_value(parsed["s3://bucket"].clone()).unwrap();
    assert_eq!(s3.kind(), "S3Credentials");
}

// Regression: the first lookup of a store skipped an entry it did not understand and answered
// with a broader wildcard instead, while later (indexed) lookups answered nothing.
#[test]
fn an_entry_not_understood_is_not_replaced_by_a_broader_key() {
    let text =
        r#"{"*.example.com": {"BearerToken": "broad"}, "future.example.com": {"Kerberos": "t"}}"#;
    let (_dir, path) = temp_file(Some(text));
    // The first lookup of a store scans, later ones use the index: both must refuse.
    assert_eq!(
        lookup(
            &FileStore::open(&path).unwrap(),
            "https://future.example.com/"
        ),
        "-"
    );
    let store = FileStore::open(&path).unwrap();
    lookup(&store, "https://warm.up/");
    assert_eq!(lookup(&store, "https://future.example.com/"), "-");
    assert_eq!(
        lookup(&store, "https://other.example.com/"),
        r#"*.example.com {"BearerToken":"broad"}"#
    );
}

#[test]
fn never_overwrites_a_file_it_cannot_parse() {
    let corrupt = "{\n  \"a.example.com\": {\"BearerToken\": \"sekrit-token\"}\n  \"b\": 1\n}\n";
    let (_dir, path) = temp_file(Some(corrupt));
    let err = FileStore::open(&path).unwrap_err();
    let message = err
        .to_string()
        .replace(&path.display().to_string(), "[FILE]");
    insta::assert_snapshot!(message, @"could not parse the credentials file [FILE] at line 3, column 3: expected `,` or `}`. The file was left unchanged; fix it, or move it away to start a new one");
    assert!(!message.contains("sekrit"));

    // A store opened before the file went bad must not write over it either.
    let (_dir2, path2) = temp_file(Some("{}"));
    let store = FileStore::open(&path2).unwrap();
    fs::write(&path2, corrupt).unwrap();
    let err = store
        .set(&key("c.example.com"), &bearer("new"))
        .unwrap_err();
    assert!(err.to_string().contains("line 3, column 3"), "{err}");
    assert_eq!(fs::read_to_string(&path2).unwrap(), corrupt);
    assert!(matches!(
        err,
        auth_core::StoreError::Backend(inner) if inner.downcast_ref::<FileStoreError>().is_some()
    ));
}

// Regression: a file with invalid UTF-8 gave a bare "stream did not contain valid UTF-8", with no
// line, column or advice, unlike every other corrupt file.
#[test]
fn invalid_utf8_is_a_parse_error_with_line_and_column() {
    let corrupt = b"{\n  \"a.example.com\": {\"BearerToken\": \"SECRETZZ\xff\"}\n}\n";
    let (_dir, path) = temp_file(None);
    fs::write(&path, corrupt).unwrap();
    let err = FileStore::open(&path).unwrap_err();
    assert!(matches!(err, FileStoreError::Parse { .. }), "{err:?}");
    let message = chain(&err).replace(&path.display().to_string(), "[FILE]");
    insta::assert_snapshot!(message, @"could not parse the credentials file [FILE] at line 2, column 45: the file is not valid UTF-8 text, as JSON must be. The file was left unchanged; fix it, or move it away to start a new one");

    let store = FileStore::open(path.with_file_name("other.json")).unwrap();
    fs::rename(&path, store.path()).unwrap();
    assert!(store.set(&key("b.example.com"), &bearer("t")).is_err());
    assert_eq!(fs::read(store.path()).unwrap(), corrupt);
}

#[cfg(unix)]
#[test]
fn creates_private_files_and_directories() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new").join("dir").join("credentials.json");
    let store = FileStore::open(&path).unwrap();
    store.set(&key("example.com"), &bearer("t")).unwrap();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert_eq!(mode(&dir.path().join("new")), 0o700);
    // Only the file and its lock are left behind: no temporary files.
    let mut names: Vec<_> = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["credentials.json", "credentials.json.lock"]);
}

#[test]
fn keys_written_another_way_are_the_same_key() {
    let (_dir, path) = temp_file(Some(r#"{"PREFIX.dev.": {"BearerToken": "upper"}}"#));
    let store = FileStore::open(&path).unwrap();
    assert_eq!(
        lookup(&store, "https://prefix.dev/"),
        r#"PREFIX.dev. {"BearerToken":"upper"}"#
    );
    store.set(&key("prefix.dev"), &bearer("lower")).unwrap();
    assert_eq!(store.list().unwrap().len(), 1);
    assert!(store.remove(&key("Prefix.Dev")).unwrap());
    assert!(store.list().unwrap().is_empty());
}

#[test]
fn concurrent_writers_lose_no_entry() {
    let (_dir, path) = temp_file(None);
    let threads: Vec<_> = (0..16)
        .map(|n| {
            let path = path.clone();
            std::thread::spawn(move || {
                // Each writer opens its own store, as separate processes would.
                let store = FileStore::open(&path).unwrap();
                store
                    .set(
                        &key(&format!("host{n}.example.com")),
                        &bearer(&format!("t{n}")),
                    )
                    .unwrap();
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let store = FileStore::open(&path).unwrap();
    assert_eq!(store.list().unwrap().len(), 16);
}

#[test]
fn a_missing_file_is_empty_and_reload_sees_other_writers() {
    let (_dir, path) = temp_file(None);
    let reader = Arc::new(FileStore::open(&path).unwrap());
    assert!(reader.list().unwrap().is_empty());
    FileStore::open(&path)
        .unwrap()
        .set(&key("example.com"), &bearer("t"))
        .unwrap();
    assert_eq!(lookup(&reader, "https://example.com/"), "-");
    reader.reload().unwrap();
    assert_eq!(
        lookup(&reader, "https://example.com/"),
        r#"example.com {"BearerToken":"t"}"#
    );
}

#[test]
fn a_fresh_read_sees_another_processs_write() {
    let (_dir, path) = temp_file(Some(r#"{"*.prefix.dev": {"BearerToken": "old"}}"#));
    let store = FileStore::open(&path).unwrap();
    let other = FileStore::open(&path).unwrap();
    let key = key("*.prefix.dev");
    let token = |store: &FileStore, fresh: bool| {
        let found = if fresh {
            store.get_fresh(&key)
        } else {
            store.get(&key)
        };
        found
            .unwrap()
            .map(|credential| credential.auth.primary_secret().expose().clone())
    };
    assert_eq!(token(&store, false).as_deref(), Some("old"));
    other.set(&key, &bearer("new")).unwrap();
    assert_eq!(
        token(&store, false).as_deref(),
        Some("old"),
        "cached until asked"
    );
    assert_eq!(token(&store, true).as_deref(), Some("new"));
    assert_eq!(token(&store, false).as_deref(), Some("new"));
}

/// Each URL looked up on a fresh store (the cold scan) and on a store whose index is built.
fn cold_and_warm(path: &Path, urls: &[&str]) -> (Vec<String>, Vec<String>) {
    let cold = urls
        .iter()
        .map(|url| lookup(&FileStore::open(path).unwrap(), url))
        .collect();
    let store = FileStore::open(path).unwrap();
    lookup(&store, "https://warm.up/");
    let warm = urls.iter().map(|url| lookup(&store, url)).collect();
    (cold, warm)
}

// Regression: the cold scan's prefilter compared the scheme case-sensitively, so `HTTPS://...`
// and `S3://...` keys were found by the index only; and it stopped at the `:` of a password, so
// `user:pw@host` was never found cold.
#[test]
fn keys_in_any_spelling_are_found_cold_as_warm() {
    let text = r#"{
        "HTTPS://upper.example.com": {"BearerToken": "a"},
        "Http://mixed.example.com:8080/x": {"BearerToken": "b"},
        "S3://bkt": {"BearerToken": "c"},
        "u:pw@userinfo.example.com": {"BearerToken": "d"},
        "hTTps://*.wild.example.com.": {"BearerToken": "e"}
    }"#;
    let (_dir, path) = temp_file(Some(text));
    let urls = [
        "https://upper.example.com/",
        "http://mixed.example.com:8080/x/y",
        "s3://bkt/key",
        "https://userinfo.example.com/",
        "https://a.wild.example.com/",
    ];
    let (cold, warm) = cold_and_warm(&path, &urls);
    assert_eq!(cold, warm);
    insta::assert_snapshot!(cold.join("\n"), @r#"
    HTTPS://upper.example.com {"BearerToken":"a"}
    Http://mixed.example.com:8080/x {"BearerToken":"b"}
    S3://bkt {"BearerToken":"c"}
    ****@userinfo.example.com {"BearerToken":"d"}
    hTTps://*.wild.example.com. {"BearerToken":"e"}
    "#);
}

// Regression: among equally specific keys written two ways, the cold scan took the last and the
// index the first.
#[test]
fn equally_specific_spellings_give_one_answer() {
    // The first written wins, except that a later duplicate of the same text replaces it, as
    // when the JSON is read into a map.
    let texts = [
        r#"{"example.com": {"BearerToken": "first"}, "EXAMPLE.COM": {"BearerToken": "second"}}"#,
        r#"{"example.com": {"BearerToken": "first"}, "EXAMPLE.COM": {"BearerToken": "second"},
            "example.com": {"BearerToken": "first, again"}}"#,
    ];
    let mut out = Vec::new();
    for text in texts {
        let (_dir, path) = temp_file(Some(text));
        let (cold, warm) = cold_and_warm(&path, &["https://example.com/"]);
        assert_eq!(cold, warm, "{text}");
        out.extend(cold);
    }
    insta::assert_snapshot!(out.join("\n"), @r#"
    example.com {"BearerToken":"first"}
    example.com {"BearerToken":"first, again"}
    "#);
}
