//! A real local AWS: PyPI `moto[server]` (`moto_server`, the standard AWS emulator) from the
//! venv `cargo xtask test` installs into `<target>/peers/motovenv`, on a loopback port, with its
//! request authentication switched on after the test's own setup requests
//! (`INITIAL_NO_AUTH_ACTION_COUNT`).
//!
//! With authentication on, moto's S3 checks the SigV4 signature of each request against the
//! keys its IAM and STS issued, and the `x-amz-security-token` against the session STS minted
//! with them (a wrong secret is `SignatureDoesNotMatch`, a wrong token `InvalidToken`, a missing
//! one `InvalidAccessKeyId`): a download from it proves the chain's keys, all three parts.
//! `AssumeRoleWithWebIdentity` is unsigned, and moto 5.2.5 fails with 500 on an unsigned request
//! once authentication is on, so a web-identity test leaves that one call inside the count.
//! The setup (bucket, object, role, user, access key) is done with `boto3` from the same venv.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::{INSTALL_ALL, http_get, target_dirs};
use crate::deadline::{Deadline, Watched, output_within};

/// The account moto puts everything in.
pub const ACCOUNT: &str = "123456789012";
/// The role [`Moto::create_reader`] creates: anyone may assume it (`AssumeRole` and
/// `AssumeRoleWithWebIdentity`) and it may do anything.
pub const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/reader";
/// How many requests the setup of [`Moto::create_reader`] makes without a signature moto knows.
pub const SETUP_ACTIONS_WITHOUT_USER: u32 = 4;
/// The same with the IAM user and its access key.
pub const SETUP_ACTIONS_WITH_USER: u32 = 7;

const SETUP: &str = r#"
import json, sys
import boto3
endpoint, bucket, key, body, with_user = sys.argv[1:6]
kw = dict(endpoint_url=endpoint, region_name="us-east-1",
          aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="setup")
s3 = boto3.client("s3", **kw)
iam = boto3.client("iam", **kw)
s3.create_bucket(Bucket=bucket)
s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"]}]}
allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
iam.create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps(trust))
iam.put_role_policy(RoleName="reader", PolicyName="all", PolicyDocument=json.dumps(allow))
out = {}
if with_user == "1":
    iam.create_user(UserName="builder")
    iam.put_user_policy(UserName="builder", PolicyName="all", PolicyDocument=json.dumps(allow))
    created = iam.create_access_key(UserName="builder")["AccessKey"]
    out = {"access_key_id": created["AccessKeyId"], "secret_access_key": created["SecretAccessKey"]}
print(json.dumps(out))
"#;

/// A running `moto_server`; dropping it kills it.
#[derive(Debug)]
pub struct Moto {
    process: Watched,
    port: u16,
    python: PathBuf,
}

/// Keys moto's STS minted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintedKeys {
    /// `ASIA…`.
    pub access_key_id: String,
    /// The secret.
    pub secret_access_key: String,
    /// The session token.
    pub session_token: String,
}

impl Moto {
    /// Starts moto on a free loopback port; the first `no_auth_actions` requests are not
    /// authenticated, every later one is. Returns once it answers.
    ///
    /// # Panics
    /// When the venv is missing (the message says to run `cargo xtask test`) or moto does not
    /// answer by the deadline.
    pub fn start(no_auth_actions: u32) -> Self {
        let bin = venv_bin();
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let process = Watched::spawn(
            Command::new(bin.join("moto_server"))
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env_clear()
                .env("INITIAL_NO_AUTH_ACTION_COUNT", no_auth_actions.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        );
        let moto = Self {
            process,
            port,
            python: bin.join("python"),
        };
        let deadline = Deadline::start();
        // The raw client panics on a refused connection: probe the port first.
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                && http_get(&moto.url("/moto-api/"), &[]).status == 200
            {
                break;
            }
            assert!(
                !deadline.passed(),
                "moto_server did not answer on port {port} within {:?}; its output:\n{}{}",
                deadline.total(),
                moto.process.stdout_so_far(),
                moto.process.stderr_so_far()
            );
            pause_briefly();
        }
        moto
    }

    /// `http://127.0.0.1:PORT`: the endpoint of every service (`AWS_ENDPOINT_URL_STS`,
    /// `AWS_ENDPOINT_URL_S3`).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint())
    }

    /// Creates `bucket` with `key` holding `body`, and the role [`ROLE_ARN`]; with `with_user`,
    /// also an IAM user allowed everything and returns its access key (id, secret), which sign
    /// an `AssumeRole`. Makes [`SETUP_ACTIONS_WITH_USER`] or [`SETUP_ACTIONS_WITHOUT_USER`]
    /// requests.
    ///
    /// # Panics
    /// When boto3 fails.
    pub fn create_reader(
        &self,
        bucket: &str,
        key: &str,
        body: &str,
        with_user: bool,
    ) -> Option<(String, String)> {
        let output = output_within(
            Command::new(&self.python)
                .args(["-c", SETUP, &self.endpoint(), bucket, key, body])
                .arg(if with_user { "1" } else { "0" })
                .env_clear()
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
            None,
            "boto3 to set up moto",
        );
        assert!(
            output.status.success(),
            "the boto3 setup of moto failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let value: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("the setup prints JSON");
        let field = |name: &str| value[name].as_str().map(str::to_owned);
        Some((field("access_key_id")?, field("secret_access_key")?))
    }

    /// Every key STS has minted so far, read from moto's own state (`/moto-api/data.json`).
    ///
    /// # Panics
    /// When moto's answer is not the JSON it documents.
    pub fn minted(&self) -> Vec<MintedKeys> {
        let response = http_get(&self.url("/moto-api/data.json"), &[]);
        assert_eq!(response.status, 200, "moto's data.json");
        let value: serde_json::Value =
            serde_json::from_slice(&response.body).expect("moto's data.json is JSON");
        value["sts"]["AssumedRole"]
            .as_array()
            .map(|roles| {
                roles
                    .iter()
                    .map(|role| MintedKeys {
                        access_key_id: role["access_key_id"].as_str().unwrap_or("").to_owned(),
                        secret_access_key: role["secret_access_key"]
                            .as_str()
                            .unwrap_or("")
                            .to_owned(),
                        session_token: role["session_token"].as_str().unwrap_or("").to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// An unsigned GET of `/BUCKET/KEY`: its status (403 once authentication is on).
    pub fn unsigned_get(&self, bucket: &str, key: &str) -> u16 {
        http_get(&self.url(&format!("/{bucket}/{key}")), &[]).status
    }
}

/// `<target>/peers/motovenv/bin`, or a panic that says how to install it.
fn venv_bin() -> PathBuf {
    let dirs = target_dirs();
    for dir in &dirs {
        let bin = dir.join("peers/motovenv/bin");
        if bin.join("moto_server").is_file() {
            return bin;
        }
    }
    panic!(
        "moto_server is not installed (looked in peers/motovenv/bin under {dirs:?}): {INSTALL_ALL} \
         (it makes the venv with `pip install 'moto[server]==5.2.5'`)"
    );
}

#[allow(
    clippy::disallowed_methods,
    reason = "a pause between two polls of moto's port; the deadline, not the pause, ends the wait"
)]
fn pause_briefly() {
    std::thread::sleep(std::time::Duration::from_millis(50));
}
