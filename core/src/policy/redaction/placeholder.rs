//! Values that are placeholders, not credentials (`${API_KEY}`, `<your-key>`, `****`, `null`): skipped by every rule
//! that masks a value named by a key or a header.

use super::words::WordSet;

/// Whether `v` is a placeholder, not a credential: empty, a type or filler word, one repeated character, a
/// variable or template (`$VAR`, `${{ x }}`, `%s`, `{0}`), wrapped in `<>`, `[]` or `()`, an instruction
/// (`your-key-here`), or a reference (`process.env.X`, `settings.X`).
pub(super) fn is_placeholder(v: &[u8]) -> bool {
    let s = v.trim_ascii();
    if s.is_empty() {
        return true;
    }
    let mut low = [0u8; 24];
    if s.len() <= low.len() {
        for (d, b) in low.iter_mut().zip(s) {
            *d = b.to_ascii_lowercase();
        }
        if is_filler_word(&low[..s.len()]) {
            return true;
        }
    }
    // One repeated character, or at most one distinct letter or digit (`****`, `xxxx`, `:****`).
    let first = s[0].to_ascii_lowercase();
    if s.iter().all(|b| b.to_ascii_lowercase() == first) {
        return true;
    }
    let mut core = s
        .iter()
        .map(|b| b.to_ascii_lowercase())
        .filter(u8::is_ascii_alphanumeric);
    match core.next() {
        None => return true,
        Some(c) if core.all(|d| d == c) => return true,
        _ => {}
    }
    is_template(s) || is_wrapped(s) || is_instruction(s) || is_reference(s) || is_elided(s)
}

/// A short head cut with an ellipsis (`sk-...`, `ghp_…`): an example in documentation. A longer head that is a key
/// is still found by its vendor shape.
fn is_elided(s: &[u8]) -> bool {
    let head = s.strip_suffix(b"...").or_else(|| s.strip_suffix("…".as_bytes()));
    head.is_some_and(|h| h.len() <= 8)
}

fn is_filler_word(w: &[u8]) -> bool {
    static FILLER_WORDS: WordSet = WordSet::new(&[
        b"true",
        b"false",
        b"null",
        b"none",
        b"nil",
        b"undefined",
        b"yes",
        b"no",
        b"on",
        b"off",
        b"required",
        b"optional",
        b"string",
        b"str",
        b"int",
        b"bool",
        b"boolean",
        b"number",
        b"object",
        b"secret",
        b"password",
        b"token",
        b"redacted",
        b"hidden",
        b"masked",
        b"example",
        b"sample",
        b"dummy",
        b"fake",
        b"test",
        b"placeholder",
        b"empty",
        b"default",
        b"env",
        b"auto",
        b"any",
        b"bytes",
        b"text",
        b"value",
    ]);
    FILLER_WORDS.contains(w)
}

fn ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

/// `$VAR`, `${VAR}`, `${{VAR}}`, `{{ … }}`, `${{ … }}`, `%VAR%`, `%s`, `%-d`, `%(name)s`, `{}`, `{0}`, `@VAR@`.
fn is_template(s: &[u8]) -> bool {
    if let Some(rest) = s.strip_prefix(b"$") {
        let inner = rest.strip_prefix(b"{").unwrap_or(rest);
        let inner = inner.strip_prefix(b"{").unwrap_or(inner);
        let inner = inner.strip_suffix(b"}").unwrap_or(inner);
        let inner = inner.strip_suffix(b"}").unwrap_or(inner);
        if inner.first().is_some_and(|b| ident_start(*b))
            && inner.iter().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(b))
        {
            return true;
        }
        if rest.starts_with(b"{{") && s.ends_with(b"}}") {
            return true;
        }
    }
    if s.len() >= 4 && s.starts_with(b"{{") && s.ends_with(b"}}") {
        return true;
    }
    if s.len() >= 3 && s[0] == b'%' && s[s.len() - 1] == b'%' {
        let inner = &s[1..s.len() - 1];
        if inner.iter().all(|b| b.is_ascii_alphabetic() || *b == b'_') {
            return true;
        }
    }
    if s[0] == b'%' {
        match &s[1..] {
            [c] if c.is_ascii_alphabetic() => return true,
            [f, c] if b"-+# 0".contains(f) && c.is_ascii_alphabetic() => return true,
            _ => {}
        }
        if let Some(inner) = s[1..].strip_prefix(b"(").and_then(|r| r.strip_suffix(b")s")) {
            if !inner.is_empty() && inner.iter().all(|b| b.is_ascii_lowercase() || *b == b'_') {
                return true;
            }
        }
    }
    if s[0] == b'{' && s[s.len() - 1] == b'}' && s.len() <= 4 && s[1..s.len() - 1].iter().all(u8::is_ascii_digit) {
        return true;
    }
    s.len() >= 3
        && s[0] == b'@'
        && s[s.len() - 1] == b'@'
        && s[1..s.len() - 1].iter().all(|b| b.is_ascii_alphabetic() || *b == b'_')
}

/// `<…>`, `[…]` (our own `[PASSWORD]` included), `()`, `…`, `...`.
fn is_wrapped(s: &[u8]) -> bool {
    let inner_free = |inner: &[u8], a: u8, b: u8| !inner.contains(&a) && !inner.contains(&b);
    match (s.first(), s.last()) {
        (Some(b'<'), Some(b'>')) if s.len() >= 2 => inner_free(&s[1..s.len() - 1], b'<', b'>'),
        (Some(b'['), Some(b']')) if s.len() >= 2 => inner_free(&s[1..s.len() - 1], b'[', b']'),
        (Some(b'('), Some(b')')) if s.len() >= 2 => s[1..s.len() - 1].iter().all(u8::is_ascii_whitespace),
        _ => s == "…".as_bytes() || s == b"...",
    }
}

/// `your-…`, `my_…`, `replace …`, `…_here`.
fn is_instruction(s: &[u8]) -> bool {
    static OPENERS: WordSet = WordSet::new(&[
        b"your",
        b"my",
        b"the",
        b"some",
        b"example",
        b"sample",
        b"dummy",
        b"fake",
        b"placeholder",
        b"replace",
        b"insert",
        b"enter",
        b"put",
        b"xxx",
    ]);
    if let Some(k) = s.iter().take(12).position(|b| matches!(b, b'-' | b'_' | b' ')) {
        let mut first = [0u8; 12];
        for (d, b) in first.iter_mut().zip(&s[..k]) {
            *d = b.to_ascii_lowercase();
        }
        if k > 0 && OPENERS.contains(&first[..k]) {
            return true;
        }
    }
    s.len() >= 5 && {
        let tail = &s[s.len() - 5..];
        tail.eq_ignore_ascii_case(b"_here")
            || tail.eq_ignore_ascii_case(b"-here")
            || tail.eq_ignore_ascii_case(b" here")
    }
}

/// `process.env.X`, `os.environ[…]`, `os.getenv(…)`, `env(…)`, `ENV[…]`, `secrets.X`, `vars.X`, `settings.X`,
/// `config.X`, `self.X`, `this.X`.
fn is_reference(s: &[u8]) -> bool {
    static HEADS: WordSet = WordSet::new(&[
        b"process.env",
        b"os.environ",
        b"os.getenv",
        b"env",
        b"ENV",
        b"secrets",
        b"vars",
        b"settings",
        b"config",
        b"self",
        b"this",
    ]);
    // The head ends at the first `[` or `(`, or at a `.` (the last one, for `process.env.`/`os.environ`).
    s.iter()
        .take(12)
        .enumerate()
        .any(|(k, b)| matches!(b, b'.' | b'[' | b'(') && HEADS.contains(&s[..k]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_not_credentials() {
        for v in [
            "",
            "null",
            "****",
            "xxxx",
            "${API_KEY}",
            "$PASSWORD",
            "{{ secret }}",
            "%s",
            "%(pw)s",
            "{0}",
            "<your-key>",
            "[REDACTED]",
            "your_api_key_here",
            "process.env.KEY",
            "settings.DB_PASSWORD",
            "...",
            "sk-...",
            "ghp_…",
        ] {
            assert!(is_placeholder(v.as_bytes()), "{v}");
        }
        for v in ["hunter2", "S3cr3t!", "AbCdEf0123456789", "AbCdEf0123456789..."] {
            assert!(!is_placeholder(v.as_bytes()), "{v}");
        }
    }
}
