//! S3 in the CLI: the [`S3Options`] of a run (the config's `[s3-options.*]`, the `AWS_*`
//! variables, the AWS credential chain), and the chain's answers for `auth token` and
//! `auth status`.
//!
//! pixi's rule decides which keys sign a bucket's requests: a bucket with `[s3-options.BUCKET]`
//! in the config takes the keys stored with `auth login s3://BUCKET` and nothing else; a bucket
//! without takes the AWS credential chain. Our one addition: keys stored for a bucket without
//! `s3-options` are used before the chain (a login names the bucket, so it is meant for it).

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context as _;
use async_trait::async_trait;
use auth_core::{Authentication, Placement, Secret, redact_url};
use auth_middleware::{AwsCredentials, AwsCredentialsError, S3Options};
use auth_s3::{AwsChain, S3Settings, Source};
use aws_credential_types::Credentials;

use crate::config::Config;
use crate::env::Env;
use crate::resolve::Answer;

/// S3 settings from the config's `[s3-options.*]` and the `AWS_*` variables, and the AWS
/// credential chain over `http` for the buckets without `s3-options`.
pub(crate) fn s3_options(
    env: &Env,
    config: &Config,
    http: reqwest::Client,
) -> anyhow::Result<S3Options> {
    let get = |name: &str| env.aws.get(name).map(|value| value.expose().clone());
    let default = S3Settings::from_env(get).context("the AWS_* variables are not valid")?;
    let mut options = S3Options {
        default,
        aws: Some(Arc::new(ChainCredentials(chain(env, http)))),
        ..S3Options::default()
    };
    for (bucket, bucket_config) in &config.s3_options {
        let endpoint = match &bucket_config.endpoint_url {
            Some(url) => Some(url.parse().with_context(|| {
                format!(
                    "the config file: s3-options.{bucket}.endpoint-url is not a URL: {}",
                    redact_url(url)
                )
            })?),
            None => None,
        };
        options.buckets.insert(
            bucket.clone(),
            S3Settings {
                region: bucket_config.region.clone(),
                endpoint,
                force_path_style: bucket_config.force_path_style,
            },
        );
    }
    Ok(options)
}

/// The AWS credential chain on this process's `AWS_*` variables and home directory. Nothing is
/// read until it is asked.
pub(crate) fn chain(env: &Env, http: reqwest::Client) -> AwsChain {
    let mut variables: BTreeMap<String, String> = env
        .aws
        .iter()
        .map(|(name, value)| (name.clone(), value.expose().clone()))
        .collect();
    // The SDK finds ~/.aws/config and the SSO token cache through HOME.
    if let Some(home) = env.home.as_ref().and_then(|home| home.to_str()) {
        variables.insert("HOME".to_owned(), home.to_owned());
    }
    AwsChain::new(variables, http, auth_middleware::system_clock())
}

/// The chain as the middleware's source of keys.
#[derive(Debug)]
struct ChainCredentials(AwsChain);

#[async_trait]
impl AwsCredentials for ChainCredentials {
    async fn credentials(&self) -> Result<(Credentials, String), AwsCredentialsError> {
        let (credentials, source) = self.0.credentials().await?;
        Ok((credentials, source.to_string()))
    }
}

/// What `auth token s3://BUCKET/…` answers when nothing is stored for the bucket: as a
/// download, the chain's keys for a bucket without `s3-options`, else what to log in to.
pub(crate) fn unstored(
    env: &Env,
    config: &Config,
    bucket: &str,
    not_stored: impl FnOnce() -> String,
) -> anyhow::Result<Answer> {
    if config.s3_options.contains_key(bucket) {
        return Ok(Answer::NotStored {
            message: format!(
                "{}; the config has [s3-options.{bucket}], so, as in pixi, only keys stored for \
                 the bucket sign its requests and the AWS credential chain is not asked",
                not_stored()
            ),
        });
    }
    let http = auth_middleware::reqwest_client(reqwest::Client::builder())
        .context("could not set up the HTTP client")?;
    let chain = chain(env, http);
    let runtime = crate::oauth::runtime()?;
    if runtime.block_on(chain.describe()) == Source::Nothing {
        return Ok(Answer::NotStored {
            message: format!(
                "{}, and the AWS credential chain has no source (nothing is configured and \
                 AWS_EC2_METADATA_DISABLED is set)",
                not_stored()
            ),
        });
    }
    let (credentials, source) = runtime.block_on(chain.credentials()).with_context(|| {
        format!("no S3 credentials for s3://{bucket} from the AWS credential chain")
    })?;
    tracing::info!("the AWS credential chain gave keys for s3://{bucket} from {source}");
    Ok(Answer::Send {
        auth: Authentication::S3Credentials {
            access_key_id: credentials.access_key_id().to_owned(),
            secret_access_key: Secret::new(credentials.secret_access_key().to_owned()),
            session_token: credentials
                .session_token()
                .map(|token| Secret::new(token.to_owned())),
        },
        placement: Placement::S3Signature,
        source: source.to_string(),
    })
}

/// `auth status`'s line for the chain: `("aws", "for s3:// buckets without s3-options: AWS
/// profile `conda` (SSO)")`. Only the variables and the profile files are read; no STS, SSO or
/// metadata call is made. `None` when nothing of AWS is configured (the chain would only try
/// instance metadata): a machine that never uses S3 gets no line about it, and on EC2 `auth
/// token s3://…` says where its keys came from.
pub(crate) fn status_source(env: &Env) -> Option<(String, String)> {
    let http = auth_middleware::reqwest_client(reqwest::Client::builder());
    let described = match (http, crate::oauth::runtime()) {
        (Ok(http), Ok(runtime)) => runtime.block_on(chain(env, http).describe()),
        _ => return Some(("aws".to_owned(), "not resolved".to_owned())),
    };
    if matches!(described, Source::InstanceMetadata | Source::Nothing) {
        return None;
    }
    Some((
        "aws".to_owned(),
        format!("for s3:// buckets without s3-options: {described}"),
    ))
}
