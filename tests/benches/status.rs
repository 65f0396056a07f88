//! Benchmark: whole-process wall time of `auth --auth-file FILE status` and `status --json` on
//! credentials files of 1,000, 10,000 and 100,000 entries. Target: at most 1 s at 100k entries
//! for both forms, and linear (ten times the entries, about ten times the time; it was quadratic:
//! 1k / 4k / 16k entries took 0.08 / 1.07 / 20.7 s, and 450k did not finish in 300 s).
//!
//! Needs the release binary: `cargo build --release -p auth-cli` (xtask does that), or
//! `AUTH_BIN=/path/to/auth`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

/// A mix of what people store: exact hosts with bearer tokens, wildcards, path-scoped keys with
/// Basic credentials, conda tokens, and one OAuth login in twenty (whose expiry `status` shows).
fn entry(i: usize) -> (String, serde_json::Value) {
    match i % 20 {
        0 => (
            format!("oauth{i}.example.com"),
            serde_json::json!({ "OAuth": {
                "access_token": format!("at_{i:032}"),
                "refresh_token": format!("rt_{i:032}"),
                "expires_at": 4_102_444_800_i64,
                "token_endpoint": "https://issuer.example.com/token",
                "revocation_endpoint": null,
                "issuer_url": "https://issuer.example.com",
                "client_id": "rattler",
            }}),
        ),
        1..=4 => (
            format!("host{i}.example.com/channels/private"),
            serde_json::json!({ "BasicHTTP": { "username": format!("user{i}"), "password": format!("pw_{i:032}") } }),
        ),
        5..=9 => (
            format!("*.org{i}.example.com"),
            serde_json::json!({ "CondaToken": format!("ct_{i:032}") }),
        ),
        _ => (
            format!("host{i}.example.com"),
            serde_json::json!({ "BearerToken": format!("pfx_{i:032}") }),
        ),
    }
}

/// `$AUTH_BIN`, else `auth` in the profile directory this bench was built into: the bench runs
/// from `<target>/release/deps/`, so two levels up.
#[allow(
    clippy::disallowed_methods,
    reason = "AUTH_BIN lets the caller point the bench at another binary, as in the e2e harness"
)]
fn auth_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("AUTH_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the path of this bench executable");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the bench executable lives in <target>/<profile>/deps/");
    profile_dir.join(format!("auth{}", std::env::consts::EXE_SUFFIX))
}

/// Writes `entries` entries the way rattler does (pretty-printed, sorted by key), mode 0600.
fn write_file(path: &Path, entries: usize) {
    let map: BTreeMap<String, serde_json::Value> = (0..entries).map(entry).collect();
    let text = serde_json::to_string_pretty(&map).expect("a map serializes");
    std::fs::write(path, text).expect("write the credentials file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .expect("chmod the credentials file");
    }
}

fn command(bin: &Path, home: &Path, file: &Path, json: bool) -> Command {
    let mut command = Command::new(bin);
    command
        .arg("--auth-file")
        .arg(file)
        .arg("status")
        .args(json.then_some("--json"))
        .env_clear()
        .env("HOME", home)
        .stdin(Stdio::null());
    command
}

/// One run with its output read, to check that it lists every entry before timing it.
fn check(bin: &Path, home: &Path, file: &Path, json: bool, entries: usize) {
    let output = command(bin, home, file, json)
        .output()
        .expect("run auth status");
    assert!(
        output.status.success(),
        "`auth status` failed with {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let listed = if json {
        let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
        report["entries"].as_array().expect("entries").len()
    } else {
        stdout
            .lines()
            .filter(|line| line.contains(".example.com"))
            .count()
    };
    assert_eq!(listed, entries, "`auth status` must list every entry");
    assert!(!stdout.contains("pfx_0000"), "no secret may be listed");
}

fn status(c: &mut Criterion) {
    let bin = auth_binary();
    assert!(
        bin.is_file(),
        "{} does not exist: run `cargo build --release -p auth-cli` first (xtask does that), \
         or set AUTH_BIN",
        bin.display()
    );
    let home = tempfile::tempdir().expect("create a temporary HOME");
    let mut group = c.benchmark_group("status");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    for entries in SIZES {
        let file = home.path().join(format!("credentials-{entries}.json"));
        write_file(&file, entries);
        for (form, json) in [("table", false), ("json", true)] {
            check(&bin, home.path(), &file, json, entries);
            // Timed without reading stdout back: what `auth status > file` costs.
            let mut timed = command(&bin, home.path(), &file, json);
            timed.stdout(Stdio::null()).stderr(Stdio::null());
            group.bench_with_input(BenchmarkId::new(form, entries), &entries, |b, _| {
                b.iter(|| {
                    let status = timed.status().expect("run auth status");
                    assert!(status.success(), "auth status failed: {status}");
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, status);
criterion_main!(benches);
