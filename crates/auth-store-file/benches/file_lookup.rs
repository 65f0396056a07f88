//! Benchmark: lookups in a rattler-format credentials file of 200, 2,000 and 20,000 entries.
//! `warm` is a long-lived `FileStore` whose index is built (URL parse + find); `cold` opens the
//! file and does one lookup per iteration, as an `auth` CLI process does (target: at most 2 ms at
//! 20,000 entries).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use auth_core::{CredentialStore, UrlTarget};
use auth_store_file::FileStore;
use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};

/// How many entries each file holds.
const SIZES: [usize; 3] = [200, 2_000, 20_000];

/// The key of entry `i`: even entries are exact hosts, one in twenty is a path-scoped key on the
/// preceding exact host, the rest are wildcards on distinct bases (none a public suffix). So 50 %
/// exact, 45 % wildcard, 5 % path-scoped.
fn key_text(i: usize) -> String {
    if i.is_multiple_of(2) {
        format!("host{i}.example.com")
    } else if i % 20 == 1 {
        format!("host{}.example.com/channels/private", i - 1)
    } else {
        format!("*.org{i}.example.com")
    }
}

fn token(i: usize) -> String {
    format!("pfx_{i:032}")
}

/// Writes `n` entries the way rattler does (a pretty-printed, key-sorted JSON object), mode 0600.
fn write_file(dir: &Path, n: usize) -> PathBuf {
    let entries: BTreeMap<String, serde_json::Value> = (0..n)
        .map(|i| (key_text(i), serde_json::json!({ "BearerToken": token(i) })))
        .collect();
    let path = dir.join(format!("credentials-{n}.json"));
    let text = serde_json::to_string_pretty(&entries).expect("a map serializes");
    std::fs::write(&path, text).expect("write the credentials file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .expect("chmod the credentials file");
    }
    path
}

/// The lookups measured for a file of `n` entries: (name, URL, the token that must answer).
fn cases(n: usize) -> [(&'static str, String, Option<String>); 3] {
    // For n in SIZES, `n / 2 + 2` is a plain exact host and `n / 2 + 3` a wildcard.
    let exact = n / 2 + 2;
    let wildcard = n / 2 + 3;
    [
        (
            "exact_hit",
            format!("https://host{exact}.example.com/conda-forge/noarch/repodata.json"),
            Some(token(exact)),
        ),
        (
            "wildcard_hit",
            format!(
                "https://deep.sub.org{wildcard}.example.com/conda-forge/linux-64/repodata.json"
            ),
            Some(token(wildcard)),
        ),
        ("miss", "https://unknown.invalid.test/x".to_owned(), None),
    ]
}

fn find_token(store: &FileStore, url: &str) -> Option<String> {
    let target = UrlTarget::parse(url).expect("a valid URL");
    store
        .find(&target)
        .expect("the file is readable")
        .map(|credential| credential.auth.primary_secret().expose().clone())
}

fn warm(c: &mut Criterion, files: &[(usize, PathBuf)]) {
    let mut group = c.benchmark_group("file_warm_find_url");
    group
        .sample_size(100)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (n, path) in files {
        let store = FileStore::open(path).expect("open the credentials file");
        for (name, url, expected) in cases(*n) {
            // The first lookup scans; the second builds the index. Both happen here, before
            // measuring, and check the answer.
            assert_eq!(find_token(&store, &url), expected, "{name} for {url}");
            assert_eq!(find_token(&store, &url), expected, "{name} for {url}");
            group.bench_with_input(BenchmarkId::new(name, n), url.as_str(), |b, url| {
                b.iter(|| {
                    let target = UrlTarget::parse(black_box(url)).expect("a valid URL");
                    store.find(&target).expect("the file is readable")
                });
            });
        }
    }
    group.finish();
}

fn cold(c: &mut Criterion, files: &[(usize, PathBuf)]) {
    let mut group = c.benchmark_group("file_cold");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (n, path) in files {
        let [(_, url, expected), ..] = cases(*n);
        let store = FileStore::open(path).expect("open the credentials file");
        assert_eq!(find_token(&store, &url), expected, "exact_hit for {url}");
        drop(store);

        // What `auth token HOST` does: open, one lookup (the scan, no index), drop.
        group.bench_with_input(BenchmarkId::new("open_find_hit", n), path, |b, path| {
            b.iter(|| {
                let store = FileStore::open(black_box(path)).expect("open the credentials file");
                let target = UrlTarget::parse(black_box(&url)).expect("a valid URL");
                store.find(&target).expect("the file is readable")
            });
        });
        // The share of that spent reading and splitting the file.
        group.bench_with_input(BenchmarkId::new("open_only", n), path, |b, path| {
            b.iter(|| FileStore::open(black_box(path)).expect("open the credentials file"));
        });
    }
    group.finish();
}

fn file_lookup(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let files: Vec<(usize, PathBuf)> = SIZES
        .iter()
        .map(|&n| (n, write_file(dir.path(), n)))
        .collect();
    warm(c, &files);
    cold(c, &files);
}

criterion_group!(benches, file_lookup);
criterion_main!(benches);
