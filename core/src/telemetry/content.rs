//! Content for export: metadata-only, or redacted and then cut to the size limit with a visible marker. Only the
//! part of a text that can reach the export is scanned.

use super::attributes as attr;
use super::span::SpanOptions;
use crate::model::content::{truncate_utf8, CaptureMode};
use crate::policy::capture::metadata_only;
use crate::policy::redaction::Redact;
use serde_json::Value;

/// Serializes one content value for export: metadata-only or redacted, then cut to the size limit.
pub(super) fn export_content(
    value: &Value,
    mode: CaptureMode,
    options: &SpanOptions<'_>,
    redactions: &mut Vec<(String, u32)>,
) -> Option<String> {
    let value = match (mode, options.redactor) {
        (CaptureMode::Off, _) => return None,
        (CaptureMode::Metadata, _) => metadata_only(value),
        (CaptureMode::Full, Some(r)) => redact_leaves(value, r, options.max_content_bytes, redactions)?,
        (CaptureMode::Full, None) => value.clone(),
    };
    let text = value.to_string();
    Some(truncate_with_marker(&text, options.max_content_bytes))
}

/// Plain text for export: its length only (metadata mode), or redacted then cut to the size limit.
pub(crate) fn export_text(
    text: &str,
    mode: CaptureMode,
    options: &SpanOptions<'_>,
    redactions: &mut Vec<(String, u32)>,
) -> Option<String> {
    let text = match (mode, options.redactor) {
        (CaptureMode::Off, _) => return None,
        (CaptureMode::Metadata, _) => return Some(format!("[{} chars]", text.chars().count())),
        (CaptureMode::Full, Some(r)) => redact_exportable(text, r, options.max_content_bytes, redactions)?,
        (CaptureMode::Full, None) => text.to_string(),
    };
    Some(truncate_with_marker(&text, options.max_content_bytes))
}

/// Redacts the part of `text` that can reach the export: past `max` bytes nothing survives the cut, so it is not
/// scanned (a 32 KiB prompt with a 4 KiB limit costs 4 KiB of redaction). The cut falls on whitespace before `max`
/// so no value is split into a fragment too short for its detector.
fn redact_exportable(text: &str, r: &dyn Redact, max: usize, redactions: &mut Vec<(String, u32)>) -> Option<String> {
    if text.len() <= max {
        return r.redact(text, redactions);
    }
    let head = truncate_utf8(text, max);
    let head = head
        .rfind(|c: char| c.is_ascii_whitespace())
        .map_or(head, |i| &head[..i]);
    let mut redacted = r.redact(head, redactions)?;
    redacted.push_str(attr::TRUNCATION_MARKER);
    Some(redacted)
}

/// Redacts every string in a JSON value; `None` when a detector asks to drop the whole field.
fn redact_leaves(value: &Value, r: &dyn Redact, max: usize, redactions: &mut Vec<(String, u32)>) -> Option<Value> {
    Some(match value {
        Value::String(s) => Value::String(redact_exportable(s, r, max, redactions)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| redact_leaves(i, r, max, redactions))
                .collect::<Option<Vec<_>>>()?,
        ),
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                out.insert(k.clone(), redact_leaves(v, r, max, redactions)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// Cuts `text` to `max` bytes on a character boundary, ending with a visible marker when anything was cut.
pub(crate) fn truncate_with_marker(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let keep = max.saturating_sub(attr::TRUNCATION_MARKER.len());
    format!("{}{}", truncate_utf8(text, keep), attr::TRUNCATION_MARKER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_past_the_export_limit_is_not_redacted_and_never_leaks_a_fragment() {
        let r = crate::policy::redaction::build("{}").unwrap();
        let key = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123456789";
        // The key straddles the 200-byte limit: it must be left out whole, not cut into an undetectable piece.
        let text = format!("{} {key} and more words after it {key}", "word ".repeat(38));
        assert!(text.find(key).unwrap() < 200 && text.find(key).unwrap() + key.len() > 200);
        let mut counts = Vec::new();
        let out = redact_exportable(&text, &r, 200, &mut counts).unwrap();
        assert!(!out.contains("sk-proj"), "{out}");
        assert!(out.ends_with(attr::TRUNCATION_MARKER) && out.len() <= 200 + attr::TRUNCATION_MARKER.len());
        assert!(
            counts.is_empty(),
            "nothing past the cut is scanned or counted: {counts:?}"
        );
        // Within the limit, everything is redacted and counted.
        let short = format!("mail jane@example.com key {key}");
        let out = redact_exportable(&short, &r, 200, &mut counts).unwrap();
        assert_eq!(out, "mail [EMAIL] key [OPENAI_KEY]");
        assert_eq!(counts.len(), 2);
    }
}
