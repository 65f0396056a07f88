//! `auth helper install|uninstall docker`: `credHelpers` entries in docker's `config.json` for
//! the registries auth holds a login for, and the command `docker-credential-auth` that docker,
//! podman and skopeo run for them.
//!
//! Docker names a helper by registry (`credHelpers`) or for every registry (`credsStore`). We
//! write `credHelpers` only: `credsStore` would take over the registries another store already
//! serves (`desktop`, `osxkeychain`) and every `docker login`. A registry logged in to later
//! needs `auth helper install docker` once more; the message says so. containers' tools (podman,
//! skopeo, buildah) read docker's `config.json` after their own `auth.json`, so one file serves
//! them all.
//!
//! Docker runs `docker-credential-NAME` from PATH: we link that name to this `auth` binary in
//! its own directory (where `gcloud` ships `docker-credential-gcloud`), or in `~/.local/bin` when
//! that directory is not ours to write. Uninstall removes the link only when it still points to
//! this binary.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::config::{self, HELPER};
use crate::env::Env;
use crate::output::Printer;
use crate::resolve::Resolver;

/// The command docker runs for the helper `auth`.
const LINK_NAME: &str = "docker-credential-auth";

/// Adds (`on`) or removes our `credHelpers` entries and the `docker-credential-auth` link;
/// `dry_run` says what it would change.
pub(in crate::helpers) fn install(
    env: &Env,
    printer: Printer,
    on: bool,
    dry_run: bool,
) -> anyhow::Result<()> {
    let file = config_file(env)?;
    let shown = file.display().to_string();
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => Some(text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => return Err(err).with_context(|| format!("could not read {shown}")),
    };
    let exe = env.current_exe.clone().context(
        "could not find the path of this auth binary, which docker-credential-auth must link to",
    )?;
    let would = if dry_run { "would be " } else { "" };
    if on {
        let resolver = Resolver::open(env, None, None)?;
        let registries: Vec<String> = super::registries(&resolver)?.into_keys().collect();
        if registries.is_empty() {
            printer.info(&format!(
                "auth holds no registry login (a user name and password), so there is nothing to add to {shown}; log in first with `auth login REGISTRY --username USER --password -`, then run `auth helper install docker` again"
            ));
            return Ok(());
        }
        let edit = config::add(text.as_deref().unwrap_or(""), &registries, &file)?;
        for (registry, helper) in &edit.others {
            printer.warning(&format!(
                "{shown}: credHelpers already sends {registry} to docker-credential-{helper}; left it"
            ));
        }
        if edit.changed.is_empty() {
            printer.info(&format!(
                "{shown}: docker already asks auth for {}; nothing changed there",
                edit.already.join(", ")
            ));
        } else {
            if !dry_run {
                write(&file, &edit.text)?;
            }
            printer.info(&format!(
                "{shown}: credHelpers {would}set to \"{HELPER}\" for {}",
                edit.changed.join(", ")
            ));
        }
        link(env, &exe, printer, dry_run)?;
        if !dry_run {
            printer.info(
                "docker, podman and skopeo now ask auth for these registries; after `auth login` to another one, run `auth helper install docker` again; undo with `auth helper uninstall docker`",
            );
        }
    } else {
        let Some(text) = text else {
            printer.info(&format!("{shown} does not exist; nothing to remove there"));
            return unlink(env, &exe, printer, dry_run);
        };
        let edit = config::remove(&text, &file)?;
        if edit.changed.is_empty() {
            printer.info(&format!(
                "{shown}: no credHelpers entry names auth; nothing changed there"
            ));
        } else {
            if !dry_run {
                write(&file, &edit.text)?;
            }
            printer.info(&format!(
                "{shown}: credHelpers for {} {would}removed",
                edit.changed.join(", ")
            ));
        }
        unlink(env, &exe, printer, dry_run)?;
    }
    Ok(())
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
fn config_file(env: &Env) -> anyhow::Result<PathBuf> {
    let dir = match &env.docker_config {
        Some(dir) => dir.clone(),
        None => env
            .home
            .as_ref()
            .context("neither DOCKER_CONFIG nor HOME is set, so auth cannot find docker's config.json; set DOCKER_CONFIG")?
            .join(".docker"),
    };
    Ok(dir.join("config.json"))
}

/// Where the link may go: beside this binary, then `~/.local/bin`.
fn link_dirs(env: &Env, exe: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = exe.parent().map(Path::to_owned).into_iter().collect();
    if let Some(home) = &env.home {
        dirs.push(home.join(".local").join("bin"));
    }
    dirs
}

/// Whether `path` is a link to `exe`.
fn links_to(path: &Path, exe: &Path) -> bool {
    path.is_symlink()
        && std::fs::canonicalize(path)
            .ok()
            .zip(std::fs::canonicalize(exe).ok())
            .is_some_and(|(target, exe)| target == exe)
}

/// Makes `docker-credential-auth` a link to `exe`, unless one already is.
fn link(env: &Env, exe: &Path, printer: Printer, dry_run: bool) -> anyhow::Result<()> {
    let dirs = link_dirs(env, exe);
    if let Some(existing) = dirs
        .iter()
        .map(|dir| dir.join(LINK_NAME))
        .find(|path| links_to(path, exe))
    {
        printer.info(&format!(
            "{} already links to {}; nothing changed there",
            existing.display(),
            exe.display()
        ));
        return Ok(());
    }
    let mut failures = Vec::new();
    for dir in &dirs {
        let path = dir.join(LINK_NAME);
        if path.symlink_metadata().is_ok() {
            printer.warning(&format!(
                "{} exists and is not a link to {}; left it",
                path.display(),
                exe.display()
            ));
            failures.push(format!("{} exists", path.display()));
            continue;
        }
        if dry_run {
            printer.info(&format!(
                "would link {} to {}",
                path.display(),
                exe.display()
            ));
            return Ok(());
        }
        match make_link(dir, &path, exe) {
            Ok(()) => {
                printer.info(&format!("linked {} to {}", path.display(), exe.display()));
                if Some(dir.as_path()) != exe.parent() {
                    printer.warning(&format!(
                        "{} must be on PATH for docker to find {LINK_NAME}",
                        dir.display()
                    ));
                }
                return Ok(());
            }
            Err(err) => failures.push(format!("{}: {err}", path.display())),
        }
    }
    anyhow::bail!(
        "could not link {LINK_NAME} to {} ({}); make one on PATH yourself: ln -s {} /usr/local/bin/{LINK_NAME}",
        exe.display(),
        failures.join("; "),
        exe.display()
    )
}

#[cfg(unix)]
fn make_link(dir: &Path, path: &Path, exe: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::os::unix::fs::symlink(exe, path)
}

#[cfg(not(unix))]
fn make_link(dir: &Path, path: &Path, exe: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::copy(exe, path).map(|_| ())
}

/// Removes every `docker-credential-auth` link to `exe` that [`link`] may have made.
fn unlink(env: &Env, exe: &Path, printer: Printer, dry_run: bool) -> anyhow::Result<()> {
    let mut any = false;
    for path in link_dirs(env, exe).iter().map(|dir| dir.join(LINK_NAME)) {
        if !links_to(&path, exe) {
            continue;
        }
        any = true;
        if dry_run {
            printer.info(&format!("would remove the link {}", path.display()));
        } else {
            std::fs::remove_file(&path)
                .with_context(|| format!("could not remove the link {}", path.display()))?;
            printer.info(&format!("removed the link {}", path.display()));
        }
    }
    if !any {
        printer.info(&format!(
            "no {LINK_NAME} links to {}; nothing to remove",
            exe.display()
        ));
    }
    Ok(())
}

/// Replaces `file` with `text` through a temporary file beside it and a rename, keeping its
/// permissions (a new file is 0600, as docker makes it: `auths` may hold passwords); a
/// symbolic link stays a link (its target is written).
fn write(file: &Path, text: &str) -> anyhow::Result<()> {
    let target = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_owned());
    let dir = target
        .parent()
        .context("docker's config.json has no directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("could not write a temporary file in {}", dir.display()))?;
    std::io::Write::write_all(&mut temp, text.as_bytes())
        .with_context(|| format!("could not write {}", temp.path().display()))?;
    if let Ok(metadata) = std::fs::metadata(&target) {
        temp.as_file()
            .set_permissions(metadata.permissions())
            .with_context(|| {
                format!("could not set the permissions of {}", temp.path().display())
            })?;
    }
    temp.persist(&target)
        .with_context(|| format!("could not replace {}", target.display()))?;
    Ok(())
}
