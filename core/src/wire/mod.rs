//! Framing and decoding of bytes on the wire, and nothing else: no provider, policy or telemetry knowledge.
//! Every decoder is incremental (any split of the bytes gives the same result) and bounded by a cap.

pub(crate) mod content_encoding;
pub(crate) mod event_stream;
pub(crate) mod find;
pub(crate) mod framing;
pub(crate) mod json_array;
pub(crate) mod json_borrow;
pub(crate) mod json_fields;
pub(crate) mod json_scan;
pub(crate) mod lenient;
pub(crate) mod limits;
pub(crate) mod ndjson;
pub(crate) mod percent;
pub(crate) mod sse;
