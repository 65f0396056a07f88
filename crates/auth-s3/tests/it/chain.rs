//! `AwsChain` on real files and subprocesses: which source `describe` names for each kind of
//! configuration (without running or asking it), and the per-process cache of what
//! `credential_process` returns, renewed only when it is about to expire.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use auth_s3::{AwsChain, REFRESH_BEFORE_EXPIRY};

fn client() -> reqwest::Client {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    reqwest::Client::builder().build().unwrap()
}

#[allow(
    clippy::disallowed_methods,
    reason = "credential_process expiry times are checked against the real clock here"
)]
fn now() -> SystemTime {
    SystemTime::now()
}

/// A chain on `vars` (plus `HOME` = `home`, metadata off), with `config` as the AWS config file.
fn chain(home: &Path, config: &str, vars: &[(&str, &str)]) -> AwsChain {
    let config_path = home.join("config");
    std::fs::write(&config_path, config).unwrap();
    let mut variables: BTreeMap<String, String> = vars
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    variables.insert("HOME".to_owned(), home.display().to_string());
    variables.insert(
        "AWS_CONFIG_FILE".to_owned(),
        config_path.display().to_string(),
    );
    variables.insert(
        "AWS_SHARED_CREDENTIALS_FILE".to_owned(),
        home.join("credentials").display().to_string(),
    );
    variables
        .entry("AWS_EC2_METADATA_DISABLED".to_owned())
        .or_insert_with(|| "true".to_owned());
    AwsChain::new(variables, client(), Arc::new(now))
}

/// Which variables, on which profile file, give which description.
type DescribeCase = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

/// Profiles of every kind the chain tells apart.
const PROFILES: &str = "\
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secret

[profile sso]
sso_session = company
sso_account_id = 123456789012
sso_role_name = Reader

[sso-session company]
sso_start_url = https://company.awsapps.com/start
sso_region = eu-central-1

[profile legacy-sso]
sso_start_url = https://company.awsapps.com/start

[profile process]
credential_process = /bin/false

[profile role]
role_arn = arn:aws:iam::123456789012:role/reader
source_profile = default

[profile ec2-role]
role_arn = arn:aws:iam::123456789012:role/reader
credential_source = Ec2InstanceMetadata

[profile eks]
role_arn = arn:aws:iam::123456789012:role/reader
web_identity_token_file = /var/run/token

[profile empty]
region = eu-west-1
";

#[tokio::test]
async fn describe_names_each_source_without_asking_it() {
    let home = tempfile::tempdir().unwrap();
    let profiles = PROFILES;
    let cases: &[DescribeCase] = &[
        (
            profiles,
            &[
                ("AWS_ACCESS_KEY_ID", "AKID"),
                ("AWS_SECRET_ACCESS_KEY", "s"),
            ],
            "environment (AWS_ACCESS_KEY_ID)",
        ),
        (
            profiles,
            &[("AWS_ACCESS_KEY_ID", "AKID")],
            "AWS profile `default` (static keys)",
        ),
        (profiles, &[], "AWS profile `default` (static keys)"),
        (
            profiles,
            &[("AWS_PROFILE", "sso")],
            "AWS profile `sso` (SSO)",
        ),
        (
            profiles,
            &[("AWS_PROFILE", "legacy-sso")],
            "AWS profile `legacy-sso` (SSO)",
        ),
        (
            profiles,
            &[("AWS_PROFILE", "process")],
            "credential_process of profile `process`",
        ),
        (
            profiles,
            &[("AWS_PROFILE", "role")],
            "AWS profile `role` (assume role arn:aws:iam::123456789012:role/reader, source_profile `default`)",
        ),
        (
            profiles,
            &[("AWS_PROFILE", "ec2-role")],
            "AWS profile `ec2-role` (assume role arn:aws:iam::123456789012:role/reader, credential_source Ec2InstanceMetadata)",
        ),
        (
            profiles,
            &[("AWS_PROFILE", "eks")],
            "AWS profile `eks` (web identity, role arn:aws:iam::123456789012:role/reader)",
        ),
        (profiles, &[("AWS_PROFILE", "empty")], "AWS profile `empty`"),
        (
            profiles,
            &[("AWS_PROFILE", "nowhere")],
            "AWS profile `nowhere` (not in the AWS config files)",
        ),
        (
            "",
            &[
                ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
                ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci"),
            ],
            "web identity, role arn:aws:iam::123456789012:role/ci",
        ),
        (
            "",
            &[(
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "/v2/credentials/x",
            )],
            "container credentials",
        ),
        (
            "",
            &[(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "http://127.0.0.1:9/creds",
            )],
            "container credentials",
        ),
        (
            "",
            &[("AWS_EC2_METADATA_DISABLED", "false")],
            "instance metadata",
        ),
        ("", &[], "nothing (instance metadata is disabled)"),
    ];
    let mut failures = Vec::new();
    for (config, vars, expected) in cases {
        let described = chain(home.path(), config, vars)
            .describe()
            .await
            .to_string();
        if described != *expected {
            failures.push(format!("{vars:?}: {described} (expected {expected})"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A `credential_process` script that counts its runs in `runs` and answers keys expiring
/// `lifetime` from now.
fn process_profile(home: &Path, lifetime: Duration) -> String {
    let expires = now() + lifetime;
    let expires = expires
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let script = home.join("keys.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho run >> {runs}\nexpires=$(date -u -d @{expires} +%Y-%m-%dT%H:%M:%SZ)\n\
             printf '{{\"Version\": 1, \"AccessKeyId\": \"AKIDPROCESS\", \"SecretAccessKey\": \
             \"s3cr3t\", \"SessionToken\": \"t0ken\", \"Expiration\": \"%s\"}}' \"$expires\"\n",
            runs = home.join("runs").display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    format!("[default]\ncredential_process = {}\n", script.display())
}

fn runs(home: &Path) -> usize {
    std::fs::read_to_string(home.join("runs"))
        .unwrap_or_default()
        .lines()
        .count()
}

#[tokio::test]
async fn keys_are_cached_per_process_and_renewed_before_they_expire() {
    // An hour left: the second request takes the cached keys.
    let home = tempfile::tempdir().unwrap();
    let config = process_profile(home.path(), Duration::from_hours(1));
    let chain = chain(home.path(), &config, &[]);
    let (first, source) = chain.credentials().await.unwrap();
    assert_eq!(first.access_key_id(), "AKIDPROCESS");
    assert_eq!(first.session_token(), Some("t0ken"));
    assert_eq!(
        source.to_string(),
        "credential_process of profile `default`"
    );
    let (second, _) = chain.credentials().await.unwrap();
    assert_eq!(second.access_key_id(), first.access_key_id());
    assert_eq!(runs(home.path()), 1);

    // Less than REFRESH_BEFORE_EXPIRY left: every request asks the command again.
    let home = tempfile::tempdir().unwrap();
    let config = process_profile(home.path(), REFRESH_BEFORE_EXPIRY / 2);
    let chain = self::chain(home.path(), &config, &[]);
    chain.credentials().await.unwrap();
    chain.credentials().await.unwrap();
    assert_eq!(runs(home.path()), 2);
}

#[tokio::test]
async fn a_profile_that_is_not_there_says_where_to_add_it() {
    let home = tempfile::tempdir().unwrap();
    let chain = chain(home.path(), "", &[("AWS_PROFILE", "conda")]);
    let err = chain.credentials().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "AWS profile `conda` (not in the AWS config files) gave no AWS credentials; add a \
         [profile conda] to the AWS config file (AWS_CONFIG_FILE, else ~/.aws/config) or unset \
         AWS_PROFILE"
    );
}
