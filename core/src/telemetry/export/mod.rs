//! Export: the per-worker queue of encoded spans ([`queue`]), the shape of each export call ([`ExportRequest`]:
//! cluster, headers, body, timeout, HTTP or gRPC), and what the collector's answer means ([`CollectorAnswer`]).

pub(crate) mod config;
pub(crate) mod queue;

pub(crate) use config::{ExportProtocol, ExporterConfig};
pub(crate) use queue::ExportOutcome;
use queue::{classify_grpc, classify_http, Batch};

/// OTLP/gRPC service and method of trace export.
const GRPC_SERVICE: &str = "opentelemetry.proto.collector.trace.v1.TraceService";
const GRPC_METHOD: &str = "Export";
/// OTLP/gRPC service of log export (evaluation events).
const GRPC_LOGS_SERVICE: &str = "opentelemetry.proto.collector.logs.v1.LogsService";

/// Which OTLP signal an export call carries: spans, or log records (events). Each has its own queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    Traces,
    Logs,
}

/// One export call for the host to make, off the request path. Hand it back with [`crate::Tracer::dispatched`]
/// (with the host's call token) or [`crate::Tracer::dispatch_refused`].
#[derive(Debug)]
pub struct ExportRequest {
    /// The host cluster of the collectors.
    pub cluster: String,
    /// Timeout of the call.
    pub timeout_ms: u64,
    /// What to send.
    pub body: ExportBody,
    /// The spans it carries, for the accounting when it is settled.
    pub(crate) batch: Batch,
    /// Spans or log records: which queue settles it.
    pub(crate) signal: Signal,
}

/// The call itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportBody {
    /// An OTLP/HTTP `POST`: pseudo-headers and headers, in order, and the (possibly gzipped) body.
    Http {
        /// `:method`, `:path`, `:authority`, `content-type`, `content-encoding` when gzipped, then the configured
        /// headers.
        headers: Vec<(String, String)>,
        /// The `ExportTraceServiceRequest`.
        body: Vec<u8>,
    },
    /// An OTLP/gRPC unary call.
    Grpc {
        /// `opentelemetry.proto.collector.trace.v1.TraceService` (`...logs.v1.LogsService` for log records).
        service: &'static str,
        /// `Export`.
        method: &'static str,
        /// The configured headers, as gRPC metadata.
        metadata: Vec<(String, String)>,
        /// The `ExportTraceServiceRequest`.
        message: Vec<u8>,
    },
}

/// What the collector answered an export call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectorAnswer<'a> {
    /// An OTLP/HTTP answer; `status` is `None` when no answer came (timeout, reset, no healthy collector).
    Http {
        /// `:status`.
        status: Option<u16>,
        /// `retry-after`, when sent.
        retry_after: Option<&'a str>,
        /// The body (read only for a 2xx answer, see [`CollectorAnswer::body_wanted`]).
        body: &'a [u8],
    },
    /// An OTLP/gRPC answer.
    Grpc {
        /// The gRPC status code.
        status: u32,
        /// The response message (read only for status 0).
        body: &'a [u8],
    },
}

impl CollectorAnswer<'_> {
    /// Whether the answer's body is worth reading: only a success can carry a partial-success report.
    pub fn body_wanted_http(status: Option<u16>) -> bool {
        matches!(status, Some(200..=299))
    }

    /// See [`CollectorAnswer::body_wanted_http`].
    pub fn body_wanted_grpc(status: u32) -> bool {
        status == 0
    }

    /// What the answer means for the batch.
    pub(crate) fn outcome(&self) -> ExportOutcome {
        match *self {
            CollectorAnswer::Http {
                status,
                retry_after,
                body,
            } => {
                let rejected = match status {
                    Some(200..=299) if !body.is_empty() => super::otlp::rejected_spans(body),
                    _ => 0,
                };
                classify_http(status, retry_after, rejected)
            }
            CollectorAnswer::Grpc { status, body } => {
                let rejected = if status == 0 && !body.is_empty() {
                    super::otlp::rejected_spans(body)
                } else {
                    0
                };
                classify_grpc(status, rejected)
            }
        }
    }

    /// The answer's code for the `llm_trace.export_errors.*` stats, and how to describe it in a log line.
    pub(crate) fn describe(&self) -> (Option<u32>, &'static str, String) {
        match *self {
            CollectorAnswer::Http { status, .. } => (
                status.map(u32::from),
                "status",
                match status {
                    Some(s) => format!("collector answered {s}"),
                    None => "no answer (timeout or connection failure)".to_string(),
                },
            ),
            CollectorAnswer::Grpc { status, .. } => (Some(status), "grpc_status", format!("gRPC status {status}")),
        }
    }
}

/// Shapes the export call of one batch whose `ExportTraceServiceRequest` (or `ExportLogsServiceRequest`) is `body`.
pub(crate) fn request_for(config: &ExporterConfig, signal: Signal, body: Vec<u8>, batch: Batch) -> ExportRequest {
    let (path, service) = match signal {
        Signal::Traces => (&config.path, GRPC_SERVICE),
        Signal::Logs => (&config.logs_path, GRPC_LOGS_SERVICE),
    };
    let body = match config.protocol {
        ExportProtocol::HttpProtobuf => {
            let gzipped = if config.gzip { super::otlp::gzip(&body) } else { None };
            let mut headers: Vec<(String, String)> = vec![
                (":method".into(), "POST".into()),
                (":path".into(), path.clone()),
                (":authority".into(), config.authority.clone()),
                ("content-type".into(), "application/x-protobuf".into()),
            ];
            if gzipped.is_some() {
                headers.push(("content-encoding".into(), "gzip".into()));
            }
            headers.extend(config.headers.iter().cloned());
            ExportBody::Http {
                headers,
                body: gzipped.unwrap_or(body),
            }
        }
        ExportProtocol::Grpc => ExportBody::Grpc {
            service,
            method: GRPC_METHOD,
            metadata: config.headers.clone(),
            message: body,
        },
    };
    ExportRequest {
        cluster: config.cluster.clone(),
        timeout_ms: config.timeout_ms,
        body,
        batch,
        signal,
    }
}
