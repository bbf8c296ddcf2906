//! `exporter` as written in the configuration, validated: where spans go (the collector cluster), how (OTLP/HTTP
//! or gRPC, gzip), and the queue's bounds and retry schedule.

use super::queue::ExportPolicy;
use crate::config_error::{check_range, invalid, ConfigError};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The validated exporter configuration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExporterConfig {
    /// Host cluster of the OTLP collectors.
    pub(crate) cluster: String,
    /// `:authority` of export requests.
    pub(crate) authority: String,
    /// Path of OTLP/HTTP export requests.
    pub(crate) path: String,
    /// Path of OTLP/HTTP log exports (evaluation events).
    pub(crate) logs_path: String,
    /// Timeout of one export call.
    pub(crate) timeout_ms: u64,
    /// Period of the tick that ships queued spans.
    pub(crate) flush_interval_ms: u64,
    /// Most spans in one export call.
    pub(crate) max_batch_spans: usize,
    /// Most bytes in one export call.
    pub(crate) max_batch_bytes: usize,
    /// Most bytes waiting in the queue.
    pub(crate) max_queue_bytes: usize,
    /// Most export calls open at once.
    pub(crate) max_in_flight: usize,
    /// When the queue is full, drop the oldest waiting span rather than the new one.
    pub(crate) drop_oldest: bool,
    /// OTLP/HTTP or OTLP/gRPC.
    pub(crate) protocol: ExportProtocol,
    /// Gzip OTLP/HTTP request bodies.
    pub(crate) gzip: bool,
    /// Retries of failed export calls.
    pub(crate) retry: RetryConfig,
    /// Extra headers on every export request (e.g. a backend API key), names in lower case.
    pub(crate) headers: Vec<(String, String)>,
}

/// How spans travel to the collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExportProtocol {
    /// OTLP/HTTP with a protobuf body, `POST {path}`.
    HttpProtobuf,
    /// OTLP/gRPC `TraceService/Export`; the cluster must speak HTTP/2.
    Grpc,
}

/// Retries of failed export calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryConfig {
    /// Attempts per batch, the first included.
    pub(crate) max_attempts: u32,
    /// First backoff.
    pub(crate) initial_backoff_ms: u64,
    /// Longest backoff.
    pub(crate) max_backoff_ms: u64,
}

impl ExporterConfig {
    /// The queue's bounds and retry schedule.
    pub(crate) fn policy(&self) -> ExportPolicy {
        ExportPolicy {
            max_queue_bytes: self.max_queue_bytes,
            max_batch_spans: self.max_batch_spans,
            max_batch_bytes: self.max_batch_bytes,
            max_in_flight: self.max_in_flight,
            drop_oldest: self.drop_oldest,
            max_attempts: self.retry.max_attempts,
            initial_backoff_ns: self.retry.initial_backoff_ms * 1_000_000,
            max_backoff_ns: self.retry.max_backoff_ms * 1_000_000,
        }
    }
}

/// `exporter` as written in the configuration.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExporter {
    cluster: String,
    #[serde(default)]
    authority: Option<String>,
    #[serde(default = "default_path")]
    path: String,
    #[serde(default)]
    logs_path: Option<String>,
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
    headers: BTreeMap<String, String>,
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

impl RawExporter {
    /// Validates every field, naming the first bad one.
    pub(crate) fn validate(self) -> Result<ExporterConfig, ConfigError> {
        let e = self;
        if e.cluster.trim().is_empty() {
            return Err(invalid(
                "exporter.cluster",
                "must name the Envoy cluster of the OTLP collectors",
            ));
        }
        if !e.path.starts_with('/') {
            return Err(invalid("exporter.path", format!("`{}` must start with `/`", e.path)));
        }
        // Beside the traces path by default: `/v1/traces` → `/v1/logs`, `/otlp/v1/traces` → `/otlp/v1/logs`.
        let logs_path = e.logs_path.unwrap_or_else(|| match e.path.strip_suffix("/traces") {
            Some(base) => format!("{base}/logs"),
            None => "/v1/logs".to_string(),
        });
        if !logs_path.starts_with('/') {
            return Err(invalid(
                "exporter.logs_path",
                format!("`{logs_path}` must start with `/`"),
            ));
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
        Ok(ExporterConfig {
            authority: e.authority.unwrap_or_else(|| e.cluster.clone()),
            cluster: e.cluster,
            path: e.path,
            logs_path,
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
        })
    }
}
