//! A real `OpenID` Connect provider: npm `oidc-provider` (OpenID-certified), run by
//! `tests/peers/oidc/provider.mjs` under node, from the package `cargo xtask test` installs into
//! `<target>/peers/oidc`. Every login and consent is approved at once for the account
//! `test-user`, so a "browser" is `curl -L` with a cookie jar ([`Oidc::browser_script`]), and a
//! device code is approved with three plain HTTP requests ([`Oidc::approve_device`]).
//!
//! The user's side (browser, device page, introspection) is driven with the `curl` CLI through
//! `std::process`: it follows redirects with a cookie jar, which the harness's raw HTTP helpers
//! do not.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{INSTALL_ALL, http_get, system_program, target_dirs};
use crate::deadline::{Deadline, Stream, Watched, output_within};

/// The public client of the tests: PKCE, no secret, loopback redirects, device code.
pub const PUBLIC_CLIENT: &str = "rattler";
/// The confidential client that may introspect tokens ([`Oidc::introspect`]).
pub const RESOURCE_SERVER: &str = "resource-server";
/// A confidential client with the public client's grants (auth code with PKCE, rotating refresh
/// tokens, device code) that authenticates with `client_secret_basic`
/// ([`Oidc::confidential_client`]).
pub const CONFIDENTIAL_CLIENT: &str = "rattler-confidential";
/// The account every interaction logs in as.
pub const ACCOUNT: &str = "test-user";

const RESOURCE_SERVER_SECRET: &str = "resource-server-secret-3f9a";
/// `:` ends the user name of a Basic header, `@` and `%` break naive URL and form handling: the
/// secret is sent form-encoded, and a leak check must look for every form of it.
const CONFIDENTIAL_CLIENT_SECRET: &str = "cl13nt-s3cr3t:p@ss%7";
const INSTALL: &str = "npm install --prefix <target>/peers/oidc oidc-provider@9";

/// How a provider is configured.
#[derive(Debug, Clone)]
pub struct OidcOptions {
    /// The lifetime of access tokens, in seconds (the provider's `ttl.AccessToken`).
    pub access_token_ttl: u64,
}

impl Default for OidcOptions {
    fn default() -> Self {
        Self {
            access_token_ttl: 3600,
        }
    }
}

/// A running `oidc-provider`; dropping it kills it.
#[derive(Debug)]
pub struct Oidc {
    process: Watched,
    issuer: String,
}

impl Oidc {
    /// Starts a provider on a free loopback port and returns once it accepts requests.
    ///
    /// # Panics
    /// When node or the `oidc-provider` package is missing (the message says what to install), or
    /// the provider fails to start (the message has its own words).
    pub fn start(options: &OidcOptions) -> Self {
        let node = system_program("node", "nodejs");
        let prefix = provider_prefix();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/oidc/provider.mjs");
        let mut process = Watched::spawn(
            Command::new(&node)
                .arg(&script)
                .env_clear()
                .env("OIDC_PROVIDER_PREFIX", &prefix)
                .env(
                    "OIDC_ACCESS_TOKEN_TTL",
                    options.access_token_ttl.to_string(),
                )
                .env("OIDC_RESOURCE_SERVER_SECRET", RESOURCE_SERVER_SECRET)
                .env(
                    "OIDC_CONFIDENTIAL_CLIENT_SECRET",
                    CONFIDENTIAL_CLIENT_SECRET,
                )
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped()),
        );
        let started = process.wait_for_line(
            "oidc-provider to print `issuer URL` (it listens then)",
            Deadline::start(),
            |stream, line| stream == Stream::Stdout && line.starts_with("issuer "),
        );
        let issuer = match started {
            Ok(line) => line["issuer ".len()..].trim_end().to_owned(),
            Err(output) => panic!(
                "oidc-provider did not start ({}); its output:\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
            ),
        };
        Self { process, issuer }
    }

    /// The issuer URL, `http://127.0.0.1:PORT` (no trailing slash).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The URL of `path` (with its leading `/`) at the provider.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// The userinfo endpoint, which answers a valid access token (`Authorization: Bearer`).
    pub fn userinfo_url(&self) -> String {
        self.url("/me")
    }

    /// The confidential client's id and secret, for `auth login --oauth-client-id ID
    /// --oauth-client-secret SECRET`.
    pub fn confidential_client(&self) -> (&'static str, &'static str) {
        (CONFIDENTIAL_CLIENT, CONFIDENTIAL_CLIENT_SECRET)
    }

    /// Every secret the provider has handed out so far, in order: authorization codes, and the
    /// access, refresh and ID tokens of every token response.
    ///
    /// The provider records a secret before it sends the response that carries it, so the list
    /// covers every response a client has already received.
    pub fn issued_secrets(&self) -> Vec<String> {
        let response = http_get(&self.url("/test/issued"), &[]);
        assert_eq!(response.status, 200, "{}", response.text());
        response.text().lines().map(str::to_owned).collect()
    }

    /// Revokes a token (RFC 7009) as the confidential client, as a logout elsewhere would; with
    /// a refresh token this ends the whole grant.
    ///
    /// # Panics
    /// When curl fails or the provider answers with an error status.
    pub fn revoke_as_confidential_client(&self, token: &str) {
        // RFC 6749, section 2.3.1: the id and secret are form-encoded before the Basic header's
        // base64, and the provider decodes them so.
        let credentials = format!(
            "{}:{}",
            form_encode(CONFIDENTIAL_CLIENT),
            form_encode(CONFIDENTIAL_CLIENT_SECRET)
        );
        let output = curl(
            curl_command()
                .args(["-sS", "--fail-with-body", "-u"])
                .arg(credentials)
                .arg("--data-urlencode")
                .arg(format!("token={token}"))
                .arg(self.url("/token/revocation")),
            "curl to revoke a token",
        );
        assert!(
            output.status.success(),
            "revocation failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The provider's stderr so far, for a failing test's message.
    pub fn log(&self) -> String {
        self.process.stderr_so_far()
    }

    /// How many token requests of this grant type (`refresh_token`, `authorization_code`,
    /// `urn:ietf:params:oauth:grant-type:device_code`) the provider has answered with tokens.
    ///
    /// The provider counts in its one event loop before it sends a response, so the answer
    /// covers every token response a client has already received.
    pub fn token_requests(&self, grant_type: &str) -> usize {
        self.count(grant_type, "success")
    }

    /// How many token requests of this grant type the provider has refused.
    pub fn token_errors(&self, grant_type: &str) -> usize {
        self.count(grant_type, "error")
    }

    fn count(&self, grant_type: &str, outcome: &str) -> usize {
        let response = http_get(
            &self.url(&format!(
                "/test/counts?grant_type={grant_type}&outcome={outcome}"
            )),
            &[],
        );
        assert_eq!(response.status, 200, "{}", response.text());
        response
            .text()
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("a count, not {:?}", response.text()))
    }

    /// Token introspection (RFC 7662) as the confidential client `resource-server`: the JSON
    /// answer, as text (`{"active":false}` for a revoked or unknown token).
    ///
    /// Text rather than a parsed value: the harness has no JSON parser among its dependencies.
    ///
    /// # Panics
    /// When curl fails or the provider answers with an error status.
    pub fn introspect(&self, token: &str) -> String {
        let output = curl(
            curl_command()
                .args(["-sS", "--fail-with-body", "-u"])
                .arg(format!("{RESOURCE_SERVER}:{RESOURCE_SERVER_SECRET}"))
                .arg("--data-urlencode")
                .arg(format!("token={token}"))
                .arg(self.url("/token/introspection")),
            "curl to introspect a token",
        );
        let body = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "introspection failed: {body}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        body
    }

    /// Approves a device code as the user would: GET `/device` (for its `xsrf` field), then POST
    /// `xsrf`, `user_code` and `confirm=yes`, following the redirects through the (automatic)
    /// login and consent with one cookie jar. Returns the final page's HTML.
    ///
    /// # Panics
    /// When a request fails or the final page is not the provider's success page.
    pub fn approve_device(&self, user_code: &str) -> String {
        let page = self.device_form(user_code, "confirm=yes");
        assert!(
            page.contains("Sign-in Success"),
            "the device approval did not succeed:\n{page}\n{}",
            self.log()
        );
        page
    }

    /// Refuses a device code as the user would (the confirmation page's "abort"): the client's
    /// polling then gets `access_denied`.
    ///
    /// # Panics
    /// When a request fails.
    pub fn deny_device(&self, user_code: &str) -> String {
        self.device_form(user_code, "abort=yes")
    }

    fn device_form(&self, user_code: &str, answer: &str) -> String {
        let jar = tempfile::NamedTempFile::new().expect("a cookie jar");
        let jar = jar.path();
        let form = run_curl(
            curl_command()
                .arg("-sS")
                .arg("-c")
                .arg(jar)
                .arg("-b")
                .arg(jar)
                .arg(self.url("/device")),
        );
        let xsrf = hidden_field(&form, "xsrf")
            .unwrap_or_else(|| panic!("no xsrf field in the device page:\n{form}"));
        run_curl(
            curl_command()
                .args(["-sSL", "-c"])
                .arg(jar)
                .arg("-b")
                .arg(jar)
                .arg("--data-urlencode")
                .arg(format!("xsrf={xsrf}"))
                .arg("--data-urlencode")
                .arg(format!("user_code={user_code}"))
                .arg("--data")
                .arg(answer)
                .arg(self.url("/device")),
        )
    }

    /// Writes `dir/browser`, a shell script to use as `BROWSER`: it follows the URL it is given
    /// (`$1`) with `curl -sSL` and a cookie jar of its own, through the provider's automatic
    /// login and consent, to the client's loopback redirect. It exits non-zero when curl fails,
    /// or has not got there within [`crate::deadline()`].
    ///
    /// # Panics
    /// When the script cannot be written.
    pub fn browser_script(dir: &Path) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let curl = system_program("curl", "curl");
        let path = dir.join("browser");
        let jar = dir.join("browser-cookies.txt");
        // `--max-time`: a browser that never gets its answer gives up at the harness's deadline.
        let script = format!(
            "#!/bin/sh\n# A test browser: follows the authorization URL to the loopback redirect.\nexec '{}' -sSL --max-time {} -c '{jar}' -b '{jar}' \"$1\" -o /dev/null\n",
            curl.display(),
            crate::deadline().as_secs(),
            jar = jar.display(),
        );
        std::fs::write(&path, script).expect("the browser script is written");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("the browser script is executable");
        path
    }
}

/// `<target>/peers/oidc`, where `cargo xtask test` installs `oidc-provider`.
fn provider_prefix() -> PathBuf {
    let candidates: Vec<PathBuf> = target_dirs()
        .into_iter()
        .map(|target| target.join("peers/oidc"))
        .collect();
    candidates
        .iter()
        .find(|prefix| {
            prefix
                .join("node_modules/oidc-provider/package.json")
                .is_file()
        })
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "the npm package `oidc-provider` is not installed (looked in {}); {INSTALL_ALL}, \
                 or install it with: {INSTALL}",
                candidates
                    .iter()
                    .map(|candidate| candidate.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

fn curl_command() -> Command {
    Command::new(system_program("curl", "curl"))
}

/// Runs curl to the end within the deadline.
fn curl(command: &mut Command, what: &str) -> Output {
    output_within(command, None, what)
}

fn run_curl(command: &mut Command) -> String {
    let output = curl(command, "curl to get the provider's device page");
    assert!(
        output.status.success(),
        "curl failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b' ' => "+".to_owned(),
            byte if byte.is_ascii_alphanumeric() || b"*-._".contains(&byte) => {
                char::from(byte).to_string()
            }
            byte => format!("%{byte:02X}"),
        })
        .collect()
}

/// The value of `<input type="hidden" name="NAME" value="..."/>` in a page of the provider.
fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}
