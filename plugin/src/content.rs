//! Captured content (prompts, system instructions, tool definitions, answers) in the GenAI conventions'
//! structured form: `[{"role": ..., "parts": [{"type": "text", "content": ...}, ...]}]`.
//!
//! Inputs are converted once from the (capped) request body; outputs are accumulated as they stream, bounded by a
//! byte budget. Redaction and truncation happen when the span is built (`span.rs`), on the serialized JSON.

use crate::provider::Api;
use serde_json::{json, Map, Value};

/// How much content a span carries; ordered from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum CaptureMode {
    /// No content at all (the default: a trace store full of prompts is a liability).
    #[default]
    Off,
    /// The shape only: roles, part types, tool names; every text replaced by its length.
    Metadata,
    /// Everything, redacted and truncated.
    Full,
}

impl CaptureMode {
    /// `off`, `metadata` or `full`, as route metadata spells it.
    pub fn parse(value: &str) -> Option<CaptureMode> {
        match value {
            "off" => Some(CaptureMode::Off),
            "metadata" => Some(CaptureMode::Metadata),
            "full" => Some(CaptureMode::Full),
            _ => None,
        }
    }
}

/// Content converted from the request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputContent {
    pub system_instructions: Option<Value>,
    pub messages: Option<Value>,
    pub tool_definitions: Option<Value>,
}

/// A tool call the model made.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolCall {
    pub id: Option<String>,
    pub name: String,
    pub arguments: String,
}

/// One output choice as it accumulates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutputChoice {
    pub text: String,
    pub reasoning: String,
    pub tool_calls: Vec<ToolCall>,
}

/// Accumulated answer, bounded: text past the budget is counted, not kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutputContent {
    pub choices: Vec<OutputChoice>,
    kept_bytes: usize,
    budget: usize,
    /// Bytes of output not kept because the budget was spent.
    pub dropped_bytes: u64,
}

/// Choices beyond this index are not captured (a hostile body must not allocate without bound).
const MAX_CHOICES: usize = 16;

impl OutputContent {
    pub fn new(budget: usize) -> Self {
        OutputContent {
            budget,
            ..Default::default()
        }
    }

    fn choice(&mut self, index: usize) -> Option<&mut OutputChoice> {
        if index >= MAX_CHOICES {
            return None;
        }
        if self.choices.len() <= index {
            self.choices.resize_with(index + 1, OutputChoice::default);
        }
        self.choices.get_mut(index)
    }

    /// The part of `text` that fits the budget (cut on a character boundary); counts the rest as dropped.
    fn admit<'a>(&mut self, text: &'a str) -> &'a str {
        let kept = prefix(text, self.budget.saturating_sub(self.kept_bytes));
        self.kept_bytes += kept.len();
        self.dropped_bytes += (text.len() - kept.len()) as u64;
        kept
    }

    pub fn push_text(&mut self, index: usize, text: &str) {
        let kept = self.admit(text);
        if let Some(c) = self.choice(index) {
            c.text.push_str(kept);
        }
    }

    pub fn push_reasoning(&mut self, index: usize, text: &str) {
        let kept = self.admit(text);
        if let Some(c) = self.choice(index) {
            c.reasoning.push_str(kept);
        }
    }

    /// Adds to tool call `call` of choice `index`: streams send the id and name once, then argument fragments.
    pub fn push_tool_call(&mut self, index: usize, call: usize, id: Option<&str>, name: Option<&str>, arguments: &str) {
        // Names are short and identify the call: always kept. Arguments count against the budget.
        let arguments = self.admit(arguments);
        let Some(c) = self.choice(index) else {
            return;
        };
        let call = call.min(MAX_CHOICES * 8);
        if c.tool_calls.len() <= call {
            c.tool_calls.resize_with(call + 1, ToolCall::default);
        }
        if let Some(t) = c.tool_calls.get_mut(call) {
            if let Some(id) = id.filter(|s| !s.is_empty()) {
                t.id = Some(id.to_string());
            }
            if let Some(name) = name.filter(|s| !s.is_empty()) {
                t.name = name.to_string();
            }
            t.arguments.push_str(arguments);
        }
    }

    /// `gen_ai.output.messages`: one assistant message per choice, with its finish reason (v1.41 requires it).
    pub fn to_messages(&self, finish_reasons: &[String], with_finish_reason: bool) -> Value {
        let messages: Vec<Value> = self
            .choices
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut parts = Vec::new();
                if !c.reasoning.is_empty() {
                    parts.push(json!({"type": "reasoning", "content": c.reasoning}));
                }
                if !c.text.is_empty() {
                    parts.push(json!({"type": "text", "content": c.text}));
                }
                for t in &c.tool_calls {
                    let arguments =
                        serde_json::from_str::<Value>(&t.arguments).unwrap_or(Value::String(t.arguments.clone()));
                    parts.push(json!({"type": "tool_call", "id": t.id, "name": t.name, "arguments": arguments}));
                }
                let mut m = json!({"role": "assistant", "parts": parts});
                if with_finish_reason {
                    m["finish_reason"] = json!(finish_reasons.get(i).map_or("", String::as_str));
                }
                m
            })
            .collect();
        Value::Array(messages)
    }
}

/// Longest prefix of `s` of at most `n` bytes on a character boundary.
fn prefix(s: &str, n: usize) -> &str {
    crate::span::truncate_utf8(s, n)
}

fn text_part(text: &str) -> Value {
    json!({"type": "text", "content": text})
}

/// A content field that is a string, or a list of typed blocks (OpenAI, Anthropic, Responses, Bedrock).
fn parts_of(content: &Value) -> Vec<Value> {
    match content {
        Value::String(s) => vec![text_part(s)],
        Value::Array(blocks) => blocks.iter().filter_map(block_part).collect(),
        Value::Null => Vec::new(),
        other => vec![json!({"type": "generic", "content": other})],
    }
}

/// One content block of any supported API as a conventions part.
fn block_part(block: &Value) -> Option<Value> {
    if let Some(text) = block.as_str() {
        return Some(text_part(text));
    }
    let kind = block.get("type").and_then(Value::as_str).unwrap_or_default();
    let text = block.get("text").and_then(Value::as_str);
    Some(match kind {
        "text" | "input_text" | "output_text" => text_part(text.unwrap_or_default()),
        "image_url" | "image" | "input_image" => {
            let uri = block
                .pointer("/image_url/url")
                .or(block.get("image_url"))
                .and_then(Value::as_str);
            match uri {
                Some(u) if !u.starts_with("data:") => json!({"type": "uri", "modality": "image", "uri": u}),
                _ => json!({"type": "blob", "modality": "image", "content": "[image omitted]"}),
            }
        }
        "tool_use" => {
            json!({"type": "tool_call", "id": block.get("id"), "name": block.get("name"), "arguments": block.get("input")})
        }
        "tool_result" => {
            json!({"type": "tool_call_response", "id": block.get("tool_use_id"), "response": block.get("content")})
        }
        "thinking" => json!({"type": "reasoning", "content": block.get("thinking")}),
        _ if text.is_some() => text_part(text.unwrap_or_default()),
        // Bedrock Converse blocks are keyed by kind instead of typed.
        _ if block.get("toolUse").is_some() => {
            let t = &block["toolUse"];
            json!({"type": "tool_call", "id": t.get("toolUseId"), "name": t.get("name"), "arguments": t.get("input")})
        }
        _ if block.get("toolResult").is_some() => {
            let t = &block["toolResult"];
            json!({"type": "tool_call_response", "id": t.get("toolUseId"), "response": t.get("content")})
        }
        _ => json!({"type": "generic", "generic_type": kind}),
    })
}

fn message(role: &str, parts: Vec<Value>) -> Value {
    json!({"role": role, "parts": parts})
}

/// OpenAI chat history: roles as sent, assistant tool calls and tool results as parts.
fn openai_messages(messages: &[Value]) -> Value {
    Value::Array(
        messages
            .iter()
            .map(|m| {
                let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
                let mut parts = parts_of(m.get("content").unwrap_or(&Value::Null));
                if role == "tool" {
                    let response = m.get("content").cloned().unwrap_or(Value::Null);
                    parts = vec![json!({"type": "tool_call_response", "id": m.get("tool_call_id"), "response": response})];
                }
                for call in m.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
                    let f = &call["function"];
                    let args = f.get("arguments").and_then(Value::as_str).unwrap_or_default();
                    let arguments = serde_json::from_str::<Value>(args).unwrap_or(Value::String(args.to_string()));
                    parts.push(json!({"type": "tool_call", "id": call.get("id"), "name": f.get("name"), "arguments": arguments}));
                }
                message(role, parts)
            })
            .collect(),
    )
}

/// Tool definitions, flattened to `{type, name, description, parameters}` whatever the API's nesting.
fn tool_definitions(tools: Option<&Value>) -> Option<Value> {
    let tools = tools?.as_array()?;
    let defs: Vec<Value> = tools
        .iter()
        .map(|t| {
            let f = t.get("function").or(t.get("toolSpec")).unwrap_or(t);
            json!({
                "type": t.get("type").and_then(Value::as_str).unwrap_or("function"),
                "name": f.get("name"),
                "description": f.get("description"),
                "parameters": f.get("parameters").or(f.get("input_schema")).or(f.pointer("/inputSchema/json")),
            })
        })
        .collect();
    Some(Value::Array(defs))
}

/// Converts a request body into the conventions' content attributes.
pub fn input_content(api: Api, body: &[u8]) -> InputContent {
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(body) else {
        return InputContent::default();
    };
    let get = |k: &str| req.get(k);
    match api {
        Api::OpenAiChat => InputContent {
            messages: get("messages").and_then(Value::as_array).map(|m| openai_messages(m)),
            tool_definitions: tool_definitions(get("tools")),
            system_instructions: None,
        },
        Api::OpenAiCompletions | Api::OpenAiEmbeddings => {
            let input = get("prompt").or(get("input")).cloned().unwrap_or(Value::Null);
            let parts = match input {
                Value::Array(items) => items
                    .iter()
                    .map(|i| text_part(i.as_str().unwrap_or_default()))
                    .collect(),
                Value::String(s) => vec![text_part(&s)],
                _ => Vec::new(),
            };
            InputContent {
                messages: Some(json!([message("user", parts)])),
                ..Default::default()
            }
        }
        Api::OpenAiResponses => {
            let messages = match get("input") {
                Some(Value::String(s)) => json!([message("user", vec![text_part(s)])]),
                Some(Value::Array(items)) => Value::Array(
                    items
                        .iter()
                        .map(|item| match item.get("type").and_then(Value::as_str) {
                            Some("function_call_output") => message(
                                "tool",
                                vec![json!({"type": "tool_call_response", "id": item.get("call_id"), "response": item.get("output")})],
                            ),
                            Some("function_call") => message(
                                "assistant",
                                vec![json!({"type": "tool_call", "id": item.get("call_id"), "name": item.get("name"), "arguments": item.get("arguments")})],
                            ),
                            _ => message(
                                item.get("role").and_then(Value::as_str).unwrap_or("user"),
                                parts_of(item.get("content").unwrap_or(&Value::Null)),
                            ),
                        })
                        .collect(),
                ),
                _ => Value::Array(Vec::new()),
            };
            InputContent {
                system_instructions: get("instructions")
                    .and_then(Value::as_str)
                    .map(|s| json!([text_part(s)])),
                messages: Some(messages),
                tool_definitions: tool_definitions(get("tools")),
            }
        }
        Api::AnthropicMessages | Api::BedrockInvoke => InputContent {
            system_instructions: get("system").map(|s| Value::Array(parts_of(s))),
            messages: get("messages")
                .and_then(Value::as_array)
                .map(|m| generic_messages(m, "content")),
            tool_definitions: tool_definitions(get("tools")),
        },
        Api::BedrockConverse => InputContent {
            system_instructions: get("system").map(|s| Value::Array(parts_of(s))),
            messages: get("messages")
                .and_then(Value::as_array)
                .map(|m| generic_messages(m, "content")),
            tool_definitions: tool_definitions(req.get("toolConfig").and_then(|c| c.get("tools"))),
        },
        Api::GeminiGenerateContent => InputContent {
            system_instructions: get("systemInstruction")
                .or(get("system_instruction"))
                .map(|s| Value::Array(gemini_parts(s.get("parts")))),
            messages: get("contents").and_then(Value::as_array).map(|contents| {
                Value::Array(
                    contents
                        .iter()
                        .map(|c| {
                            let role = match c.get("role").and_then(Value::as_str) {
                                Some("model") => "assistant",
                                Some(r) => r,
                                None => "user",
                            };
                            message(role, gemini_parts(c.get("parts")))
                        })
                        .collect(),
                )
            }),
            tool_definitions: get("tools")
                .and_then(Value::as_array)
                .map(|t| {
                    t.iter()
                        .flat_map(|g| {
                            g.get("functionDeclarations")
                                .and_then(Value::as_array)
                                .cloned()
                                .unwrap_or_default()
                        })
                        .collect()
                })
                .and_then(|decls: Vec<Value>| tool_definitions(Some(&Value::Array(decls)))),
        },
    }
}

fn generic_messages(messages: &[Value], content_key: &str) -> Value {
    Value::Array(
        messages
            .iter()
            .map(|m| {
                message(
                    m.get("role").and_then(Value::as_str).unwrap_or("user"),
                    parts_of(m.get(content_key).unwrap_or(&Value::Null)),
                )
            })
            .collect(),
    )
}

fn gemini_parts(parts: Option<&Value>) -> Vec<Value> {
    parts
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            if let Some(t) = p.get("text").and_then(Value::as_str) {
                if p.get("thought") == Some(&Value::Bool(true)) {
                    return json!({"type": "reasoning", "content": t});
                }
                return text_part(t);
            }
            if let Some(f) = p.get("functionCall") {
                return json!({"type": "tool_call", "name": f.get("name"), "arguments": f.get("args")});
            }
            if let Some(f) = p.get("functionResponse") {
                return json!({"type": "tool_call_response", "id": f.get("name"), "response": f.get("response")});
            }
            json!({"type": "generic"})
        })
        .collect()
}

/// Metadata-only capture: keeps the structure, replaces every string leaf under a `content`, `arguments` or
/// `response` key with its length, so a reader sees who said how much without seeing what.
pub fn metadata_only(value: &Value) -> Value {
    fn walk(v: &Value, sensitive: bool) -> Value {
        match v {
            Value::String(s) if sensitive => json!(format!("[{} chars]", s.chars().count())),
            Value::Array(items) => Value::Array(items.iter().map(|i| walk(i, sensitive)).collect()),
            Value::Object(map) => {
                let mut out = Map::new();
                for (k, val) in map {
                    let sensitive = sensitive || matches!(k.as_str(), "content" | "arguments" | "response" | "uri");
                    out.insert(k.clone(), walk(val, sensitive));
                }
                Value::Object(out)
            }
            Value::Number(_) | Value::Bool(_) | Value::Null if sensitive => json!("[value]"),
            other => other.clone(),
        }
    }
    walk(value, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_chat_history_with_tools() {
        let c = input_content(
            Api::OpenAiChat,
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
        let c = input_content(
            Api::AnthropicMessages,
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
        let g = input_content(
            Api::GeminiGenerateContent,
            br#"{"systemInstruction":{"parts":[{"text":"sys"}]},"contents":[{"role":"model","parts":[{"text":"hi"}]}]}"#,
        );
        assert_eq!(g.system_instructions.unwrap(), json!([{"type":"text","content":"sys"}]));
        assert_eq!(
            g.messages.unwrap(),
            json!([{"role":"assistant","parts":[{"type":"text","content":"hi"}]}])
        );
    }

    #[test]
    fn output_accumulates_within_budget_and_keeps_char_boundaries() {
        let mut o = OutputContent::new(10);
        o.push_text(0, "héllo ");
        o.push_text(0, "wörld!");
        o.push_tool_call(1, 0, Some("c1"), Some("f"), "{\"a\":");
        assert_eq!(o.choices[0].text, "héllo wö");
        assert_eq!(o.dropped_bytes, 4 + 5, "`rld!` of the text and all of the arguments");
        assert_eq!(o.choices[1].tool_calls[0].name, "f");
        let m = o.to_messages(&["length".into()], true);
        assert_eq!(
            m[0],
            json!({"role":"assistant","parts":[{"type":"text","content":"héllo wö"}],"finish_reason":"length"})
        );
    }

    #[test]
    fn metadata_mode_hides_every_text() {
        let v = json!([{"role":"user","parts":[{"type":"text","content":"secret plan"}]}]);
        assert_eq!(
            metadata_only(&v),
            json!([{"role":"user","parts":[{"type":"text","content":"[11 chars]"}]}])
        );
    }
}
