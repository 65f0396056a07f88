//! pixi's `[mirrors]` in `auth fetch`: a URL under a mirrored prefix is downloaded from the first
//! mirror that answers, with the mirror's own credential (never the original host's), falling
//! back on a connection error or a 5xx and not on a 4xx; the table comes from auth's config file
//! and pixi's. Real nginx servers record every request and `Authorization` header they get.

use std::fs;
use std::net::TcpListener;
use std::path::Path;

use auth_tests::peers::{Nginx, write_files};
use auth_tests::{Run, Sandbox};

use crate::leaks;

const ORIGIN_TOKEN: &str = "tk-mirrors-origin-41";
const MIRROR_TOKEN: &str = "tk-mirrors-mirror-42";
const BODY: &[u8] = b"the mirrored package\n";

/// Both hosts resolve to loopback; the port is each URL's own.
const RESOLVE: [&str; 4] = [
    "--resolve",
    "origin.test:80:127.0.0.1",
    "--resolve",
    "mirror.test:80:127.0.0.1",
];

/// A port on 127.0.0.1 where nothing listens: bound, then let go.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// auth's own config file in the sandbox's HOME.
fn own_config(sandbox: &Sandbox) -> std::path::PathBuf {
    sandbox
        .home()
        .join(".config")
        .join("auth")
        .join("config.toml")
}

/// `auth fetch URL -v` with both hosts resolved; neither token may appear in what it prints.
fn fetch(sandbox: &Sandbox, url: &str, extra: &[&str]) -> Run {
    let mut args = vec!["fetch", url, "-v"];
    args.extend_from_slice(&RESOLVE);
    args.extend_from_slice(extra);
    let run = sandbox.run(&args);
    assert_no_token(&run.all_output());
    run
}

fn assert_no_token(output: &str) {
    for secret in [ORIGIN_TOKEN, MIRROR_TOKEN] {
        for form in leaks::forms_for(secret, &[]) {
            assert!(!output.contains(&form), "{form:?} leaked:\n{output}");
        }
    }
}

fn login(sandbox: &Sandbox, key: &str, token: &str) {
    let run = sandbox.run(&["login", key, "--token", token]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_no_token(&run.all_output());
}

/// An nginx with the original host (a recorder: it must see nothing) and a mirror that serves
/// `BODY` at `/cf/noarch/pkg.conda` only with the mirror's token (recording too).
struct Hosts {
    nginx: Nginx,
    origin: auth_tests::peers::Server,
    mirror: auth_tests::peers::Server,
}

impl Hosts {
    fn start() -> Self {
        let mut builder = Nginx::builder();
        let root = write_files(&builder.dir().join("www"), &[("cf/noarch/pkg.conda", BODY)]);
        let origin = builder.recorder(&[]);
        let mirror = builder.bearer(MIRROR_TOKEN, &root);
        builder.record(mirror);
        Self {
            nginx: builder.start(),
            origin,
            mirror,
        }
    }

    /// `http://origin.test:PORT/conda-forge`, the mirrored prefix.
    fn prefix(&self) -> String {
        format!(
            "http://origin.test:{}/conda-forge",
            self.nginx.port(self.origin)
        )
    }

    /// The mirror's URL for the prefix.
    fn mirror(&self) -> String {
        format!("http://mirror.test:{}/cf", self.nginx.port(self.mirror))
    }

    fn package(&self) -> String {
        format!("{}/noarch/pkg.conda", self.prefix())
    }

    /// The original host saw nothing, and the mirror saw its own token only.
    fn assert_served_by_the_mirror(&self) {
        let origin = self.nginx.recorded(self.origin);
        assert!(origin.is_empty(), "the original host was asked:\n{origin}");
        let mirror = self.nginx.recorded(self.mirror);
        assert!(
            mirror
                .lines()
                .any(|line| line.starts_with("GET\t/cf/noarch/pkg.conda\t200\t")
                    && line.contains(&format!("authorization=Bearer {MIRROR_TOKEN}"))),
            "the mirror did not serve the package with its token:\n{mirror}"
        );
        assert!(
            !mirror.contains(ORIGIN_TOKEN),
            "the original host's token reached the mirror:\n{mirror}"
        );
    }
}

#[test]
fn a_down_mirror_is_skipped_and_the_next_gets_its_own_credential() {
    let hosts = Hosts::start();
    let sandbox = Sandbox::new();
    // Plain http allowed explicitly for both, so only the host decides whose token goes where.
    login(&sandbox, "http://origin.test", ORIGIN_TOKEN);
    login(&sandbox, "http://mirror.test", MIRROR_TOKEN);
    let down = format!("http://127.0.0.1:{}/conda-forge", closed_port());
    write(
        &own_config(&sandbox),
        &format!(
            "[mirrors]\n\"{}\" = [\"{down}\", \"{}\"]\n",
            hosts.prefix(),
            hosts.mirror()
        ),
    );
    let out = sandbox.home().join("pkg.conda");

    let run = fetch(&sandbox, &hosts.package(), &["-o", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(fs::read(&out).unwrap(), BODY);
    hosts.assert_served_by_the_mirror();
    // -v names the mirror that served, and the one skipped with why.
    let served = format!(
        "downloading from mirror {}/noarch/pkg.conda (for {})",
        hosts.mirror(),
        hosts.package()
    );
    assert!(run.stderr.contains(&served), "{}", run.stderr);
    let skipped = format!("mirror {down}/noarch/pkg.conda failed: ");
    let line = run
        .stderr
        .lines()
        .find(|line| line.contains(&skipped))
        .unwrap_or_else(|| panic!("no line about the down mirror:\n{}", run.stderr));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.ends_with("; trying the next mirror"), "{line}");
}

#[test]
fn a_5xx_falls_back_and_a_4xx_is_the_answer() {
    let mut builder = Nginx::builder();
    let root = write_files(&builder.dir().join("www"), &[("secret/file", BODY)]);
    let broken = builder.server("location / {\n    return 500;\n}");
    builder.record(broken);
    let missing = builder.server("location / {\n    return 404;\n}");
    builder.record(missing);
    let locked = builder.bearer(MIRROR_TOKEN, &root);
    builder.record(locked);
    let good = builder.recorder(&[]);
    let nginx = builder.start();
    let origin = format!("http://origin.test:{}", closed_port());
    let (broken_url, missing_url, locked_url, good_url) = (
        nginx.origin(broken),
        nginx.origin(missing),
        nginx.origin(locked),
        nginx.origin(good),
    );
    let sandbox = Sandbox::new();
    write(
        &own_config(&sandbox),
        &format!(
            "[mirrors]\n\
             \"{origin}/five\" = [\"{broken_url}/five\", \"{good_url}/five\"]\n\
             \"{origin}/four\" = [\"{missing_url}/four\", \"{good_url}/four\"]\n\
             \"{origin}/secret\" = [\"{locked_url}/secret\", \"{good_url}/secret\"]\n"
        ),
    );

    let run = fetch(&sandbox, &format!("{origin}/five/file"), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "recorded /five/file\n");
    assert!(
        run.stderr.contains(&format!(
            "mirror {broken_url}/five/file failed: the server answered HTTP 500 Internal Server \
             Error; trying the next mirror"
        )),
        "{}",
        run.stderr
    );

    let run = fetch(&sandbox, &format!("{origin}/four/file"), &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "error: could not download {origin}/four/file: its mirror {missing_url}/four/file \
             answered HTTP 404 Not Found"
        )),
        "{}",
        run.stderr
    );

    // A 401 is the mirror's answer too: no credential is stored for it, and nothing else is
    // tried.
    let run = fetch(&sandbox, &format!("{origin}/secret/file"), &[]);
    assert_eq!(run.code, 4, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "error: could not download {origin}/secret/file from its mirror \
             {locked_url}/secret/file"
        )) && run
            .stderr
            .contains("answered HTTP 401 and no credential is stored for it"),
        "{}",
        run.stderr
    );

    // The 404 and the 401 were the answers: the good mirror served `five` only.
    let recorded = nginx.recorded(good);
    assert_eq!(
        recorded
            .lines()
            .map(|line| line.split('\t').nth(1).unwrap())
            .collect::<Vec<_>>(),
        ["/five/file"],
        "{recorded}"
    );
    assert_eq!(nginx.recorded(broken).lines().count(), 1);
    assert_eq!(nginx.recorded(missing).lines().count(), 1);
    assert_eq!(nginx.recorded(locked).lines().count(), 1);
}

#[test]
fn when_every_mirror_fails_the_error_names_each_and_why() {
    let mut builder = Nginx::builder();
    let broken = builder.server("location / {\n    return 500;\n}");
    let nginx = builder.start();
    let broken_url = nginx.origin(broken);
    let origin = format!("http://origin.test:{}", closed_port());
    let down = format!("http://127.0.0.1:{}", closed_port());
    let sandbox = Sandbox::new();
    write(
        &own_config(&sandbox),
        &format!("[mirrors]\n\"{origin}/all\" = [\"{down}/all\", \"{broken_url}/all\"]\n"),
    );

    let run = fetch(&sandbox, &format!("{origin}/all/file"), &[]);
    assert_eq!(run.code, 1, "{run:?}");
    let Some((_, error)) = run.stderr.split_once("\nerror: ") else {
        panic!("no error:\n{}", run.stderr)
    };
    let mut lines = error.lines();
    assert_eq!(
        lines.next(),
        Some(format!("could not download {origin}/all/file from any of its mirrors:").as_str())
    );
    let first = lines.next().unwrap_or_default();
    assert!(
        first.starts_with(&format!("  {down}/all/file: ")) && first.contains("Connection refused"),
        "{error}"
    );
    assert_eq!(
        lines.next(),
        Some(
            format!("  {broken_url}/all/file: the server answered HTTP 500 Internal Server Error")
                .as_str()
        ),
        "{error}"
    );
}

#[test]
fn a_mirror_that_does_not_answer_in_time_is_skipped() {
    let mut builder = Nginx::builder();
    let good = builder.recorder(&[]);
    let nginx = builder.start();
    // Connections are taken (the kernel's backlog) and never answered.
    let silent = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let silent_url = format!("http://127.0.0.1:{}", silent.local_addr().unwrap().port());
    let origin = format!("http://origin.test:{}", closed_port());
    let sandbox = Sandbox::new();
    write(
        &own_config(&sandbox),
        &format!(
            "[mirrors]\n\"{origin}/\" = [\"{silent_url}/\", \"{}/\"]\n",
            nginx.origin(good)
        ),
    );

    let run = fetch(
        &sandbox,
        &format!("{origin}/ch/file"),
        &["--read-timeout", "0.5"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "recorded /ch/file\n");
    assert!(
        run.stderr.contains(&format!(
            "mirror {silent_url}/ch/file failed: timed out after 0.5 s waiting for 127.0.0.1:"
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn the_table_comes_from_pixis_config_too_below_auths_own() {
    let hosts = Hosts::start();
    let mut sandbox = Sandbox::new();
    login(&sandbox, "http://origin.test", ORIGIN_TOKEN);
    login(&sandbox, "http://mirror.test", MIRROR_TOKEN);
    let pixi_home = sandbox.home().join("pixi-home");
    let pixi_config = pixi_home.join("config.toml");
    sandbox.env("PIXI_HOME", &pixi_home);
    // pixi's other keys are pixi's business.
    write(
        &pixi_config,
        &format!(
            "default-channels = [\"conda-forge\"]\n\
             [mirrors]\n\"{}\" = [\"{}\"]\n\
             [repodata-config]\ndisable-zst = true\n",
            hosts.prefix(),
            hosts.mirror()
        ),
    );
    let run = fetch(&sandbox, &hosts.package(), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout.as_bytes(), BODY);
    hosts.assert_served_by_the_mirror();

    // auth's own file wins for the same prefix (written with its slash: the same prefix).
    let own = own_config(&sandbox);
    let down = format!("http://127.0.0.1:{}/conda-forge", closed_port());
    write(
        &own,
        &format!("[mirrors]\n\"{}/\" = [\"{down}\"]\n", hosts.prefix()),
    );
    let run = fetch(&sandbox, &hosts.package(), &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.lines().any(
            |line| line.starts_with(&format!("  {down}/noarch/pkg.conda: "))
                && line.contains("Connection refused")
        ),
        "{}",
        run.stderr
    );

    // A bad mirror URL in auth's own file is an error naming the file and the key.
    write(
        &own,
        "[mirrors]\n\"https://conda.anaconda.org/conda-forge\" = [\"prefix.dev/conda-forge\"]\n",
    );
    let run = fetch(&sandbox, &hosts.package(), &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "error: the config file {}: [mirrors] `https://conda.anaconda.org/conda-forge` lists \
             `prefix.dev/conda-forge`, which is not a mirror URL: relative URL without a base",
            own.display()
        )),
        "{}",
        run.stderr
    );
    // So is one in pixi's file, naming pixi's file.
    fs::remove_file(&own).unwrap();
    write(
        &pixi_config,
        "[mirrors]\n\"conda-forge\" = [\"https://prefix.dev/conda-forge\"]\n",
    );
    let run = fetch(&sandbox, &hosts.package(), &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "error: pixi's config file {}: [mirrors] key `conda-forge` is not a URL prefix: \
             relative URL without a base",
            pixi_config.display()
        )),
        "{}",
        run.stderr
    );
}
