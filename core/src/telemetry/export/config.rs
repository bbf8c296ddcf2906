//! `exporter` as written in the configuration, validated: where spans go (the collector cluster, or the collector's
//! URL for hosts that send to URLs), how (OTLP/HTTP or gRPC, gzip), and the queue's bounds and retry schedule.

use super::queue::ExportPolicy;
use crate::config_error::{check_range, invalid, ConfigError};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The validated exporter configuration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExporterConfig {
    /// Host cluster of the OTLP collectors; empty when only `endpoint` is set.
    pub(crate) cluster: String,
    /// The collector's OTLP/HTTP traces URL (`scheme://authority/path`), for hosts that send to URLs.
    pub(crate) endpoint: Option<String>,
    /// `scheme://authority` of `endpoint`: log records go to it with `logs_path`.
    pub(crate) endpoint_base: Option<String>,
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
    /// Where spans go, for log lines: the cluster, else the URL.
    pub(crate) fn destination(&self) -> String {
        match &self.endpoint {
            Some(url) if self.cluster.is_empty() => format!("`{url}`"),
            _ => format!("cluster `{}`", self.cluster),
        }
    }

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
    #[serde(default)]
    cluster: Option<String>,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    authority: Option<String>,
    #[serde(default)]
    path: Option<String>,
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

/// `exporter.endpoint` taken apart.
struct EndpointUrl {
    scheme: &'static str,
    authority: String,
    /// `None` when the URL has no path (or just `/`): `exporter.path` applies.
    path: Option<String>,
}

/// Parses `http://host[:port][/path]` or `https://...`, naming `exporter.endpoint` in every error.
fn parse_endpoint(url: &str) -> Result<EndpointUrl, ConfigError> {
    let bad = |why: &str| {
        invalid(
            "exporter.endpoint",
            format!("`{url}` {why}; expected an absolute URL such as `http://127.0.0.1:4318/v1/traces`"),
        )
    };
    let (scheme, rest) = match url.split_once("://") {
        Some((s, rest)) if s.eq_ignore_ascii_case("http") => ("http", rest),
        Some((s, rest)) if s.eq_ignore_ascii_case("https") => ("https", rest),
        Some(_) => return Err(bad("must use http or https")),
        None => return Err(bad("has no scheme")),
    };
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.is_empty() || authority.contains('@') || authority.bytes().any(|b| b <= b' ' || b >= 0x7f) {
        return Err(bad("needs a host (no user info, no spaces)"));
    }
    if (!path.is_empty() && !path.starts_with('/')) || path.contains('#') || path.bytes().any(|b| b <= b' ') {
        return Err(bad("has an invalid path"));
    }
    Ok(EndpointUrl {
        scheme,
        authority: authority.to_ascii_lowercase(),
        path: (!path.is_empty() && path != "/").then(|| path.to_string()),
    })
}

/// Headers a user may not set on export requests: the host owns them.
const RESERVED_EXPORT_HEADERS: [&str; 4] = [":method", ":path", ":authority", "content-type"];

impl RawExporter {
    /// Validates every field, naming the first bad one.
    pub(crate) fn validate(self) -> Result<ExporterConfig, ConfigError> {
        let e = self;
        let endpoint = e.endpoint.as_deref().map(parse_endpoint).transpose()?;
        let cluster = e.cluster.unwrap_or_default();
        if cluster.trim().is_empty() && (endpoint.is_none() || !cluster.is_empty()) {
            return Err(invalid(
                "exporter.cluster",
                "must name the Envoy cluster of the OTLP collectors (or set `exporter.endpoint`, the collector's \
                 URL, for hosts that send to URLs)",
            ));
        }
        let path = match (&endpoint, e.path) {
            (Some(url), Some(_)) if url.path.is_some() => {
                return Err(invalid(
                    "exporter.path",
                    "conflicts with the path in `exporter.endpoint`; give the path in one place",
                ))
            }
            (Some(EndpointUrl { path: Some(path), .. }), None) => path.clone(),
            (_, path) => path.unwrap_or_else(default_path),
        };
        if !path.starts_with('/') {
            return Err(invalid("exporter.path", format!("`{path}` must start with `/`")));
        }
        // Beside the traces path by default: `/v1/traces` → `/v1/logs`, `/otlp/v1/traces` → `/otlp/v1/logs`.
        let logs_path = e.logs_path.unwrap_or_else(|| match path.strip_suffix("/traces") {
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
                "gzip applies to OTLP/HTTP only (Envoy's gRPC client always flags messages uncompressed); use \"protocol\": \"http/protobuf\" to compress",
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
        let authority = match (e.authority, &endpoint) {
            (Some(authority), _) => authority,
            (None, Some(url)) => url.authority.clone(),
            (None, None) => cluster.clone(),
        };
        Ok(ExporterConfig {
            endpoint: endpoint
                .as_ref()
                .map(|url| format!("{}://{}{path}", url.scheme, url.authority)),
            endpoint_base: endpoint.map(|url| format!("{}://{}", url.scheme, url.authority)),
            authority,
            cluster,
            path,
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
