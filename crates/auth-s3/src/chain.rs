//! `AwsChain`: the AWS SDK's default credential chain (`aws-config`), as pixi and rattler use it,
//! run on the environment the caller passes in and over the caller's reqwest client, with the
//! temporary credentials it yields cached per process and renewed before they expire.
//!
//! The chain, in the SDK's order: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`; the profile
//! `AWS_PROFILE` (else `default`) of `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE` (static
//! keys, `credential_process`, `role_arn` with `source_profile` or `credential_source`, IAM
//! Identity Center (SSO) with its token cache, `web_identity_token_file`); web identity from
//! `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`; ECS container credentials; EC2 instance
//! metadata (`IMDSv2`). [`AwsChain::describe`] says which of them a request would use, from the
//! configuration alone, without asking any of them for keys.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_config::profile::ProfileSet;
#[allow(
    deprecated,
    reason = "the alias profile::load takes; its new name is in aws-runtime, not a dependency"
)]
use aws_config::profile::profile_file::ProfileFiles;
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use aws_smithy_async::time::TimeSource;
use aws_types::os_shim_internal::{Env, Fs};
use aws_types::region::Region;

use crate::DEFAULT_REGION;

/// How long before their expiry cached credentials are renewed. The SDK's own identity cache
/// renews a few seconds early; five minutes leave room for a long download's later requests.
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_mins(5);

/// Where the time comes from, for credential expiry and the SDK's signing of STS calls.
pub type ChainClock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The AWS SDK's default credential chain; see the module documentation. Nothing is read and no
/// request is made until credentials are first asked for (or [`AwsChain::describe`] is called).
pub struct AwsChain {
    env: HashMap<String, String>,
    http: reqwest::Client,
    clock: ChainClock,
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The SDK's chain, built on first use.
    provider: Option<(SharedCredentialsProvider, Source)>,
    /// The last credentials it gave, and from where.
    cached: Option<(Credentials, Source)>,
}

impl fmt::Debug for AwsChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The variables hold keys: only their names.
        f.debug_struct("AwsChain")
            .field("variables", &self.env.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Which source of the chain a request would take its keys from, without the keys: what
/// `auth status` and `auth token -v` show.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`.
    Environment,
    /// A profile of the AWS config or credentials file.
    Profile {
        /// The profile's name.
        name: String,
        /// What kind of credentials the profile holds.
        kind: ProfileKind,
    },
    /// `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (EKS, GitHub Actions OIDC).
    WebIdentity {
        /// The role assumed.
        role_arn: String,
    },
    /// The ECS container credentials endpoint (`AWS_CONTAINER_CREDENTIALS_*_URI`).
    Container,
    /// EC2 instance metadata (`IMDSv2`).
    InstanceMetadata,
    /// None: instance metadata is switched off (`AWS_EC2_METADATA_DISABLED`) and nothing else
    /// is configured.
    Nothing,
}

/// What a profile holds, as the SDK reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProfileKind {
    /// `aws_access_key_id` and `aws_secret_access_key`.
    Static,
    /// `credential_process`.
    Process,
    /// `role_arn` with `source_profile` or `credential_source`.
    AssumeRole {
        /// The role assumed.
        role_arn: String,
        /// `source_profile NAME` or `credential_source NAME`.
        from: String,
    },
    /// `role_arn` with `web_identity_token_file`.
    WebIdentity {
        /// The role assumed.
        role_arn: String,
    },
    /// IAM Identity Center: `sso_session` or `sso_start_url`.
    Sso,
    /// A profile named by `AWS_PROFILE` that is in neither file.
    Missing,
    /// A profile with none of the settings above.
    Other,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Environment => f.write_str("environment (AWS_ACCESS_KEY_ID)"),
            Source::Profile { name, kind } => match kind {
                ProfileKind::Static => write!(f, "AWS profile `{name}` (static keys)"),
                ProfileKind::Process => write!(f, "credential_process of profile `{name}`"),
                ProfileKind::AssumeRole { role_arn, from } => {
                    write!(f, "AWS profile `{name}` (assume role {role_arn}, {from})")
                }
                ProfileKind::WebIdentity { role_arn } => {
                    write!(f, "AWS profile `{name}` (web identity, role {role_arn})")
                }
                ProfileKind::Sso => write!(f, "AWS profile `{name}` (SSO)"),
                ProfileKind::Missing => {
                    write!(f, "AWS profile `{name}` (not in the AWS config files)")
                }
                ProfileKind::Other => write!(f, "AWS profile `{name}`"),
            },
            Source::WebIdentity { role_arn } => write!(f, "web identity, role {role_arn}"),
            Source::Container => f.write_str("container credentials"),
            Source::InstanceMetadata => f.write_str("instance metadata"),
            Source::Nothing => f.write_str("nothing (instance metadata is disabled)"),
        }
    }
}

/// Why the chain gave no credentials, with what to do.
#[derive(Debug, thiserror::Error)]
#[error("{source_name} gave no AWS credentials{hint}")]
pub struct ChainError {
    /// The source the chain was expected to use.
    source_name: Source,
    /// What to run, if we know (`; run aws sso login --profile NAME`).
    hint: String,
    #[source]
    cause: CredentialsError,
}

impl ChainError {
    /// The source the chain was expected to use.
    pub fn expected_source(&self) -> &Source {
        &self.source_name
    }
}

impl AwsChain {
    /// A chain that reads these variables (`HOME` and the `AWS_*` ones; the process environment
    /// is never read) and real files, and talks through `http` (built with no redirects, like
    /// the downloads' own client).
    pub fn new(
        variables: BTreeMap<String, String>,
        http: reqwest::Client,
        clock: ChainClock,
    ) -> Self {
        Self {
            env: variables
                .into_iter()
                .filter(|(_, value)| !value.is_empty())
                .collect(),
            http,
            clock,
            state: tokio::sync::Mutex::default(),
        }
    }

    /// Which source a request would use, from the variables and the profile files alone: no
    /// STS, SSO or metadata call is made.
    pub async fn describe(&self) -> Source {
        let profiles = self.profiles().await;
        self.describe_with(profiles.as_ref())
    }

    /// Credentials: the cached ones while they have more than [`REFRESH_BEFORE_EXPIRY`] left,
    /// else new ones from the chain (one caller at a time; the others wait and share them).
    /// Returns where they came from with them.
    pub async fn credentials(&self) -> Result<(Credentials, Source), ChainError> {
        let mut state = self.state.lock().await;
        let now = (self.clock)();
        if let Some(cached) = &state.cached
            && cached
                .0
                .expiry()
                .is_none_or(|expiry| expiry > now + REFRESH_BEFORE_EXPIRY)
        {
            return Ok(cached.clone());
        }
        let (provider, source) = if let Some(built) = &state.provider {
            built.clone()
        } else {
            let built = self.build().await;
            state.provider = Some(built.clone());
            built
        };
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|cause| explain(source.clone(), cause))?;
        tracing::debug!(
            source = %source,
            expires = ?credentials.expiry(),
            "the AWS credential chain gave credentials"
        );
        state.cached = Some((credentials.clone(), source.clone()));
        Ok((credentials, source))
    }

    async fn build(&self) -> (SharedCredentialsProvider, Source) {
        let profiles = self.profiles().await;
        let source = self.describe_with(profiles.as_ref());
        let region = self
            .var("AWS_REGION")
            .or_else(|| self.var("AWS_DEFAULT_REGION"))
            .or_else(|| profiles.as_ref().and_then(|set| set.get("region")))
            .unwrap_or(DEFAULT_REGION)
            .to_owned();
        let config = aws_config::defaults(BehaviorVersion::latest())
            .env(Env::from(self.env.clone()))
            .fs(Fs::real())
            .http_client(crate::aws_http::http_client(self.http.clone()))
            .time_source(Clock(Arc::clone(&self.clock)))
            // Given, so loading the config never asks instance metadata for a region.
            .region(Region::new(region))
            .load()
            .await;
        let provider = config
            .credentials_provider()
            .unwrap_or_else(|| SharedCredentialsProvider::new(NoProvider));
        (provider, source)
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str)
    }

    /// The profile files as the SDK reads them; `None` when they cannot be read (the chain
    /// then reports why).
    async fn profiles(&self) -> Option<ProfileSet> {
        let env = Env::from(self.env.clone());
        let override_name = self
            .var("AWS_PROFILE")
            .map(|name| Cow::Owned(name.to_owned()));
        #[allow(deprecated, reason = "ProfileFiles is what profile::load takes")]
        let files = ProfileFiles::default();
        match aws_config::profile::load(&Fs::real(), &env, &files, override_name).await {
            Ok(set) => Some(set),
            Err(err) => {
                tracing::debug!("the AWS config files could not be read: {err}");
                None
            }
        }
    }

    fn describe_with(&self, profiles: Option<&ProfileSet>) -> Source {
        if self.var("AWS_ACCESS_KEY_ID").is_some() && self.var("AWS_SECRET_ACCESS_KEY").is_some() {
            return Source::Environment;
        }
        let name = self.var("AWS_PROFILE").unwrap_or("default");
        match profiles.and_then(|set| set.get_profile(name)) {
            Some(profile) => {
                let get = |key: &str| profile.get(key).map(str::to_owned);
                let kind = if let Some(role_arn) = get("role_arn") {
                    if get("web_identity_token_file").is_some() {
                        ProfileKind::WebIdentity { role_arn }
                    } else {
                        let from = get("source_profile")
                            .map(|from| format!("source_profile `{from}`"))
                            .or_else(|| {
                                get("credential_source")
                                    .map(|from| format!("credential_source {from}"))
                            })
                            .unwrap_or_default();
                        ProfileKind::AssumeRole { role_arn, from }
                    }
                } else if get("sso_session").is_some() || get("sso_start_url").is_some() {
                    ProfileKind::Sso
                } else if get("credential_process").is_some() {
                    ProfileKind::Process
                } else if get("aws_access_key_id").is_some() {
                    ProfileKind::Static
                } else {
                    ProfileKind::Other
                };
                return Source::Profile {
                    name: name.to_owned(),
                    kind,
                };
            }
            None if self.var("AWS_PROFILE").is_some() => {
                return Source::Profile {
                    name: name.to_owned(),
                    kind: ProfileKind::Missing,
                };
            }
            None => {}
        }
        if let (Some(_), Some(role_arn)) = (
            self.var("AWS_WEB_IDENTITY_TOKEN_FILE"),
            self.var("AWS_ROLE_ARN"),
        ) {
            return Source::WebIdentity {
                role_arn: role_arn.to_owned(),
            };
        }
        if self.var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").is_some()
            || self.var("AWS_CONTAINER_CREDENTIALS_FULL_URI").is_some()
        {
            return Source::Container;
        }
        if self
            .var("AWS_EC2_METADATA_DISABLED")
            .is_some_and(|value| value.eq_ignore_ascii_case("true"))
        {
            return Source::Nothing;
        }
        Source::InstanceMetadata
    }
}

impl ProvideCredentials for AwsChain {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.credentials()
                .await
                .map(|(credentials, _)| credentials)
                .map_err(CredentialsError::provider_error)
        })
    }
}

/// The chain's error with the source it was expected to use and, for an SSO profile, the
/// command that starts a new session.
fn explain(source: Source, cause: CredentialsError) -> ChainError {
    let hint = match &source {
        Source::Profile {
            name,
            kind: ProfileKind::Sso,
        } => format!(
            "; the SSO session may have expired or never been started: run `aws sso login \
             --profile {name}`"
        ),
        Source::Profile {
            name,
            kind: ProfileKind::Missing,
        } => format!(
            "; add a [profile {name}] to the AWS config file (AWS_CONFIG_FILE, else \
             ~/.aws/config) or unset AWS_PROFILE"
        ),
        Source::InstanceMetadata | Source::Nothing => {
            "; set AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or store keys with \
             `auth login s3://BUCKET`"
                .to_owned()
        }
        _ => String::new(),
    };
    ChainError {
        source_name: source,
        hint,
        cause,
    }
}

/// The caller's clock as the SDK's time source.
#[derive(Clone)]
struct Clock(ChainClock);

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

impl TimeSource for Clock {
    fn now(&self) -> SystemTime {
        (self.0)()
    }
}

/// What the chain is when the SDK builds none (it always does with its defaults).
#[derive(Debug)]
struct NoProvider;

impl ProvideCredentials for NoProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
            "the AWS SDK configured no credential chain",
        )))
    }
}
