//! The middleware as a library, against real servers: S3 GET and PUT signed for s3s-fs, a
//! caller's own `Authorization`, a 307 that repeats the request, and status errors turned off.

use std::sync::Arc;

use auth_core::{Authentication, CredentialStore, HostKey, MemoryStore, Secret, StoreChain};
use auth_middleware::{AuthError, AuthMiddleware, S3Options};
use auth_s3::S3Settings;
use auth_tests::peers::{Nginx, S3};
use reqwest_middleware::ClientWithMiddleware;

const ACCESS_KEY: &str = "AKIDMIDDLEWARE";
const SECRET_KEY: &str = "middleware-s3-secret-14";
const TOKEN: &str = "tk-middleware-15";

fn chain(entries: &[(&str, Authentication)]) -> StoreChain {
    let store = MemoryStore::new();
    for (key, auth) in entries {
        store.set(&HostKey::parse(key).unwrap(), auth).unwrap();
    }
    StoreChain::new(vec![Arc::new(store)])
}

/// A middleware whose one stored credential is a Bearer token for 127.0.0.1.
fn bearer_for_loopback() -> AuthMiddleware {
    AuthMiddleware::new(
        chain(&[(
            "127.0.0.1",
            Authentication::BearerToken(Secret::new(TOKEN.into())),
        )]),
        auth_middleware::system_clock(),
    )
}

fn client(middleware: AuthMiddleware) -> ClientWithMiddleware {
    auth_middleware::client(reqwest::Client::builder(), middleware).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn s3_keys(secret: &str) -> Authentication {
    Authentication::S3Credentials {
        access_key_id: ACCESS_KEY.to_owned(),
        secret_access_key: Secret::new(secret.to_owned()),
        session_token: None,
    }
}

fn s3_options(s3: &S3) -> S3Options {
    S3Options {
        default: S3Settings {
            region: Some("eu-west-1".to_owned()),
            endpoint: Some(s3.endpoint().parse().unwrap()),
            force_path_style: true,
        },
        ..S3Options::default()
    }
}

/// The `AuthError` inside a middleware error.
fn auth_error(err: &reqwest_middleware::Error) -> &AuthError {
    match err {
        reqwest_middleware::Error::Middleware(err) => err.downcast_ref().expect("an AuthError"),
        reqwest_middleware::Error::Reqwest(err) => panic!("a transport error: {err}"),
    }
}

#[test]
fn s3_get_and_put_are_signed_with_the_stored_keys() {
    let s3 = S3::start(ACCESS_KEY, SECRET_KEY);
    s3.create_bucket("channel");
    s3.put_file("channel", "noarch/repodata.json", b"{}");
    let middleware = AuthMiddleware::new(
        chain(&[("s3://channel", s3_keys(SECRET_KEY))]),
        auth_middleware::system_clock(),
    )
    .with_s3(s3_options(&s3));
    let client = client(middleware);
    let rt = runtime();

    let got = rt.block_on(async {
        let response = client
            .get("s3://channel/noarch/repodata.json")
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.bytes().await.unwrap().to_vec(),
        )
    });
    assert_eq!(got, (200, b"{}".to_vec()));

    let body = b"a new package, with a signed payload".to_vec();
    let status = rt.block_on(async {
        client
            .put("s3://channel/noarch/new-1.0.conda")
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(status, 200);
    assert_eq!(s3.read_file("channel", "noarch/new-1.0.conda"), Some(body));
}

#[test]
fn a_wrong_s3_secret_is_rejected_and_names_the_key() {
    let s3 = S3::start(ACCESS_KEY, SECRET_KEY);
    s3.create_bucket("channel");
    s3.put_file("channel", "a.txt", b"a");
    let middleware = AuthMiddleware::new(
        chain(&[("s3://channel", s3_keys("not-the-secret"))]),
        auth_middleware::system_clock(),
    )
    .with_s3(s3_options(&s3));
    let err = runtime()
        .block_on(client(middleware).get("s3://channel/a.txt").send())
        .unwrap_err();
    let message = auth_error(&err).to_string();
    assert!(
        matches!(auth_error(&err), AuthError::Rejected { status: 403, .. }),
        "{message}"
    );
    assert!(
        message.contains("s3://channel from the memory"),
        "{message}"
    );
    assert!(!message.contains("not-the-secret"), "{message}");
}

#[test]
fn a_callers_own_authorization_is_left_alone() {
    let mut builder = Nginx::builder();
    let server = builder.recorder(&[]);
    let nginx = builder.start();
    let middleware = bearer_for_loopback();
    let status = runtime().block_on(async {
        client(middleware)
            .get(nginx.url(server, "/own"))
            .header("Authorization", "Bearer the-callers-own")
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
    let log = nginx.recorded(server);
    assert!(log.contains("Bearer the-callers-own"), "{log}");
    assert!(!log.contains(TOKEN), "{log}");
}

#[test]
fn a_307_repeats_the_method_and_the_stored_credential_goes_to_each_same_origin_hop() {
    let mut builder = Nginx::builder();
    let server = builder.server(
        "location = /old { return 307 /new; }\n\
         location / { return 200 \"recorded $request_method $request_uri\\n\"; }",
    );
    builder.record(server);
    let nginx = builder.start();
    let middleware = bearer_for_loopback();
    let text = runtime().block_on(async {
        client(middleware)
            .post(nginx.url(server, "/old"))
            .body("payload")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert_eq!(text, "recorded POST /new\n");
    let log = nginx.recorded(server);
    for path in ["/old", "/new"] {
        assert!(
            log.lines()
                .any(|line| line.contains(path) && line.contains(&format!("Bearer {TOKEN}"))),
            "{path}: {log}"
        );
    }
}

#[test]
fn with_status_errors_off_a_401_is_a_response() {
    let mut builder = Nginx::builder();
    let root = auth_tests::peers::write_files(&builder.dir().join("www"), &[("f", b"f")]);
    let server = builder.bearer("the-real-token", &root);
    let nginx = builder.start();
    let rt = runtime();

    let strict = AuthMiddleware::new(chain(&[]), auth_middleware::system_clock());
    let err = rt
        .block_on(client(strict).get(nginx.url(server, "/f")).send())
        .unwrap_err();
    assert!(
        matches!(auth_error(&err), AuthError::NotLoggedIn { status: 401, .. }),
        "{err}"
    );

    let lenient =
        AuthMiddleware::new(chain(&[]), auth_middleware::system_clock()).with_status_errors(false);
    let response = rt
        .block_on(client(lenient).get(nginx.url(server, "/f")).send())
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[test]
fn the_middlewares_debug_shows_no_secret() {
    let middleware = AuthMiddleware::new(
        chain(&[
            (
                "prefix.dev",
                Authentication::BearerToken(Secret::new(TOKEN.into())),
            ),
            ("s3://channel", s3_keys(SECRET_KEY)),
        ]),
        auth_middleware::system_clock(),
    );
    let debug = format!("{middleware:?}");
    assert!(debug.contains("AuthMiddleware"), "{debug}");
    assert!(
        !debug.contains(TOKEN) && !debug.contains(SECRET_KEY),
        "{debug}"
    );
}

#[test]
fn credentials_in_a_prebuilt_requests_url_become_basic_and_win() {
    use base64::Engine as _;
    let mut builder = Nginx::builder();
    let server = builder.recorder(&[]);
    let nginx = builder.start();
    let middleware = bearer_for_loopback();
    // A request made without reqwest's builder keeps the user info in its URL.
    let url = nginx
        .url(server, "/url-credentials")
        .replace("http://", "http://bob:p%40ss@");
    let request = reqwest::Request::new(reqwest::Method::GET, url.parse().unwrap());
    let status = runtime()
        .block_on(client(middleware).execute(request))
        .unwrap()
        .status();
    assert_eq!(status, 200);
    let expected = base64::engine::general_purpose::STANDARD.encode("bob:p@ss");
    let log = nginx.recorded(server);
    assert!(log.contains(&format!("Basic {expected}")), "{log}");
    assert!(!log.contains(TOKEN), "{log}");
}

/// A client that sends requests for `host` to the nginx `server`: the URL keeps a name that is
/// not loopback, as a real registry's would be.
fn client_resolving(
    middleware: AuthMiddleware,
    host: &str,
    nginx: &Nginx,
    server: auth_tests::peers::Server,
) -> ClientWithMiddleware {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], nginx.port(server)));
    auth_middleware::client(reqwest::Client::builder().resolve(host, addr), middleware).unwrap()
}

// The plain-http rule, guarded in this crate: switching it off in `Decision::new` (or ignoring a
// `Withhold` here) sends the token to `http://registry.example.test` and this test fails.
#[test]
fn plain_http_to_a_host_that_is_not_loopback_gets_nothing_unless_the_key_names_http() {
    let mut builder = Nginx::builder();
    let server = builder.recorder(&[]);
    let nginx = builder.start();
    let port = nginx.port(server);
    let rt = runtime();
    let get = |middleware: AuthMiddleware, path: &str| {
        let client = client_resolving(middleware, "registry.example.test", &nginx, server);
        let url = format!("http://registry.example.test:{port}{path}");
        rt.block_on(async { client.get(url).send().await.unwrap().status().as_u16() })
    };
    let bearer = || Authentication::BearerToken(Secret::new(TOKEN.into()));

    let https_key = AuthMiddleware::new(
        chain(&[("*.example.test", bearer())]),
        auth_middleware::system_clock(),
    );
    assert_eq!(get(https_key, "/withheld"), 200);
    let opted_in = AuthMiddleware::new(
        chain(&[(&format!("http://registry.example.test:{port}"), bearer())]),
        auth_middleware::system_clock(),
    );
    assert_eq!(get(opted_in, "/opted-in"), 200);

    let log = nginx.recorded(server);
    let line = |path: &str| {
        log.lines()
            .find(|line| line.contains(path))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(!line("/withheld").contains(TOKEN), "{log}");
    assert!(
        line("/opted-in").contains(&format!("Bearer {TOKEN}")),
        "{log}"
    );
}

// The S3 kind check: a bearer token matching an `s3://` URL is never sent as anything, and the
// error says why; nothing reaches the server.
#[test]
fn an_s3_url_whose_credential_is_not_s3_keys_is_refused_before_sending() {
    let s3 = S3::start(ACCESS_KEY, SECRET_KEY);
    s3.create_bucket("channel");
    let middleware = AuthMiddleware::new(
        chain(&[(
            "channel",
            Authentication::BearerToken(Secret::new(TOKEN.into())),
        )]),
        auth_middleware::system_clock(),
    )
    .with_s3(s3_options(&s3));
    let err = runtime()
        .block_on(client(middleware).get("s3://channel/a.txt").send())
        .unwrap_err();
    assert!(
        matches!(
            auth_error(&err),
            AuthError::NotS3Keys {
                kind: "BearerToken",
                ..
            }
        ),
        "{err}"
    );
    assert!(!err.to_string().contains(TOKEN));
}

// Conda token placement through the whole middleware: first in the path, once, and only there.
#[test]
fn a_conda_token_goes_into_the_path_once_and_nowhere_else() {
    let mut builder = Nginx::builder();
    let server = builder.recorder(&[]);
    let nginx = builder.start();
    let middleware = AuthMiddleware::new(
        chain(&[(
            "127.0.0.1",
            Authentication::CondaToken(Secret::new(TOKEN.into())),
        )]),
        auth_middleware::system_clock(),
    );
    let client = client(middleware);
    let rt = runtime();
    for path in ["/channel/noarch/repodata.json", "/t/already/channel/"] {
        let status = rt.block_on(async {
            client
                .get(nginx.url(server, path))
                .send()
                .await
                .unwrap()
                .status()
        });
        assert_eq!(status, 200);
    }
    let log = nginx.recorded(server);
    assert!(
        log.contains(&format!("/t/{TOKEN}/channel/noarch/repodata.json")),
        "{log}"
    );
    assert!(log.contains("/t/already/channel/"), "{log}");
    assert_eq!(
        log.matches(TOKEN).count(),
        1,
        "the token once, in one path: {log}"
    );
    assert!(!log.contains("Bearer") && !log.contains("Basic"), "{log}");
}

/// A refresher whose session is over, with a cause under its error.
#[derive(Debug)]
struct ExpiredSession;

#[derive(Debug, thiserror::Error)]
#[error("the session for 127.0.0.1 has expired; run `auth login 127.0.0.1`")]
struct Expired(#[source] std::io::Error);

#[async_trait::async_trait]
impl auth_middleware::TokenRefresher for ExpiredSession {
    async fn fresh(
        &self,
        _found: &auth_core::Found,
    ) -> Result<Option<Authentication>, auth_middleware::BoxError> {
        Err(Box::new(Expired(std::io::Error::other("invalid_grant"))))
    }
}

#[test]
fn a_failed_refresh_keeps_the_refreshers_error_as_the_source_and_sends_nothing() {
    let mut builder = Nginx::builder();
    let server = builder.recorder(&[]);
    let nginx = builder.start();
    let oauth = Authentication::OAuth {
        audience: None,
        access_token: Secret::new(TOKEN.into()),
        refresh_token: Some(Secret::new("rt-middleware-16".into())),
        expires_at: Some(0),
        token_endpoint: "https://issuer.example.test/token".into(),
        revocation_endpoint: None,
        client_id: "rattler".into(),
        issuer: None,
        client_secret: None,
    };
    let middleware = AuthMiddleware::new(
        chain(&[("127.0.0.1", oauth)]),
        auth_middleware::system_clock(),
    )
    .with_refresher(Arc::new(ExpiredSession));
    let err = runtime()
        .block_on(client(middleware).get(nginx.url(server, "/pkg")).send())
        .unwrap_err();
    let auth = auth_error(&err);
    assert!(
        matches!(auth, AuthError::SessionExpired { host, .. } if host.starts_with("127.0.0.1:")),
        "{auth:?}"
    );
    // The whole chain: the middleware's words, the refresher's, and the refresher's cause.
    let mut chain = vec![auth.to_string()];
    let mut source = std::error::Error::source(auth);
    while let Some(cause) = source {
        chain.push(cause.to_string());
        source = cause.source();
    }
    assert_eq!(chain.len(), 3, "{chain:?}");
    assert!(
        chain[0].starts_with("could not refresh the login for 127.0.0.1:"),
        "{chain:?}"
    );
    assert_eq!(
        chain[1..],
        [
            "the session for 127.0.0.1 has expired; run `auth login 127.0.0.1`".to_owned(),
            "invalid_grant".to_owned()
        ]
    );
    let log = nginx.recorded(server);
    assert!(
        log.trim().is_empty(),
        "nothing is sent after a failed refresh: {log}"
    );
}
