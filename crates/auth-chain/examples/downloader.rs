//! "Use pixi's credentials in my downloader": the default chain from the process environment,
//! the middleware client on it, and one download.
//!
//! ```text
//! cargo run -p auth-chain --example downloader -- URL [FILE]
//! ```
//!
//! The chain is the one `auth` and pixi use: `RATTLER_AUTH_FILE` alone when it is set, else the
//! `AUTH_TOKEN_*`-style variables, the keyring, `~/.rattler/credentials.json` and `.netrc`. An
//! OAuth login is refreshed first; `s3://` URLs are signed (with stored keys or the AWS chain).
//! The body goes to FILE, or to standard output; a 401 or 403 is an error saying what to run.
#![allow(clippy::print_stderr, reason = "an example reports what it did")]
#![allow(
    clippy::disallowed_methods,
    reason = "an example reads the environment and the clock"
)]

use std::fmt::Write as _;
use std::io::Write as _;

use auth_chain::{ChainEnv, ChainOptions};

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // Each error and its causes; none of them holds a secret or an unredacted URL.
            let mut text = format!("error: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                let _ = write!(text, ": {cause}");
                source = cause.source();
            }
            eprintln!("{text}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: downloader URL [FILE]")?;
    let output = args.next();

    let mut env = ChainEnv::from_vars(std::env::vars_os());
    if env.home.is_none() {
        env.home = std::env::home_dir();
    }
    let options = ChainOptions {
        interactive: std::io::IsTerminal::is_terminal(&std::io::stdin()),
        ..ChainOptions::default()
    };
    let chain = auth_chain::open(&env, &options)?;
    for skipped in &chain.left_out {
        eprintln!("warning: {}", skipped.reason);
    }

    let http = auth_chain::auth_middleware::reqwest_client(reqwest::Client::builder())?;
    let client = chain.client(&env, http, auth_chain::auth_middleware::system_clock())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let body = runtime.block_on(async {
        let response = client.get(&url).send().await?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("the server answered HTTP {status}").into());
        }
        // reqwest's errors name the URL, which may hold a conda token: leave it out.
        let body = response
            .bytes()
            .await
            .map_err(reqwest::Error::without_url)?;
        Ok::<_, Box<dyn std::error::Error>>(body)
    })?;
    match output {
        Some(path) => {
            std::fs::write(&path, &body)?;
            eprintln!("saved {} bytes to {path}", body.len());
        }
        None => std::io::stdout().lock().write_all(&body)?,
    }
    Ok(())
}
