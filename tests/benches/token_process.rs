//! Benchmark: whole-process wall time of `auth --auth-file FILE token HOST` against a
//! 1,000-entry credentials file (target: at most 5 ms median). Needs the release binary:
//! `cargo build --release -p auth-cli` (xtask does that), or `AUTH_BIN=/path/to/auth`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

const ENTRIES: usize = 1_000;
const HOST: &str = "host500.example.com";

/// The key of entry `i`: even entries are exact hosts, one in twenty is a path-scoped key on the
/// preceding exact host, the rest are wildcards on distinct bases. So 50 % exact, 45 % wildcard,
/// 5 % path-scoped.
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

/// Writes the entries the way rattler does (a pretty-printed, key-sorted JSON object), mode 0600.
fn write_file(path: &Path) {
    let entries: BTreeMap<String, serde_json::Value> = (0..ENTRIES)
        .map(|i| (key_text(i), serde_json::json!({ "BearerToken": token(i) })))
        .collect();
    let text = serde_json::to_string_pretty(&entries).expect("a map serializes");
    std::fs::write(path, text).expect("write the credentials file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .expect("chmod the credentials file");
    }
}

fn token_process(c: &mut Criterion) {
    let bin = auth_binary();
    assert!(
        bin.is_file(),
        "{} does not exist: run `cargo build --release -p auth-cli` first (xtask does that), \
         or set AUTH_BIN",
        bin.display()
    );
    let home = tempfile::tempdir().expect("create a temporary HOME");
    let file = home.path().join("credentials.json");
    write_file(&file);

    let mut command = Command::new(&bin);
    command
        .arg("--auth-file")
        .arg(&file)
        .args(["token", HOST])
        .env_remove("RATTLER_AUTH_FILE")
        .env("HOME", home.path())
        .stdin(Stdio::null());

    let output = command.output().expect("run auth");
    assert!(
        output.status.success(),
        "`auth token {HOST}` failed with {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("{}\n", token(500)),
        "`auth token {HOST}` must print the token and a newline"
    );

    let mut group = c.benchmark_group("process");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("auth_token_1000_entries", |b| {
        b.iter(|| {
            let output = command.output().expect("run auth");
            assert!(
                output.status.success(),
                "auth token failed: {}",
                output.status
            );
            output
        });
    });
    group.finish();
}

criterion_group!(benches, token_process);
criterion_main!(benches);
