//! The AWS credential chain end to end: a machine with only an AWS profile (static keys,
//! `credential_process`, assume role, web identity) downloads `s3://` objects through
//! `auth fetch`, each from a server that verifies the signature: s3s-fs for keys we know
//! beforehand, moto's own S3 (authentication on) for the keys moto's STS mints. pixi's rule on
//! both sides, what `auth status` and `auth token` say about the source, the SSO hint, and no
//! key, secret or session token in any output at `-vvvv`.

use std::path::{Path, PathBuf};

use auth_tests::peers::moto::{ROLE_ARN, SETUP_ACTIONS_WITH_USER, SETUP_ACTIONS_WITHOUT_USER};
use auth_tests::peers::{Moto, S3};
use auth_tests::{Run, Sandbox};

use crate::leaks::forms_for;

const BUCKET: &str = "conda-bucket";
const OBJECT: &str = "noarch/repodata.json";
const BODY: &str = "{\"packages\": {}}\n";
const ACCESS_KEY: &str = "AKIDPROFILE0001";
const SECRET_KEY: &str = "pr0file/secret+key=1";

/// A machine with no AWS setup but the `AWS_*` variables given here: no instance metadata (the
/// chain would otherwise try 169.254.169.254), region us-east-1.
fn aws_sandbox() -> Sandbox {
    let mut sandbox = Sandbox::new();
    sandbox
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1");
    sandbox
}

/// Writes `contents` at `path` under the sandbox's home and returns the path.
fn write(sandbox: &Sandbox, path: &str, contents: &str) -> PathBuf {
    let path = sandbox.home().join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, contents).unwrap();
    path
}

/// Points the sandbox's AWS config and credentials files at these contents.
fn profiles(sandbox: &mut Sandbox, config: &str, credentials: &str) {
    let config = write(sandbox, "aws/config", config);
    let credentials = write(sandbox, "aws/credentials", credentials);
    sandbox
        .env("AWS_CONFIG_FILE", config)
        .env("AWS_SHARED_CREDENTIALS_FILE", credentials);
}

/// An s3s-fs server accepting only `ACCESS_KEY`/`SECRET_KEY`, with `BUCKET/OBJECT`.
fn s3s() -> S3 {
    let s3 = S3::start(ACCESS_KEY, SECRET_KEY);
    s3.create_bucket(BUCKET);
    s3.put_file(BUCKET, OBJECT, BODY.as_bytes());
    s3
}

fn url() -> String {
    format!("s3://{BUCKET}/{OBJECT}")
}

/// Runs `auth ARGS` and checks that no form of any secret is in its output (`auth token`'s
/// stdout excepted, which is the secret by design: pass `stdout_is_secret`).
fn run_clean(sandbox: &Sandbox, args: &[&str], secrets: &[&str], stdout_is_secret: bool) -> Run {
    let run = sandbox.run(args);
    let output = if stdout_is_secret {
        run.stderr.clone()
    } else {
        run.all_output()
    };
    for secret in secrets {
        for form in forms_for(secret, &[]) {
            assert!(
                !output.contains(&form),
                "`auth {}` printed a form of a secret ({form}):\n{output}",
                args.join(" ")
            );
        }
    }
    run
}

fn assert_downloaded(run: &Run) {
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, BODY, "{run:?}");
}

fn stderr_has(run: &Run, text: &str) {
    assert!(
        run.stderr.contains(text),
        "stderr lacks {text:?}:\n{}",
        run.stderr
    );
}

/// The `aws` line of `auth status`: where buckets without s3-options take keys from.
fn status_source(sandbox: &Sandbox) -> String {
    let status = sandbox.run(&["status"]);
    status
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("aws: "))
        .unwrap_or_else(|| panic!("no `aws:` line in `auth status`:\n{status:?}"))
        .to_owned()
}

#[test]
fn a_static_profile_signs_downloads_and_status_and_token_name_it() {
    let s3 = s3s();
    let mut sandbox = aws_sandbox();
    profiles(
        &mut sandbox,
        "[profile conda]\nregion = us-east-1\n",
        &format!(
            "[conda]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
        ),
    );
    sandbox
        .env("AWS_PROFILE", "conda")
        .env("AWS_ENDPOINT_URL_S3", s3.endpoint());
    let secrets = [SECRET_KEY];

    let fetched = run_clean(&sandbox, &["fetch", &url(), "-vvvv"], &secrets, false);
    assert_downloaded(&fetched);
    stderr_has(&fetched, "keys from AWS profile `conda` (static keys)");

    assert_eq!(
        status_source(&sandbox),
        "for s3:// buckets without s3-options: AWS profile `conda` (static keys)"
    );
    let json = sandbox.run(&["status", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let row = json["stores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|store| store["name"] == "aws")
        .expect("an `aws` row in the JSON");
    assert_eq!(
        row["location"],
        "for s3:// buckets without s3-options: AWS profile `conda` (static keys)"
    );

    // `auth token` answers as a download: the secret access key on stdout, the source at -v.
    let token = run_clean(&sandbox, &["token", &url(), "-v"], &secrets, true);
    assert_eq!(token.code, 0, "{token:?}");
    assert_eq!(token.stdout, format!("{SECRET_KEY}\n"));
    stderr_has(&token, "AWS profile `conda` (static keys)");

    // The same profile with a wrong secret: s3s-fs refuses it, and the error names the source.
    profiles(
        &mut sandbox,
        "[profile conda]\nregion = us-east-1\n",
        &format!(
            "[conda]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = wrong-secret-9\n"
        ),
    );
    let refused = run_clean(&sandbox, &["fetch", &url()], &["wrong-secret-9"], false);
    assert_eq!(refused.code, 3, "{refused:?}");
    stderr_has(
        &refused,
        "rejected the credential for s3://conda-bucket from AWS profile `conda` (static keys) \
         (HTTP 403)",
    );
}

#[test]
fn credential_process_is_run_and_its_keys_sign_the_download() {
    let s3 = s3s();
    let mut sandbox = aws_sandbox();
    let script = write(
        &sandbox,
        "bin/aws-keys",
        &format!(
            "#!/bin/sh\necho run >> \"$HOME/process-runs\"\nprintf '%s' '{{\"Version\": 1, \
             \"AccessKeyId\": \"{ACCESS_KEY}\", \"SecretAccessKey\": \"{SECRET_KEY}\"}}'\n"
        ),
    );
    make_executable(&script);
    profiles(
        &mut sandbox,
        &format!("[profile ci]\ncredential_process = {}\n", script.display()),
        "",
    );
    sandbox
        .env("AWS_PROFILE", "ci")
        .env("AWS_ENDPOINT_URL_S3", s3.endpoint());

    assert_eq!(
        status_source(&sandbox),
        "for s3:// buckets without s3-options: credential_process of profile `ci`"
    );
    // `status` described the profile without running its command.
    assert!(!sandbox.home().join("process-runs").exists());

    let fetched = run_clean(&sandbox, &["fetch", &url(), "-vvvv"], &[SECRET_KEY], false);
    assert_downloaded(&fetched);
    stderr_has(&fetched, "keys from credential_process of profile `ci`");
    let runs = std::fs::read_to_string(sandbox.home().join("process-runs")).unwrap();
    assert_eq!(runs, "run\n", "the command ran once");
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn assume_role_keys_from_motos_sts_download_from_motos_authenticated_s3() {
    let moto = Moto::start(SETUP_ACTIONS_WITH_USER);
    let (user_key, user_secret) = moto
        .create_reader(BUCKET, OBJECT, BODY, true)
        .expect("an access key of the IAM user");
    // Authentication is on from here: unsigned requests are refused.
    assert_eq!(moto.unsigned_get(BUCKET, OBJECT), 403);

    let mut sandbox = aws_sandbox();
    profiles(
        &mut sandbox,
        &format!("[profile reader]\nrole_arn = {ROLE_ARN}\nsource_profile = builder\n"),
        &format!(
            "[builder]\naws_access_key_id = {user_key}\naws_secret_access_key = {user_secret}\n"
        ),
    );
    sandbox
        .env("AWS_PROFILE", "reader")
        .env("AWS_ENDPOINT_URL_STS", moto.endpoint())
        .env("AWS_ENDPOINT_URL_S3", moto.endpoint());

    assert_eq!(
        status_source(&sandbox),
        format!(
            "for s3:// buckets without s3-options: AWS profile `reader` (assume role \
             {ROLE_ARN}, source_profile `builder`)"
        )
    );
    assert!(moto.minted().is_empty(), "status called STS");

    let fetched = sandbox.run(&["fetch", &url(), "-vvvv"]);
    assert_downloaded(&fetched);
    // moto's S3 verified the signature against the keys its STS minted, and the session token.
    let minted = moto.minted();
    assert_eq!(minted.len(), 1, "one AssumeRole: {minted:?}");
    check_clean(
        &fetched,
        &[
            user_secret.as_str(),
            minted[0].secret_access_key.as_str(),
            minted[0].session_token.as_str(),
        ],
    );
    stderr_has(&fetched, "keys from AWS profile `reader` (assume role");
}

fn check_clean(run: &Run, secrets: &[&str]) {
    let output = run.all_output();
    for secret in secrets {
        for form in forms_for(secret, &[]) {
            assert!(
                !output.contains(&form),
                "a form of a secret ({form}) is in the output:\n{output}"
            );
        }
    }
}

#[test]
fn web_identity_keys_from_motos_sts_download_from_motos_authenticated_s3() {
    // AssumeRoleWithWebIdentity is unsigned, which moto answers with 500 once authentication is
    // on: it is the last request of the unauthenticated count.
    let moto = Moto::start(SETUP_ACTIONS_WITHOUT_USER + 1);
    moto.create_reader(BUCKET, OBJECT, BODY, false);
    let mut sandbox = aws_sandbox();
    let token_value = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmNvbmRhIn0.c2lnbmF0dXJl";
    let token = write(&sandbox, "oidc/token", token_value);
    sandbox
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token)
        .env("AWS_ROLE_ARN", ROLE_ARN)
        .env("AWS_ROLE_SESSION_NAME", "github-actions")
        .env("AWS_ENDPOINT_URL_STS", moto.endpoint())
        .env("AWS_ENDPOINT_URL_S3", moto.endpoint());

    assert_eq!(
        status_source(&sandbox),
        format!("for s3:// buckets without s3-options: web identity, role {ROLE_ARN}")
    );

    let fetched = sandbox.run(&["fetch", &url(), "-vvvv"]);
    assert_downloaded(&fetched);
    // The GET came after the count: authentication was on for it.
    assert_eq!(moto.unsigned_get(BUCKET, OBJECT), 403);
    let minted = moto.minted();
    assert_eq!(minted.len(), 1, "one AssumeRoleWithWebIdentity: {minted:?}");
    check_clean(
        &fetched,
        &[
            token_value,
            minted[0].secret_access_key.as_str(),
            minted[0].session_token.as_str(),
        ],
    );
    stderr_has(
        &fetched,
        &format!("keys from web identity, role {ROLE_ARN}"),
    );
}

#[test]
fn pixis_rule_s3_options_take_stored_keys_only_and_other_buckets_the_chain() {
    let s3 = s3s();
    s3.create_bucket("other");
    s3.put_file("other", OBJECT, BODY.as_bytes());
    let mut sandbox = aws_sandbox();
    // A profile with the right keys, which a bucket with s3-options must not use.
    profiles(
        &mut sandbox,
        "",
        &format!(
            "[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
        ),
    );
    sandbox.env("AWS_ENDPOINT_URL_S3", s3.endpoint());
    write(
        &sandbox,
        ".config/auth/config.toml",
        &format!(
            "[s3-options.{BUCKET}]\nendpoint-url = \"{}\"\nregion = \"us-east-1\"\n",
            s3.endpoint()
        ),
    );
    let secrets = [SECRET_KEY];

    // With s3-options: the chain is not asked, whatever it holds.
    let refused = run_clean(&sandbox, &["fetch", &url(), "-vv"], &secrets, false);
    assert_eq!(refused.code, 4, "{refused:?}");
    stderr_has(&refused, &format!("no S3 credentials for s3://{BUCKET}/"));
    stderr_has(&refused, "the AWS credential chain is not asked");
    let token = run_clean(&sandbox, &["token", &url()], &secrets, false);
    assert_eq!(token.code, 4, "{token:?}");
    stderr_has(&token, &format!("the config has [s3-options.{BUCKET}]"));

    // ... but the keys stored for it.
    let login = sandbox.run(&[
        "login",
        &format!("s3://{BUCKET}"),
        "--s3-access-key-id",
        ACCESS_KEY,
        "--s3-secret-access-key",
        SECRET_KEY,
    ]);
    assert_eq!(login.code, 0, "{login:?}");
    assert_downloaded(&run_clean(&sandbox, &["fetch", &url()], &secrets, false));

    // Without s3-options and nothing stored: the chain (the default profile).
    let other = format!("s3://other/{OBJECT}");
    let chained = run_clean(&sandbox, &["fetch", &other, "-v"], &secrets, false);
    assert_downloaded(&chained);
    stderr_has(&chained, "keys from AWS profile `default` (static keys)");

    // Our addition: keys stored for a bucket without s3-options win over the chain (here a
    // profile with a wrong secret).
    profiles(
        &mut sandbox,
        "",
        &format!("[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = wrong-9\n"),
    );
    let denied = run_clean(&sandbox, &["fetch", &other], &secrets, false);
    assert_eq!(denied.code, 3, "the wrong profile is used: {denied:?}");
    let login = sandbox.run(&[
        "login",
        "s3://other",
        "--s3-access-key-id",
        ACCESS_KEY,
        "--s3-secret-access-key",
        SECRET_KEY,
    ]);
    assert_eq!(login.code, 0, "{login:?}");
    assert_downloaded(&run_clean(&sandbox, &["fetch", &other], &secrets, false));
}

#[test]
fn an_sso_profile_without_a_session_says_to_run_aws_sso_login() {
    let mut sandbox = aws_sandbox();
    profiles(
        &mut sandbox,
        "[profile conda]\nsso_session = company\nsso_account_id = 123456789012\n\
         sso_role_name = PowerUserAccess\nregion = eu-central-1\n\n\
         [sso-session company]\nsso_start_url = https://my-company.awsapps.com/start\n\
         sso_region = eu-central-1\n",
        "",
    );
    sandbox.env("AWS_PROFILE", "conda");
    assert_eq!(
        status_source(&sandbox),
        "for s3:// buckets without s3-options: AWS profile `conda` (SSO)"
    );
    // No token in ~/.aws/sso/cache: nothing is sent anywhere, the error says what to run.
    for args in [
        ["fetch", "s3://conda-bucket/noarch/repodata.json"],
        ["token", "s3://conda-bucket/x"],
    ] {
        let run = sandbox.run(&args);
        assert_ne!(run.code, 0, "{run:?}");
        stderr_has(&run, "AWS profile `conda` (SSO) gave no AWS credentials");
        stderr_has(&run, "run `aws sso login --profile conda`");
    }
}

/// The session token moto's instance metadata service hands out for `PUT /latest/api/token`
/// (`moto/instance_metadata/responses.py`).
const MOTO_IMDS_TOKEN: &str = "fake-imdsv2-token";

/// moto's instance metadata answers the `IMDSv2` token request without the
/// `x-aws-ec2-metadata-token-ttl-seconds` header, which the AWS SDK requires, so no download
/// can be signed with its keys; what is tested is the failure: it says why, and the token the
/// SDK's error carries in its raw response never reaches the output, at any verbosity.
#[test]
fn instance_metadata_that_fails_says_why_and_prints_no_token() {
    let moto = Moto::start(0);
    let mut sandbox = aws_sandbox();
    sandbox
        // An EC2 machine: no profile, no keys, instance metadata switched on and found at moto.
        .env("AWS_EC2_METADATA_DISABLED", "false")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", moto.endpoint());
    for verbosity in [None, Some("-v"), Some("-vvvv")] {
        let mut args = vec!["fetch", "s3://conda-bucket/noarch/repodata.json"];
        args.extend(verbosity);
        let failed = run_clean(&sandbox, &args, &[MOTO_IMDS_TOKEN], false);
        assert_eq!(failed.code, 4, "{failed:?}");
        stderr_has(&failed, "instance metadata gave no AWS credentials");
        stderr_has(&failed, "token response did not contain a TTL header");
    }
}
