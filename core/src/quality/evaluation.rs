//! An evaluation of one LLM call (user feedback or the judge's verdict) and the forms it leaves in:
//! - the GenAI `gen_ai.evaluation.result` event, a log record carrying the evaluated span's trace and span ids;
//! - an OpenInference `EVALUATOR` carrier span with one link to the evaluated span (ended spans are immutable, so
//!   post-hoc feedback rides on a new span) and the annotation attributes;
//! - Arize Phoenix's `POST /v1/span_annotations` body (Phoenix reads feedback only through its REST API);
//! - a sample of the `llm.quality_score` histogram.

use crate::model::cost::CostOutcome;
use crate::telemetry::attributes as attr;
use crate::telemetry::otlp_logs::EventRecord;
use crate::telemetry::span::{AttrValue, Attributes, SpanLink, SpanRecord, StatusCode};
use crate::telemetry::trace_context::to_hex;
use serde_json::{json, Map, Value};
use std::borrow::Cow;

/// Who evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Annotator {
    /// A person, through the feedback endpoint.
    Human,
    /// The LLM judge.
    Llm,
}

impl Annotator {
    /// OpenInference's and Phoenix's `annotator_kind`.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Annotator::Human => "HUMAN",
            Annotator::Llm => "LLM",
        }
    }
}

/// The call evaluated: its trace, and its span when known (feedback may name only the trace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) trace_id: [u8; 16],
    pub(crate) span_id: Option<[u8; 8]>,
    /// W3C trace flags of the evaluated span (0 when unknown).
    pub(crate) flags: u8,
}

/// What the judge's own call cost.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JudgeUsage {
    pub(crate) model: String,
    pub(crate) input_tokens: Option<u64>,
    pub(crate) output_tokens: Option<u64>,
    pub(crate) cost: CostOutcome,
}

/// One evaluation, redacted and bounded already.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Evaluation {
    pub(crate) name: String,
    pub(crate) score: Option<f64>,
    pub(crate) label: Option<String>,
    pub(crate) explanation: Option<String>,
    pub(crate) annotator: Annotator,
    pub(crate) target: Target,
    /// `gen_ai.response.id` of the evaluated call, when known.
    pub(crate) response_id: Option<String>,
    pub(crate) judge: Option<JudgeUsage>,
    /// When the evaluation started and ended (the judge's call; one instant for feedback).
    pub(crate) start_unix_ns: u64,
    pub(crate) end_unix_ns: u64,
}

impl Evaluation {
    /// The `gen_ai.evaluation.result` event.
    pub(crate) fn event(&self) -> EventRecord {
        let mut a: Attributes = vec![(
            Cow::Borrowed(attr::GEN_AI_EVALUATION_NAME),
            AttrValue::Str(self.name.clone()),
        )];
        if let Some(score) = self.score {
            a.push((
                Cow::Borrowed(attr::GEN_AI_EVALUATION_SCORE_VALUE),
                AttrValue::Double(score),
            ));
        }
        if let Some(label) = &self.label {
            a.push((
                Cow::Borrowed(attr::GEN_AI_EVALUATION_SCORE_LABEL),
                AttrValue::Str(label.clone()),
            ));
        }
        if let Some(explanation) = &self.explanation {
            a.push((
                Cow::Borrowed(attr::GEN_AI_EVALUATION_EXPLANATION),
                AttrValue::Str(explanation.clone()),
            ));
        }
        if let Some(id) = &self.response_id {
            a.push((Cow::Borrowed(attr::GEN_AI_RESPONSE_ID), AttrValue::Str(id.clone())));
        }
        a.push((
            Cow::Borrowed(attr::LLM_EVALUATION_ANNOTATOR_KIND),
            AttrValue::Str(self.annotator.kind().to_string()),
        ));
        if let Some(judge) = &self.judge {
            a.push((
                Cow::Borrowed(attr::LLM_JUDGE_MODEL),
                AttrValue::Str(judge.model.clone()),
            ));
            push_count(&mut a, attr::LLM_JUDGE_USAGE_INPUT_TOKENS, judge.input_tokens);
            push_count(&mut a, attr::LLM_JUDGE_USAGE_OUTPUT_TOKENS, judge.output_tokens);
            if let Some(cost) = judge.cost.total_units() {
                a.push((Cow::Borrowed(attr::LLM_JUDGE_USAGE_COST), AttrValue::Double(cost)));
            }
        }
        EventRecord {
            time_unix_ns: self.end_unix_ns,
            trace_id: self.target.trace_id,
            span_id: self.target.span_id,
            flags: self.target.flags,
            event_name: attr::GEN_AI_EVALUATION_RESULT,
            attributes: a,
        }
    }

    /// The OpenInference `EVALUATOR` carrier span (`span_id` is its own): in the evaluated trace, linked to the
    /// evaluated span, never its child (parentage must not identify the target).
    pub(crate) fn carrier_span(&self, span_id: [u8; 8]) -> SpanRecord {
        let prefix = match self.target.span_id {
            Some(_) => attr::OI_SPAN_ANNOTATION,
            None => attr::OI_TRACE_ANNOTATION,
        };
        let field = |name: &str| Cow::Owned(format!("{prefix}.{name}"));
        let mut a: Attributes = vec![
            (
                Cow::Borrowed(attr::OPENINFERENCE_SPAN_KIND),
                AttrValue::Str("EVALUATOR".into()),
            ),
            (field("name"), AttrValue::Str(self.name.clone())),
        ];
        if let Some(score) = self.score {
            a.push((field("score"), AttrValue::Double(score)));
        }
        if let Some(label) = &self.label {
            a.push((field("label"), AttrValue::Str(label.clone())));
        }
        if let Some(explanation) = &self.explanation {
            a.push((field("explanation"), AttrValue::Str(explanation.clone())));
        }
        a.push((
            field("annotator_kind"),
            AttrValue::Str(self.annotator.kind().to_string()),
        ));
        if let Some(judge) = &self.judge {
            a.push((
                Cow::Borrowed(attr::OI_LLM_MODEL_NAME),
                AttrValue::Str(judge.model.clone()),
            ));
            push_count(&mut a, attr::OI_TOKEN_COUNT_PROMPT, judge.input_tokens);
            push_count(&mut a, attr::OI_TOKEN_COUNT_COMPLETION, judge.output_tokens);
            if let Some(cost) = judge.cost.total_units() {
                a.push((Cow::Borrowed(attr::OI_COST_TOTAL), AttrValue::Double(cost)));
            }
        }
        SpanRecord {
            trace_id: self.target.trace_id,
            span_id,
            parent_span_id: None,
            trace_state: String::new(),
            flags: self.target.flags | 1,
            name: format!("{} evaluation", self.name),
            start_unix_ns: self.start_unix_ns,
            end_unix_ns: self.end_unix_ns,
            attributes: a,
            status: StatusCode::Unset,
            status_message: String::new(),
            links: self
                .target
                .span_id
                .map(|span_id| SpanLink {
                    trace_id: self.target.trace_id,
                    span_id,
                })
                .into_iter()
                .collect(),
        }
    }

    /// Phoenix's REST call: the path and the JSON body (`span_annotations`, or `trace_annotations` without a span).
    pub(crate) fn phoenix_annotation(&self) -> (&'static str, Vec<u8>) {
        let mut result = Map::new();
        if let Some(score) = self.score {
            result.insert("score".into(), json!(score));
        }
        if let Some(label) = &self.label {
            result.insert("label".into(), json!(label));
        }
        if let Some(explanation) = &self.explanation {
            result.insert("explanation".into(), json!(explanation));
        }
        let mut metadata = json!({"source": "llm-trace"});
        if let Some(judge) = &self.judge {
            metadata["judge_model"] = json!(judge.model);
        }
        let mut item = json!({
            "name": self.name,
            "annotator_kind": self.annotator.kind(),
            "result": Value::Object(result),
            "metadata": metadata,
        });
        let path = match self.target.span_id {
            Some(span_id) => {
                item["span_id"] = json!(to_hex(&span_id));
                "/v1/span_annotations"
            }
            None => {
                item["trace_id"] = json!(to_hex(&self.target.trace_id));
                "/v1/trace_annotations"
            }
        };
        (path, json!({ "data": [item] }).to_string().into_bytes())
    }

    /// The `llm.quality_score` sample: the score × 100, rounded.
    pub(crate) fn score_percent(&self) -> Option<u64> {
        self.score.map(|s| (s.clamp(0.0, 1.0) * 100.0).round() as u64)
    }
}

fn push_count(a: &mut Attributes, key: &'static str, value: Option<u64>) {
    if let Some(v) = value {
        a.push((Cow::Borrowed(key), AttrValue::Int(i64::try_from(v).unwrap_or(i64::MAX))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feedback(span_id: Option<[u8; 8]>) -> Evaluation {
        Evaluation {
            name: "user_feedback".into(),
            score: Some(0.25),
            label: Some("thumbs_down".into()),
            explanation: Some("wrong year, see [EMAIL]".into()),
            annotator: Annotator::Human,
            target: Target {
                trace_id: [0x0a; 16],
                span_id,
                flags: 0,
            },
            response_id: None,
            judge: None,
            start_unix_ns: 5,
            end_unix_ns: 5,
        }
    }

    fn value<'a>(a: &'a Attributes, key: &str) -> Option<&'a AttrValue> {
        a.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    #[test]
    fn the_event_carries_the_evaluated_span_and_the_genai_attributes() {
        let e = feedback(Some([0xb7; 8])).event();
        assert_eq!(
            (e.trace_id, e.span_id, e.event_name),
            ([0x0a; 16], Some([0xb7; 8]), "gen_ai.evaluation.result")
        );
        assert_eq!(
            value(&e.attributes, "gen_ai.evaluation.name"),
            Some(&AttrValue::Str("user_feedback".into()))
        );
        assert_eq!(
            value(&e.attributes, "gen_ai.evaluation.score.value"),
            Some(&AttrValue::Double(0.25))
        );
        assert_eq!(
            value(&e.attributes, "gen_ai.evaluation.score.label"),
            Some(&AttrValue::Str("thumbs_down".into()))
        );
        assert_eq!(
            value(&e.attributes, "gen_ai.evaluation.explanation"),
            Some(&AttrValue::Str("wrong year, see [EMAIL]".into()))
        );
        assert_eq!(
            value(&e.attributes, "llm.evaluation.annotator_kind"),
            Some(&AttrValue::Str("HUMAN".into()))
        );
        assert_eq!(value(&e.attributes, "llm.judge.model"), None);
    }

    #[test]
    fn the_carrier_span_links_to_the_evaluated_span_or_annotates_the_trace() {
        let s = feedback(Some([0xb7; 8])).carrier_span([3; 8]);
        assert_eq!(
            s.links,
            vec![SpanLink {
                trace_id: [0x0a; 16],
                span_id: [0xb7; 8]
            }]
        );
        assert_eq!(
            (s.trace_id, s.parent_span_id, s.name.as_str()),
            ([0x0a; 16], None, "user_feedback evaluation")
        );
        assert_eq!(
            value(&s.attributes, "openinference.span.kind"),
            Some(&AttrValue::Str("EVALUATOR".into()))
        );
        assert_eq!(
            value(&s.attributes, "annotations.0.annotation.name"),
            Some(&AttrValue::Str("user_feedback".into()))
        );
        assert_eq!(
            value(&s.attributes, "annotations.0.annotation.score"),
            Some(&AttrValue::Double(0.25))
        );
        assert_eq!(
            value(&s.attributes, "annotations.0.annotation.annotator_kind"),
            Some(&AttrValue::Str("HUMAN".into()))
        );
        let t = feedback(None).carrier_span([3; 8]);
        assert!(t.links.is_empty());
        assert_eq!(
            value(&t.attributes, "trace.annotations.0.annotation.label"),
            Some(&AttrValue::Str("thumbs_down".into()))
        );
    }

    #[test]
    fn phoenix_gets_a_span_or_a_trace_annotation() {
        let (path, body) = feedback(Some([0xb7; 8])).phoenix_annotation();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(path, "/v1/span_annotations");
        assert_eq!(
            body,
            json!({"data": [{"span_id": "b7b7b7b7b7b7b7b7", "name": "user_feedback", "annotator_kind": "HUMAN",
                "result": {"score": 0.25, "label": "thumbs_down", "explanation": "wrong year, see [EMAIL]"},
                "metadata": {"source": "llm-trace"}}]})
        );
        let (path, body) = feedback(None).phoenix_annotation();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(path, "/v1/trace_annotations");
        assert_eq!(body["data"][0]["trace_id"], "0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a");
    }

    #[test]
    fn the_histogram_sample_is_the_score_in_percent() {
        let mut e = feedback(None);
        assert_eq!(e.score_percent(), Some(25));
        e.score = Some(0.876);
        assert_eq!(e.score_percent(), Some(88));
        e.score = None;
        assert_eq!(e.score_percent(), None);
    }
}
