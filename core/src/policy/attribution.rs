//! Who asked: attribution values (`user.id`, `session.id`, `app.feature`, ...) from request headers, from the
//! claims of a JWT that Envoy verified, and from any host property (Istio's peer identity). Authenticated sources
//! win over a header naming the same attribute. Headers that carry credentials are refused at load.

use crate::config_error::{invalid, ConfigError};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Where each attribution value comes from, validated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AttributionConfig {
    /// Request headers whose values become span attributes: (attribute, lower-case header), in order.
    pub(crate) headers: Vec<(String, String)>,
    /// Host property paths (JWT claims in dynamic metadata, Istio peer identity) whose values become span
    /// attributes; authenticated, so they win over a header naming the same attribute.
    pub(crate) properties: Vec<(String, Vec<String>)>,
}

/// Attribute ← request header, unless the configuration says otherwise.
const DEFAULT_HEADERS: [(&str, &str); 5] = [
    ("user.id", "x-user-id"),
    ("session.id", "x-session-id"),
    ("app.feature", "x-feature"),
    ("app.prompt.version", "x-prompt-version"),
    ("app.user.tier", "x-user-tier"),
];

/// Headers that carry credentials: never exported as attribution.
const CREDENTIAL_HEADERS: [&str; 8] = [
    "authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "cookie",
    "proxy-authorization",
    // AWS SigV4: the session token; the signature itself travels in `authorization`.
    "x-amz-security-token",
    // Chroma's token auth.
    "x-chroma-token",
];

/// `attribution` as written in the configuration.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawAttribution {
    headers: BTreeMap<String, String>,
    /// Attribute ← claim of the JWT that Envoy's `jwt_authn` filter verified (its `payload_in_metadata`).
    jwt_claims: BTreeMap<String, String>,
    jwt_metadata_namespace: String,
    jwt_payload_key: String,
    /// Attribute ← any Envoy property path, e.g. Istio's peer workload.
    properties: BTreeMap<String, Vec<String>>,
}

impl Default for RawAttribution {
    fn default() -> Self {
        RawAttribution {
            headers: DEFAULT_HEADERS
                .iter()
                .map(|(a, h)| (a.to_string(), h.to_string()))
                .collect(),
            jwt_claims: BTreeMap::new(),
            jwt_metadata_namespace: "envoy.filters.http.jwt_authn".to_string(),
            jwt_payload_key: "jwt_payload".to_string(),
            properties: BTreeMap::new(),
        }
    }
}

impl RawAttribution {
    /// Checks the header names (no pseudo-headers, no credentials).
    pub(crate) fn validate_headers(&self) -> Result<(), ConfigError> {
        for (attribute, header) in &self.headers {
            if header.trim().is_empty() || header.starts_with(':') {
                return Err(invalid(
                    &format!("attribution.headers.{attribute}"),
                    "must name a regular request header",
                ));
            }
        }
        for header in CREDENTIAL_HEADERS {
            if self.headers.values().any(|h| h.eq_ignore_ascii_case(header)) {
                return Err(invalid(
                    "attribution.headers",
                    format!("`{header}` carries credentials and is never exported"),
                ));
            }
        }
        Ok(())
    }

    /// Validates the claims and property paths and resolves them to host property paths.
    pub(crate) fn validate(self) -> Result<AttributionConfig, ConfigError> {
        let mut properties = Vec::new();
        for (attribute, claim) in &self.jwt_claims {
            if claim.trim().is_empty() {
                return Err(invalid(
                    &format!("attribution.jwt_claims.{attribute}"),
                    "must name a claim",
                ));
            }
            let path = [
                "metadata",
                "filter_metadata",
                &self.jwt_metadata_namespace,
                &self.jwt_payload_key,
                claim,
            ];
            properties.push((attribute.clone(), path.iter().map(|s| s.to_string()).collect()));
        }
        for (attribute, path) in &self.properties {
            if path.is_empty() || path.iter().any(|s| s.is_empty()) {
                return Err(invalid(
                    &format!("attribution.properties.{attribute}"),
                    "must be a non-empty property path like [\"downstream_peer\", \"workload\"]",
                ));
            }
            properties.push((attribute.clone(), path.clone()));
        }
        Ok(AttributionConfig {
            headers: self
                .headers
                .into_iter()
                .map(|(attribute, header)| (attribute, header.to_ascii_lowercase()))
                .collect(),
            properties,
        })
    }
}

impl AttributionConfig {
    /// The attribution values of one request: (attribute, value), headers first in configured order, each
    /// authenticated property replacing a header value of the same attribute.
    pub(crate) fn resolve(
        &self,
        header: &mut dyn FnMut(&str) -> Option<String>,
        property: &mut dyn FnMut(&[&str]) -> Option<String>,
    ) -> Vec<(String, String)> {
        let mut values: Vec<(String, String)> = self
            .headers
            .iter()
            .filter_map(|(attribute, name)| header(name).map(|v| (attribute.clone(), v)))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        for (attribute, path) in &self.properties {
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            let Some(value) = property(&path) else {
                continue;
            };
            values.retain(|(a, _)| a != attribute);
            values.push((attribute.clone(), value));
        }
        values
    }
}
