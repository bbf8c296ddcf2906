//! The configuration: the JSON given to the filter in Envoy's `configuration` (or Istio's `pluginConfig`), or to the
//! component. Parsed once per worker: serde with unknown fields rejected, then each section validated next to its
//! code. Every error names the field (as a dotted path) and the problem, so one log line tells the operator what to
//! fix. The reference of every field, with defaults, is `docs/configuration.md`.

use crate::config_error::{check_range, invalid, strip_position, ConfigError};
use crate::policy::attribution::{AttributionConfig, RawAttribution};
use crate::policy::capture::{CaptureConfig, RawCapture};
use crate::policy::pricing::{PricingConfig, RawPricing};
use crate::policy::redaction::{self, Redactor};
use crate::policy::sampling::SamplingConfig;
use crate::provider::detect::{DetectionConfig, RawProviderOverride};
use crate::provider::vector::{RawRetrieval, RetrievalConfig};
use crate::quality::config::{QualityConfig, RawQuality};
use crate::telemetry::export::config::RawExporter;
use crate::telemetry::export::ExporterConfig;
use crate::telemetry::span::Semconv;
use crate::wire::limits::Limits;
use serde::Deserialize;

#[cfg(test)]
use crate::telemetry::export::{config::RetryConfig, ExportProtocol};

/// Validated, immutable configuration shared by every exchange of a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `service.name` of the exported resource.
    pub(crate) service_name: String,
    /// Where and how spans are exported.
    pub(crate) exporter: ExporterConfig,
    /// Body and event caps.
    pub(crate) limits: Limits,
    /// Add `stream_options.include_usage` to OpenAI-shaped streaming requests that lack it, and remove the extra
    /// usage-only chunk from the response before the client sees it.
    pub(crate) inject_stream_usage: bool,
    /// Remove codings the tracer cannot read (`br`, `zstd`) from LLM requests' `accept-encoding`, so responses
    /// come in one it can (the client still gets a coding it asked for).
    pub(crate) narrow_accept_encoding: bool,
    /// `default_provider` and `provider_overrides`: which API a route speaks and who serves it.
    pub(crate) detection: DetectionConfig,
    /// Content capture policy.
    pub(crate) capture: CaptureConfig,
    /// Where attribution values come from.
    pub(crate) attribution: AttributionConfig,
    /// Attribute names: GenAI conventions v1.41 or `latest`.
    pub(crate) semconv: Semconv,
    /// Also emit OpenInference attributes (Arize Phoenix) on every span.
    pub(crate) openinference: bool,
    /// Also emit the `gen_ai.*` attributes (on unless only OpenInference is wanted).
    pub(crate) gen_ai: bool,
    /// Extra resource attributes (e.g. `deployment.environment`).
    pub(crate) resource_attributes: Vec<(String, String)>,
    /// Add a `traceparent` for the LLM span to the upstream request, so a tracing upstream joins the trace.
    pub(crate) inject_traceparent: bool,
    /// Join a caller's Zipkin B3 context (`b3` or `x-b3-*` headers) when it sent no `traceparent`.
    pub(crate) accept_b3: bool,
    /// Which spans are kept.
    pub(crate) sampling: SamplingConfig,
    /// Prices and currency.
    pub(crate) pricing: PricingConfig,
    /// What is removed from every exported text (and optionally from the forwarded request).
    pub(crate) redaction: Redactor,
    /// Vector-store calls as retrieval spans: whether, and how much of an answer is kept.
    pub(crate) retrieval: RetrievalConfig,
    /// The trace context returned to callers, the feedback endpoint, the LLM judge.
    pub(crate) quality: QualityConfig,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default = "default_service_name")]
    service_name: String,
    exporter: RawExporter,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default = "default_true")]
    inject_stream_usage: bool,
    #[serde(default = "default_true")]
    narrow_accept_encoding: bool,
    #[serde(default = "default_provider")]
    default_provider: String,
    #[serde(default)]
    provider_overrides: Vec<RawProviderOverride>,
    #[serde(default)]
    capture: RawCapture,
    #[serde(default)]
    attribution: RawAttribution,
    #[serde(default)]
    semconv: Semconv,
    #[serde(default = "default_dialects")]
    dialects: Vec<Dialect>,
    #[serde(default)]
    resource_attributes: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    trace_context: RawTraceContext,
    #[serde(default)]
    sampling: SamplingConfig,
    #[serde(default)]
    pricing: RawPricing,
    /// Validated by `redaction::build_from`, which names its own fields.
    #[serde(default)]
    redaction: Option<serde_json::Value>,
    #[serde(default)]
    retrieval: RawRetrieval,
    #[serde(default)]
    quality: RawQuality,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Dialect {
    GenAi,
    Openinference,
}

fn default_dialects() -> Vec<Dialect> {
    vec![Dialect::GenAi]
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawTraceContext {
    inject_traceparent: bool,
    accept_b3: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawLimits {
    max_request_body_bytes: usize,
    max_response_body_bytes: usize,
    max_sse_event_bytes: usize,
}

impl Default for RawLimits {
    fn default() -> Self {
        RawLimits {
            max_request_body_bytes: 1 << 20,
            max_response_body_bytes: 4 << 20,
            max_sse_event_bytes: 1 << 20,
        }
    }
}

fn default_provider() -> String {
    "openai".to_string()
}
fn default_true() -> bool {
    true
}
fn default_service_name() -> String {
    "llm-trace".to_string()
}

impl Config {
    /// Parses and validates the configuration JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Config, ConfigError> {
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(ConfigError {
                field: String::new(),
                problem: "the plugin configuration is empty; at least `exporter.cluster` is required".into(),
            });
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let raw: RawConfig = serde_path_to_error::deserialize(&mut de).map_err(|e| ConfigError {
            field: e.path().to_string(),
            problem: strip_position(&e.inner().to_string()),
        })?;
        if let Err(e) = de.end() {
            return Err(ConfigError {
                field: String::new(),
                problem: strip_position(&e.to_string()),
            });
        }
        raw.validate()
    }
}

impl RawConfig {
    fn validate(self) -> Result<Config, ConfigError> {
        if self.service_name.trim().is_empty() {
            return Err(invalid("service_name", "must not be empty"));
        }
        let exporter = self.exporter.validate()?;
        let detection = DetectionConfig::from_raw(self.default_provider, self.provider_overrides)?;
        let capture = self.capture.validate()?;
        self.attribution.validate_headers()?;
        self.sampling.validate()?;
        let attribution = self.attribution.validate()?;
        let pricing = self.pricing.validate()?;
        let redaction = redaction::build_from(&self.redaction.unwrap_or_else(|| serde_json::json!({})))?;
        let retrieval = self.retrieval.validate()?;
        let quality = self.quality.validate()?;
        if self.dialects.is_empty() {
            return Err(invalid(
                "dialects",
                "must name at least one of `gen_ai`, `openinference`",
            ));
        }
        let l = self.limits;
        check_range(
            "limits.max_request_body_bytes",
            l.max_request_body_bytes as u64,
            0,
            1 << 30,
        )?;
        check_range(
            "limits.max_response_body_bytes",
            l.max_response_body_bytes as u64,
            0,
            1 << 30,
        )?;
        check_range("limits.max_sse_event_bytes", l.max_sse_event_bytes as u64, 256, 1 << 30)?;
        Ok(Config {
            service_name: self.service_name,
            exporter,
            limits: Limits {
                max_request_body_bytes: l.max_request_body_bytes,
                max_response_body_bytes: l.max_response_body_bytes,
                max_sse_event_bytes: l.max_sse_event_bytes,
            },
            inject_stream_usage: self.inject_stream_usage,
            narrow_accept_encoding: self.narrow_accept_encoding,
            detection,
            capture,
            attribution,
            semconv: self.semconv,
            openinference: self.dialects.contains(&Dialect::Openinference),
            gen_ai: self.dialects.contains(&Dialect::GenAi),
            resource_attributes: self.resource_attributes.into_iter().collect(),
            inject_traceparent: self.trace_context.inject_traceparent,
            accept_b3: self.trace_context.accept_b3,
            sampling: self.sampling,
            pricing,
            redaction,
            retrieval,
            quality,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> String {
        Config::from_json(json.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn minimal_config_gets_documented_defaults() {
        let c = Config::from_json(br#"{"exporter":{"cluster":"otel"}}"#).unwrap();
        assert_eq!(c.service_name, "llm-trace");
        assert_eq!(c.exporter.authority, "otel");
        assert_eq!(c.exporter.path, "/v1/traces");
        assert_eq!(c.exporter.timeout_ms, 5000);
        assert_eq!(c.exporter.flush_interval_ms, 1000);
        assert_eq!(c.exporter.max_batch_spans, 256);
        assert_eq!(c.exporter.max_queue_bytes, 4 << 20);
        assert_eq!((c.exporter.max_batch_bytes, c.exporter.max_in_flight), (1 << 20, 4));
        assert_eq!(
            (c.exporter.protocol, c.exporter.gzip, c.exporter.drop_oldest),
            (ExportProtocol::HttpProtobuf, false, false)
        );
        assert_eq!(
            c.exporter.retry,
            RetryConfig {
                max_attempts: 5,
                initial_backoff_ms: 500,
                max_backoff_ms: 30_000
            }
        );
        assert_eq!(c.limits.max_request_body_bytes, 1 << 20);
        assert_eq!(c.limits.max_response_body_bytes, 4 << 20);
        assert_eq!(c.limits.max_sse_event_bytes, 1 << 20);
        assert!(c.inject_stream_usage);
    }

    #[test]
    fn unknown_field_is_named_with_its_path() {
        assert_eq!(
            err(r#"{"exporter":{"cluster":"otel","timeout":5}}"#),
            "Invalid llm-trace configuration: `exporter.timeout`: unknown field `timeout`, expected one of `cluster`, \
             `authority`, `path`, `logs_path`, `timeout_ms`, `flush_interval_ms`, `max_batch_spans`, `max_batch_bytes`, \
             `max_queue_bytes`, `max_in_flight`, `drop_policy`, `protocol`, `compression`, `retry`, `headers`."
        );
    }

    #[test]
    fn wrong_type_names_the_field() {
        let e = err(r#"{"exporter":{"cluster":"otel","timeout_ms":"5s"}}"#);
        assert!(
            e.contains("`exporter.timeout_ms`: invalid type: string \"5s\", expected u64"),
            "{e}"
        );
    }

    #[test]
    fn missing_exporter_and_empty_config_are_rejected() {
        assert!(err("{}").contains("missing field `exporter`"));
        assert!(err("  ").contains("the plugin configuration is empty"));
        assert!(err("{").contains("EOF while parsing"));
    }

    #[test]
    fn validation_rules_name_the_field() {
        assert!(err(r#"{"exporter":{"cluster":" "}}"#).contains("`exporter.cluster`: must name"));
        assert!(err(r#"{"exporter":{"cluster":"c","path":"v1"}}"#).contains("`exporter.path`: `v1` must start"));
        assert!(
            err(r#"{"exporter":{"cluster":"c","timeout_ms":0}}"#).contains("`exporter.timeout_ms`: 0 is out of range")
        );
        assert!(err(r#"{"exporter":{"cluster":"c","flush_interval_ms":1}}"#).contains("`exporter.flush_interval_ms`"));
        assert!(err(r#"{"exporter":{"cluster":"c","max_batch_spans":0}}"#).contains("`exporter.max_batch_spans`"));
        assert!(err(r#"{"exporter":{"cluster":"c","max_queue_bytes":10}}"#).contains("`exporter.max_queue_bytes`"));
        assert!(err(r#"{"exporter":{"cluster":"c","headers":{":path":"/x"}}}"#).contains("`exporter.headers.:path`"));
        assert!(
            err(r#"{"exporter":{"cluster":"c"},"limits":{"max_sse_event_bytes":1}}"#)
                .contains("`limits.max_sse_event_bytes`")
        );
        assert!(err(r#"{"exporter":{"cluster":"c"},"service_name":""}"#).contains("`service_name`: must not be empty"));
    }

    #[test]
    fn provider_overrides_are_validated_and_matched_in_order() {
        let c = Config::from_json(
            br#"{"exporter":{"cluster":"c"},"default_provider":"vllm","provider_overrides":[
                {"host":"llm.internal:8000","path_prefix":"/generate","api":"openai_chat","provider":"acme"},
                {"host":"llm.internal:8000","provider":"acme-other"}]}"#,
        )
        .unwrap();
        assert_eq!(c.detection.default_provider, "vllm");
        let first = c
            .detection
            .provider_override(Some("LLM.internal:8000"), "/generate/x")
            .unwrap();
        assert_eq!(
            (first.api, first.provider.as_deref()),
            (Some(crate::provider::Api::OpenAiChat), Some("acme"))
        );
        assert_eq!(
            c.detection
                .provider_override(Some("llm.internal:8000"), "/v1/chat/completions")
                .unwrap()
                .provider
                .as_deref(),
            Some("acme-other")
        );
        assert!(c.detection.provider_override(Some("other"), "/generate").is_none());
        assert!(
            err(r#"{"exporter":{"cluster":"c"},"provider_overrides":[{"provider":"x"}]}"#)
                .contains("`provider_overrides[0]`: needs `host` or `path_prefix`")
        );
        assert!(
            err(r#"{"exporter":{"cluster":"c"},"provider_overrides":[{"host":"h","api":"soap"}]}"#)
                .contains("`provider_overrides[0].api`: unknown API `soap`")
        );
    }

    #[test]
    fn exporter_enums_and_retry_rules() {
        let c = Config::from_json(
            br#"{"exporter":{"cluster":"c","protocol":"grpc","drop_policy":"oldest","retry":{"max_attempts":1}}}"#,
        )
        .unwrap();
        assert_eq!(
            (
                c.exporter.protocol,
                c.exporter.drop_oldest,
                c.exporter.retry.max_attempts
            ),
            (ExportProtocol::Grpc, true, 1)
        );
        assert!(
            Config::from_json(br#"{"exporter":{"cluster":"c","compression":"gzip"}}"#)
                .unwrap()
                .exporter
                .gzip
        );
        assert!(err(r#"{"exporter":{"cluster":"c","protocol":"http/json"}}"#)
            .contains("`exporter.protocol`: unknown variant `http/json`"));
        assert!(
            err(r#"{"exporter":{"cluster":"c","protocol":"grpc","compression":"gzip"}}"#)
                .contains("`exporter.compression`")
        );
        assert!(
            err(r#"{"exporter":{"cluster":"c","retry":{"initial_backoff_ms":100,"max_backoff_ms":50}}}"#)
                .contains("`exporter.retry.max_backoff_ms`")
        );
    }

    #[test]
    fn capture_attribution_and_dialects() {
        use crate::model::content::CaptureMode;
        let c = Config::from_json(
            br#"{"exporter":{"cluster":"c"},"capture":{"content":"metadata","rules":[
                {"feature":"support-bot","content":"full"},{"host":"api.anthropic.com","content":"off"}]},
               "attribution":{"headers":{"user.id":"X-Customer"}},"dialects":["gen_ai","openinference"],"semconv":"latest"}"#,
        )
        .unwrap();
        assert_eq!(
            c.capture.mode_for(Some("api.openai.com"), "/v1/chat/completions", None),
            CaptureMode::Metadata
        );
        assert_eq!(
            c.capture.mode_for(Some("api.openai.com"), "/x", Some("support-bot")),
            CaptureMode::Full
        );
        assert_eq!(
            c.capture.mode_for(Some("API.anthropic.com"), "/v1/messages", None),
            CaptureMode::Off
        );
        assert_eq!(
            c.attribution.headers,
            vec![("user.id".to_string(), "x-customer".to_string())]
        );
        assert!(c.openinference && c.gen_ai);
        assert_eq!(c.semconv, Semconv::Latest);
        let d = Config::from_json(br#"{"exporter":{"cluster":"c"}}"#).unwrap();
        assert_eq!(d.capture.content, CaptureMode::Off);
        assert_eq!(d.capture.max_content_bytes, 16384);
        assert_eq!(d.attribution.headers.len(), 5);
        assert!(d.gen_ai && !d.openinference && !d.inject_traceparent);
        assert!(
            err(r#"{"exporter":{"cluster":"c"},"attribution":{"headers":{"user.id":"Authorization"}}}"#)
                .contains("`authorization` carries credentials")
        );
        assert!(
            err(r#"{"exporter":{"cluster":"c"},"attribution":{"headers":{"app.tenant":"X-Chroma-Token"}}}"#)
                .contains("`x-chroma-token` carries credentials")
        );
        assert!(err(r#"{"exporter":{"cluster":"c"},"capture":{"content":"all"}}"#)
            .contains("`capture.content`: unknown variant `all`"));
        assert!(err(r#"{"exporter":{"cluster":"c"},"dialects":[]}"#).contains("`dialects`"));
    }

    #[test]
    fn log_exports_go_beside_the_traces_path_unless_configured() {
        let path = |json: &str| Config::from_json(json.as_bytes()).unwrap().exporter.logs_path;
        assert_eq!(path(r#"{"exporter":{"cluster":"c"}}"#), "/v1/logs");
        assert_eq!(
            path(r#"{"exporter":{"cluster":"c","path":"/otlp/v1/traces"}}"#),
            "/otlp/v1/logs"
        );
        assert_eq!(path(r#"{"exporter":{"cluster":"c","path":"/ingest"}}"#), "/v1/logs");
        assert_eq!(path(r#"{"exporter":{"cluster":"c","logs_path":"/l"}}"#), "/l");
        assert!(err(r#"{"exporter":{"cluster":"c","logs_path":"l"}}"#).contains("`exporter.logs_path`"));
    }

    #[test]
    fn quality_defaults_and_rules_name_the_field() {
        let q = Config::from_json(br#"{"exporter":{"cluster":"c"}}"#).unwrap().quality;
        assert_eq!(q.trace_context_header.as_deref(), Some("server-timing"));
        assert!(!q.feedback.enabled && q.judge.is_none() && q.phoenix.is_none());
        assert_eq!(q.feedback.path, "/llm-trace/v1/feedback");
        let q = Config::from_json(
            br#"{"exporter":{"cluster":"c"},"quality":{"trace_context_header":"","feedback":{"enabled":true,
                "require_header":{"name":"X-Feedback-Key","value":"k"}},
                "judge":{"cluster":"j","model":"m","headers":{"Authorization":"Bearer x"}}}}"#,
        )
        .unwrap()
        .quality;
        assert_eq!(q.trace_context_header, None);
        assert_eq!(q.feedback.require_header, Some(("x-feedback-key".into(), "k".into())));
        let judge = q.judge.unwrap();
        assert_eq!(
            (judge.authority.as_str(), judge.path.as_str()),
            ("j", "/v1/chat/completions")
        );
        assert_eq!(
            (judge.ratio, judge.calls_per_minute, judge.max_tokens, judge.timeout_ms),
            (1.0, 60, 256, 10_000)
        );
        assert_eq!(
            judge.headers,
            vec![("authorization".to_string(), "Bearer x".to_string())]
        );
        let judge = |extra: &str| {
            format!(r#"{{"exporter":{{"cluster":"c"}},"quality":{{"judge":{{"cluster":"j","model":"m"{extra}}}}}}}"#)
        };
        for (extra, field) in [
            (
                r#","rubric":"Grade {{answer}}""#,
                "`quality.judge.rubric`: must contain `{{question}}`",
            ),
            (r#","ratio":2"#, "`quality.judge.ratio`"),
            (
                r#","budget":{"calls_per_minute":0}"#,
                "`quality.judge.budget.calls_per_minute`",
            ),
            (r#","budget":{"max_tokens":1}"#, "`quality.judge.budget.max_tokens`"),
            (r#","headers":{":path":"/x"}"#, "`quality.judge.headers.:path`"),
            (r#","timeout_ms":0"#, "`quality.judge.timeout_ms`"),
            (r#","temperature":0"#, "`quality.judge.temperature`: unknown field"),
        ] {
            assert!(err(&judge(extra)).contains(field), "{extra}: {}", err(&judge(extra)));
        }
        assert!(
            err(r#"{"exporter":{"cluster":"c"},"quality":{"judge":{"cluster":"j"}}}"#)
                .contains("`quality.judge`: missing field `model`")
        );
        assert!(
            err(r#"{"exporter":{"cluster":"c"},"quality":{"trace_context_header":"bad header"}}"#)
                .contains("`quality.trace_context_header`")
        );
        assert!(
            err(r#"{"exporter":{"cluster":"c"},"quality":{"feedback":{"path":"x"}}}"#)
                .contains("`quality.feedback.path`")
        );
        assert!(
            err(r#"{"exporter":{"cluster":"c"},"quality":{"phoenix":{"cluster":""}}}"#)
                .contains("`quality.phoenix.cluster`")
        );
    }

    #[test]
    fn export_headers_are_lower_cased() {
        let c = Config::from_json(br#"{"exporter":{"cluster":"c","headers":{"X-Api-Key":"k"}}}"#).unwrap();
        assert_eq!(c.exporter.headers, vec![("x-api-key".to_string(), "k".to_string())]);
    }
}
