//! The configuration parser: any bytes are either a configuration or one error line naming the field; the same
//! for a `redaction` section on its own.
#![no_main]

fn one_line(message: &str) {
    assert!(message.starts_with("Invalid llm-trace configuration"), "{message}");
    assert!(!message.contains('\n'), "an error over several lines: {message:?}");
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(e) = llm_trace_core::Config::from_json(data) {
        one_line(&e.to_string());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = llm_trace_core::redactor(text) {
            one_line(&e.to_string());
        }
    }
});
