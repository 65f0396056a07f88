//! The chain at work: the OAuth refresher with its lock beside the credentials file (`oauth`),
//! the AWS credential chain on the caller's variables (`s3`), and the middleware built as
//! `auth fetch` builds it (`middleware`).

#[cfg(feature = "oauth")]
use std::sync::Arc;

#[cfg(feature = "s3")]
use crate::ChainEnv;
#[cfg(feature = "oauth")]
use crate::DefaultChain;

#[cfg(feature = "oauth")]
impl DefaultChain {
    /// The OAuth refresher for this chain: one refresh per key per process, and one across the
    /// processes that share the credentials file (its lock is in [`DefaultChain::lock_dir`]).
    /// `now` is Unix seconds; share one refresher per process.
    pub fn refresher(
        &self,
        http: reqwest::Client,
        now: auth_oauth::Now,
    ) -> Arc<auth_oauth::Refresher> {
        auth_oauth::Refresher::with_margin(http, &self.lock_dir, now, self.refresh_margin)
    }
}

#[cfg(feature = "s3")]
impl ChainEnv {
    /// The AWS SDK's credential chain on these `AWS_*` variables and `HOME` (for
    /// `~/.aws/config` and the SSO token cache), over `http`. Nothing is read until it is asked.
    pub fn aws_chain(
        &self,
        http: reqwest::Client,
        clock: auth_s3::ChainClock,
    ) -> auth_s3::AwsChain {
        let mut variables: std::collections::BTreeMap<String, String> = self
            .aws
            .iter()
            .map(|(name, value)| (name.clone(), value.expose().clone()))
            .collect();
        if let Some(home) = self.home.as_ref().and_then(|home| home.to_str()) {
            variables.insert("HOME".to_owned(), home.to_owned());
        }
        auth_s3::AwsChain::new(variables, http, clock)
    }
}

/// The AWS credential chain as the middleware's source of keys for buckets with nothing stored.
#[cfg(all(feature = "s3", feature = "middleware"))]
#[derive(Debug)]
pub struct AwsChainCredentials(pub auth_s3::AwsChain);

#[cfg(all(feature = "s3", feature = "middleware"))]
#[async_trait::async_trait]
impl auth_middleware::AwsCredentials for AwsChainCredentials {
    async fn credentials(
        &self,
    ) -> Result<(aws_credential_types::Credentials, String), auth_middleware::BoxError> {
        let (credentials, source) = self.0.credentials().await?;
        Ok((credentials, source.to_string()))
    }
}

#[cfg(feature = "middleware")]
mod middleware {
    use auth_middleware::{AuthMiddleware, Clock, S3Options};

    use crate::{ChainEnv, ChainError, DefaultChain};

    impl DefaultChain {
        /// The middleware `auth fetch` uses on this chain: S3 settings from the `AWS_*`
        /// variables, and with the `s3` feature the AWS credential chain for buckets with
        /// nothing stored; with the `oauth` feature, OAuth tokens refreshed before they are sent
        /// (through `http`, which should be built by [`auth_middleware::reqwest_client`]).
        pub fn middleware(
            &self,
            env: &ChainEnv,
            http: &reqwest::Client,
            clock: Clock,
        ) -> Result<AuthMiddleware, ChainError> {
            let get = |name: &str| env.aws.get(name).map(|value| value.expose().clone());
            let default = auth_s3::S3Settings::from_env(get).map_err(ChainError::AwsSettings)?;
            #[cfg_attr(not(feature = "s3"), allow(unused_mut))]
            let mut s3 = S3Options {
                default,
                ..S3Options::default()
            };
            #[cfg(feature = "s3")]
            {
                s3.aws = Some(std::sync::Arc::new(crate::AwsChainCredentials(
                    env.aws_chain(http.clone(), clock.clone()),
                )));
            }
            #[cfg(feature = "oauth")]
            let refresher = self.refresher(http.clone(), unix_seconds(clock.clone()));
            #[cfg(not(any(feature = "s3", feature = "oauth")))]
            let _ = http;
            let middleware = AuthMiddleware::new(self.chain.clone(), clock).with_s3(s3);
            #[cfg(feature = "oauth")]
            let middleware = middleware.with_refresher(refresher);
            Ok(middleware)
        }

        /// A client whose every request carries the credential stored for its URL: `http`
        /// (from [`auth_middleware::reqwest_client`]) with [`DefaultChain::middleware`].
        pub fn client(
            &self,
            env: &ChainEnv,
            http: reqwest::Client,
            clock: Clock,
        ) -> Result<reqwest_middleware::ClientWithMiddleware, ChainError> {
            let middleware = self.middleware(env, &http, clock)?;
            Ok(auth_middleware::with_middleware(http, middleware))
        }
    }

    /// Unix seconds from the middleware's clock, as the refresher counts them.
    #[cfg(feature = "oauth")]
    fn unix_seconds(clock: Clock) -> auth_oauth::Now {
        std::sync::Arc::new(move || {
            clock()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| {
                    i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
                })
        })
    }
}
