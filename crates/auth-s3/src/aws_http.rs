//! The caller's `reqwest` client as the AWS SDK's `HttpClient`, so the credential chain (STS,
//! SSO, the container and instance-metadata endpoints) talks through the same rustls-on-ring
//! stack as every download, and the build has no second HTTP client or TLS library.

use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;

/// `client` as an AWS SDK HTTP client. The SDK's per-provider timeouts (one second each for
/// instance metadata, so a laptop is not kept waiting) become the request's timeout.
pub(crate) fn http_client(client: reqwest::Client) -> SharedHttpClient {
    http_client_fn(move |settings, _components| {
        SharedHttpConnector::new(ReqwestConnector {
            client: client.clone(),
            timeout: timeout_of(settings),
        })
    })
}

/// The connect and read timeouts as one limit on the whole request (reqwest's per-request
/// setting); none when the SDK sets neither.
fn timeout_of(settings: &HttpConnectorSettings) -> Option<Duration> {
    match (settings.connect_timeout(), settings.read_timeout()) {
        (None, None) => None,
        (connect, read) => Some(connect.unwrap_or_default() + read.unwrap_or_default()),
    }
}

#[derive(Debug, Clone)]
struct ReqwestConnector {
    client: reqwest::Client,
    timeout: Option<Duration>,
}

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.client.clone();
        let timeout = self.timeout;
        HttpConnectorFuture::new(async move {
            let request = request
                .try_into_http1x()
                .map_err(|err| ConnectorError::user(err.into()))?;
            let (parts, body) = request.into_parts();
            // The chain's requests (STS, SSO, metadata) have small bodies held in memory.
            let body = body.bytes().map(<[u8]>::to_vec).unwrap_or_default();
            let mut builder = client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body);
            if let Some(timeout) = timeout {
                builder = builder.timeout(timeout);
            }
            let response = builder.send().await.map_err(connector_error)?;
            let status = response.status();
            let headers = response.headers().clone();
            // A streamed body, never an in-memory one: the SDK's orchestrator logs the response
            // it receives at trace level, and an in-memory body prints its bytes, which for STS
            // and SSO are the new secret and session token (a streamed body prints `BoxBody`).
            let body = SdkBody::from_body_1_x(reqwest::Body::from(response));
            let mut http = http::Response::new(body);
            *http.status_mut() = status;
            *http.headers_mut() = headers;
            HttpResponse::try_from(http).map_err(|err| ConnectorError::other(err.into(), None))
        })
    }
}

/// A transport error as the SDK classifies it (timeouts are retried differently), its URL
/// removed: the SDK's messages should never carry a query string.
fn connector_error(err: reqwest::Error) -> ConnectorError {
    let timed_out = err.is_timeout();
    let err = err.without_url();
    if timed_out {
        ConnectorError::timeout(err.into())
    } else {
        ConnectorError::io(err.into())
    }
}
