//! The token counts Bedrock appends to the last event of `InvokeModelWithResponseStream` for every model family.

use crate::model::observation::{Observation, Usage};
use serde::Deserialize;

/// Figures Bedrock appends to the last event of `InvokeModelWithResponseStream` for every model.
#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InvocationMetrics {
    #[serde(default)]
    input_token_count: Option<u64>,
    #[serde(default)]
    output_token_count: Option<u64>,
}

impl InvocationMetrics {
    /// Uses Bedrock's figures only when the model's own events reported none.
    pub(crate) fn apply_if_missing(self, obs: &mut Observation) {
        if !obs.usage.is_reported() {
            obs.usage = Usage {
                input_tokens: self.input_token_count,
                output_tokens: self.output_token_count,
                provider_input_tokens: self.input_token_count,
                provider_output_tokens: self.output_token_count,
                ..Default::default()
            };
        }
    }
}
