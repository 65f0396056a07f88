//! Benchmark: whole processes, as git, cargo and docker start them once per operation, each
//! against its peer in the same run (issue 12 §5, issue 13 §3):
//!
//! - start-up: `auth --version` against `rattler_peer --version` (a binary linking
//!   `rattler_networking`), target at or below it;
//! - a 1,000-entry credentials file: `auth token HOST` and `auth helper git get` against
//!   `rattler_peer file-get-url`, the same lookup with `rattler_networking`, target ≤ 1.0×;
//! - the real Secret Service (gnome-keyring on a private bus) holding 1, 31 and 51 `rattler`
//!   items: `auth helper git get` against `secret-tool lookup` of the same item, target ≤ 1.5×;
//! - peak RSS of `auth token` on the file (target ≤ 4 MB) and the binary's size (≤ 8 MB).
//!
//! Criterion times each command; then a summary measures each pair again, interleaved (one run
//! of each in turn, each first in every other round, so a busy machine slows both alike),
//! prints the median ratios and the targets, and says which are missed. A bench reports; it
//! fails only when a command fails. `AUTH_BENCH_QUICK=1` (`cargo xtask bench --quick`) runs
//! fewer rounds.
//!
//! Needs the release binary and the peer: `cargo build --release -p auth-cli` and
//! `cargo build --release -p auth-tests --example rattler_peer` (xtask does both), or
//! `AUTH_BIN=/path/to/auth`.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use auth_tests::Sandbox;
use criterion::{Criterion, criterion_group, criterion_main};

const ENTRIES: usize = 1_000;
const HOST: &str = "host500.example.com";
/// How many `rattler` items the keyring holds in each case (the measurements).
const KEYRING_ITEMS: [usize; 3] = [1, 31, 51];
const MAX_RSS_KB: u64 = 4 * 1024;
const MAX_BINARY_BYTES: u64 = 8 * 1024 * 1024;

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

/// The profile directory this bench was built into: it runs from `<target>/<profile>/deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the path of this bench executable");
    exe.parent()
        .and_then(Path::parent)
        .expect("the bench executable lives in <target>/<profile>/deps/")
        .to_owned()
}

/// `$AUTH_BIN`, else `auth` in the profile directory this bench was built into.
#[allow(
    clippy::disallowed_methods,
    reason = "AUTH_BIN lets the caller point the bench at another binary, as in the e2e harness"
)]
fn auth_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("AUTH_BIN") {
        return PathBuf::from(path);
    }
    profile_dir().join(format!("auth{}", std::env::consts::EXE_SUFFIX))
}

fn rattler_binary() -> PathBuf {
    profile_dir()
        .join("examples")
        .join(format!("rattler_peer{}", std::env::consts::EXE_SUFFIX))
}

#[allow(
    clippy::disallowed_methods,
    reason = "the quick mode of `cargo xtask bench` is passed in the environment"
)]
fn quick() -> bool {
    std::env::var_os("AUTH_BENCH_QUICK").is_some_and(|value| value == "1")
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

/// One command to time: how to run it, what it reads on stdin, and what its stdout must hold.
struct Case {
    name: String,
    command: Command,
    stdin: Option<String>,
    expect: String,
}

impl Case {
    fn new(name: &str, command: Command, stdin: Option<String>, expect: &str) -> Self {
        Self {
            name: name.to_owned(),
            command,
            stdin,
            expect: expect.to_owned(),
        }
    }

    /// Runs it once to the end and checks its answer; the answer is read, so it is in the time.
    fn run(&mut self) {
        self.command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self
            .command
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", self.name));
        if let (Some(input), Some(mut pipe)) = (&self.stdin, child.stdin.take()) {
            pipe.write_all(input.as_bytes())
                .unwrap_or_else(|err| panic!("cannot write to {}: {err}", self.name));
        }
        let output = child
            .wait_with_output()
            .unwrap_or_else(|err| panic!("{} did not finish: {err}", self.name));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains(&self.expect),
            "{} failed with {}, or printed no {:?}\n--- stdout\n{stdout}\n--- stderr\n{}",
            self.name,
            output.status,
            self.expect,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn command(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(program);
    command.args(args).env_clear();
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

/// git's request for a host, from a git that takes bearer tokens.
fn git_request(host: &str) -> String {
    format!("capability[]=authtype\nprotocol=https\nhost={host}\n\n")
}

/// A comparison for the summary: `ours` against `peer`, with the ratio it must stay under.
struct Pair {
    ours: Case,
    peer: Case,
    target: f64,
}

/// The file cases, in a HOME of their own.
fn file_pairs(bin: &Path, peer: &Path, home: &Path) -> Vec<Pair> {
    let file = home.join("credentials.json");
    write_file(&file);
    let file = file.to_str().expect("a UTF-8 temporary path").to_owned();
    let home = home.to_str().expect("a UTF-8 temporary path").to_owned();
    let env = [("HOME", home.as_str())];
    let rattler = || {
        Case::new(
            "rattler_peer file-get-url",
            command(
                peer,
                &["file-get-url", &file, &format!("https://{HOST}/")],
                &env,
            ),
            None,
            &token(500),
        )
    };
    vec![
        Pair {
            ours: Case::new(
                "auth --version",
                command(bin, &["--version"], &env),
                None,
                "auth",
            ),
            peer: Case::new(
                "rattler_peer --version",
                command(peer, &["--version"], &env),
                None,
                "rattler_peer",
            ),
            target: 1.0,
        },
        Pair {
            ours: Case::new(
                "auth token (1,000-entry file)",
                command(bin, &["--auth-file", &file, "token", HOST], &env),
                None,
                &token(500),
            ),
            peer: rattler(),
            target: 1.0,
        },
        Pair {
            ours: Case::new(
                "auth helper git get (1,000-entry file)",
                command(bin, &["--auth-file", &file, "helper", "git", "get"], &env),
                Some(git_request(HOST)),
                &token(500),
            ),
            peer: rattler(),
            target: 1.0,
        },
    ]
}

/// A real gnome-keyring holding `items` items of service `rattler`, written by `secret-tool`
/// as rattler's keyring store writes them; the sandbox keeps it running.
fn keyring_pair(bin: &Path, items: usize) -> (Sandbox, Pair) {
    let sandbox = Sandbox::with_keyring();
    for i in 0..items {
        let host = format!("host{i}.example.com");
        let json = serde_json::json!({ "BearerToken": token(i) }).to_string();
        let label = format!("--label=keyring:{host}@rattler");
        let run = sandbox.system_tool(
            "secret-tool",
            &["store", &label, "service", "rattler", "username", &host],
            Some(&json),
        );
        assert_eq!(run.code, 0, "secret-tool store failed: {}", run.stderr);
    }
    let address = sandbox
        .system_tool(
            "sh",
            &["-c", "printf %s \"$DBUS_SESSION_BUS_ADDRESS\""],
            None,
        )
        .stdout;
    let home = sandbox.home().to_str().expect("a UTF-8 HOME").to_owned();
    let env = [
        ("HOME", home.as_str()),
        ("DBUS_SESSION_BUS_ADDRESS", address.as_str()),
    ];
    let wanted = items / 2;
    let host = format!("host{wanted}.example.com");
    let ours = Case::new(
        &format!("auth helper git get (keyring, {items} items)"),
        command(bin, &["helper", "git", "get"], &env),
        Some(git_request(&host)),
        &token(wanted),
    );
    let mut lookup = command(
        Path::new("secret-tool"),
        &["lookup", "service", "rattler", "username", &host],
        &env,
    );
    lookup.env("PATH", search_path());
    let peer = Case::new(
        &format!("secret-tool lookup ({items} items)"),
        lookup,
        None,
        &token(wanted),
    );
    (
        sandbox,
        Pair {
            ours,
            peer,
            target: 1.5,
        },
    )
}

/// Our PATH, where `secret-tool` is found.
#[allow(
    clippy::disallowed_methods,
    reason = "secret-tool is found on our PATH"
)]
fn search_path() -> std::ffi::OsString {
    std::env::var_os("PATH").unwrap_or_default()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

/// Peak resident set size of one run, in KiB, as `/usr/bin/time -f %M` reports the child's
/// `ru_maxrss`.
fn peak_rss_kb(case: &Case) -> Option<u64> {
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-f")
        .arg("%M")
        .arg(case.command.get_program())
        .args(case.command.get_args())
        .env_clear()
        .envs(
            case.command
                .get_envs()
                .filter_map(|(key, value)| Some((key, value?))),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let output = timed.output().ok()?;
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()
}

#[allow(
    clippy::print_stdout,
    reason = "the summary is what `cargo xtask bench` shows"
)]
fn summary(pairs: &mut [Pair], bin: &Path, rss_case: &Case) {
    let rounds = if quick() { 20 } else { 100 };
    println!("\nwhole-process medians of {rounds} interleaved runs:");
    let mut missed = Vec::new();
    for pair in pairs.iter_mut() {
        let (mut ours, mut peer) = (Vec::new(), Vec::new());
        // Each goes first in every other round, so neither pays alone for running first.
        for round in 0..rounds {
            for ours_now in [round % 2 == 0, round % 2 == 1] {
                let (case, times) = if ours_now {
                    (&mut pair.ours, &mut ours)
                } else {
                    (&mut pair.peer, &mut peer)
                };
                let start = Instant::now();
                case.run();
                times.push(start.elapsed());
            }
        }
        let (ours, peer) = (median(ours), median(peer));
        let ratio = ours.as_secs_f64() / peer.as_secs_f64();
        let verdict = if ratio <= pair.target { "ok" } else { "MISSED" };
        println!(
            "  {:<44} {:>7.2} ms  vs {:<32} {:>7.2} ms  = {ratio:.2}x (target <= {:.1}x) {verdict}",
            pair.ours.name,
            ours.as_secs_f64() * 1e3,
            pair.peer.name,
            peer.as_secs_f64() * 1e3,
            pair.target
        );
        if ratio > pair.target {
            missed.push(pair.ours.name.clone());
        }
    }
    match peak_rss_kb(rss_case) {
        Some(kb) => {
            let verdict = if kb <= MAX_RSS_KB { "ok" } else { "MISSED" };
            println!(
                "  peak RSS of {}: {kb} KiB (target <= {MAX_RSS_KB} KiB) {verdict}",
                rss_case.name
            );
            if kb > MAX_RSS_KB {
                missed.push("peak RSS".to_owned());
            }
        }
        None => {
            println!("  peak RSS: not measured (/usr/bin/time is missing; apt-get install time)");
        }
    }
    let bytes = std::fs::metadata(bin).map_or(0, |meta| meta.len());
    let verdict = if bytes <= MAX_BINARY_BYTES {
        "ok"
    } else {
        "MISSED"
    };
    println!(
        "  binary size of {}: {:.1} MiB (target <= 8 MiB) {verdict}",
        bin.display(),
        f64::from(u32::try_from(bytes / 1024).unwrap_or(u32::MAX)) / 1024.0
    );
    if bytes > MAX_BINARY_BYTES {
        missed.push("binary size".to_owned());
    }
    if missed.is_empty() {
        println!("every target met");
    } else {
        println!("targets missed: {}", missed.join(", "));
    }
}

fn token_process(c: &mut Criterion) {
    let bin = auth_binary();
    let peer = rattler_binary();
    for (path, build) in [
        (&bin, "cargo build --release -p auth-cli"),
        (
            &peer,
            "cargo build --release -p auth-tests --example rattler_peer",
        ),
    ] {
        assert!(
            path.is_file(),
            "{} does not exist: run `{build}` first (xtask does that), or set AUTH_BIN",
            path.display()
        );
    }
    let home = tempfile::tempdir().expect("create a temporary HOME");
    let mut pairs = file_pairs(&bin, &peer, home.path());
    let mut sandboxes = Vec::new();
    for items in KEYRING_ITEMS {
        let (sandbox, pair) = keyring_pair(&bin, items);
        sandboxes.push(sandbox);
        pairs.push(pair);
    }

    let mut group = c.benchmark_group("process");
    group
        .sample_size(if quick() { 10 } else { 30 })
        .warm_up_time(Duration::from_millis(if quick() { 100 } else { 500 }))
        .measurement_time(Duration::from_secs(if quick() { 1 } else { 3 }));
    // The rattler lookup is the peer of two pairs; criterion times it once.
    let mut timed = std::collections::BTreeSet::new();
    for pair in &mut pairs {
        for case in [&mut pair.ours, &mut pair.peer] {
            case.run();
            if timed.insert(case.name.clone()) {
                let id = case.name.clone();
                group.bench_function(id, |b| b.iter(|| case.run()));
            }
        }
    }
    group.finish();

    let rss_case = Case::new(
        "auth token (1,000-entry file)",
        command(
            &bin,
            &[
                "--auth-file",
                home.path()
                    .join("credentials.json")
                    .to_str()
                    .expect("UTF-8"),
                "token",
                HOST,
            ],
            &[("HOME", home.path().to_str().expect("UTF-8"))],
        ),
        None,
        &token(500),
    );
    summary(&mut pairs, &bin, &rss_case);
    drop(sandboxes);
}

criterion_group!(benches, token_process);
criterion_main!(benches);
