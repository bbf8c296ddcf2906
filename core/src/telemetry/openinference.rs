//! The OpenInference dialect (Arize Phoenix, Arize AX), per the OpenInference spec (`spec/semantic_conventions.md`,
//! `llm_spans.md`, `embedding_spans.md`, `tool_calling.md`, `multimodal_attributes.md`): span kind, model, token
//! counts, cost, invocation parameters, finish reason, the first-token span event, and with content capture the
//! flattened messages (tool calls, tool results, reasoning as its own content item, the system prompt as a system
//! message), the advertised tools, Completions' prompts and choices, and the embedded texts.
//!
//! Content goes through the same pipeline as the GenAI attributes (metadata only, or redacted; then fitted to
//! `max_content_bytes`), once per structure: the flattened attributes and `input.value` / `output.value` are read
//! from the same fitted value, so they agree and the JSON ones always parse.

use super::attributes as attr;
use super::content::export_value;
use super::span::{AttrValue, AttributeList, SpanEvent, SpanOptions};
use crate::model::content::{CaptureMode, InputContent};
use crate::model::cost::{pico_to_units, CostOutcome};
use crate::model::observation::{Observation, RequestParams};
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// Messages flattened per list; a longer history keeps its first message and the most recent ones.
const MAX_MESSAGES: usize = 128;
/// Content items or tool calls flattened per message.
const MAX_PARTS: usize = 64;
/// Tools, prompts, choices or embedded texts flattened per span.
const MAX_ITEMS: usize = 128;

/// The OpenInference attributes of one call.
pub(super) fn openinference_attributes(
    a: &mut AttributeList,
    obs: &Observation,
    options: &SpanOptions<'_>,
    redactions: &mut Vec<(Arc<str>, u32)>,
) {
    let embedding = obs.operation == "embeddings";
    let u = &obs.usage;
    if embedding {
        // Embedding spans name their model in their own namespace and carry no system or provider (spec).
        a.str(attr::OPENINFERENCE_SPAN_KIND, Some("EMBEDDING"));
        a.str(attr::OI_EMBEDDING_MODEL_NAME, obs.answering_model());
        a.str(
            attr::OI_EMBEDDING_INVOCATION_PARAMETERS,
            Some(&invocation_parameters(&obs.request)),
        );
        a.uint(attr::OI_TOKEN_COUNT_PROMPT, u.input_tokens);
        a.uint(attr::OI_TOKEN_COUNT_TOTAL, u.total_tokens.or(u.input_tokens));
    } else {
        a.str(attr::OPENINFERENCE_SPAN_KIND, Some("LLM"));
        let (system, provider) = openinference_system(&obs.provider);
        a.str(attr::OI_LLM_SYSTEM, Some(system));
        a.str(attr::OI_LLM_PROVIDER, Some(provider));
        a.str(attr::OI_LLM_MODEL_NAME, obs.answering_model());
        a.str(
            attr::OI_LLM_INVOCATION_PARAMETERS,
            Some(&invocation_parameters(&obs.request)),
        );
        let output = obs.output_tokens();
        a.uint(attr::OI_TOKEN_COUNT_PROMPT, u.input_tokens);
        a.uint(attr::OI_TOKEN_COUNT_COMPLETION, output);
        if let (Some(i), Some(o)) = (u.input_tokens, output) {
            a.uint(attr::OI_TOKEN_COUNT_TOTAL, Some(i + o));
        }
        a.uint(attr::OI_TOKEN_COUNT_CACHE_READ, u.cache_read_tokens);
        a.uint(attr::OI_TOKEN_COUNT_CACHE_WRITE, u.cache_creation_tokens);
        a.uint(attr::OI_TOKEN_COUNT_REASONING, u.reasoning_tokens);
        let finish = obs.response.finish_reasons.iter().find(|r| !r.is_empty());
        a.str(attr::OI_LLM_FINISH_REASON, finish.map(String::as_str));
    }
    cost_attributes(a, obs);
    if obs.capture == CaptureMode::Off {
        return;
    }
    let mut content = Content {
        a,
        obs,
        options,
        redactions,
    };
    match obs.operation {
        "embeddings" => content.embedded_texts(),
        "text_completion" => content.prompts_and_choices(),
        _ => content.messages_and_tools(),
    }
}

/// The OpenInference span events: `First Token Stream Event` at the first streamed token, as OpenInference's own
/// instrumentations add it (Phoenix lists it in the span's events).
pub(super) fn openinference_events(obs: &Observation, start_unix_ns: u64) -> Vec<SpanEvent> {
    let t = &obs.timing;
    match t.first_token_ns.filter(|_| obs.request.stream) {
        Some(first) => vec![SpanEvent {
            time_unix_ns: start_unix_ns.saturating_add(first.saturating_sub(t.start_ns)),
            name: Cow::Borrowed(attr::OI_FIRST_TOKEN_EVENT),
            attributes: Vec::new(),
        }],
        None => Vec::new(),
    }
}

/// `llm.cost.*`: US dollars by the spec, so only when pricing is in USD. Prompt = uncached input + cache reads +
/// cache writes; completion = output (reasoning included), split into visible output and reasoning.
fn cost_attributes(a: &mut AttributeList, obs: &Observation) {
    let CostOutcome::Priced(p) = &obs.cost else {
        return;
    };
    if p.currency != "USD" {
        return;
    }
    let c = p.cost;
    let usd = |pico: u64| Some(pico_to_units(pico));
    a.double(attr::OI_COST_TOTAL, usd(c.total()));
    a.double(
        attr::OI_COST_PROMPT,
        usd(c.input.saturating_add(c.cache_read).saturating_add(c.cache_write)),
    );
    a.double(attr::OI_COST_COMPLETION, usd(c.output));
    a.double(attr::OI_COST_PROMPT_INPUT, usd(c.input));
    a.double(attr::OI_COST_PROMPT_CACHE_READ, usd(c.cache_read));
    a.double(attr::OI_COST_PROMPT_CACHE_WRITE, usd(c.cache_write));
    let reasoning = c.reasoning.min(c.output);
    a.double(attr::OI_COST_COMPLETION_OUTPUT, usd(c.output - reasoning));
    if obs.usage.reasoning_tokens.is_some() {
        a.double(attr::OI_COST_COMPLETION_REASONING, usd(reasoning));
    }
}

fn invocation_parameters(r: &RequestParams) -> String {
    let mut params = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            params.insert(k.to_string(), v);
        }
    };
    put("model", r.model.clone().map(Value::from));
    put("temperature", r.temperature.map(Value::from));
    put("top_p", r.top_p.map(Value::from));
    put("max_tokens", r.max_tokens.map(Value::from));
    put("seed", r.seed.map(Value::from));
    put("frequency_penalty", r.frequency_penalty.map(Value::from));
    put("presence_penalty", r.presence_penalty.map(Value::from));
    put(
        "stop",
        (!r.stop_sequences.is_empty()).then(|| Value::from(r.stop_sequences.clone())),
    );
    put("n", r.choice_count.map(Value::from));
    put("stream", Some(Value::from(r.stream)));
    Value::Object(params).to_string()
}

/// The content attributes of one span, from the captured GenAI-structured content.
struct Content<'a, 'b> {
    a: &'a mut AttributeList,
    obs: &'a Observation,
    options: &'a SpanOptions<'b>,
    redactions: &'a mut Vec<(Arc<str>, u32)>,
}

impl Content<'_, '_> {
    /// `value` as exported (metadata only or redacted, fitted to the size limit), and its JSON.
    fn export(&mut self, value: &Value) -> Option<(Value, String)> {
        export_value(value, self.obs.capture, self.options, self.redactions)
    }

    fn json_value(&mut self, value_key: &'static str, mime_key: &'static str, json: String) {
        self.a.0.push((Cow::Borrowed(value_key), AttrValue::Str(json)));
        self.a.str(mime_key, Some("application/json"));
    }

    /// Chat-shaped APIs: input messages (the system prompt first), tools, output messages.
    fn messages_and_tools(&mut self) {
        let input = self.obs.input.as_ref();
        if let Some(messages) = input.and_then(input_messages) {
            if let Some((fitted, json)) = self.export(&messages) {
                let mut flat = Messages::default();
                fitted.as_array().into_iter().flatten().for_each(|m| flat.add(m));
                flat.emit(self.a, attr::OI_INPUT_MESSAGES);
                self.json_value(attr::OI_INPUT_VALUE, attr::OI_INPUT_MIME_TYPE, json);
            }
        }
        if let Some(tools) = input
            .and_then(|i| i.tool_definitions.as_ref())
            .and_then(Value::as_array)
        {
            let schemas = Value::Array(tools.iter().map(tool_schema).collect());
            if let Some((fitted, _)) = self.export(&schemas) {
                for (i, schema) in fitted.as_array().into_iter().flatten().take(MAX_ITEMS).enumerate() {
                    self.a.owned(
                        format!("{}.{i}.tool.json_schema", attr::OI_TOOLS),
                        AttrValue::Str(schema.to_string()),
                    );
                }
            }
        }
        let Some(out) = self.obs.output.as_ref().filter(|o| !o.choices.is_empty()) else {
            return;
        };
        // The same structure as `gen_ai.output.messages`, so both are cut at the same place.
        let messages = out.to_messages(&self.obs.response.finish_reasons, true);
        if let Some((fitted, json)) = self.export(&messages) {
            let mut flat = Messages::default();
            fitted.as_array().into_iter().flatten().for_each(|m| flat.add(m));
            flat.emit(self.a, attr::OI_OUTPUT_MESSAGES);
            match answer_text(&fitted) {
                Some(text) => {
                    self.a.str(attr::OI_OUTPUT_VALUE, Some(&text));
                    self.a.str(attr::OI_OUTPUT_MIME_TYPE, Some("text/plain"));
                }
                None => self.json_value(attr::OI_OUTPUT_VALUE, attr::OI_OUTPUT_MIME_TYPE, json),
            }
        }
    }

    /// Legacy Completions: `llm.prompts.<i>.prompt.text` and `llm.choices.<i>.completion.text`.
    fn prompts_and_choices(&mut self) {
        if let Some(prompts) = self.obs.input.as_ref().map(prompt_texts) {
            if let Some((fitted, json)) = self.export(&prompts) {
                self.texts(&fitted, attr::OI_PROMPTS, "prompt.text");
                self.json_value(attr::OI_INPUT_VALUE, attr::OI_INPUT_MIME_TYPE, json);
            }
        }
        let Some(out) = self.obs.output.as_ref().filter(|o| !o.choices.is_empty()) else {
            return;
        };
        let choices = Value::Array(out.choices.iter().map(|c| Value::from(c.text.as_str())).collect());
        if let Some((fitted, json)) = self.export(&choices) {
            self.texts(&fitted, attr::OI_CHOICES, "completion.text");
            match fitted.as_array().map(Vec::as_slice) {
                Some([Value::String(text)]) => {
                    self.a.str(attr::OI_OUTPUT_VALUE, Some(text));
                    self.a.str(attr::OI_OUTPUT_MIME_TYPE, Some("text/plain"));
                }
                _ => self.json_value(attr::OI_OUTPUT_VALUE, attr::OI_OUTPUT_MIME_TYPE, json),
            }
        }
    }

    /// Embeddings: `embedding.embeddings.<i>.embedding.text` for text inputs (vectors are not captured).
    fn embedded_texts(&mut self) {
        if let Some(texts) = self.obs.input.as_ref().map(prompt_texts) {
            if let Some((fitted, json)) = self.export(&texts) {
                self.texts(&fitted, attr::OI_EMBEDDINGS, "embedding.text");
                self.json_value(attr::OI_INPUT_VALUE, attr::OI_INPUT_MIME_TYPE, json);
            }
        }
    }

    /// `<prefix>.<i>.<suffix>` for each string of a fitted array.
    fn texts(&mut self, fitted: &Value, prefix: &str, suffix: &str) {
        let texts = fitted.as_array().into_iter().flatten().filter_map(Value::as_str);
        for (i, text) in texts.take(MAX_ITEMS).enumerate() {
            self.a
                .owned(format!("{prefix}.{i}.{suffix}"), AttrValue::Str(text.to_string()));
        }
    }
}

/// The input messages with the system prompt first, as a system message, on the APIs that send it apart
/// (`system`, `instructions`, `systemInstruction`).
fn input_messages(input: &InputContent) -> Option<Value> {
    let mut all = Vec::new();
    let system = input.system_instructions.as_ref().and_then(Value::as_array);
    if let Some(parts) = system.filter(|p| !p.is_empty()) {
        all.push(json!({"role": "system", "parts": parts}));
    }
    all.extend(
        input
            .messages
            .as_ref()
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .cloned(),
    );
    (!all.is_empty()).then_some(Value::Array(all))
}

/// The non-empty texts of a prompt given as one user message (Completions' prompts, Embeddings' inputs; token-id
/// inputs have no text).
fn prompt_texts(input: &InputContent) -> Value {
    let messages = input.messages.as_ref().and_then(Value::as_array);
    let parts = messages
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("parts")?.as_array())
        .flatten();
    Value::Array(
        parts
            .filter_map(|p| p.get("content")?.as_str())
            .filter(|t| !t.is_empty())
            .map(Value::from)
            .collect(),
    )
}

/// A tool definition as OpenInference's `tool.json_schema`: `{"type": "function", "function": {name, description,
/// parameters}}`, whatever the API's own nesting was.
fn tool_schema(definition: &Value) -> Value {
    let mut function = Map::new();
    for key in ["name", "description", "parameters"] {
        if let Some(v) = definition.get(key).filter(|v| !v.is_null()) {
            function.insert(key.to_string(), v.clone());
        }
    }
    let kind = definition.get("type").and_then(Value::as_str).unwrap_or("function");
    json!({"type": kind, "function": function})
}

/// The answer as plain text when it is one choice of text only (reasoning, if any, stays in the messages); `None`
/// when it holds tool calls or several choices, which go out as JSON.
fn answer_text(messages: &Value) -> Option<String> {
    let [message] = messages.as_array()?.as_slice() else {
        return None;
    };
    let parts = message.get("parts")?.as_array()?;
    if parts.iter().any(|p| part_type(p) == "tool_call") {
        return None;
    }
    let texts: Vec<&str> = parts
        .iter()
        .filter(|p| part_type(p) == "text")
        .filter_map(|p| p.get("content")?.as_str())
        .collect();
    (!texts.is_empty()).then(|| texts.concat())
}

fn part_type(part: &Value) -> &str {
    part.get("type").and_then(Value::as_str).unwrap_or_default()
}

/// A JSON value as attribute text: strings as they are, anything else serialized.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One item of `message.contents`.
enum Item {
    Text(String),
    Reasoning(String),
    Image(String),
}

impl Item {
    /// The content item a GenAI part becomes; tool calls and results are not content items.
    fn of(part: &Value) -> Option<Item> {
        let content = || part.get("content").map(text_of).unwrap_or_default();
        let image = part.get("modality").and_then(Value::as_str) == Some("image");
        Some(match part_type(part) {
            "text" => Item::Text(content()),
            "reasoning" => Item::Reasoning(content()),
            "tool_call" | "tool_call_response" => return None,
            // An inline image is not captured; its placeholder takes the URL's place, as OpenInference's own
            // hidden images do.
            "uri" if image => Item::Image(part.get("uri").map(text_of).unwrap_or_default()),
            "blob" if image => Item::Image(content()),
            "uri" => Item::Text(part.get("uri").map(text_of).unwrap_or_default()),
            _ => Item::Text(text_of(part.get("content").filter(|c| !c.is_null())?)),
        })
    }
}

/// Messages flattened the OpenInference way, held until every message is known so a long history can keep its
/// first and last ones with contiguous indexes.
#[derive(Default)]
struct Messages {
    /// Per message, its attributes below `<prefix>.<i>.`.
    flat: Vec<Vec<(String, AttrValue)>>,
    /// Tool-call id → function name, for the `message.name` of the tool's result.
    tool_names: HashMap<String, String>,
}

impl Messages {
    /// Adds one GenAI message. Each tool result becomes a `tool` message of its own (OpenInference has one
    /// `message.tool_call_id` per message; Anthropic and Bedrock send several results in one user message).
    fn add(&mut self, message: &Value) {
        let role = message.get("role").and_then(Value::as_str).unwrap_or("user");
        let parts = message.get("parts").and_then(Value::as_array);
        let mut pending: Vec<&Value> = Vec::new();
        let mut added = false;
        for part in parts.into_iter().flatten() {
            if part_type(part) == "tool_call_response" {
                if !pending.is_empty() {
                    self.push(role, &pending);
                    pending.clear();
                }
                self.push_tool_result(part);
                added = true;
            } else {
                pending.push(part);
            }
        }
        if !pending.is_empty() || !added {
            self.push(role, &pending);
        }
    }

    fn push(&mut self, role: &str, parts: &[&Value]) {
        let mut m = vec![("message.role".to_string(), AttrValue::Str(role.to_string()))];
        let items: Vec<Item> = parts.iter().filter_map(|p| Item::of(p)).collect();
        if let [Item::Text(text)] = items.as_slice() {
            m.push(("message.content".to_string(), AttrValue::Str(text.clone())));
        } else {
            for (j, item) in items.into_iter().take(MAX_PARTS).enumerate() {
                let base = format!("message.contents.{j}.message_content");
                let (kind, key, value) = match item {
                    Item::Text(t) => ("text", "text", t),
                    Item::Reasoning(t) => ("reasoning", "text", t),
                    Item::Image(url) => ("image", "image.image.url", url),
                };
                m.push((format!("{base}.type"), AttrValue::Str(kind.to_string())));
                m.push((format!("{base}.{key}"), AttrValue::Str(value)));
            }
        }
        let calls = parts.iter().filter(|p| part_type(p) == "tool_call");
        for (k, call) in calls.take(MAX_PARTS).enumerate() {
            let base = format!("message.tool_calls.{k}.tool_call");
            let id = call.get("id").and_then(Value::as_str);
            let name = call.get("name").and_then(Value::as_str);
            if let Some(id) = id {
                m.push((format!("{base}.id"), AttrValue::Str(id.to_string())));
            }
            if let Some(name) = name {
                m.push((format!("{base}.function.name"), AttrValue::Str(name.to_string())));
            }
            if let Some(arguments) = call.get("arguments").filter(|v| !v.is_null()) {
                m.push((format!("{base}.function.arguments"), AttrValue::Str(text_of(arguments))));
            }
            if let (Some(id), Some(name)) = (id, name) {
                self.tool_names.insert(id.to_string(), name.to_string());
            }
        }
        self.flat.push(m);
    }

    fn push_tool_result(&mut self, part: &Value) {
        let mut m = vec![("message.role".to_string(), AttrValue::Str("tool".to_string()))];
        if let Some(id) = part.get("id").and_then(Value::as_str) {
            m.push(("message.tool_call_id".to_string(), AttrValue::Str(id.to_string())));
            if let Some(name) = self.tool_names.get(id) {
                m.push(("message.name".to_string(), AttrValue::Str(name.clone())));
            }
        }
        if let Some(response) = part.get("response").filter(|v| !v.is_null()) {
            m.push(("message.content".to_string(), AttrValue::Str(result_text(response))));
        }
        self.flat.push(m);
    }

    /// Writes `<prefix>.<i>.<suffix>`: every message, or past [`MAX_MESSAGES`] the first and the most recent.
    fn emit(self, a: &mut AttributeList, prefix: &str) {
        let n = self.flat.len();
        let kept = self
            .flat
            .into_iter()
            .enumerate()
            .filter(|(i, _)| n <= MAX_MESSAGES || *i == 0 || *i > n - MAX_MESSAGES)
            .map(|(_, m)| m);
        for (index, message) in kept.enumerate() {
            for (suffix, value) in message {
                a.owned(format!("{prefix}.{index}.{suffix}"), value);
            }
        }
    }
}

/// A tool result as message text: a string as it is, a list of text blocks (Anthropic, Bedrock) as their texts,
/// anything else as JSON.
fn result_text(response: &Value) -> String {
    if let Some(blocks) = response.as_array() {
        let texts: Option<Vec<&str>> = blocks.iter().map(|b| b.get("text")?.as_str()).collect();
        if let Some(texts) = texts.filter(|t| !t.is_empty()) {
            return texts.join("\n");
        }
    }
    text_of(response)
}

/// OpenInference splits the model family (`llm.system`) from who hosts it (`llm.provider`).
fn openinference_system(provider: &str) -> (&'static str, &'static str) {
    match provider {
        "openai" => ("openai", "openai"),
        "azure.ai.openai" => ("openai", "azure"),
        "anthropic" => ("anthropic", "anthropic"),
        "aws.bedrock" => ("amazon", "aws"),
        "gcp.gemini" | "gcp.vertex_ai" | "gcp.gen_ai" => ("vertexai", "google"),
        "mistral_ai" => ("mistralai", "mistralai"),
        "groq" => ("openai", "groq"),
        "deepseek" => ("deepseek", "deepseek"),
        "x_ai" => ("xai", "xai"),
        "together_ai" => ("openai", "together"),
        _ => ("openai", "openai"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::content::OutputContent;
    use crate::model::cost::{Cost, PriceSource, Priced};
    use crate::model::observation::Usage;
    use crate::provider::Api;

    fn observation(api: Api, operation: &'static str, request: &str) -> Observation {
        let mut o = Observation {
            provider: "openai".into(),
            operation,
            capture: CaptureMode::Full,
            ..Default::default()
        };
        o.input = Some(api.request_content(request.as_bytes()));
        o.output = Some(OutputContent::new(1 << 16));
        o
    }

    fn attributes(o: &Observation, options: &SpanOptions<'_>) -> Vec<(String, AttrValue)> {
        let mut a = AttributeList::default();
        openinference_attributes(&mut a, o, options, &mut Vec::new());
        a.0.into_iter().map(|(k, v)| (k.into_owned(), v)).collect()
    }

    /// The attributes under `prefix`, as `(key, text)` with every value shown as text.
    fn under(attrs: &[(String, AttrValue)], prefix: &str) -> Vec<(String, String)> {
        attrs
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| {
                let text = match v {
                    AttrValue::Str(s) => s.clone(),
                    other => format!("{other:?}"),
                };
                (k.clone(), text)
            })
            .collect()
    }

    fn get<'a>(attrs: &'a [(String, AttrValue)], key: &str) -> Option<&'a AttrValue> {
        attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn chat_tool_calls_tool_results_and_tools_are_flattened_per_spec() {
        let mut o = observation(
            Api::OpenAiChat,
            "chat",
            r#"{"model":"gpt-4o","tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object"}}}],
               "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Weather in Paris?"},
               {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
               {"role":"tool","tool_call_id":"call_1","content":"{\"temp\":21}"}]}"#,
        );
        let out = o.output.as_mut().unwrap();
        out.push_tool_call(0, 0, Some("call_2"), Some("get_weather"), r#"{"city":"Lyon"}"#);
        o.response.finish_reasons = vec!["tool_calls".into()];
        let a = attributes(&o, &SpanOptions::default());
        assert_eq!(
            under(&a, "llm.input_messages."),
            pairs(&[
                ("llm.input_messages.0.message.role", "system"),
                ("llm.input_messages.0.message.content", "Be brief."),
                ("llm.input_messages.1.message.role", "user"),
                ("llm.input_messages.1.message.content", "Weather in Paris?"),
                ("llm.input_messages.2.message.role", "assistant"),
                ("llm.input_messages.2.message.tool_calls.0.tool_call.id", "call_1"),
                (
                    "llm.input_messages.2.message.tool_calls.0.tool_call.function.name",
                    "get_weather"
                ),
                (
                    "llm.input_messages.2.message.tool_calls.0.tool_call.function.arguments",
                    r#"{"city":"Paris"}"#
                ),
                ("llm.input_messages.3.message.role", "tool"),
                ("llm.input_messages.3.message.tool_call_id", "call_1"),
                ("llm.input_messages.3.message.name", "get_weather"),
                ("llm.input_messages.3.message.content", r#"{"temp":21}"#),
            ])
        );
        assert_eq!(
            under(&a, "llm.tools."),
            pairs(&[(
                "llm.tools.0.tool.json_schema",
                r#"{"function":{"description":"Weather","name":"get_weather","parameters":{"type":"object"}},"type":"function"}"#
            )])
        );
        assert_eq!(
            under(&a, "llm.output_messages."),
            pairs(&[
                ("llm.output_messages.0.message.role", "assistant"),
                ("llm.output_messages.0.message.tool_calls.0.tool_call.id", "call_2"),
                (
                    "llm.output_messages.0.message.tool_calls.0.tool_call.function.name",
                    "get_weather"
                ),
                (
                    "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments",
                    r#"{"city":"Lyon"}"#
                ),
            ])
        );
        assert_eq!(get(&a, "llm.finish_reason"), Some(&AttrValue::Str("tool_calls".into())));
        // A tool-call answer is not text: `output.value` is the messages' JSON.
        let Some(AttrValue::Str(output)) = get(&a, "output.value") else {
            panic!()
        };
        let parsed: Value = serde_json::from_str(output).unwrap();
        assert_eq!(parsed[0]["parts"][0]["name"], "get_weather");
        assert_eq!(
            get(&a, "output.mime_type"),
            Some(&AttrValue::Str("application/json".into()))
        );
        let Some(AttrValue::Str(input)) = get(&a, "input.value") else {
            panic!()
        };
        assert_eq!(
            serde_json::from_str::<Value>(input).unwrap().as_array().unwrap().len(),
            4
        );
    }

    #[test]
    fn system_prompt_reasoning_and_several_tool_results_keep_their_own_places() {
        let mut o = observation(
            Api::AnthropicMessages,
            "chat",
            r#"{"model":"claude-sonnet-4-5","system":"You are terse.","messages":[
               {"role":"user","content":"Two cities"},
               {"role":"assistant","content":[{"type":"tool_use","id":"tu_1","name":"weather","input":{"city":"Paris"}},
                                              {"type":"tool_use","id":"tu_2","name":"weather","input":{"city":"Rome"}}]},
               {"role":"user","content":[{"type":"tool_result","tool_use_id":"tu_1","content":[{"type":"text","text":"21C"}]},
                                         {"type":"tool_result","tool_use_id":"tu_2","content":"25C"},
                                         {"type":"text","text":"Compare them"}]}]}"#,
        );
        o.provider = "anthropic".into();
        let out = o.output.as_mut().unwrap();
        out.push_reasoning(0, "Rome is warmer.");
        out.push_text(0, "Rome.");
        let a = attributes(&o, &SpanOptions::default());
        assert_eq!(
            under(&a, "llm.input_messages."),
            pairs(&[
                ("llm.input_messages.0.message.role", "system"),
                ("llm.input_messages.0.message.content", "You are terse."),
                ("llm.input_messages.1.message.role", "user"),
                ("llm.input_messages.1.message.content", "Two cities"),
                ("llm.input_messages.2.message.role", "assistant"),
                ("llm.input_messages.2.message.tool_calls.0.tool_call.id", "tu_1"),
                (
                    "llm.input_messages.2.message.tool_calls.0.tool_call.function.name",
                    "weather"
                ),
                (
                    "llm.input_messages.2.message.tool_calls.0.tool_call.function.arguments",
                    r#"{"city":"Paris"}"#
                ),
                ("llm.input_messages.2.message.tool_calls.1.tool_call.id", "tu_2"),
                (
                    "llm.input_messages.2.message.tool_calls.1.tool_call.function.name",
                    "weather"
                ),
                (
                    "llm.input_messages.2.message.tool_calls.1.tool_call.function.arguments",
                    r#"{"city":"Rome"}"#
                ),
                ("llm.input_messages.3.message.role", "tool"),
                ("llm.input_messages.3.message.tool_call_id", "tu_1"),
                ("llm.input_messages.3.message.name", "weather"),
                ("llm.input_messages.3.message.content", "21C"),
                ("llm.input_messages.4.message.role", "tool"),
                ("llm.input_messages.4.message.tool_call_id", "tu_2"),
                ("llm.input_messages.4.message.name", "weather"),
                ("llm.input_messages.4.message.content", "25C"),
                ("llm.input_messages.5.message.role", "user"),
                ("llm.input_messages.5.message.content", "Compare them"),
            ])
        );
        assert_eq!(
            under(&a, "llm.output_messages."),
            pairs(&[
                ("llm.output_messages.0.message.role", "assistant"),
                (
                    "llm.output_messages.0.message.contents.0.message_content.type",
                    "reasoning"
                ),
                (
                    "llm.output_messages.0.message.contents.0.message_content.text",
                    "Rome is warmer."
                ),
                ("llm.output_messages.0.message.contents.1.message_content.type", "text"),
                ("llm.output_messages.0.message.contents.1.message_content.text", "Rome."),
            ])
        );
        // The answer alone, not glued to the thinking.
        assert_eq!(get(&a, "output.value"), Some(&AttrValue::Str("Rome.".into())));
        assert_eq!(get(&a, "output.mime_type"), Some(&AttrValue::Str("text/plain".into())));
        assert_eq!(get(&a, "llm.system"), Some(&AttrValue::Str("anthropic".into())));
    }

    #[test]
    fn images_and_several_texts_use_message_contents() {
        let o = observation(
            Api::OpenAiChat,
            "chat",
            r#"{"messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},
               {"type":"image_url","image_url":{"url":"https://example.com/cat.png"}},
               {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}"#,
        );
        let a = attributes(&o, &SpanOptions::default());
        let m = "llm.input_messages.0.message.contents";
        assert_eq!(
            under(&a, m),
            pairs(&[
                (&format!("{m}.0.message_content.type"), "text"),
                (&format!("{m}.0.message_content.text"), "What is this?"),
                (&format!("{m}.1.message_content.type"), "image"),
                (
                    &format!("{m}.1.message_content.image.image.url"),
                    "https://example.com/cat.png"
                ),
                (&format!("{m}.2.message_content.type"), "image"),
                (&format!("{m}.2.message_content.image.image.url"), "[image omitted]"),
            ])
        );
    }

    #[test]
    fn truncated_content_stays_json_in_input_value_and_in_sync_with_the_messages() {
        let long = "word ".repeat(2000);
        let request =
            json!({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": long}]});
        let o = observation(Api::OpenAiChat, "chat", &request.to_string());
        let options = SpanOptions {
            max_content_bytes: 1024,
            ..Default::default()
        };
        let a = attributes(&o, &options);
        let Some(AttrValue::Str(input)) = get(&a, "input.value") else {
            panic!()
        };
        assert!(input.len() <= 1024, "{}", input.len());
        let parsed: Value = serde_json::from_str(input).unwrap();
        let cut = parsed[1]["parts"][0]["content"].as_str().unwrap();
        assert!(cut.ends_with(attr::TRUNCATION_MARKER));
        assert_eq!(
            get(&a, "llm.input_messages.1.message.content"),
            Some(&AttrValue::Str(cut.to_string()))
        );
        assert_eq!(
            get(&a, "llm.input_messages.0.message.content"),
            Some(&AttrValue::Str("Be brief.".into()))
        );
    }

    #[test]
    fn embeddings_carry_their_model_texts_and_token_counts() {
        let mut o = observation(
            Api::OpenAiEmbeddings,
            "embeddings",
            r#"{"model":"text-embedding-3-small","input":["hello","world"]}"#,
        );
        o.response.model = Some("text-embedding-3-small".into());
        o.usage = Usage {
            input_tokens: Some(2),
            total_tokens: Some(2),
            ..Default::default()
        };
        let a = attributes(&o, &SpanOptions::default());
        assert_eq!(
            get(&a, "openinference.span.kind"),
            Some(&AttrValue::Str("EMBEDDING".into()))
        );
        assert_eq!(
            get(&a, "embedding.model_name"),
            Some(&AttrValue::Str("text-embedding-3-small".into()))
        );
        assert_eq!(get(&a, "llm.token_count.prompt"), Some(&AttrValue::Int(2)));
        assert_eq!(get(&a, "llm.token_count.total"), Some(&AttrValue::Int(2)));
        assert_eq!(
            under(&a, "embedding.embeddings."),
            pairs(&[
                ("embedding.embeddings.0.embedding.text", "hello"),
                ("embedding.embeddings.1.embedding.text", "world"),
            ])
        );
        assert_eq!(
            get(&a, "input.value"),
            Some(&AttrValue::Str(r#"["hello","world"]"#.into()))
        );
        for absent in [
            "llm.system",
            "llm.provider",
            "llm.model_name",
            "llm.token_count.completion",
            "output.value",
        ] {
            assert_eq!(get(&a, absent), None, "{absent}");
        }
        assert!(under(&a, "llm.input_messages").is_empty());
    }

    #[test]
    fn legacy_completions_use_prompts_and_choices() {
        let mut o = observation(
            Api::OpenAiCompletions,
            "text_completion",
            r#"{"model":"gpt-3.5-turbo-instruct","prompt":"Say hi"}"#,
        );
        o.output.as_mut().unwrap().push_text(0, " Hi!");
        let a = attributes(&o, &SpanOptions::default());
        assert_eq!(
            under(&a, "llm.prompts."),
            pairs(&[("llm.prompts.0.prompt.text", "Say hi")])
        );
        assert_eq!(
            under(&a, "llm.choices."),
            pairs(&[("llm.choices.0.completion.text", " Hi!")])
        );
        assert_eq!(get(&a, "output.value"), Some(&AttrValue::Str(" Hi!".into())));
        assert!(under(&a, "llm.input_messages").is_empty() && under(&a, "llm.output_messages").is_empty());
    }

    #[test]
    fn metadata_mode_keeps_the_shape_without_any_text() {
        let mut o = observation(
            Api::OpenAiChat,
            "chat",
            r#"{"messages":[{"role":"user","content":"my secret plan"}]}"#,
        );
        o.capture = CaptureMode::Metadata;
        o.output
            .as_mut()
            .unwrap()
            .push_tool_call(0, 0, Some("c"), Some("run"), r#"{"x":1}"#);
        let a = attributes(&o, &SpanOptions::default());
        assert_eq!(
            get(&a, "llm.input_messages.0.message.content"),
            Some(&AttrValue::Str("[14 chars]".into()))
        );
        assert_eq!(
            get(&a, "llm.output_messages.0.message.tool_calls.0.tool_call.function.name"),
            Some(&AttrValue::Str("run".into()))
        );
        assert!(!format!("{a:?}").contains("secret"));
    }

    fn priced(currency: &str) -> CostOutcome {
        CostOutcome::Priced(Priced {
            cost: Cost {
                input: 1_000_000_000,
                output: 3_000_000_000,
                cache_read: 500_000_000,
                cache_write: 250_000_000,
                reasoning: 1_000_000_000,
            },
            currency: currency.into(),
            source: PriceSource::Config,
            priced_model: "m".into(),
            estimated: false,
            tier: None,
        })
    }

    #[test]
    fn cost_follows_the_spec_names_in_usd_only() {
        let mut o = observation(Api::OpenAiChat, "chat", "{}");
        o.capture = CaptureMode::Off;
        o.usage.reasoning_tokens = Some(10);
        o.cost = priced("USD");
        let a = attributes(&o, &SpanOptions::default());
        assert_eq!(
            under(&a, "llm.cost."),
            pairs(&[
                ("llm.cost.total", "Double(0.00475)"),
                ("llm.cost.prompt", "Double(0.00175)"),
                ("llm.cost.completion", "Double(0.003)"),
                ("llm.cost.prompt_details.input", "Double(0.001)"),
                ("llm.cost.prompt_details.cache_read", "Double(0.0005)"),
                ("llm.cost.prompt_details.cache_write", "Double(0.00025)"),
                ("llm.cost.completion_details.output", "Double(0.002)"),
                ("llm.cost.completion_details.reasoning", "Double(0.001)"),
            ])
        );
        o.cost = priced("EUR");
        assert!(under(&attributes(&o, &SpanOptions::default()), "llm.cost").is_empty());
    }

    #[test]
    fn first_token_event_marks_the_first_streamed_token() {
        let mut o = observation(Api::OpenAiChat, "chat", "{}");
        o.timing.start_ns = 5_000;
        o.timing.first_token_ns = Some(255_005_000);
        assert!(openinference_events(&o, 1_000_000_000).is_empty(), "not a stream");
        o.request.stream = true;
        let events = openinference_events(&o, 1_000_000_000);
        assert_eq!(
            events,
            vec![SpanEvent {
                time_unix_ns: 1_255_000_000,
                name: Cow::Borrowed("First Token Stream Event"),
                attributes: Vec::new(),
            }]
        );
        o.timing.first_token_ns = None;
        assert!(openinference_events(&o, 1_000_000_000).is_empty(), "no token");
    }

    #[test]
    fn a_long_history_keeps_its_first_and_latest_messages() {
        let messages: Vec<Value> = (0..200)
            .map(|i| json!({"role": "user", "content": format!("m{i}")}))
            .collect();
        let o = observation(Api::OpenAiChat, "chat", &json!({ "messages": messages }).to_string());
        let a = attributes(&o, &SpanOptions::default());
        let roles = a.iter().filter(|(k, _)| k.ends_with(".message.role")).count();
        assert_eq!(roles, MAX_MESSAGES);
        assert_eq!(
            get(&a, "llm.input_messages.0.message.content"),
            Some(&AttrValue::Str("m0".into()))
        );
        assert_eq!(
            get(&a, "llm.input_messages.1.message.content"),
            Some(&AttrValue::Str(format!("m{}", 200 - MAX_MESSAGES + 1)))
        );
        assert_eq!(
            get(&a, &format!("llm.input_messages.{}.message.content", MAX_MESSAGES - 1)),
            Some(&AttrValue::Str("m199".into()))
        );
    }
}
