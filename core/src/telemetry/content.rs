//! Content for export: metadata-only, or redacted; then fitted to the size limit. A value over the limit keeps its
//! JSON structure: its longest texts are shortened first (each cut text ends with a visible marker) until the
//! serialized value fits, so every exported content attribute parses. Only the part of a text that can reach the
//! export is scanned by redaction.

use super::attributes as attr;
use super::span::SpanOptions;
use crate::model::content::{truncate_utf8, CaptureMode};
use crate::policy::capture::metadata_only;
use crate::policy::redaction::Redact;
use serde_json::Value;
use std::sync::Arc;

/// One content value for export: metadata only, or redacted; then fitted to `max_content_bytes` of JSON. Returns
/// the value and its JSON; `None` when capture is off or a detector asks to drop the field.
pub(super) fn export_value(
    value: &Value,
    mode: CaptureMode,
    options: &SpanOptions<'_>,
    redactions: &mut Vec<(Arc<str>, u32)>,
) -> Option<(Value, String)> {
    let max = options.max_content_bytes;
    let mut value = match (mode, options.redactor) {
        (CaptureMode::Off, _) => return None,
        (CaptureMode::Metadata, _) => metadata_only(value),
        (CaptureMode::Full, Some(r)) => {
            // What fitting the raw value would leave of each text bounds what redaction scans of it. A value that
            // fits even if every byte were escaped needs no exact length.
            let scan = if json_len_at_most(value) <= max {
                usize::MAX
            } else {
                text_cap(value, json_len(value), max).unwrap_or(usize::MAX)
            };
            // Copied as the unredacted value would be, then redacted where it stands: a text with nothing to remove
            // is not copied again.
            let mut value = value.clone();
            if !redact_leaves(&mut value, None, r, scan, redactions) {
                return None;
            }
            value
        }
        (CaptureMode::Full, None) => value.clone(),
    };
    let text = value.to_string();
    if text.len() <= max {
        return Some((value, text));
    }
    fit_sized(&mut value, text.len(), max);
    let text = value.to_string();
    Some((value, text))
}

/// [`export_value`]'s JSON.
pub(super) fn export_content(
    value: &Value,
    mode: CaptureMode,
    options: &SpanOptions<'_>,
    redactions: &mut Vec<(Arc<str>, u32)>,
) -> Option<String> {
    export_value(value, mode, options, redactions).map(|(_, text)| text)
}

/// Plain text for export: its length only (metadata mode), or redacted then cut to the size limit.
pub(crate) fn export_text(
    text: &str,
    mode: CaptureMode,
    options: &SpanOptions<'_>,
    redactions: &mut Vec<(Arc<str>, u32)>,
) -> Option<String> {
    let text = match (mode, options.redactor) {
        (CaptureMode::Off, _) => return None,
        (CaptureMode::Metadata, _) => return Some(format!("[{} chars]", text.chars().count())),
        (CaptureMode::Full, Some(r)) => redact_exportable(text, r, options.max_content_bytes, redactions)?,
        (CaptureMode::Full, None) => text.to_string(),
    };
    Some(truncate_with_marker(&text, options.max_content_bytes))
}

/// Cuts plain `text` to `max` bytes on a character boundary, ending with a visible marker when anything was cut.
fn truncate_with_marker(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let keep = max.saturating_sub(attr::TRUNCATION_MARKER.len());
    format!("{}{}", truncate_utf8(text, keep), attr::TRUNCATION_MARKER)
}

/// Shortens `value` until its JSON is at most `max` bytes: every text longer than a common cap is cut to the cap
/// (the longest texts lose most, short ones stay whole), marker included. When the structure alone is over the limit
/// (thousands of messages), whole items of the top-level array go too: the oldest after the first, never the last.
#[cfg(test)]
fn fit(value: &mut Value, max: usize) {
    fit_sized(value, json_len(value), max);
}

/// [`fit`] for a value whose JSON is `size` bytes.
fn fit_sized(value: &mut Value, size: usize, max: usize) {
    let Some(cap) = text_cap(value, size, max) else {
        return;
    };
    shorten_texts(value, None, cap.max(attr::TRUNCATION_MARKER.len()));
    if json_len(value) > max {
        drop_items(value, max);
    }
}

/// The longest a text may be (escaped bytes, quotes excluded) for `value`'s JSON (`size` bytes) to fit in `max`
/// bytes when only the texts over the cap are cut; `None` when the value fits as it is.
fn text_cap(value: &Value, size: usize, max: usize) -> Option<usize> {
    if size <= max {
        return None;
    }
    let mut lens = Vec::new();
    visit_texts(value, None, &mut |s| lens.push(escaped_len(s)));
    let texts: usize = lens.iter().sum();
    let mut budget = max.saturating_sub(size - texts);
    lens.sort_unstable();
    let mut left = lens.len();
    for len in lens {
        // Every remaining text is at least this long: if they can all have `len`, this one stays whole.
        if len.saturating_mul(left) > budget {
            return Some(budget / left);
        }
        budget -= len;
        left -= 1;
    }
    Some(budget)
}

/// String values under these keys are structure (roles, part types, ids, tool names), not text: they are never
/// shortened unless implausibly long.
fn is_text(key: Option<&str>, s: &str) -> bool {
    let structural = matches!(
        key,
        Some("role" | "type" | "id" | "name" | "modality" | "finish_reason" | "generic_type" | "mime_type")
    );
    !structural || s.len() > 128
}

fn visit_texts(value: &Value, key: Option<&str>, f: &mut impl FnMut(&str)) {
    match value {
        Value::String(s) if is_text(key, s) => f(s),
        Value::Array(items) => items.iter().for_each(|i| visit_texts(i, key, f)),
        Value::Object(map) => map.iter().for_each(|(k, v)| visit_texts(v, Some(k), f)),
        _ => {}
    }
}

fn shorten_texts(value: &mut Value, key: Option<&str>, cap: usize) {
    match value {
        Value::String(s) if is_text(key, s) && escaped_len(s) > cap => *s = cut_text(s, cap),
        Value::Array(items) => items.iter_mut().for_each(|i| shorten_texts(i, key, cap)),
        Value::Object(map) => map.iter_mut().for_each(|(k, v)| shorten_texts(v, Some(k), cap)),
        _ => {}
    }
}

/// `text` cut so that, marker included, it is at most `cap` escaped bytes. A text already cut by redaction loses its
/// marker before the cut, so it ends with exactly one.
fn cut_text(text: &str, cap: usize) -> String {
    let marker = attr::TRUNCATION_MARKER;
    let base = text.strip_suffix(marker).unwrap_or(text);
    let room = cap.saturating_sub(marker.len());
    let mut used = 0;
    let mut end = 0;
    for (i, c) in base.char_indices() {
        used += escaped_char_len(c);
        if used > room {
            break;
        }
        end = i + c.len_utf8();
    }
    format!("{}{marker}", &base[..end])
}

/// Drops items of a top-level array until `value` fits: the second, third, ... (the oldest messages after the first,
/// which is usually the system prompt), then the first; the last item always stays.
fn drop_items(value: &mut Value, max: usize) {
    let Value::Array(items) = value else {
        return;
    };
    let n = items.len();
    if n < 2 {
        return;
    }
    let mut size = json_len(&Value::Array(Vec::new())) + items.iter().map(json_len).sum::<usize>() + n - 1;
    let mut drop = vec![false; n];
    for i in (1..n - 1).chain(std::iter::once(0)) {
        if size <= max {
            break;
        }
        size -= json_len(&items[i]) + 1;
        drop[i] = true;
    }
    let mut index = 0;
    items.retain(|_| {
        index += 1;
        !drop[index - 1]
    });
}

/// Bytes of `value` serialized as compact JSON (as serde_json writes it), counted without writing it: this runs on
/// every captured value before redaction, so strings are measured eight bytes at a time.
fn json_len(value: &Value) -> usize {
    match value {
        Value::Null => 4,
        Value::Bool(b) => 4 + usize::from(!*b),
        Value::Number(n) => n.to_string().len(),
        Value::String(s) => escaped_len(s) + 2,
        Value::Array(items) => 2 + items.len().saturating_sub(1) + items.iter().map(json_len).sum::<usize>(),
        Value::Object(map) => {
            let members: usize = map.iter().map(|(k, v)| escaped_len(k) + 3 + json_len(v)).sum();
            2 + map.len().saturating_sub(1) + members
        }
    }
}

/// At least [`json_len`] of `value`, counted from its shape alone (every string byte as a six-byte escape, every
/// number at its longest): one step per node, none per byte.
fn json_len_at_most(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) => 5,
        // u64::MAX, i64::MIN and the longest f64 serde_json writes are at most 24 bytes.
        Value::Number(_) => 24,
        Value::String(s) => s.len().saturating_mul(6).saturating_add(2),
        Value::Array(items) => items.iter().fold(items.len().saturating_add(2), |n, i| {
            n.saturating_add(json_len_at_most(i))
        }),
        Value::Object(map) => map.iter().fold(map.len().saturating_add(2), |n, (k, v)| {
            n.saturating_add(k.len().saturating_mul(6).saturating_add(3))
                .saturating_add(json_len_at_most(v))
        }),
    }
}

/// Bytes of `s` inside a JSON string as serde_json writes it (quotes excluded). Eight bytes at a time: each `"` and
/// `\\` adds one byte, each control byte one or five.
fn escaped_len(s: &str) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte of `x` that is zero (exact: no borrow crosses into a byte that is not zero).
    let zero = |x: u64| !(((x & !HIGH) + !HIGH) | x) & HIGH;
    let bytes = s.as_bytes();
    let mut len = bytes.len();
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        // A byte below 0x20 has its top three bits zero.
        let mut control = zero(x & (0xe0 * ONES));
        let quoted = zero(x ^ (ONES * u64::from(b'"'))) | zero(x ^ (ONES * u64::from(b'\\')));
        len += quoted.count_ones() as usize;
        while control != 0 {
            len += escape_extra(word[(control.trailing_zeros() / 8) as usize & 7]);
            control &= control - 1;
        }
    }
    len + chunks.remainder().iter().map(|b| escape_extra(*b)).sum::<usize>()
}

/// Bytes the escape of `b` adds to it (`\n` is two bytes, `\u0001` six).
fn escape_extra(b: u8) -> usize {
    match b {
        b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
        0..0x20 => 5,
        _ => 0,
    }
}

fn escaped_char_len(c: char) -> usize {
    match u8::try_from(c) {
        Ok(b) if b.is_ascii() => 1 + escape_extra(b),
        _ => c.len_utf8(),
    }
}

/// Redacts the part of `text` that can reach the export: past `max` bytes nothing survives the cut, so it is not
/// scanned (a 32 KiB prompt with a 4 KiB limit costs 4 KiB of redaction). The cut falls on whitespace before `max`
/// so no value is split into a fragment too short for its detector.
fn redact_exportable(text: &str, r: &dyn Redact, max: usize, redactions: &mut Vec<(Arc<str>, u32)>) -> Option<String> {
    let head = exportable_head(text, max);
    let mut redacted = r.redact(head, redactions)?;
    if head.len() < text.len() {
        redacted.push_str(attr::TRUNCATION_MARKER);
    }
    Some(redacted)
}

/// What of `text` can reach the export when it is cut to `max` bytes: all of it, or the part before the last
/// whitespace before the cut.
fn exportable_head(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let head = truncate_utf8(text, max);
    head.rfind(|c: char| c.is_ascii_whitespace())
        .map_or(head, |i| &head[..i])
}

/// [`redact_exportable`] where the text stands; `false` when a detector asks to drop the field.
fn redact_exportable_in_place(
    text: &mut String,
    r: &dyn Redact,
    max: usize,
    redactions: &mut Vec<(Arc<str>, u32)>,
) -> bool {
    if text.len() <= max {
        return r.redact_in_place(text, redactions);
    }
    let mut head = exportable_head(text, max).to_string();
    if !r.redact_in_place(&mut head, redactions) {
        return false;
    }
    head.push_str(attr::TRUNCATION_MARKER);
    *text = head;
    true
}

/// Redacts every string in a JSON value where it stands, scanning at most `scan` bytes of each text; `false` when a
/// detector asks to drop the whole field.
fn redact_leaves(
    value: &mut Value,
    key: Option<&str>,
    r: &dyn Redact,
    scan: usize,
    redactions: &mut Vec<(Arc<str>, u32)>,
) -> bool {
    match value {
        Value::String(s) if is_text(key, s) => redact_exportable_in_place(s, r, scan, redactions),
        Value::String(s) => r.redact_in_place(s, redactions),
        Value::Array(items) => items.iter_mut().all(|i| redact_leaves(i, key, r, scan, redactions)),
        Value::Object(map) => map
            .iter_mut()
            .all(|(k, v)| redact_leaves(v, Some(k), r, scan, redactions)),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MARKER: &str = attr::TRUNCATION_MARKER;

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

    fn text_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
        v.pointer(pointer).and_then(Value::as_str).unwrap()
    }

    #[test]
    fn an_oversized_value_stays_valid_json_with_its_longest_texts_cut_first() {
        let long = "lorem ipsum ".repeat(400);
        let medium = "m".repeat(300);
        let value = json!([
            {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
            {"role": "user", "parts": [{"type": "text", "content": long}, {"type": "text", "content": medium}]},
            {"role": "assistant", "parts": [{"type": "tool_call", "id": "call_1", "name": "get_weather",
                "arguments": {"city": "Paris"}}]},
        ]);
        for max in [300, 700, 1000, 4000] {
            let mut fitted = value.clone();
            fit(&mut fitted, max);
            let text = fitted.to_string();
            assert!(text.len() <= max, "{max}: {} bytes", text.len());
            let parsed: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(parsed, fitted);
            // Structure and short texts survive whole; the longest text is cut, with the marker inside the text.
            assert_eq!(text_at(&fitted, "/0/parts/0/content"), "Be brief.");
            assert_eq!(text_at(&fitted, "/2/parts/0/name"), "get_weather");
            assert_eq!(text_at(&fitted, "/2/parts/0/arguments/city"), "Paris");
            assert_eq!(text_at(&fitted, "/1/parts/0/type"), "text");
            let cut = text_at(&fitted, "/1/parts/0/content");
            assert!(cut.ends_with(MARKER) && long.starts_with(cut.strip_suffix(MARKER).unwrap()));
            let second = text_at(&fitted, "/1/parts/1/content");
            if max >= 1000 {
                assert_eq!(
                    second, medium,
                    "{max}: the shorter text keeps its length while the longest is cut"
                );
            }
            assert!(cut.len() >= second.len(), "{max}: longest first");
        }
        let mut small = value.clone();
        fit(&mut small, 100_000);
        assert_eq!(small, value, "a value within the limit is unchanged");
    }

    #[test]
    fn escaped_lengths_match_what_serde_json_writes() {
        for s in [
            "plain",
            "quote \" and \\ back",
            "line\nfeed\ttab\r",
            "\u{1}\u{1f}\u{7f}",
            "é…日本",
            "",
        ] {
            assert_eq!(escaped_len(s) + 2, Value::String(s.into()).to_string().len(), "{s:?}");
        }
        // Every escaped byte at every place of an eight-byte chunk and of the remainder.
        for special in ["\"", "\\", "\n", "\u{1}", "\u{1f}", "\u{8}", "é", "\u{7f}", " "] {
            for at in 0..19 {
                let s = format!("{}{special}{}", "a".repeat(at), "b".repeat(18 - at));
                assert_eq!(escaped_len(&s) + 2, Value::String(s.clone()).to_string().len(), "{s:?}");
            }
        }
        // A cut never splits an escape or a character.
        let cut = cut_text(&"\"é\n".repeat(50), 40);
        assert!(escaped_len(&cut) <= 40 && cut.ends_with(MARKER), "{cut:?}");
        assert_eq!(
            cut_text(&format!("{}{MARKER}", "a".repeat(100)), 20)
                .matches(MARKER)
                .count(),
            1
        );
    }

    #[test]
    fn json_lengths_match_what_serde_json_writes() {
        let value = json!([
            null, true, false, 0, -17, 18446744073709551615u64, 1.5, -2.5e-10, "", "x\"y",
            {}, [], {"ké\ny": {"a": [1, {"b": null}], "": ""}}, [[[]]],
        ]);
        let Value::Array(items) = &value else { unreachable!() };
        for item in items {
            assert_eq!(json_len(item), item.to_string().len(), "{item}");
        }
        assert_eq!(json_len(&value), value.to_string().len());
    }

    #[test]
    fn when_the_structure_alone_is_over_the_limit_the_oldest_middle_items_go() {
        let messages: Vec<Value> = (0..200)
            .map(|i| json!({"role": "user", "parts": [{"type": "text", "content": format!("m{i}")}]}))
            .collect();
        let mut value = Value::Array(messages);
        fit(&mut value, 2000);
        let text = value.to_string();
        assert!(text.len() <= 2000, "{}", text.len());
        let items = value.as_array().unwrap();
        assert_eq!(text_at(&items[0], "/parts/0/content"), "m0", "the first stays");
        assert_eq!(
            text_at(items.last().unwrap(), "/parts/0/content"),
            "m199",
            "the most recent stays"
        );
        assert_eq!(
            text_at(&items[1], "/parts/0/content"),
            format!("m{}", 200 - items.len() + 1)
        );
    }

    #[test]
    fn redaction_scans_only_what_fitting_can_export_and_nothing_leaks_at_the_cut() {
        let r = crate::policy::redaction::build("{}").unwrap();
        let key = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123456789";
        let value = json!([{"role": "user", "parts": [
            {"type": "text", "content": format!("mail jane@example.com then {} {key} tail {key}", "word ".repeat(200))},
            {"type": "text", "content": "short"},
        ]}]);
        let options = SpanOptions {
            max_content_bytes: 400,
            redactor: Some(&r),
            ..Default::default()
        };
        let mut counts = Vec::new();
        let out = export_content(&value, CaptureMode::Full, &options, &mut counts).unwrap();
        assert!(out.len() <= 400, "{}", out.len());
        let parsed: Value = serde_json::from_str(&out).unwrap();
        let text = text_at(&parsed, "/0/parts/0/content");
        assert!(
            text.starts_with("mail [EMAIL] then word") && text.ends_with(MARKER),
            "{text}"
        );
        assert!(!out.contains("sk-proj") && !out.contains("jane@"), "{out}");
        assert_eq!(text_at(&parsed, "/0/parts/1/content"), "short");
        assert_eq!(
            counts,
            vec![("email".into(), 1)],
            "the keys past the cut were never scanned"
        );
    }
}
