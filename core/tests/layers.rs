//! The core's shape, checked on its source: layers import downward only, and no two files import each other in a
//! loop. Layers, bottom up: `wire`, `model` and `config_error` (leaves) ← `provider`, `policy` ← `telemetry` ←
//! `quality` (feedback, the judge, evaluations) ← `exchange`, `tracer`, `config`, `host_api` (the top). `provider` and `policy` are siblings: neither imports the
//! other. A module's `mod.rs` naming its own children (declaring or re-exporting them) is structure, not an import;
//! unit tests may use anything.

// A test: a broken assumption about the tree should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top layer's files may use each other (the file-level loop check still applies).
const TOP: u8 = 4;

fn rank(top: &str) -> Option<u8> {
    Some(match top {
        "wire" | "model" | "config_error" => 0,
        "provider" | "policy" => 1,
        "telemetry" => 2,
        "quality" => 3,
        "exchange" | "tracer" | "config" | "host_api" | "test_support" => TOP,
        "lib" => TOP + 1,
        _ => return None,
    })
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file: `provider/mod.rs` → `["provider"]`, `provider/api.rs` → `["provider", "api"]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] {
        parts.clear();
    }
    parts
}

/// Code without comments and string literals, so a path in a doc comment or a message is not an import.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'r' && b.get(i + 1) == Some(&b'#') && b.get(i + 2) == Some(&b'"') {
            let end = text[i + 3..].find("\"#").map_or(b.len(), |e| i + 3 + e + 2);
            i = end;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            // A char literal such as '"'.
            i += 3;
            out.push_str("' '");
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// Every module path the code refers to through `crate::` or `super::`, with `use` groups expanded.
fn references(code: &str) -> Vec<Vec<String>> {
    fn expand(prefix: &[String], group: &str, out: &mut Vec<Vec<String>>) {
        let mut depth = 0;
        let mut start = 0;
        let bytes = group.as_bytes();
        let mut items = Vec::new();
        for (i, &c) in bytes.iter().enumerate() {
            match c {
                b'{' => depth += 1,
                b'}' => depth -= 1,
                b',' if depth == 0 => {
                    items.push(&group[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(&group[start..]);
        for item in items {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            if let Some(open) = item.find('{') {
                let head: Vec<String> = item[..open]
                    .split("::")
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect();
                let inner = &item[open + 1..item.rfind('}').unwrap_or(item.len())];
                let mut p = prefix.to_vec();
                p.extend(head);
                expand(&p, inner, out);
            } else {
                let mut p = prefix.to_vec();
                let path = item.split(" as ").next().unwrap_or(item);
                p.extend(path.split("::").map(|s| s.trim().to_string()).filter(|s| !s.is_empty()));
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    for anchor in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(anchor).map(|i| i + from) {
            from = at + anchor.len();
            let preceded_by_word = at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
            if preceded_by_word {
                continue;
            }
            // The path runs over identifiers, `::`, and one `{...}` group.
            let mut end = at;
            let mut depth = 0;
            while end < bytes.len() {
                let c = bytes[end];
                if c == b'{' {
                    depth += 1;
                } else if c == b'}' {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                    if depth == 0 {
                        end += 1;
                        break;
                    }
                } else if depth == 0 && !(c.is_ascii_alphanumeric() || c == b'_' || c == b':') {
                    break;
                }
                end += 1;
            }
            let path = &code[at..end];
            let root = if anchor == "crate::" { "crate" } else { "super" };
            let rest = &path[anchor.len()..];
            // `super::super::x`: keep every `super` segment.
            let mut prefix = vec![root.to_string()];
            let mut rest = rest;
            while let Some(r) = rest.strip_prefix("super::") {
                prefix.push("super".to_string());
                rest = r;
            }
            expand(&prefix, rest, &mut out);
        }
    }
    out
}

/// The file a reference from module `from` lands in: the longest prefix of its path that is a module.
fn resolve(from: &[String], reference: &[String], modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    let mut path: Vec<String> = Vec::new();
    let mut segments = reference.iter().peekable();
    match segments.peek().map(|s| s.as_str()) {
        Some("crate") => {
            segments.next();
        }
        Some("super") => {
            path = from.to_vec();
            while segments.peek().map(|s| s.as_str()) == Some("super") {
                segments.next();
                path.pop();
            }
        }
        _ => return None,
    }
    let mut found = path.clone();
    for s in segments {
        path.push(s.clone());
        if modules.contains(&path) {
            found = path.clone();
        } else {
            break;
        }
    }
    Some(found)
}

#[test]
fn layers_import_downward_and_no_files_import_each_other_in_a_loop() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    let mut violations = Vec::new();
    for file in &files {
        let from = module_of(&src, file);
        if from == ["test_support"] {
            continue; // scaffolding of the unit tests, which sit above every layer
        }
        let text = std::fs::read_to_string(file).unwrap();
        // Unit tests (a `mod tests` at the end of a file) may use anything.
        let text = text.split("#[cfg(test)]\nmod tests {").next().unwrap_or_default();
        let code = code_only(text);
        let is_index = file.file_name().is_some_and(|n| n == "mod.rs" || n == "lib.rs");
        for reference in references(&code) {
            let Some(to) = resolve(&from, &reference, &modules) else {
                continue;
            };
            if to == from || to.is_empty() || (is_index && to.starts_with(&from)) {
                continue;
            }
            let top = |m: &[String]| m.first().cloned().unwrap_or_else(|| "lib".to_string());
            let (from_top, to_top) = (top(&from), top(&to));
            if from_top != to_top {
                let (Some(a), Some(b)) = (rank(&from_top), rank(&to_top)) else {
                    violations.push(format!("{} uses {}: an unknown layer", from.join("::"), to.join("::")));
                    continue;
                };
                if b >= a && !(a == TOP && b == TOP) {
                    violations.push(format!(
                        "{} (layer {from_top}) uses {} (layer {to_top}): layers import downward only",
                        from.join("::"),
                        to.join("::")
                    ));
                }
            }
            edges.entry(from.clone()).or_default().insert(to);
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    // No loops: depth-first search for a back edge.
    fn visit(
        node: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        state.insert(node.clone(), 1);
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next) {
                Some(1) => {
                    let at = stack.iter().position(|n| n == next).unwrap_or(0);
                    let mut cycle = stack[at..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(next, edges, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(node.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in modules.iter() {
        if !state.contains_key(node) {
            if let Some(cycle) = visit(node, &edges, &mut state, &mut Vec::new()) {
                let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
                panic!("files import each other in a loop: {}", names.join(" -> "));
            }
        }
    }
    // The checker itself sees imports: the tracer uses the exchange, the exchange the wire layer.
    assert!(edges[&vec!["tracer".to_string()]].contains(&vec!["exchange".to_string()]));
    assert!(edges[&vec!["exchange".to_string()]].contains(&vec!["wire".to_string(), "framing".to_string()]));
}
