//! The asynchronous LLM judge's rules: which finished calls it sees, the prompt it gets (the rubric with the call's
//! redacted question and answer), the call to a cluster speaking the OpenAI chat API, and how its structured answer
//! (`{"score": 0..1, "label": "...", "reason": "..."}`) is read. A reply that is not such an object is unparsable:
//! counted, never turned into a score. The budget and the calls in flight are [`super::state`]'s.

use super::config::{JudgeConfig, ANSWER_PLACEHOLDER, QUESTION_PLACEHOLDER};
use super::evaluation::JudgeUsage;
use crate::model::content::{CaptureMode, OutputContent};
use crate::model::observation::Observation;
use crate::policy::pricing::PricingConfig;
use crate::policy::sampling::ratio_keeps;
use crate::provider::Api;
use crate::telemetry::content::export_text;
use crate::telemetry::span::SpanOptions;
use serde_json::{json, Value};

/// Operations whose answer is text a judge can read.
const JUDGED_OPERATIONS: [&str; 3] = ["chat", "text_completion", "generate_content"];
/// Longest answer the judge's reader keeps (its answer is a short JSON object).
const MAX_ANSWER_BYTES: usize = 8 << 10;
const MAX_LABEL_CHARS: usize = 64;

/// Whether a finished call goes to the judge: a call that succeeded, whose content may leave the proxy (capture
/// `full`: the judge is another party), whose span was exported (the evaluation must point at something), and that
/// the ratio (decided from the trace id, so a trace is judged on every proxy or none) or a listed feature picks.
pub(crate) fn selects(config: &JudgeConfig, obs: &Observation, trace_id: &[u8; 16], span_kept: bool) -> bool {
    if !span_kept
        || obs.outcome.failed()
        || obs.partial
        || obs.capture != CaptureMode::Full
        || !JUDGED_OPERATIONS.contains(&obs.operation)
    {
        return false;
    }
    let feature = obs
        .attribution
        .iter()
        .find(|(k, _)| k == "app.feature")
        .map(|(_, v)| v.as_str());
    feature.is_some_and(|f| config.features.iter().any(|listed| listed == f)) || ratio_keeps(config.ratio, trace_id)
}

/// The judge's prompt: the rubric with the question (the conversation as `role: text` lines) and the answer, each
/// redacted then truncated like span content. `None` when there is no answer text, or redaction dropped a field.
pub(crate) fn prompt(config: &JudgeConfig, obs: &Observation, options: &SpanOptions<'_>) -> Option<String> {
    let answer = obs.output.as_ref()?.choices.first().map(|c| c.text.as_str())?;
    if answer.trim().is_empty() {
        return None;
    }
    let question = transcript(obs);
    // The judge's prompt is redacted apart from the span: its own budget for custom patterns.
    if let Some(r) = options.redactor {
        r.begin_call();
    }
    let mut redactions = Vec::new();
    let question = export_text(&question, CaptureMode::Full, options, &mut redactions)?;
    let answer = export_text(answer, CaptureMode::Full, options, &mut redactions)?;
    Some(fill(&config.rubric, &question, &answer))
}

/// The rubric with its placeholders filled; only the rubric's own placeholders, so a question that happens to
/// contain `{{answer}}` stays literal.
fn fill(rubric: &str, question: &str, answer: &str) -> String {
    let mut out = String::with_capacity(rubric.len() + question.len() + answer.len());
    let mut rest = rubric;
    loop {
        let next = [(QUESTION_PLACEHOLDER, question), (ANSWER_PLACEHOLDER, answer)]
            .into_iter()
            .filter_map(|(placeholder, value)| rest.find(placeholder).map(|at| (at, placeholder, value)))
            .min_by_key(|(at, _, _)| *at);
        let Some((at, placeholder, value)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..at]);
        out.push_str(value);
        rest = &rest[at + placeholder.len()..];
    }
}

/// The conversation as plain lines: system instructions, then each message's text parts.
fn transcript(obs: &Observation) -> String {
    let Some(input) = &obs.input else {
        return String::new();
    };
    let mut lines = Vec::new();
    let texts = |parts: &Value| -> String {
        parts
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["type"] == "text")
            .filter_map(|p| p["content"].as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    if let Some(system) = &input.system_instructions {
        lines.push(format!("system: {}", texts(system)));
    }
    for m in input.messages.as_ref().and_then(Value::as_array).into_iter().flatten() {
        let text = texts(&m["parts"]);
        if !text.is_empty() {
            lines.push(format!("{}: {text}", m["role"].as_str().unwrap_or("user")));
        }
    }
    lines.join("\n")
}

/// Headers and body of one judge call (OpenAI chat completions, JSON mode, deterministic).
pub(crate) fn request(config: &JudgeConfig, prompt: &str) -> (Vec<(String, String)>, Vec<u8>) {
    let mut headers = vec![
        (":method".to_string(), "POST".to_string()),
        (":path".to_string(), config.path.clone()),
        (":authority".to_string(), config.authority.clone()),
        ("content-type".to_string(), "application/json".to_string()),
    ];
    headers.extend(config.headers.iter().cloned());
    let body = json!({
        "model": config.model,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": config.max_tokens,
        "temperature": 0,
        "response_format": {"type": "json_object"},
    });
    (headers, body.to_string().into_bytes())
}

/// What a judge call came to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    /// A score in 0..=1 and a label; `reason` redacted and truncated.
    Scored {
        score: f64,
        label: String,
        reason: Option<String>,
        usage: JudgeUsage,
    },
    /// The judge answered, but not with the structured verdict (its tokens were still spent).
    Unparsable { usage: JudgeUsage },
    /// No usable answer: timeout, connection failure, an error status (`detail` says which).
    Failed { detail: String },
}

/// Reads the judge's answer (`status` `None`: none came).
pub(crate) fn read_answer(
    config: &JudgeConfig,
    pricing: &PricingConfig,
    status: Option<u16>,
    body: &[u8],
    options: &SpanOptions<'_>,
) -> Verdict {
    let status = match status {
        None => {
            return Verdict::Failed {
                detail: "no answer (timeout or connection failure)".to_string(),
            }
        }
        Some(s) if !(200..=299).contains(&s) => {
            return Verdict::Failed {
                detail: format!("the judge answered {s}"),
            }
        }
        Some(s) => s,
    };
    let mut obs = Observation {
        provider: config.provider.clone(),
        operation: "chat",
        http_status: Some(status),
        output: Some(OutputContent::new(MAX_ANSWER_BYTES)),
        ..Default::default()
    };
    obs.request.model = Some(config.model.clone());
    Api::OpenAiChat.decoder(false, None).on_response_body(body, 0, &mut obs);
    let reported = obs.usage.is_reported();
    let usage = JudgeUsage {
        model: obs.answering_model().unwrap_or(&config.model).to_string(),
        input_tokens: obs.usage.input_tokens.filter(|_| reported),
        output_tokens: obs.usage.output_tokens.filter(|_| reported),
        cost: pricing.price(&obs),
    };
    let text = obs
        .output
        .as_ref()
        .and_then(|o| o.choices.first())
        .map(|c| c.text.as_str());
    let Some((score, label, reason)) = text.and_then(structured) else {
        return Verdict::Unparsable { usage };
    };
    let reason = reason.and_then(|r| export_text(&r, CaptureMode::Full, options, &mut Vec::new()));
    Verdict::Scored {
        score,
        label,
        reason,
        usage,
    }
}

/// The verdict object in the judge's text (bare, or inside a Markdown code fence): a score in 0..=1, a label of
/// 1 to 64 characters, an optional reason.
fn structured(text: &str) -> Option<(f64, String, Option<String>)> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    let verdict: Value = serde_json::from_str(text.get(start..=end)?).ok()?;
    let score = verdict.get("score")?.as_f64().filter(|s| (0.0..=1.0).contains(s))?;
    let label = verdict
        .get("label")?
        .as_str()
        .map(str::trim)
        .filter(|l| !l.is_empty() && l.chars().count() <= MAX_LABEL_CHARS)?
        .to_string();
    let reason = verdict.get("reason").and_then(Value::as_str).map(str::to_string);
    Some((score, label, reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::content::InputContent;
    use crate::model::cost::CostOutcome;
    use crate::Config;

    fn config(json: &str) -> Config {
        Config::from_json(json.as_bytes()).unwrap()
    }

    fn judge_config(extra: &str) -> Config {
        config(&format!(
            r#"{{"exporter":{{"cluster":"otel"}},"quality":{{"judge":{{"cluster":"judge","model":"gpt-4o-mini"{extra}}}}}}}"#
        ))
    }

    /// A successful, fully captured chat call answering `answer`.
    fn call(answer: &str) -> Observation {
        let mut obs = Observation {
            provider: "openai".into(),
            operation: "chat",
            http_status: Some(200),
            capture: CaptureMode::Full,
            input: Some(InputContent {
                system_instructions: Some(json!([{"type": "text", "content": "Be brief."}])),
                messages: Some(json!([
                    {"role": "user", "parts": [{"type": "text", "content": "Who wrote Dune? I am jane@example.com"}]},
                ])),
                tool_definitions: None,
            }),
            output: Some(OutputContent::new(1 << 10)),
            ..Default::default()
        };
        obs.capture_text(0, answer);
        obs.response_complete = true;
        obs.conclude();
        obs
    }

    #[test]
    fn only_successful_fully_captured_exported_chat_calls_are_picked_by_ratio_or_feature() {
        let c = judge_config(r#","ratio":0.0,"features":["support-bot"]"#);
        let judge = c.quality.judge.as_ref().unwrap();
        let trace = [0x11; 16];
        let mut obs = call("Frank Herbert.");
        assert!(!selects(judge, &obs, &trace, true), "ratio 0 and no listed feature");
        obs.attribution.push(("app.feature".into(), "support-bot".into()));
        assert!(selects(judge, &obs, &trace, true), "a listed feature is always judged");
        assert!(!selects(judge, &obs, &trace, false), "its span was sampled out");
        let mut metadata = obs.clone();
        metadata.capture = CaptureMode::Metadata;
        assert!(
            !selects(judge, &metadata, &trace, true),
            "content may not leave the proxy"
        );
        let mut failed = obs.clone();
        failed.http_status = Some(500);
        failed.conclude();
        assert!(!selects(judge, &failed, &trace, true), "errors are excluded");
        let mut embedding = obs.clone();
        embedding.operation = "embeddings";
        assert!(!selects(judge, &embedding, &trace, true));
        let all = judge_config("");
        assert!(
            selects(all.quality.judge.as_ref().unwrap(), &call("x"), &trace, true),
            "ratio 1 by default"
        );
    }

    #[test]
    fn the_prompt_has_the_redacted_question_and_answer_in_the_rubric() {
        let c = judge_config(r#","rubric":"Q={{question}}\nA={{answer}}\nJSON please""#);
        let options = SpanOptions {
            max_content_bytes: 64,
            redactor: Some(&c.redaction),
            ..Default::default()
        };
        let judge = c.quality.judge.as_ref().unwrap();
        let p = prompt(judge, &call("Frank Herbert, mail him at frank@example.com"), &options).unwrap();
        assert_eq!(
            p,
            "Q=system: Be brief.\nuser: Who wrote Dune? I am [EMAIL]\nA=Frank Herbert, mail him at [EMAIL]\nJSON please"
        );
        let long = "word ".repeat(40);
        let p = prompt(judge, &call(&long), &options).unwrap();
        assert!(p.contains("…[truncated]"), "{p}");
        assert_eq!(prompt(judge, &call("  "), &options), None, "no answer text");
        assert_eq!(
            fill("{{answer}}|{{question}}|{{answer}}", "q {{answer}}", "a"),
            "a|q {{answer}}|a"
        );
        let (headers, body) = request(judge, "P");
        assert!(headers.contains(&(":path".to_string(), "/v1/chat/completions".to_string())));
        assert!(headers.contains(&(":authority".to_string(), "judge".to_string())));
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "P"}], "max_tokens": 256,
                "temperature": 0, "response_format": {"type": "json_object"}})
        );
    }

    fn answer(content: &str) -> Vec<u8> {
        json!({"id": "chatcmpl-j", "model": "gpt-4o-mini-2024-07-18", "choices": [{"index": 0,
            "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 30}})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn a_structured_answer_is_a_score_with_the_judges_own_tokens_and_cost() {
        let c = judge_config("");
        let judge = c.quality.judge.as_ref().unwrap();
        let options = SpanOptions {
            redactor: Some(&c.redaction),
            ..Default::default()
        };
        let body = answer(
            "```json\n{\"score\": 0.8, \"label\": \"pass\", \"reason\": \"Correct; asked by jane@example.com\"}\n```",
        );
        let Verdict::Scored {
            score,
            label,
            reason,
            usage,
        } = read_answer(judge, &c.pricing, Some(200), &body, &options)
        else {
            panic!("not scored");
        };
        assert_eq!((score, label.as_str()), (0.8, "pass"));
        assert_eq!(reason.as_deref(), Some("Correct; asked by [EMAIL]"));
        assert_eq!(
            (usage.model.as_str(), usage.input_tokens, usage.output_tokens),
            ("gpt-4o-mini-2024-07-18", Some(120), Some(30))
        );
        // gpt-4o-mini: $0.15 / $0.60 per 1M tokens.
        let cost = usage.cost.total_units().unwrap();
        assert!((cost - (120.0 * 0.15 + 30.0 * 0.60) / 1e6).abs() < 1e-12, "{cost}");
    }

    #[test]
    fn anything_but_the_structured_verdict_is_unparsable_or_failed() {
        let c = judge_config("");
        let judge = c.quality.judge.as_ref().unwrap();
        let options = SpanOptions::default();
        for content in [
            "Looks good to me!",
            r#"{"score": 1.5, "label": "pass"}"#,
            r#"{"score": "0.5", "label": "pass"}"#,
            r#"{"score": 0.5}"#,
            r#"{"score": 0.5, "label": ""}"#,
            r#"{"score": 0.5, "label": "pass""#,
        ] {
            let verdict = read_answer(judge, &c.pricing, Some(200), &answer(content), &options);
            assert!(
                matches!(&verdict, Verdict::Unparsable { usage } if usage.input_tokens == Some(120)),
                "{content}: {verdict:?}"
            );
        }
        assert!(matches!(
            read_answer(judge, &c.pricing, Some(200), b"<html>", &options),
            Verdict::Unparsable { usage } if usage.input_tokens.is_none() && usage.cost == CostOutcome::NoTokens
        ));
        assert_eq!(
            read_answer(judge, &c.pricing, Some(503), b"", &options),
            Verdict::Failed {
                detail: "the judge answered 503".into()
            }
        );
        assert!(matches!(
            read_answer(judge, &c.pricing, None, b"", &options),
            Verdict::Failed { .. }
        ));
    }
}
