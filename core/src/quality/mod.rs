//! Was it good? User feedback and an asynchronous LLM judge, scored on the call's own trace.
//!
//! - [`trace_response`]: every traced LLM response tells the caller its span (`server-timing: trace;desc=...`).
//! - [`feedback`]: the endpoint the filter answers itself; its body becomes an [`evaluation::Evaluation`].
//! - [`judge`]: which finished calls an LLM judges, its prompt and how its structured answer is read;
//!   [`budget`] bounds its calls per minute.
//! - [`evaluation`]: the forms an evaluation leaves in (GenAI event, OpenInference carrier span, Phoenix
//!   annotation, the `llm.quality_score` sample).
//! - [`state`]: the worker's bounded bookkeeping (requests waiting for a body, calls waiting and in flight),
//!   [`recent`]: the recent calls feedback is matched to; [`config`]: the `quality` section.
//!
//! # Where this sits
//! A layer of its own, above `telemetry` and below `exchange`/`tracer` (rank 3 in `core/tests/layers.rs`): it
//! combines policy (redaction, pricing, ratio sampling), a provider decoder (the judge speaks the OpenAI chat API)
//! and telemetry (span and log record models, content export), which no lower layer may import together, and it
//! decides nothing about a call in flight, so the exchange and the tracer use it and it uses neither. The tracer
//! drives it (`tracer/quality.rs`): the host hands out what it returns like the export calls.

pub(crate) mod budget;
pub(crate) mod config;
pub(crate) mod evaluation;
pub(crate) mod feedback;
pub(crate) mod judge;
pub(crate) mod recent;
pub(crate) mod state;
pub(crate) mod trace_response;

pub use feedback::{LocalReply, LocalRequest, LocalStart};
pub use state::QualityCall;
