//! AWS Bedrock `InvokeModel` / `InvokeModelWithResponseStream`: the body is the model vendor's own shape, and each
//! streamed vendor event arrives base64-encoded in an event-stream `chunk` frame (`{"bytes": "...", "p": "..."}`).
//!
//! Families read: Anthropic (Messages and Text Completions, [`super::anthropic`]), Cohere (Command R chat, legacy
//! Command `generations`, Embed; [`super::cohere`]), and here Meta Llama (`generation`), Amazon Nova (`output` /
//! `messageStart`…`metadata`), Amazon Titan Text (`results` / `outputText`) and Embeddings (`embedding`), Mistral
//! (`outputs`, and Mistral Large 2's `choices` with `stop_reason`) and AI21 Jamba (`choices` with `usage`).
//!
//! Where the body has no usage (Cohere, Mistral) Bedrock's own counts fill in: the `x-amzn-bedrock-*-token-count`
//! headers of a whole answer, `amazon-bedrock-invocationMetrics` in a stream's last event ([`super::bedrock_metrics`]).
//! That last event is also what ends a stream, whatever the family.
//!
//! The operation follows the model and the request's shape: `embeddings` for embedding models, `chat` for a
//! `messages` (or Cohere `message`) request, `text_completion` for a `prompt` or `inputText` one.

use super::anthropic::AnthropicDecoder;
use super::bedrock::{apply_output_blocks, error_body, frame_error, BlockStart, ContentBlock, ConverseOutput};
use super::bedrock::{InferenceConfig, TokenUsage};
use super::bedrock_metrics::{HeaderCounts, InvocationMetrics};
use super::cohere::{self, CohereMessage};
use super::{non_empty, read_request, read_response, ApiDecoder};
use crate::model::content::InputContent;
use crate::model::observation::{Observation, Usage, UsageSource};
use crate::wire::lenient;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// A base64 chunk that is not base64: that message is lost.
const INVALID_BASE64: &str = "invalid_base64";

/// Which decoder reads the vendor's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Anthropic,
    Cohere,
    /// Every other family: their fields do not collide, so [`InvokeBody`] reads them all.
    Other,
}

#[derive(Debug)]
pub(crate) struct InvokeDecoder {
    streaming: bool,
    /// Known from the model id, else from the first answer.
    family: Option<Family>,
    anthropic: AnthropicDecoder,
    headers: HeaderCounts,
}

impl InvokeDecoder {
    pub(crate) fn new(streaming: bool) -> Self {
        InvokeDecoder {
            streaming,
            family: None,
            anthropic: AnthropicDecoder::default(),
            headers: HeaderCounts::default(),
        }
    }
}

/// The family a Bedrock model id names (`us.anthropic.claude…`, `cohere.embed-v4:0`); `None` for ARNs of
/// imported or provisioned models.
fn family_of_model(id: &str) -> Option<Family> {
    let vendor = |v: &str| id.starts_with(v) || id.contains(&format!(".{v}"));
    if vendor("anthropic.") {
        Some(Family::Anthropic)
    } else if vendor("cohere.") {
        Some(Family::Cohere)
    } else if ["meta.", "amazon.", "mistral.", "ai21."].iter().any(|v| vendor(v)) {
        Some(Family::Other)
    } else {
        None
    }
}

/// The keys that tell the families apart, for a model id that does not.
#[derive(Deserialize, Default)]
#[serde(default)]
struct FamilyProbe {
    #[serde(rename = "type", deserialize_with = "lenient::present")]
    kind: Option<()>,
    #[serde(deserialize_with = "lenient::present")]
    completion: Option<()>,
    #[serde(deserialize_with = "lenient::present")]
    event_type: Option<()>,
    #[serde(deserialize_with = "lenient::present")]
    generations: Option<()>,
    #[serde(deserialize_with = "lenient::present")]
    generation_id: Option<()>,
    #[serde(deserialize_with = "lenient::present")]
    response_type: Option<()>,
}

impl FamilyProbe {
    fn family(&self) -> Family {
        if self.kind.is_some() || self.completion.is_some() {
            Family::Anthropic
        } else if [
            self.event_type,
            self.generations,
            self.generation_id,
            self.response_type,
        ]
        .iter()
        .any(Option::is_some)
        {
            Family::Cohere
        } else {
            Family::Other
        }
    }
}

/// Request parameters of every family, under each family's names.
#[derive(Deserialize, Default)]
#[serde(default)]
struct InvokeRequest {
    #[serde(deserialize_with = "lenient::int")]
    max_tokens: Option<i64>,
    /// Meta Llama.
    #[serde(deserialize_with = "lenient::int")]
    max_gen_len: Option<i64>,
    #[serde(deserialize_with = "lenient::float")]
    temperature: Option<f64>,
    #[serde(deserialize_with = "lenient::float")]
    top_p: Option<f64>,
    #[serde(alias = "stop_sequences", deserialize_with = "lenient::texts")]
    stop: Option<Vec<String>>,
    /// Amazon Nova.
    #[serde(rename = "inferenceConfig", deserialize_with = "lenient::object")]
    inference_config: Option<InferenceConfig>,
    /// Amazon Titan Text.
    #[serde(rename = "textGenerationConfig", deserialize_with = "lenient::object")]
    text_generation_config: Option<TitanConfig>,
    #[serde(deserialize_with = "lenient::length")]
    messages: Option<usize>,
    /// Cohere Command R.
    #[serde(deserialize_with = "lenient::present")]
    message: Option<()>,
    #[serde(deserialize_with = "lenient::present")]
    prompt: Option<()>,
    /// Amazon Titan.
    #[serde(rename = "inputText", deserialize_with = "lenient::present")]
    input_text: Option<()>,
    /// Cohere Embed.
    #[serde(deserialize_with = "lenient::length")]
    texts: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct TitanConfig {
    #[serde(deserialize_with = "lenient::int")]
    max_token_count: Option<i64>,
    #[serde(deserialize_with = "lenient::float")]
    temperature: Option<f64>,
    #[serde(deserialize_with = "lenient::float")]
    top_p: Option<f64>,
    #[serde(deserialize_with = "lenient::texts")]
    stop_sequences: Option<Vec<String>>,
}

/// A body or stream event of Llama, Nova, Titan, Mistral or AI21: their fields do not collide.
#[derive(Deserialize, Default)]
#[serde(default)]
struct InvokeBody<'a> {
    // Meta Llama.
    #[serde(borrow, deserialize_with = "lenient::text")]
    generation: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::count")]
    prompt_token_count: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    generation_token_count: Option<u64>,
    #[serde(borrow, deserialize_with = "lenient::name")]
    stop_reason: Option<Cow<'a, str>>,
    // Amazon Nova, whole answer.
    #[serde(borrow, deserialize_with = "lenient::object")]
    output: Option<ConverseOutput<'a>>,
    #[serde(borrow, rename = "stopReason", deserialize_with = "lenient::name")]
    nova_stop_reason: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::object")]
    usage: Option<InvokeUsage>,
    // Amazon Nova, stream events (keyed by event name).
    #[serde(borrow, rename = "contentBlockDelta", deserialize_with = "lenient::object")]
    content_block_delta: Option<NovaBlockEvent<'a>>,
    #[serde(borrow, rename = "contentBlockStart", deserialize_with = "lenient::object")]
    content_block_start: Option<NovaBlockEvent<'a>>,
    #[serde(borrow, rename = "messageStop", deserialize_with = "lenient::object")]
    message_stop: Option<NovaMessageStop<'a>>,
    #[serde(rename = "metadata", deserialize_with = "lenient::object")]
    nova_metadata: Option<NovaMetadata>,
    // Amazon Titan.
    #[serde(rename = "inputTextTokenCount", deserialize_with = "lenient::count")]
    input_text_token_count: Option<u64>,
    #[serde(borrow, deserialize_with = "lenient::objects")]
    results: Option<Vec<TitanResult<'a>>>,
    #[serde(borrow, rename = "outputText", deserialize_with = "lenient::text")]
    output_text: Option<Cow<'a, str>>,
    #[serde(rename = "totalOutputTextTokenCount", deserialize_with = "lenient::count")]
    total_output_text_token_count: Option<u64>,
    #[serde(borrow, rename = "completionReason", deserialize_with = "lenient::name")]
    completion_reason: Option<Cow<'a, str>>,
    /// Titan Embeddings' vector: only its presence is read.
    #[serde(deserialize_with = "lenient::present")]
    embedding: Option<()>,
    // Mistral.
    #[serde(borrow, deserialize_with = "lenient::objects")]
    outputs: Option<Vec<MistralOutput<'a>>>,
    // Mistral Large 2 and AI21 Jamba.
    #[serde(borrow, deserialize_with = "lenient::text")]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::objects")]
    choices: Option<Vec<ChatChoice<'a>>>,
    #[serde(rename = "amazon-bedrock-invocationMetrics", deserialize_with = "lenient::object")]
    metrics: Option<InvocationMetrics>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct NovaBlockEvent<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    delta: Option<ContentBlock<'a>>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    start: Option<BlockStart<'a>>,
    #[serde(deserialize_with = "lenient::index")]
    content_block_index: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct NovaMessageStop<'a> {
    #[serde(borrow, deserialize_with = "lenient::name")]
    stop_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NovaMetadata {
    #[serde(deserialize_with = "lenient::object")]
    usage: Option<TokenUsage>,
}

/// Nova's `usage` (Bedrock's camelCase names) or AI21's (OpenAI's names).
#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
struct InvokeUsage {
    #[serde(rename = "inputTokens", deserialize_with = "lenient::count")]
    input_tokens: Option<u64>,
    #[serde(rename = "outputTokens", deserialize_with = "lenient::count")]
    output_tokens: Option<u64>,
    #[serde(rename = "totalTokens", deserialize_with = "lenient::count")]
    nova_total_tokens: Option<u64>,
    #[serde(rename = "cacheReadInputTokenCount", deserialize_with = "lenient::count")]
    cache_read_input_tokens: Option<u64>,
    #[serde(rename = "cacheWriteInputTokenCount", deserialize_with = "lenient::count")]
    cache_write_input_tokens: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    prompt_tokens: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    completion_tokens: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    total_tokens: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct TitanResult<'a> {
    #[serde(deserialize_with = "lenient::count")]
    token_count: Option<u64>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    output_text: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::name")]
    completion_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MistralOutput<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::name")]
    stop_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChatChoice<'a> {
    #[serde(deserialize_with = "lenient::index")]
    index: Option<usize>,
    #[serde(borrow, alias = "delta", deserialize_with = "lenient::object")]
    message: Option<ChatMessage<'a>>,
    /// AI21 Jamba.
    #[serde(borrow, deserialize_with = "lenient::name")]
    finish_reason: Option<Cow<'a, str>>,
    /// Mistral Large 2.
    #[serde(borrow, deserialize_with = "lenient::name")]
    stop_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChatMessage<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    content: Option<Cow<'a, str>>,
}

/// `{"bytes": "<base64 of the vendor event>"}`, the payload of a `chunk` frame.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ChunkPayload<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    bytes: Option<Cow<'a, str>>,
}

/// Generated text: counted, timed (in a stream), captured.
fn generated(text: Option<&str>, choice: usize, now_ns: u64, obs: &mut Observation) {
    if let Some(t) = text.filter(|t| !t.is_empty()) {
        obs.response.output_chars += t.chars().count() as u64;
        obs.mark_first_token(now_ns);
        obs.capture_text(choice, t);
    }
}

fn finish(reason: &Option<Cow<'_, str>>, index: usize, obs: &mut Observation) {
    if let Some(reason) = non_empty(reason) {
        obs.response.set_finish_reason(index, &reason);
        obs.response_complete = true;
    }
}

impl InvokeBody<'_> {
    fn apply(self, now_ns: u64, streamed: bool, obs: &mut Observation) {
        let source = if streamed {
            UsageSource::StreamChunk
        } else {
            UsageSource::Body
        };
        if self.embedding.is_some() {
            obs.operation = "embeddings";
        }
        if let Some(id) = non_empty(&self.id) {
            obs.response.id = Some(id);
        }
        // Llama.
        generated(self.generation.as_deref(), 0, now_ns, obs);
        finish(&self.stop_reason, 0, obs);
        let mut counts = Counts::default();
        counts.input(self.prompt_token_count);
        counts.output(self.generation_token_count, streamed);
        // Nova.
        if let Some(blocks) = self.output.and_then(|o| o.message).and_then(|m| m.content) {
            apply_output_blocks(&blocks, obs);
        }
        finish(&self.nova_stop_reason, 0, obs);
        if let Some(e) = self.content_block_delta {
            if let Some(d) = &e.delta {
                d.apply_delta(e.content_block_index.unwrap_or(0), now_ns, obs);
            }
        }
        if let Some(e) = self.content_block_start {
            if let Some(tool) = e.start.as_ref().and_then(|s| s.tool_use.as_ref()) {
                tool.apply(e.content_block_index.unwrap_or(0), now_ns, obs);
            }
        }
        if let Some(stop) = self.message_stop {
            finish(&stop.stop_reason, 0, obs);
        }
        let nova_usage = self
            .nova_metadata
            .and_then(|m| m.usage)
            .or(self.usage.map(|u| TokenUsage {
                input_tokens: u.input_tokens,
                output_tokens: u.output_tokens,
                total_tokens: u.nova_total_tokens,
                cache_read_input_tokens: u.cache_read_input_tokens,
                cache_write_input_tokens: u.cache_write_input_tokens,
            }))
            .and_then(TokenUsage::to_usage);
        // Titan.
        counts.input(self.input_text_token_count);
        for r in self.results.iter().flatten() {
            generated(r.output_text.as_deref(), 0, now_ns, obs);
            finish(&r.completion_reason, 0, obs);
        }
        let result_tokens = self.results.iter().flatten().filter_map(|r| r.token_count);
        counts.output(result_tokens.reduce(|a, b| a + b), false);
        generated(self.output_text.as_deref(), 0, now_ns, obs);
        finish(&self.completion_reason, 0, obs);
        counts.output(self.total_output_text_token_count, streamed);
        // Mistral.
        for out in self.outputs.iter().flatten() {
            generated(out.text.as_deref(), 0, now_ns, obs);
            finish(&out.stop_reason, 0, obs);
        }
        // Mistral Large 2 and AI21 Jamba.
        for (position, c) in self.choices.iter().flatten().enumerate() {
            let index = c.index.unwrap_or(position);
            generated(
                c.message.as_ref().and_then(|m| m.content.as_deref()),
                index,
                now_ns,
                obs,
            );
            finish(&c.finish_reason, index, obs);
            finish(&c.stop_reason, index, obs);
        }
        if let Some(u) = self.usage {
            counts.input(u.prompt_tokens);
            counts.output(u.completion_tokens, false);
            counts.total = u.total_tokens;
        }
        if let Some(usage) = nova_usage {
            obs.report_usage(usage, source);
        } else {
            counts.report(source, obs);
        }
        if let Some(metrics) = self.metrics {
            metrics.fill_missing(obs);
        }
    }
}

/// Counts reported across a family's fields and, in a stream, across messages (Llama's running output count).
#[derive(Default)]
struct Counts {
    input: Option<u64>,
    output: Option<u64>,
    total: Option<u64>,
    /// A streamed count repeats a running total: keep the largest.
    running: bool,
}

impl Counts {
    fn input(&mut self, n: Option<u64>) {
        self.input = n.or(self.input);
    }

    fn output(&mut self, n: Option<u64>, running: bool) {
        self.output = n.or(self.output);
        self.running |= running && n.is_some();
    }

    /// Adds this message's counts to what earlier messages reported.
    fn report(self, source: UsageSource, obs: &mut Observation) {
        if self.input.is_none() && self.output.is_none() {
            return;
        }
        let known = obs.usage;
        let output = match (known.output_tokens, self.output) {
            (Some(a), Some(b)) if self.running => Some(a.max(b)),
            (a, b) => b.or(a),
        };
        let input = self.input.or(known.input_tokens);
        let usage = Usage {
            input_tokens: input,
            output_tokens: output,
            total_tokens: self.total.or(known.total_tokens),
            provider_input_tokens: input,
            provider_output_tokens: output,
            ..Default::default()
        };
        obs.report_usage(usage, source);
    }
}

impl InvokeDecoder {
    fn family(&mut self, json: &[u8]) -> Family {
        *self
            .family
            .get_or_insert_with(|| super::read_request::<FamilyProbe>(json).map_or(Family::Other, |p| p.family()))
    }

    fn on_vendor_json(&mut self, json: &[u8], now_ns: u64, obs: &mut Observation, streamed: bool) {
        match (self.family(json), streamed) {
            (Family::Anthropic, true) => self.anthropic.on_event_json(json, now_ns, obs),
            (Family::Anthropic, false) => self.anthropic.on_body_json(json, obs),
            (Family::Cohere, _) => {
                if let Ok(m) = read_response::<CohereMessage<'_>>(json, obs) {
                    m.apply(now_ns, streamed, obs);
                }
            }
            (Family::Other, _) => {
                if let Ok(body) = read_response::<InvokeBody<'_>>(json, obs) {
                    body.apply(now_ns, streamed, obs);
                }
            }
        }
        // Bedrock appends its metrics to the last event of a stream, whatever the family.
        if streamed && json.windows(METRICS_KEY.len()).any(|w| w == METRICS_KEY) {
            obs.response_complete = true;
        }
    }
}

const METRICS_KEY: &[u8] = b"\"amazon-bedrock-invocationMetrics\"";

impl ApiDecoder for InvokeDecoder {
    fn on_request(&mut self, body: &[u8], obs: &mut Observation) {
        obs.request.stream = self.streaming;
        let model = obs.request.model.as_deref().unwrap_or_default();
        self.family = family_of_model(model);
        let embedding_model = model.contains("embed");
        let req = read_request::<InvokeRequest>(body).unwrap_or_default();
        obs.operation = if embedding_model || req.texts.is_some() {
            "embeddings"
        } else if req.messages.is_some() || req.message.is_some() {
            "chat"
        } else if req.prompt.is_some() || req.input_text.is_some() {
            "text_completion"
        } else {
            obs.operation
        };
        if self.family == Some(Family::Anthropic) {
            self.anthropic.on_request(body, obs);
            obs.request.stream = self.streaming;
            return;
        }
        if self.family == Some(Family::Cohere) {
            cohere::read_request_params(body, obs);
            obs.request.stream = self.streaming;
            return;
        }
        let r = &mut obs.request;
        let nova = req.inference_config.unwrap_or_default();
        let titan = req.text_generation_config.unwrap_or_default();
        r.max_tokens = req
            .max_tokens
            .or(req.max_gen_len)
            .or(nova.max_tokens)
            .or(titan.max_token_count);
        r.temperature = req.temperature.or(nova.temperature).or(titan.temperature);
        r.top_p = req.top_p.or(nova.top_p).or(titan.top_p);
        r.stop_sequences = req
            .stop
            .or(nova.stop_sequences)
            .or(titan.stop_sequences)
            .unwrap_or_default();
        r.message_count = req
            .messages
            .unwrap_or(usize::from(req.prompt.or(req.input_text).is_some()));
    }

    fn on_response_headers(&mut self, headers: &[(String, String)], _obs: &mut Observation) {
        self.headers = HeaderCounts::from_headers(headers);
    }

    fn wants_response_headers(&self) -> bool {
        true
    }

    fn on_stream_message(&mut self, event: &[u8], data: &[u8], now_ns: u64, obs: &mut Observation) {
        if frame_error(event, data, obs) {
            return;
        }
        let Some(bytes) = read_response::<ChunkPayload<'_>>(data, obs).ok().and_then(|c| c.bytes) else {
            return;
        };
        match super::bedrock::base64_decode(bytes.as_bytes()) {
            Some(json) => self.on_vendor_json(&json, now_ns, obs, true),
            None => obs.note_decode_errors(1, Some(INVALID_BASE64)),
        }
    }

    fn on_response_body(&mut self, body: &[u8], now_ns: u64, obs: &mut Observation) {
        if obs.http_status.is_some_and(|s| s >= 400) {
            error_body(body, obs);
            return;
        }
        self.on_vendor_json(body, now_ns, obs, false);
    }

    fn on_response_end(&mut self, obs: &mut Observation) {
        self.headers.fill_missing(obs);
    }
}

/// InvokeModel request content, by family: Anthropic's and Nova's `messages` (Anthropic's shape reads both),
/// Cohere's `message` / `chat_history` / `texts`, and the `prompt` or `inputText` of the others.
pub(crate) fn request_content(req: &Map<String, Value>) -> InputContent {
    if req.contains_key("messages") {
        return super::anthropic::request_content(req);
    }
    if ["message", "texts", "chat_history"]
        .iter()
        .any(|k| req.contains_key(*k))
    {
        return cohere::request_content(req);
    }
    let prompt = req.get("prompt").or(req.get("inputText")).unwrap_or(&Value::Null);
    InputContent {
        messages: Some(super::content_parts::prompt_message(prompt)),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrap(json: &str) -> String {
        const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in json.as_bytes().chunks(3) {
            let mut n = [0u8; 3];
            n[..chunk.len()].copy_from_slice(chunk);
            let v = u32::from_be_bytes([0, n[0], n[1], n[2]]);
            for i in 0..chunk.len() + 1 {
                out.push(ALPHABET[((v >> (18 - 6 * i)) & 63) as usize] as char);
            }
            out.push_str(&"=".repeat(3 - chunk.len()));
        }
        format!(r#"{{"bytes":"{out}","p":"abcd"}}"#)
    }

    fn invoke(model: &str, streaming: bool, request: &str) -> (InvokeDecoder, Observation) {
        let mut d = InvokeDecoder::new(streaming);
        let mut obs = Observation {
            operation: "chat",
            ..Default::default()
        };
        obs.request.model = Some(model.to_string());
        d.on_request(request.as_bytes(), &mut obs);
        (d, obs)
    }

    #[test]
    fn stream_of_wrapped_anthropic_events() {
        let (mut d, mut obs) = invoke("anthropic.claude-3-7-sonnet-20250219-v1:0", true, r#"{"messages":[]}"#);
        let events = [
            r#"{"type":"message_start","message":{"id":"msg_b","model":"claude-3-7-sonnet-20250219","usage":{"input_tokens":12,"output_tokens":1}}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}"#,
            r#"{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":12,"outputTokenCount":9,"invocationLatency":500,"firstByteLatency":200}}"#,
        ];
        for (i, e) in events.iter().enumerate() {
            d.on_stream_message(b"chunk", wrap(e).as_bytes(), i as u64, &mut obs);
        }
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(12), Some(9)));
        assert_eq!(obs.usage_source(), "stream_chunk");
        assert_eq!(obs.response.finish_reasons, vec!["end_turn"]);
        assert_eq!(obs.timing.first_token_ns, Some(1));
        assert!(obs.response_complete);
    }

    #[test]
    fn anthropic_text_completions_body_and_stream() {
        let (mut d, mut obs) = invoke(
            "anthropic.claude-v2:1",
            false,
            r#"{"prompt":"\n\nHuman: hi\n\nAssistant:"}"#,
        );
        assert_eq!(obs.operation, "text_completion");
        d.on_response_headers(
            &[
                ("x-amzn-bedrock-input-token-count".into(), "14".into()),
                ("x-amzn-bedrock-output-token-count".into(), "5".into()),
            ],
            &mut obs,
        );
        d.on_response_body(
            br#"{"type":"completion","completion":" Hello!","stop_reason":"stop_sequence","stop":"\n\nHuman:"}"#,
            1,
            &mut obs,
        );
        d.on_response_end(&mut obs);
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(14), Some(5)));
        assert_eq!(obs.usage_source(), "bedrock_header");
        assert_eq!(obs.response.finish_reasons, vec!["stop_sequence"]);

        let (mut d, mut obs) = invoke("anthropic.claude-instant-v1", true, r#"{"prompt":"p"}"#);
        for (i, e) in [
            r#"{"completion":" Hi","stop_reason":null,"stop":null}"#,
            r#"{"completion":"","stop_reason":"max_tokens","stop":null,"amazon-bedrock-invocationMetrics":{"inputTokenCount":9,"outputTokenCount":2}}"#,
        ]
        .iter()
        .enumerate()
        {
            d.on_stream_message(b"chunk", wrap(e).as_bytes(), i as u64, &mut obs);
        }
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(9), Some(2)));
        assert_eq!(obs.usage_source(), "bedrock_metrics");
        assert_eq!(obs.response.finish_reasons, vec!["max_tokens"]);
        assert_eq!(obs.timing.first_token_ns, Some(0));
        assert!(obs.response_complete);
    }

    #[test]
    fn llama_stream_keeps_the_running_output_count_and_metrics_end_it() {
        let (mut d, mut obs) = invoke("us.meta.llama3-2-3b-instruct-v1:0", true, r#"{"prompt":"p"}"#);
        assert_eq!(obs.operation, "text_completion");
        for (i, e) in [
            r#"{"generation":" A","prompt_token_count":8,"generation_token_count":1,"stop_reason":null}"#,
            r#"{"generation":" B","prompt_token_count":null,"generation_token_count":2.0,"stop_reason":null}"#,
            r#"{"generation":"","prompt_token_count":null,"generation_token_count":3,"stop_reason":"stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":8,"outputTokenCount":3}}"#,
        ]
        .iter()
        .enumerate()
        {
            d.on_stream_message(b"chunk", wrap(e).as_bytes(), i as u64, &mut obs);
        }
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(8), Some(3)));
        assert_eq!(obs.usage_source(), "stream_chunk");
        assert!(obs.response_complete);
    }

    #[test]
    fn mistral_chat_body_takes_its_counts_from_the_headers() {
        let (mut d, mut obs) = invoke("mistral.mistral-large-2407-v1:0", false, r#"{"messages":[]}"#);
        d.on_response_headers(
            &[
                ("x-amzn-bedrock-input-token-count".into(), "9".into()),
                ("x-amzn-bedrock-output-token-count".into(), "24".into()),
            ],
            &mut obs,
        );
        d.on_response_body(
            br#"{"choices":[{"index":0,"message":{"role":"assistant","content":"A root span."},"stop_reason":"stop"}]}"#,
            1,
            &mut obs,
        );
        d.on_response_end(&mut obs);
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(9), Some(24)));
        assert_eq!(obs.usage_source(), "bedrock_header");
        assert_eq!(obs.response.finish_reasons, vec!["stop"]);
    }

    #[test]
    fn nova_body_with_only_its_input_is_completed_from_the_headers_and_embeddings_report_no_output() {
        let (mut d, mut obs) = invoke("us.amazon.nova-lite-v1:0", false, r#"{"messages":[]}"#);
        d.on_response_headers(
            &[
                ("x-amzn-bedrock-input-token-count".into(), "30".into()),
                ("x-amzn-bedrock-output-token-count".into(), "51".into()),
            ],
            &mut obs,
        );
        d.on_response_body(br#"{"output":{"message":{"content":[{"text":"x"}]}},"stopReason":"guardrail_intervened","usage":{"inputTokens":30}}"#, 1, &mut obs);
        d.on_response_end(&mut obs);
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(30), Some(51)));
        assert_eq!(obs.usage_source(), "body");

        let (mut d, mut obs) = invoke("cohere.embed-v4:0", false, r#"{"texts":["a"]}"#);
        assert_eq!(obs.operation, "embeddings");
        d.on_response_headers(&[("x-amzn-bedrock-input-token-count".into(), "15".into())], &mut obs);
        d.on_response_body(
            br#"{"id":"e","embeddings":{"float":[[0.1]]},"response_type":"embeddings_by_type","texts":["a"]}"#,
            1,
            &mut obs,
        );
        d.on_response_end(&mut obs);
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(15), None));
        assert_eq!(obs.usage_source(), "bedrock_header");
    }

    #[test]
    fn a_chunk_that_is_not_base64_is_counted_and_the_rest_read() {
        let (mut d, mut obs) = invoke("amazon.titan-text-lite-v1", true, r#"{"inputText":"x"}"#);
        d.on_stream_message(b"chunk", br#"{"bytes":"$$$"}"#, 1, &mut obs);
        d.on_stream_message(
            b"chunk",
            wrap(r#"{"outputText":"Hi","index":0,"inputTextTokenCount":9.0,"totalOutputTextTokenCount":4,"completionReason":"FINISH"}"#)
                .as_bytes(),
            2,
            &mut obs,
        );
        assert_eq!((obs.decode_errors, obs.decode_error), (1, Some(INVALID_BASE64)));
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(9), Some(4)));
        assert_eq!(obs.response.finish_reasons, vec!["FINISH"]);
    }
}
