//! Properties, run with a fixed seed and 256 cases in the normal suite; `cargo xtask fuzz` runs
//! them longer (`PROPTEST_CASES`, and `PROPTEST_RNG_SEED` for another seed).

use std::fmt::Write as _;
use std::fs;

use auth_core::{CredentialStore, UrlTarget};
use auth_store_file::FileStore;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use crate::{chain, lookup, temp_file, with_logs};

/// The suite's config: proptest's defaults (which read `PROPTEST_CASES`), a fixed seed unless
/// `PROPTEST_RNG_SEED` gives one, and no failure files written into the source tree.
fn config() -> Config {
    let mut config = Config::default();
    if config.rng_seed == RngSeed::Random {
        config.rng_seed = RngSeed::Fixed(0x0f11_e500);
    }
    config.failure_persistence = None;
    config
}

const HOSTS: &[&str] = &[
    "example.com",
    "repo.example.com",
    "a.repo.example.com",
    "prefix.dev",
    "xn--bcher-kva.example",
    "bücher.example",
    "bkt",
    "127.0.0.1",
];

fn host() -> impl Strategy<Value = String> {
    prop::sample::select(HOSTS).prop_map(str::to_owned)
}

/// A key as people and tools write them: a scheme in any case, a wildcard, upper case, a
/// trailing dot, user information, a port, a path, spaces.
fn key_text() -> impl Strategy<Value = String> {
    (
        "(|https://|HTTPS://|Http://|http://|s3://|S3://)",
        (any::<bool>(), host(), any::<bool>(), any::<bool>()),
        "(|user@|u:p@)",
        "(|:8443|:443|:80)",
        "(|/|/org|/org/sub/)",
        "( ?)",
    )
        .prop_map(
            |(scheme, (wildcard, host, upper, dot), userinfo, port, path, space)| {
                let host = if upper { host.to_uppercase() } else { host };
                let star = if wildcard { "*." } else { "" };
                let dot = if dot { "." } else { "" };
                format!("{space}{scheme}{userinfo}{star}{host}{dot}{port}{path}")
            },
        )
}

/// A request URL on one of the hosts, a subdomain, or a look-alike.
fn url() -> impl Strategy<Value = String> {
    (
        "(https|http|s3|HTTPS)",
        host(),
        "(|a\\.|x|evil-)",
        any::<bool>(),
        "(|:8443|:443|:80)",
        "(/|/org/x|/orgx|/org/sub/y)",
    )
        .prop_map(|(scheme, host, before, upper, port, path)| {
            let host = format!("{before}{host}");
            let host = if upper { host.to_uppercase() } else { host };
            format!("{scheme}://{host}{port}{path}")
        })
}

/// A value: mostly a credential, sometimes one this version does not understand.
fn value(at: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(format!(r#"{{"BearerToken": "t{at}"}}"#)),
        1 => Just(r#"{"Kerberos": "x"}"#.to_owned()),
    ]
}

fn entries() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(key_text(), 1..7).prop_flat_map(|keys| {
        keys.into_iter()
            .enumerate()
            .map(|(at, key)| (Just(key), value(at)))
            .collect::<Vec<_>>()
    })
}

/// The file text of these entries, in this order, duplicates included.
fn render(entries: &[(String, String)]) -> String {
    let mut text = String::from("{");
    for (at, (key, value)) in entries.iter().enumerate() {
        let comma = if at == 0 { "" } else { "," };
        write!(
            text,
            "{comma}\n  {}: {value}",
            serde_json::to_string(key).unwrap()
        )
        .unwrap();
    }
    text.push_str("\n}\n");
    text
}

/// A string that looks like a secret and like nothing a message says.
fn secret() -> impl Strategy<Value = String> {
    "[A-Z][A-Z0-9]{3,10}[0-9]{2}"
}

/// A JSON value holding secrets, of the shapes a credentials file has and some it should not.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let leaf = prop_oneof![
        secret().prop_map(Value::String),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    let shaped = prop_oneof![
        secret().prop_map(|s| json!({ "BearerToken": s })),
        secret().prop_map(|s| json!({ "Kerberos": s })),
        (secret(), secret()).prop_map(|(u, p)| json!({ "BasicHTTP": { "username": u, "password": p } })),
        secret().prop_map(|p| json!({ "BasicHTTP": { "username": 1, "password": p } })),
        secret().prop_map(Value::String),
        (secret(), secret()).prop_map(|(a, s)| json!({ "OAuth": { "access_token": a, "token_endpoint": "https://t.example", "client_id": "c", "expires_at": s } })),
        (secret(), secret()).prop_map(|(a, b)| json!({ "S3Credentials": { "access_key_id": a, "secret_access_key": b, "session_token": 5 } })),
        (secret(), secret()).prop_map(|(a, b)| json!({ "BearerToken": a, "CondaToken": b })),
        secret().prop_map(|s| json!({ "OAuth": { "access_token": s } })),
    ];
    let nested = leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![Just("BearerToken".to_owned()), secret(), "[a-z]{1,6}"],
                inner,
                0..4
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    });
    prop_oneof![2 => shaped, 1 => nested]
}

/// Top-level keys, mostly good.
fn file_key() -> impl Strategy<Value = String> {
    prop_oneof![
        10 => key_text(),
        1 => Just("*.dev".to_owned()),
        1 => Just("ftp://example.com".to_owned()),
        1 => Just("a b".to_owned()),
        1 => Just("example.com:99999".to_owned()),
        1 => Just(String::new()),
    ]
}

/// One edit of the text: drop a byte, insert one that breaks JSON, or cut the rest.
#[derive(Debug, Clone)]
enum Edit {
    Remove(prop::sample::Index),
    Insert(prop::sample::Index, u8),
    Truncate(prop::sample::Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    let byte = prop::sample::select(&b"\"{}[],:\\\n\xff\xc3 0"[..]);
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Edit::Remove),
        (any::<prop::sample::Index>(), byte).prop_map(|(at, b)| Edit::Insert(at, b)),
        any::<prop::sample::Index>().prop_map(Edit::Truncate),
    ]
}

/// "Almost JSON": a credentials file, well formed (half the time) or broken by up to three
/// edits.
fn almost_json() -> impl Strategy<Value = (Vec<u8>, Vec<String>)> {
    (
        prop::collection::vec((file_key(), json_value()), 0..5),
        prop_oneof![Just(Vec::new()), prop::collection::vec(edit(), 1..4)],
    )
        .prop_map(|(entries, edits)| {
            let mut secrets = Vec::new();
            let mut text = String::from("{");
            for (at, (key, value)) in entries.iter().enumerate() {
                collect_strings(value, &mut secrets);
                let comma = if at == 0 { "" } else { "," };
                write!(
                    text,
                    "{comma}\n  {}: {value}",
                    serde_json::to_string(key).unwrap()
                )
                .unwrap();
            }
            text.push_str("\n}\n");
            let mut bytes = text.into_bytes();
            for edit in edits {
                match edit {
                    Edit::Remove(at) if !bytes.is_empty() => {
                        bytes.remove(at.index(bytes.len()));
                    }
                    Edit::Insert(at, byte) => bytes.insert(at.index(bytes.len() + 1), byte),
                    Edit::Truncate(at) => bytes.truncate(at.index(bytes.len() + 1)),
                    Edit::Remove(_) => {}
                }
            }
            secrets.retain(|s| s.len() >= 6);
            (bytes, secrets)
        })
}

fn collect_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// Everything the store says about a file of `bytes`: the open error and its chain (Display and
/// Debug), or the unknown entries' reasons, lookups and the logs of it all.
fn everything_said(bytes: &[u8]) -> String {
    let (dir, path) = temp_file(None);
    fs::write(&path, bytes).unwrap();
    let (said, logs) = with_logs(|| match FileStore::open(&path) {
        Err(err) => format!("{}\n{err:?}", chain(&err)),
        Ok(store) => {
            let mut said = String::new();
            for entry in store.unknown_entries() {
                writeln!(said, "{}: {}", entry.key, entry.reason).unwrap();
            }
            for url in [
                "https://example.com/",
                "https://repo.example.com/org/x",
                "s3://bkt/k",
            ] {
                lookup(&store, url);
            }
            lookup(&store, "https://a.repo.example.com/");
            store.list().unwrap();
            said
        }
    });
    format!("{said}\n{logs}").replace(&dir.path().display().to_string(), "[DIR]")
}

proptest! {
    #![proptest_config(config())]

    /// The cold scan (a fresh store's first lookup) answers what the index (every later lookup)
    /// answers, for every URL.
    #[test]
    fn prop_cold_scan_answers_as_the_index(entries in entries(), urls in prop::collection::vec(url(), 1..6)) {
        let (_dir, path) = temp_file(Some(&render(&entries)));
        let warm = FileStore::open(&path).unwrap();
        lookup(&warm, "https://warm.up/");
        for url in &urls {
            if UrlTarget::parse(url).is_err() {
                continue;
            }
            let cold = lookup(&FileStore::open(&path).unwrap(), url);
            prop_assert_eq!(cold, lookup(&warm, url), "{}", url);
        }
    }

    /// Any bytes at all: the store opens or refuses, and never panics.
    #[test]
    fn prop_any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        everything_said(&bytes);
    }

    /// A broken or odd credentials file: whatever is said quotes none of its string values.
    #[test]
    fn prop_no_message_quotes_a_value((bytes, secrets) in almost_json()) {
        let said = everything_said(&bytes);
        for secret in &secrets {
            prop_assert!(!said.contains(secret.as_str()), "{} in {}", secret, said);
        }
    }
}
