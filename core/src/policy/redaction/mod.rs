//! Redaction of personal data and secrets from every string the filter exports (content attributes, tool arguments,
//! error messages, user ids when configured), and optionally from the request forwarded upstream.
//!
//! Built-in detectors are hand-written scanners (no regex engine on the hot path) with checksums where the format has
//! one (Luhn for cards, mod-97 for IBANs), so look-alikes that fail the checksum are left alone. Custom detectors are
//! regular expressions (`regex-lite`) or literal lists. Each detector masks (`[EMAIL]`), replaces with a keyed hash
//! (`[EMAIL:3f2a9c…]`, HMAC-SHA256, so the same value joins across traces without being revealed), or drops the whole
//! field. Text is redacted once it is complete (when the span is built), so a value split across stream chunks is
//! still one value.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

/// Removes secrets and personal data from exported text; counts what it removed, never the values.
pub trait Redact {
    /// The redacted text, or `None` when the whole field must be dropped.
    fn redact(&self, text: &str, counts: &mut Vec<(String, u32)>) -> Option<String>;

    /// Whether `user.id` values are redacted too.
    fn covers_user_id(&self) -> bool {
        false
    }
}

/// Values found per detector name.
pub(crate) type DetectorCounts = Vec<(String, u32)>;

/// What happens to a detected value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Action {
    /// Replace with `[NAME]`.
    Mask,
    /// Replace with `[NAME:<16 hex digits of HMAC-SHA256(key, value)>]`.
    Hash,
    /// Drop the whole field (attribute) that contains it.
    Drop,
    /// Detector disabled.
    Off,
}

mod config;
mod detectors;

pub(crate) use config::{build, build_from};
use detectors::{is_word, starts_token, Builtin, Scan, BUILTINS};

#[derive(Clone)]
enum Matcher {
    Builtin(Builtin),
    Regex(regex_lite::Regex),
    /// Lowercased literals, matched case-insensitively (ASCII) on word boundaries.
    Literals(Vec<String>),
}

#[derive(Clone)]
struct Detector {
    name: String,
    matcher: Matcher,
    action: Action,
}

impl Detector {
    fn find(&self, scan: &Scan<'_>, out: &mut Vec<(usize, usize)>) {
        let text = scan.text;
        match &self.matcher {
            Matcher::Builtin(b) => b.find(scan, out),
            Matcher::Regex(r) => out.extend(r.find_iter(text).map(|m| (m.start(), m.end())).filter(|(s, e)| e > s)),
            Matcher::Literals(literals) => {
                let lower = text.to_ascii_lowercase();
                let t = lower.as_bytes();
                for literal in literals {
                    let mut from = 0;
                    while let Some(at) = lower[from..].find(literal.as_str()).map(|i| i + from) {
                        let end = at + literal.len();
                        from = end;
                        if starts_token(t, at) && t.get(end).is_none_or(|b| !is_word(*b)) {
                            out.push((at, end));
                        }
                    }
                }
            }
        }
    }
}

/// The validated `redaction` configuration, ready to apply.
#[derive(Clone)]
pub struct Redactor {
    detectors: Vec<Detector>,
    hmac_key: Vec<u8>,
    /// Also redact `user.id` (off by default: ids are usually opaque and needed for per-user views).
    user_id: bool,
    /// Detectors (indices) applied to the request forwarded upstream; empty when request redaction is off.
    request_detectors: Vec<usize>,
    /// The configuration it was built from, for equality.
    source: String,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor").field("source", &self.source).finish()
    }
}

impl PartialEq for Redactor {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Default for Redactor {
    /// Every built-in detector masking: what `"redaction": {}` configures, built without a fallible step.
    fn default() -> Self {
        Redactor {
            detectors: BUILTINS
                .iter()
                .map(|b| Detector {
                    name: b.name().to_string(),
                    matcher: Matcher::Builtin(*b),
                    action: Action::Mask,
                })
                .collect(),
            hmac_key: Vec::new(),
            user_id: false,
            request_detectors: Vec::new(),
            source: "{}".to_string(),
        }
    }
}

/// One value found in a text, after overlaps are resolved.
struct Finding {
    start: usize,
    end: usize,
    detector: usize,
}

impl Redactor {
    pub(super) fn disabled() -> Redactor {
        Redactor {
            detectors: Vec::new(),
            hmac_key: Vec::new(),
            user_id: false,
            request_detectors: Vec::new(),
            source: String::new(),
        }
    }

    pub(crate) fn is_enabled(&self) -> bool {
        !self.detectors.is_empty()
    }

    pub(crate) fn redacts_requests(&self) -> bool {
        !self.request_detectors.is_empty()
    }

    /// Non-overlapping findings of the chosen detectors, in text order; at one position the longest wins, then the
    /// earlier detector. A finding that overlaps one kept before it but runs past its end keeps that tail, so no
    /// part of a value is left in clear (`+1 415 555 0100.jane@example.com`: the phone number, then the rest of the
    /// address).
    fn findings(&self, text: &str, chosen: impl Iterator<Item = usize>) -> Vec<Finding> {
        let mut all = Vec::new();
        let mut spans = Vec::new();
        let scan = Scan::new(text);
        for i in chosen {
            if let Some(d) = self.detectors.get(i) {
                spans.clear();
                d.find(&scan, &mut spans);
                all.extend(spans.iter().map(|&(start, end)| Finding {
                    start,
                    end,
                    detector: i,
                }));
            }
        }
        all.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end), f.detector));
        let mut kept: Vec<Finding> = Vec::with_capacity(all.len());
        for mut f in all {
            if let Some(k) = kept.last() {
                if f.end <= k.end {
                    continue;
                }
                f.start = f.start.max(k.end);
            }
            if text.is_char_boundary(f.start) && text.is_char_boundary(f.end) {
                kept.push(f);
            }
        }
        kept
    }

    fn replacement(&self, detector: &Detector, value: &str) -> String {
        let label = detector.name.to_ascii_uppercase();
        match detector.action {
            Action::Hash => {
                let digest = match Hmac::<Sha256>::new_from_slice(&self.hmac_key) {
                    Ok(mut mac) => {
                        mac.update(value.as_bytes());
                        mac.finalize().into_bytes()
                    }
                    Err(_) => return format!("[{label}]"),
                };
                let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
                format!("[{label}:{hex}]")
            }
            _ => format!("[{label}]"),
        }
    }

    /// Redacts `text` with the chosen detectors; `None` when a `drop` detector fired. `drop_allowed` is false for
    /// the forwarded request, where a field cannot be removed: `drop` masks there.
    fn apply(
        &self,
        text: &str,
        chosen: impl Iterator<Item = usize>,
        drop_allowed: bool,
        counts: &mut Vec<(String, u32)>,
    ) -> Option<String> {
        let findings = self.findings(text, chosen);
        if findings.is_empty() {
            return Some(text.to_string());
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        let mut dropped = false;
        for f in &findings {
            let Some(d) = self.detectors.get(f.detector) else {
                continue;
            };
            match counts.iter_mut().find(|(n, _)| *n == d.name) {
                Some((_, c)) => *c += 1,
                None => counts.push((d.name.clone(), 1)),
            }
            dropped |= d.action == Action::Drop && drop_allowed;
            out.push_str(&text[at..f.start]);
            out.push_str(&self.replacement(d, &text[f.start..f.end]));
            at = f.end;
        }
        out.push_str(&text[at..]);
        (!dropped).then_some(out)
    }

    /// Redacts every string in a JSON request body with the request detectors. `None` when nothing was found (the
    /// body leaves untouched) or the body is not JSON.
    pub(crate) fn redact_request(&self, body: &[u8]) -> Option<(Vec<u8>, DetectorCounts)> {
        if !self.redacts_requests() {
            return None;
        }
        let mut value: Value = serde_json::from_slice(body).ok()?;
        let mut counts = Vec::new();
        self.redact_request_value(&mut value, &mut counts);
        if counts.is_empty() {
            return None;
        }
        Some((serde_json::to_vec(&value).ok()?, counts))
    }

    fn redact_request_value(&self, value: &mut Value, counts: &mut Vec<(String, u32)>) {
        match value {
            Value::String(s) => {
                if let Some(r) = self.apply(s, self.request_detectors.iter().copied(), false, counts) {
                    if r != *s {
                        *s = r;
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.redact_request_value(i, counts)),
            Value::Object(map) => map.values_mut().for_each(|v| self.redact_request_value(v, counts)),
            _ => {}
        }
    }
}

impl Redact for Redactor {
    fn redact(&self, text: &str, counts: &mut Vec<(String, u32)>) -> Option<String> {
        self.apply(text, 0..self.detectors.len(), true, counts)
    }

    fn covers_user_id(&self) -> bool {
        self.user_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(text: &str) -> String {
        Redactor::default().redact(text, &mut Vec::new()).expect("not dropped")
    }

    fn counts(text: &str) -> Vec<(String, u32)> {
        let mut c = Vec::new();
        Redactor::default().redact(text, &mut c);
        c
    }

    #[test]
    fn emails_are_masked_and_look_alikes_kept() {
        assert_eq!(redact("mail jane.doe+tag@example.co.uk now"), "mail [EMAIL] now");
        assert_eq!(redact("<a@b.io>."), "<[EMAIL]>.");
        assert_eq!(
            redact("@handle and x@localhost and a@b.c1"),
            "@handle and x@localhost and a@b.c1"
        );
        // Found by the `redactor` fuzz target: an address right after another one (`a@b.io-@c.io`) was left in
        // clear, its local part read back into the first one's domain, so redacting the output found it again.
        assert_eq!(redact("a@b.io-@c.io"), "[EMAIL][EMAIL]");
        assert_eq!(redact("-@p.pe-@p.pe"), "[EMAIL][EMAIL]");
        assert_eq!(
            redact("a@b.co-c@d.co"),
            "a@[EMAIL]",
            "one address whose local part is `b.co-c`"
        );
        // Found by the same target: an address overlapping a phone number before it lost the overlap and was left
        // in clear after the number's mask.
        assert_eq!(
            redact("call +1 415 555 0100.jane@example.com now"),
            "call [PHONE][EMAIL] now"
        );
        assert_eq!(redact("+15 055234.e@o.do"), "[PHONE][EMAIL]");
    }

    #[test]
    fn cards_need_a_valid_luhn_checksum() {
        assert_eq!(redact("card 4111 1111 1111 1111 ok"), "card [CARD] ok");
        assert_eq!(redact("card 5500-0000-0000-0004"), "card [CARD]");
        assert_eq!(redact("amex 378282246310005"), "amex [CARD]");
        // One digit off: fails Luhn.
        assert_eq!(redact("card 4111 1111 1111 1112"), "card 4111 1111 1111 1112");
        // Epoch milliseconds: 13 digits, but no card network starts with 1.
        assert_eq!(redact("ts 1700000000000"), "ts 1700000000000");
    }

    #[test]
    fn ssn_ibans_and_their_checks() {
        assert_eq!(redact("ssn 123-45-6789."), "ssn [SSN].");
        assert_eq!(
            redact("ssn 000-45-6789 666-12-3456 912-34-5678"),
            "ssn 000-45-6789 666-12-3456 912-34-5678"
        );
        assert_eq!(redact("IBAN DE89 3704 0044 0532 0130 00 thanks"), "IBAN [IBAN] thanks");
        assert_eq!(redact("GB82WEST12345698765432"), "[IBAN]");
        // Check digits wrong.
        assert_eq!(redact("DE88 3704 0044 0532 0130 00"), "DE88 3704 0044 0532 0130 00");
    }

    #[test]
    fn phones_in_international_and_north_american_formats() {
        assert_eq!(
            redact("call +44 20 7946 0958 or (555) 123-4567"),
            "call [PHONE] or [PHONE]"
        );
        assert_eq!(redact("call 555.123.4567 or +4915123456789"), "call [PHONE] or [PHONE]");
        // Dates, versions and bare ids are not phones.
        assert_eq!(
            redact("on 2024-01-15, v1.2.3, id 5551234567"),
            "on 2024-01-15, v1.2.3, id 5551234567"
        );
    }

    #[test]
    fn long_texts_are_gated_without_missing_anything() {
        // Texts of 256 bytes and more are indexed (bytes, byte pairs, digit and colon counts) and detectors whose
        // values cannot be there are skipped: every positive case must still be found inside a long text.
        let cases = [
            ("jane.doe@example.com", "[EMAIL]"),
            ("4111 1111 1111 1111", "[CARD]"),
            ("ssn 123-45-6789", "ssn [SSN]"),
            ("IBAN DE89 3704 0044 0532 0130 00", "IBAN [IBAN]"),
            ("call +44 20 7946 0958 or (555) 123-4567", "call [PHONE] or [PHONE]"),
            ("from 192.168.10.254", "from [IP]"),
            ("v6 2001:db8::8a2e:370:7334", "v6 [IP]"),
            ("v6 2001:0db8:1234:5678:1234:5678:1234:5678", "v6 [IP]"),
            ("sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz012345", "[OPENAI_KEY]"),
            ("sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "[ANTHROPIC_KEY]"),
            ("AKIAIOSFODNN7EXAMPLE", "[AWS_ACCESS_KEY]"),
            (
                "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "AWS_SECRET_ACCESS_KEY=[AWS_SECRET_KEY]",
            ),
            ("AIzaSyA1234567890abcdefghijklmnopqrstuv", "[GOOGLE_API_KEY]"),
            ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "[GITHUB_TOKEN]"),
            ("github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "[GITHUB_TOKEN]"),
            ("xoxb-123456789012-abcdefghij", "[SLACK_TOKEN]"),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                "[JWT]",
            ),
            ("BEARER abcdef0123456789abcdef", "BEARER [BEARER_TOKEN]"),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
                "[PRIVATE_KEY]",
            ),
        ];
        let pad = "lorem ipsum dolor sit amet ".repeat(12);
        for (input, expected) in cases {
            let long = format!("{pad}{input} {pad}");
            assert!(long.len() >= Scan::MIN_INDEXED);
            assert_eq!(redact(&long), format!("{pad}{expected} {pad}"), "{input}");
        }
    }

    #[test]
    fn ip_addresses() {
        assert_eq!(redact("from 192.168.10.254."), "from [IP].");
        assert_eq!(redact("v6 2001:db8::8a2e:370:7334 and ::1"), "v6 [IP] and [IP]");
        assert_eq!(redact("at 10:30:00, 999.1.1.1, 1.2.3"), "at 10:30:00, 999.1.1.1, 1.2.3");
    }

    #[test]
    fn secrets_of_every_kind() {
        let cases = [
            ("sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz012345", "[OPENAI_KEY]"),
            ("sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "[ANTHROPIC_KEY]"),
            ("AKIAIOSFODNN7EXAMPLE", "[AWS_ACCESS_KEY]"),
            (
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "aws_secret_access_key = [AWS_SECRET_KEY]",
            ),
            ("AIzaSyA1234567890abcdefghijklmnopqrstuv", "[GOOGLE_API_KEY]"),
            ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "[GITHUB_TOKEN]"),
            ("xoxb-123456789012-abcdefghij", "[SLACK_TOKEN]"),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                "[JWT]",
            ),
            (
                "Authorization: Bearer abcdef0123456789abcdef",
                "Authorization: Bearer [BEARER_TOKEN]",
            ),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY----- after",
                "[PRIVATE_KEY] after",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(redact(input), expected, "{input}");
        }
        // Look-alikes: a word containing `sk-`, a short `sk-` id, a public key block.
        let kept = "task-force sk-short -----BEGIN PUBLIC KEY-----";
        assert_eq!(redact(kept), kept);
    }

    #[test]
    fn counts_by_detector_never_values() {
        assert_eq!(
            counts("a@b.io c@d.io 4111111111111111"),
            vec![("email".to_string(), 2), ("card".to_string(), 1)]
        );
    }

    #[test]
    fn hash_is_keyed_and_stable_and_drop_removes_the_field() {
        let r = build(r#"{"detectors": {"email": "hash", "private_key": "drop"}, "hmac_key": "0123456789abcdef"}"#)
            .expect("valid");
        let a = r.redact("jane@example.com", &mut Vec::new()).expect("kept");
        let b = r.redact("again jane@example.com", &mut Vec::new()).expect("kept");
        assert!(a.starts_with("[EMAIL:") && a.len() == "[EMAIL:]".len() + 16, "{a}");
        assert_eq!(b, format!("again {a}"));
        let other_key = build(r#"{"detectors": {"email": "hash"}, "hmac_key": "fedcba9876543210"}"#).expect("valid");
        assert_ne!(other_key.redact("jane@example.com", &mut Vec::new()).expect("kept"), a);
        assert_eq!(r.redact("-----BEGIN PRIVATE KEY-----\nabc", &mut Vec::new()), None);
    }

    #[test]
    fn custom_regex_and_literals() {
        let r = build(
            r#"{"custom": [{"name": "customer_id", "regex": "CUST-[0-9]{6}"},
                           {"name": "customer", "literals": ["Acme Corp"], "action": "mask"}]}"#,
        )
        .expect("valid");
        assert_eq!(
            r.redact("CUST-123456 of ACME CORP, not acme corporation", &mut Vec::new())
                .expect("kept"),
            "[CUSTOMER_ID] of [CUSTOMER], not acme corporation"
        );
    }

    #[test]
    fn configuration_errors_name_the_field() {
        let err = |json: &str| build(json).err().map(|e| e.field);
        assert_eq!(
            err(r#"{"detectors": {"emails": "mask"}}"#).as_deref(),
            Some("redaction.detectors.emails")
        );
        assert_eq!(
            err(r#"{"detectors": {"email": "hash"}}"#).as_deref(),
            Some("redaction.hmac_key")
        );
        assert_eq!(
            err(r#"{"custom": [{"name": "x", "regex": "("}]}"#).as_deref(),
            Some("redaction.custom[0].regex")
        );
        assert_eq!(
            err(r#"{"custom": [{"name": "X", "regex": "a"}]}"#).as_deref(),
            Some("redaction.custom[0].name")
        );
        assert_eq!(
            err(r#"{"request": {"enabled": true, "detectors": ["nope"]}}"#).as_deref(),
            Some("redaction.request.detectors")
        );
        assert!(!build(r#"{"enabled": false}"#).expect("valid").is_enabled());
    }

    #[test]
    fn request_bodies_are_rewritten_only_when_something_was_found() {
        let r = build(r#"{"request": {"enabled": true, "detectors": ["openai_key", "card"]}}"#).expect("valid");
        let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"key sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz012345 mail a@b.io"}]}"#;
        let (out, counts) = r.redact_request(body).expect("rewritten");
        let v: Value = serde_json::from_slice(&out).expect("json");
        // Only the configured detectors: the email stays.
        assert_eq!(v["messages"][0]["content"], "key [OPENAI_KEY] mail a@b.io");
        assert_eq!(counts, vec![("openai_key".to_string(), 1)]);
        assert_eq!(r.redact_request(br#"{"messages":[{"content":"hello"}]}"#), None);
        assert!(!Redactor::default().redacts_requests());
    }

    #[test]
    fn never_panics_on_arbitrary_text() {
        let samples = [
            "@",
            "@.",
            "a@",
            "+",
            "(",
            "eyJ",
            "eyJaaaaaaaaaaa.",
            "sk-",
            "-----BEGIN ",
            "::",
            "1.",
            "é@é.é",
        ];
        for s in samples {
            let _ = redact(s);
            let _ = redact(&format!("{s}{s}{s} é"));
        }
    }
}
