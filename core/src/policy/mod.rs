//! The organization's tracing policy, decided per call from plain values: what content a span may carry
//! ([`capture`]), who asked ([`attribution`]), which spans are kept ([`sampling`]), what a call cost
//! ([`pricing`]), and what must never leave the proxy ([`redaction`]).

pub(crate) mod attribution;
pub(crate) mod capture;
pub(crate) mod pricing;
pub(crate) mod redaction;
pub(crate) mod sampling;
