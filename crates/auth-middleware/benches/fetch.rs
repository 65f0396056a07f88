//! Benchmark: what the middleware adds to a GET of a 512-byte file from a real nginx on loopback,
//! one request at a time over a kept-alive connection (target: at most 3 % of the request time
//! and at most 5 µs per request), with the credential looked up in a 201-entry `credentials.json`.
//!
//! Both clients fetch from the same nginx server, which serves the file to anyone: the two
//! requests then cost nginx the same, and the difference is the middleware's own work (the
//! `reqwest-middleware` stack, the lookup, the header) plus the header's bytes on the wire. A
//! second server demands the Bearer token; setup checks that the middleware gets the file from
//! it and a plain client does not, so the credential measured is really found and attached.
//!
//! Groups: `fetch` (one GET per iteration), `sequential_10k` (the 10,000 GETs per
//! iteration) and `lookup_only`: `StoreChain::find` alone, and client stacks whose last
//! middleware answers without the network, with and without ours, for the local server's
//! `127.0.0.1` URL (`_ip`) and for an https URL on a host name (`_host`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::{StoreChain, UrlTarget};
use auth_middleware::AuthMiddleware;
use auth_store_file::FileStore;
use auth_tests::peers::{Nginx, write_files};
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use http::Extensions;
use reqwest::{Request, Response, StatusCode};
use reqwest_middleware::{ClientWithMiddleware, Middleware, Next};

/// The size of the served file: small, so the request's fixed costs dominate.
const FILE_LEN: usize = 512;
const FILE: &str = "pkg/file.bin";
const TOKEN: &str = "bench-token-0123456789abcdef";
/// Entries of `credentials.json` besides the one for the server.
const OTHER_ENTRIES: usize = 200;
/// The scenario: this many sequential GETs.
const SEQUENTIAL: usize = 10_000;

/// The key of other entry `i`, mixed as a user's file is: exact hosts, wildcards on distinct
/// bases, and one in ten scoped to a path on the preceding exact host.
fn other_key(i: usize) -> String {
    if i % 10 == 1 {
        format!("host{}.example.com/channels/private", i - 1)
    } else if i.is_multiple_of(2) {
        format!("host{i}.example.com")
    } else {
        format!("*.org{i}.example.com")
    }
}

/// `credentials.json` in rattler's format (a pretty-printed, key-sorted object), mode 0600:
/// `OTHER_ENTRIES` other hosts and `127.0.0.1` with [`TOKEN`].
fn write_credentials(path: &Path) {
    let mut entries: Vec<(String, String)> = (0..OTHER_ENTRIES)
        .map(|i| (other_key(i), format!("pfx_{i:032}")))
        .collect();
    entries.push(("127.0.0.1".to_owned(), TOKEN.to_owned()));
    entries.sort();
    let body: Vec<String> = entries
        .iter()
        .map(|(key, token)| format!("  \"{key}\": {{\n    \"BearerToken\": \"{token}\"\n  }}"))
        .collect();
    std::fs::write(path, format!("{{\n{}\n}}\n", body.join(",\n")))
        .expect("write the credentials file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .expect("chmod the credentials file");
    }
}

/// Answers every request with 200 and the file's bytes, never calling the next handler: the end
/// of a client stack that measures the middleware without the network.
#[derive(Debug)]
struct CannedFile;

static CANNED: [u8; FILE_LEN] = [b'x'; FILE_LEN];

#[async_trait]
impl Middleware for CannedFile {
    async fn handle(
        &self,
        _request: Request,
        _extensions: &mut Extensions,
        _next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        Ok(Response::from(http::Response::new(reqwest::Body::from(
            &CANNED[..],
        ))))
    }
}

/// Everything the benchmarks share; dropping it stops nginx.
struct Setup {
    runtime: tokio::runtime::Runtime,
    /// The file on the server that needs no credential.
    url: String,
    plain: reqwest::Client,
    authenticated: ClientWithMiddleware,
    chain: StoreChain,
    _nginx: Nginx,
    _credentials: tempfile::TempDir,
}

fn middleware(chain: &StoreChain) -> AuthMiddleware {
    AuthMiddleware::new(chain.clone(), auth_middleware::system_clock())
}

fn setup() -> Setup {
    // reqwest is built without a crypto provider; the bench speaks plain http, but building a
    // client needs one.
    let _ = rustls::crypto::ring::default_provider().install_default();

    let mut builder = Nginx::builder();
    let root = write_files(&builder.dir().join("root"), &[(FILE, &[b'x'; FILE_LEN])]);
    let open = builder.server(&format!("root \"{}\";", root.display()));
    let protected = builder.bearer(TOKEN, &root);
    let nginx = builder.start();

    let credentials = tempfile::tempdir().expect("a temporary directory");
    let file = credentials.path().join("credentials.json");
    write_credentials(&file);
    let store = FileStore::open(&file).expect("the credentials file opens");
    let chain = StoreChain::new(vec![Arc::new(store)]);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a reqwest client");
    let authenticated = auth_middleware::client(reqwest::Client::builder(), middleware(&chain))
        .expect("a client with the middleware");

    // The credential is really found and sent: the protected server lets the middleware in and
    // refuses the plain client.
    let protected_url = nginx.url(protected, FILE);
    runtime.block_on(async {
        let refused = plain
            .get(&protected_url)
            .send()
            .await
            .expect("nginx answers");
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        let body = authenticated
            .get(&protected_url)
            .send()
            .await
            .expect("the middleware's request is accepted")
            .bytes()
            .await
            .expect("the body");
        assert_eq!(body.len(), FILE_LEN);
    });

    Setup {
        runtime,
        url: nginx.url(open, FILE),
        plain,
        authenticated,
        chain,
        _nginx: nginx,
        _credentials: credentials,
    }
}

async fn get_plain(client: &reqwest::Client, url: &str) -> usize {
    let response = client.get(url).send().await.expect("nginx answers");
    let body = response.bytes().await.expect("the body");
    assert_eq!(body.len(), FILE_LEN, "the file, not an error page");
    body.len()
}

async fn get_authenticated(client: &ClientWithMiddleware, url: &str) -> usize {
    let response = client.get(url).send().await.expect("nginx answers");
    let body = response.bytes().await.expect("the body");
    assert_eq!(body.len(), FILE_LEN, "the file, not an error page");
    body.len()
}

fn fetch(c: &mut Criterion) {
    let setup = setup();
    let Setup {
        runtime,
        url,
        plain,
        authenticated,
        ..
    } = &setup;

    let mut group = c.benchmark_group("fetch");
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("plain", |b| {
        b.iter(|| runtime.block_on(get_plain(plain, url)));
    });
    group.bench_function("middleware", |b| {
        b.iter(|| runtime.block_on(get_authenticated(authenticated, url)));
    });
    group.finish();

    // One iteration is the whole scenario, so a few flat samples are enough.
    let mut group = c.benchmark_group("sequential_10k");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(12));
    group.bench_function("plain", |b| {
        b.iter(|| {
            runtime.block_on(async {
                for _ in 0..SEQUENTIAL {
                    get_plain(plain, url).await;
                }
            });
        });
    });
    group.bench_function("middleware", |b| {
        b.iter(|| {
            runtime.block_on(async {
                for _ in 0..SEQUENTIAL {
                    get_authenticated(authenticated, url).await;
                }
            });
        });
    });
    group.finish();
}

/// A URL on one of the other entries' hosts: what a real download looks like, a host name over
/// https. `UrlTarget::parse` takes its fast path here, and the slow one for an IP literal such
/// as the local server's `127.0.0.1`.
fn host_url() -> String {
    format!("https://{}/{FILE}", other_key(100))
}

fn lookup_only(c: &mut Criterion) {
    let setup = setup();
    let Setup {
        runtime,
        url: ip_url,
        chain,
        ..
    } = &setup;
    let host_url = &host_url();
    let client = || {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a reqwest client")
    };
    let without = reqwest_middleware::ClientBuilder::new(client())
        .with(CannedFile)
        .build();
    let with = reqwest_middleware::ClientBuilder::new(client())
        .with(middleware(chain))
        .with(CannedFile)
        .build();

    let mut group = c.benchmark_group("lookup_only");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for (name, url) in [("ip", ip_url), ("host", host_url)] {
        group.bench_function(format!("find_{name}"), |b| {
            b.iter(|| {
                let target = UrlTarget::parse(url).expect("an http(s) URL");
                chain
                    .find(&target)
                    .expect("the store answers")
                    .expect("a stored credential")
            });
        });
    }
    group.bench_function("stack_without_middleware", |b| {
        b.iter(|| runtime.block_on(get_authenticated(&without, ip_url)));
    });
    for (name, url) in [("ip", ip_url), ("host", host_url)] {
        group.bench_function(format!("stack_with_middleware_{name}"), |b| {
            b.iter(|| runtime.block_on(get_authenticated(&with, url)));
        });
    }
    group.finish();
}

criterion_group!(benches, fetch, lookup_only);
criterion_main!(benches);
