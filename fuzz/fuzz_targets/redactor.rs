//! The redactor over arbitrary text, with every built-in detector, custom regexes and literals, and hashing: no
//! panic, and with masks only, nothing detectable is left behind. A mask makes a boundary the text did not have
//! (`+41555510+41555510`: the second number is glued to the first, until the first is masked), so the redacted text is
//! checked twice, each mask read once as a digit (`0`, glued to its neighbours as the value it replaced was) and once
//! as a space: a value found both ways does not come from the mask's edge, and must not be there. Numeric detectors
//! (phone, card, SSN, IBAN, IP) are left out of that check: whether digits are a value depends on what they are
//! glued to, which a mask changes; so are keyed values (password, secret, authorization), whose rules read the whole
//! value a mask sits in.
#![no_main]

use llm_trace_core::{Redact, Redactor};
use std::sync::{Arc, OnceLock};

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
    // Each input is one call: the custom patterns' budget starts again (it would otherwise run out over the run).
    masking.begin_call();
    hashing.begin_call();
    let _ = hashing.redact(&text, &mut Vec::new());
    let mut found = Vec::new();
    if let Some(once) = masking.redact(&text, &mut found) {
        let left_behind = |mask_as: &str| {
            let text = found.iter().fold(once.clone(), |t, (name, _)| {
                t.replace(&format!("[{}]", name.to_ascii_uppercase()), mask_as)
            });
            let mut again = Vec::new();
            masking.redact(&text, &mut again);
            again
        };
        let (glued, apart) = (left_behind("0"), left_behind(" "));
        // Numbers are left out: whether a run of digits is a value depends on what it is glued to, and a mask
        // changes that either way (`+14155551TICKET-1234`, `+14150100::d`). So are keyed values (`password`,
        // `secret`, `authorization`): their rules read the value whole (its length, cap, first bytes, charset), and a
        // mask inside it changes all of those (a quoted password over the 256-character cap comes under it once an
        // e-mail inside is masked; `x-secret: Bluebird:Token…` reads differently once `Bluebird` is a mask).
        const MASK_DEPENDENT: [&str; 8] = [
            "phone",
            "card",
            "ssn",
            "iban",
            "ip",
            "password",
            "secret",
            "authorization",
        ];
        let both: Vec<&(Arc<str>, u32)> = glued
            .iter()
            // `budget_exceeded` counts patterns skipped for the budget, not a value.
            .filter(|(name, _)| &**name != "budget_exceeded")
            .filter(|(name, _)| !MASK_DEPENDENT.contains(&&**name) && apart.iter().any(|(n, _)| n == name))
            .collect();
        assert!(both.is_empty(), "left behind {both:?} in {once:?}");
    }
});
