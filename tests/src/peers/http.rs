//! A small HTTP/1.1 client over `std::net::TcpStream`, plain http only, for checking what the
//! peers answer without our `auth` binary (or any HTTP library of ours) in the way.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs as _};
use std::time::Duration;

use crate::deadline::{Deadline, output_within};

/// An HTTP response, read to the end of the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of a header field, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `GET url` with these extra header fields (`Host` and `Connection: close` are added).
///
/// # Panics
/// When the URL is not `http://HOST:PORT/...`, the peer cannot be reached, or its answer is not
/// HTTP/1.x.
pub fn http_get(url: &str, headers: &[(&str, &str)]) -> Response {
    http_request("GET", url, headers, b"")
}

/// `METHOD url` with these extra header fields and body (a `Content-Length` is added when the
/// body is not empty).
///
/// # Panics
/// As [`http_get`].
pub fn http_request(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("http_request speaks plain http only, not {url}"));
    let (authority, path) = rest.find('/').map_or((rest, "/"), |at| rest.split_at(at));
    let address = authority
        .to_socket_addrs()
        .ok()
        .and_then(|mut addresses| addresses.next())
        .unwrap_or_else(|| panic!("{url} names no HOST:PORT"));
    // The whole request, connecting included, has one deadline: the test fails rather than
    // hangs on a peer that never answers.
    let deadline = Deadline::start();
    let gave_up = |doing: &str| -> ! {
        panic!(
            "gave up after {} s {doing} {url} (a slow machine may set {} to more seconds)",
            deadline.total().as_secs(),
            crate::deadline::DEADLINE_VAR,
        )
    };
    let mut stream = TcpStream::connect_timeout(&address, deadline.remaining())
        .unwrap_or_else(|err| panic!("cannot connect to {url}: {err}"));
    stream
        .set_write_timeout(Some(deadline.remaining().max(Duration::from_millis(1))))
        .expect("a timeout");

    let mut bytes = head(method, path, authority, headers, body.len()).into_bytes();
    bytes.extend_from_slice(body);
    stream
        .write_all(&bytes)
        .unwrap_or_else(|err| panic!("cannot send the request to {url}: {err}"));

    // `Connection: close`: the peer ends the response by closing the connection.
    let mut raw = Vec::new();
    let mut chunk = [0; 8192];
    loop {
        if deadline.passed() {
            gave_up("waiting for the answer of");
        }
        stream
            .set_read_timeout(Some(deadline.remaining().max(Duration::from_millis(1))))
            .expect("a timeout");
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => raw.extend_from_slice(&chunk[..read]),
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                gave_up("waiting for the answer of");
            }
            Err(err) => panic!("cannot read the answer of {url}: {err}"),
        }
    }
    parse(&raw).unwrap_or_else(|| {
        panic!(
            "{url} answered something that is not HTTP/1.x: {:?}",
            String::from_utf8_lossy(&raw)
        )
    })
}

/// `GET url` over TLS with the `openssl s_client` CLI, trusting only `ca_cert` and checking that
/// the server's certificate names the URL's host: a client of the TLS servers that is not ours.
///
/// # Panics
/// When the URL is not `https://HOST:PORT/...`, or the TLS handshake or its verification fails.
pub fn https_get(url: &str, ca_cert: &std::path::Path, headers: &[(&str, &str)]) -> Response {
    let rest = url
        .strip_prefix("https://")
        .unwrap_or_else(|| panic!("https_get speaks https only, not {url}"));
    let (authority, path) = rest.find('/').map_or((rest, "/"), |at| rest.split_at(at));
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host);
    let check = if host.parse::<std::net::IpAddr>().is_ok() {
        "-verify_ip"
    } else {
        "-verify_hostname"
    };
    let request = head("GET", path, authority, headers, 0);
    // With `-quiet`, s_client sends stdin, then waits for the server to close.
    let output = output_within(
        std::process::Command::new(super::system_program("openssl", "openssl"))
            .args([
                "s_client",
                "-quiet",
                "-verify_return_error",
                "-connect",
                authority,
            ])
            .arg("-CAfile")
            .arg(ca_cert)
            .args([check, host]),
        Some(request.as_bytes()),
        "openssl s_client to get the answer",
    );
    assert!(
        output.status.success(),
        "openssl s_client could not GET {url} trusting {}: {}",
        ca_cert.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    parse(&output.stdout).unwrap_or_else(|| {
        panic!(
            "{url} answered something that is not HTTP/1.x: {:?}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The request line and header fields of a request that closes its connection after the answer.
fn head(
    method: &str,
    path: &str,
    authority: &str,
    headers: &[(&str, &str)],
    body_len: usize,
) -> String {
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (name, value) in headers {
        write!(head, "{name}: {value}\r\n").expect("writing to a String");
    }
    if body_len > 0 {
        write!(head, "Content-Length: {body_len}\r\n").expect("writing to a String");
    }
    head.push_str("\r\n");
    head
}

/// Splits a whole HTTP/1.x response into status, header fields and body.
fn parse(raw: &[u8]) -> Option<Response> {
    let end = raw.windows(4).position(|window| window == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut words = status_line.split(' ');
    if !words.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let status = words.next()?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_owned(), value.trim().to_owned()))
        })
        .collect::<Option<_>>()?;
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    let body = &raw[end + 4..];
    response.body = if response
        .header("transfer-encoding")
        .is_some_and(|coding| coding.eq_ignore_ascii_case("chunked"))
    {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Some(response)
}

/// The body of a `Transfer-Encoding: chunked` message.
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|window| window == b"\r\n")?;
        let size = std::str::from_utf8(&body[..line_end]).ok()?;
        let size = size.split(';').next()?.trim();
        let size = usize::from_str_radix(size, 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_a_chunked_response() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let response = parse(raw).expect("a response");
        assert_eq!(response.status, 200);
        assert_eq!(response.header("x-a"), Some("b"));
        assert_eq!(response.text(), "abcde");
    }

    #[test]
    fn parses_a_response_with_a_length() {
        let raw = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\nno";
        let response = parse(raw).expect("a response");
        assert_eq!((response.status, response.text().as_str()), (401, "no"));
    }
}
