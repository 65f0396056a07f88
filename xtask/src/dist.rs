//! `cargo xtask dist`: the release archive `target/dist/auth-<version>-<target>.tar.gz` (the
//! binary, shell completions, man pages, README, licenses and a `SHA256SUMS` of them) and
//! `target/dist/SHA256SUMS` beside it; `--check` builds it a second time from nothing in another
//! target directory and fails unless the two archives are the same bytes.
//!
//! Reproducible by construction: the build gets `SOURCE_DATE_EPOCH` (the last commit's time) and
//! `--remap-path-prefix` for every absolute path that could reach the binary (the checkout, the
//! target directory, cargo's home), C compilers the same map; the archive is written here, not
//! by the system's tar, with sorted entries, the epoch as every mtime, uid and gid 0, no user or
//! group names, fixed modes, and a gzip header with no time, name or OS.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use sha2::{Digest as _, Sha256};

use crate::cmd;

/// The shells `auth completions` has scripts for, with `clap_complete`'s file names for them.
const COMPLETIONS: &[(&str, &str)] = &[
    ("bash", "auth.bash"),
    ("elvish", "auth.elv"),
    ("fish", "auth.fish"),
    ("powershell", "_auth.ps1"),
    ("zsh", "_auth"),
];

/// Files of the checkout that go into the archive as they are.
const DOCUMENTS: &[&str] = &["README.md", "LICENSE-MIT", "LICENSE-APACHE"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Build the archive.
    Build,
    /// Build it, then again from nothing, and compare.
    Check,
}

/// What `cargo xtask dist` was asked for: the mode and the cargo profile of the binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Args {
    pub(crate) mode: Mode,
    /// `release` unless `--profile NAME` says otherwise. CI checks reproducibility with
    /// `repro-check` (the release profile without LTO, so two builds from nothing fit in CI):
    /// what it proves is that no path, time or order of the build machine reaches the archive,
    /// which does not depend on how much the optimizer does.
    pub(crate) profile: String,
}

pub(crate) fn parse(args: &[String]) -> Result<Args> {
    let mut parsed = Args {
        mode: Mode::Build,
        profile: "release".to_owned(),
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--check" => parsed.mode = Mode::Check,
            "--profile" => {
                rest.next()
                    .filter(|name| !name.starts_with('-'))
                    .context(
                        "`--profile` needs the name of a cargo profile, e.g. `--profile release`",
                    )?
                    .clone_into(&mut parsed.profile);
            }
            other => {
                bail!("`cargo xtask dist` takes `--check` and `--profile NAME`, not `{other}`")
            }
        }
    }
    Ok(parsed)
}

pub(crate) fn run(Args { mode, profile }: Args) -> Result<()> {
    let epoch = source_date_epoch()?;
    let target = host_target()?;
    // Only the release profile's archive is the one to ship; another profile's goes aside.
    let dist = if profile == "release" {
        crate::target_dir().join("dist")
    } else {
        crate::target_dir().join("dist").join(&profile)
    };
    let archive = build_archive(&dist.join("build"), &dist, epoch, &target, &profile)?;
    let sums = dist.join("SHA256SUMS");
    let name = file_name(&archive)?;
    let digest = sha256_file(&archive)?;
    write_file(&sums, format!("{digest}  {name}\n").as_bytes())?;
    eprintln!("dist: {} ({digest})", archive.display());
    eprintln!("dist: {}", sums.display());
    if mode == Mode::Build {
        return Ok(());
    }
    // A second build that shares nothing with the first: its own target directory, emptied, so
    // every crate is compiled again. The same target directory would make cargo reuse the first
    // build's files and the comparison would prove nothing.
    let check = dist.join("check");
    remove_dir_if_present(&check)?;
    let again = build_archive(&check.join("build"), &check, epoch, &target, &profile)?;
    let again_digest = sha256_file(&again)?;
    if again_digest != digest {
        bail!(
            "the release archive is not reproducible: {} is {digest}, {} built again from \
             nothing is {again_digest}; the files that differ: {}",
            archive.display(),
            again.display(),
            differing_files(&archive, &again)?
        );
    }
    eprintln!(
        "dist: reproducible: a second build from nothing in {} gave the same archive ({digest})",
        check.display()
    );
    Ok(())
}

/// Builds `auth` with `profile` in `target_dir`, then writes `auth-<version>-<target>.tar.gz`
/// into `out_dir` and returns its path.
fn build_archive(
    target_dir: &Path,
    out_dir: &Path,
    epoch: u64,
    target: &str,
    profile: &str,
) -> Result<PathBuf> {
    let auth = build_release(target_dir, epoch, profile)?;
    let version = version_of(&auth)?;
    let stem = format!("auth-{version}-{target}");
    let mut files: BTreeMap<String, (u32, Vec<u8>)> = BTreeMap::new();
    let binary =
        std::fs::read(&auth).with_context(|| format!("could not read {}", auth.display()))?;
    files.insert(
        format!("auth{}", std::env::consts::EXE_SUFFIX),
        (0o755, binary),
    );
    for (shell, name) in COMPLETIONS {
        let script = cmd::stdout_of(Command::new(&auth).args(["completions", shell]))?;
        files.insert(format!("completions/{name}"), (0o644, script.into_bytes()));
    }
    // The pages of this very binary, made as `cargo xtask codegen` makes docs/man.
    let man = target_dir.join("man");
    remove_dir_if_present(&man)?;
    std::fs::create_dir_all(&man).with_context(|| format!("could not create {}", man.display()))?;
    cmd::run(Command::new(&auth).arg("__man-pages").arg(&man))?;
    for name in crate::codegen::file_names(&man)? {
        let path = man.join(&name);
        let page =
            std::fs::read(&path).with_context(|| format!("could not read {}", path.display()))?;
        files.insert(format!("man/{name}"), (0o644, page));
    }
    for name in DOCUMENTS {
        let path = cmd::root().join(name);
        let text = std::fs::read(&path).with_context(|| {
            format!(
                "could not read {}, which the release archive ships",
                path.display()
            )
        })?;
        files.insert((*name).to_owned(), (0o644, text));
    }
    let mut sums = String::new();
    for (name, (_, bytes)) in &files {
        writeln!(sums, "{}  {name}", hex(&Sha256::digest(bytes))).expect("a String takes writes");
    }
    files.insert("SHA256SUMS".to_owned(), (0o644, sums.into_bytes()));

    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("could not create {}", out_dir.display()))?;
    let archive = out_dir.join(format!("{stem}.tar.gz"));
    let bytes = tar_gz(&stem, &files, epoch)
        .with_context(|| format!("could not make the archive {}", archive.display()))?;
    write_file(&archive, &bytes)?;
    Ok(archive)
}

/// `cargo build --profile PROFILE --locked -p auth-cli --bin auth` into `target_dir`, with the
/// flags that keep the build machine's paths out of the binary; returns the binary's path.
fn build_release(target_dir: &Path, epoch: u64, profile: &str) -> Result<PathBuf> {
    let root = cmd::root();
    // Later maps win in rustc when several match, so the more specific come last: the target
    // directory lies inside the checkout.
    let maps = [
        (cargo_home(), "/cargo".to_owned()),
        (root.to_owned(), "/auth".to_owned()),
        (target_dir.to_owned(), "/target".to_owned()),
    ];
    let mut rustflags = Vec::new();
    let mut cflags = Vec::new();
    for (from, to) in &maps {
        let from = from.to_str().with_context(|| {
            format!(
                "the path {} is not UTF-8; build from a UTF-8 path",
                from.display()
            )
        })?;
        rustflags.push(format!("--remap-path-prefix={from}={to}"));
        cflags.push(format!("-ffile-prefix-map={from}={to}"));
    }
    let mut command = cmd::cargo();
    command
        .args([
            "build",
            "--profile",
            profile,
            "--locked",
            "-p",
            "auth-cli",
            "--bin",
            "auth",
        ])
        .arg("--target-dir")
        .arg(target_dir)
        // CARGO_ENCODED_RUSTFLAGS replaces RUSTFLAGS and build.rustflags: the build is the same
        // whatever the developer's own flags are.
        .env_remove("RUSTFLAGS")
        .env("CARGO_ENCODED_RUSTFLAGS", rustflags.join("\u{1f}"))
        .env("CFLAGS", cflags.join(" "))
        .env("CXXFLAGS", cflags.join(" "))
        .env("SOURCE_DATE_EPOCH", epoch.to_string());
    cmd::run(&mut command)?;
    // cargo's `dev` profile builds into `debug`; every other profile into its own name.
    let dir = if profile == "dev" { "debug" } else { profile };
    let auth = target_dir
        .join(dir)
        .join(format!("auth{}", std::env::consts::EXE_SUFFIX));
    if !auth.is_file() {
        bail!(
            "the build with profile `{profile}` succeeded but {} is not there",
            auth.display()
        );
    }
    Ok(auth)
}

/// `SOURCE_DATE_EPOCH` when the developer set it, else the committer time of `HEAD`.
fn source_date_epoch() -> Result<u64> {
    if let Some(value) = env_var("SOURCE_DATE_EPOCH") {
        let text = value.to_string_lossy();
        return text.trim().parse().with_context(|| {
            format!("SOURCE_DATE_EPOCH is `{text}`, not a number of seconds since 1970")
        });
    }
    let text = cmd::stdout_of(Command::new("git").current_dir(cmd::root()).args([
        "log",
        "-1",
        "--format=%ct",
        "HEAD",
    ]))
    .context(
        "could not read the time of the last commit (is this a git checkout?); set \
         SOURCE_DATE_EPOCH to the seconds since 1970 the archive's files should carry",
    )?;
    text.trim()
        .parse()
        .with_context(|| format!("`git log -1 --format=%ct` printed `{}`", text.trim()))
}

/// The host's target triple, from `rustc -vV` of the pinned toolchain.
fn host_target() -> Result<String> {
    let text = cmd::stdout_of(Command::new("rustc").current_dir(cmd::root()).arg("-vV"))?;
    text.lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(|host| host.trim().to_owned())
        .with_context(|| format!("`rustc -vV` printed no `host:` line:\n{text}"))
}

/// The version `auth --version` prints (`auth 0.1.0` is `0.1.0`).
fn version_of(auth: &Path) -> Result<String> {
    let text = cmd::stdout_of(Command::new(auth).arg("--version"))?;
    match text.trim().split_once(' ') {
        Some(("auth", version)) if !version.is_empty() => Ok(version.to_owned()),
        _ => bail!(
            "`{} --version` printed `{}`, not `auth VERSION`",
            auth.display(),
            text.trim()
        ),
    }
}

/// Cargo's home (`CARGO_HOME`, else `~/.cargo`), where the registry sources are unpacked.
fn cargo_home() -> PathBuf {
    if let Some(home) = env_var("CARGO_HOME") {
        return PathBuf::from(home);
    }
    PathBuf::from(env_var("HOME").unwrap_or_else(|| OsString::from("/"))).join(".cargo")
}

/// A variable of the developer's environment, unless unset or empty.
#[allow(
    clippy::disallowed_methods,
    reason = "xtask reads SOURCE_DATE_EPOCH and cargo's home from the environment, as cargo does"
)]
fn env_var(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|value| !value.is_empty())
}

/// A gzip-compressed tar of `files` under the directory `stem`: directories first as they
/// appear, entries in byte order of their paths, every header fixed but the path, size and mode.
fn tar_gz(stem: &str, files: &BTreeMap<String, (u32, Vec<u8>)>, epoch: u64) -> Result<Vec<u8>> {
    let gzip = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gzip);
    let mut directories = std::collections::BTreeSet::from([String::new()]);
    for name in files.keys() {
        let mut parent = name.as_str();
        while let Some((up, _)) = parent.rsplit_once('/') {
            directories.insert(up.to_owned());
            parent = up;
        }
    }
    let mut entries: Vec<(String, tar::EntryType, u32, &[u8])> = directories
        .iter()
        .map(|dir| {
            let path = if dir.is_empty() {
                format!("{stem}/")
            } else {
                format!("{stem}/{dir}/")
            };
            (path, tar::EntryType::Directory, 0o755, &[][..])
        })
        .collect();
    entries.extend(files.iter().map(|(name, (mode, bytes))| {
        (
            format!("{stem}/{name}"),
            tar::EntryType::Regular,
            *mode,
            bytes.as_slice(),
        )
    }));
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, kind, mode, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(epoch);
        header.set_size(u64::try_from(bytes.len()).expect("a file fits in u64 bytes"));
        tar.append_data(&mut header, &path, bytes)
            .with_context(|| format!("could not add {path}"))?;
    }
    let gzip = tar
        .into_inner()
        .context("could not finish the tar stream")?;
    gzip.finish().context("could not finish the gzip stream")
}

/// Which files of two archives differ, by the `SHA256SUMS` each carries.
fn differing_files(first: &Path, second: &Path) -> Result<String> {
    let sums = |archive: &Path| -> Result<BTreeMap<String, String>> {
        let bytes = std::fs::read(archive)
            .with_context(|| format!("could not read {}", archive.display()))?;
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
        for entry in tar.entries().context("could not read the archive")? {
            let mut entry = entry.context("could not read the archive")?;
            let path = entry.path().context("a path in the archive")?.into_owned();
            if path.file_name().is_some_and(|name| name == "SHA256SUMS") {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut entry, &mut text)
                    .context("could not read SHA256SUMS in the archive")?;
                return Ok(text
                    .lines()
                    .filter_map(|line| line.split_once("  "))
                    .map(|(digest, name)| (name.to_owned(), digest.to_owned()))
                    .collect());
            }
        }
        bail!("{} holds no SHA256SUMS", archive.display())
    };
    let (first, second) = (sums(first)?, sums(second)?);
    let differ: Vec<&str> = first
        .keys()
        .chain(second.keys().filter(|name| !first.contains_key(*name)))
        .filter(|name| first.get(*name) != second.get(*name))
        .map(String::as_str)
        .collect();
    Ok(if differ.is_empty() {
        "none (only the tar or gzip framing)".to_owned()
    } else {
        differ.join(", ")
    })
}

fn sha256_file(path: &Path) -> Result<String> {
    let bytes =
        std::fs::read(path).with_context(|| format!("could not read {}", path.display()))?;
    Ok(hex(&Sha256::digest(&bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut text, byte| {
        write!(text, "{byte:02x}").expect("a String takes writes");
        text
    })
}

fn file_name(path: &Path) -> Result<String> {
    path.file_name()
        .and_then(|name| name.to_str())
        .map(str::to_owned)
        .with_context(|| format!("{} has no UTF-8 file name", path.display()))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = std::fs::File::create(path)
        .with_context(|| format!("could not create {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .with_context(|| format!("could not write {}", path.display()))
}

fn remove_dir_if_present(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err).with_context(|| format!("could not remove {}", dir.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Result<Args> {
        parse(&args.iter().map(|&arg| arg.to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn arguments_choose_the_mode_and_the_profile() {
        let args = |mode, profile: &str| Args {
            mode,
            profile: profile.to_owned(),
        };
        assert_eq!(parsed(&[]).unwrap(), args(Mode::Build, "release"));
        assert_eq!(parsed(&["--check"]).unwrap(), args(Mode::Check, "release"));
        assert_eq!(
            parsed(&["--profile", "repro-check", "--check"]).unwrap(),
            args(Mode::Check, "repro-check")
        );
        for bad in [&["--profile"][..], &["--profile", "--check"], &["check"]] {
            assert!(parsed(bad).is_err(), "{bad:?}");
        }
    }
}
