//! `SafeUrl` and `redact_url`: a URL, or text that was meant to be one, in the only form that may
//! reach a message or a log: user information, `/t/<TOKEN>/` segments and query values replaced
//! and control characters escaped (uv's `DisplaySafeUrl`, holding the redacted text itself).

use std::fmt;

use crate::escape::escape_control;

/// What replaces a secret.
const MASK: &str = "****";

/// A URL that can only be shown redacted: it holds the redacted text, never the original, so no
/// `Display`, `Debug` or serialization of an error holding one can leak what the URL carried.
///
/// Every error and log field that names a URL holds a `SafeUrl` instead of a `String`.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct SafeUrl(Box<str>);

impl SafeUrl {
    /// The redacted form of `text`, which need not be a valid URL (see [`redact_url`]).
    pub fn new(text: &str) -> Self {
        Self(redact_url(text).into())
    }

    /// The redacted text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&url::Url> for SafeUrl {
    fn from(url: &url::Url) -> Self {
        Self::new(url.as_str())
    }
}

impl From<&str> for SafeUrl {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl fmt::Display for SafeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SafeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SafeUrl({:?})", &*self.0)
    }
}

/// `text` with everything that may be a secret replaced by `****`, and control characters
/// escaped, whether or not it is a valid URL:
///
/// - all user information, the user name too (it may be a token: `https://TOKEN@host`, or
///   GitHub's `https://TOKEN:x-oauth-basic@host`);
/// - the segment after a `/t/` segment (the conda token);
/// - the value of every query and fragment parameter (signatures, `token=`, `access_token=`).
///
/// An `http(s)` URL that parses is redacted from its parsed parts, so a password holding `@`,
/// `#`, `/` or `?` is found whole. Other text (a URL that does not parse, a bare host, or one
/// that parses only by accident, with an `@` after its authority) is redacted more broadly:
/// everything up to its last `@` is user information, because a parser's idea of where the
/// authority ends is exactly what cannot be trusted.
pub fn redact_url(text: &str) -> String {
    let redacted = match url::Url::parse(text) {
        Ok(url)
            if matches!(url.scheme(), "http" | "https")
                && url.has_host()
                && !has_stray_at(text) =>
        {
            redact_parsed(&url)
        }
        _ => redact_text(text),
    };
    escape_control(&redacted).into_owned()
}

/// An `@` after the authority: the text is a URL only by accident, as `https://TOKEN#@host/` is
/// (its host is `token`), and its user meant everything up to that `@` as user information.
/// (An npm scope, `/@scope/pkg`, is redacted too: a leak is worse than a masked path.)
fn has_stray_at(text: &str) -> bool {
    let rest = scheme_end(text).map_or(text, |end| &text[end..]);
    let authority_end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    rest[authority_end..].contains('@')
}

/// A stored key (`host/path`, `u:pw@host`, `https://host/t/TOKEN`) as messages show it: the text
/// redaction of [`redact_url`], never a URL parser's re-serialization (which would add a `/`).
pub(crate) fn redact_key(key: &str) -> String {
    escape_control(&redact_text(key)).into_owned()
}

fn redact_parsed(url: &url::Url) -> String {
    let text = url.as_str();
    // The serialization is `scheme://[userinfo@]host...`; userinfo is percent-encoded there, so
    // the last `@` before the host is the only unencoded one.
    let after_scheme = url.scheme().len() + 3;
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..after_scheme]);
    let rest = &text[after_scheme..];
    let rest = if url.username().is_empty() && url.password().is_none() {
        rest
    } else {
        let host_start = rest.find('@').map_or(0, |at| at + 1);
        push_userinfo(&mut out);
        &rest[host_start..]
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    out.push_str(&rest[..authority_end]);
    push_path_and_query(&mut out, &rest[authority_end..]);
    out
}

fn redact_text(text: &str) -> String {
    let (scheme, rest) = match scheme_end(text) {
        Some(end) => text.split_at(end),
        None => ("", text),
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(scheme);
    // Text that failed to parse: the user information may hold any character at all.
    let rest = match rest.rfind('@') {
        Some(at) => {
            push_userinfo(&mut out);
            &rest[at + 1..]
        }
        None => rest,
    };
    let authority_end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    out.push_str(&rest[..authority_end]);
    push_path_and_query(&mut out, &rest[authority_end..]);
    out
}

/// Where a leading `scheme://` ends, if the text starts with one: a `://` inside a password
/// (`alice:S3C://RET@host`) is no scheme (RFC 3986: a letter, then letters, digits, `+-.`).
fn scheme_end(text: &str) -> Option<usize> {
    let at = text.find("://")?;
    let scheme = &text[..at];
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(at + 3)
}

/// `****@`: the whole user information, whatever it held.
fn push_userinfo(out: &mut String) {
    out.push_str(MASK);
    out.push('@');
}

fn push_path_and_query(out: &mut String, tail: &str) {
    let (path, query) = match tail.find(['?', '#']) {
        Some(at) => tail.split_at(at),
        None => (tail, ""),
    };
    let mut segments = path.split('/').peekable();
    let mut first = true;
    while let Some(segment) = segments.next() {
        if !first {
            out.push('/');
        }
        first = false;
        out.push_str(segment);
        if segment == "t" && segments.peek().is_some() {
            segments.next();
            out.push('/');
            out.push_str(MASK);
        }
    }
    push_params(out, query);
}

/// `?a=1&b#c=2` as `?a=****&b#c=****`: names are kept, every value is masked.
fn push_params(out: &mut String, mut rest: &str) {
    while let Some(delimiter) = rest.chars().next() {
        out.push(delimiter);
        rest = &rest[delimiter.len_utf8()..];
        let end = rest.find(['&', '#', '?']).unwrap_or(rest.len());
        let (pair, tail) = rest.split_at(end);
        match pair.split_once('=') {
            Some((name, _)) => {
                out.push_str(name);
                out.push('=');
                out.push_str(MASK);
            }
            None => out.push_str(pair),
        }
        rest = tail;
    }
}

#[cfg(test)]
mod tests {
    use super::{SafeUrl, redact_url};

    #[test]
    fn redacts_every_secret_a_url_can_carry() {
        let urls = [
            "https://prefix.dev/conda-forge/repodata.json",
            "https://user:hunter2@host.example/simple/",
            "https://tok3n@host.example/",
            "https://conda.anaconda.org/t/abc-123/conda-forge/noarch",
            "https://conda.anaconda.org/t/abc-123",
            "https://b.s3.amazonaws.com/k?X-Amz-Credential=AK%2F&X-Amz-Signature=deadbeef&x=1#frag",
            "https://host/cb#access_token=SECRET&state=1",
            "host.example:8443/t/tok/x",
            "s3://bucket/key?X-Amz-Security-Token=SESSION",
            "https://registry.npmjs.org/@scope/pkg",
        ];
        let out: Vec<String> = urls.iter().map(|url| redact_url(url)).collect();
        insta::assert_snapshot!(out.join("\n"), @r"
        https://prefix.dev/conda-forge/repodata.json
        https://****@host.example/simple/
        https://****@host.example/
        https://conda.anaconda.org/t/****/conda-forge/noarch
        https://conda.anaconda.org/t/****
        https://b.s3.amazonaws.com/k?X-Amz-Credential=****&X-Amz-Signature=****&x=****#frag
        https://host/cb#access_token=****&state=****
        host.example:8443/t/****/x
        s3://bucket/key?X-Amz-Security-Token=****
        https://****@scope/pkg
        ");
    }

    // A password holding `@`, `#`, `/`, `?`, `%` or `:`, in a URL that parses and in text that
    // does not: the red team's `https://alice:SEC#RET@127.0.0.1:1/x` printed whole.
    #[test]
    fn passwords_with_delimiters_are_redacted_whole() {
        let urls = [
            "https://alice:p@ss@host.example/",
            "https://alice:SEC#RET@127.0.0.1:1/x",
            "https://alice:SEC?RET@127.0.0.1:1/x",
            "https://alice:SEC/RET@127.0.0.1:1/x",
            "https://alice:SEC%RET@127.0.0.1:1/x",
            "https://alice:SEC:RET@127.0.0.1:1/x",
            "https://alice:SEC RET@host/x",
            "https://alice:SEC@RET@[::1/x",
            "alice:SECRET@host.example/x",
            "s3://AKID:SECRET@bucket/key",
            "HTTPS://ALICE:SECRET@HOST.example/",
            "https://SECRET#@host.example/",
            "https://SEC?RET@host.example/",
            "https://alice:SEC@RET#x@host.example/",
            "alice:SEC://RET@host.example/x",
        ];
        let out: Vec<String> = urls.iter().map(|url| redact_url(url)).collect();
        for line in &out {
            assert!(
                !line.contains("SEC") && !line.contains("ss@") && !line.contains("RET"),
                "{line}"
            );
        }
        insta::assert_snapshot!(out.join("\n"), @r"
        https://****@host.example/
        https://****@127.0.0.1:1/x
        https://****@127.0.0.1:1/x
        https://****@127.0.0.1:1/x
        https://****@127.0.0.1:1/x
        https://****@127.0.0.1:1/x
        https://****@host/x
        https://****@[::1/x
        ****@host.example/x
        s3://****@bucket/key
        https://****@host.example/
        https://****@host.example/
        https://****@host.example/
        https://****@host.example/
        ****@host.example/x
        ");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            redact_url("https://ex\u{1b}]0;PWNED\u{7}ample.com/"),
            "https://ex\\u{1b}]0;PWNED\\u{7}ample.com/"
        );
    }

    #[test]
    fn a_safe_url_holds_only_the_redacted_text() {
        let url = SafeUrl::new("https://alice:hunter2@host/t/tok/x?token=abc");
        let shown = format!("{url} {url:?} {}", url.as_str());
        assert!(!shown.contains("hunter2") && !shown.contains("tok/") && !shown.contains("abc"));
        insta::assert_snapshot!(format!("{url:?}"), @r#"SafeUrl("https://****@host/t/****/x?token=****")"#);
    }
}
