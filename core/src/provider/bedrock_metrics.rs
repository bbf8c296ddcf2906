//! Token counts Bedrock reports outside the model's own body, for every model family: `amazon-bedrock-
//! invocationMetrics` appended to the last message of `InvokeModelWithResponseStream`, and the
//! `x-amzn-bedrock-*-token-count` headers of a non-streamed answer. Both only fill figures the model's own body or
//! events did not report (with a guardrail, a Nova body reports only its input).

use crate::model::observation::{Observation, Usage, UsageSource};
use crate::wire::lenient;
use serde::Deserialize;

/// Figures Bedrock appends to the last event of `InvokeModelWithResponseStream`.
#[derive(Debug, Default, Deserialize, Clone, Copy)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct InvocationMetrics {
    #[serde(deserialize_with = "lenient::count")]
    input_token_count: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    output_token_count: Option<u64>,
}

impl InvocationMetrics {
    /// Fills the figures the model's own events did not report.
    pub(crate) fn fill_missing(self, obs: &mut Observation) {
        fill(
            obs,
            self.input_token_count,
            self.output_token_count,
            UsageSource::BedrockMetrics,
        );
    }
}

/// `x-amzn-bedrock-input-token-count` and `-output-token-count` (embedding models send only the input count).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeaderCounts {
    input: Option<u64>,
    output: Option<u64>,
}

impl HeaderCounts {
    /// Reads the counts among the response headers (names in lowercase).
    pub(crate) fn from_headers(headers: &[(String, String)]) -> HeaderCounts {
        let count = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.trim().parse::<u64>().ok())
        };
        HeaderCounts {
            input: count("x-amzn-bedrock-input-token-count"),
            output: count("x-amzn-bedrock-output-token-count"),
        }
    }

    /// Fills the figures the body did not report.
    pub(crate) fn fill_missing(self, obs: &mut Observation) {
        fill(obs, self.input, self.output, UsageSource::BedrockHeader);
    }
}

/// Bedrock's figures where the model's are missing: all of them (and the source) when the model reported none,
/// else only the gaps, keeping the model's source. Embedding models generate nothing, so no output is filled.
fn fill(obs: &mut Observation, input: Option<u64>, output: Option<u64>, source: UsageSource) {
    let output = output.filter(|_| obs.operation != "embeddings");
    if input.is_none() && output.is_none() {
        return;
    }
    if !obs.usage.is_reported() {
        let usage = Usage {
            input_tokens: input,
            output_tokens: output,
            provider_input_tokens: input,
            provider_output_tokens: output,
            ..Default::default()
        };
        obs.report_usage(usage, source);
        return;
    }
    let u = &mut obs.usage;
    if u.input_tokens.is_none() {
        u.input_tokens = input;
        u.provider_input_tokens = input;
    }
    if u.output_tokens.is_none() {
        u.output_tokens = output;
        u.provider_output_tokens = output;
    }
}
