//! The API shapes the tracer understands, and the dispatch from a shape to its module's decoder and request
//! content.

use super::content_parts::{no_content, request_object};
use super::{anthropic, bedrock, gemini, openai_chat, openai_responses, vector, ApiDecoder};
use crate::model::content::InputContent;

/// API shapes the tracer understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    /// OpenAI Chat Completions and every server that copies it (Azure OpenAI, vLLM, Ollama, Mistral, Groq, ...).
    OpenAiChat,
    /// OpenAI legacy Completions (`/v1/completions`).
    OpenAiCompletions,
    /// OpenAI Embeddings (`/v1/embeddings`) and compatible servers.
    OpenAiEmbeddings,
    /// OpenAI Responses (`/v1/responses`).
    OpenAiResponses,
    /// Anthropic Messages (`/v1/messages`).
    AnthropicMessages,
    /// Gemini / Vertex AI `:generateContent` and `:streamGenerateContent`.
    GeminiGenerateContent,
    /// Bedrock `Converse` and `ConverseStream`.
    BedrockConverse,
    /// Bedrock `InvokeModel` and `InvokeModelWithResponseStream` (the body is the model vendor's own format).
    BedrockInvoke,
    /// A vector-store call (Chroma, Qdrant, Pinecone, Elasticsearch, OpenSearch, Weaviate): a retrieval span.
    Retrieval(vector::Endpoint),
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
            other => match vector::store_named(other) {
                Some(store) => Api::Retrieval(vector::Endpoint::Unresolved(store)),
                None => {
                    return Err(format!(
                        "unknown API `{other}`; expected one of openai_chat, openai_completions, openai_embeddings, \
                         openai_responses, anthropic_messages, gemini, bedrock_converse, bedrock_invoke, {}",
                        vector::STORE_NAMES
                    ))
                }
            },
        })
    }
}

impl Api {
    /// `gen_ai.operation.name`.
    pub(crate) fn operation(self) -> &'static str {
        match self {
            Api::OpenAiCompletions => "text_completion",
            Api::OpenAiEmbeddings => "embeddings",
            Api::GeminiGenerateContent => "generate_content",
            Api::Retrieval(_) => "retrieval",
            Api::OpenAiChat
            | Api::OpenAiResponses
            | Api::AnthropicMessages
            | Api::BedrockConverse
            | Api::BedrockInvoke => "chat",
        }
    }

    /// `openai.api.type`, for the OpenAI family.
    pub(crate) fn openai_api_type(self) -> Option<&'static str> {
        match self {
            Api::OpenAiChat => Some("chat_completions"),
            Api::OpenAiResponses => Some("responses"),
            Api::OpenAiCompletions => Some("completions"),
            Api::OpenAiEmbeddings => Some("embeddings"),
            _ => None,
        }
    }

    /// Whether streamed answers can be asked to carry usage (`stream_options.include_usage`).
    pub(crate) fn accepts_stream_usage_option(self) -> bool {
        matches!(self, Api::OpenAiChat | Api::OpenAiCompletions)
    }

    /// Whether the request body is covered by a signature (Bedrock's SigV4), so it must never be rewritten.
    pub(crate) fn body_is_signed(self) -> bool {
        matches!(self, Api::BedrockConverse | Api::BedrockInvoke)
    }

    /// The decoder of this shape's responses.
    pub(crate) fn decoder(self, path_streams: bool) -> Box<dyn ApiDecoder> {
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
            // The exchange builds these with the request's path and host (`vector::decoder`).
            Api::Retrieval(endpoint) => vector::decoder(endpoint, &vector::Target::default(), vector::Keep::default()),
        }
    }

    /// The request's content (prompt, system instructions, tools) in the conventions' structured form.
    pub(crate) fn request_content(self, body: &[u8]) -> InputContent {
        let Some(req) = request_object(body) else {
            return no_content();
        };
        match self {
            Api::OpenAiChat => openai_chat::chat_request_content(&req),
            Api::OpenAiCompletions | Api::OpenAiEmbeddings => openai_chat::prompt_request_content(&req),
            Api::OpenAiResponses => openai_responses::request_content(&req),
            Api::AnthropicMessages | Api::BedrockInvoke => anthropic::request_content(&req),
            Api::BedrockConverse => bedrock::converse_request_content(&req),
            Api::GeminiGenerateContent => gemini::request_content(&req),
            // A retrieval's content (query text, documents) is read by its decoder.
            Api::Retrieval(_) => no_content(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn openai_chat_history_with_tools() {
        let c = Api::OpenAiChat.request_content(
            br#"{"model":"m","messages":[
                {"role":"system","content":"You are a helpful bot"},
                {"role":"user","content":[{"type":"text","text":"Weather in Paris?"},{"type":"image_url","image_url":{"url":"https://x/y.png"}}]},
                {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},
                {"role":"tool","tool_call_id":"call_1","content":"rainy, 57F"}],
               "tools":[{"type":"function","function":{"name":"get_weather","description":"d","parameters":{"type":"object"}}}]}"#,
        );
        assert_eq!(
            c.messages.unwrap(),
            json!([
                {"role":"system","parts":[{"type":"text","content":"You are a helpful bot"}]},
                {"role":"user","parts":[{"type":"text","content":"Weather in Paris?"},{"type":"uri","modality":"image","uri":"https://x/y.png"}]},
                {"role":"assistant","parts":[{"type":"tool_call","id":"call_1","name":"get_weather","arguments":{"location":"Paris"}}]},
                {"role":"tool","parts":[{"type":"tool_call_response","id":"call_1","response":"rainy, 57F"}]}
            ])
        );
        assert_eq!(
            c.tool_definitions.unwrap(),
            json!([{"type":"function","name":"get_weather","description":"d","parameters":{"type":"object"}}])
        );
    }

    #[test]
    fn anthropic_system_and_gemini_contents() {
        let c = Api::AnthropicMessages.request_content(
            br#"{"system":"Be brief","messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"42"}]}]}"#,
        );
        assert_eq!(
            c.system_instructions.unwrap(),
            json!([{"type":"text","content":"Be brief"}])
        );
        assert_eq!(
            c.messages.unwrap(),
            json!([{"role":"user","parts":[{"type":"tool_call_response","id":"t1","response":"42"}]}])
        );
        let g = Api::GeminiGenerateContent.request_content(
            br#"{"systemInstruction":{"parts":[{"text":"sys"}]},"contents":[{"role":"model","parts":[{"text":"hi"}]}]}"#,
        );
        assert_eq!(g.system_instructions.unwrap(), json!([{"type":"text","content":"sys"}]));
        assert_eq!(
            g.messages.unwrap(),
            json!([{"role":"assistant","parts":[{"type":"text","content":"hi"}]}])
        );
    }
}
