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
const CREDENTIAL_HEADERS: [&str; 12] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "apikey",
    "x-goog-api-key",
    // AWS SigV4: the session token; the signature itself travels in `authorization`.
    "x-amz-security-token",
    // Azure API Management.
    "ocp-apim-subscription-key",
    "subscription-key",
    // Chroma's token auth.
    "x-chroma-token",
];

/// Endings of header names that carry credentials whoever defines them (gateways: `x-litellm-api-key`,
/// `x-portkey-api-key`; vendors: `x-acme-token`), matched with `_` read as `-`.
const CREDENTIAL_SUFFIXES: [&str; 9] = [
    "-api-key",
    "-apikey",
    "-token",
    "-secret",
    "-password",
    "-subscription-key",
    "-access-key",
    "-secret-key",
    "-private-key",
];

/// Whether a request header carries credentials, by name.
pub(crate) fn is_credential_header(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase().replace('_', "-");
    CREDENTIAL_HEADERS.contains(&name.as_str()) || CREDENTIAL_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Why a host property path must not become an attribute, if it must not: Envoy's `request.headers` is every
/// request header at once (credentials included), `request.headers.<name>` one of them, and `request.path` and
/// `request.query` carry query strings (Gemini's `?key=`). Compared without case, with dotted segments split.
fn refused_property(path: &[String]) -> Option<&'static str> {
    let segments: Vec<String> = path
        .iter()
        .flat_map(|s| s.split('.'))
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        ["request"] | ["request", "headers"] => Some("reads every request header, credentials included"),
        ["request", "headers", name] if is_credential_header(name) => Some("is a header that carries credentials"),
        ["request", "path" | "query"] => Some("carries the query string, where some APIs put their key"),
        _ => None,
    }
}

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
        for header in self.headers.values() {
            if is_credential_header(header) {
                let header = header.trim().to_ascii_lowercase();
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
            if let Some(why) = refused_property(path) {
                return Err(invalid(
                    &format!("attribution.properties.{attribute}"),
                    format!("`{}` {why} and is never exported", path.join(".")),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> RawAttribution {
        serde_json::from_str(json).unwrap()
    }

    fn header_error(header: &str) -> String {
        raw(&format!(r#"{{"headers":{{"user.id":"{header}"}}}}"#))
            .validate_headers()
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn credential_headers_are_refused_by_name_and_by_ending() {
        for header in [
            "authorization",
            "Proxy-Authorization",
            "ocp-apim-subscription-key",
            "x-litellm-api-key",
            "x-portkey-api-key",
            "x-acme-api-key",
            "x-acme-token",
            "x-acme-secret",
            "x_acme_token",
            "x-amz-security-token",
            "x-session-token",
        ] {
            let message = header_error(header);
            assert!(
                message.starts_with("Invalid llm-trace configuration: `attribution.headers`: `"),
                "{message}"
            );
            assert!(
                message.contains(&format!("`{}` carries credentials", header.to_ascii_lowercase())),
                "{message}"
            );
        }
        for header in [
            "x-user-id",
            "x-session-id",
            "x-feature",
            "x-tokens-budget",
            "x-idempotency-key",
        ] {
            assert!(
                raw(&format!(r#"{{"headers":{{"user.id":"{header}"}}}}"#))
                    .validate_headers()
                    .is_ok(),
                "{header}"
            );
        }
    }

    #[test]
    fn property_paths_reading_request_headers_or_query_strings_are_refused() {
        for path in [
            r#"["request","headers"]"#,
            r#"["request"]"#,
            r#"["Request","Headers"]"#,
            r#"["request.headers"]"#,
            r#"["request","headers","authorization"]"#,
            r#"["request","headers","x-litellm-api-key"]"#,
            r#"["request","query"]"#,
            r#"["request","path"]"#,
        ] {
            let message = raw(&format!(r#"{{"properties":{{"user.id":{path}}}}}"#))
                .validate()
                .unwrap_err()
                .to_string();
            assert!(
                message.starts_with("Invalid llm-trace configuration: `attribution.properties.user.id`: `")
                    && message.contains("never exported"),
                "{path}: {message}"
            );
        }
        let ok = raw(r#"{"properties":{"user.id":["request","headers","x-user-id"],"source.workload":["downstream_peer","workload"]}}"#)
            .validate()
            .unwrap();
        assert_eq!(ok.properties.len(), 2);
    }
}
