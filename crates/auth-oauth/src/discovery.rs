//! `OpenID` Connect Discovery through `openidconnect`: the provider's endpoints and signing keys,
//! including the two endpoints Core leaves to other specifications (revocation, RFC 7009; device
//! authorization, RFC 8628), which `oidc-provider` and others list as additional metadata.

use auth_core::SafeUrl;
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{AdditionalProviderMetadata, IssuerUrl, ProviderMetadata};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::OAuthError;
use crate::http::{OidcHttp, require_secure};

/// The discovery fields beyond OpenID Connect Core that a CLI login needs.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(crate) struct ExtraMetadata {
    #[serde(default)]
    revocation_endpoint: Option<String>,
    #[serde(default)]
    device_authorization_endpoint: Option<String>,
}

impl AdditionalProviderMetadata for ExtraMetadata {}

type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// What discovery found: the endpoints (each https, or http on the loopback interface) and the
/// keys that sign ID tokens.
#[derive(Debug, Clone)]
pub(crate) struct Provider {
    pub(crate) issuer: IssuerUrl,
    pub(crate) authorization_endpoint: Url,
    pub(crate) token_endpoint: Url,
    pub(crate) revocation_endpoint: Option<Url>,
    pub(crate) device_authorization_endpoint: Option<Url>,
    /// Where an access token is exchanged for the claims of its user (`auth login --check`).
    pub(crate) userinfo_endpoint: Option<Url>,
    pub(crate) jwks: CoreJsonWebKeySet,
}

/// Fetches `<issuer>/.well-known/openid-configuration` and the key set it names. `openidconnect`
/// checks that the document's `issuer` is the one we asked for.
pub(crate) async fn discover(http: &reqwest::Client, issuer: &Url) -> Result<Provider, OAuthError> {
    require_secure(issuer)?;
    let shown = SafeUrl::new(issuer.as_str());
    let failed = |reason: String| OAuthError::Discovery {
        issuer: shown.clone(),
        reason,
    };
    // The issuer identifier is compared as a string, and the `url` crate always writes an empty
    // path as `/`: try the issuer without that slash first (most providers), then with it (Auth0).
    let mut candidates = vec![issuer.as_str().to_owned()];
    if issuer.path() == "/" && issuer.query().is_none() {
        candidates.insert(0, issuer.as_str().trim_end_matches('/').to_owned());
    }
    let client = OidcHttp(http);
    let mut last_mismatch = String::new();
    let mut found = None;
    for candidate in candidates {
        let issuer_url = IssuerUrl::new(candidate)
            .map_err(|err| failed(format!("invalid issuer URL: {err}")))?;
        match Metadata::discover_async(issuer_url.clone(), &client).await {
            Ok(metadata) => {
                found = Some((issuer_url, metadata));
                break;
            }
            // The document names another issuer (perhaps only by a trailing slash).
            Err(openidconnect::DiscoveryError::Validation(reason)) => last_mismatch = reason,
            Err(err) => return Err(failed(describe_chain(&err))),
        }
    }
    let (issuer_url, metadata) = found.ok_or_else(|| failed(last_mismatch))?;

    let endpoint = |name: &str, value: &str| -> Result<Url, OAuthError> {
        let url = Url::parse(value)
            .map_err(|err| failed(format!("its {name} {value:?} is not a URL: {err}")))?;
        require_secure(&url)?;
        Ok(url)
    };
    let token_endpoint = metadata
        .token_endpoint()
        .ok_or_else(|| failed("it lists no token_endpoint".to_owned()))?;
    let extra = metadata.additional_metadata();
    Ok(Provider {
        issuer: issuer_url,
        authorization_endpoint: endpoint(
            "authorization_endpoint",
            metadata.authorization_endpoint().as_str(),
        )?,
        token_endpoint: endpoint("token_endpoint", token_endpoint.as_str())?,
        revocation_endpoint: extra
            .revocation_endpoint
            .as_deref()
            .map(|value| endpoint("revocation_endpoint", value))
            .transpose()?,
        device_authorization_endpoint: extra
            .device_authorization_endpoint
            .as_deref()
            .map(|value| endpoint("device_authorization_endpoint", value))
            .transpose()?,
        userinfo_endpoint: metadata
            .userinfo_endpoint()
            .map(|value| endpoint("userinfo_endpoint", value.as_str()))
            .transpose()?,
        jwks: metadata.jwks().clone(),
    })
}

/// An error and its causes on one line.
pub(crate) fn describe_chain(err: &dyn std::error::Error) -> String {
    auth_core::error_chain(err)
}
