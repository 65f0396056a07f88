//! `auth helper …`: auth as the credential helper of git, cargo and docker, and the set-up of
//! each tool's config to ask it. Every helper answers through `crate::resolve`, the same steps
//! as `auth fetch`, so the stores, the `RATTLER_AUTH_FILE` rule, OAuth refresh and the leak
//! rules are the same for every consumer.

mod cargo;
mod docker;
mod git;

use crate::cli::{GlobalArgs, HelperCommand, HelperTool, InstallArgs};
use crate::env::Env;
use crate::output::Printer;

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
