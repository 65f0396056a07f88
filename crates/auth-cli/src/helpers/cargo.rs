//! The cargo credential helper protocol (not written yet).

use crate::cli::GlobalArgs;
use crate::env::Env;
use crate::output::Printer;

pub(super) fn run(_args: &[String], _global: &GlobalArgs, _env: &Env) -> anyhow::Result<()> {
    anyhow::bail!("auth helper cargo is not implemented yet")
}

pub(super) fn install(
    _env: &Env,
    _printer: Printer,
    _on: bool,
    _dry_run: bool,
) -> anyhow::Result<()> {
    anyhow::bail!("auth helper install cargo is not implemented yet")
}
