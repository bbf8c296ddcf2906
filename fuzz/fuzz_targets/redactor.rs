//! The redactor over arbitrary text, with every built-in detector, custom regexes and literals, and hashing: no
//! panic, and with masks only, redacting the redacted text changes nothing (nothing detectable is left behind).
#![no_main]

use llm_trace_core::{Redact, Redactor};
use std::sync::OnceLock;

const CUSTOM: &str = r#"[{"name":"ticket","regex":"TICKET-[0-9]{4,8}"},
    {"name":"project","literals":["Bluebird","Night Jar","ÆON"]}]"#;

fn redactors() -> &'static (Redactor, Redactor) {
    static REDACTORS: OnceLock<(Redactor, Redactor)> = OnceLock::new();
    REDACTORS.get_or_init(|| {
        let build = |json: String| match llm_trace_core::redactor(&json) {
            Ok(r) => r,
            Err(e) => panic!("the target's own configuration: {e}"),
        };
        let masking = build(format!(r#"{{"custom":{CUSTOM}}}"#));
        let hashing = build(format!(
            r#"{{"detectors":{{"email":"hash","card":"hash","phone":"drop"}},"hmac_key":"fuzzing-key-0123456789",
                "custom":{CUSTOM}}}"#
        ));
        (masking, hashing)
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (masking, hashing) = redactors();
    let _ = hashing.redact(&text, &mut Vec::new());
    let mut found = Vec::new();
    if let Some(once) = masking.redact(&text, &mut found) {
        let mut again = Vec::new();
        let twice = masking.redact(&once, &mut again);
        assert!(
            twice.as_deref() == Some(once.as_str()),
            "redacting the redacted text found {again:?} in {once:?}"
        );
    }
});
