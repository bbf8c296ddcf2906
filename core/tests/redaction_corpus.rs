//! False positives of the default redaction, on real text: every string of every shared capture (the files' own
//! strings, and every string inside their JSON bodies and stream events, decompressed where gzip) and the project's
//! own docs (every Markdown file whole, and the doc comments of the crates' sources) must come out unchanged with `"redaction": {}`, but for the
//! true positives listed here, each with its reason. Skipped (with a message) when the capture corpus is absent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use llm_trace_core::Redact;
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Values the default configuration rightly redacts in this corpus: (value, detector, why).
const TRUE_POSITIVES: &[(&str, &str, &str)] = &[
    (
        "127.0.0.1",
        "ip",
        "loopback address in the README's example span and in recorded local servers",
    ),
    (
        "+41555510",
        "phone",
        "a phone number on purpose: the redactor fuzz target's doc explains two glued numbers",
    ),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn captures_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("LLM_TRACE_CAPTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/captures"));
    dir.is_dir().then_some(dir)
}

fn leaves(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            out.push(s.clone());
            // A string holding JSON (tool arguments, an SSE payload): its strings too.
            if let Ok(inner @ (Value::Object(_) | Value::Array(_))) = serde_json::from_str::<Value>(s) {
                leaves(&inner, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| leaves(i, out)),
        Value::Object(map) => map.values().for_each(|v| leaves(v, out)),
        _ => {}
    }
}

/// The strings of a body: JSON leaves, or for a stream every `data:` line's leaves.
fn body_strings(body: &str, out: &mut Vec<String>) {
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        leaves(&v, out);
        return;
    }
    for line in body.lines() {
        if let Some(data) = line.strip_prefix("data:") {
            if let Ok(v) = serde_json::from_str::<Value>(data.trim()) {
                leaves(&v, out);
            }
        }
    }
}

fn decode_base64(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn capture_strings(file: &Path) -> Vec<String> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let mut out = Vec::new();
    leaves(&v, &mut out);
    for side in ["request", "response"] {
        let part = &v[side];
        if let Some(body) = part["body"].as_str() {
            body_strings(body, &mut out);
        }
        if let Some(b64) = part["body_base64"].as_str() {
            let mut raw = decode_base64(b64);
            if raw.starts_with(&[0x1f, 0x8b]) {
                let mut inflated = Vec::new();
                if flate2::read::GzDecoder::new(&raw[..])
                    .read_to_end(&mut inflated)
                    .is_ok()
                {
                    raw = inflated;
                }
            }
            if let Ok(text) = String::from_utf8(raw) {
                out.push(text.clone());
                body_strings(&text, &mut out);
            }
        }
    }
    out
}

/// What redaction changed: each masked value with its label, read off the output.
fn changes(text: &str, redacted: &str) -> Vec<(String, String)> {
    let (t, r) = (text.as_bytes(), redacted.as_bytes());
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < t.len() && j < r.len() {
        if t[i] == r[j] {
            i += 1;
            j += 1;
            continue;
        }
        // A label starts at j: `[NAME]` or `[NAME:hash]`; the original resumes where the rest of `redacted` does.
        let close = redacted[j..].find(']').map_or(r.len(), |k| j + k + 1);
        let label = redacted[j..close]
            .trim_matches(|c| c == '[' || c == ']')
            .to_ascii_lowercase();
        let rest = &redacted[close..];
        let resume = (i..=t.len())
            .filter(|k| text.is_char_boundary(*k))
            .find(|k| text[*k..].starts_with(&rest[..rest.len().min(24)]))
            .unwrap_or(t.len());
        out.push((text[i..resume].to_string(), label));
        i = resume;
        j = close;
    }
    out
}

fn check(name: &str, text: &str, r: &llm_trace_core::Redactor, found: &mut Vec<String>, seen: &mut [bool]) {
    let redacted = r.redact(text, &mut Vec::new()).unwrap_or_default();
    if redacted == text {
        return;
    }
    for (value, detector) in changes(text, &redacted) {
        match TRUE_POSITIVES
            .iter()
            .position(|(v, d, _)| *v == value && *d == detector)
        {
            Some(k) => seen[k] = true,
            None => found.push(format!("{name}: {detector} {value:?}")),
        }
    }
}

/// Every Markdown file of the project and every Rust source of its crates (whose doc comments are read), but for
/// build output, virtual environments and the redactor's own tests and test vectors (secrets by intent).
fn project_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            let skipped = name.starts_with('.') || name == "target" || name == "testdata" || name == "node_modules";
            if !skipped {
                project_files(&path, out);
            }
        } else if name.ends_with(".md")
            || (name.ends_with(".rs")
                && !path.to_string_lossy().contains("policy/redaction/")
                && !name.contains("redaction"))
        {
            out.push(path);
        }
    }
}

/// The doc comments (`//!`, `///`) of a Rust source, one line each: what rustdoc publishes.
fn doc_comments(source: &str) -> String {
    source
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            l.strip_prefix("//!").or_else(|| l.strip_prefix("///"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_default_redaction_changes_nothing_in_real_captures_and_the_project_docs() {
    let r = llm_trace_core::redactor("{}").unwrap();
    let mut found = Vec::new();
    let mut seen = vec![false; TRUE_POSITIVES.len()];
    let mut docs = Vec::new();
    project_files(&root(), &mut docs);
    docs.sort();
    let mut bytes = 0;
    for doc in &docs {
        let text = std::fs::read_to_string(doc).unwrap();
        let text = if doc.extension().is_some_and(|e| e == "rs") {
            doc_comments(&text)
        } else {
            text
        };
        bytes += text.len();
        check(&doc.display().to_string(), &text, &r, &mut found, &mut seen);
    }
    assert!(
        docs.iter().any(|d| d.ends_with("README.md")) && docs.len() >= 50,
        "README, the docs pages and the crates' sources"
    );
    let Some(dir) = captures_dir() else {
        eprintln!("SKIPPED captures: no corpus at ../shared/captures (set LLM_TRACE_CAPTURES)");
        assert!(
            found.is_empty(),
            "{} false findings:\n{}",
            found.len(),
            found.join("\n")
        );
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut strings = 0;
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for s in capture_strings(file) {
            strings += 1;
            bytes += s.len();
            check(&name, &s, &r, &mut found, &mut seen);
        }
    }
    eprintln!(
        "{} captures, {strings} strings and {} docs: {bytes} bytes scanned",
        files.len(),
        docs.len()
    );
    assert!(files.len() >= 100 && strings >= 10_000, "the corpus is there");
    found.sort();
    found.dedup();
    assert!(
        found.is_empty(),
        "{} false findings:\n{}",
        found.len(),
        found.join("\n")
    );
    // The list stays honest: every true positive named is still found.
    for ((value, _, _), seen) in TRUE_POSITIVES.iter().zip(&seen) {
        assert!(seen, "{value} is listed as a true positive but no longer found");
    }
}
