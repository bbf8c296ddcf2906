//! Names of the Envoy stats the filter defines (Envoy prefixes them with `wasmcustom.` internally and shows them
//! without that prefix in `/stats` and `/stats/prometheus`).

/// LLM calls recognised by the filter.
pub const REQUESTS: &str = "llm_trace.requests";
/// Spans finished and offered to the export queue.
pub const SPANS_CREATED: &str = "llm_trace.spans_created";
/// Spans the collector accepted.
pub const SPANS_EXPORTED: &str = "llm_trace.spans_exported";
/// Spans the collector refused in a partial success.
pub const SPANS_REJECTED: &str = "llm_trace.spans_rejected";
/// Export calls that were retries of a failed batch.
pub const EXPORT_RETRIES: &str = "llm_trace.export_retries";
/// Spans dropped because the export queue was full.
pub const SPANS_DROPPED_QUEUE_FULL: &str = "llm_trace.spans_dropped_queue_full";
/// Spans lost because their export call failed.
pub const SPANS_DROPPED_EXPORT_FAILED: &str = "llm_trace.spans_dropped_export_failed";
/// Export calls made, and those that failed (non-2xx, timeout, reset, refused by the host).
pub const EXPORT_REQUESTS: &str = "llm_trace.export_requests";
pub const EXPORT_FAILURES: &str = "llm_trace.export_failures";
/// Bytes of encoded spans waiting in this worker's queue (gauge).
pub const QUEUE_BYTES: &str = "llm_trace.queue_bytes";
/// Exchanges cut before the response ended (client abort, upstream reset, timeout).
pub const PARTIAL_EXCHANGES: &str = "llm_trace.partial_exchanges";
/// Response bodies the filter could not read (unsupported or corrupt encoding, over the decode cap).
pub const UNREADABLE_BODIES: &str = "llm_trace.unreadable_bodies";
/// SSE events skipped because they exceeded `limits.max_sse_event_bytes`.
pub const OVERSIZED_EVENTS: &str = "llm_trace.oversized_sse_events";
