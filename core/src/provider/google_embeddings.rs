//! Google embeddings: the Gemini API's `:embedContent` and `:batchEmbedContents` (no usage on the wire; Vertex AI's
//! `:embedContent` adds `usageMetadata`), and Vertex AI's `:predict` for embedding models, whose input count is the
//! sum of `predictions[].embeddings.statistics.token_count` (snake_case inside a camelCase answer). The model is
//! in the path; no answer names it.

use super::content_parts::{prompt_message, text_part};
use super::gemini::{GoogleError, UsageMetadata};
use super::{read_response, ApiDecoder};
use crate::model::content::InputContent;
use crate::model::observation::{Observation, Usage, UsageSource};
use crate::wire::lenient;
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Debug, Default)]
pub(crate) struct GoogleEmbeddingsDecoder;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct EmbedRequest {
    /// `:batchEmbedContents`.
    #[serde(deserialize_with = "lenient::length")]
    requests: Option<usize>,
    /// `:predict`.
    #[serde(deserialize_with = "lenient::length")]
    instances: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct EmbedResponse {
    #[serde(deserialize_with = "lenient::object")]
    usage_metadata: Option<UsageMetadata>,
    #[serde(deserialize_with = "lenient::objects")]
    predictions: Option<Vec<Prediction>>,
    #[serde(deserialize_with = "lenient::object")]
    error: Option<GoogleError>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Prediction {
    #[serde(deserialize_with = "lenient::object")]
    embeddings: Option<PredictionEmbedding>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PredictionEmbedding {
    #[serde(deserialize_with = "lenient::object")]
    statistics: Option<Statistics>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Statistics {
    #[serde(deserialize_with = "lenient::count")]
    token_count: Option<u64>,
}

impl ApiDecoder for GoogleEmbeddingsDecoder {
    fn on_request(&mut self, body: &[u8], obs: &mut Observation) {
        if let Some(req) = super::read_request::<EmbedRequest>(body) {
            obs.request.message_count = req.requests.or(req.instances).unwrap_or(1);
        }
    }

    fn on_stream_message(&mut self, _event: &[u8], data: &[u8], now_ns: u64, obs: &mut Observation) {
        self.on_response_body(data, now_ns, obs);
    }

    fn on_response_body(&mut self, body: &[u8], _now_ns: u64, obs: &mut Observation) {
        let Ok(r) = read_response::<EmbedResponse>(body, obs) else {
            return;
        };
        if let Some(u) = r.usage_metadata.and_then(|u| u.to_usage(true)) {
            obs.report_usage(u, UsageSource::Body);
        }
        let counts: Vec<u64> = r
            .predictions
            .iter()
            .flatten()
            .filter_map(|p| p.embeddings.as_ref()?.statistics.as_ref()?.token_count)
            .collect();
        if !counts.is_empty() {
            let input = Some(counts.iter().sum());
            let usage = Usage {
                input_tokens: input,
                provider_input_tokens: input,
                ..Default::default()
            };
            obs.report_usage(usage, UsageSource::Body);
        }
        if let Some(e) = r.error {
            obs.error = Some(e.into_info());
        }
    }
}

/// The texts of `content.parts` (one `embedContent`), of every `requests[].content` (`batchEmbedContents`), or of
/// every `instances[].content` (`predict`), as one user message.
pub(crate) fn request_content(req: &Map<String, Value>) -> InputContent {
    let parts_text = |content: &Value| -> Vec<Value> {
        content
            .get("parts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("text").and_then(Value::as_str).map(text_part))
            .collect()
    };
    let parts: Vec<Value> = if let Some(content) = req.get("content") {
        parts_text(content)
    } else if let Some(requests) = req.get("requests").and_then(Value::as_array) {
        requests
            .iter()
            .filter_map(|r| r.get("content"))
            .flat_map(parts_text)
            .collect()
    } else {
        let texts: Vec<Value> = req
            .get("instances")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|i| i.get("content").cloned())
            .collect();
        return InputContent {
            messages: Some(prompt_message(&Value::Array(texts))),
            ..Default::default()
        };
    };
    InputContent {
        messages: Some(json!([{"role": "user", "parts": parts}])),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vertex_predict_sums_the_token_counts_and_gemini_reports_none() {
        let mut obs = Observation {
            operation: "embeddings",
            ..Default::default()
        };
        GoogleEmbeddingsDecoder.on_response_body(
            br#"{"predictions":[{"embeddings":{"statistics":{"truncated":false,"token_count":7},"values":[0.1]}},
                {"embeddings":{"statistics":{"token_count":11.0},"values":[0.2]}}],"metadata":{"billableCharacterCount":81}}"#,
            1,
            &mut obs,
        );
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(18), None));
        let mut obs = Observation {
            operation: "embeddings",
            ..Default::default()
        };
        GoogleEmbeddingsDecoder.on_response_body(br#"{"embedding":{"values":[0.1,0.2]}}"#, 1, &mut obs);
        assert!(!obs.usage.is_reported());
        assert_eq!(obs.usage_source(), "estimate");
    }

    #[test]
    fn vertex_embed_content_reports_its_usage_metadata() {
        let mut obs = Observation {
            operation: "embeddings",
            ..Default::default()
        };
        GoogleEmbeddingsDecoder.on_response_body(
            br#"{"embedding":{"values":[0.1]},"usageMetadata":{"promptTokenCount":"12","promptTokensDetails":[{"modality":1,"tokenCount":12}]},"truncated":false}"#,
            1,
            &mut obs,
        );
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(12), None));
        assert_eq!(obs.usage_source(), "body");
    }
}
