//! Benchmark: a warm credential lookup from a URL string, as a middleware receives it
//! (`UrlTarget::parse` + `find`), through `CredentialIndex` and `MemoryStore`, for 200, 2,000 and
//! 20,000 stored keys, plus a breakdown (URL split alone, index probe alone) at 20,000. The target
//! is at most 150 ns per lookup, flat as the key count grows.

use std::hint::black_box;
use std::time::Duration;

use auth_core::{
    Authentication, CredentialIndex, CredentialStore, HostKey, MemoryStore, Secret, UrlTarget,
};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// How many keys each store holds.
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

/// The lookups measured for a store of `n` keys: (name, URL, the key that must answer).
fn cases(n: usize) -> [(&'static str, String, Option<String>); 4] {
    // For n in SIZES: `n / 2` is a multiple of 20 (an exact host that also has a path-scoped
    // key), `n / 2 + 2` a plain exact host and `n / 2 + 3` a wildcard.
    let exact = n / 2 + 2;
    let path = n / 2;
    let wildcard = n / 2 + 3;
    [
        (
            "exact_hit",
            format!("https://host{exact}.example.com/conda-forge/noarch/repodata.json"),
            Some(key_text(exact)),
        ),
        (
            "wildcard_hit",
            format!(
                "https://deep.sub.org{wildcard}.example.com/conda-forge/linux-64/repodata.json"
            ),
            Some(key_text(wildcard)),
        ),
        (
            "path_hit",
            format!("https://host{path}.example.com/channels/private/linux-64/repodata.json"),
            Some(key_text(path + 1)),
        ),
        ("miss", "https://unknown.invalid.test/x".to_owned(), None),
    ]
}

fn keys(n: usize) -> impl Iterator<Item = (usize, HostKey)> {
    (0..n).map(|i| (i, HostKey::parse(&key_text(i)).expect("a valid key")))
}

fn index_lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("index_find_url");
    for n in SIZES {
        let mut index = CredentialIndex::new();
        for (i, key) in keys(n) {
            index.insert(key, u32::try_from(i).expect("fewer than 2^32 keys"));
        }
        assert_eq!(index.len(), n);
        for (name, url, expected) in cases(n) {
            let target = UrlTarget::parse(&url).expect("a valid URL");
            let found = index.find(&target).map(|(key, _)| key.as_str().to_owned());
            assert_eq!(found, expected, "{name} for {url}");
            group.bench_with_input(BenchmarkId::new(name, n), url.as_str(), |b, url| {
                b.iter(|| {
                    let target = UrlTarget::parse(black_box(url)).expect("a valid URL");
                    index.find(&target).map(|(_, &value)| value)
                });
            });
        }
    }
    group.finish();
}

fn memory_store_lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("memory_store_find_url");
    for n in SIZES {
        let store = MemoryStore::new();
        for (i, key) in keys(n) {
            let auth = Authentication::BearerToken(Secret::from(format!("pfx_{i:032}")));
            store.set(&key, &auth).expect("memory store accepts writes");
        }
        for (name, url, expected) in cases(n) {
            let target = UrlTarget::parse(&url).expect("a valid URL");
            let found = store
                .find(&target)
                .expect("memory store never fails")
                .map(|credential| credential.key.as_str().to_owned());
            assert_eq!(found, expected, "{name} for {url}");
            group.bench_with_input(BenchmarkId::new(name, n), url.as_str(), |b, url| {
                b.iter(|| {
                    let target = UrlTarget::parse(black_box(url)).expect("a valid URL");
                    store.find(&target).expect("memory store never fails")
                });
            });
        }
    }
    group.finish();
}

/// Where the time of a lookup goes, at the largest size: splitting the URL alone, and the index
/// probe alone with the URL already split.
fn breakdown(c: &mut Criterion) {
    let n = SIZES[SIZES.len() - 1];
    let mut index = CredentialIndex::new();
    for (i, key) in keys(n) {
        index.insert(key, u32::try_from(i).expect("fewer than 2^32 keys"));
    }
    let mut group = c.benchmark_group("breakdown");
    for (name, url, _) in cases(n) {
        group.bench_with_input(
            BenchmarkId::new("url_parse", name),
            url.as_str(),
            |b, url| {
                b.iter(|| UrlTarget::parse(black_box(url)).expect("a valid URL"));
            },
        );
        let target = UrlTarget::parse(&url).expect("a valid URL");
        group.bench_with_input(
            BenchmarkId::new("index_find", name),
            &target,
            |b, target| {
                b.iter(|| index.find(black_box(target)).map(|(_, &value)| value));
            },
        );
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(100)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
}

criterion_group! {
    name = benches;
    config = config();
    targets = index_lookup, memory_store_lookup, breakdown
}
criterion_main!(benches);
