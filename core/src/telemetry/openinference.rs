//! The OpenInference dialect (Arize Phoenix): span kind, model, token counts, cost, invocation parameters, and the
//! flattened messages when content capture is on.

use super::attributes as attr;
use super::content::{export_content, export_text};
use super::span::{AttrValue, AttributeList, SpanOptions};
use crate::model::content::CaptureMode;
use crate::model::cost::{pico_to_units, CostOutcome};
use crate::model::observation::Observation;
use serde_json::Value;

/// The OpenInference dialect (Arize Phoenix): span kind, model, token counts, invocation parameters, and the
/// flattened messages when content capture is on.
pub(super) fn openinference_attributes(
    a: &mut AttributeList,
    obs: &Observation,
    options: &SpanOptions<'_>,
    redactions: &mut Vec<(String, u32)>,
) {
    let embedding = obs.operation == "embeddings";
    a.str(
        attr::OPENINFERENCE_SPAN_KIND,
        Some(if embedding { "EMBEDDING" } else { "LLM" }),
    );
    let (system, provider) = openinference_system(&obs.provider);
    if !embedding {
        a.str(attr::OI_LLM_SYSTEM, Some(system));
        a.str(attr::OI_LLM_PROVIDER, Some(provider));
    }
    a.str(attr::OI_LLM_MODEL_NAME, obs.answering_model());
    let r = &obs.request;
    let mut params = serde_json::Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            params.insert(k.to_string(), v);
        }
    };
    put("model", r.model.clone().map(Value::from));
    put("temperature", r.temperature.map(Value::from));
    put("top_p", r.top_p.map(Value::from));
    put("max_tokens", r.max_tokens.map(Value::from));
    put("stream", Some(Value::from(r.stream)));
    a.str(
        attr::OI_LLM_INVOCATION_PARAMETERS,
        Some(&Value::Object(params).to_string()),
    );
    let u = &obs.usage;
    let output = obs.output_tokens();
    a.uint(attr::OI_TOKEN_COUNT_PROMPT, u.input_tokens);
    a.uint(attr::OI_TOKEN_COUNT_COMPLETION, output);
    if let (Some(i), Some(o)) = (u.input_tokens, output) {
        a.uint(attr::OI_TOKEN_COUNT_TOTAL, Some(i + o));
    }
    a.uint(attr::OI_TOKEN_COUNT_CACHE_READ, u.cache_read_tokens);
    a.uint(attr::OI_TOKEN_COUNT_CACHE_WRITE, u.cache_creation_tokens);
    a.uint(attr::OI_TOKEN_COUNT_REASONING, u.reasoning_tokens);
    if let CostOutcome::Priced(p) = &obs.cost {
        let c = p.cost;
        a.double(attr::OI_COST_TOTAL, Some(pico_to_units(c.total())));
        a.double(
            attr::OI_COST_PROMPT,
            Some(pico_to_units(
                c.input.saturating_add(c.cache_read).saturating_add(c.cache_write),
            )),
        );
        a.double(attr::OI_COST_COMPLETION, Some(pico_to_units(c.output)));
        a.double(attr::OI_COST_PROMPT_INPUT, Some(pico_to_units(c.input)));
        a.double(attr::OI_COST_PROMPT_CACHE_READ, Some(pico_to_units(c.cache_read)));
        a.double(attr::OI_COST_PROMPT_CACHE_WRITE, Some(pico_to_units(c.cache_write)));
    }
    if obs.capture == CaptureMode::Off {
        return;
    }
    let flatten = |a: &mut AttributeList, prefix: &str, messages: &Value, redactions: &mut Vec<(String, u32)>| {
        for (i, m) in messages.as_array().into_iter().flatten().enumerate().take(64) {
            let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
            a.owned(format!("{prefix}.{i}.message.role"), AttrValue::Str(role.to_string()));
            let text: String = m
                .get("parts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| p.get("content").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n");
            if let Some(t) = export_text(&text, obs.capture, options, redactions) {
                a.owned(format!("{prefix}.{i}.message.content"), AttrValue::Str(t));
            }
        }
    };
    if let Some(messages) = obs.input.as_ref().and_then(|i| i.messages.as_ref()) {
        flatten(a, attr::OI_INPUT_MESSAGES, messages, redactions);
        if let Some(v) = export_content(messages, obs.capture, options, redactions) {
            a.str(attr::OI_INPUT_VALUE, Some(&v));
            a.str(attr::OI_INPUT_MIME_TYPE, Some("application/json"));
        }
    }
    if let Some(out) = &obs.output {
        let messages = out.to_messages(&obs.response.finish_reasons, false);
        flatten(a, attr::OI_OUTPUT_MESSAGES, &messages, redactions);
        let text: String = out.choices.first().map(|c| c.text.clone()).unwrap_or_default();
        if let Some(v) = export_text(&text, obs.capture, options, redactions) {
            a.str(attr::OI_OUTPUT_VALUE, Some(&v));
            a.str(attr::OI_OUTPUT_MIME_TYPE, Some("text/plain"));
        }
    }
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
