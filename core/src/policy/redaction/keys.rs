//! Values named by a key: `password`/`secret` assignments in pasted configs and code, vendor credentials whose
//! values have no prefix of their own (`DD_API_KEY=<32 hex>`), `Authorization` and API-key headers, Azure SAS and
//! signed-URL signatures. All are triggered by a separator (`=`, `:`, `:=`, `=>`, `?=`); the key before it is read
//! backwards, and a cheap test on its last three letters discards almost every key (`role`, `content`, `model`)
//! before any word list is consulted. Only the value is masked: the key, the separator and the quotes stay.
//! Also here, from `:`: passwords in URL userinfo (`postgresql://user:pw@host`), IPv6 and Telegram triggers.

use super::charset::{
    is, run_len, run_len_back, ByteSet, Charset, ALNUM, B64, B64URL, B64_PAD, BACKSLASH, BLANK, DIGIT, HEX, KEY,
    LOWER_BASE32, LOWER_HEX,
};
use super::names::*;
use super::placeholder::is_placeholder;
use super::scanner::Scanner;
use super::search::find_ignore_case;
use super::shape::{match_segs, Seg, Seg::*};
use super::words::WordSet;
use super::{infix, ipv6};

/// A `:`: URL userinfo (`://`), Telegram bot tokens, IPv6, then headers and assignments (`:` or `:=`).
pub(super) fn colon(s: &mut Scanner<'_>, i: usize) {
    let t = s.t;
    let prev = i.checked_sub(1).map(|p| t[p]);
    let next = t.get(i + 1).copied();
    if next == Some(b'/') {
        if t.get(i + 2) == Some(&b'/') {
            url_userinfo(s, i);
        }
        return;
    }
    if prev.is_some_and(|b| b.is_ascii_digit()) {
        infix::telegram(s, i);
    }
    if prev.is_some_and(|b| is(b, HEX)) || next == Some(b':') {
        ipv6::check(s, i);
    }
    if next == Some(b':') || prev == Some(b':') {
        return;
    }
    if next == Some(b'=') {
        assignment(s, i, i + 2, Sep::ColonEquals);
    } else {
        assignment(s, i, i + 1, Sep::Colon);
    }
}

/// An `=`: assignments (`=`, `=>`, `?=`); `==`, `!=`, `<=`, `>=`, `~=` are comparisons.
pub(super) fn equals(s: &mut Scanner<'_>, i: usize) {
    let t = s.t;
    let prev = i.checked_sub(1).map(|p| t[p]);
    match (prev, t.get(i + 1)) {
        (_, Some(b'=')) | (Some(b'=' | b'!' | b'<' | b'>' | b'~' | b':'), _) => {}
        (Some(b'?'), _) => assignment(s, i - 1, i + 1, Sep::Equals),
        (_, Some(b'>')) => assignment(s, i, i + 2, Sep::Arrow),
        _ => assignment(s, i, i + 1, Sep::Equals),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    Colon,
    ColonEquals,
    Equals,
    Arrow,
}

/// A key read backwards from a separator.
struct Key {
    /// Where the key's bytes start (a leading `--` included).
    start: usize,
    end: usize,
    /// ASCII-lowercased key, without a leading `--`.
    lower: [u8; 64],
    /// The same bytes as written (for camelCase humps).
    raw: [u8; 64],
    len: usize,
    /// No blank between the key and the separator.
    tight: bool,
}

impl Key {
    fn lower(&self) -> &[u8] {
        &self.lower[..self.len]
    }
}

/// Reads the key before the separator at `sep`: up to 4 blanks, an optional closing quote (`"`, `'`, `\"`, `\'`),
/// then the maximal run of `A-Z a-z 0-9 _ . -` (at most 64 bytes, starting with a letter or `_` after an optional
/// `--`).
fn read_key(t: &[u8], sep: usize) -> Option<Key> {
    let blanks = run_len_back(t, sep, BLANK, 4);
    let mut k = sep - blanks;
    if k > 0 && matches!(t[k - 1], b'"' | b'\'') {
        k -= 1;
        // `\"` and deeper escapes: JSON inside a JSON string, inside another.
        k -= run_len_back(t, k, BACKSLASH, 8);
    }
    // Most keys end in nothing a credential key ends in: decide on the last three bytes before reading the key.
    if k < 3 || !credential_ending(&t[k - 3..k]) {
        return None;
    }
    let n = run_len_back(t, k, KEY, 65);
    if !(3..=64).contains(&n) {
        return None;
    }
    let start = k - n;
    let raw = &t[start..k];
    let bare = raw.strip_prefix(b"--").unwrap_or(raw);
    if !bare.first().is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_') {
        return None;
    }
    let mut lower = [0u8; 64];
    let mut raw_case = [0u8; 64];
    for ((d, r), b) in lower.iter_mut().zip(raw_case.iter_mut()).zip(bare) {
        *d = b.to_ascii_lowercase();
        *r = *b;
    }
    Some(Key {
        start,
        end: k,
        lower,
        raw: raw_case,
        len: bare.len(),
        tight: blanks == 0,
    })
}

/// Whether a key ending this way can name a credential (the last three bytes, ASCII case ignored): one
/// [`classify_key`] may name, or one a vendor's keyword or a signed-URL parameter ends in (`…_pat`, `…_id`, `…sig`,
/// `…expiration`).
fn credential_ending(key: &[u8]) -> bool {
    let Some(last) = key.len().checked_sub(3).map(|i| &key[i..]) else {
        return false;
    };
    let l = [
        last[0].to_ascii_lowercase(),
        last[1].to_ascii_lowercase(),
        last[2].to_ascii_lowercase(),
    ];
    generic_ending(&l) || matches!(&l, b"pat" | b"_id" | b"-id" | b"sig" | b"ion")
}

/// Whether a key ending this way (lower case) can be one [`classify_key`] names. Checked first, so a key only a
/// vendor's keyword or a signed-URL parameter ends in costs no split into segments.
fn generic_ending(lower: &[u8]) -> bool {
    matches!(
        lower.len().checked_sub(3).map(|i| &lower[i..]),
        Some(
            b"ord"
                | b"swd"
                | b"pwd"
                | b"ase"
                | b"ode"
                | b"ass"
                | b"ret"
                | b"ken"
                | b"key"
                | b"ial"
                | b"als"
                | b"uth"
                | b"yid"
                | b"ing"
                | b"ure"
        )
    )
}

fn assignment(s: &mut Scanner<'_>, sep: usize, value_from: usize, kind: Sep) {
    let t = s.t;
    let Some(key) = read_key(t, sep) else {
        return;
    };
    // `==`, `::` and `://` are not separators.
    if matches!(t.get(value_from), Some(b'=' | b':' | b'/')) {
        return;
    }
    let lower = key.lower();
    let after_query = key.start > 0 && matches!(t[key.start - 1], b'?' | b'&');
    if kind == Sep::Colon {
        header(s, &key, value_from);
    }
    // `sig`, `…signature`, `x-amz-security-token`, `x-goog-credential`.
    if kind == Sep::Equals && (lower.ends_with(b"sig") || lower.ends_with(b"ure") || lower.starts_with(b"x-")) {
        signed_url(s, &key, value_from, after_query);
    }
    let vendor_end = keyword_vendor(s, lower, value_from);
    // Signed-URL parameters are the signed-URL rules' (the `AKIA…` in `X-Amz-Credential` is its own finding).
    if lower.starts_with(b"x-amz-") || lower.starts_with(b"x-goog-") {
        return;
    }
    let Some(class) = classify_key(lower, &key.raw[..key.len]) else {
        return;
    };
    let det = match class {
        Class::Password => PASSWORD,
        Class::Secret => SECRET,
    };
    if !s.wants(u16::from(det)) {
        return;
    }
    let Some(v) = read_value(t, value_from, after_query) else {
        return;
    };
    // A sentence's full stop right after a vendor's value (`… set DD_API_KEY=<32 hex>.`) is punctuation, not part
    // of the value: the vendor's finding stands, under its own label (the generic one would win by a byte).
    if vendor_end.is_some_and(|e| v.end == e + 1 && t[e] == b'.') {
        return;
    }
    let value = &t[v.start..v.end];
    if is_placeholder(value) {
        return;
    }
    let env = kind == Sep::Equals
        && key.tight
        && v.tight
        && t[key.start..key.end]
            .iter()
            .enumerate()
            .all(|(i, b)| b.is_ascii_uppercase() || (i > 0 && (b.is_ascii_digit() || *b == b'_')));
    let after = t.get(v.end).copied();
    if value_ok(class, value, v.quoted, env, after, lower) {
        s.push(v.start, v.end, det);
    }
}

/// What ends an unquoted value: a blank or `, ; ( ) [ ] { } < > " ' `` ` `` \`, and `&` in a URL query.
const VALUE_END: ByteSet = ByteSet::of(b",;()[]{}<>\"'`\\", true);
const VALUE_END_IN_QUERY: ByteSet = ByteSet::of(b",;()[]{}<>\"'`\\&", true);
/// What ends a header's value (a backtick closes inline code around the header).
const HEADER_VALUE_END: ByteSet = ByteSet::of(b"\"'\\,;`", true);
/// What ends one value of a comma-separated list.
const LIST_VALUE_END: ByteSet = ByteSet::of(b",\"\\", true);
/// What ends a connection string's value.
const CONNECTION_VALUE_END: ByteSet = ByteSet::of(b";\"'", true);

/// A value after a separator: its span, whether it was quoted, and whether no blank came before it.
struct Value {
    start: usize,
    end: usize,
    quoted: bool,
    tight: bool,
}

/// After up to 4 blanks, a quoted value (`"`, `'`, `` ` ``, `\"`, `\'`: to the matching close, on one line, at most
/// 512 bytes) or an unquoted one (up to a blank or one of `, ; ( ) [ ] { } < > " ' `` ` `` \`, and `&` in a URL
/// query; at most 512 bytes).
fn read_value(t: &[u8], from: usize, in_query: bool) -> Option<Value> {
    let blanks = run_len(t, from, BLANK, 4);
    let mut v = from + blanks;
    // An opening quote, escaped `level` times (`\"`: JSON inside a JSON string).
    let level = run_len(t, v, BACKSLASH, 8);
    let quote = match t.get(v + level) {
        Some(q @ (b'"' | b'\'')) => Some(*q),
        Some(b'`') if level == 0 => Some(b'`'),
        _ => None,
    };
    if let Some(q) = quote {
        v += level + 1;
        let mut e = v;
        loop {
            let b = *t.get(e)?;
            if e - v > 512 || b == b'\n' {
                return None;
            }
            if b == q {
                let before = run_len_back(t, e, BACKSLASH, 16);
                let closes = if level == 0 { before % 2 == 0 } else { before == level };
                if closes && e - before >= v {
                    return Some(Value {
                        start: v,
                        end: e - before,
                        quoted: true,
                        tight: blanks == 0,
                    });
                }
            }
            e += 1;
        }
    }
    let ends = if in_query { &VALUE_END_IN_QUERY } else { &VALUE_END };
    let stop = |b: u8| ends.has(b);
    let n = t[v..].iter().take(513).take_while(|b| !stop(**b)).count();
    if n == 0 || n > 512 {
        return None;
    }
    let value = &t[v..v + n];
    // An identifier path (`settings.API_KEY`) or a call is a reference, not a literal.
    if is_identifier_path(value) || matches!(t.get(v + n), Some(b'(' | b'[')) {
        return None;
    }
    Some(Value {
        start: v,
        end: v + n,
        quoted: false,
        tight: blanks == 0,
    })
}

fn is_identifier_path(v: &[u8]) -> bool {
    let mut parts = 0;
    for part in v.split(|b| *b == b'.') {
        let ok = part.first().is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
            && part.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
        if !ok {
            return false;
        }
        parts += 1;
    }
    parts >= 2
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Password,
    Secret,
}

/// Segments of a key: split on `_ - .` and blanks and camelCase humps (`dbPassword` → `db`, `password`),
/// lower-cased. `raw` is the key as written; returns the segments as ranges of `lower`.
fn segments(lower: &[u8], raw_case: &[u8], out: &mut [(u8, u8); 32]) -> usize {
    let mut n = 0;
    let mut start: Option<usize> = None;
    for i in 0..lower.len() {
        let b = lower[i];
        let split = matches!(b, b'_' | b'-' | b'.' | b' ' | b'\t');
        let hump = i > 0
            && raw_case[i].is_ascii_uppercase()
            && (raw_case[i - 1].is_ascii_lowercase() || raw_case[i - 1].is_ascii_digit());
        if split || hump {
            if let Some(s) = start.take() {
                if n < out.len() {
                    out[n] = (s as u8, i as u8);
                    n += 1;
                }
            }
        }
        if !split && start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        if n < out.len() {
            out[n] = (s as u8, lower.len() as u8);
            n += 1;
        }
    }
    n
}

/// Whether the key (lower-cased, and as written) names a password or another secret: the last segment, or the last
/// two or three joined, names a credential, and the segment before it is not a counting or LLM-vocabulary word.
fn classify_key(lower: &[u8], raw_case: &[u8]) -> Option<Class> {
    if !generic_ending(lower) {
        return None;
    }
    let mut ranges = [(0u8, 0u8); 32];
    let n = segments(lower, raw_case, &mut ranges);
    if n == 0 || lower.len() > 64 {
        return None;
    }
    let seg = |k: usize| &lower[usize::from(ranges[k].0)..usize::from(ranges[k].1)];
    let last = seg(n - 1);
    let prev: &[u8] = if n >= 2 { seg(n - 2) } else { b"" };
    let mut last2 = [0u8; 64];
    let l2 = join(&[prev, last], &mut last2);
    let last2 = &last2[..l2];
    let mut last3 = [0u8; 64];
    let l3 = if n >= 3 {
        join(&[seg(n - 3), prev, last], &mut last3)
    } else {
        join(&[prev, last], &mut last3)
    };
    let last3 = &last3[..l3];
    if is_not_suffix(last) {
        return None;
    }
    for (suffix, class) in CREDENTIAL_SUFFIXES {
        if last.len() > suffix.len() && last.ends_with(suffix) {
            let rest = &last[..last.len() - suffix.len()];
            if is_not_prefix(rest) || (class == Class::Secret && is_not_prefix(prev)) {
                return None;
            }
            return Some(class);
        }
    }
    if is_password_word(last) && !(last == b"pass" && n == 1) {
        return Some(Class::Password);
    }
    if n >= 2 && is_password_word(last2) {
        return Some(Class::Password);
    }
    if is_not_prefix(prev) {
        return None;
    }
    for candidate in [last3, last2, last] {
        if is_secret_word(candidate) {
            if candidate == b"auth" && n > 1 {
                return None;
            }
            return Some(Class::Secret);
        }
    }
    if last == b"key" && is_key_prefix(prev) {
        return Some(Class::Secret);
    }
    None
}

fn join(parts: &[&[u8]], out: &mut [u8; 64]) -> usize {
    let mut n = 0;
    for p in parts {
        for b in *p {
            if n < out.len() {
                out[n] = *b;
                n += 1;
            }
        }
    }
    n
}

/// A last segment ending in one of these names a credential (`dbpassword`, `githubtoken`).
const CREDENTIAL_SUFFIXES: [(&[u8], Class); 9] = [
    (b"password", Class::Password),
    (b"passwd", Class::Password),
    (b"passphrase", Class::Password),
    (b"secret", Class::Secret),
    (b"token", Class::Secret),
    (b"apikey", Class::Secret),
    (b"accesskey", Class::Secret),
    (b"secretkey", Class::Secret),
    (b"privatekey", Class::Secret),
];

const PASSWORD_WORDS: [&[u8]; 6] = [b"password", b"passwd", b"pwd", b"passphrase", b"passcode", b"pass"];

fn is_password_word(w: &[u8]) -> bool {
    PASSWORD_WORDS.contains(&w)
}

/// Key segments, alone or joined (`client_secret` → `clientsecret`), that name a secret.
static SECRET_WORDS: WordSet = WordSet::new(&[
    b"secret",
    b"token",
    b"apikey",
    b"credential",
    b"credentials",
    b"auth",
    b"authtoken",
    b"accesskey",
    b"privatekey",
    b"secretkey",
    b"signingkey",
    b"encryptionkey",
    b"masterkey",
    b"accountkey",
    b"subscriptionkey",
    b"clientkey",
    b"appkey",
    b"authkey",
    b"servicekey",
    b"sessionkey",
    b"hmackey",
    b"jwtkey",
    b"webhooksecret",
    b"clientsecret",
    b"appsecret",
    b"apisecret",
    b"sharedsecret",
    b"consumersecret",
    b"sessionsecret",
    b"jwtsecret",
    b"secretaccesskey",
    b"accesstoken",
    b"refreshtoken",
    b"idtoken",
    b"apitoken",
    b"bearertoken",
    b"sessiontoken",
    b"securitytoken",
    b"privatetoken",
    b"personalaccesstoken",
    b"oauthtoken",
    b"bottoken",
    b"privatekeyid",
    b"connectionstring",
    b"sharedaccesskey",
    b"sharedaccesssignature",
    b"sastoken",
]);

fn is_secret_word(w: &[u8]) -> bool {
    SECRET_WORDS.contains(w)
}

fn is_key_prefix(w: &[u8]) -> bool {
    static KEY_PREFIXES: WordSet = WordSet::new(&[
        b"api",
        b"access",
        b"secret",
        b"private",
        b"signing",
        b"encryption",
        b"master",
        b"account",
        b"storage",
        b"subscription",
        b"client",
        b"app",
        b"auth",
        b"service",
        b"license",
        b"consumer",
        b"webhook",
        b"shared",
        b"admin",
        b"deploy",
        b"root",
        b"session",
        b"jwt",
        b"hmac",
        b"x",
    ]);
    KEY_PREFIXES.contains(w)
}

/// Segments before `token`/`key` that make the key something else (`max_tokens`, `next_page_token`, `primary_key`).
fn is_not_prefix(w: &[u8]) -> bool {
    static NOT_PREFIXES: WordSet = WordSet::new(&[
        b"max",
        b"min",
        b"num",
        b"total",
        b"count",
        b"input",
        b"output",
        b"prompt",
        b"completion",
        b"cached",
        b"cache",
        b"reasoning",
        b"page",
        b"next",
        b"prev",
        b"previous",
        b"continuation",
        b"cursor",
        b"sync",
        b"stop",
        b"eos",
        b"bos",
        b"pad",
        b"unk",
        b"sep",
        b"cls",
        b"mask",
        b"special",
        b"start",
        b"end",
        b"new",
        b"tokenizer",
        b"primary",
        b"foreign",
        b"sort",
        b"partition",
        b"public",
        b"idempotency",
        b"object",
        b"row",
        b"hash",
        b"range",
        b"dedup",
        b"dedupe",
        b"cancellation",
        b"cancel",
        b"resume",
        b"upload",
        b"image",
        b"audio",
        b"text",
        b"thinking",
        b"vocab",
        b"last",
        b"first",
        b"request",
        b"response",
        b"trace",
        b"span",
        b"message",
        b"tool",
        b"type",
        b"kind",
        b"id",
        b"estimated",
        b"used",
        b"remaining",
        b"rate",
        b"limit",
        b"budget",
        b"by",
        b"per",
        b"billed",
        b"batch",
        b"prefill",
        b"system",
        b"accepted",
        b"rejected",
        b"predicted",
        b"csrf",
    ]);
    NOT_PREFIXES.contains(w)
}

/// Last segments that make the key a property of a credential, not one (`token_type`, `api_key_id`, `secret_name`).
fn is_not_suffix(w: &[u8]) -> bool {
    static NOT_SUFFIXES: WordSet = WordSet::new(&[
        b"type",
        b"types",
        b"count",
        b"counts",
        b"id",
        b"ids",
        b"name",
        b"names",
        b"length",
        b"len",
        b"limit",
        b"usage",
        b"url",
        b"uri",
        b"endpoint",
        b"path",
        b"file",
        b"env",
        b"field",
        b"header",
        b"prefix",
        b"suffix",
        b"format",
        b"policy",
        b"expiry",
        b"expires",
        b"expiration",
        b"ttl",
        b"hint",
        b"required",
        b"enabled",
        b"set",
        b"rotation",
        b"version",
        b"details",
        b"logprobs",
        b"index",
        b"ref",
        b"source",
        b"provider",
        b"manager",
        b"store",
        b"vault",
        b"scope",
        b"scopes",
        b"audience",
        b"issuer",
        b"mode",
        b"label",
        b"location",
        b"region",
    ]);
    NOT_SUFFIXES.contains(w)
}

/// Whether a literal value is credential-like for its key kind (the value rules of §1.5.4).
fn value_ok(class: Class, v: &[u8], quoted: bool, env: bool, after: Option<u8>, key: &[u8]) -> bool {
    // One pass over the value for every figure the rules below need.
    let (mut low, mut up, mut dig, mut sym) = (false, false, false, false);
    let (mut chars, mut blank, mut operator) = (0usize, false, false);
    let mut prev = 0u8;
    for &b in v {
        match b {
            b'a'..=b'z' | 0x80..=0xff => low = true,
            b'A'..=b'Z' => up = true,
            b'0'..=b'9' => dig = true,
            _ => sym = true,
        }
        chars += usize::from(b & 0xC0 != 0x80);
        blank |= b.is_ascii_whitespace();
        // `::` and `->`: a path or a member access, code rather than a literal.
        operator |= (prev == b':' && b == b':') || (prev == b'-' && b == b'>');
        prev = b;
    }
    if quoted {
        if class == Class::Password {
            return (3..=256).contains(&chars);
        }
        if chars < 8 || blank {
            return false;
        }
        if is_plain_word(v) || is_constant_name(v) {
            return false;
        }
        if matches!(key, b"token" | b"key" | b"secret") && chars < 16 {
            return false;
        }
        return dig || sym || chars >= 24;
    }
    if operator || b"_*&$@%!|>".contains(&v[0]) || after.is_some_and(|b| b"([<.!{".contains(&b)) {
        return false;
    }
    if env {
        return chars >= if class == Class::Password { 3 } else { 8 };
    }
    if (is_variable_name(v) && !is_word_then_digits(v)) || copies_key(v, key) {
        return false;
    }
    if v.iter().all(u8::is_ascii_alphabetic) {
        return false;
    }
    let kinds = u8::from(low) + u8::from(up) + u8::from(dig) + u8::from(sym);
    let min = if class == Class::Password { 6 } else { 12 };
    chars >= min && kinds >= 2 && (dig || sym) && !is_hex_literal(v)
}

/// Whether `needle` occurs in `v` (a first-byte test, then an inline comparison: no call per position).
fn contains(v: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    v.len() >= needle.len()
        && (0..=v.len() - needle.len())
            .any(|i| v[i] == first && v[i..i + needle.len()].iter().zip(needle).all(|(a, b)| a == b))
}

/// `[A-Z]?[a-z]+`.
fn is_plain_word(v: &[u8]) -> bool {
    let body = if v.first().is_some_and(u8::is_ascii_uppercase) {
        &v[1..]
    } else {
        v
    };
    !body.is_empty() && body.iter().all(u8::is_ascii_lowercase)
}

/// `[A-Z][A-Z_]*`.
fn is_constant_name(v: &[u8]) -> bool {
    v.first().is_some_and(u8::is_ascii_uppercase) && v.iter().all(|b| b.is_ascii_uppercase() || *b == b'_')
}

/// `[a-z]+[0-9]+` (`hunter2`): a value, though it looks like an identifier.
fn is_word_then_digits(v: &[u8]) -> bool {
    let letters = v.iter().take_while(|b| b.is_ascii_lowercase()).count();
    letters > 0 && letters < v.len() && v[letters..].iter().all(u8::is_ascii_digit)
}

/// A variable name: `Snake_Words`, `lower_snake_1`, `camelCase`, `CONST_CASE` (the value names another variable).
fn is_variable_name(v: &[u8]) -> bool {
    let words = || v.split(|b| *b == b'_');
    let several = v.contains(&b'_');
    // `[A-Za-z][a-z]*(_[A-Za-z][a-z]*)+`
    let snake_words = several
        && words().all(|w| w.first().is_some_and(u8::is_ascii_alphabetic) && w[1..].iter().all(u8::is_ascii_lowercase));
    // `_?[a-z]+(_[a-z0-9]+)*`
    let body = v.strip_prefix(b"_").unwrap_or(v);
    let mut parts = body.split(|b| *b == b'_');
    let lower_snake = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.iter().all(u8::is_ascii_lowercase))
        && parts.all(|p| !p.is_empty() && p.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    // `[a-z]+([A-Z][a-z]+)+`
    let camel = {
        let head = v.iter().take_while(|b| b.is_ascii_lowercase()).count();
        let mut i = head;
        let mut humps = 0;
        while i < v.len() && v[i].is_ascii_uppercase() {
            let tail = v[i + 1..].iter().take_while(|b| b.is_ascii_lowercase()).count();
            if tail == 0 {
                break;
            }
            i += 1 + tail;
            humps += 1;
        }
        head > 0 && humps > 0 && i == v.len()
    };
    // `[A-Z]+(_[A-Z0-9]+)+`
    let constant = several && {
        let mut w = words();
        w.next()
            .is_some_and(|first| !first.is_empty() && first.iter().all(u8::is_ascii_uppercase))
            && w.all(|w| !w.is_empty() && w.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
    };
    snake_words || lower_snake || camel || constant
}

/// The value, lower-cased, is part of the key's words joined (`password = password`).
fn copies_key(v: &[u8], key: &[u8]) -> bool {
    if v.len() > key.len() {
        return false;
    }
    let mut joined = [0u8; 64];
    let mut n = 0;
    for &b in key {
        if !matches!(b, b'_' | b'-' | b'.' | b' ' | b'\t') {
            joined[n] = b;
            n += 1;
        }
    }
    let joined = &joined[..n];
    let mut lower = [0u8; 64];
    for (d, b) in lower.iter_mut().zip(v) {
        *d = b.to_ascii_lowercase();
    }
    contains(joined, &lower[..v.len()])
}

fn is_hex_literal(v: &[u8]) -> bool {
    v.len() > 2 && (v.starts_with(b"0x") || v.starts_with(b"0X")) && v[2..].iter().all(u8::is_ascii_hexdigit)
}

/// `Authorization`/`Proxy-Authorization` (with an optional scheme) and API-key headers (`x-api-key`,
/// `ocp-apim-subscription-key`, any `*-api-key`, `*-token`, `*-secret`), `:` separated. Label `authorization`.
fn header(s: &mut Scanner<'_>, key: &Key, value_from: usize) {
    let name = key.lower();
    let auth = name.ends_with(b"authorization") && matches!(name, b"authorization" | b"proxy-authorization");
    // `x-api-key`, `x-goog-api-key`, `x-auth-token`, `private-token`, `x-vault-token`, `x-amz-security-token`,
    // `x-litellm-api-key`... are all `*-api-key` or `*-token`; the rest are named.
    let api_key = !auth
        && (name.ends_with(b"-api-key")
            || name.ends_with(b"-token")
            || name.ends_with(b"-secret")
            || matches!(
                name,
                b"api-key"
                    | b"apikey"
                    | b"x-apikey"
                    | b"ocp-apim-subscription-key"
                    | b"x-functions-key"
                    | b"dd-application-key"
            ));
    if !(auth || api_key) || !s.wants(u16::from(AUTHORIZATION)) {
        return;
    }
    let t = s.t;
    let mut p = value_from + run_len(t, value_from, BLANK, 64);
    let level = run_len(t, p, BACKSLASH, 8);
    if matches!(t.get(p + level), Some(b'"' | b'\'')) {
        p += level + 1;
    }
    p += run_len(t, p, BLANK, 64);
    let mut scheme = false;
    if auth {
        let w = t[p..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
            .count();
        let blanks = run_len(t, p + w, BLANK, 64);
        if blanks > 0 && is_scheme(&t[p..p + w]) {
            scheme = true;
            p += w + blanks;
        }
    }
    let start = p;
    // A backtick closes inline code around the header in Markdown and doc comments; no credential charset has it.
    let value_byte = |b: u8| !HEADER_VALUE_END.has(b);
    let mut end = start + t[start..].iter().take_while(|b| value_byte(**b)).count();
    if end == start {
        return;
    }
    if auth {
        end = parameters(t, end);
    }
    let min = if scheme { 4 } else { 8 };
    if end - start >= min && !is_placeholder(&t[start..end]) {
        s.push(start, end, AUTHORIZATION);
    }
}

fn is_scheme(w: &[u8]) -> bool {
    static SCHEMES: WordSet = WordSet::new(&[
        b"bearer",
        b"basic",
        b"token",
        b"digest",
        b"negotiate",
        b"ntlm",
        b"ssws",
        b"bot",
        b"apikey",
        b"api-key",
        b"key",
        b"oauth",
        b"hawk",
        b"aws4-hmac-sha256",
        b"mac",
    ]);
    let mut l = [0u8; 16];
    if w.is_empty() || w.len() > l.len() {
        return false;
    }
    for (d, b) in l.iter_mut().zip(w) {
        *d = b.to_ascii_lowercase();
    }
    SCHEMES.contains(&l[..w.len()])
}

/// Extends an `Authorization` value through a quoted first parameter value and `, name=value` /
/// `, name="value"` pairs (Digest, Hawk, OAuth 1, AWS4).
fn parameters(t: &[u8], mut end: usize) -> usize {
    let quoted = |from: usize| -> Option<usize> {
        let mut q = from;
        if t.get(q) == Some(&b'\\') {
            q += 1;
        }
        if t.get(q) != Some(&b'"') {
            return None;
        }
        let close = t[q + 1..].iter().position(|b| *b == b'"' || *b == b'\\')? + q + 1;
        let mut e = close;
        if t[e] == b'\\' {
            e += 1;
            if t.get(e) != Some(&b'"') {
                return None;
            }
        }
        Some(e + 1)
    };
    if t[end - 1] == b'=' {
        if let Some(e) = quoted(end) {
            end = e;
        }
    }
    loop {
        let mut p = end + run_len(t, end, BLANK, 16);
        if t.get(p) != Some(&b',') {
            return end;
        }
        p += 1;
        p += run_len(t, p, BLANK, 16);
        let name = t[p..].iter().take_while(|b| b.is_ascii_alphabetic()).count();
        if name == 0 || t.get(p + name) != Some(&b'=') {
            return end;
        }
        p += name + 1;
        if let Some(e) = quoted(p) {
            end = e;
            continue;
        }
        let v = t[p..].iter().take_while(|b| !LIST_VALUE_END.has(**b)).count();
        if v == 0 {
            return end;
        }
        end = p + v;
    }
}

/// A vendor credential named by its key (§1.4): the key names the vendor and a credential, and the value has the
/// vendor's exact shape, followed by a byte outside `A-Z a-z 0-9 + / = _ -`.
struct KeywordShape {
    keywords: &'static [&'static [u8]],
    det: Det,
    value: &'static [Seg],
    /// The value's first byte must be one of these (empty: any).
    first: &'static [u8],
}

const KEYWORD_SHAPES: &[KeywordShape] = &[
    KeywordShape {
        keywords: &[b"datadog", b"dd_api_key", b"dd-api-key", b"ddapikey"],
        det: DATADOG_KEY,
        value: &[Run(LOWER_HEX, 32, 32)],
        first: b"",
    },
    KeywordShape {
        keywords: &[
            b"dd_app_key",
            b"dd-application-key",
            b"dd_application_key",
            b"datadog_app",
        ],
        det: DATADOG_KEY,
        value: &[Run(LOWER_HEX, 40, 40)],
        first: b"",
    },
    KeywordShape {
        keywords: &[b"twilio"],
        det: TWILIO_KEY,
        value: &[Run(LOWER_HEX, 32, 32)],
        first: b"",
    },
    KeywordShape {
        keywords: &[b"mailgun"],
        det: MAILGUN_KEY,
        value: &[
            Run(LOWER_HEX, 32, 32),
            Lit(b"-"),
            Run(LOWER_HEX, 8, 8),
            Lit(b"-"),
            Run(LOWER_HEX, 8, 8),
        ],
        first: b"",
    },
    KeywordShape {
        keywords: &[b"heroku"],
        det: HEROKU_KEY,
        value: UUID_ANY_CASE,
        first: b"",
    },
    KeywordShape {
        keywords: &[b"cohere", b"co_api_key"],
        det: COHERE_KEY,
        value: &[Run(ALNUM, 40, 40)],
        first: b"",
    },
    KeywordShape {
        keywords: &[b"mistral"],
        det: MISTRAL_KEY,
        value: &[Run(ALNUM, 32, 32)],
        first: b"",
    },
    KeywordShape {
        keywords: &[
            b"azure_devops",
            b"azdo",
            b"ado_pat",
            b"devops_pat",
            b"system_accesstoken",
        ],
        det: AZURE_KEY,
        value: &[Run(LOWER_BASE32, 52, 52)],
        first: b"",
    },
    KeywordShape {
        keywords: &[
            b"accountkey",
            b"account_key",
            b"storage_key",
            b"storagekey",
            b"azure_storage_key",
        ],
        det: AZURE_KEY,
        value: &[Run(B64, 86, 86), Lit(b"==")],
        first: b"",
    },
    KeywordShape {
        keywords: &[b"sharedaccesskey", b"shared_access_key"],
        det: AZURE_KEY,
        value: &[Run(B64, 43, 43), Lit(b"=")],
        first: b"",
    },
    KeywordShape {
        keywords: &[b"private_key_id"],
        det: GCP_CREDENTIAL,
        value: &[Run(LOWER_HEX, 40, 40)],
        first: b"",
    },
    KeywordShape {
        keywords: &[b"snyk"],
        det: SNYK_TOKEN,
        value: UUID_LOWER,
        first: b"",
    },
    KeywordShape {
        keywords: &[b"okta"],
        det: OKTA_TOKEN,
        value: &[Lit(b"00"), Run(B64URL, 40, 40)],
        first: b"",
    },
    KeywordShape {
        keywords: &[b"vault_token", b"vault-token", b"x-vault-token"],
        det: HASHICORP_TOKEN,
        value: &[Lit(b"s."), Run(ALNUM, 24, 24)],
        first: b"",
    },
    KeywordShape {
        keywords: &[b"secret_access_key", b"secretaccesskey", b"aws_secret"],
        det: AWS_SECRET_KEY,
        value: &[Run(B64_PAD, 40, 40)],
        first: b"",
    },
    KeywordShape {
        keywords: &[
            b"session_token",
            b"sessiontoken",
            b"security_token",
            b"x-amz-security-token",
        ],
        det: AWS_SESSION_TOKEN,
        value: &[Run(B64_PAD, 100, 4000)],
        first: b"",
    },
    KeywordShape {
        keywords: &[b"jira", b"confluence", b"atlassian"],
        det: ATLASSIAN_TOKEN,
        value: &[Run(ALNUM, 44, 44)],
        first: b"MNO",
    },
    KeywordShape {
        keywords: &[b"telegram", b"tg_bot", b"tgbot", b"bot_token"],
        det: TELEGRAM_TOKEN,
        value: &[Run(DIGIT, 8, 10), Lit(b":"), Run(B64URL, 35, 35)],
        first: b"",
    },
];

const UUID_LOWER: &[Seg] = &[
    Run(LOWER_HEX, 8, 8),
    Lit(b"-"),
    Run(LOWER_HEX, 4, 4),
    Lit(b"-"),
    Run(LOWER_HEX, 4, 4),
    Lit(b"-"),
    Run(LOWER_HEX, 4, 4),
    Lit(b"-"),
    Run(LOWER_HEX, 12, 12),
];

const UUID_ANY_CASE: &[Seg] = &[
    Run(HEX, 8, 8),
    Lit(b"-"),
    Run(HEX, 4, 4),
    Lit(b"-"),
    Run(HEX, 4, 4),
    Lit(b"-"),
    Run(HEX, 4, 4),
    Lit(b"-"),
    Run(HEX, 12, 12),
];

/// The bytes a (lower-case) key or keyword holds, one bit per byte class: `a-z`, `0-9`, `_`, `-`, anything else.
const fn byte_mask(w: &[u8]) -> u64 {
    let mut m = 0u64;
    let mut i = 0;
    while i < w.len() {
        let b = w[i];
        let bit = match b {
            b'a'..=b'z' => b - b'a',
            b'0'..=b'9' => 26 + b - b'0',
            b'_' => 36,
            b'-' => 37,
            _ => 38,
        };
        m |= 1 << bit;
        i += 1;
    }
    m
}

/// The most keywords a [`KeywordShape`] has.
const MAX_KEYWORDS: usize = 5;

/// [`byte_mask`] of every keyword of [`KEYWORD_SHAPES`], in the same order.
static KEYWORD_MASKS: [[u64; MAX_KEYWORDS]; KEYWORD_SHAPES.len()] = {
    let mut out = [[0u64; MAX_KEYWORDS]; KEYWORD_SHAPES.len()];
    let mut k = 0;
    while k < KEYWORD_SHAPES.len() {
        let words = KEYWORD_SHAPES[k].keywords;
        // More keywords than `MAX_KEYWORDS` fail the build here (an index out of range in a constant).
        let mut w = 0;
        while w < words.len() {
            out[k][w] = byte_mask(words[w]);
            w += 1;
        }
        k += 1;
    }
    out
};

/// Bytes that may not follow a keyword-anchored value: `A-Z a-z 0-9 + / = _ -`.
const VALUE_CONTINUES: Charset = B64_PAD | B64URL;

/// The vendor credential named by `key` at `value_from`, if any, recorded; returns where its value ends.
fn keyword_vendor(s: &mut Scanner<'_>, key: &[u8], value_from: usize) -> Option<usize> {
    const CREDENTIAL_WORDS: [&[u8]; 11] = [
        b"key",
        b"token",
        b"secret",
        b"pat",
        b"password",
        b"passwd",
        b"pwd",
        b"auth",
        b"credential",
        b"signature",
        b"sig",
    ];
    const CREDENTIAL_MASKS: [u64; 11] = {
        let mut out = [0u64; 11];
        let mut k = 0;
        while k < out.len() {
            out[k] = byte_mask(CREDENTIAL_WORDS[k]);
            k += 1;
        }
        out
    };
    let t = s.t;
    let mut v = value_from + run_len(t, value_from, BLANK, 4);
    let level = run_len(t, v, BACKSLASH, 8);
    if matches!(t.get(v + level), Some(b'"' | b'\'' | b'`')) {
        v += level + 1;
    }
    let &first = t.get(v)?;
    // A keyword can only occur in the key when the key has every byte of it: one mask test turns most away.
    let has = byte_mask(key);
    let mut credential_word = None;
    for (shape, masks) in KEYWORD_SHAPES.iter().zip(&KEYWORD_MASKS) {
        let mut named = false;
        for (k, mask) in shape.keywords.iter().zip(masks) {
            if mask & !has == 0 && contains(key, k) {
                named = true;
                break;
            }
        }
        if !named || !s.wants(u16::from(shape.det)) {
            continue;
        }
        let names_credential = || {
            CREDENTIAL_WORDS
                .iter()
                .zip(CREDENTIAL_MASKS)
                .any(|(w, mask)| mask & !has == 0 && contains(key, w))
        };
        if !*credential_word.get_or_insert_with(names_credential) {
            return None;
        }
        if !shape.first.is_empty() && !shape.first.contains(&first) {
            continue;
        }
        if let Some(end) = match_segs(t, v, shape.value, VALUE_CONTINUES) {
            s.push(v, end, shape.det);
            return Some(end);
        }
    }
    None
}

/// Azure SAS `sig=` (with another SAS parameter within 400 bytes before), `SharedAccessSignature=` in connection
/// strings, and signed-URL signatures (`X-Amz-Signature=`, `X-Goog-Signature=`, `X-Amz-Security-Token=`,
/// `X-Goog-Credential=`, and CloudFront's `Signature=` next to `Key-Pair-Id=`, `Expires=` or `Policy=`).
fn signed_url(s: &mut Scanner<'_>, key: &Key, value_from: usize, after_query: bool) {
    let t = s.t;
    let name = key.lower();
    let value = |set: fn(u8) -> bool, cap: usize| {
        let n = t[value_from..].iter().take(cap + 1).take_while(|b| set(**b)).count();
        (n >= 16 && n <= cap).then_some(value_from + n)
    };
    const SAS: ByteSet = ByteSet::alnum_and(b"%+/=");
    const SIGNED: ByteSet = ByteSet::alnum_and(b"%+/=._-");
    let sas_byte = |b: u8| SAS.has(b);
    let signed_byte = |b: u8| SIGNED.has(b);
    match name {
        b"sig" if after_query => {
            let from = key.start.saturating_sub(400);
            let window = &t[from..key.start];
            // One pass: at each `?` or `&`, the parameter name that follows.
            let has_sas = window.iter().enumerate().any(|(k, b)| {
                matches!(b, b'?' | b'&') && {
                    let rest = &window[k + 1..];
                    let name = &rest[..rest.iter().take(4).take_while(|c| c.is_ascii_lowercase()).count()];
                    rest.get(name.len()) == Some(&b'=')
                        && matches!(name, b"sv" | b"se" | b"sp" | b"sr" | b"st" | b"spr" | b"srt" | b"ss")
                }
            });
            if has_sas {
                if let Some(end) = value(sas_byte, 256) {
                    s.push(value_from, end, AZURE_KEY);
                }
            }
        }
        b"sharedaccesssignature" => {
            let n = t[value_from..]
                .iter()
                .take(2049)
                .take_while(|b| !CONNECTION_VALUE_END.has(**b))
                .count();
            if (16..=2048).contains(&n) {
                s.push(value_from, value_from + n, AZURE_KEY);
            }
        }
        b"x-amz-signature" | b"x-goog-signature" | b"x-amz-security-token" | b"x-goog-credential" if after_query => {
            if let Some(end) = value(signed_byte, 4096) {
                s.push(value_from, end, SIGNED_URL);
            }
        }
        b"signature" if after_query => {
            let from = key.start.saturating_sub(600);
            let to = (value_from + 600).min(t.len());
            let cloudfront = [&b"key-pair-id="[..], b"expires=", b"policy="].iter().any(|p| {
                let mut at = from;
                while let Some(k) = find_ignore_case(&t[..to], at, p) {
                    if k > 0 && matches!(t[k - 1], b'?' | b'&') {
                        return true;
                    }
                    at = k + 1;
                }
                false
            });
            if cloudfront {
                if let Some(end) = value(signed_byte, 4096) {
                    s.push(value_from, end, SIGNED_URL);
                }
            }
        }
        _ => {}
    }
}

/// `scheme://user:password@host`: the password (1–256 bytes, may hold `:` and `@`: it ends at the last `@` before
/// the authority ends) is masked. `i` is the `:` of `://`.
fn url_userinfo(s: &mut Scanner<'_>, i: usize) {
    if !s.wants(u16::from(URL_PASSWORD)) {
        return;
    }
    let t = s.t;
    const SCHEME: ByteSet = ByteSet::alnum_and(b"+.-");
    let scheme_byte = |b: u8| SCHEME.has(b);
    let scheme = t[..i].iter().rev().take(32).take_while(|b| scheme_byte(**b)).count();
    if !(2..=31).contains(&scheme) || !t[i - scheme].is_ascii_alphabetic() {
        return;
    }
    let user_from = i + 3;
    const USER_END: ByteSet = ByteSet::of(b"/?#@\"'<>\\:", true);
    let user_byte = |b: u8| !USER_END.has(b);
    let user = t[user_from..].iter().take(129).take_while(|b| user_byte(**b)).count();
    if user > 128 || t.get(user_from + user) != Some(&b':') {
        return;
    }
    let pw_from = user_from + user + 1;
    const PASSWORD_END: ByteSet = ByteSet::of(b"/?#\"'<>\\", true);
    let pw_byte = |b: u8| !PASSWORD_END.has(b);
    let run = t[pw_from..].iter().take(600).take_while(|b| pw_byte(**b)).count();
    // The last `@` of the authority that a host follows.
    let mut at = None;
    for k in (pw_from..pw_from + run).rev() {
        if t[k] == b'@' && t.get(k + 1).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'[') {
            at = Some(k);
            break;
        }
    }
    let Some(at) = at else { return };
    let pw = &t[pw_from..at];
    if (1..=256).contains(&pw.len()) && !is_placeholder(pw) {
        s.push(pw_from, at, URL_PASSWORD);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_classified_by_their_last_words() {
        let class = |k: &str| classify_key(k.to_ascii_lowercase().as_bytes(), k.as_bytes());
        for (key, expected) in [
            ("password", Some(Class::Password)),
            ("DB_PASSWORD", Some(Class::Password)),
            ("dbPassword", Some(Class::Password)),
            ("pgpassword", Some(Class::Password)),
            ("smtp_pass", Some(Class::Password)),
            ("pass", None),
            ("client_secret", Some(Class::Secret)),
            ("access_token", Some(Class::Secret)),
            ("api_key", Some(Class::Secret)),
            ("x-api-key", Some(Class::Secret)),
            ("_auth", Some(Class::Secret)),
            ("max_tokens", None),
            ("next_page_token", None),
            ("eos_token", None),
            ("primary_key", None),
            ("token_type", None),
            ("password_hint", None),
            ("passwordless", None),
            ("api_key_header", None),
            ("nextPageToken", None),
            ("authToken", Some(Class::Secret)),
        ] {
            assert_eq!(class(key), expected, "{key}");
        }
    }

    #[test]
    fn every_word_a_key_is_classified_by_has_an_ending_that_passes_the_first_test() {
        let words = SECRET_WORDS
            .words()
            .iter()
            .chain(&PASSWORD_WORDS)
            .chain(CREDENTIAL_SUFFIXES.iter().map(|(w, _)| w));
        for w in words.chain([&&b"key"[..]]) {
            assert!(generic_ending(w), "{}", String::from_utf8_lossy(w));
            assert!(credential_ending(w), "{}", String::from_utf8_lossy(w));
        }
        // Vendor-only endings skip the split: `AZURE_DEVOPS_PAT` is the vendor rule's alone.
        assert_eq!(classify_key(b"azure_devops_pat", b"AZURE_DEVOPS_PAT"), None);
    }

    #[test]
    fn a_vendor_value_before_a_full_stop_keeps_its_vendor_label() {
        let r = super::super::Redactor::default();
        let redact = |text: &str| super::super::Redact::redact(&r, text, &mut Vec::new()).unwrap_or_default();
        // Built here: the repository holds no shape-valid value.
        let hex = "0123456789abcdef".repeat(2);
        assert_eq!(
            redact(&format!("Set DD_API_KEY={hex}.")),
            "Set DD_API_KEY=[DATADOG_KEY]."
        );
        assert_eq!(redact(&format!("Set DD_API_KEY={hex}")), "Set DD_API_KEY=[DATADOG_KEY]");
        // More than a full stop after the vendor's shape: the whole value is masked, by the generic rule.
        assert_eq!(redact(&format!("Set DD_API_KEY={hex}.x9")), "Set DD_API_KEY=[SECRET]");
    }
}
