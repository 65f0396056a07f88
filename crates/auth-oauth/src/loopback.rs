//! The loopback redirect of a native app (RFC 8252, section 7.3): a listener on 127.0.0.1 that
//! waits for the browser to bring the authorization code back.
//!
//! Hand-written on tokio's `TcpListener`: only the request line of a GET matters, and every crate
//! that would parse it for us brings a whole HTTP server. Each connection is served by its own
//! task, so a browser's idle speculative connection cannot hold up the real redirect.
//!
//! A request for another path (`/favicon.ico`) gets 404 and the wait goes on. A request to the
//! callback path with a `state` this login did not send aborts the login with
//! [`OAuthError::StateMismatch`]: ignoring it would be friendlier to a confused browser tab, but
//! aborting leaves a page that races the real redirect no chance to slip its own code in, and
//! tells the user something is wrong.

use std::time::Duration;

use auth_core::SafeUrl;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use url::Url;

use crate::OAuthError;
use crate::http::is_loopback;

/// The longest request head we read; a redirect with a code is far shorter.
const MAX_HEAD: usize = 16 * 1024;
/// How long one connection may take to send its request line.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound listener and the redirect URI that leads to it.
#[derive(Debug)]
pub(crate) struct Loopback {
    listener: TcpListener,
    redirect_uri: Url,
}

/// What the browser brought back.
#[derive(Debug)]
pub(crate) struct Callback {
    /// The authorization code.
    pub(crate) code: String,
    /// The `iss` parameter (RFC 9207), when the provider sends it.
    pub(crate) issuer: Option<String>,
}

impl Loopback {
    /// Binds the host and port of `redirect_uri` (which must be `http` on a loopback address), or
    /// 127.0.0.1 on a port the system picks, with the path `/callback`.
    pub(crate) async fn bind(redirect_uri: Option<&Url>) -> Result<Self, OAuthError> {
        let mut redirect_uri = match redirect_uri {
            Some(uri) => {
                if uri.scheme() != "http" || !is_loopback(uri) || uri.fragment().is_some() {
                    return Err(OAuthError::InvalidRedirectUri {
                        uri: SafeUrl::new(uri.as_str()),
                    });
                }
                uri.clone()
            }
            None => Url::parse("http://127.0.0.1/callback").expect("a valid URL"),
        };
        // `localhost` could resolve to an address the browser does not use; a literal is exact.
        let host = match redirect_uri.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            _ => "127.0.0.1".to_owned(),
        };
        let port = redirect_uri.port().unwrap_or(0);
        let address = format!("{host}:{port}");
        let listener = TcpListener::bind((host.as_str(), port))
            .await
            .map_err(|err| OAuthError::Loopback {
                address: address.clone(),
                reason: err.to_string(),
            })?;
        let bound = listener.local_addr().map_err(|err| OAuthError::Loopback {
            address,
            reason: err.to_string(),
        })?;
        redirect_uri
            .set_port(Some(bound.port()))
            .expect("an http URL takes a port");
        Ok(Self {
            listener,
            redirect_uri,
        })
    }

    /// The redirect URI to send in the authorization request.
    pub(crate) fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// Serves requests until one brings this login's `state` back, the callback refuses the login,
    /// or `timeout` passes.
    pub(crate) async fn wait(
        self,
        expected_state: &str,
        timeout: Duration,
    ) -> Result<Callback, OAuthError> {
        let (sender, mut receiver) = mpsc::channel(1);
        let mut tasks = JoinSet::new();
        let path = self.redirect_uri.path().to_owned();
        let state = expected_state.to_owned();
        let listener = self.listener;
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                connections.spawn(serve(stream, path.clone(), state.clone(), sender.clone()));
                // Reap finished connections so a long wait does not accumulate them.
                while connections.try_join_next().is_some() {}
            }
        });
        let outcome = tokio::time::timeout(timeout, receiver.recv()).await;
        // Dropping the tasks closes the listener and every connection still open.
        tasks.abort_all();
        match outcome {
            Ok(Some(result)) => result,
            Ok(None) => Err(OAuthError::Loopback {
                address: SafeUrl::new(self.redirect_uri.as_str()).to_string(),
                reason: "the listener stopped".to_owned(),
            }),
            // Rounded up: a wait of half a second is not "0 s".
            Err(_) => Err(OAuthError::CallbackTimeout {
                seconds: timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0),
            }),
        }
    }
}

/// Serves one connection: answers it, and reports the outcome of a request to the callback path.
async fn serve(
    mut stream: TcpStream,
    path: String,
    expected_state: String,
    report: mpsc::Sender<Result<Callback, OAuthError>>,
) {
    let Ok(Some(target)) = tokio::time::timeout(READ_TIMEOUT, read_target(&mut stream)).await
    else {
        respond(&mut stream, "400 Bad Request", FAILURE_PAGE).await;
        return;
    };
    let Ok(url) = Url::parse("http://127.0.0.1").and_then(|base| base.join(&target)) else {
        respond(&mut stream, "400 Bad Request", FAILURE_PAGE).await;
        return;
    };
    if url.path() != path {
        respond(&mut stream, "404 Not Found", "").await;
        return;
    }
    let outcome = read_callback(&url, &expected_state);
    let (status, page) = match &outcome {
        Ok(_) => ("200 OK", SUCCESS_PAGE),
        Err(_) => ("400 Bad Request", FAILURE_PAGE),
    };
    respond(&mut stream, status, page).await;
    let _ = report.send(outcome).await;
}

/// The request target of a GET (`/callback?code=...`), from the request line.
async fn read_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buffer = [0_u8; 2048];
    while !head.windows(2).any(|pair| pair == b"\r\n") {
        let read = stream.read(&mut buffer).await.ok()?;
        if read == 0 || head.len() + read > MAX_HEAD {
            return None;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let line = head.split(|&byte| byte == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut words = line.split(' ');
    let (Some("GET"), Some(target), Some(version)) = (words.next(), words.next(), words.next())
    else {
        return None;
    };
    (version.starts_with("HTTP/1.") && target.starts_with('/')).then(|| target.to_owned())
}

/// The code of a callback with the right `state`, or why the login failed.
fn read_callback(url: &Url, expected_state: &str) -> Result<Callback, OAuthError> {
    let param = |name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    // The state is checked first, even for an error: a foreign page must not end our login with an
    // error of its choosing without the user being told it was foreign.
    if param("state").as_deref() != Some(expected_state) {
        return Err(OAuthError::StateMismatch);
    }
    if let Some(error) = param("error") {
        let description = param("error_description");
        return Err(if error == "access_denied" {
            OAuthError::AccessDenied {
                description: description
                    .unwrap_or_else(|| "the user did not approve it".to_owned()),
            }
        } else {
            OAuthError::Provider {
                request: "authorization",
                error,
                description,
            }
        });
    }
    let code = param("code").ok_or_else(|| OAuthError::Provider {
        request: "authorization",
        error: "invalid_request".to_owned(),
        description: Some("the redirect carried neither a code nor an error".to_owned()),
    })?;
    Ok(Callback {
        code,
        issuer: param("iss"),
    })
}

async fn respond(stream: &mut TcpStream, status: &str, page: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

const SUCCESS_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Logged in</title></head>\
<body><h1>You are logged in</h1><p>You can close this page and return to the terminal.</p></body></html>";

const FAILURE_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Login failed</title></head>\
<body><h1>The login failed</h1><p>Return to the terminal to see why.</p></body></html>";

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Loopback, read_callback};
    use crate::OAuthError;

    #[test]
    fn nobody_coming_back_is_a_timeout() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = runtime.block_on(async {
            let loopback = Loopback::bind(None).await.unwrap();
            assert!(
                loopback
                    .redirect_uri()
                    .as_str()
                    .starts_with("http://127.0.0.1:")
            );
            assert!(loopback.redirect_uri().as_str().ends_with("/callback"));
            loopback
                .wait("state", Duration::from_millis(50))
                .await
                .unwrap_err()
        });
        assert!(
            matches!(err, OAuthError::CallbackTimeout { seconds: 1 }),
            "{err:?}"
        );
    }

    fn check(query: &str, expect: &str) {
        let url = url::Url::parse(&format!("http://127.0.0.1:1/callback?{query}")).unwrap();
        let got = match read_callback(&url, "good-state") {
            Ok(callback) => format!("code {} iss {:?}", callback.code, callback.issuer),
            Err(err) => format!("error: {err}"),
        };
        assert_eq!(got, expect);
    }

    #[test]
    fn callbacks() {
        check("code=c1&state=good-state", "code c1 iss None");
        check(
            "code=c1&state=good-state&iss=http%3A%2F%2F127.0.0.1%3A9",
            "code c1 iss Some(\"http://127.0.0.1:9\")",
        );
        check(
            "code=c1&state=evil",
            "error: the login redirect carried a `state` this login did not send, so it was refused (another web page may have tried to slip in its own login); run the login again",
        );
        check(
            "code=c1",
            "error: the login redirect carried a `state` this login did not send, so it was refused (another web page may have tried to slip in its own login); run the login again",
        );
        check(
            "error=access_denied&error_description=End-User+aborted&state=good-state",
            "error: the login was refused: End-User aborted; run the login again and approve it",
        );
        check(
            "error=server_error&state=good-state",
            "error: the provider refused the authorization request: server_error",
        );
    }
}
