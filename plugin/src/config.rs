//! Plugin configuration: the JSON given to the filter in Envoy's `configuration` (or Istio's `pluginConfig`).
//!
//! Parsed once per worker in `on_configure`: serde with unknown fields rejected, then validated. Every error names
//! the field (as a dotted path) and the problem, so one log line tells the operator what to fix.
//! The reference of every field, with defaults, is `docs/configuration.md`.

use serde::Deserialize;
use std::fmt;

/// Validated, immutable configuration shared by every exchange of a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub service_name: String,
    pub exporter: ExporterConfig,
    pub limits: Limits,
    /// Add `stream_options.include_usage` to OpenAI-shaped streaming requests that lack it, and remove the extra
    /// usage-only chunk from the response before the client sees it.
    pub inject_stream_usage: bool,
    /// Remove codings the filter cannot read (`br`, `zstd`) from LLM requests' `accept-encoding`, so responses
    /// come in one it can (the client still gets a coding it asked for).
    pub narrow_accept_encoding: bool,
    /// `gen_ai.provider.name` for OpenAI-compatible servers on hosts the filter does not know.
    pub default_provider: String,
    /// Per host or path: which API a route speaks and who serves it, when the path alone does not say.
    pub provider_overrides: Vec<ProviderOverride>,
    pub capture: CaptureConfig,
    /// Request headers whose values become span attributes (`user.id`, `session.id`, ...), in order.
    pub attribution_headers: Vec<(String, String)>,
    /// Envoy property paths (JWT claims in dynamic metadata, Istio peer identity) whose values become span
    /// attributes; authenticated, so they win over a header naming the same attribute.
    pub attribution_properties: Vec<(String, Vec<String>)>,
    pub semconv: Semconv,
    /// Also emit OpenInference attributes (Arize Phoenix) on every span.
    pub openinference: bool,
    /// Also emit the `gen_ai.*` attributes (on unless only OpenInference is wanted).
    pub gen_ai: bool,
    /// Extra resource attributes (e.g. `deployment.environment`).
    pub resource_attributes: Vec<(String, String)>,
    /// Add a `traceparent` for the LLM span to the upstream request, so a tracing upstream joins the trace.
    pub inject_traceparent: bool,
    /// Join a caller's Zipkin B3 context (`b3` or `x-b3-*` headers) when it sent no `traceparent`.
    pub accept_b3: bool,
    pub sampling: crate::sampling::SamplingConfig,
    pub pricing: crate::pricing::PricingConfig,
    pub redaction: crate::redaction::Redactor,
}

/// Which GenAI semantic conventions the attribute names follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Semconv {
    /// v1.41, the last released set with GenAI (the default).
    V1_41,
    /// semantic-conventions-genai `main` after v1.41 (`cache_write`, `gen_ai.usage.cost.*`, `"error"` finish reasons).
    Latest,
}

/// Content capture policy: a default mode, refined per host, path or feature.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureConfig {
    pub content: crate::content::CaptureMode,
    /// Largest content attribute, in bytes after redaction; longer values are cut with a visible marker.
    pub max_content_bytes: usize,
    pub rules: Vec<CaptureRule>,
}

/// Applies when every given matcher matches; the first match wins.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureRule {
    pub host: Option<String>,
    pub path_prefix: Option<String>,
    /// Value of the `app.feature` attribution header.
    pub feature: Option<String>,
    pub content: crate::content::CaptureMode,
}

impl CaptureConfig {
    pub fn mode_for(&self, host: Option<&str>, path: &str, feature: Option<&str>) -> crate::content::CaptureMode {
        let matches = |r: &&CaptureRule| {
            r.host
                .as_deref()
                .is_none_or(|h| host.is_some_and(|got| h.eq_ignore_ascii_case(got)))
                && r.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
                && r.feature.as_deref().is_none_or(|f| feature == Some(f))
        };
        self.rules.iter().find(matches).map_or(self.content, |r| r.content)
    }
}

/// One `provider_overrides` entry: applies when every given matcher matches; the first match wins.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderOverride {
    pub host: Option<String>,
    pub path_prefix: Option<String>,
    pub api: Option<crate::provider::Api>,
    pub provider: Option<String>,
}

impl ProviderOverride {
    pub fn matches(&self, host: Option<&str>, path: &str) -> bool {
        let host_ok = match (&self.host, host) {
            (Some(want), Some(got)) => want.eq_ignore_ascii_case(got),
            (Some(_), None) => false,
            (None, _) => true,
        };
        host_ok && self.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
    }
}

impl Config {
    /// The first override matching this request.
    pub fn provider_override(&self, host: Option<&str>, path: &str) -> Option<&ProviderOverride> {
        self.provider_overrides.iter().find(|o| o.matches(host, path))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExporterConfig {
    /// Envoy cluster of the OTLP collectors.
    pub cluster: String,
    /// `:authority` of export requests.
    pub authority: String,
    pub path: String,
    pub timeout_ms: u64,
    pub flush_interval_ms: u64,
    pub max_batch_spans: usize,
    pub max_batch_bytes: usize,
    pub max_queue_bytes: usize,
    pub max_in_flight: usize,
    /// When the queue is full, drop the oldest waiting span rather than the new one.
    pub drop_oldest: bool,
    pub protocol: ExportProtocol,
    /// Gzip OTLP/HTTP request bodies.
    pub gzip: bool,
    pub retry: RetryConfig,
    /// Extra headers on every export request (e.g. a backend API key).
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportProtocol {
    /// OTLP/HTTP with a protobuf body, `POST {path}`.
    HttpProtobuf,
    /// OTLP/gRPC `TraceService/Export`; the cluster must speak HTTP/2.
    Grpc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    pub max_attempts: u32,
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Request body bytes kept for parsing; beyond this the request is still forwarded untouched.
    pub max_request_body_bytes: usize,
    /// Non-streaming response body bytes kept for parsing.
    pub max_response_body_bytes: usize,
    /// Largest single SSE event; a longer one is skipped and counted.
    pub max_sse_event_bytes: usize,
}

/// A configuration the filter refuses, with the dotted path of the offending field.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub field: String,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() || self.field == "." {
            write!(f, "Invalid llm-trace configuration: {}.", self.problem)
        } else {
            write!(
                f,
                "Invalid llm-trace configuration: `{}`: {}.",
                self.field, self.problem
            )
        }
    }
}

impl std::error::Error for ConfigError {}

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
    semconv: RawSemconv,
    #[serde(default = "default_dialects")]
    dialects: Vec<Dialect>,
    #[serde(default)]
    resource_attributes: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    trace_context: RawTraceContext,
    #[serde(default)]
    sampling: crate::sampling::SamplingConfig,
    #[serde(default)]
    pricing: crate::pricing::RawPricing,
    /// Validated by `redaction::build_from`, which names its own fields.
    #[serde(default)]
    redaction: Option<serde_json::Value>,
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq)]
enum RawSemconv {
    #[default]
    #[serde(rename = "v1.41")]
    V1_41,
    #[serde(rename = "latest")]
    Latest,
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

#[derive(Deserialize, Clone, Copy, Default)]
#[serde(rename_all = "snake_case")]
enum RawCaptureMode {
    #[default]
    Off,
    Metadata,
    Full,
}

impl From<RawCaptureMode> for crate::content::CaptureMode {
    fn from(m: RawCaptureMode) -> Self {
        match m {
            RawCaptureMode::Off => crate::content::CaptureMode::Off,
            RawCaptureMode::Metadata => crate::content::CaptureMode::Metadata,
            RawCaptureMode::Full => crate::content::CaptureMode::Full,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawCapture {
    content: RawCaptureMode,
    max_content_bytes: usize,
    rules: Vec<RawCaptureRule>,
}

impl Default for RawCapture {
    fn default() -> Self {
        RawCapture {
            content: RawCaptureMode::Off,
            max_content_bytes: 16 << 10,
            rules: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCaptureRule {
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    path_prefix: Option<String>,
    #[serde(default)]
    feature: Option<String>,
    content: RawCaptureMode,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawAttribution {
    headers: std::collections::BTreeMap<String, String>,
    /// Attribute ← claim of the JWT that Envoy's `jwt_authn` filter verified (its `payload_in_metadata`).
    jwt_claims: std::collections::BTreeMap<String, String>,
    jwt_metadata_namespace: String,
    jwt_payload_key: String,
    /// Attribute ← any Envoy property path, e.g. Istio's peer workload.
    properties: std::collections::BTreeMap<String, Vec<String>>,
}

/// Attribute ← request header, unless the configuration says otherwise.
const DEFAULT_ATTRIBUTION_HEADERS: [(&str, &str); 5] = [
    ("user.id", "x-user-id"),
    ("session.id", "x-session-id"),
    ("app.feature", "x-feature"),
    ("app.prompt.version", "x-prompt-version"),
    ("app.user.tier", "x-user-tier"),
];

impl Default for RawAttribution {
    fn default() -> Self {
        RawAttribution {
            headers: DEFAULT_ATTRIBUTION_HEADERS
                .iter()
                .map(|(a, h)| (a.to_string(), h.to_string()))
                .collect(),
            jwt_claims: std::collections::BTreeMap::new(),
            jwt_metadata_namespace: "envoy.filters.http.jwt_authn".to_string(),
            jwt_payload_key: "jwt_payload".to_string(),
            properties: std::collections::BTreeMap::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProviderOverride {
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    path_prefix: Option<String>,
    #[serde(default)]
    api: Option<String>,
    #[serde(default)]
    provider: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExporter {
    cluster: String,
    #[serde(default)]
    authority: Option<String>,
    #[serde(default = "default_path")]
    path: String,
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u64,
    #[serde(default = "default_flush_interval_ms")]
    flush_interval_ms: u64,
    #[serde(default = "default_max_batch_spans")]
    max_batch_spans: usize,
    #[serde(default = "default_max_batch_bytes")]
    max_batch_bytes: usize,
    #[serde(default = "default_max_queue_bytes")]
    max_queue_bytes: usize,
    #[serde(default = "default_max_in_flight")]
    max_in_flight: usize,
    #[serde(default)]
    drop_policy: DropPolicy,
    #[serde(default)]
    protocol: RawProtocol,
    #[serde(default)]
    compression: Compression,
    #[serde(default)]
    retry: RawRetry,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum DropPolicy {
    #[default]
    Newest,
    Oldest,
}

#[derive(Deserialize, Default, Clone, Copy)]
enum RawProtocol {
    #[default]
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
    #[serde(rename = "grpc")]
    Grpc,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Compression {
    #[default]
    None,
    Gzip,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawRetry {
    max_attempts: u32,
    initial_backoff_ms: u64,
    max_backoff_ms: u64,
}

impl Default for RawRetry {
    fn default() -> Self {
        RawRetry {
            max_attempts: 5,
            initial_backoff_ms: 500,
            max_backoff_ms: 30_000,
        }
    }
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
fn default_path() -> String {
    "/v1/traces".to_string()
}
fn default_timeout_ms() -> u64 {
    5_000
}
fn default_flush_interval_ms() -> u64 {
    1_000
}
fn default_max_batch_spans() -> usize {
    256
}
fn default_max_queue_bytes() -> usize {
    4 << 20
}
fn default_max_batch_bytes() -> usize {
    1 << 20
}
fn default_max_in_flight() -> usize {
    4
}

/// Headers a user may not set on export requests: the host owns them.
const RESERVED_EXPORT_HEADERS: [&str; 4] = [":method", ":path", ":authority", "content-type"];

impl Config {
    /// Parses and validates the plugin configuration JSON.
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

/// serde_json appends " at line L column C"; the field path already locates the problem.
pub(crate) fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn invalid(field: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.to_string(),
        problem: problem.into(),
    }
}

fn check_range(field: &str, value: u64, min: u64, max: u64) -> Result<(), ConfigError> {
    if value < min || value > max {
        return Err(invalid(
            field,
            format!("{value} is out of range; allowed {min}..={max}"),
        ));
    }
    Ok(())
}

impl RawConfig {
    fn validate(self) -> Result<Config, ConfigError> {
        if self.service_name.trim().is_empty() {
            return Err(invalid("service_name", "must not be empty"));
        }
        let e = self.exporter;
        if e.cluster.trim().is_empty() {
            return Err(invalid(
                "exporter.cluster",
                "must name the Envoy cluster of the OTLP collectors",
            ));
        }
        if !e.path.starts_with('/') {
            return Err(invalid("exporter.path", format!("`{}` must start with `/`", e.path)));
        }
        check_range("exporter.timeout_ms", e.timeout_ms, 1, 300_000)?;
        check_range("exporter.flush_interval_ms", e.flush_interval_ms, 10, 3_600_000)?;
        check_range("exporter.max_batch_spans", e.max_batch_spans as u64, 1, 100_000)?;
        check_range("exporter.max_queue_bytes", e.max_queue_bytes as u64, 1 << 10, 1 << 30)?;
        check_range("exporter.max_batch_bytes", e.max_batch_bytes as u64, 1 << 10, 3 << 20)?;
        check_range("exporter.max_in_flight", e.max_in_flight as u64, 1, 64)?;
        check_range("exporter.retry.max_attempts", u64::from(e.retry.max_attempts), 1, 100)?;
        check_range(
            "exporter.retry.initial_backoff_ms",
            e.retry.initial_backoff_ms,
            1,
            3_600_000,
        )?;
        check_range(
            "exporter.retry.max_backoff_ms",
            e.retry.max_backoff_ms,
            e.retry.initial_backoff_ms,
            3_600_000,
        )?;
        let protocol = match e.protocol {
            RawProtocol::HttpProtobuf => ExportProtocol::HttpProtobuf,
            RawProtocol::Grpc => ExportProtocol::Grpc,
        };
        let gzip = matches!(e.compression, Compression::Gzip);
        if gzip && protocol == ExportProtocol::Grpc {
            return Err(invalid(
                "exporter.compression",
                "gzip applies to OTLP/HTTP only; gRPC compression is Envoy's job",
            ));
        }
        for name in e.headers.keys() {
            let lower = name.to_ascii_lowercase();
            if RESERVED_EXPORT_HEADERS.contains(&lower.as_str()) || lower.is_empty() {
                return Err(invalid(
                    &format!("exporter.headers.{name}"),
                    "is set by the filter and cannot be overridden",
                ));
            }
        }
        if self.default_provider.trim().is_empty() {
            return Err(invalid("default_provider", "must not be empty"));
        }
        let mut provider_overrides = Vec::new();
        for (i, o) in self.provider_overrides.into_iter().enumerate() {
            let field = |name: &str| format!("provider_overrides[{i}].{name}");
            if o.host.is_none() && o.path_prefix.is_none() {
                return Err(invalid(
                    &format!("provider_overrides[{i}]"),
                    "needs `host` or `path_prefix` to match on",
                ));
            }
            if o.api.is_none() && o.provider.is_none() {
                return Err(invalid(
                    &format!("provider_overrides[{i}]"),
                    "sets neither `api` nor `provider`",
                ));
            }
            if o.path_prefix.as_deref().is_some_and(|p| !p.starts_with('/')) {
                return Err(invalid(&field("path_prefix"), "must start with `/`"));
            }
            let api = match &o.api {
                Some(name) => Some(name.parse().map_err(|e: String| invalid(&field("api"), e))?),
                None => None,
            };
            provider_overrides.push(ProviderOverride {
                host: o.host,
                path_prefix: o.path_prefix,
                api,
                provider: o.provider,
            });
        }
        check_range(
            "capture.max_content_bytes",
            self.capture.max_content_bytes as u64,
            64,
            1 << 24,
        )?;
        let mut rules = Vec::new();
        for (i, r) in self.capture.rules.into_iter().enumerate() {
            if r.host.is_none() && r.path_prefix.is_none() && r.feature.is_none() {
                return Err(invalid(
                    &format!("capture.rules[{i}]"),
                    "needs `host`, `path_prefix` or `feature` to match on",
                ));
            }
            rules.push(CaptureRule {
                host: r.host,
                path_prefix: r.path_prefix,
                feature: r.feature,
                content: r.content.into(),
            });
        }
        let capture = CaptureConfig {
            content: self.capture.content.into(),
            max_content_bytes: self.capture.max_content_bytes,
            rules,
        };
        for (attribute, header) in &self.attribution.headers {
            if header.trim().is_empty() || header.starts_with(':') {
                return Err(invalid(
                    &format!("attribution.headers.{attribute}"),
                    "must name a regular request header",
                ));
            }
        }
        for header in [
            "authorization",
            "x-api-key",
            "api-key",
            "x-goog-api-key",
            "cookie",
            "proxy-authorization",
            // AWS SigV4: the session token; the signature itself travels in `authorization`.
            "x-amz-security-token",
        ] {
            if self
                .attribution
                .headers
                .values()
                .any(|h| h.eq_ignore_ascii_case(header))
            {
                return Err(invalid(
                    "attribution.headers",
                    format!("`{header}` carries credentials and is never exported"),
                ));
            }
        }
        self.sampling
            .validate()
            .map_err(|(field, problem)| invalid(&field, problem))?;
        let mut attribution_properties = Vec::new();
        for (attribute, claim) in &self.attribution.jwt_claims {
            if claim.trim().is_empty() {
                return Err(invalid(
                    &format!("attribution.jwt_claims.{attribute}"),
                    "must name a claim",
                ));
            }
            let path = [
                "metadata",
                "filter_metadata",
                &self.attribution.jwt_metadata_namespace,
                &self.attribution.jwt_payload_key,
                claim,
            ];
            attribution_properties.push((attribute.clone(), path.iter().map(|s| s.to_string()).collect()));
        }
        for (attribute, path) in &self.attribution.properties {
            if path.is_empty() || path.iter().any(|s| s.is_empty()) {
                return Err(invalid(
                    &format!("attribution.properties.{attribute}"),
                    "must be a non-empty property path like [\"downstream_peer\", \"workload\"]",
                ));
            }
            attribution_properties.push((attribute.clone(), path.clone()));
        }
        let pricing = self
            .pricing
            .validate()
            .map_err(|(field, problem)| invalid(&field, problem))?;
        let redaction = crate::redaction::build_from(&self.redaction.unwrap_or_else(|| serde_json::json!({})))
            .map_err(|(field, problem)| invalid(&field, problem))?;
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
            exporter: ExporterConfig {
                authority: e.authority.unwrap_or_else(|| e.cluster.clone()),
                cluster: e.cluster,
                path: e.path,
                timeout_ms: e.timeout_ms,
                flush_interval_ms: e.flush_interval_ms,
                max_batch_spans: e.max_batch_spans,
                max_batch_bytes: e.max_batch_bytes,
                max_queue_bytes: e.max_queue_bytes,
                max_in_flight: e.max_in_flight,
                drop_oldest: matches!(e.drop_policy, DropPolicy::Oldest),
                protocol,
                gzip,
                retry: RetryConfig {
                    max_attempts: e.retry.max_attempts,
                    initial_backoff_ms: e.retry.initial_backoff_ms,
                    max_backoff_ms: e.retry.max_backoff_ms,
                },
                headers: e
                    .headers
                    .into_iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v))
                    .collect(),
            },
            limits: Limits {
                max_request_body_bytes: l.max_request_body_bytes,
                max_response_body_bytes: l.max_response_body_bytes,
                max_sse_event_bytes: l.max_sse_event_bytes,
            },
            inject_stream_usage: self.inject_stream_usage,
            narrow_accept_encoding: self.narrow_accept_encoding,
            default_provider: self.default_provider,
            provider_overrides,
            capture,
            attribution_headers: self
                .attribution
                .headers
                .into_iter()
                .map(|(attribute, header)| (attribute, header.to_ascii_lowercase()))
                .collect(),
            attribution_properties,
            semconv: match self.semconv {
                RawSemconv::V1_41 => Semconv::V1_41,
                RawSemconv::Latest => Semconv::Latest,
            },
            openinference: self.dialects.contains(&Dialect::Openinference),
            gen_ai: self.dialects.contains(&Dialect::GenAi),
            resource_attributes: self.resource_attributes.into_iter().collect(),
            inject_traceparent: self.trace_context.inject_traceparent,
            accept_b3: self.trace_context.accept_b3,
            sampling: self.sampling,
            pricing,
            redaction,
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
             `authority`, `path`, `timeout_ms`, `flush_interval_ms`, `max_batch_spans`, `max_batch_bytes`, \
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
        assert_eq!(c.default_provider, "vllm");
        let first = c.provider_override(Some("LLM.internal:8000"), "/generate/x").unwrap();
        assert_eq!(
            (first.api, first.provider.as_deref()),
            (Some(crate::provider::Api::OpenAiChat), Some("acme"))
        );
        assert_eq!(
            c.provider_override(Some("llm.internal:8000"), "/v1/chat/completions")
                .unwrap()
                .provider
                .as_deref(),
            Some("acme-other")
        );
        assert!(c.provider_override(Some("other"), "/generate").is_none());
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
        use crate::content::CaptureMode;
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
            c.attribution_headers,
            vec![("user.id".to_string(), "x-customer".to_string())]
        );
        assert!(c.openinference && c.gen_ai);
        assert_eq!(c.semconv, Semconv::Latest);
        let d = Config::from_json(br#"{"exporter":{"cluster":"c"}}"#).unwrap();
        assert_eq!(d.capture.content, CaptureMode::Off);
        assert_eq!(d.capture.max_content_bytes, 16384);
        assert_eq!(d.attribution_headers.len(), 5);
        assert!(d.gen_ai && !d.openinference && !d.inject_traceparent);
        assert!(
            err(r#"{"exporter":{"cluster":"c"},"attribution":{"headers":{"user.id":"Authorization"}}}"#)
                .contains("`authorization` carries credentials")
        );
        assert!(err(r#"{"exporter":{"cluster":"c"},"capture":{"content":"all"}}"#)
            .contains("`capture.content`: unknown variant `all`"));
        assert!(err(r#"{"exporter":{"cluster":"c"},"dialects":[]}"#).contains("`dialects`"));
    }

    #[test]
    fn export_headers_are_lower_cased() {
        let c = Config::from_json(br#"{"exporter":{"cluster":"c","headers":{"X-Api-Key":"k"}}}"#).unwrap();
        assert_eq!(c.exporter.headers, vec![("x-api-key".to_string(), "k".to_string())]);
    }
}
