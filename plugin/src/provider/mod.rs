//! Provider API shapes: which API a request speaks, who serves it, and the decoder that reads its bodies.
//!
//! Adding an API means one decoder file here implementing [`ApiDecoder`], one arm in [`Api::detect`], and a fixture.

use crate::observation::{ErrorInfo, Observation};
use serde::Deserialize;

pub mod anthropic;
pub mod bedrock;
pub mod gemini;
pub mod openai_chat;
pub mod openai_responses;

/// API shapes the filter understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// OpenAI Chat Completions and every server that copies it (Azure OpenAI, vLLM, Ollama, Mistral, Groq, ...).
    OpenAiChat,
    /// OpenAI legacy Completions (`/v1/completions`).
    OpenAiCompletions,
    OpenAiEmbeddings,
    OpenAiResponses,
    AnthropicMessages,
    /// Gemini / Vertex AI `:generateContent` and `:streamGenerateContent`.
    GeminiGenerateContent,
    /// Bedrock `Converse` and `ConverseStream`.
    BedrockConverse,
    /// Bedrock `InvokeModel` and `InvokeModelWithResponseStream` (the body is the model vendor's own format).
    BedrockInvoke,
}

/// What the request line says: the API, and the model when the path carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub api: Api,
    /// Model named by the path (Gemini, Bedrock) or the Azure deployment name.
    pub path_model: Option<String>,
    /// The path says the response is streamed (Gemini `:streamGenerateContent`, Bedrock `*-stream`).
    pub path_streams: bool,
}

/// Parses a `name` or `api` value of the configuration.
impl std::str::FromStr for Api {
    type Err = String;
    fn from_str(s: &str) -> Result<Api, String> {
        Ok(match s {
            "openai_chat" => Api::OpenAiChat,
            "openai_completions" => Api::OpenAiCompletions,
            "openai_embeddings" => Api::OpenAiEmbeddings,
            "openai_responses" => Api::OpenAiResponses,
            "anthropic_messages" => Api::AnthropicMessages,
            "gemini" => Api::GeminiGenerateContent,
            "bedrock_converse" => Api::BedrockConverse,
            "bedrock_invoke" => Api::BedrockInvoke,
            other => {
                return Err(format!(
                    "unknown API `{other}`; expected one of openai_chat, openai_completions, openai_embeddings, \
                     openai_responses, anthropic_messages, gemini, bedrock_converse, bedrock_invoke"
                ))
            }
        })
    }
}

/// Percent-decodes a path segment (Bedrock model ids arrive as `meta.llama3-2-1b-instruct-v1%3A0`).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Api {
    /// Recognises an LLM call from its method and path (query string included or not).
    pub fn detect(method: &str, path: &str) -> Option<Detected> {
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

    pub fn operation(self) -> &'static str {
        match self {
            Api::OpenAiCompletions => "text_completion",
            Api::OpenAiEmbeddings => "embeddings",
            Api::GeminiGenerateContent => "generate_content",
            Api::OpenAiChat
            | Api::OpenAiResponses
            | Api::AnthropicMessages
            | Api::BedrockConverse
            | Api::BedrockInvoke => "chat",
        }
    }

    /// `openai.api.type`, for the OpenAI family.
    pub fn openai_api_type(self) -> Option<&'static str> {
        match self {
            Api::OpenAiChat => Some("chat_completions"),
            Api::OpenAiResponses => Some("responses"),
            Api::OpenAiCompletions => Some("completions"),
            Api::OpenAiEmbeddings => Some("embeddings"),
            _ => None,
        }
    }

    /// `gen_ai.provider.name`: the vendor behind the host where it is known, else the shape's owner.
    pub fn provider_name(self, host: Option<&str>, path: &str) -> &'static str {
        let host = host.unwrap_or_default();
        match self {
            Api::AnthropicMessages => "anthropic",
            Api::BedrockConverse | Api::BedrockInvoke => "aws.bedrock",
            Api::GeminiGenerateContent if host.ends_with("aiplatform.googleapis.com") => "gcp.vertex_ai",
            Api::GeminiGenerateContent if host.ends_with("generativelanguage.googleapis.com") => "gcp.gemini",
            Api::GeminiGenerateContent => "gcp.gen_ai",
            _ => openai_compatible_vendor(host, path),
        }
    }

    pub fn decoder(self, path_streams: bool) -> Box<dyn ApiDecoder> {
        match self {
            Api::OpenAiChat | Api::OpenAiCompletions | Api::OpenAiEmbeddings => {
                Box::new(openai_chat::OpenAiChatDecoder)
            }
            Api::OpenAiResponses => Box::new(openai_responses::ResponsesDecoder),
            Api::AnthropicMessages => Box::new(anthropic::AnthropicDecoder::default()),
            Api::GeminiGenerateContent => Box::new(gemini::GeminiDecoder {
                streaming: path_streams,
            }),
            Api::BedrockConverse => Box::new(bedrock::ConverseDecoder {
                streaming: path_streams,
            }),
            Api::BedrockInvoke => Box::new(bedrock::InvokeDecoder::new(path_streams)),
        }
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

/// Reads one API's request and response into an [`Observation`].
pub trait ApiDecoder {
    /// The request body (cut at the configured cap when larger).
    fn on_request(&mut self, body: &[u8], obs: &mut Observation);
    /// One message of a streamed response: the SSE `event` name or event-stream event type (may be empty), and
    /// the message's data.
    fn on_stream_message(&mut self, event: &[u8], data: &[u8], now_ns: u64, obs: &mut Observation);
    /// A complete (non-streamed) response body, success or error.
    fn on_response_body(&mut self, body: &[u8], now_ns: u64, obs: &mut Observation);
}

/// The `{"error": {...}}` envelope OpenAI-shaped APIs (and Anthropic, inside its `type: error` body) return.
#[derive(Deserialize)]
pub(crate) struct ErrorEnvelope {
    pub error: Option<ApiError>,
}

#[derive(Deserialize)]
pub(crate) struct ApiError {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub code: Option<serde_json::Value>,
}

impl ApiError {
    /// `error.type` wants a low-cardinality identifier: the provider's code when it has one, else its type.
    pub fn into_info(self) -> ErrorInfo {
        let code = match self.code {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        ErrorInfo {
            error_type: code.or(self.kind).unwrap_or_else(|| "_OTHER".to_string()),
            message: self.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(path: &str) -> Option<(Api, Option<String>, bool)> {
        Api::detect("POST", path).map(|d| (d.api, d.path_model, d.path_streams))
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
        assert_eq!(Api::detect("GET", "/v1/chat/completions"), None);
    }

    #[test]
    fn provider_names_by_host() {
        let chat = Api::OpenAiChat;
        assert_eq!(
            chat.provider_name(Some("api.openai.com"), "/v1/chat/completions"),
            "openai"
        );
        assert_eq!(
            chat.provider_name(Some("api.groq.com"), "/openai/v1/chat/completions"),
            "groq"
        );
        assert_eq!(
            chat.provider_name(Some("gw.internal"), "/openai/deployments/d/chat/completions"),
            "azure.ai.openai"
        );
        assert_eq!(
            chat.provider_name(Some("api.groq.com:443"), "/v1/chat/completions"),
            "groq"
        );
        assert_eq!(
            chat.provider_name(Some("api.mistral.ai"), "/v1/chat/completions"),
            "mistral_ai"
        );
        assert_eq!(
            chat.provider_name(Some("x.openai.azure.com"), "/v1/chat/completions"),
            "azure.ai.openai"
        );
        assert_eq!(
            chat.provider_name(Some("localhost:8000"), "/v1/chat/completions"),
            "openai"
        );
        assert_eq!(
            Api::GeminiGenerateContent.provider_name(Some("us-central1-aiplatform.googleapis.com"), ""),
            "gcp.vertex_ai"
        );
        assert_eq!(
            Api::GeminiGenerateContent.provider_name(Some("generativelanguage.googleapis.com"), ""),
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
    fn error_type_prefers_code_then_type() {
        let e: ErrorEnvelope =
            serde_json::from_str(r#"{"error":{"message":"m","type":"invalid_request_error","code":"empty_array"}}"#)
                .unwrap();
        assert_eq!(e.error.unwrap().into_info().error_type, "empty_array");
        let e: ErrorEnvelope =
            serde_json::from_str(r#"{"error":{"message":"m","type":"server_error","code":null}}"#).unwrap();
        assert_eq!(e.error.unwrap().into_info().error_type, "server_error");
    }
}
