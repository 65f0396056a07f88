//! git's credential helper protocol (`git help credential`, "INPUT/OUTPUT FORMAT"): the
//! `key=value` lines git writes to a helper's stdin, read with size limits, and the lines a
//! helper answers with.
//!
//! Every byte of a value is taken as it is (no quoting), so an answer holding a newline or a
//! NUL would inject attributes of its own: [`Answer::lines`] refuses one.

use std::fmt::Write as _;
use std::io::BufRead;

use anyhow::{Context as _, bail};
use auth_core::Secret;

/// The longest line git allows, its newline included ("a line ... may not exceed 65535
/// bytes").
pub(crate) const MAX_LINE: usize = 65_535;

/// The most git's description may hold in all: far more than any real one (a few hundred
/// bytes), little enough that a runaway writer cannot make us hold much.
pub(crate) const MAX_INPUT: usize = 1 << 20;

/// What git described: the attributes this helper uses; unknown ones are dropped, as the
/// protocol asks.
#[derive(Debug, Default)]
pub(crate) struct Request {
    pub(crate) protocol: Option<String>,
    /// The host with its port, if the URL had one (`example.com:8088`).
    pub(crate) host: Option<String>,
    /// The path without its leading `/`; git sends it only with `credential.useHttpPath`.
    pub(crate) path: Option<String>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<Secret>,
    /// `authtype` (`Bearer`, `Basic`), with `credential` (git ≥ 2.46).
    pub(crate) authtype: Option<String>,
    pub(crate) credential: Option<Secret>,
    /// The credential must not be stored (`ephemeral=true`).
    pub(crate) ephemeral: bool,
    /// `password_expiry_utc`, as git sent it.
    pub(crate) password_expiry_utc: Option<String>,
    /// `capability[]` values, in order (an empty one clears the list).
    pub(crate) capabilities: Vec<String>,
}

impl Request {
    /// Reads git's description from `input` up to a blank line or the end.
    ///
    /// A line with no `=`, a NUL, a line longer than [`MAX_LINE`] or input longer than
    /// [`MAX_INPUT`] is an error naming the line by its number, never by its contents (a line
    /// may hold a password). So is a value of an attribute we use that is not UTF-8.
    pub(crate) fn read(input: &mut impl BufRead) -> anyhow::Result<Self> {
        let mut request = Self::default();
        let mut total = 0;
        let mut line = Vec::new();
        for number in 1.. {
            line.clear();
            let limit = u64::try_from(MAX_LINE + 1).unwrap_or(u64::MAX);
            let read = std::io::Read::take(&mut *input, limit)
                .read_until(b'\n', &mut line)
                .with_context(|| format!("could not read line {number} of git's input"))?;
            if read == 0 {
                break;
            }
            total += read;
            // A line cut at the limit with more to come is longer than the limit.
            let cut = !line.ends_with(b"\n")
                && !input
                    .fill_buf()
                    .with_context(|| format!("could not read line {number} of git's input"))?
                    .is_empty();
            if line.len() > MAX_LINE || cut {
                bail!(
                    "line {number} of git's input is longer than {MAX_LINE} bytes, the most the \
                     credential protocol allows; nothing was answered"
                );
            }
            if total > MAX_INPUT {
                bail!(
                    "git's input is longer than {MAX_INPUT} bytes by line {number}; a credential \
                     description is a few lines, so nothing was answered"
                );
            }
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            // git reads lines with strbuf_getline, which drops a CR before the LF too.
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            if text.is_empty() {
                break;
            }
            if text.contains(&0) {
                bail!(
                    "line {number} of git's input contains a NUL byte, which the credential \
                     protocol does not allow; nothing was answered"
                );
            }
            let Some(equals) = text.iter().position(|&byte| byte == b'=') else {
                bail!(
                    "line {number} of git's input has no `=`: every line of the credential \
                     protocol is `key=value`; nothing was answered"
                );
            };
            request.set(number, &text[..equals], &text[equals + 1..])?;
        }
        Ok(request)
    }

    fn set(&mut self, number: usize, key: &[u8], value: &[u8]) -> anyhow::Result<()> {
        let Ok(key) = std::str::from_utf8(key) else {
            return Ok(());
        };
        let known = [
            "protocol",
            "host",
            "path",
            "username",
            "password",
            "url",
            "authtype",
            "credential",
            "ephemeral",
            "password_expiry_utc",
            "capability[]",
        ];
        if !known.contains(&key) {
            tracing::trace!(key = %auth_core::escape_control(key), "ignoring an attribute of git's");
            return Ok(());
        }
        let Ok(value) = String::from_utf8(value.to_vec()) else {
            bail!("the value of `{key}` on line {number} of git's input is not UTF-8");
        };
        match key {
            "protocol" => self.protocol = Some(value),
            "host" => self.host = Some(value),
            "path" => self.path = Some(value),
            "username" => self.username = Some(value),
            "password" => self.password = Some(Secret::new(value)),
            "url" => self.set_url(number, &value)?,
            "authtype" => self.authtype = Some(value),
            "credential" => self.credential = Some(Secret::new(value)),
            "ephemeral" => self.ephemeral = is_true(&value),
            "password_expiry_utc" => self.password_expiry_utc = Some(value),
            _ if value.is_empty() => self.capabilities.clear(),
            _ => self.capabilities.push(value),
        }
        Ok(())
    }

    /// `url=`: its parts, as if they had been sent one by one (git's own `credential_from_url`).
    fn set_url(&mut self, number: usize, value: &str) -> anyhow::Result<()> {
        let Ok(url) = url::Url::parse(value) else {
            bail!(
                "the `url` on line {number} of git's input is not a URL ({})",
                auth_core::redact_url(value)
            );
        };
        self.protocol = Some(url.scheme().to_owned());
        let host = url.host_str().unwrap_or_default();
        self.host = Some(match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        });
        let path = url.path().trim_start_matches('/');
        if !path.is_empty() {
            self.path = Some(decode(path));
        }
        if !url.username().is_empty() {
            self.username = Some(decode(url.username()));
        }
        if let Some(password) = url.password() {
            self.password = Some(Secret::new(decode(password)));
        }
        Ok(())
    }

    /// Whether git offered `capability[]=NAME`.
    pub(crate) fn offers(&self, name: &str) -> bool {
        self.capabilities
            .iter()
            .any(|capability| capability == name)
    }
}

/// git's booleans: `true`, `yes`, `on`, `1` in any case.
fn is_true(value: &str) -> bool {
    ["true", "yes", "on", "1"]
        .iter()
        .any(|word| value.eq_ignore_ascii_case(word))
}

/// A percent-encoded part of a URL, decoded (lossily: the protocol's values are text here).
fn decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// What a `get` answers.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// `username=` and `password=`.
    Basic { username: String, password: Secret },
    /// `capability[]=authtype`, `authtype=Bearer`, `credential=` (only to a git that offered
    /// the capability), with `ephemeral=true` and `password_expiry_utc=` for an OAuth token.
    Bearer {
        token: Secret,
        ephemeral: bool,
        expires_at: Option<i64>,
    },
}

impl Answer {
    /// The answer's lines. `Err` when a value holds a control character (a newline would
    /// inject an attribute of its own), with which value it was.
    pub(crate) fn lines(&self) -> Result<String, &'static str> {
        let clean = |value: &str| !value.chars().any(char::is_control);
        match self {
            Self::Basic { username, password } => {
                if !clean(username) {
                    return Err("the user name");
                }
                if !clean(password.expose()) {
                    return Err("the password");
                }
                Ok(format!(
                    "username={username}\npassword={}\n",
                    password.expose()
                ))
            }
            Self::Bearer {
                token,
                ephemeral,
                expires_at,
            } => {
                if !clean(token.expose()) {
                    return Err("the token");
                }
                let mut lines = format!(
                    "capability[]=authtype\nauthtype=Bearer\ncredential={}\n",
                    token.expose()
                );
                if *ephemeral {
                    lines.push_str("ephemeral=true\n");
                }
                if let Some(at) = expires_at {
                    let _ = writeln!(lines, "password_expiry_utc={at}");
                }
                Ok(lines)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Answer, MAX_INPUT, MAX_LINE, Request};
    use auth_core::Secret;

    fn read(input: &[u8]) -> Result<Request, String> {
        Request::read(&mut &input[..]).map_err(|err| err.to_string())
    }

    #[test]
    fn reads_the_attributes_it_uses_and_drops_the_others() {
        let request = read(
            b"capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=example.com:8443\n\
              path=org/repo.git\nusername=alice\nwwwauth[]=Basic realm=\"x\"\nfuture=1\n\n\
              protocol=ignored-after-the-blank-line\n",
        )
        .unwrap();
        assert_eq!(request.protocol.as_deref(), Some("https"));
        assert_eq!(request.host.as_deref(), Some("example.com:8443"));
        assert_eq!(request.path.as_deref(), Some("org/repo.git"));
        assert_eq!(request.username.as_deref(), Some("alice"));
        assert!(request.offers("authtype"));
        assert!(request.offers("state"));
        assert!(!request.offers("other"));
    }

    #[test]
    fn a_value_may_hold_equals_signs_and_a_crlf_ending_is_one_line() {
        let request = read(b"protocol=https\r\nhost=h\r\npassword=a=b=c\r\n\r\n").unwrap();
        assert_eq!(request.host.as_deref(), Some("h"));
        assert_eq!(request.password.unwrap().expose(), "a=b=c");
    }

    #[test]
    fn an_empty_capability_clears_the_list_and_end_of_input_ends_it() {
        let request = read(b"capability[]=authtype\ncapability[]=\nephemeral=TRUE").unwrap();
        assert!(!request.offers("authtype"));
        assert!(request.ephemeral);
    }

    #[test]
    fn url_sets_its_parts() {
        let request = read(b"url=https://al%40ice@example.com:8443/a%20b/c.git\n\n").unwrap();
        assert_eq!(request.protocol.as_deref(), Some("https"));
        assert_eq!(request.host.as_deref(), Some("example.com:8443"));
        assert_eq!(request.path.as_deref(), Some("a b/c.git"));
        assert_eq!(request.username.as_deref(), Some("al@ice"));
    }

    #[test]
    fn broken_lines_are_errors_that_do_not_quote_them() {
        let secret = "hunter2-secret";
        let long = format!("password={}\n", "x".repeat(MAX_LINE));
        let cases: [(&str, Vec<u8>, &str); 5] = [
            (
                "no equals",
                format!("protocol=https\n{secret}\n").into_bytes(),
                "line 2 of git's input has no `=`",
            ),
            (
                "NUL",
                format!("password={secret}\0x\n").into_bytes(),
                "line 1 of git's input contains a NUL byte",
            ),
            (
                "over-long line",
                long.into_bytes(),
                "line 1 of git's input is longer than 65535 bytes",
            ),
            (
                "over-long input",
                "a=b\n".repeat(MAX_INPUT / 4 + 1).into_bytes(),
                "git's input is longer than 1048576 bytes by line 262145",
            ),
            (
                "not UTF-8",
                b"username=\xff\n".to_vec(),
                "the value of `username` on line 1 of git's input is not UTF-8",
            ),
        ];
        for (name, input, expected) in cases {
            let message = read(&input).expect_err(name);
            assert!(message.starts_with(expected), "{name}: {message}");
            assert!(!message.contains(secret), "{name}: {message}");
        }
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_allowed() {
        let line = format!("path={}\n", "p".repeat(MAX_LINE - "path=\n".len()));
        assert_eq!(line.len(), MAX_LINE);
        assert!(read(line.as_bytes()).is_ok());
    }

    #[test]
    fn answers() {
        let basic = Answer::Basic {
            username: "u".to_owned(),
            password: Secret::new("p=w".to_owned()),
        };
        assert_eq!(basic.lines().unwrap(), "username=u\npassword=p=w\n");
        let bearer = Answer::Bearer {
            token: Secret::new("tok".to_owned()),
            ephemeral: true,
            expires_at: Some(1_700_000_000),
        };
        assert_eq!(
            bearer.lines().unwrap(),
            "capability[]=authtype\nauthtype=Bearer\ncredential=tok\nephemeral=true\n\
             password_expiry_utc=1700000000\n"
        );
        let injected = Answer::Basic {
            username: "u".to_owned(),
            password: Secret::new("p\nhost=evil".to_owned()),
        };
        assert_eq!(injected.lines(), Err("the password"));
    }
}
