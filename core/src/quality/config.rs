//! `quality` as written in the configuration, validated: the trace-context response header, the feedback endpoint,
//! the LLM judge and the optional Arize Phoenix annotations.

use crate::config_error::{check_range, invalid, ConfigError};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Placeholders the rubric must contain.
pub(crate) const QUESTION_PLACEHOLDER: &str = "{{question}}";
pub(crate) const ANSWER_PLACEHOLDER: &str = "{{answer}}";

/// The rubric when none is configured: asks for the structured answer the judge's reader parses.
pub(crate) const DEFAULT_RUBRIC: &str = "You are grading an AI assistant's answer to a user.\n\n\
Conversation so far:\n{{question}}\n\nThe assistant's answer:\n{{answer}}\n\n\
Judge whether the answer is correct, relevant to the question and complete. Reply with one JSON object and nothing \
else: {\"score\": <a number from 0 (useless) to 1 (excellent)>, \"label\": \"pass\" or \"fail\", \"reason\": \
\"<one short sentence>\"}";

/// The validated `quality` section.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct QualityConfig {
    /// Response header carrying the LLM span's context to the caller (lower case); `None` turns it off.
    pub(crate) trace_context_header: Option<String>,
    pub(crate) feedback: FeedbackConfig,
    pub(crate) judge: Option<JudgeConfig>,
    pub(crate) phoenix: Option<PhoenixConfig>,
}

/// The feedback endpoint the filter answers itself.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct FeedbackConfig {
    pub(crate) enabled: bool,
    /// Exact path (the query string is ignored).
    pub(crate) path: String,
    /// A header every feedback request must carry (lower-case name, value): a shared secret.
    pub(crate) require_header: Option<(String, String)>,
}

/// The asynchronous LLM judge.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JudgeConfig {
    /// Envoy cluster speaking the OpenAI chat completions API.
    pub(crate) cluster: String,
    pub(crate) authority: String,
    pub(crate) path: String,
    /// Extra headers (an `authorization` for the judge's provider), names in lower case.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) model: String,
    /// `gen_ai.provider.name` of the judge, to price its calls.
    pub(crate) provider: String,
    /// Prompt template with [`QUESTION_PLACEHOLDER`] and [`ANSWER_PLACEHOLDER`].
    pub(crate) rubric: String,
    /// Share of eligible calls judged, decided from the trace id like head sampling.
    pub(crate) ratio: f64,
    /// `app.feature` values whose calls are always judged (within the budget).
    pub(crate) features: Vec<String>,
    /// Judge calls a worker may start per minute.
    pub(crate) calls_per_minute: u32,
    /// `max_tokens` of each judge call.
    pub(crate) max_tokens: u32,
    pub(crate) timeout_ms: u64,
}

/// Arize Phoenix's REST API, for annotations shown on the span in Phoenix's UI.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PhoenixConfig {
    pub(crate) cluster: String,
    pub(crate) authority: String,
    /// Extra headers (`authorization: Bearer <key>` when Phoenix has auth on), names in lower case.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) timeout_ms: u64,
}

/// `quality` as written in the configuration.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawQuality {
    trace_context_header: String,
    feedback: RawFeedback,
    judge: Option<RawJudge>,
    phoenix: Option<RawPhoenix>,
}

impl Default for RawQuality {
    fn default() -> Self {
        RawQuality {
            trace_context_header: "server-timing".to_string(),
            feedback: RawFeedback::default(),
            judge: None,
            phoenix: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawFeedback {
    enabled: bool,
    path: String,
    require_header: Option<RawRequiredHeader>,
}

impl Default for RawFeedback {
    fn default() -> Self {
        RawFeedback {
            enabled: false,
            path: "/llm-trace/v1/feedback".to_string(),
            require_header: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequiredHeader {
    name: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJudge {
    cluster: String,
    #[serde(default)]
    authority: Option<String>,
    #[serde(default = "default_judge_path")]
    path: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    model: String,
    #[serde(default = "default_judge_provider")]
    provider: String,
    #[serde(default)]
    rubric: Option<String>,
    #[serde(default = "default_ratio")]
    ratio: f64,
    #[serde(default)]
    features: Vec<String>,
    #[serde(default)]
    budget: RawBudget,
    #[serde(default = "default_judge_timeout_ms")]
    timeout_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawBudget {
    calls_per_minute: u32,
    max_tokens: u32,
}

impl Default for RawBudget {
    fn default() -> Self {
        RawBudget {
            calls_per_minute: 60,
            max_tokens: 256,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhoenix {
    cluster: String,
    #[serde(default)]
    authority: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default = "default_phoenix_timeout_ms")]
    timeout_ms: u64,
}

fn default_judge_path() -> String {
    "/v1/chat/completions".to_string()
}
fn default_judge_provider() -> String {
    "openai".to_string()
}
fn default_ratio() -> f64 {
    1.0
}
fn default_judge_timeout_ms() -> u64 {
    10_000
}
fn default_phoenix_timeout_ms() -> u64 {
    5_000
}

/// Headers the filter sets on its own calls.
const RESERVED_HEADERS: [&str; 5] = [":method", ":path", ":authority", "content-type", "content-length"];

/// Lower-cases header names and refuses the ones the filter sets itself.
fn call_headers(field: &str, headers: BTreeMap<String, String>) -> Result<Vec<(String, String)>, ConfigError> {
    headers
        .into_iter()
        .map(|(name, value)| {
            let lower = name.to_ascii_lowercase();
            if lower.is_empty() || RESERVED_HEADERS.contains(&lower.as_str()) {
                return Err(invalid(
                    &format!("{field}.{name}"),
                    "is set by the filter and cannot be overridden",
                ));
            }
            Ok((lower, value))
        })
        .collect()
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn cluster(field: &str, name: &str) -> Result<(), ConfigError> {
    if name.trim().is_empty() {
        return Err(invalid(field, "must name an Envoy cluster"));
    }
    Ok(())
}

fn path(field: &str, path: &str) -> Result<(), ConfigError> {
    if !path.starts_with('/') {
        return Err(invalid(field, format!("`{path}` must start with `/`")));
    }
    Ok(())
}

impl RawQuality {
    /// Validates every field, naming the first bad one.
    pub(crate) fn validate(self) -> Result<QualityConfig, ConfigError> {
        let header = self.trace_context_header.to_ascii_lowercase();
        if !header.is_empty() && !is_header_name(&header) {
            return Err(invalid(
                "quality.trace_context_header",
                format!("`{}` is not a header name", self.trace_context_header),
            ));
        }
        let f = self.feedback;
        path("quality.feedback.path", &f.path)?;
        let require_header = match f.require_header {
            Some(h) => {
                let name = h.name.to_ascii_lowercase();
                if !is_header_name(&name) {
                    return Err(invalid(
                        "quality.feedback.require_header.name",
                        format!("`{}` is not a header name", h.name),
                    ));
                }
                if h.value.is_empty() {
                    return Err(invalid("quality.feedback.require_header.value", "must not be empty"));
                }
                Some((name, h.value))
            }
            None => None,
        };
        Ok(QualityConfig {
            trace_context_header: (!header.is_empty()).then_some(header),
            feedback: FeedbackConfig {
                enabled: f.enabled,
                path: f.path,
                require_header,
            },
            judge: self.judge.map(RawJudge::validate).transpose()?,
            phoenix: self.phoenix.map(RawPhoenix::validate).transpose()?,
        })
    }
}

impl RawJudge {
    fn validate(self) -> Result<JudgeConfig, ConfigError> {
        cluster("quality.judge.cluster", &self.cluster)?;
        path("quality.judge.path", &self.path)?;
        if self.model.trim().is_empty() {
            return Err(invalid("quality.judge.model", "must name the judge's model"));
        }
        let rubric = self.rubric.unwrap_or_else(|| DEFAULT_RUBRIC.to_string());
        for placeholder in [QUESTION_PLACEHOLDER, ANSWER_PLACEHOLDER] {
            if !rubric.contains(placeholder) {
                return Err(invalid("quality.judge.rubric", format!("must contain `{placeholder}`")));
            }
        }
        check_range("quality.judge.rubric", rubric.len() as u64, 1, 16 << 10)?;
        if !(0.0..=1.0).contains(&self.ratio) || self.ratio.is_nan() {
            return Err(invalid(
                "quality.judge.ratio",
                format!("{} is out of range; allowed 0.0..=1.0", self.ratio),
            ));
        }
        check_range(
            "quality.judge.budget.calls_per_minute",
            u64::from(self.budget.calls_per_minute),
            1,
            100_000,
        )?;
        check_range(
            "quality.judge.budget.max_tokens",
            u64::from(self.budget.max_tokens),
            16,
            4096,
        )?;
        check_range("quality.judge.timeout_ms", self.timeout_ms, 1, 300_000)?;
        Ok(JudgeConfig {
            authority: self.authority.unwrap_or_else(|| self.cluster.clone()),
            headers: call_headers("quality.judge.headers", self.headers)?,
            cluster: self.cluster,
            path: self.path,
            model: self.model,
            provider: self.provider,
            rubric,
            ratio: self.ratio,
            features: self.features,
            calls_per_minute: self.budget.calls_per_minute,
            max_tokens: self.budget.max_tokens,
            timeout_ms: self.timeout_ms,
        })
    }
}

impl RawPhoenix {
    fn validate(self) -> Result<PhoenixConfig, ConfigError> {
        cluster("quality.phoenix.cluster", &self.cluster)?;
        check_range("quality.phoenix.timeout_ms", self.timeout_ms, 1, 300_000)?;
        Ok(PhoenixConfig {
            authority: self.authority.unwrap_or_else(|| self.cluster.clone()),
            headers: call_headers("quality.phoenix.headers", self.headers)?,
            cluster: self.cluster,
            timeout_ms: self.timeout_ms,
        })
    }
}
