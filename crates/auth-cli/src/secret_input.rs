//! Secrets given as `-` are read from standard input (or asked for without echo on a terminal),
//! so they never sit on the command line or in shell history.

use std::io::Read as _;

use anyhow::{Context as _, bail};
use auth_core::Secret;

/// Reads stdin at most once: only one secret per command can come from it.
#[derive(Debug)]
pub(crate) struct SecretInput {
    stdin_is_terminal: bool,
    used_by: Option<&'static str>,
}

impl SecretInput {
    pub(crate) fn new(stdin_is_terminal: bool) -> Self {
        Self {
            stdin_is_terminal,
            used_by: None,
        }
    }

    /// The value of a secret flag: as given, or read when it is `-`.
    pub(crate) fn resolve(&mut self, flag: &'static str, value: String) -> anyhow::Result<Secret> {
        if value != "-" {
            return Ok(Secret::new(value));
        }
        self.read(flag)
    }

    /// Reads the secret for `flag` from stdin, or asks on the terminal.
    pub(crate) fn read(&mut self, flag: &'static str) -> anyhow::Result<Secret> {
        if let Some(first) = self.used_by {
            bail!(
                "both {first} and {flag} are `-`, but standard input can supply only one secret; pass the other on the command line"
            );
        }
        self.used_by = Some(flag);
        let text = if self.stdin_is_terminal {
            let prompt = format!("{} (input is hidden): ", flag.trim_start_matches('-'));
            rpassword::prompt_password(prompt)
                .with_context(|| format!("could not read {flag} from the terminal"))?
        } else {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .with_context(|| format!("could not read {flag} from standard input"))?;
            text
        };
        let text = text
            .strip_suffix('\n')
            .map_or(text.as_str(), |t| t.strip_suffix('\r').unwrap_or(t));
        if text.is_empty() {
            bail!(
                "{flag} was `-`, but standard input was empty; pipe the secret in, e.g. `printf %s \"$TOKEN\" | auth login HOST {flag} -`"
            );
        }
        Ok(Secret::new(text.to_owned()))
    }

    pub(crate) fn is_terminal(&self) -> bool {
        self.stdin_is_terminal
    }
}
