//! The command line: every subcommand, flag and help text of `auth`.

// Doc comments here are clap's help text, shown to users as written: no Markdown backticks.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;

use clap::{ArgAction, ArgGroup, Args, Parser, Subcommand, ValueEnum};

/// The exit codes, printed at the end of `--help` and in docs/cli.md.
pub(crate) const EXIT_CODES: &str = "\
Exit codes:
  0  Success
  1  Failure: a store could not be read or written, a file did not parse, bad input
  2  Usage error: unknown flag, missing argument, conflicting options
  3  The server rejected the credentials that were sent (`fetch`, `login --check`, `status --check`)
  4  No credentials are stored for the host (`token`, `logout`), or the server asked for
     credentials and none are stored (`fetch`)";

/// Log in to package registries; every later download is authenticated.
#[derive(Debug, Parser)]
#[command(name = "auth", version, after_help = EXIT_CODES, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,

    #[command(flatten)]
    pub(crate) global: GlobalArgs,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global Options")]
pub(crate) struct GlobalArgs {
    /// Increase logging verbosity (-v for info, -vv for debug, -vvv for trace); warnings show by default
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub(crate) verbose: u8,

    /// Decrease logging verbosity (-q hides warnings, -qq hides errors too)
    #[arg(short, long, action = ArgAction::Count, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: u8,

    /// Whether to color the output; `auto` colors a terminal unless NO_COLOR is set
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, value_name = "WHEN")]
    pub(crate) color: ColorChoice,

    /// Hide all progress bars; always on when stderr is not a terminal
    #[arg(long, global = true)]
    pub(crate) no_progress: bool,

    /// Use this credentials file as the only source of credentials (RATTLER_AUTH_FILE wins over it)
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) auth_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per process; boxing would only move the bytes"
)]
pub(crate) enum Command {
    /// Store credentials for a host
    Login(LoginArgs),
    /// Remove stored credentials
    Logout(LogoutArgs),
    /// List stored credentials (never their secrets)
    Status(StatusArgs),
    /// Print the secret a download from HOST would use, for scripts
    Token(TokenArgs),
    /// Download a URL with the stored credentials, to check a login or to fetch in scripts
    Fetch(FetchArgs),
    /// Be the credential helper of git, cargo or docker, or set one of them up to ask auth
    Helper(HelperArgs),
    /// Print the completion script of a shell
    ///
    /// Install it where your shell looks for completions, for example:
    ///   bash: auth completions bash > ~/.local/share/bash-completion/completions/auth
    ///   zsh:  auth completions zsh > ~/.zfunc/_auth  (with fpath+=(~/.zfunc) before compinit)
    ///   fish: auth completions fish > ~/.config/fish/completions/auth.fish
    ///   PowerShell: auth completions powershell | Out-String | Invoke-Expression  (in $PROFILE)
    ///   elvish: eval (auth completions elvish | slurp)  (in ~/.config/elvish/rc.elv)
    #[command(verbatim_doc_comment)]
    Completions(CompletionsArgs),
    /// Write the man pages of auth and every subcommand into DIR (`cargo xtask codegen` runs it)
    #[command(name = "__man-pages", hide = true)]
    ManPages(ManPagesArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub(crate) struct ManPagesArgs {
    /// The directory to write auth.1, auth-login.1, ... into; it must exist
    pub(crate) dir: PathBuf,
}

/// `auth helper …`: the credential-helper protocols of other tools, on the same stores.
#[derive(Debug, Args)]
pub(crate) struct HelperArgs {
    #[command(subcommand)]
    pub(crate) command: HelperCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum HelperCommand {
    /// git's credential helper (git runs `auth helper git get|store|erase`)
    Git(ProtocolArgs),
    /// cargo's credential provider (cargo runs `auth helper cargo --cargo-plugin`)
    Cargo(ProtocolArgs),
    /// The docker credential helper (`auth helper docker get|store|erase|list`)
    Docker(ProtocolArgs),
    /// Set git, cargo or docker up to ask auth for credentials
    Install(InstallArgs),
    /// Undo `auth helper install`
    Uninstall(InstallArgs),
}

/// What the calling tool passes: its operation and anything after it, read by the helper itself
/// (each protocol has its own).
#[derive(Debug, Args)]
pub(crate) struct ProtocolArgs {
    /// The operation and its arguments, as the tool passes them
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub(crate) args: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct InstallArgs {
    /// The tool whose configuration to change
    #[arg(value_enum)]
    pub(crate) tool: HelperTool,

    /// Print what would change, and change nothing
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum HelperTool {
    Git,
    Cargo,
    Docker,
}

/// The command line of a multi-call name: `git-credential-auth get` is `auth helper git get`,
/// `docker-credential-auth get` is `auth helper docker get`, `cargo-credential-auth …` is
/// `auth helper cargo …`; any other name is `auth` itself.
pub(crate) fn multicall_args(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    let mut args = args.into_iter();
    let Some(argv0) = args.next() else {
        return vec!["auth".into()];
    };
    let name = std::path::Path::new(&argv0)
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or("auth");
    let tool = match name {
        "git-credential-auth" => "git",
        "docker-credential-auth" => "docker",
        "cargo-credential-auth" => "cargo",
        _ => {
            // cargo starts a provider as `PROGRAM --cargo-plugin` and sends the rest of the
            // configured command line (`helper cargo`) inside the protocol.
            let rest: Vec<_> = args.collect();
            let tool = if rest.first().is_some_and(|arg| arg == "--cargo-plugin") {
                "cargo"
            } else {
                return std::iter::once(argv0).chain(rest).collect();
            };
            return ["auth", "helper", tool]
                .into_iter()
                .map(std::ffi::OsString::from)
                .chain(rest)
                .collect();
        }
    };
    ["auth", "helper", tool]
        .into_iter()
        .map(std::ffi::OsString::from)
        .chain(args)
        .collect()
}

/// What `auth --version` (or `-V`) alone prints, without building the command tree: clap's
/// parse was a third of the process's own instructions for it (docs/performance.md). A test
/// keeps it equal to clap's own answer; any other command line goes to clap.
pub(crate) fn version_only(args: &[std::ffi::OsString]) -> Option<String> {
    match args {
        [_, flag] if flag == "--version" || flag == "-V" => {
            Some(concat!("auth ", env!("CARGO_PKG_VERSION"), "\n").to_owned())
        }
        _ => None,
    }
}

/// A secret may be given as `-` to read it from standard input, so that it stays out of the
/// command line and the shell history.
///
/// One way to authenticate per login: the flags of two methods conflict, so clap refuses them as
/// a usage error (exit code 2). The methods are `--token`, `--username`/`--password` (the group
/// `basic`), `--conda-token`, the `--s3-*` keys (the group `s3`) and the OAuth flags (the group
/// `oauth_method`).
#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("basic")
        .args(["username", "password"])
        .multiple(true)
        .conflicts_with_all(["conda_token", "s3", "oauth_method"])
))]
#[command(group(
    ArgGroup::new("s3")
        .args(["s3_access_key_id", "s3_secret_access_key", "s3_session_token"])
        .multiple(true)
        .conflicts_with("oauth_method")
))]
pub(crate) struct LoginArgs {
    /// The host to authenticate with (e.g. prefix.dev, repo.example.com:8443/channels/x, s3://bucket)
    pub(crate) host: String,

    /// User-Agent header used for requests
    #[arg(long, value_name = "USER_AGENT")]
    pub(crate) user_agent: Option<String>,

    /// The token to use (for authentication with prefix.dev); `-` reads it from stdin
    #[arg(
        long,
        help_heading = "Token / Basic Authentication",
        value_name = "TOKEN",
        conflicts_with_all = ["basic", "conda_token", "s3", "oauth_method"]
    )]
    pub(crate) token: Option<String>,

    /// The username to use (for basic HTTP authentication)
    #[arg(
        long,
        help_heading = "Token / Basic Authentication",
        value_name = "USERNAME"
    )]
    pub(crate) username: Option<String>,

    /// The password to use (for basic HTTP authentication); `-` reads it from stdin
    #[arg(
        long,
        help_heading = "Token / Basic Authentication",
        value_name = "PASSWORD"
    )]
    pub(crate) password: Option<String>,

    /// The token to use on anaconda.org / quetz authentication; `-` reads it from stdin
    #[arg(
        long,
        help_heading = "Token / Basic Authentication",
        value_name = "CONDA_TOKEN",
        conflicts_with_all = ["s3", "oauth_method"]
    )]
    pub(crate) conda_token: Option<String>,

    /// The S3 access key ID
    #[arg(
        long,
        help_heading = "S3 Authentication",
        value_name = "S3_ACCESS_KEY_ID"
    )]
    pub(crate) s3_access_key_id: Option<String>,

    /// The S3 secret access key; `-` reads it from stdin
    #[arg(
        long,
        help_heading = "S3 Authentication",
        value_name = "S3_SECRET_ACCESS_KEY"
    )]
    pub(crate) s3_secret_access_key: Option<String>,

    /// The S3 session token; `-` reads it from stdin
    #[arg(
        long,
        help_heading = "S3 Authentication",
        value_name = "S3_SESSION_TOKEN"
    )]
    pub(crate) s3_session_token: Option<String>,

    #[command(flatten)]
    pub(crate) oauth: OAuthArgs,

    /// After saving, make one authenticated request to check that the server accepts the credential; a rejected credential exits 3 and stays saved
    #[arg(long)]
    pub(crate) check: bool,

    /// What --check requests, for a host with no known API (prefix.dev, anaconda.org, OpenID Connect and S3 are known): a URL the credential is for
    #[arg(long, value_name = "URL", requires = "check")]
    pub(crate) check_url: Option<String>,
}

/// A login to prefix.dev (or a subdomain) with no method flag uses OAuth. Its flags are the
/// group `oauth_method`, which conflicts with every other method.
#[derive(Debug, Args)]
#[group(id = "oauth_method", multiple = true)]
#[command(next_help_heading = "OAuth/OIDC Authentication")]
pub(crate) struct OAuthArgs {
    /// Use OAuth/OIDC authentication
    #[arg(long)]
    pub(crate) oauth: bool,

    /// OIDC issuer URL (defaults to https://{host})
    #[arg(long, value_name = "OAUTH_ISSUER_URL")]
    pub(crate) oauth_issuer_url: Option<String>,

    /// OAuth client ID (defaults to "rattler")
    #[arg(long, value_name = "OAUTH_CLIENT_ID")]
    pub(crate) oauth_client_id: Option<String>,

    /// OAuth client secret (for confidential clients); `-` reads it from stdin
    #[arg(long, value_name = "OAUTH_CLIENT_SECRET")]
    pub(crate) oauth_client_secret: Option<String>,

    /// OAuth flow: auto (default), auth-code, device-code
    #[arg(long, value_enum, value_name = "OAUTH_FLOW")]
    pub(crate) oauth_flow: Option<OAuthFlowArg>,

    /// Additional OAuth scopes to request (repeatable)
    #[arg(long = "oauth-scope", value_name = "OAUTH_SCOPES")]
    pub(crate) oauth_scopes: Vec<String>,

    /// OAuth redirect URI (defaults to a random localhost port). Set this when the OAuth client on the IdP side is registered with a specific redirect URI such as http://127.0.0.1:8000/auth/oidc
    #[arg(long, value_name = "OAUTH_REDIRECT_URI")]
    pub(crate) oauth_redirect_uri: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OAuthFlowArg {
    Auto,
    AuthCode,
    DeviceCode,
}

/// HOST or `--all`, exactly one: a required group, so the usage line of an error and of
/// `--help` are the same (`auth logout <HOST|--all>`).
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("target").args(["host", "all"]).required(true)))]
pub(crate) struct LogoutArgs {
    /// The host to log out from, as given to `auth login`
    pub(crate) host: Option<String>,

    /// Remove every stored credential
    #[arg(long)]
    pub(crate) all: bool,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    // The help is an attribute rather than a doc comment: rustdoc would want the URL in `<>`.
    #[arg(
        value_name = "HOST_OR_URL",
        help = "Show only the entries a request to this host (https://HOST/) or URL would consider, which one it would use and which are shadowed"
    )]
    pub(crate) host: Option<String>,

    /// Print JSON instead of a table
    #[arg(long)]
    pub(crate) json: bool,

    /// Check each credential that would be used with one authenticated request (a CHECK column); exits 3 when a server rejects one
    #[arg(long)]
    pub(crate) check: bool,

    /// What --check requests for the credential a request to this URL would use, for a host with no known API
    #[arg(long, value_name = "URL", requires = "check")]
    pub(crate) check_url: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    // The help is an attribute rather than a doc comment: rustdoc would want the URL in `<>`.
    #[arg(
        help = "A host (prefix.dev), a URL (https://repo.prefix.dev/channel, s3://bucket/key) or a stored key (*.prefix.dev)"
    )]
    pub(crate) host: String,
}

#[derive(Debug, Args)]
pub(crate) struct FetchArgs {
    /// The URL to download: http://, https:// or s3://bucket/key
    pub(crate) url: String,

    /// Write to FILE instead of standard output (`-`). A regular file is written whole or not at all; a device or FIFO (/dev/null) is written in place
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    /// Whether the `keyring` command supplies passwords for URLs with a username (PyPI indexes)
    #[arg(long, value_enum, value_name = "PROVIDER")]
    pub(crate) pypi_keyring_provider: Option<KeyringProviderArg>,

    /// Connect to ADDR for HOST:PORT instead of resolving it, as curl's --resolve
    #[arg(long, value_name = "HOST:PORT:ADDR", value_parser = crate::fetch::parse_resolve)]
    pub(crate) resolve: Vec<(String, std::net::SocketAddr)>,

    /// Give up when connecting to a server takes longer than SECS [default: 30, or connect-timeout-seconds in the config file]
    #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
    pub(crate) connect_timeout: Option<std::time::Duration>,

    /// Give up when the server sends nothing for SECS [default: 60, or read-timeout-seconds in the config file]
    #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
    pub(crate) read_timeout: Option<std::time::Duration>,
}

/// A timeout flag's seconds, as the config's timeouts are checked.
fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("a number of seconds (like 30 or 2.5), not `{text}`"))?;
    crate::config::seconds_between(seconds, crate::config::MAX_TIMEOUT_SECONDS)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KeyringProviderArg {
    Subprocess,
    Disabled,
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;
    use clap::{CommandFactory as _, Parser as _};

    use super::Cli;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_version_shortcut_prints_what_clap_prints() {
        let args = |list: &[&str]| -> Vec<std::ffi::OsString> {
            super::multicall_args(list.iter().map(std::ffi::OsString::from))
        };
        for flag in ["--version", "-V"] {
            let clap = match Cli::try_parse_from(args(&["auth", flag])) {
                Err(err) if err.kind() == ErrorKind::DisplayVersion => err.to_string(),
                other => panic!("clap did not print the version: {other:?}"),
            };
            assert_eq!(super::version_only(&args(&["auth", flag])), Some(clap));
        }
        for other in [
            &["auth", "--version", "token"][..],
            &["auth", "token", "--version"],
            &["git-credential-auth", "--version"],
            &["auth", "--Version"],
            &["auth"],
        ] {
            assert_eq!(super::version_only(&args(other)), None, "{other:?}");
        }
    }

    /// One flag of each login method, with a value where it takes one.
    const METHODS: [&[&str]; 9] = [
        &["--token", "t"],
        &["--username", "u"],
        &["--password", "p"],
        &["--conda-token", "c"],
        &["--s3-access-key-id", "AK"],
        &["--s3-secret-access-key", "SK"],
        &["--s3-session-token", "ST"],
        &["--oauth"],
        &["--oauth-client-id", "id"],
    ];

    /// Which method a flag belongs to: flags of one method go together.
    fn method(flag: &str) -> &'static str {
        match flag {
            "--username" | "--password" => "basic",
            "--token" => "token",
            "--conda-token" => "conda",
            flag if flag.starts_with("--s3-") => "s3",
            _ => "oauth",
        }
    }

    // Two login methods at once exited 1 after the command had started; the documented code of a
    // usage error is 2, which clap's own conflict error exits with.
    #[test]
    fn two_login_methods_are_a_usage_error_and_one_methods_flags_go_together() {
        for first in METHODS {
            for second in METHODS {
                if first == second {
                    continue;
                }
                let mut args = vec!["auth", "login", "example.com"];
                args.extend_from_slice(first);
                args.extend_from_slice(second);
                let parsed = Cli::try_parse_from(&args);
                if method(first[0]) == method(second[0]) {
                    assert!(parsed.is_ok(), "{args:?}: {:?}", parsed.err());
                } else {
                    let err = parsed.expect_err(&format!("{args:?} must be refused"));
                    assert_eq!(err.kind(), ErrorKind::ArgumentConflict, "{args:?}");
                    assert_eq!(err.exit_code(), 2, "{args:?}");
                }
            }
        }
    }
}
