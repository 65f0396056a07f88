//! OAuth in the CLI: `auth login --oauth` (the browser or a device code), refreshing for
//! `token` and `fetch`, revoking on `logout`.

use std::ffi::OsString;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use auth_core::{Authentication, Found, HostKey, Secret, redact_url};
use auth_oauth::{Flow, LoginUi, OAuthConfig, Refresher};

use crate::cli::{OAuthArgs, OAuthFlowArg};
use crate::env::Env;
use crate::output::Printer;
use crate::secret_input::SecretInput;
use crate::stores::Stores;

/// Whether a login uses OAuth: asked for, or prefix.dev with no other method.
pub(crate) fn wanted(args: &OAuthArgs, key: &HostKey, other_method: bool) -> bool {
    let any_flag = args.oauth
        || args.oauth_issuer_url.is_some()
        || args.oauth_client_id.is_some()
        || args.oauth_client_secret.is_some()
        || args.oauth_flow.is_some()
        || !args.oauth_scopes.is_empty()
        || args.oauth_redirect_uri.is_some();
    any_flag || (!other_method && is_prefix_dev(key))
}

fn is_prefix_dev(key: &HostKey) -> bool {
    let host = key.as_str().strip_prefix("*.").unwrap_or(key.as_str());
    host == "prefix.dev" || host.ends_with(".prefix.dev")
}

/// The scopes to ask for: OpenID's with a refresh token, prefix.dev's channel rights there, and
/// what the user added.
fn scopes(args: &OAuthArgs, key: &HostKey) -> Vec<String> {
    let mut scopes: Vec<String> = ["openid", "profile", "offline_access"]
        .map(str::to_owned)
        .to_vec();
    if is_prefix_dev(key) {
        scopes.extend(["channel:read", "channel:upload"].map(str::to_owned));
    }
    for scope in &args.oauth_scopes {
        if !scopes.contains(scope) {
            scopes.push(scope.clone());
        }
    }
    scopes
}

/// Logs in with OAuth and returns what to store.
pub(crate) fn login(
    args: &OAuthArgs,
    key: &HostKey,
    env: &Env,
    input: &mut SecretInput,
    printer: Printer,
    user_agent: Option<&str>,
    no_progress: bool,
) -> anyhow::Result<Authentication> {
    let host = key.as_str().strip_prefix("*.").unwrap_or(key.as_str());
    let issuer = match &args.oauth_issuer_url {
        Some(url) => url.clone(),
        None => format!("https://{host}"),
    };
    let issuer: url::Url = issuer
        .parse()
        .with_context(|| format!("--oauth-issuer-url `{}` is not a URL", redact_url(&issuer)))?;
    let redirect_uri = args
        .oauth_redirect_uri
        .as_deref()
        .map(|uri| {
            uri.parse::<url::Url>()
                .with_context(|| format!("--oauth-redirect-uri `{}` is not a URL", redact_url(uri)))
        })
        .transpose()?;
    let client_secret: Option<Secret> = args
        .oauth_client_secret
        .clone()
        .map(|secret| input.resolve("--oauth-client-secret", secret))
        .transpose()?;
    let config = OAuthConfig {
        issuer,
        client_id: args
            .oauth_client_id
            .clone()
            .unwrap_or_else(|| "rattler".to_owned()),
        client_secret,
        scopes: scopes(args, key),
        redirect_uri,
        audience: None,
        timeout: auth_oauth::DEFAULT_TIMEOUT,
    };
    let flow = match args.oauth_flow.unwrap_or(OAuthFlowArg::Auto) {
        OAuthFlowArg::Auto => Flow::Auto,
        OAuthFlowArg::AuthCode => Flow::AuthCode,
        OAuthFlowArg::DeviceCode => Flow::DeviceCode,
    };
    let ui = Ui {
        browser: env.browser.clone(),
        desktop: env.desktop,
        printer,
        show_spinner: env.stderr_is_terminal && !no_progress,
        spinner: std::sync::Mutex::new(None),
    };
    let http = http_client(user_agent)?;
    runtime()?
        .block_on(auth_oauth::login(&http, &config, flow, &ui, clock(env)))
        .with_context(|| format!("could not log in to {host}"))
}

/// The HTTP client of OAuth requests (discovery, tokens, revocation).
pub(crate) fn http_client(user_agent: Option<&str>) -> anyhow::Result<reqwest::Client> {
    auth_middleware::ensure_crypto_provider();
    reqwest::Client::builder()
        .user_agent(user_agent.unwrap_or(concat!("auth/", env!("CARGO_PKG_VERSION"))))
        .connect_timeout(Duration::from_secs(30))
        .timeout(Duration::from_mins(1))
        .build()
        .context("could not set up the HTTP client")
}

/// The runtime of a command's async work (`fetch`, OAuth): one thread, as a CLI needs.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")
}

/// The refresher every command shares: its lock sits beside the credentials file.
pub(crate) fn refresher(env: &Env, stores: &Stores, http: reqwest::Client) -> Arc<Refresher> {
    Refresher::with_margin(
        http,
        &stores.lock_dir,
        Arc::new(clock(env)),
        stores.refresh_margin,
    )
}

/// Unix seconds now: the time `Env` read at start, moved on by a monotonic clock.
fn clock(env: &Env) -> impl Fn() -> i64 + Send + Sync + 'static {
    let (now, started) = (env.now, std::time::Instant::now());
    move || now + i64::try_from(started.elapsed().as_secs()).unwrap_or(0)
}

/// `found`'s credential, refreshed first when it is an OAuth login close to expiry.
pub(crate) fn fresh(refresher: &Refresher, found: &Found) -> anyhow::Result<Authentication> {
    if !matches!(found.credential.auth, Authentication::OAuth { .. }) {
        return Ok(found.credential.auth.clone());
    }
    let fresh = runtime()?.block_on(refresher.fresh(found))?;
    Ok(fresh.unwrap_or_else(|| found.credential.auth.clone()))
}

/// Revokes an OAuth login at its provider before `logout` deletes it; says what happened.
pub(crate) fn revoke(auth: &Authentication, key: &HostKey, printer: Printer) {
    let outcome = http_client(None).and_then(|http| {
        runtime()?
            .block_on(auth_oauth::revoke(&http, auth))
            .map_err(anyhow::Error::from)
    });
    match outcome {
        Ok(revoked) => printer.info(&format!("{key}: {revoked}")),
        Err(err) => printer.warning(&format!(
            "could not revoke the tokens of {key} at the provider ({err:#}); deleting them here anyway"
        )),
    }
}

/// The terminal side of a login.
struct Ui {
    browser: Option<OsString>,
    desktop: bool,
    printer: Printer,
    /// A spinner while waiting for the user, on a terminal unless `--no-progress`.
    show_spinner: bool,
    spinner: std::sync::Mutex<Option<indicatif::ProgressBar>>,
}

impl Drop for Ui {
    fn drop(&mut self) {
        let spinner = self
            .spinner
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(spinner) = spinner.take() {
            spinner.finish_and_clear();
        }
    }
}

impl LoginUi for Ui {
    fn can_open_browser(&self) -> bool {
        self.browser.is_some() || self.desktop
    }

    fn open_browser(&self, url: &url::Url) -> Result<(), auth_oauth::BoxError> {
        let url = url.as_str();
        self.printer.info(&format!(
            "Opening the login page in your browser. If it does not open, visit:\n  {url}"
        ));
        match &self.browser {
            // Like Python's webbrowser and xdg-open: a list of commands separated by `:`, `%s`
            // for the URL (else it is the last argument). Not waited for: a browser may run
            // until the user closes it.
            Some(browser) => {
                let browser = browser.to_string_lossy();
                let mut last: Option<auth_oauth::BoxError> = None;
                for command in browser
                    .split(':')
                    .filter(|command| !command.trim().is_empty())
                {
                    let mut words: Vec<String> =
                        command.split_whitespace().map(str::to_owned).collect();
                    if words.iter().any(|word| word.contains("%s")) {
                        for word in &mut words {
                            *word = word.replace("%s", url);
                        }
                    } else {
                        words.push(url.to_owned());
                    }
                    let (program, args) = words.split_first().expect("not empty");
                    match Command::new(program)
                        .args(args)
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .spawn()
                    {
                        Ok(mut child) => {
                            std::thread::spawn(move || child.wait());
                            return Ok(());
                        }
                        Err(err) => {
                            last = Some(
                                anyhow::Error::new(err)
                                    .context(format!("`{program}` (from BROWSER) failed"))
                                    .into(),
                            );
                        }
                    }
                }
                Err(last.unwrap_or_else(|| "BROWSER names no command".into()))
            }
            None => webbrowser::open(url).map_err(Into::into),
        }
    }

    fn show_device_code(
        &self,
        verification_uri: &url::Url,
        user_code: &str,
        verification_uri_complete: Option<&url::Url>,
    ) {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(
            stderr,
            "To log in, open {verification_uri} on any device and enter the code {}",
            self.printer.bold(user_code)
        );
        if let Some(complete) = verification_uri_complete {
            let _ = writeln!(stderr, "(or open {complete}, which has the code in it)");
        }
    }

    fn waiting(&self, what: &str) {
        if !self.show_spinner {
            return;
        }
        let spinner = indicatif::ProgressBar::new_spinner();
        spinner.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        spinner.set_message(format!("Waiting for {what}..."));
        spinner.enable_steady_tick(Duration::from_millis(100));
        *self
            .spinner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(spinner);
    }
}

/// Refuses an OAuth login that also got another method's flags.
pub(crate) fn check_alone(other: &[&str]) -> anyhow::Result<()> {
    if !other.is_empty() {
        bail!(
            "choose one way to authenticate, not --oauth and {}",
            other.join(" and ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(flags: &[&str]) -> OAuthArgs {
        use clap::Parser as _;
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            oauth: OAuthArgs,
        }
        let mut argv = vec!["auth"];
        argv.extend_from_slice(flags);
        Wrapper::parse_from(argv).oauth
    }

    fn key(host: &str) -> HostKey {
        HostKey::for_login(host).unwrap()
    }

    #[test]
    fn prefix_dev_uses_oauth_unless_another_method_is_given() {
        assert!(wanted(&args(&[]), &key("prefix.dev"), false));
        assert!(wanted(&args(&[]), &key("repo.prefix.dev"), false));
        assert!(
            !wanted(&args(&[]), &key("prefix.dev"), true),
            "--token wins"
        );
        assert!(!wanted(&args(&[]), &key("prefix.dev.evil.test"), false));
        assert!(!wanted(&args(&[]), &key("example.com"), false));
        assert!(wanted(&args(&["--oauth"]), &key("example.com"), false));
        assert!(wanted(
            &args(&["--oauth-flow", "device-code"]),
            &key("example.com"),
            false
        ));
    }

    #[test]
    fn scopes_are_openids_prefix_devs_and_the_users() {
        assert_eq!(
            scopes(&args(&[]), &key("example.com")),
            ["openid", "profile", "offline_access"]
        );
        assert_eq!(
            scopes(
                &args(&["--oauth-scope", "extra", "--oauth-scope", "openid"]),
                &key("prefix.dev")
            ),
            [
                "openid",
                "profile",
                "offline_access",
                "channel:read",
                "channel:upload",
                "extra"
            ]
        );
    }
}
