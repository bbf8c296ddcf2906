//! The exchange file format of `../shared/captures` (see its README): one recorded HTTP exchange with an LLM API,
//! plus the figures the provider itself reported (`expect`). The project's own fixtures use the same format.

use anyhow::{anyhow, Context as _, Result};
use base64::Engine as _;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Deserialize)]
pub struct ExchangeFile {
    pub name: String,
    #[serde(default)]
    pub source: Option<String>,
    pub request: RecordedRequest,
    pub response: RecordedResponse,
    #[serde(default)]
    pub expect: Option<Expect>,
    /// Fixture extension: the response body ends without end-of-stream (a client abort or upstream reset) and the
    /// log phase follows, as Envoy does for a cut stream.
    #[serde(default)]
    pub cut: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub body_base64: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RecordedResponse {
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub body_base64: Option<String>,
}

/// What the provider reported, derived from its own response fields.
#[derive(Debug, Clone, Deserialize)]
pub struct Expect {
    pub provider: String,
    pub operation: String,
    pub streaming: bool,
    #[serde(default)]
    pub request_model: Option<String>,
    #[serde(default)]
    pub response_model: Option<String>,
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub finish_reason: Option<String>,
    pub status: u16,
    #[serde(default)]
    pub cache_read_tokens: Option<u64>,
    #[serde(default)]
    pub cache_write_tokens: Option<u64>,
    #[serde(default)]
    pub input_tokens_total: Option<u64>,
}

fn body_bytes(text: &Option<String>, b64: &Option<String>) -> Result<Vec<u8>> {
    match (text, b64) {
        (Some(t), _) => Ok(t.as_bytes().to_vec()),
        (None, Some(b)) => base64::engine::general_purpose::STANDARD
            .decode(b)
            .context("body_base64 is not base64"),
        (None, None) => Ok(Vec::new()),
    }
}

/// The parts of an absolute URL the pseudo-headers need.
pub struct UrlParts {
    pub scheme: String,
    pub authority: String,
    /// Path and query, as in `:path`.
    pub path: String,
}

pub fn split_url(url: &str) -> Result<UrlParts> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| anyhow!("`{url}` is not an absolute URL"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    Ok(UrlParts {
        scheme: scheme.to_ascii_lowercase(),
        authority: authority.to_string(),
        path: path.to_string(),
    })
}

impl ExchangeFile {
    pub fn load(path: &Path) -> Result<ExchangeFile> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing exchange file {}", path.display()))
    }

    pub fn request_body(&self) -> Result<Vec<u8>> {
        body_bytes(&self.request.body, &self.request.body_base64)
    }

    pub fn response_body(&self) -> Result<Vec<u8>> {
        body_bytes(&self.response.body, &self.response.body_base64)
    }

    /// Request headers as Envoy presents them to a filter: pseudo-headers first, then the recorded ones.
    pub fn request_headers(&self) -> Result<Vec<(String, String)>> {
        let url = split_url(&self.request.url)?;
        let mut headers = vec![
            (":method".to_string(), self.request.method.to_ascii_uppercase()),
            (":scheme".to_string(), url.scheme),
            (":authority".to_string(), url.authority),
            (":path".to_string(), url.path),
        ];
        headers.extend(
            self.request
                .headers
                .iter()
                .filter(|(k, _)| !k.starts_with(':') && *k != "host")
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        Ok(headers)
    }

    pub fn response_headers(&self) -> Vec<(String, String)> {
        let mut headers = vec![(":status".to_string(), self.response.status.to_string())];
        headers.extend(
            self.response
                .headers
                .iter()
                .filter(|(k, _)| !k.starts_with(':'))
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_split_and_pseudo_headers() {
        let u = split_url("https://api.openai.com/v1/chat/completions?x=1").unwrap();
        assert_eq!(
            (u.scheme.as_str(), u.authority.as_str(), u.path.as_str()),
            ("https", "api.openai.com", "/v1/chat/completions?x=1")
        );
        let u = split_url("http://localhost:5002").unwrap();
        assert_eq!((u.authority.as_str(), u.path.as_str()), ("localhost:5002", "/"));
        assert!(split_url("/relative").is_err());
    }
}
