//! `llm_trace_core::fuzzing::event_stream`: see core/src/fuzzing.rs for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| llm_trace_core::fuzzing::event_stream(data));
