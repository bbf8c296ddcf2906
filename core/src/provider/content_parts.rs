//! Request content in the GenAI conventions' structured form, from the pieces several API shapes share: text
//! parts, typed content blocks, messages, tool definitions. Each provider module assembles its own shape from these.

use crate::model::content::InputContent;
use serde_json::{json, Map, Value};

/// The request body as a JSON object, when it is one.
pub(crate) fn request_object(body: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(req)) => Some(req),
        _ => None,
    }
}

/// Content of a request whose body is not a JSON object: nothing.
pub(crate) fn no_content() -> InputContent {
    InputContent::default()
}

pub(crate) fn text_part(text: &str) -> Value {
    json!({"type": "text", "content": text})
}

/// A content field that is a string, or a list of typed blocks (OpenAI, Anthropic, Responses, Bedrock).
pub(crate) fn parts_of(content: &Value) -> Vec<Value> {
    match content {
        Value::String(s) => vec![text_part(s)],
        Value::Array(blocks) => blocks.iter().filter_map(block_part).collect(),
        Value::Null => Vec::new(),
        other => vec![json!({"type": "generic", "content": other})],
    }
}

/// One content block of any supported API as a conventions part.
pub(crate) fn block_part(block: &Value) -> Option<Value> {
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

pub(crate) fn message(role: &str, parts: Vec<Value>) -> Value {
    json!({"role": role, "parts": parts})
}

/// Tool definitions, flattened to `{type, name, description, parameters}` whatever the API's nesting.
pub(crate) fn tool_definitions(tools: Option<&Value>) -> Option<Value> {
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

pub(crate) fn generic_messages(messages: &[Value], content_key: &str) -> Value {
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

/// `{"role": "user", "parts": [...]}` for a prompt given as a string or a list of strings (completions,
/// embeddings).
pub(crate) fn prompt_message(input: &Value) -> Value {
    let parts = match input {
        Value::Array(items) => items
            .iter()
            .map(|i| text_part(i.as_str().unwrap_or_default()))
            .collect(),
        Value::String(s) => vec![text_part(s)],
        _ => Vec::new(),
    };
    json!([message("user", parts)])
}
