//! Credential families with a structure of their own: private-key containers (PEM, SSH2, PuTTY, base64-wrapped PEM),
//! JWTs, standalone `Bearer`/`Basic` credentials and Terraform Cloud tokens. Each is reached from an anchor at a token
//! start, or (PEM, SSH2, Mailchimp) from a `-`.

use super::base64::b64_decode;
use super::charset::{alnum_at, is, run_len, run_len_back, ByteSet, ALNUM, B64, B64URL, BLANK, CS_P, DIGIT, LOWER_HEX};
use super::names::*;
use super::placeholder::is_placeholder;
use super::scanner::Scanner;

/// Families reached from an anchor at a token start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Anchored {
    Bearer,
    Basic,
    Jwt,
    Putty,
    Base64Pem,
    Terraform,
}

/// Their anchors: bytes, matched ignoring ASCII case, family.
pub(super) const ANCHORS: &[(&[u8], bool, Anchored)] = &[
    (b"bearer", true, Anchored::Bearer),
    (b"basic", true, Anchored::Basic),
    (b"eyJ", false, Anchored::Jwt),
    (b"PuTTY-User-Key-File-", false, Anchored::Putty),
    (b"LS0tLS1CRUdJTi", false, Anchored::Base64Pem),
    (b"atlasv1.", false, Anchored::Terraform),
];

/// The value of family `kind` whose anchor is at `i`: its span (which may start after the anchor, as for
/// `Bearer <token>`) and detector.
pub(super) fn find_anchored(s: &mut Scanner<'_>, kind: Anchored, i: usize) -> Option<(usize, usize, Det)> {
    let t = s.t;
    let prev = i.checked_sub(1).map(|p| t[p]);
    match kind {
        Anchored::Bearer => {
            if prev == Some(b'_') || !s.wants(u16::from(BEARER_TOKEN)) {
                return None;
            }
            let start = after_blanks(t, i + 6)?;
            const TOKEN: ByteSet = ByteSet::alnum_and(b"-._~+/");
            let is_token = |b: u8| TOKEN.has(b);
            let mut end = start + t[start..].iter().take_while(|b| is_token(**b)).count();
            if end - start < 16 {
                return None;
            }
            end += t[end..].iter().take_while(|b| **b == b'=').count();
            (!is_placeholder(&t[start..end])).then_some((start, end, BEARER_TOKEN))
        }
        Anchored::Basic => {
            if prev == Some(b'_') || !s.wants(u16::from(AUTHORIZATION)) {
                return None;
            }
            let start = after_blanks(t, i + 5)?;
            let mut end = start + run_len(t, start, B64, 4096);
            if end - start < 6 {
                return None;
            }
            end += t[end..].iter().take(2).take_while(|b| **b == b'=').count();
            if t.get(end).is_some_and(|b| is(*b, B64) || *b == b'=') {
                return None;
            }
            basic_credentials(&t[start..end]).then_some((start, end, AUTHORIZATION))
        }
        Anchored::Jwt => (prev != Some(b'-')).then(|| jwt(t, i)).flatten().map(|e| (i, e, JWT)),
        Anchored::Putty => {
            let p = i + 20;
            if !matches!(t.get(p), Some(b'2' | b'3')) || t.get(p + 1..p + 3) != Some(b": ") {
                return None;
            }
            let end = match s.find_from(PUTTY_MAC, p) {
                Some(mac) => line_end(t, mac),
                None => t.len(),
            };
            Some((i, end, PRIVATE_KEY))
        }
        Anchored::Base64Pem => {
            if prev.is_some_and(|b| b == b'+' || b == b'/') {
                return None;
            }
            let body = run_len(t, i + 14, B64, 1 << 20);
            if body < 100 {
                return None;
            }
            let mut end = i + 14 + body;
            end += t[end..].iter().take(2).take_while(|b| **b == b'=').count();
            let head = b64_decode(&t[i..i + 80], false)?;
            head.windows(11)
                .any(|w| w == b"PRIVATE KEY")
                .then_some((i, end, PRIVATE_KEY))
        }
        Anchored::Terraform => {
            // `<14 alnum>.atlasv1.<60..70>`: the anchor is the token after the dot.
            if i < 15 || t[i - 1] != b'.' || run_len_back(t, i - 1, ALNUM, 15) != 14 {
                return None;
            }
            let start = i - 15;
            let body = run_len(t, i + 8, CS_P, 71);
            if !(60..=70).contains(&body) || alnum_at(t, i + 8 + body) {
                return None;
            }
            Some((start, i + 8 + body, HASHICORP_TOKEN))
        }
    }
}

/// The position after at least one blank (space or tab), if there is one.
fn after_blanks(t: &[u8], p: usize) -> Option<usize> {
    let n = t[p.min(t.len())..].iter().take_while(|b| is(**b, BLANK)).count();
    (n > 0).then_some(p + n)
}

/// End of the line holding `at`: before a newline, an escaped `\n` (JSON inside a string) or the end of the text.
fn line_end(t: &[u8], at: usize) -> usize {
    let mut e = at;
    while e < t.len() && t[e] != b'\n' && !(t[e] == b'\\' && t.get(e + 1) == Some(&b'n')) {
        e += 1;
    }
    e
}

/// `eyJ<u≥8>.eyJ<u≥8>.<u*>` with an optional JWE tail `.<u+>.<u+>`; the end of the token.
fn jwt(t: &[u8], i: usize) -> Option<usize> {
    let header = run_len(t, i + 3, B64URL, usize::MAX);
    let mut p = i + 3 + header;
    if header < 8 || t.get(p) != Some(&b'.') || t.get(p + 1..p + 4) != Some(b"eyJ") {
        return None;
    }
    let payload = run_len(t, p + 4, B64URL, usize::MAX);
    p += 4 + payload;
    if payload < 8 || t.get(p) != Some(&b'.') {
        return None;
    }
    p += 1;
    p += run_len(t, p, B64URL, usize::MAX);
    // JWE: two more segments.
    if t.get(p) == Some(&b'.') {
        let a = run_len(t, p + 1, B64URL, usize::MAX);
        if a > 0 && t.get(p + 1 + a) == Some(&b'.') {
            let b = run_len(t, p + 2 + a, B64URL, usize::MAX);
            if b > 0 {
                p += 2 + a + b;
            }
        }
    }
    Some(p)
}

/// A `Basic` value decodes (standard base64) to printable UTF-8 of at least 3 characters holding a `:`.
fn basic_credentials(value: &[u8]) -> bool {
    let Some(raw) = b64_decode(value, false) else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&raw) else {
        return false;
    };
    text.contains(':') && text.chars().count() >= 3 && !text.chars().any(char::is_control)
}

/// A `-`: PEM private-key blocks, SSH2 private keys, Mailchimp keys (`<32 hex>-us<1-2 digits>`).
pub(super) fn dash(s: &mut Scanner<'_>, i: usize) {
    let t = s.t;
    if t.get(i + 1) == Some(&b'u') {
        mailchimp(s, i);
        return;
    }
    if t.get(i + 1..i + 4) != Some(b"---") || !s.wants(u16::from(PRIVATE_KEY)) {
        return;
    }
    if t[i..].starts_with(b"-----BEGIN ") {
        if let Some(end) = pem(s, i) {
            s.push(i, end, PRIVATE_KEY);
        }
    } else if t[i..].starts_with(SSH2_BEGIN) {
        let end = s
            .find_from(SSH2_END, i + SSH2_BEGIN.len())
            .map_or(t.len(), |e| e + SSH2_END.len());
        s.push(i, end, PRIVATE_KEY);
    }
}

const SSH2_BEGIN: &[u8] = b"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----";
const PEM_END: &[u8] = b"-----END ";
const PUTTY_MAC: &[u8] = b"Private-MAC: ";
const SSH2_END: &[u8] = b"---- END SSH2 ENCRYPTED PRIVATE KEY ----";

/// `-----BEGIN <up to 4 words> PRIVATE KEY[ BLOCK]-----` through its `-----END ...-----`, or to the end of the text
/// when the block was cut. The body is not checked, so real, `\r\n` and JSON-escaped newlines all work.
fn pem(s: &mut Scanner<'_>, i: usize) -> Option<usize> {
    let t = s.t;
    let label_start = i + 11;
    let mut p = label_start;
    let mut words = 0;
    while !t[p..].starts_with(b"PRIVATE KEY") {
        let w = t[p..]
            .iter()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            .count();
        if w == 0 || words == 4 || t.get(p + w) != Some(&b' ') {
            return None;
        }
        p += w + 1;
        words += 1;
    }
    p += 11;
    if t[p..].starts_with(b" BLOCK") {
        p += 6;
    }
    if !t[p..].starts_with(b"-----") {
        return None;
    }
    let label = &t[label_start..p];
    let mut from = p + 5;
    while let Some(e) = s.find_from(PEM_END, from) {
        let after = e + 9;
        if t[after..].starts_with(label) && t[after + label.len()..].starts_with(b"-----") {
            return Some(after + label.len() + 5);
        }
        from = after;
    }
    Some(t.len())
}

fn mailchimp(s: &mut Scanner<'_>, i: usize) {
    let t = s.t;
    if t.get(i + 2) != Some(&b's') || !s.wants(u16::from(MAILCHIMP_KEY)) {
        return;
    }
    let digits = run_len(t, i + 3, DIGIT, 3);
    if !(1..=2).contains(&digits) || alnum_at(t, i + 3 + digits) {
        return;
    }
    if run_len_back(t, i, LOWER_HEX, 33) == 32 && (i == 32 || !is(t[i - 33], ALNUM)) {
        s.push(i - 32, i + 3 + digits, MAILCHIMP_KEY);
    }
}
