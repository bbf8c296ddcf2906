//! Every attribute name the filter emits, in one place.
//!
//! GenAI names follow OpenTelemetry semantic conventions v1.41 (the last released set that contains GenAI). Names in
//! the `llm.` namespace are this project's own and documented in `docs/attributes.md`.

use crate::model::observation::RateLimit;

// GenAI semantic conventions v1.41.
pub(crate) const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";
pub(crate) const GEN_AI_PROVIDER_NAME: &str = "gen_ai.provider.name";
pub(crate) const GEN_AI_REQUEST_MODEL: &str = "gen_ai.request.model";
pub(crate) const GEN_AI_REQUEST_TEMPERATURE: &str = "gen_ai.request.temperature";
pub(crate) const GEN_AI_REQUEST_TOP_P: &str = "gen_ai.request.top_p";
pub(crate) const GEN_AI_REQUEST_MAX_TOKENS: &str = "gen_ai.request.max_tokens";
pub(crate) const GEN_AI_REQUEST_STREAM: &str = "gen_ai.request.stream";
pub(crate) const GEN_AI_REQUEST_SEED: &str = "gen_ai.request.seed";
pub(crate) const GEN_AI_REQUEST_FREQUENCY_PENALTY: &str = "gen_ai.request.frequency_penalty";
pub(crate) const GEN_AI_REQUEST_PRESENCE_PENALTY: &str = "gen_ai.request.presence_penalty";
pub(crate) const GEN_AI_REQUEST_STOP_SEQUENCES: &str = "gen_ai.request.stop_sequences";
pub(crate) const GEN_AI_REQUEST_CHOICE_COUNT: &str = "gen_ai.request.choice.count";
pub(crate) const GEN_AI_OUTPUT_TYPE: &str = "gen_ai.output.type";
pub(crate) const GEN_AI_RESPONSE_ID: &str = "gen_ai.response.id";
pub(crate) const GEN_AI_RESPONSE_MODEL: &str = "gen_ai.response.model";
pub(crate) const GEN_AI_RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
pub(crate) const GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: &str = "gen_ai.response.time_to_first_chunk";
pub(crate) const GEN_AI_USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
pub(crate) const GEN_AI_USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
pub(crate) const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
pub(crate) const GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: &str = "gen_ai.usage.cache_creation.input_tokens";
pub(crate) const GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: &str = "gen_ai.usage.reasoning.output_tokens";
pub(crate) const GEN_AI_SYSTEM_INSTRUCTIONS: &str = "gen_ai.system_instructions";
pub(crate) const GEN_AI_INPUT_MESSAGES: &str = "gen_ai.input.messages";
pub(crate) const GEN_AI_OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
pub(crate) const GEN_AI_TOOL_DEFINITIONS: &str = "gen_ai.tool.definitions";
pub(crate) const GEN_AI_CONVERSATION_ID: &str = "gen_ai.conversation.id";
/// Total cost of the call as a double, in `pricing.currency` (USD unless configured): the name Langfuse and OpenLIT
/// read today. `v1.41` profile only: under `latest` the same name is a namespace (`gen_ai.usage.cost.amount`).
pub(crate) const GEN_AI_USAGE_COST: &str = "gen_ai.usage.cost";
/// `latest` profile cost shape (semantic-conventions-genai PR #443).
pub(crate) const GEN_AI_USAGE_COST_AMOUNT: &str = "gen_ai.usage.cost.amount";
pub(crate) const GEN_AI_USAGE_COST_CURRENCY: &str = "gen_ai.usage.cost.currency";
/// `latest` profile name of the cache-write figure (semantic-conventions-genai #440).
pub(crate) const GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: &str = "gen_ai.usage.cache_write.input_tokens";

// OpenInference (Arize Phoenix) dialect, opt-in.
pub(crate) const OPENINFERENCE_SPAN_KIND: &str = "openinference.span.kind";
pub(crate) const OI_LLM_SYSTEM: &str = "llm.system";
pub(crate) const OI_LLM_PROVIDER: &str = "llm.provider";
pub(crate) const OI_LLM_MODEL_NAME: &str = "llm.model_name";
pub(crate) const OI_LLM_INVOCATION_PARAMETERS: &str = "llm.invocation_parameters";
pub(crate) const OI_TOKEN_COUNT_PROMPT: &str = "llm.token_count.prompt";
pub(crate) const OI_TOKEN_COUNT_COMPLETION: &str = "llm.token_count.completion";
pub(crate) const OI_TOKEN_COUNT_TOTAL: &str = "llm.token_count.total";
pub(crate) const OI_TOKEN_COUNT_CACHE_READ: &str = "llm.token_count.prompt_details.cache_read";
pub(crate) const OI_TOKEN_COUNT_CACHE_WRITE: &str = "llm.token_count.prompt_details.cache_write";
pub(crate) const OI_TOKEN_COUNT_REASONING: &str = "llm.token_count.completion_details.reasoning";
pub(crate) const OI_COST_TOTAL: &str = "llm.cost.total";
pub(crate) const OI_COST_PROMPT: &str = "llm.cost.prompt";
pub(crate) const OI_COST_COMPLETION: &str = "llm.cost.completion";
pub(crate) const OI_COST_PROMPT_INPUT: &str = "llm.cost.prompt_details.input";
pub(crate) const OI_COST_PROMPT_CACHE_READ: &str = "llm.cost.prompt_details.cache_read";
pub(crate) const OI_COST_PROMPT_CACHE_WRITE: &str = "llm.cost.prompt_details.cache_write";
pub(crate) const OI_INPUT_VALUE: &str = "input.value";
pub(crate) const OI_INPUT_MIME_TYPE: &str = "input.mime_type";
pub(crate) const OI_OUTPUT_VALUE: &str = "output.value";
pub(crate) const OI_OUTPUT_MIME_TYPE: &str = "output.mime_type";
/// Prefixes of the flattened message lists: `llm.input_messages.<i>.message.role`, `.message.content`.
pub(crate) const OI_INPUT_MESSAGES: &str = "llm.input_messages";
pub(crate) const OI_OUTPUT_MESSAGES: &str = "llm.output_messages";
// OpenInference, the rest of its LLM and embedding span attributes (spec/semantic_conventions.md).
pub(crate) const OI_LLM_FINISH_REASON: &str = "llm.finish_reason";
pub(crate) const OI_COST_COMPLETION_OUTPUT: &str = "llm.cost.completion_details.output";
pub(crate) const OI_COST_COMPLETION_REASONING: &str = "llm.cost.completion_details.reasoning";
/// Prefix of the advertised tools: `llm.tools.<i>.tool.json_schema`.
pub(crate) const OI_TOOLS: &str = "llm.tools";
/// Legacy Completions: `llm.prompts.<i>.prompt.text`, `llm.choices.<i>.completion.text`.
pub(crate) const OI_PROMPTS: &str = "llm.prompts";
pub(crate) const OI_CHOICES: &str = "llm.choices";
pub(crate) const OI_EMBEDDING_MODEL_NAME: &str = "embedding.model_name";
pub(crate) const OI_EMBEDDING_INVOCATION_PARAMETERS: &str = "embedding.invocation_parameters";
/// Prefix of the embedded texts: `embedding.embeddings.<i>.embedding.text`.
pub(crate) const OI_EMBEDDINGS: &str = "embedding.embeddings";
/// The span event OpenInference instrumentations add at the first streamed token (no attributes).
pub(crate) const OI_FIRST_TOKEN_EVENT: &str = "First Token Stream Event";

// Attribution (values from request headers named in the configuration).
pub(crate) const SESSION_ID: &str = "session.id";

// OpenAI refinements (semconv `openai.md`).
pub(crate) const OPENAI_API_TYPE: &str = "openai.api.type";
pub(crate) const OPENAI_REQUEST_SERVICE_TIER: &str = "openai.request.service_tier";
pub(crate) const OPENAI_RESPONSE_SERVICE_TIER: &str = "openai.response.service_tier";
pub(crate) const OPENAI_RESPONSE_SYSTEM_FINGERPRINT: &str = "openai.response.system_fingerprint";

// Stable general conventions.
pub(crate) const SERVER_ADDRESS: &str = "server.address";
pub(crate) const SERVER_PORT: &str = "server.port";
pub(crate) const ERROR_TYPE: &str = "error.type";
pub(crate) const HTTP_RESPONSE_STATUS_CODE: &str = "http.response.status_code";

// This project's namespace.
/// `true` when the exchange was cut (client abort, upstream reset, timeout) before the response ended.
pub(crate) const LLM_PARTIAL: &str = "llm.partial";
/// `true` when the connection closed after the provider's terminal event but before the response's last bytes (the
/// openai SDK stops reading at `data: [DONE]`): a complete call, not a cut.
pub(crate) const LLM_DOWNSTREAM_CLOSED_EARLY: &str = "llm.downstream_closed_early";
/// Why the exchange was cut or failed, in the provider's or Envoy's words (e.g. `downstream_remote_disconnect`).
pub(crate) const LLM_ERROR_MESSAGE: &str = "llm.error.message";
/// Seconds from the request start to the first response body byte.
pub(crate) const LLM_RESPONSE_TIME_TO_FIRST_BYTE: &str = "llm.response.time_to_first_byte";
/// `reported` when the provider gave token usage, `estimated` when the filter had to count.
pub(crate) const LLM_USAGE_SOURCE: &str = "llm.usage.source";
/// Input and output tokens exactly as the provider reported them (Anthropic's input excludes cache tokens,
/// Gemini's output excludes thinking tokens); the `gen_ai.usage.*` figures follow the conventions' totals.
pub(crate) const LLM_USAGE_PROVIDER_INPUT_TOKENS: &str = "llm.usage.provider.input_tokens";
pub(crate) const LLM_USAGE_PROVIDER_OUTPUT_TOKENS: &str = "llm.usage.provider.output_tokens";
/// Seconds from the request start to the first streamed reasoning (thinking) chunk.
pub(crate) const LLM_RESPONSE_TIME_TO_FIRST_REASONING_CHUNK: &str = "llm.response.time_to_first_reasoning_chunk";
/// Seconds per output token after the first: (last content chunk − first content chunk) / (output tokens − 1).
pub(crate) const LLM_RESPONSE_TIME_PER_OUTPUT_TOKEN: &str = "llm.response.time_per_output_token";
/// `true` when the filter added `stream_options.include_usage` to the request (and removed the extra usage chunk
/// from what the client received).
pub(crate) const LLM_USAGE_INJECTED: &str = "llm.usage.injected";
/// The sampling rule that kept the span: `error`, `partial`, `truncated`, `duration`, `ttft`, `cost`, `user`,
/// `tier`, `feature`, `parent` or `ratio`.
pub(crate) const LLM_SAMPLING_RULE: &str = "llm.sampling.rule";
/// Prefix of the per-detector redaction counts: `llm.redactions.email` = 2 (counts only, never values).
pub(crate) const LLM_REDACTIONS: &str = "llm.redactions";
/// Prefix of the per-detector counts of values redacted from the request forwarded upstream.
pub(crate) const LLM_REQUEST_REDACTIONS: &str = "llm.request.redactions";
/// Why request redaction was configured but the request went upstream as sent: `too_large`, `no_content_length`,
/// `host_refused`.
pub(crate) const LLM_REQUEST_REDACTION_SKIPPED: &str = "llm.request.redaction_skipped";
/// Marker appended to content cut at `capture.max_content_bytes`.
pub(crate) const TRUNCATION_MARKER: &str = "…[truncated]";
/// Provider's total token figure when it reports one.
pub(crate) const LLM_USAGE_TOTAL_TOKENS: &str = "llm.usage.total_tokens";
/// Cost breakdown by token kind (doubles, in `llm.usage.cost.currency`): uncached input, output (reasoning
/// included), cache reads, cache writes. They sum to the total.
pub(crate) const LLM_USAGE_COST_INPUT: &str = "llm.usage.cost.input";
pub(crate) const LLM_USAGE_COST_OUTPUT: &str = "llm.usage.cost.output";
pub(crate) const LLM_USAGE_COST_CACHE_READ: &str = "llm.usage.cost.cache_read";
pub(crate) const LLM_USAGE_COST_CACHE_WRITE: &str = "llm.usage.cost.cache_write";
/// ISO 4217 code of every cost figure on the span.
pub(crate) const LLM_USAGE_COST_CURRENCY: &str = "llm.usage.cost.currency";
/// Where the price came from: `table:litellm-<version>` or `config`.
pub(crate) const LLM_USAGE_COST_SOURCE: &str = "llm.usage.cost.source";
/// `true` when the cost rests on estimated or incomplete token usage.
pub(crate) const LLM_USAGE_COST_ESTIMATED: &str = "llm.usage.cost.estimated";
/// The price entry used: a table key (`gpt-4o-2024-08-06`, `gemini/gemini-2.5-pro`) or a configured pattern.
pub(crate) const LLM_USAGE_COST_PRICED_MODEL: &str = "llm.usage.cost.priced_model";
/// Non-standard price tier applied: `priority`, `flex` (OpenAI service tiers), `above_200k` (long context).
pub(crate) const LLM_USAGE_COST_TIER: &str = "llm.usage.cost.tier";
/// Set, to the model name, when the call used tokens but no price matched it (no cost attributes then).
pub(crate) const LLM_USAGE_COST_UNPRICED_MODEL: &str = "llm.usage.cost.unpriced_model";
/// Bytes of the request or response body the filter did not inspect because they were over the configured cap.
pub(crate) const LLM_BODY_TRUNCATED: &str = "llm.body_truncated";
/// Why the response body could not be read (unsupported or corrupt `content-encoding`, decoded size over the cap).
pub(crate) const LLM_RESPONSE_UNREADABLE: &str = "llm.response.unreadable";
/// Fields and messages of the response the decoder could not read (each lost alone, never the call).
pub(crate) const LLM_DECODE_ERRORS: &str = "llm.decode_errors";
/// The kind of the first of them: `invalid_json`, `unexpected_type`, `invalid_number`, `invalid_base64`.
pub(crate) const LLM_DECODE_ERROR: &str = "llm.decode_error";
/// Stream messages of an event type the decoder does not know (skipped; the rest of the stream is read).
pub(crate) const LLM_STREAM_UNKNOWN_EVENTS: &str = "llm.stream.unknown_events";

// Provider rate limits at the time of the call (from response headers; see `provider/rate_limit.rs`).
pub(crate) const LLM_RATELIMIT_REQUESTS_LIMIT: &str = "llm.ratelimit.requests.limit";
pub(crate) const LLM_RATELIMIT_REQUESTS_REMAINING: &str = "llm.ratelimit.requests.remaining";
pub(crate) const LLM_RATELIMIT_REQUESTS_RESET: &str = "llm.ratelimit.requests.reset";
pub(crate) const LLM_RATELIMIT_TOKENS_LIMIT: &str = "llm.ratelimit.tokens.limit";
pub(crate) const LLM_RATELIMIT_TOKENS_REMAINING: &str = "llm.ratelimit.tokens.remaining";
pub(crate) const LLM_RATELIMIT_TOKENS_RESET: &str = "llm.ratelimit.tokens.reset";
pub(crate) const LLM_RATELIMIT_INPUT_TOKENS_REMAINING: &str = "llm.ratelimit.input_tokens.remaining";
pub(crate) const LLM_RATELIMIT_OUTPUT_TOKENS_REMAINING: &str = "llm.ratelimit.output_tokens.remaining";
/// `retry-after` as the provider sent it (seconds or an HTTP date).
pub(crate) const LLM_RATELIMIT_RETRY_AFTER: &str = "llm.ratelimit.retry_after";
/// The client's `accept-encoding` when the filter narrowed it to codings it can read (`br`, `zstd` removed).
pub(crate) const LLM_REQUEST_ACCEPT_ENCODING_NARROWED: &str = "llm.request.accept_encoding_narrowed";

// Retrieval spans (vector-store calls): GenAI retrieval, database conventions, OpenInference RETRIEVER.
pub(crate) const GEN_AI_DATA_SOURCE_ID: &str = "gen_ai.data_source.id";
/// Documents asked for: a double under `v1.41` (as the conventions typed it then), an integer under `latest`.
pub(crate) const GEN_AI_REQUEST_TOP_K: &str = "gen_ai.request.top_k";
/// JSON array of `{"id", "score"}` (plus `query`, and `content`/`metadata` under content capture).
pub(crate) const GEN_AI_RETRIEVAL_DOCUMENTS: &str = "gen_ai.retrieval.documents";
pub(crate) const GEN_AI_RETRIEVAL_QUERY_TEXT: &str = "gen_ai.retrieval.query.text";
pub(crate) const DB_SYSTEM_NAME: &str = "db.system.name";
pub(crate) const DB_COLLECTION_NAME: &str = "db.collection.name";
pub(crate) const DB_NAMESPACE: &str = "db.namespace";
pub(crate) const DB_OPERATION_NAME: &str = "db.operation.name";
pub(crate) const DB_OPERATION_BATCH_SIZE: &str = "db.operation.batch.size";
pub(crate) const DB_RESPONSE_RETURNED_ROWS: &str = "db.response.returned_rows";
pub(crate) const DB_RESPONSE_STATUS_CODE: &str = "db.response.status_code";
/// Prefix of OpenInference's flattened documents: `retrieval.documents.<i>.document.{id,score,content,metadata}`.
pub(crate) const OI_RETRIEVAL_DOCUMENTS: &str = "retrieval.documents";
/// What the scores are: `distance` (smaller is closer), `score` (the store's score), `certainty` (Weaviate).
pub(crate) const LLM_RETRIEVAL_SCORE_KIND: &str = "llm.retrieval.score.kind";
/// The collection's distance metric where known (a Chroma collection's `hnsw.space`: `cosine`, `l2`, `ip`).
pub(crate) const LLM_RETRIEVAL_DISTANCE_METRIC: &str = "llm.retrieval.distance.metric";
/// Query vectors or searches in the call.
pub(crate) const LLM_RETRIEVAL_QUERY_COUNT: &str = "llm.retrieval.query.count";
/// Length of the first query vector.
pub(crate) const LLM_RETRIEVAL_QUERY_VECTOR_DIMENSION: &str = "llm.retrieval.query.vector_dimension";
/// `true` when the request carried a metadata filter.
pub(crate) const LLM_RETRIEVAL_FILTER: &str = "llm.retrieval.filter";
/// JSON array of each search's top k, when a batch asked for different numbers (then `gen_ai.request.top_k` is
/// not set).
pub(crate) const LLM_RETRIEVAL_TOP_K_PER_QUERY: &str = "llm.retrieval.top_k_per_query";
/// Hits returned but not on the span (past `retrieval.max_documents`).
pub(crate) const LLM_RETRIEVAL_DOCUMENTS_DROPPED: &str = "llm.retrieval.documents_dropped";
/// Documents whose text or metadata is not on the span because `retrieval.max_content_bytes` was spent.
pub(crate) const LLM_RETRIEVAL_CONTENT_OMITTED: &str = "llm.retrieval.content_omitted";
/// The embeddings call whose answer was this query's vector (same worker, recent; see docs/attributes.md).
pub(crate) const LLM_RETRIEVAL_QUERY_EMBEDDING_TRACE_ID: &str = "llm.retrieval.query_embedding.trace_id";
pub(crate) const LLM_RETRIEVAL_QUERY_EMBEDDING_SPAN_ID: &str = "llm.retrieval.query_embedding.span_id";
// Evaluations (user feedback and the LLM judge): the GenAI `gen_ai.evaluation.result` event, and the OpenInference
// carrier span's annotation (`annotations.0.annotation.*`, or `trace.annotations.0.annotation.*` for a whole trace).
pub(crate) const GEN_AI_EVALUATION_RESULT: &str = "gen_ai.evaluation.result";
pub(crate) const GEN_AI_EVALUATION_NAME: &str = "gen_ai.evaluation.name";
pub(crate) const GEN_AI_EVALUATION_SCORE_VALUE: &str = "gen_ai.evaluation.score.value";
pub(crate) const GEN_AI_EVALUATION_SCORE_LABEL: &str = "gen_ai.evaluation.score.label";
pub(crate) const GEN_AI_EVALUATION_EXPLANATION: &str = "gen_ai.evaluation.explanation";
/// Who evaluated: `HUMAN` (the feedback endpoint) or `LLM` (the judge); OpenInference's `annotator_kind`, which
/// GenAI has no name for.
pub(crate) const LLM_EVALUATION_ANNOTATOR_KIND: &str = "llm.evaluation.annotator_kind";
/// The judge's own call: its model, tokens and cost (in `pricing.currency`).
pub(crate) const LLM_JUDGE_MODEL: &str = "llm.judge.model";
pub(crate) const LLM_JUDGE_USAGE_INPUT_TOKENS: &str = "llm.judge.usage.input_tokens";
pub(crate) const LLM_JUDGE_USAGE_OUTPUT_TOKENS: &str = "llm.judge.usage.output_tokens";
pub(crate) const LLM_JUDGE_USAGE_COST: &str = "llm.judge.usage.cost";
/// OpenInference annotation prefixes: one span's, one trace's.
pub(crate) const OI_SPAN_ANNOTATION: &str = "annotations.0.annotation";
pub(crate) const OI_TRACE_ANNOTATION: &str = "trace.annotations.0.annotation";

// Resource attributes.
pub(crate) const SERVICE_NAME: &str = "service.name";
pub(crate) const SERVICE_VERSION: &str = "service.version";

/// Schema URL stamped on the exported scope: the semantic conventions version the attribute names follow.
pub(crate) const SCHEMA_URL_V1_41: &str = "https://opentelemetry.io/schemas/1.41.0";

/// The attribute of a rate-limit figure.
pub(crate) fn rate_limit(field: RateLimit) -> &'static str {
    match field {
        RateLimit::RequestsLimit => LLM_RATELIMIT_REQUESTS_LIMIT,
        RateLimit::RequestsRemaining => LLM_RATELIMIT_REQUESTS_REMAINING,
        RateLimit::RequestsReset => LLM_RATELIMIT_REQUESTS_RESET,
        RateLimit::TokensLimit => LLM_RATELIMIT_TOKENS_LIMIT,
        RateLimit::TokensRemaining => LLM_RATELIMIT_TOKENS_REMAINING,
        RateLimit::TokensReset => LLM_RATELIMIT_TOKENS_RESET,
        RateLimit::InputTokensRemaining => LLM_RATELIMIT_INPUT_TOKENS_REMAINING,
        RateLimit::OutputTokensRemaining => LLM_RATELIMIT_OUTPUT_TOKENS_REMAINING,
        RateLimit::RetryAfter => LLM_RATELIMIT_RETRY_AFTER,
    }
}

/// `prefix.name` (a per-detector count's attribute or stat name), without the formatting machinery: one per
/// detector that fired, on every redacted span.
pub(crate) fn dotted(prefix: &str, name: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + 1 + name.len());
    s.push_str(prefix);
    s.push('.');
    s.push_str(name);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_figures_have_their_attribute_names() {
        assert_eq!(
            rate_limit(RateLimit::RequestsRemaining),
            "llm.ratelimit.requests.remaining"
        );
        assert_eq!(rate_limit(RateLimit::TokensReset), "llm.ratelimit.tokens.reset");
        assert_eq!(
            rate_limit(RateLimit::OutputTokensRemaining),
            "llm.ratelimit.output_tokens.remaining"
        );
        assert_eq!(rate_limit(RateLimit::RetryAfter), "llm.ratelimit.retry_after");
    }
}
