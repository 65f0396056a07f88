//! The AWS SigV4 test suite (`aws-signing-test-suite/v4`) that ships in the `aws-sigv4` crate's
//! source, run as a table through `auth_s3::Signer`, the code `sign_headers` and `presign` use.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use auth_s3::{Payload, Signer};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SigningSettings,
};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::Value;

/// Cases we do not run, with the reason.
const EXCLUDED: &[(&str, &str)] = &[(
    "double-url-encode",
    "old-format case with neither context.json nor a signature file; it holds only a canonical \
     request, which no public function returns",
)];

/// Old-format cases without a context.json: the credentials (`Credentials::for_tests()`) and
/// settings (the defaults, which encode the path twice) of `aws-sigv4`'s own test of them.
const OLD_FORMAT: &[&str] = &["double-encode-path"];

/// The fewest cases a healthy suite has; fewer means the directory moved or was emptied.
const MIN_CASES: usize = 30;

#[test]
#[allow(
    clippy::print_stdout,
    reason = "the count of cases run is the test's report"
)]
fn aws_sigv4_test_suite() {
    let dir = suite_dir();
    let mut cases: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();
    let mut run = 0;
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_str().unwrap();
        if EXCLUDED.iter().any(|(excluded, _)| *excluded == name) {
            continue;
        }
        run += 1;
        failures.extend(run_case(name, case));
    }
    println!(
        "AWS SigV4 suite: {run} cases run, {} excluded, from {}",
        EXCLUDED.len(),
        dir.display()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        run + EXCLUDED.len(),
        cases.len(),
        "an excluded case is missing"
    );
    assert!(run >= MIN_CASES, "only {run} cases in {}", dir.display());
}

/// Signs one case with headers and, when it has query files, with query parameters, and
/// describes each signature that differs from the expected one.
fn run_case(name: &str, dir: &Path) -> Vec<String> {
    let request = parse_request(&read(&dir.join("request.txt")));
    let (credentials, settings, time) = if OLD_FORMAT.contains(&name) {
        (
            Credentials::new(
                "ANOTREAL",
                "notrealrnrELgWzOk3IfjzDKtFBhDby",
                None,
                None,
                "test",
            ),
            SigningSettings::default(),
            parse_time("2015-08-30T12:36:00Z"),
        )
    } else {
        context(&read(&dir.join("context.json")))
    };
    let region = "us-east-1";
    let signer = Signer {
        credentials: &credentials,
        region,
        service: "service",
        time,
        settings,
    };
    let payload = Payload::Bytes(&request.body);
    let mut failures = Vec::new();
    let mut check =
        |kind: &str, expected: String, actual: Result<String, auth_s3::S3Error>| match actual {
            Ok(actual) if actual == expected => {}
            Ok(actual) => {
                failures.push(format!(
                    "{name} ({kind}): signature {actual}, expected {expected}"
                ));
            }
            Err(err) => failures.push(format!("{name} ({kind}): {err}")),
        };

    let expected = match dir.join("header-signature.txt") {
        path if path.exists() => read(&path),
        // The old-format case has the signature only in its signed request.
        _ => signature_of(&read(&dir.join("header-signed-request.txt"))).to_owned(),
    };
    let by_headers = signer.sign_headers(&request.method, &request.uri, &request.headers, payload);
    check(
        "headers",
        expected,
        by_headers
            .map(|headers| signature_of(headers["authorization"].to_str().unwrap()).to_owned()),
    );

    let query_signature = dir.join("query-signature.txt");
    if query_signature.exists() {
        let params = signer.presign_params(
            &request.method,
            &request.uri,
            &request.headers,
            payload,
            Duration::from_hours(1),
        );
        check(
            "query",
            read(&query_signature),
            params.map(|params| {
                params
                    .into_iter()
                    .find(|(name, _)| *name == "X-Amz-Signature")
                    .map(|(_, value)| value)
                    .unwrap_or_default()
            }),
        );
    }
    failures
}

/// Where the suite is: next to the manifest of the `aws-sigv4` this crate is built with, as
/// `cargo metadata` reports it.
fn suite_dir() -> PathBuf {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cannot run `cargo metadata`");
    assert!(
        output.status.success(),
        "`cargo metadata` failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let package = |matches: &dyn Fn(&Value) -> bool| packages.iter().find(|p| matches(p)).cloned();
    let ours = package(&|p| p["name"] == "auth-s3").expect("auth-s3 is in the workspace");
    let sigv4_id = metadata["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|node| node["id"] == ours["id"])
        .and_then(|node| {
            node["deps"]
                .as_array()?
                .iter()
                .find(|dep| dep["name"] == "aws_sigv4")
        })
        .map(|dep| dep["pkg"].clone())
        .expect("auth-s3 depends on aws-sigv4");
    let sigv4 = package(&|p| p["id"] == sigv4_id).unwrap();
    let manifest = Path::new(sigv4["manifest_path"].as_str().unwrap());
    let dir = manifest.parent().unwrap().join("aws-signing-test-suite/v4");
    assert!(
        dir.is_dir(),
        "the AWS SigV4 test suite is not at {}: it ships in the aws-sigv4 {} source; run `cargo \
         fetch` to download it",
        dir.display(),
        sigv4["version"]
    );
    dir
}

/// A file of the suite, without the trailing newline its expected values are compared without.
fn read(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
        .replace("\r\n", "\n")
        .trim_end()
        .to_owned()
}

/// context.json: the credentials, the settings and the signing time.
fn context(json: &str) -> (Credentials, SigningSettings, SystemTime) {
    let context: Value = serde_json::from_str(json).unwrap();
    let field = |name: &str| context[name].as_str().unwrap().to_owned();
    let flag = |name: &str, default: bool| context[name].as_bool().unwrap_or(default);
    let credentials = &context["credentials"];
    let credentials = Credentials::new(
        credentials["access_key_id"].as_str().unwrap(),
        credentials["secret_access_key"].as_str().unwrap(),
        credentials["token"].as_str().map(str::to_owned),
        None,
        "test suite",
    );
    assert_eq!(field("service"), "service");
    assert_eq!(field("region"), "us-east-1");
    let mut settings = SigningSettings::default();
    // The suite's expected canonical requests encode the path once (`/example%20space/`), as S3
    // does; the cases that tell encodings apart are those with a space or UTF-8 in the path.
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = flag("normalize", true).into();
    settings.session_token_mode = if flag("omit_session_token", false) {
        SessionTokenMode::Exclude
    } else {
        SessionTokenMode::Include
    };
    settings.payload_checksum_kind = if flag("sign_body", true) {
        PayloadChecksumKind::XAmzSha256
    } else {
        PayloadChecksumKind::NoHeader
    };
    (credentials, settings, parse_time(&field("timestamp")))
}

/// `YYYY-MM-DDTHH:MM:SSZ` as a time, by the civil-from-days algorithm (Howard Hinnant's).
fn parse_time(text: &str) -> SystemTime {
    let number = |range: std::ops::Range<usize>| text[range].parse::<i64>().unwrap();
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = days * 86_400 + number(11..13) * 3600 + number(14..16) * 60 + number(17..19);
    crate::unix(u64::try_from(seconds).unwrap())
}

/// The `Signature=` value of an `Authorization` header or a signed request's text.
fn signature_of(text: &str) -> &str {
    let start = text.find("Signature=").expect("a signature") + "Signature=".len();
    text[start..].split_whitespace().next().unwrap()
}

struct Request {
    method: Method,
    uri: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// request.txt: a raw HTTP/1.1 request. `Host` becomes the URL's authority, so the signer takes
/// the host from the URL as it does for our requests; folded header lines (RFC 7230, section
/// 3.2.4) are joined with a space; bytes a URI cannot hold are percent-encoded, as the `url` crate
/// would before a request is sent.
fn parse_request(text: &str) -> Request {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let request_line = lines.next().unwrap();
    let (method, rest) = request_line.split_once(' ').unwrap();
    let (target, _version) = rest.rsplit_once(' ').unwrap();
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            let (_, value) = fields.last_mut().expect("a folded line follows a header");
            value.push(' ');
            value.push_str(line.trim());
        } else {
            let (name, value) = line.split_once(':').unwrap();
            fields.push((name.to_owned(), value.trim().to_owned()));
        }
    }
    let mut host = None;
    let mut headers = HeaderMap::new();
    for (name, value) in fields {
        if name.eq_ignore_ascii_case("host") {
            host = Some(value);
        } else {
            headers.append(
                HeaderName::try_from(name).unwrap(),
                HeaderValue::try_from(value).unwrap(),
            );
        }
    }
    let mut uri = format!("https://{}", host.expect("a Host header"));
    for &b in target.as_bytes() {
        if b.is_ascii_graphic() {
            uri.push(char::from(b));
        } else {
            write!(uri, "%{b:02X}").unwrap();
        }
    }
    Request {
        method: Method::from_bytes(method.as_bytes()).unwrap(),
        uri,
        headers,
        body: body.as_bytes().to_vec(),
    }
}
