//! The `auth` binary: parse the command line, set up logging, run a command, map errors to exit
//! codes. The only place that reads the process environment and prints.

mod check;
mod cli;
mod commands;
mod completions;
mod config;
mod env;
mod fetch;
mod helpers;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod libm;
mod oauth;
mod output;
mod resolve;
mod s3;
mod secret_input;
mod stores;

use std::process::ExitCode;

use anstyle::AnsiColor;
use auth_middleware::AuthError;
use clap::Parser as _;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::fmt::format::{DefaultFields, FormatEvent, FormatFields, Writer};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::cli::{Cli, ColorChoice};
use crate::commands::NoCredential;
use crate::env::Env;
use crate::output::Printer;

fn main() -> ExitCode {
    let args = cli::multicall_args(std::env::args_os());
    if let Some(version) = cli::version_only(&args) {
        use std::io::Write as _;
        // As clap's own version exit: a closed stdout is not an error worth a message.
        let _ = std::io::stdout().lock().write_all(version.as_bytes());
        return ExitCode::SUCCESS;
    }
    let env = Env::from_process();
    let cli = Cli::parse_from(args);
    let color = match cli.global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !env.no_color && env.stderr_is_terminal,
    };
    init_logging(
        cli.global.verbose,
        cli.global.quiet,
        env.log.as_deref(),
        color,
    );
    let printer = Printer {
        color,
        quiet: cli.global.quiet,
    };
    match commands::run(cli.command, &cli.global, &env, printer) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Printer escapes control characters in every cause.
            let mut message = err.to_string();
            for cause in err.chain().skip(1) {
                message.push_str("\n  caused by: ");
                message.push_str(&cause.to_string());
            }
            printer.error(&message);
            ExitCode::from(exit_code(&err))
        }
    }
}

/// The exit code of a failure, as `cli::EXIT_CODES` documents them, from wherever in the chain
/// of causes the deciding error is (commands add context around it).
fn exit_code(err: &anyhow::Error) -> u8 {
    err.chain()
        .find_map(|cause| {
            if cause.is::<NoCredential>() {
                return Some(4);
            }
            match cause.downcast_ref::<AuthError>()? {
                AuthError::Rejected { .. } => Some(3),
                // A withheld credential was not sent: none reached the server, as `auth token`
                // says with the same code.
                AuthError::NotLoggedIn { .. }
                | AuthError::Withheld { .. }
                | AuthError::NoS3Credentials { .. }
                | AuthError::AwsCredentials { .. } => Some(4),
                _ => None,
            }
        })
        .unwrap_or(1)
}

/// Warnings show by default; each `-v` adds a level, each `-q` removes one. Without `-v`, log
/// events read like the rest of the output (`warning: ...`); with it, tracing's own format.
///
/// `AUTH_LOG` (`warn`, `info`, `debug`, `trace`) sets the level when no `-v`/`-q` is given: a
/// credential helper is started by git, cargo or docker, which pass no flags of ours.
fn init_logging(verbose: u8, quiet: u8, auth_log: Option<&str>, color: bool) {
    let verbose = match (
        verbose,
        quiet,
        auth_log.map(str::to_ascii_lowercase).as_deref(),
    ) {
        (0, 0, Some("info")) => 1,
        (0, 0, Some("debug")) => 2,
        (0, 0, Some("trace")) => 3,
        _ => verbose,
    };
    let level = match (verbose, quiet) {
        (_, 1) => LevelFilter::ERROR,
        (_, 2..) => LevelFilter::OFF,
        (0, _) => LevelFilter::WARN,
        (1, _) => LevelFilter::INFO,
        (2, _) => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    // The AWS SDK logs the requests it sends and the responses it reads at trace level: an SSO
    // refresh body holds a refresh token and a client secret. Its crates stop at debug.
    let sdk = Targets::new()
        .with_default(level)
        .with_targets(AWS_SDK_TARGETS.map(|target| (target, level.min(LevelFilter::DEBUG))));
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .fmt_fields(EscapedFields::default());
    if verbose == 0 {
        builder
            .event_format(PlainEvents { color })
            .finish()
            .with(sdk)
            .init();
    } else {
        builder
            .without_time()
            .with_target(verbose >= 3)
            .finish()
            .with(sdk)
            .init();
    }
}

/// The AWS SDK's crates, whose trace-level events may hold the bodies of credential requests.
const AWS_SDK_TARGETS: [&str; 8] = [
    "aws_config",
    "aws_runtime",
    "aws_sdk_sso",
    "aws_sdk_ssooidc",
    "aws_sdk_sts",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
];

/// `warning: message`, as `Printer` writes it.
struct PlainEvents {
    color: bool,
}

impl<S, N> FormatEvent<S, N> for PlainEvents
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let (label, style) = match *event.metadata().level() {
            tracing::Level::ERROR => ("error:", AnsiColor::Red.on_default().bold()),
            tracing::Level::WARN => ("warning:", AnsiColor::Yellow.on_default().bold()),
            _ => ("note:", anstyle::Style::new().bold()),
        };
        if self.color {
            write!(writer, "{style}{label}{style:#} ")?;
        } else {
            write!(writer, "{label} ")?;
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// tracing's fields (the message too, and the fields of spans) with every control character
/// escaped, line breaks included: a log line is one line. Both formats use it, so no log event
/// can put an escape sequence on the terminal, whatever a library or a peer put in it; and no
/// HTTP body that an AWS SDK error carries reaches the log (`auth_s3::redact_sdk_bodies`).
#[derive(Debug, Default)]
struct EscapedFields(DefaultFields);

impl<'writer> FormatFields<'writer> for EscapedFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> std::fmt::Result {
        let mut plain = String::new();
        self.0.format_fields(Writer::new(&mut plain), fields)?;
        // The AWS SDK's errors print the raw HTTP response they failed on, body bytes and all.
        let plain = auth_s3::redact_sdk_bodies(&plain);
        writer.write_str(&auth_core::escape_control(&plain))
    }
}

#[cfg(test)]
mod tests {
    use auth_core::SafeUrl;

    use super::*;

    /// The documented codes, whatever context the commands put around the deciding error.
    #[test]
    fn the_exit_code_is_found_anywhere_in_the_chain() {
        let url = || SafeUrl::new("https://repo.example.com/x");
        let rejected = || AuthError::Rejected {
            host: "repo.example.com".to_owned(),
            key: "repo.example.com".to_owned(),
            store: "the file".to_owned(),
            login: "repo.example.com".to_owned(),
            status: 401,
        };
        let wrapped = |err: anyhow::Error| err.context("could not download").context("fetch");
        let cases: Vec<(&str, anyhow::Error, u8)> = vec![
            ("plain", anyhow::anyhow!("a file did not parse"), 1),
            (
                "no credential",
                NoCredential("nothing stored".to_owned()).into(),
                4,
            ),
            (
                "no credential, wrapped",
                wrapped(NoCredential("nothing stored".to_owned()).into()),
                4,
            ),
            ("rejected", rejected().into(), 3),
            ("rejected, wrapped", wrapped(rejected().into()), 3),
            (
                "not logged in, wrapped",
                wrapped(
                    AuthError::NotLoggedIn {
                        host: "h".to_owned(),
                        login: "h".to_owned(),
                        status: 403,
                    }
                    .into(),
                ),
                4,
            ),
            (
                "withheld",
                AuthError::Withheld {
                    host: "h".to_owned(),
                    key: "h".to_owned(),
                    store: "the file".to_owned(),
                    url: url(),
                    status: 401,
                }
                .into(),
                4,
            ),
            (
                "no S3 keys",
                AuthError::NoS3Credentials {
                    url: url(),
                    bucket: "b".to_owned(),
                }
                .into(),
                4,
            ),
            (
                "a bad redirect",
                wrapped(AuthError::BadRedirect { url: url() }.into()),
                1,
            ),
        ];
        for (name, err, code) in cases {
            assert_eq!(exit_code(&err), code, "{name}: {err:#}");
        }
    }
}
