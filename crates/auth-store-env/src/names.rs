//! The host encoding of variable names (`TF_TOKEN_<host>`, `AUTH_TOKEN_<host>`): Terraform's
//! `.` as `_` and `-` as `__`, extended with a leading `_` for `*.` and a final number for a
//! port.
//!
//! Terraform's rule is kept exactly, so a `TF_TOKEN_app_terraform_io` that Terraform reads is
//! read here the same way; the two extensions cannot collide with it because no host name
//! starts with a dot and none ends in a label of digits (a WHATWG parser reads such a host as an
//! IPv4 address, and refuses it unless it is one).

use std::fmt;

/// A host, with an optional wildcard and port, decoded from the end of a variable name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedHost {
    /// `*.` before the host: the host itself and every subdomain.
    pub wildcard: bool,
    /// Lower-case, dotted: `repo.prefix.dev`, `127.0.0.1`.
    pub host: String,
    /// An explicit port.
    pub port: Option<u16>,
}

impl EncodedHost {
    /// The host key text: `*.prefix.dev`, `localhost:8080`.
    pub fn key_text(&self) -> String {
        let mut text = String::new();
        if self.wildcard {
            text.push_str("*.");
        }
        text.push_str(&self.host);
        if let Some(port) = self.port {
            text.push(':');
            text.push_str(&port.to_string());
        }
        text
    }
}

/// Why the end of a variable name is not a host.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameError {
    /// Nothing after the prefix.
    Empty,
    /// A character other than an ASCII letter, digit or `_`.
    Character,
    /// `__` at the start (a host cannot start with `-`).
    LeadingHyphen,
    /// A label that is empty, too long, or starts or ends with `-`.
    Label,
    /// A final number that is not a port (0 or above 65535).
    Port,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "no host follows the prefix",
            Self::Character => {
                "a host in a variable name has only letters, digits and `_` (write a non-ASCII host in its xn-- form)"
            }
            Self::LeadingHyphen => "a host cannot start with `-` (`__` at the start)",
            Self::Label => {
                "it does not decode to a host name (`_` is `.`, `__` is `-`, a leading `_` is `*.`, a final `_NUMBER` is the port)"
            }
            Self::Port => "the final number is not a port from 1 to 65535",
        })
    }
}

/// Decodes the host part of a variable name: `app_terraform_io` → `app.terraform.io`,
/// `my__registry_example_com` → `my-registry.example.com`, `_prefix_dev` → `*.prefix.dev`,
/// `localhost_8080` → `localhost:8080`, `127_0_0_1_8443` → `127.0.0.1:8443`. Letters may be in
/// any case (Terraform's names are case-insensitive); the host comes out lower-case.
pub fn decode_host(encoded: &str) -> Result<EncodedHost, NameError> {
    if encoded.is_empty() {
        return Err(NameError::Empty);
    }
    if !encoded
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(NameError::Character);
    }
    let (wildcard, rest) = match encoded.strip_prefix('_') {
        Some(rest) if rest.starts_with('_') => return Err(NameError::LeadingHyphen),
        Some(rest) => (true, rest),
        None => (false, encoded),
    };
    // Terraform's order: `__` first, then `_`.
    let dotted = rest
        .replace("__", "-")
        .replace('_', ".")
        .to_ascii_lowercase();
    let labels: Vec<&str> = dotted.split('.').collect();
    if is_host(&labels) {
        return Ok(EncodedHost {
            wildcard,
            host: dotted,
            port: None,
        });
    }
    match labels.split_last() {
        Some((last, host)) if is_digits(last) && !host.is_empty() && is_host(host) => {
            let port = last
                .parse::<u16>()
                .ok()
                .filter(|port| *port > 0)
                .ok_or(NameError::Port)?;
            Ok(EncodedHost {
                wildcard,
                host: host.join("."),
                port: Some(port),
            })
        }
        _ => Err(NameError::Label),
    }
}

/// The variable-name form of a host (the inverse of [`decode_host`]); `None` for what the
/// encoding cannot say: an IPv6 address, a non-ASCII host, a label with `_`.
pub fn encode_host(wildcard: bool, host: &str, port: Option<u16>) -> Option<String> {
    let labels: Vec<&str> = host.split('.').collect();
    if !is_host(&labels) {
        return None;
    }
    let mut out = String::new();
    if wildcard {
        out.push('_');
    }
    out.push_str(&host.replace('.', "_").replace('-', "__"));
    if let Some(port) = port {
        out.push('_');
        out.push_str(&port.to_string());
    }
    Some(out)
}

/// Labels of a host name or an IPv4 address in dotted-decimal form (four parts).
fn is_host(labels: &[&str]) -> bool {
    if labels.is_empty() || !labels.iter().all(|label| is_label(label)) {
        return false;
    }
    let total: usize = labels.iter().map(|label| label.len() + 1).sum();
    if total > 254 {
        return false;
    }
    let last = labels[labels.len() - 1];
    if is_digits(last) {
        // A host ending in a number is an IPv4 address or nothing.
        return labels.len() == 4
            && labels
                .iter()
                .all(|part| is_digits(part) && part.parse::<u8>().is_ok());
    }
    true
}

fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::{EncodedHost, NameError, decode_host};

    fn check(encoded: &str, expect: Result<&str, NameError>) {
        let got = decode_host(encoded).map(|host| host.key_text());
        assert_eq!(got, expect.map(str::to_owned), "{encoded}");
    }

    #[test]
    fn decodes_terraform_names_and_the_extensions() {
        check("app_terraform_io", Ok("app.terraform.io"));
        check("APP_TERRAFORM_IO", Ok("app.terraform.io"));
        check("my__registry_example_com", Ok("my-registry.example.com"));
        check("xn____caf__dma_example", Ok("xn--caf-dma.example"));
        check("_prefix_dev", Ok("*.prefix.dev"));
        check("localhost_8080", Ok("localhost:8080"));
        check("127_0_0_1", Ok("127.0.0.1"));
        check("127_0_0_1_8443", Ok("127.0.0.1:8443"));
        check("_example_com_443", Ok("*.example.com:443"));
        check("", Err(NameError::Empty));
        check("__example_com", Err(NameError::LeadingHyphen));
        check("example_com_", Err(NameError::Label));
        check("example__com__", Err(NameError::Label));
        check("example_com_0", Err(NameError::Port));
        check("example_com_70000", Err(NameError::Port));
        check("1_2_3", Err(NameError::Label));
        check("exa-mple", Err(NameError::Character));
        assert_eq!(
            decode_host("localhost").unwrap(),
            EncodedHost {
                wildcard: false,
                host: "localhost".into(),
                port: None
            }
        );
    }
}
