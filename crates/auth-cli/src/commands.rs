//! The subcommands `login`, `logout`, `status` and `token` (`fetch` has its own module).

use std::fmt;
use std::io::Write as _;

use anyhow::{Context as _, bail};
use auth_core::{Authentication, HostKey, Scheme, Secret, UrlTarget, redact_url};

use crate::cli::{Command, GlobalArgs, LoginArgs, LogoutArgs, StatusArgs, TokenArgs};
use crate::env::Env;
use crate::output::Printer;
use crate::resolve::Answer;
use crate::secret_input::SecretInput;
use crate::stores;

/// No credential is stored for what the user asked about: exit code 4.
#[derive(Debug)]
pub(crate) struct NoCredential(pub(crate) String);

impl fmt::Display for NoCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NoCredential {}

pub(crate) fn run(
    command: Command,
    global: &GlobalArgs,
    env: &Env,
    printer: Printer,
) -> anyhow::Result<()> {
    match command {
        Command::Login(args) => login(args, global, env, printer),
        Command::Logout(args) => logout(&args, global, env, printer),
        Command::Status(args) => status(&args, global, env, printer),
        Command::Token(args) => token(&args, global, env),
        Command::Fetch(args) => crate::fetch::fetch(&args, global, env, printer),
        Command::Helper(args) => crate::helpers::run(args.command, global, env, printer),
        Command::Completions(args) => crate::completions::print(args.shell),
        Command::ManPages(args) => crate::completions::write_man_pages(&args.dir),
    }
}

const METHODS: &str = "--oauth, --token, --username/--password, --conda-token, or --s3-access-key-id/--s3-secret-access-key (for s3:// hosts)";

fn login(args: LoginArgs, global: &GlobalArgs, env: &Env, printer: Printer) -> anyhow::Result<()> {
    let shown = redact_url(&args.host);
    let args_host = shown.clone();
    let key = HostKey::for_login(&args.host).with_context(|| {
        format!("cannot log in to `{shown}`: it is not a host name, URL or s3://BUCKET")
    })?;
    // `--check-url` is checked before anything is asked or saved.
    if let Some(url) = &args.check_url {
        crate::check::check_url_fits(&key, url)?;
    }
    let check = args.check.then(|| args.check_url.clone());
    let mut input = SecretInput::new(env.stdin_is_terminal);
    let other = other_methods(&args);
    let auth = if crate::oauth::wanted(&args.oauth, &key, !other.is_empty()) {
        crate::oauth::check_alone(&other)?;
        crate::oauth::login(
            &args.oauth,
            &key,
            env,
            &mut input,
            printer,
            args.user_agent.as_deref(),
            global.no_progress,
        )?
    } else {
        if args.user_agent.is_some() {
            tracing::debug!(
                "--user-agent applies to the requests a login makes; a token login makes none"
            );
        }
        credential_from_args(args, &key, &mut input)?
    };
    let stores = stores::open(env, global.auth_file.as_ref())?;
    let saved = stores
        .chain
        .set(&key, &auth)
        .with_context(|| format!("could not save the credentials for {key}"))?;
    // Each reason names its store ("the keyring is unavailable: ...").
    for warning in stores.save_warnings(&saved, "the credentials", "them") {
        printer.warning(&warning);
    }
    printer.info(&format!(
        "Logged in to {key}: {} saved in {}.",
        auth.kind(),
        saved.store.describe()
    ));
    match check {
        Some(check_url) => check_login(
            env,
            global,
            &key,
            &args_host,
            check_url.as_deref(),
            &saved.store.describe(),
            printer,
        ),
        None => Ok(()),
    }
}

/// `login --check`: the saved credential, checked with one request. A rejection exits 3 (the
/// server rejected the credentials that were sent), no answer or no known API 1; the credential
/// stays saved either way.
fn check_login(
    env: &Env,
    global: &GlobalArgs,
    key: &HostKey,
    login: &str,
    check_url: Option<&str>,
    store: &str,
    printer: Printer,
) -> anyhow::Result<()> {
    use crate::check::Outcome;
    let checker = crate::check::Checker::open(env, global.auth_file.as_ref(), check_url)?;
    match checker.check(key) {
        Outcome::Accepted { account } => {
            printer.info(&match account {
                Some(account) => {
                    format!("The server accepted the credential for {key} (as {account}).")
                }
                None => format!("The server accepted the credential for {key}."),
            });
            Ok(())
        }
        Outcome::Rejected { status, host } => {
            printer.warning(&format!(
                "the credential stays saved in {store}; `auth logout {key}` removes it"
            ));
            Err(auth_middleware::AuthError::Rejected {
                host,
                key: key.to_string(),
                store: store.to_owned(),
                login: login.to_owned(),
                status,
            }
            .into())
        }
        Outcome::Unreachable { reason } => {
            bail!("could not check the credential for {key}: {reason}; it is saved in {store}")
        }
        Outcome::NoProbe { hint } => {
            bail!("did not check the credential for {key}: {hint}; it is saved in {store}")
        }
    }
}

/// The non-OAuth methods whose flags were given.
fn other_methods(args: &LoginArgs) -> Vec<&'static str> {
    let mut chosen = Vec::new();
    if args.token.is_some() {
        chosen.push("--token");
    }
    if args.username.is_some() || args.password.is_some() {
        chosen.push("--username/--password");
    }
    if args.conda_token.is_some() {
        chosen.push("--conda-token");
    }
    if args.s3_access_key_id.is_some()
        || args.s3_secret_access_key.is_some()
        || args.s3_session_token.is_some()
    {
        chosen.push("--s3-*");
    }
    chosen
}

fn credential_from_args(
    args: LoginArgs,
    key: &HostKey,
    input: &mut SecretInput,
) -> anyhow::Result<Authentication> {
    let chosen = other_methods(&args);
    let s3 = chosen.contains(&"--s3-*");
    match chosen.len() {
        0 => bail!("choose how to authenticate to {key}: pass {METHODS}"),
        1 => {}
        _ => bail!(
            "choose one way to authenticate, not {}: pass only one of {METHODS}",
            chosen.join(" and ")
        ),
    }
    let is_s3_host = key.scheme() == Some(Scheme::S3);
    if s3 != is_s3_host {
        if s3 {
            bail!(
                "S3 keys are for s3:// hosts; log in to `s3://BUCKET` (or `s3://BUCKET/PREFIX`) instead of {key}"
            );
        }
        bail!("{key} is an S3 bucket; log in with --s3-access-key-id and --s3-secret-access-key");
    }
    if let Some(token) = args.token {
        return Ok(Authentication::BearerToken(
            input.resolve("--token", token)?,
        ));
    }
    if let Some(token) = args.conda_token {
        return Ok(Authentication::CondaToken(
            input.resolve("--conda-token", token)?,
        ));
    }
    if s3 {
        let access_key_id = args
            .s3_access_key_id
            .context("--s3-secret-access-key needs --s3-access-key-id as well")?;
        let secret_access_key = match args.s3_secret_access_key {
            Some(secret) => input.resolve("--s3-secret-access-key", secret)?,
            None if input.is_terminal() => input.read("--s3-secret-access-key")?,
            None => bail!(
                "--s3-access-key-id needs --s3-secret-access-key; pass `--s3-secret-access-key -` to read it from stdin"
            ),
        };
        let session_token = args
            .s3_session_token
            .map(|token| input.resolve("--s3-session-token", token))
            .transpose()?;
        return Ok(Authentication::S3Credentials {
            access_key_id,
            secret_access_key,
            session_token,
        });
    }
    let username = args
        .username
        .context("--password needs --username as well")?;
    let password: Secret = match args.password {
        Some(password) => input.resolve("--password", password)?,
        None if input.is_terminal() => input.read("--password")?,
        None => bail!("--username needs --password; pass `--password -` to read it from stdin"),
    };
    Ok(Authentication::BasicHTTP { username, password })
}

fn logout(
    args: &LogoutArgs,
    global: &GlobalArgs,
    env: &Env,
    printer: Printer,
) -> anyhow::Result<()> {
    let stores = stores::open(env, global.auth_file.as_ref())?;
    if args.all {
        let mut removed = 0;
        for row in stores.chain.list()? {
            if !row.shadowed {
                if matches!(row.credential.auth, Authentication::OAuth { .. }) {
                    crate::oauth::revoke(&row.credential.auth, &row.credential.key, printer);
                }
                removed += stores.chain.remove(&row.credential.key)?.len();
            }
        }
        printer.info(&match removed {
            0 => "No credentials were stored.".to_owned(),
            1 => "Removed 1 credential.".to_owned(),
            n => format!("Removed {n} credentials."),
        });
        return Ok(());
    }
    let host = args
        .host
        .as_deref()
        .expect("clap requires HOST without --all");
    let shown = redact_url(host);
    let mut keys = vec![
        HostKey::for_login(host)
            .with_context(|| format!("`{shown}` is not a host name, URL or s3://BUCKET"))?,
    ];
    if let Ok(literal) = HostKey::parse(host)
        && literal.canonical().as_str() != keys[0].canonical().as_str()
    {
        keys.push(literal);
    }
    let mut any = false;
    for key in &keys {
        // An OAuth login is revoked at its provider first; it is deleted here either way.
        if let Some(found) = stores.chain.get(key)?
            && matches!(found.credential.auth, Authentication::OAuth { .. })
        {
            crate::oauth::revoke(&found.credential.auth, key, printer);
        }
        for store in stores.chain.remove(key)? {
            any = true;
            printer.info(&format!(
                "Logged out of {key}: removed from {}.",
                store.describe()
            ));
        }
        // A variable still gives credentials for the key: say so, or the next download would
        // surprise.
        if any
            && let Some(found) = stores.chain.get(key)?
            && let Some(variables) = stores.env_variables(&found)
        {
            printer.warning(&format!(
                "{} still gives credentials for {key}; unset it to log out completely",
                variables.join(" and ")
            ));
        }
    }
    if !any {
        // Stored, but only in a store we do not write (.netrc, the environment): say where,
        // not "nothing stored".
        for key in &keys {
            if let Some(found) = stores.chain.get(key)? {
                anyhow::bail!(
                    "the credentials for {key} come from {}",
                    stores.read_only_source(&found)
                );
            }
        }
        let tried: Vec<String> = keys.iter().map(|key| format!("`{key}`")).collect();
        return Err(NoCredential(format!(
            "no credentials are stored under {}; `auth status` lists the stored keys",
            tried.join(" or ")
        ))
        .into());
    }
    Ok(())
}

mod status;

/// Collect, then show: the table or the JSON is printed whatever could not be read, and the
/// exit code says whether everything could.
fn status(
    args: &StatusArgs,
    global: &GlobalArgs,
    env: &Env,
    printer: Printer,
) -> anyhow::Result<()> {
    let target = args
        .host
        .as_deref()
        .map(status::Target::parse)
        .transpose()?;
    let mut collected = status::collect(env, global.auth_file.as_ref(), target.as_ref());
    if args.check {
        collected.check(env, global.auth_file.as_ref(), args.check_url.as_deref());
    }
    let written = if args.json {
        collected.print_json()
    } else {
        collected.print_table(printer, env.now)
    };
    match written {
        // `auth status | head` closed the pipe: the reader has what it wanted.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        other => other?,
    }
    collected.outcome()
}

fn token(args: &TokenArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let resolver = crate::resolve::Resolver::open(env, global.auth_file.as_ref(), None)?;
    let shown = redact_url(&args.host);
    let answer = if args.host.starts_with("*.") {
        // A key, not a URL: what is stored under it, as `status` lists it.
        let key =
            HostKey::parse(&args.host).with_context(|| format!("`{shown}` is not a valid key"))?;
        resolver.resolve_key(&key, &shown)?
    } else {
        let url = if args.host.contains("://") {
            args.host.clone()
        } else {
            format!("https://{}", args.host)
        };
        let url = url::Url::parse(&url)
            .ok()
            .filter(|url| UrlTarget::from_url(url).is_ok())
            .with_context(|| format!("`{shown}` is not a host name or URL"))?;
        // Exactly what a download of this URL would send: the one resolution every consumer
        // shares.
        resolver.resolve_shown(&url, None, &shown)?
    };
    match answer {
        Answer::Send { auth, source, .. } => {
            tracing::info!(source = %source, "using {} credentials", auth.kind());
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{}", auth.primary_secret().expose())?;
            Ok(())
        }
        Answer::Withheld { message, .. } | Answer::NotStored { message } => {
            Err(NoCredential(message).into())
        }
    }
}
