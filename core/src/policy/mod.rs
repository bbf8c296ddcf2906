//! The organization's tracing policy, decided per call from plain values: what content a span may carry
//! ([`capture`]), who asked ([`attribution`]), which spans are kept ([`sampling`]), what a call cost
//! ([`pricing`]), what must never leave the proxy ([`redaction`]), and which upstreams get their requests as sent
//! for a while ([`rewrite_backoff`]).

pub(crate) mod attribution;
pub(crate) mod capture;
pub(crate) mod pricing;
pub(crate) mod redaction;
pub(crate) mod rewrite_backoff;
pub(crate) mod sampling;
