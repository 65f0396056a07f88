//! `S3Url::parse` and `resolve`: which HTTP URL an `s3://` URL becomes.

use auth_s3::{S3Settings, S3Url, resolve};
use insta::assert_snapshot;
use url::Url;

/// The resolved URL, or the error.
fn check(url: &str, settings: &S3Settings) -> String {
    match S3Url::parse(url).and_then(|url| resolve(&url, settings)) {
        Ok(url) => url.to_string(),
        Err(err) => format!("error: {err}"),
    }
}

fn aws() -> S3Settings {
    S3Settings::default()
}

fn region(region: &str) -> S3Settings {
    S3Settings {
        region: Some(region.to_owned()),
        ..S3Settings::default()
    }
}

fn endpoint(endpoint: &str) -> S3Settings {
    S3Settings {
        endpoint: Some(Url::parse(endpoint).unwrap()),
        ..S3Settings::default()
    }
}

#[test]
fn virtual_hosted_by_default() {
    assert_snapshot!(check("s3://conda-mirror/linux-64/repodata.json", &aws()), @"https://conda-mirror.s3.us-east-1.amazonaws.com/linux-64/repodata.json");
    assert_snapshot!(check("s3://conda-mirror/noarch/a.conda", &region("eu-west-1")), @"https://conda-mirror.s3.eu-west-1.amazonaws.com/noarch/a.conda");
    assert_snapshot!(check("s3://conda-mirror/a", &region("cn-north-1")), @"https://conda-mirror.s3.cn-north-1.amazonaws.com.cn/a");
    assert_snapshot!(check("S3://conda-mirror/a", &aws()), @"https://conda-mirror.s3.us-east-1.amazonaws.com/a");
}

#[test]
fn path_style_when_forced() {
    let settings = S3Settings {
        force_path_style: true,
        ..region("eu-central-1")
    };
    assert_snapshot!(check("s3://conda-mirror/a/b", &settings), @"https://s3.eu-central-1.amazonaws.com/conda-mirror/a/b");
}

#[test]
fn path_style_on_an_endpoint() {
    assert_snapshot!(check("s3://bucket/a/b.json", &endpoint("http://localhost:9000")), @"http://localhost:9000/bucket/a/b.json");
    assert_snapshot!(check("s3://bucket/a/b.json", &endpoint("http://localhost:9000/")), @"http://localhost:9000/bucket/a/b.json");
    assert_snapshot!(check("s3://bucket/a", &endpoint("https://storage.example/s3")), @"https://storage.example/s3/bucket/a");
    assert_snapshot!(check("s3://bucket/a", &endpoint("https://storage.example/s3/")), @"https://storage.example/s3/bucket/a");
    // The endpoint wins over force_path_style and the region: it names the server.
    let settings = S3Settings {
        force_path_style: true,
        ..endpoint("https://storage.example:8443")
    }
    .or(&region("eu-west-1"));
    assert_snapshot!(check("s3://bucket/a", &settings), @"https://storage.example:8443/bucket/a");
}

#[test]
fn buckets_that_are_not_one_dns_label_use_path_style() {
    // `*.s3.us-east-1.amazonaws.com` does not cover `my.bucket.s3.us-east-1.amazonaws.com`.
    assert_snapshot!(check("s3://my.bucket/a", &aws()), @"https://s3.us-east-1.amazonaws.com/my.bucket/a");
    assert_snapshot!(check("s3://Legacy_Bucket/a", &aws()), @"https://s3.us-east-1.amazonaws.com/Legacy_Bucket/a");
}

#[test]
fn empty_key() {
    assert_snapshot!(check("s3://bucket", &aws()), @"https://bucket.s3.us-east-1.amazonaws.com/");
    assert_snapshot!(check("s3://bucket/", &aws()), @"https://bucket.s3.us-east-1.amazonaws.com/");
    assert_snapshot!(check("s3://bucket", &endpoint("http://localhost:9000")), @"http://localhost:9000/bucket/");
}

#[test]
fn keys_are_sent_in_the_encoding_sigv4_signs() {
    let url = S3Url::parse("s3://bucket/a b/c%20d").unwrap();
    assert_eq!(url.key(), "a b/c%20d", "the key is kept as given");
    // Spaces and reserved characters become %XX; existing escapes are kept, in upper case.
    assert_snapshot!(check("s3://bucket/a b/c%20d", &aws()), @"https://bucket.s3.us-east-1.amazonaws.com/a%20b/c%20d");
    assert_snapshot!(check("s3://bucket/x+y=z&(1)!*'", &aws()), @"https://bucket.s3.us-east-1.amazonaws.com/x%2By%3Dz%26%281%29%21%2A%27");
    assert_snapshot!(check("s3://bucket/%e1%88%b4/ሴ", &aws()), @"https://bucket.s3.us-east-1.amazonaws.com/%E1%88%B4/%E1%88%B4");
    assert_snapshot!(check("s3://bucket/100%/-._~", &aws()), @"https://bucket.s3.us-east-1.amazonaws.com/100%25/-._~");
    assert_snapshot!(check("s3://bucket/a//b", &endpoint("http://localhost:9000")), @"http://localhost:9000/bucket/a//b");
}

#[test]
fn query_is_kept_and_fragment_dropped() {
    let url = S3Url::parse("s3://bucket/a?versionId=3&x#frag").unwrap();
    assert_eq!(url.query(), Some("versionId=3&x"));
    assert_snapshot!(check("s3://bucket/?list-type=2&prefix=a%2Fb", &aws()), @"https://bucket.s3.us-east-1.amazonaws.com/?list-type=2&prefix=a%2Fb");
    assert_snapshot!(check("s3://bucket/a?versionId=3&x#frag", &endpoint("http://localhost:9000")), @"http://localhost:9000/bucket/a?versionId=3&x");
}

#[test]
fn parts() {
    let url = S3Url::parse("s3://bucket/dir/file.tar.bz2").unwrap();
    assert_eq!(
        (url.bucket(), url.key(), url.query()),
        ("bucket", "dir/file.tar.bz2", None)
    );
    assert_eq!(url.to_string(), "s3://bucket/dir/file.tar.bz2");
}

#[test]
fn invalid_s3_urls() {
    assert_snapshot!(check("s3:///key", &aws()), @"error: `s3:///key` is not a valid S3 URL: the bucket name is missing. Write it as s3://BUCKET/KEY");
    assert_snapshot!(check("s3://", &aws()), @"error: `s3://` is not a valid S3 URL: the bucket name is missing. Write it as s3://BUCKET/KEY");
    assert_snapshot!(check("https://bucket/key", &aws()), @"error: `https://bucket/key` is not a valid S3 URL: it does not start with `s3://`. Write it as s3://BUCKET/KEY");
    assert_snapshot!(check("bucket/key", &aws()), @"error: `bucket/key` is not a valid S3 URL: it does not start with `s3://`. Write it as s3://BUCKET/KEY");
    assert_snapshot!(check("s3://AKID:hunter2@bucket/key", &aws()), @"error: `s3://****@bucket/key` is not a valid S3 URL: it carries user information (`NAME@`); store credentials with `auth login` instead. Write it as s3://BUCKET/KEY");
    assert_snapshot!(check("s3://bucket:9000/key", &aws()), @"error: `s3://bucket:9000/key` is not a valid S3 URL: a bucket name has only letters, digits, `.`, `-` and `_` (no port). Write it as s3://BUCKET/KEY");
}

#[test]
fn keys_with_dot_segments_are_refused() {
    // A URL parser would send `s3://bucket/a/../b` to the object `b`.
    assert_snapshot!(check("s3://bucket/a/../b", &aws()), @"error: `s3://bucket/a/../b` is not a valid S3 URL: a key with a `.` or `..` segment cannot be reached over HTTP, whose URLs remove such segments. Write it as s3://BUCKET/KEY");
    assert_snapshot!(check("s3://bucket/a/%2e", &aws()), @"error: `s3://bucket/a/%2e` is not a valid S3 URL: a key with a `.` or `..` segment cannot be reached over HTTP, whose URLs remove such segments. Write it as s3://BUCKET/KEY");
    assert_snapshot!(check("s3://bucket/a/.../b.", &aws()), @"https://bucket.s3.us-east-1.amazonaws.com/a/.../b.");
}

#[test]
fn invalid_settings() {
    // A region is part of the host name: it must not be able to change the host.
    assert_snapshot!(check("s3://bucket/a", &region("evil.example/x")), @"error: `evil.example/x` is not a valid AWS region: a region has only lowercase letters, digits and `-` (like `us-east-1`). Set AWS_REGION or the bucket's region in the configuration");
    assert_snapshot!(check("s3://bucket/a", &endpoint("http://minio:hunter2@localhost:9000")), @"error: the S3 endpoint from the settings (`http://****@localhost:9000/`) is invalid: an endpoint carries no user name or password; store the credentials with `auth login`");
    assert_snapshot!(check("s3://bucket/a", &endpoint("ftp://localhost")), @"error: the S3 endpoint from the settings (`ftp://localhost/`) is invalid: an endpoint is an http:// or https:// URL with a host");
}
