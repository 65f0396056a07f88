//! HTTP for this crate: `openidconnect`'s `AsyncHttpClient` over the caller's reqwest client, and
//! the form POSTs of the token, device and revocation endpoints.

use std::future::Future;
use std::pin::Pin;

use auth_core::{SafeUrl, Secret};
use base64::Engine as _;
use url::Url;

use crate::OAuthError;

/// How much of an endpoint's answer we read: tokens and error documents are small.
const MAX_BODY: usize = 1 << 20;

/// The caller's reqwest client as `openidconnect`'s HTTP client (discovery and key sets).
pub(crate) struct OidcHttp<'a>(pub(crate) &'a reqwest::Client);

/// A failed request of [`OidcHttp`], its reason without the URL.
/// How long one request to the provider may take: the caller's client may have no overall
/// timeout (a download client shared with the refresher), and a refresh must not hang a download.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_mins(1);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct OidcHttpError(String);

impl<'c> openidconnect::AsyncHttpClient<'c> for OidcHttp<'_> {
    type Error = OidcHttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<openidconnect::HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let url = parts.uri.to_string();
            let response = self
                .0
                .request(parts.method, &url)
                .headers(parts.headers)
                .body(body)
                .timeout(REQUEST_TIMEOUT)
                .send()
                .await
                .map_err(|err| OidcHttpError(describe_reqwest(err)))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = read_body(response)
                .await
                .map_err(|err| OidcHttpError(describe_reqwest(err)))?;
            let mut answer = http::Response::new(body);
            *answer.status_mut() = status;
            *answer.headers_mut() = headers;
            Ok(answer)
        })
    }
}

/// What an endpoint answered: the status and the body.
#[derive(Debug)]
pub(crate) struct FormResponse {
    pub(crate) status: http::StatusCode,
    pub(crate) body: Vec<u8>,
}

/// How the client authenticates to the token and revocation endpoints (RFC 6749, section 2.3).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAuth<'a> {
    pub(crate) client_id: &'a str,
    pub(crate) client_secret: Option<&'a Secret>,
}

/// POSTs `params` as `application/x-www-form-urlencoded` to `url`. A public client sends its
/// `client_id` in the body; a confidential one uses HTTP Basic with the form-encoded id and secret,
/// as RFC 6749 section 2.3.1 requires and every provider must accept.
pub(crate) async fn post_form(
    http: &reqwest::Client,
    url: &str,
    client: ClientAuth<'_>,
    params: &[(&str, &str)],
) -> Result<FormResponse, OAuthError> {
    // Built in a plain function: the serializer is not `Send`, so it must not live across an await.
    let (body, authorization) = encode_form(&client, params);
    let mut request = http
        .post(url)
        .header(http::header::ACCEPT, "application/json")
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        );
    if let Some(value) = authorization {
        request = request.header(http::header::AUTHORIZATION, value);
    }
    let http_error = |err: reqwest::Error| OAuthError::Http {
        url: SafeUrl::new(url),
        reason: describe_reqwest(err),
    };
    let response = request
        .body(body)
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await
        .map_err(http_error)?;
    let status = response.status();
    let body = read_body(response).await.map_err(http_error)?;
    Ok(FormResponse { status, body })
}

/// The form body, and the `Authorization` header of a confidential client.
fn encode_form(
    client: &ClientAuth<'_>,
    params: &[(&str, &str)],
) -> (String, Option<http::HeaderValue>) {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in params {
        form.append_pair(key, value);
    }
    let authorization = match client.client_secret {
        None => {
            form.append_pair("client_id", client.client_id);
            None
        }
        Some(secret) => {
            let encode = |text: &str| {
                url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
            };
            let credentials = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                encode(client.client_id),
                encode(secret.expose())
            ));
            let mut value = http::HeaderValue::try_from(format!("Basic {credentials}"))
                .expect("base64 is a valid header value");
            value.set_sensitive(true);
            Some(value)
        }
    };
    (form.finish(), authorization)
}

async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY {
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A reqwest error and its causes, without the URL (the caller names it, redacted).
pub(crate) fn describe_reqwest(err: reqwest::Error) -> String {
    auth_core::error_chain(&err.without_url())
}

/// Refuses plain http except on the loopback interface, where tests and local providers run.
pub(crate) fn require_secure(url: &Url) -> Result<(), OAuthError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        _ => Err(OAuthError::InsecureIssuer {
            url: SafeUrl::new(url.as_str()),
        }),
    }
}

/// Whether the URL's host is 127.0.0.0/8, `[::1]` or `localhost`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}
