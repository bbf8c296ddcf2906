//! The organization's tracing policy, decided per call from plain values: what content a span may carry
//! ([`capture`]), who asked ([`attribution`]), which spans are kept ([`sampling`]), what a call cost
//! ([`pricing`]), and what must never leave the proxy ([`redaction`]).

pub mod attribution;
pub mod capture;
pub mod pricing;
pub mod redaction;
pub mod sampling;
