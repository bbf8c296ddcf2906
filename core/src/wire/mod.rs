//! Framing and decoding of bytes on the wire, and nothing else: no provider, policy or telemetry knowledge.
//! Every decoder is incremental (any split of the bytes gives the same result) and bounded by a cap.

pub mod content_encoding;
pub mod event_stream;
pub mod framing;
pub mod json_array;
pub mod json_fields;
pub mod sse;
