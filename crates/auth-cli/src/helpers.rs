//! `auth helper …`: auth as the credential helper of git, cargo and docker, and the set-up of
//! each tool's config to ask it. Every helper answers through `crate::resolve`, the same steps
//! as `auth fetch`, so the stores, the `RATTLER_AUTH_FILE` rule, OAuth refresh and the leak
//! rules are the same for every consumer.

mod cargo;
mod docker;
mod git;

use auth_core::Saved;

use crate::cli::{GlobalArgs, HelperCommand, HelperTool, InstallArgs};
use crate::env::Env;
use crate::output::Printer;
use crate::stores;

pub(crate) fn run(
    command: HelperCommand,
    global: &GlobalArgs,
    env: &Env,
    printer: Printer,
) -> anyhow::Result<()> {
    match command {
        HelperCommand::Git(args) => git::run(&args.args, global, env),
        HelperCommand::Cargo(args) => cargo::run(&args.args, global, env),
        HelperCommand::Docker(args) => docker::run(&args.args, global, env),
        HelperCommand::Install(args) => install(&args, env, printer, true),
        HelperCommand::Uninstall(args) => install(&args, env, printer, false),
    }
}

/// `auth helper install|uninstall TOOL [--dry-run]`.
fn install(args: &InstallArgs, env: &Env, printer: Printer, on: bool) -> anyhow::Result<()> {
    match args.tool {
        HelperTool::Git => git::install(env, printer, on, args.dry_run),
        HelperTool::Cargo => cargo::install(env, printer, on, args.dry_run),
        HelperTool::Docker => docker::install(env, printer, on, args.dry_run),
    }
}

/// What a helper's save deserves a warning about, as `auth login` says it: each store passed
/// over that is worth saying (never the read-only `env` store), then, when the file store took
/// a credential nobody chose to keep there, that it is plain text. `what` names the credential
/// ("the token"), `it` its pronoun.
fn save_warnings(saved: &Saved, file_chosen: bool, what: &str, it: &str) -> Vec<String> {
    let skipped = stores::skipped_worth_saying(&saved.skipped);
    let mut warnings: Vec<String> = skipped.iter().map(|&reason| reason.to_owned()).collect();
    if !skipped.is_empty() && saved.store.name() == "file" && !file_chosen {
        let was = if it == "them" { "were" } else { "was" };
        warnings.push(format!(
            "{what} {was} saved in plain text in {} instead; anyone who can read that file can use {it}",
            saved.store.location()
        ));
    }
    warnings
}
