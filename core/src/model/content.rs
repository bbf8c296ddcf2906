//! Captured content (prompts, system instructions, tool definitions, answers) in the GenAI conventions'
//! structured form: `[{"role": ..., "parts": [{"type": "text", "content": ...}, ...]}]`.
//!
//! Inputs are converted once from the (capped) request body; outputs are accumulated as they stream, bounded by a
//! byte budget. Redaction and truncation happen when the span is built (`telemetry`).

use serde_json::{json, Value};

/// How much content a span carries; ordered from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) enum CaptureMode {
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
    pub(crate) fn parse(value: &str) -> Option<CaptureMode> {
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
pub(crate) struct InputContent {
    pub(crate) system_instructions: Option<Value>,
    pub(crate) messages: Option<Value>,
    pub(crate) tool_definitions: Option<Value>,
}

/// A tool call the model made.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ToolCall {
    pub(crate) id: Option<String>,
    pub(crate) name: String,
    pub(crate) arguments: String,
}

/// One output choice as it accumulates.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct OutputChoice {
    pub(crate) text: String,
    pub(crate) reasoning: String,
    pub(crate) tool_calls: Vec<ToolCall>,
}

/// Accumulated answer, bounded: text past the budget is counted, not kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct OutputContent {
    pub(crate) choices: Vec<OutputChoice>,
    kept_bytes: usize,
    budget: usize,
    /// Bytes of output not kept because the budget was spent.
    pub(crate) dropped_bytes: u64,
}

/// Choices beyond this index are not captured (a hostile body must not allocate without bound).
const MAX_CHOICES: usize = 16;

impl OutputContent {
    pub(crate) fn new(budget: usize) -> Self {
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

    pub(crate) fn push_text(&mut self, index: usize, text: &str) {
        let kept = self.admit(text);
        if let Some(c) = self.choice(index) {
            c.text.push_str(kept);
        }
    }

    pub(crate) fn push_reasoning(&mut self, index: usize, text: &str) {
        let kept = self.admit(text);
        if let Some(c) = self.choice(index) {
            c.reasoning.push_str(kept);
        }
    }

    /// Adds to tool call `call` of choice `index`: streams send the id and name once, then argument fragments.
    pub(crate) fn push_tool_call(
        &mut self,
        index: usize,
        call: usize,
        id: Option<&str>,
        name: Option<&str>,
        arguments: &str,
    ) {
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
    pub(crate) fn to_messages(&self, finish_reasons: &[String], with_finish_reason: bool) -> Value {
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
    truncate_utf8(s, n)
}

/// Longest prefix of `s` within `max` bytes that ends on a character boundary.
pub(crate) fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
