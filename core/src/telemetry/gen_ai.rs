//! The GenAI semantic conventions' attributes (v1.41 or `latest` names) and this project's own (`llm.*`), and the
//! conventions' content attributes.

use super::attributes as attr;
use super::content::export_content;
use super::span::{seconds_between, AttributeList, Semconv, SpanOptions};
use crate::model::content::CaptureMode;
use crate::model::cost::{pico_to_units, CostOutcome};
use crate::model::observation::Observation;
use std::sync::Arc;

/// The GenAI conventions' attributes and this project's own (`llm.*`).
pub(super) fn gen_ai_attributes(a: &mut AttributeList, obs: &Observation, options: &SpanOptions<'_>) {
    let t = &obs.timing;
    let r = &obs.request;
    a.str(attr::GEN_AI_OPERATION_NAME, Some(obs.operation));
    a.str(attr::GEN_AI_PROVIDER_NAME, Some(&obs.provider));
    a.str(attr::GEN_AI_REQUEST_MODEL, r.model.as_deref());
    a.str(attr::SERVER_ADDRESS, obs.server_address.as_deref());
    a.int(attr::SERVER_PORT, obs.server_port);
    if r.stream {
        a.bool(attr::GEN_AI_REQUEST_STREAM, true);
    }
    a.double(attr::GEN_AI_REQUEST_TEMPERATURE, r.temperature);
    a.double(attr::GEN_AI_REQUEST_TOP_P, r.top_p);
    a.int(attr::GEN_AI_REQUEST_MAX_TOKENS, r.max_tokens);
    a.int(attr::GEN_AI_REQUEST_SEED, r.seed);
    a.double(attr::GEN_AI_REQUEST_FREQUENCY_PENALTY, r.frequency_penalty);
    a.double(attr::GEN_AI_REQUEST_PRESENCE_PENALTY, r.presence_penalty);
    a.strs(attr::GEN_AI_REQUEST_STOP_SEQUENCES, &r.stop_sequences);
    a.int(attr::GEN_AI_REQUEST_CHOICE_COUNT, r.choice_count.filter(|&n| n != 1));
    a.str(attr::GEN_AI_OUTPUT_TYPE, r.output_type.as_deref());
    if let Some(api_type) = obs.api_type {
        a.str(attr::OPENAI_API_TYPE, Some(api_type));
        a.str(
            attr::OPENAI_REQUEST_SERVICE_TIER,
            r.service_tier.as_deref().filter(|t| *t != "auto"),
        );
        a.str(attr::OPENAI_RESPONSE_SERVICE_TIER, obs.response.service_tier.as_deref());
        a.str(
            attr::OPENAI_RESPONSE_SYSTEM_FINGERPRINT,
            obs.response.system_fingerprint.as_deref(),
        );
    }

    let resp = &obs.response;
    a.str(attr::GEN_AI_RESPONSE_ID, resp.id.as_deref());
    a.str(attr::GEN_AI_RESPONSE_MODEL, resp.model.as_deref());
    // `latest`: a finish reason that was expected but never came (failure, cut) is reported as "error".
    let missing_finish =
        options.semconv == Semconv::Latest && resp.finish_reasons.is_empty() && obs.http_status.is_some();
    if missing_finish && (obs.partial || obs.error.is_some() || !obs.response_complete) {
        a.strs(attr::GEN_AI_RESPONSE_FINISH_REASONS, &["error".to_string()]);
    } else {
        a.strs(attr::GEN_AI_RESPONSE_FINISH_REASONS, &resp.finish_reasons);
    }
    if r.stream {
        a.double(
            attr::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
            seconds_between(t.start_ns, t.first_token_ns),
        );
        a.double(
            attr::LLM_RESPONSE_TIME_TO_FIRST_REASONING_CHUNK,
            seconds_between(t.start_ns, t.first_reasoning_ns),
        );
    }
    a.double(
        attr::LLM_RESPONSE_TIME_TO_FIRST_BYTE,
        seconds_between(t.start_ns, t.first_byte_ns),
    );

    let u = &obs.usage;
    let output_tokens = obs.output_tokens();
    a.uint(attr::GEN_AI_USAGE_INPUT_TOKENS, u.input_tokens);
    a.uint(attr::GEN_AI_USAGE_OUTPUT_TOKENS, output_tokens);
    a.uint(attr::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, u.cache_read_tokens);
    let cache_write = match options.semconv {
        Semconv::V1_41 => attr::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
        Semconv::Latest => attr::GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
    };
    a.uint(cache_write, u.cache_creation_tokens);
    a.uint(attr::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, u.reasoning_tokens);
    a.uint(attr::LLM_USAGE_PROVIDER_INPUT_TOKENS, u.provider_input_tokens);
    a.uint(attr::LLM_USAGE_PROVIDER_OUTPUT_TOKENS, u.provider_output_tokens);
    a.uint(attr::LLM_USAGE_TOTAL_TOKENS, u.total_tokens);
    a.str(attr::LLM_USAGE_SOURCE, Some(obs.usage_source()));
    if obs.usage_injected {
        a.bool(attr::LLM_USAGE_INJECTED, true);
    }
    cost_attributes(a, obs, options.semconv);
    if let (true, Some(first), Some(last), Some(n)) = (r.stream, t.first_token_ns, t.last_token_ns, output_tokens) {
        if n > 1 && last > first {
            a.double(
                attr::LLM_RESPONSE_TIME_PER_OUTPUT_TOKEN,
                Some((last - first) as f64 / 1e9 / (n - 1) as f64),
            );
        }
    }
}

/// The total in the profile's shape, the breakdown and provenance in `llm.usage.cost.*`.
fn cost_attributes(a: &mut AttributeList, obs: &Observation, semconv: Semconv) {
    let p = match &obs.cost {
        CostOutcome::Priced(p) => p,
        CostOutcome::Unpriced { model } => {
            a.str(attr::LLM_USAGE_COST_UNPRICED_MODEL, Some(model));
            return;
        }
        CostOutcome::NoTokens => return,
    };
    let total = Some(pico_to_units(p.cost.total()));
    match semconv {
        Semconv::V1_41 => a.double(attr::GEN_AI_USAGE_COST, total),
        Semconv::Latest => {
            a.double(attr::GEN_AI_USAGE_COST_AMOUNT, total);
            a.str(attr::GEN_AI_USAGE_COST_CURRENCY, Some(&p.currency));
        }
    }
    a.double(attr::LLM_USAGE_COST_INPUT, Some(pico_to_units(p.cost.input)));
    a.double(attr::LLM_USAGE_COST_OUTPUT, Some(pico_to_units(p.cost.output)));
    a.double(attr::LLM_USAGE_COST_CACHE_READ, Some(pico_to_units(p.cost.cache_read)));
    a.double(
        attr::LLM_USAGE_COST_CACHE_WRITE,
        Some(pico_to_units(p.cost.cache_write)),
    );
    a.str(attr::LLM_USAGE_COST_CURRENCY, Some(&p.currency));
    a.str(attr::LLM_USAGE_COST_SOURCE, Some(&p.source.label()));
    a.bool(attr::LLM_USAGE_COST_ESTIMATED, p.estimated);
    a.str(attr::LLM_USAGE_COST_PRICED_MODEL, Some(&p.priced_model));
    a.str(attr::LLM_USAGE_COST_TIER, p.tier.as_deref());
}

/// Content attributes (`gen_ai.input.messages`, ...), as JSON strings: redacted first, then truncated.
pub(super) fn content_attributes(
    a: &mut AttributeList,
    obs: &Observation,
    options: &SpanOptions<'_>,
    redactions: &mut Vec<(Arc<str>, u32)>,
) {
    if obs.capture == CaptureMode::Off || !options.gen_ai {
        return;
    }
    // Every profile keeps `finish_reason`: the output-messages JSON schema consumers validate against requires it.
    let output = obs
        .output
        .as_ref()
        .map(|o| o.to_messages(&obs.response.finish_reasons, true));
    let input = obs.input.as_ref();
    let fields = [
        (
            attr::GEN_AI_SYSTEM_INSTRUCTIONS,
            input.and_then(|i| i.system_instructions.as_ref()),
        ),
        (attr::GEN_AI_INPUT_MESSAGES, input.and_then(|i| i.messages.as_ref())),
        (
            attr::GEN_AI_TOOL_DEFINITIONS,
            input.and_then(|i| i.tool_definitions.as_ref()),
        ),
        (attr::GEN_AI_OUTPUT_MESSAGES, output.as_ref()),
    ];
    for (key, value) in fields {
        if let Some(text) = value.and_then(|v| export_content(v, obs.capture, options, redactions)) {
            a.str(key, Some(&text));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::content::OutputContent;
    use crate::telemetry::span::AttrValue;

    #[test]
    fn every_profile_keeps_the_finish_reason_of_output_messages() {
        let mut obs = Observation {
            capture: CaptureMode::Full,
            ..Default::default()
        };
        let mut out = OutputContent::new(1024);
        out.push_text(0, "Hi");
        obs.output = Some(out);
        obs.response.finish_reasons = vec!["stop".into()];
        for semconv in [Semconv::V1_41, Semconv::Latest] {
            let options = SpanOptions {
                semconv,
                ..Default::default()
            };
            let mut a = AttributeList::default();
            content_attributes(&mut a, &obs, &options, &mut Vec::new());
            let Some((_, AttrValue::Str(json))) = a.0.iter().find(|(k, _)| k == attr::GEN_AI_OUTPUT_MESSAGES) else {
                panic!("no output messages under {semconv:?}");
            };
            let messages: serde_json::Value = serde_json::from_str(json).unwrap();
            assert_eq!(messages[0]["finish_reason"], "stop", "{semconv:?}");
        }
    }
}
