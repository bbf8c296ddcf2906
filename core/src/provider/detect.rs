//! Which API a request speaks and who serves it, decided once per request from the method, the path, the
//! `:authority` and the operator's overrides.

use super::{vector, Api};
use crate::config_error::{invalid, ConfigError};
use serde::Deserialize;

/// What the request line says: the API, and the model when the path carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Detected {
    /// The API shape.
    pub(crate) api: Api,
    /// Model named by the path (Gemini, Bedrock) or the Azure deployment name.
    pub(crate) path_model: Option<String>,
    /// The path says the response is streamed (Gemini `:streamGenerateContent`, Bedrock `*-stream`).
    pub(crate) path_streams: bool,
}

/// Everything detection learns about a request: the API, who serves it, and where.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Identity {
    /// The API and what the path says.
    pub(crate) detected: Detected,
    /// `gen_ai.provider.name`.
    pub(crate) provider: String,
    /// `server.address` and `server.port`, from `:authority`.
    pub(crate) server_address: Option<String>,
    /// See `server_address`.
    pub(crate) server_port: Option<i64>,
}

/// One `provider_overrides` entry: applies when every given matcher matches; the first match wins.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProviderOverride {
    /// Exact `:authority` (case-insensitive).
    pub(crate) host: Option<String>,
    /// Prefix of the path.
    pub(crate) path_prefix: Option<String>,
    /// The API the route speaks.
    pub(crate) api: Option<Api>,
    /// The `gen_ai.provider.name` to report.
    pub(crate) provider: Option<String>,
}

impl ProviderOverride {
    /// Whether this override applies to a request to `host` and `path`.
    pub(crate) fn matches(&self, host: Option<&str>, path: &str) -> bool {
        let host_ok = match (&self.host, host) {
            (Some(want), Some(got)) => want.eq_ignore_ascii_case(got),
            (Some(_), None) => false,
            (None, _) => true,
        };
        host_ok && self.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
    }
}

/// The detection part of the configuration: `default_provider` and `provider_overrides`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DetectionConfig {
    /// `gen_ai.provider.name` for OpenAI-compatible servers on hosts the tracer does not know.
    pub(crate) default_provider: String,
    /// Per host or path: which API a route speaks and who serves it, when the path alone does not say.
    pub(crate) overrides: Vec<ProviderOverride>,
}

/// One `provider_overrides` entry as written in the configuration.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProviderOverride {
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    path_prefix: Option<String>,
    #[serde(default)]
    api: Option<String>,
    #[serde(default)]
    provider: Option<String>,
}

impl DetectionConfig {
    /// Validates `default_provider` and `provider_overrides`.
    pub(crate) fn from_raw(
        default_provider: String,
        raw_overrides: Vec<RawProviderOverride>,
    ) -> Result<DetectionConfig, ConfigError> {
        if default_provider.trim().is_empty() {
            return Err(invalid("default_provider", "must not be empty"));
        }
        let mut overrides = Vec::new();
        for (i, o) in raw_overrides.into_iter().enumerate() {
            let field = |name: &str| format!("provider_overrides[{i}].{name}");
            if o.host.is_none() && o.path_prefix.is_none() {
                return Err(invalid(
                    &format!("provider_overrides[{i}]"),
                    "needs `host` or `path_prefix` to match on",
                ));
            }
            if o.api.is_none() && o.provider.is_none() {
                return Err(invalid(
                    &format!("provider_overrides[{i}]"),
                    "sets neither `api` nor `provider`",
                ));
            }
            if o.path_prefix.as_deref().is_some_and(|p| !p.starts_with('/')) {
                return Err(invalid(&field("path_prefix"), "must start with `/`"));
            }
            let api = match &o.api {
                Some(name) => Some(name.parse().map_err(|e: String| invalid(&field("api"), e))?),
                None => None,
            };
            overrides.push(ProviderOverride {
                host: o.host,
                path_prefix: o.path_prefix,
                api,
                provider: o.provider,
            });
        }
        Ok(DetectionConfig {
            default_provider,
            overrides,
        })
    }

    /// Whether an override can match on the host: then `:authority` is needed before the path alone can rule a
    /// request out.
    pub(crate) fn has_overrides(&self) -> bool {
        !self.overrides.is_empty()
    }

    /// The first override matching this request.
    pub(crate) fn provider_override(&self, host: Option<&str>, path: &str) -> Option<&ProviderOverride> {
        self.overrides.iter().find(|o| o.matches(host, path))
    }

    /// Who serves the request and which API it speaks: the configured override for its host and path, else what
    /// the path said (`by_path`, from [`by_path`]). `None` lets it pass untouched.
    pub(crate) fn identify(
        &self,
        by_path: Option<Detected>,
        method: &str,
        path: &str,
        authority: Option<&str>,
        scheme: Option<&str>,
    ) -> Option<Identity> {
        let (detected, provider_override) = match self.provider_override(authority, path) {
            None => (by_path?, None),
            Some(o) => {
                let detected = match (o.api, by_path) {
                    // A vector store: its own paths say which call this is, under any prefix.
                    (Some(Api::Retrieval(wanted)), _) => Detected {
                        api: Api::Retrieval(vector::resolve(wanted.store(), method, path)?),
                        path_model: None,
                        path_streams: false,
                    },
                    (Some(api), Some(d)) => Detected { api, ..d },
                    (Some(api), None) if method.eq_ignore_ascii_case("POST") => Detected {
                        api,
                        path_model: None,
                        path_streams: false,
                    },
                    (None, Some(d)) => d,
                    _ => return None,
                };
                (detected, o.provider.clone())
            }
        };
        let (server_address, server_port) = match authority {
            Some(authority) => split_authority(authority, scheme),
            None => (None, None),
        };
        let provider =
            provider_override.unwrap_or_else(|| match vendor(detected.api, server_address.as_deref(), path) {
                // An OpenAI-compatible server the tracer does not know: the operator's default.
                "openai" if server_address.as_deref() != Some("api.openai.com") => self.default_provider.clone(),
                known => known.to_string(),
            });
        Some(Identity {
            detected,
            provider,
            server_address,
            server_port,
        })
    }
}

/// Recognises an LLM call from its method and path (query string included or not).
pub(crate) fn by_path(method: &str, path: &str) -> Option<Detected> {
    if !method.eq_ignore_ascii_case("POST") {
        return None;
    }
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p, q),
        None => (path, ""),
    };
    let path = path.trim_end_matches('/');
    let found = |api, path_model: Option<String>, path_streams| {
        Some(Detected {
            api,
            path_model,
            path_streams,
        })
    };
    // Azure: /openai/deployments/{deployment}/chat/completions?api-version=...
    let deployment = path
        .split_once("/openai/deployments/")
        .and_then(|(_, rest)| rest.split('/').next())
        .filter(|d| !d.is_empty())
        .map(percent_decode);
    if path.ends_with("/chat/completions") {
        return found(Api::OpenAiChat, deployment, false);
    }
    if path.ends_with("/completions") {
        return found(Api::OpenAiCompletions, deployment, false);
    }
    if path.ends_with("/embeddings") {
        return found(Api::OpenAiEmbeddings, deployment, false);
    }
    if path.ends_with("/responses") {
        return found(Api::OpenAiResponses, deployment, false);
    }
    if path.ends_with("/v1/messages") {
        return found(Api::AnthropicMessages, None, false);
    }
    let last = path.rsplit('/').next().unwrap_or_default();
    if let Some((model, method)) = last.rsplit_once(':') {
        let streams = match method {
            "generateContent" => false,
            "streamGenerateContent" => true,
            _ => return None,
        };
        // `alt=sse` only changes the framing, which the response content-type tells anyway.
        let _ = query;
        return found(Api::GeminiGenerateContent, Some(percent_decode(model)), streams);
    }
    // Bedrock runtime: /model/{modelId}/{converse|converse-stream|invoke|invoke-with-response-stream}
    if let Some((_, rest)) = path.split_once("/model/") {
        let (model, action) = rest.rsplit_once('/')?;
        let model = Some(percent_decode(model));
        return match action {
            "converse" => found(Api::BedrockConverse, model, false),
            "converse-stream" => found(Api::BedrockConverse, model, true),
            "invoke" => found(Api::BedrockInvoke, model, false),
            "invoke-with-response-stream" => found(Api::BedrockInvoke, model, true),
            _ => None,
        };
    }
    None
}

/// Recognises a vector-store call from its method and path (see [`vector::by_path`]).
pub(crate) fn retrieval_by_path(method: &str, path: &str) -> Option<Detected> {
    vector::by_path(method, path).map(|endpoint| Detected {
        api: Api::Retrieval(endpoint),
        path_model: None,
        path_streams: false,
    })
}

/// Percent-decodes a path segment (Bedrock model ids arrive as `meta.llama3-2-1b-instruct-v1%3A0`).
pub(crate) fn percent_decode(s: &str) -> String {
    crate::wire::percent::decode(s)
}

/// `gen_ai.provider.name`: the vendor behind the host where it is known, else the shape's owner.
fn vendor(api: Api, host: Option<&str>, path: &str) -> &'static str {
    let host = host.unwrap_or_default();
    match api {
        Api::AnthropicMessages => "anthropic",
        Api::BedrockConverse | Api::BedrockInvoke => "aws.bedrock",
        Api::GeminiGenerateContent if host.ends_with("aiplatform.googleapis.com") => "gcp.vertex_ai",
        Api::GeminiGenerateContent if host.ends_with("generativelanguage.googleapis.com") => "gcp.gemini",
        Api::GeminiGenerateContent => "gcp.gen_ai",
        Api::Retrieval(endpoint) => endpoint.store().db_system(),
        _ => openai_compatible_vendor(host, path),
    }
}

/// Known vendors serving the OpenAI shape, by upstream host.
fn openai_compatible_vendor(host: &str, path: &str) -> &'static str {
    const VENDORS: [(&str, &str); 10] = [
        ("api.openai.com", "openai"),
        ("api.mistral.ai", "mistral_ai"),
        ("api.groq.com", "groq"),
        ("api.deepseek.com", "deepseek"),
        ("api.x.ai", "x_ai"),
        ("api.perplexity.ai", "perplexity"),
        ("api.together.xyz", "together_ai"),
        ("openrouter.ai", "openrouter"),
        ("api.fireworks.ai", "fireworks_ai"),
        ("api.moonshot.ai", "moonshot_ai"),
    ];
    let host = host.rsplit_once(':').map_or(
        host,
        |(h, p)| if p.bytes().all(|b| b.is_ascii_digit()) { h } else { host },
    );
    if host.ends_with(".openai.azure.com")
        || host.ends_with(".cognitiveservices.azure.com")
        || host.ends_with(".services.ai.azure.com")
        || path.contains("/openai/deployments/")
    {
        return "azure.ai.openai";
    }
    VENDORS
        .iter()
        .find(|(h, _)| host.eq_ignore_ascii_case(h))
        .map_or("openai", |(_, v)| v)
}

/// `server.address` and `server.port` from `:authority` (`host`, `host:port`, `[v6]:port`).
fn split_authority(authority: &str, scheme: Option<&str>) -> (Option<String>, Option<i64>) {
    let default_port = match scheme {
        Some(s) if s.eq_ignore_ascii_case("http") => 80,
        _ => 443,
    };
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        match rest.split_once(']') {
            Some((h, tail)) => (h, tail.strip_prefix(':')),
            None => (authority, None),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            _ => (authority, None),
        }
    };
    let port = port.and_then(|p| p.parse::<i64>().ok()).unwrap_or(default_port);
    if host.is_empty() {
        return (None, None);
    }
    (Some(host.to_ascii_lowercase()), Some(port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(path: &str) -> Option<(Api, Option<String>, bool)> {
        by_path("POST", path).map(|d| (d.api, d.path_model, d.path_streams))
    }

    #[test]
    fn detects_every_api_by_path() {
        assert_eq!(api("/v1/chat/completions"), Some((Api::OpenAiChat, None, false)));
        assert_eq!(
            api("/openai/deployments/my-gpt4/chat/completions?api-version=2024-06-01"),
            Some((Api::OpenAiChat, Some("my-gpt4".into()), false))
        );
        assert_eq!(api("/v1/completions"), Some((Api::OpenAiCompletions, None, false)));
        assert_eq!(api("/v1/embeddings"), Some((Api::OpenAiEmbeddings, None, false)));
        assert_eq!(api("/v1/responses"), Some((Api::OpenAiResponses, None, false)));
        assert_eq!(api("/v1/messages"), Some((Api::AnthropicMessages, None, false)));
        assert_eq!(
            api("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"),
            Some((Api::GeminiGenerateContent, Some("gemini-2.5-flash".into()), true))
        );
        assert_eq!(
            api("/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent"),
            Some((Api::GeminiGenerateContent, Some("gemini-2.0-flash".into()), false))
        );
        assert_eq!(
            api("/model/meta.llama3-2-1b-instruct-v1%3A0/converse-stream"),
            Some((
                Api::BedrockConverse,
                Some("meta.llama3-2-1b-instruct-v1:0".into()),
                true
            ))
        );
        assert_eq!(
            api("/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/invoke"),
            Some((
                Api::BedrockInvoke,
                Some("us.anthropic.claude-3-7-sonnet-20250219-v1:0".into()),
                false
            ))
        );
        assert_eq!(api("/v1/models:list"), None);
        assert_eq!(api("/healthz"), None);
        assert_eq!(by_path("GET", "/v1/chat/completions"), None);
    }

    #[test]
    fn provider_names_by_host() {
        let chat = Api::OpenAiChat;
        assert_eq!(vendor(chat, Some("api.openai.com"), "/v1/chat/completions"), "openai");
        assert_eq!(
            vendor(chat, Some("api.groq.com"), "/openai/v1/chat/completions"),
            "groq"
        );
        assert_eq!(
            vendor(chat, Some("gw.internal"), "/openai/deployments/d/chat/completions"),
            "azure.ai.openai"
        );
        assert_eq!(vendor(chat, Some("api.groq.com:443"), "/v1/chat/completions"), "groq");
        assert_eq!(
            vendor(chat, Some("api.mistral.ai"), "/v1/chat/completions"),
            "mistral_ai"
        );
        assert_eq!(
            vendor(chat, Some("x.openai.azure.com"), "/v1/chat/completions"),
            "azure.ai.openai"
        );
        assert_eq!(vendor(chat, Some("localhost:8000"), "/v1/chat/completions"), "openai");
        assert_eq!(
            vendor(
                Api::GeminiGenerateContent,
                Some("us-central1-aiplatform.googleapis.com"),
                ""
            ),
            "gcp.vertex_ai"
        );
        assert_eq!(
            vendor(
                Api::GeminiGenerateContent,
                Some("generativelanguage.googleapis.com"),
                ""
            ),
            "gcp.gemini"
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%3A0"), "a:0");
        assert_eq!(percent_decode("bad%zz%"), "bad%zz%");
        assert_eq!(percent_decode("%"), "%");
    }

    #[test]
    fn authority_forms() {
        assert_eq!(
            split_authority("api.openai.com", Some("https")),
            (Some("api.openai.com".into()), Some(443))
        );
        assert_eq!(
            split_authority("LOCALHOST:8080", Some("http")),
            (Some("localhost".into()), Some(8080))
        );
        assert_eq!(split_authority("[::1]:9000", None), (Some("::1".into()), Some(9000)));
        assert_eq!(split_authority("[::1]", Some("http")), (Some("::1".into()), Some(80)));
        assert_eq!(split_authority("", None), (None, None));
    }
}
