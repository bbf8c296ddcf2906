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
use std::collections::BTreeMap;

/// Values found per detector name.
pub type DetectorCounts = Vec<(String, u32)>;

/// What happens to a detected value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Replace with `[NAME]`.
    Mask,
    /// Replace with `[NAME:<16 hex digits of HMAC-SHA256(key, value)>]`.
    Hash,
    /// Drop the whole field (attribute) that contains it.
    Drop,
    /// Detector disabled.
    Off,
}

/// The built-in detectors, in precedence order (earlier wins when two find the same span).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Builtin {
    PrivateKey,
    Jwt,
    Bearer,
    AnthropicKey,
    OpenAiKey,
    AwsAccessKey,
    AwsSecretKey,
    GoogleApiKey,
    GithubToken,
    SlackToken,
    Card,
    Iban,
    Ssn,
    Email,
    Phone,
    Ip,
}

const BUILTINS: [Builtin; 16] = [
    Builtin::PrivateKey,
    Builtin::Jwt,
    Builtin::Bearer,
    Builtin::AnthropicKey,
    Builtin::OpenAiKey,
    Builtin::AwsAccessKey,
    Builtin::AwsSecretKey,
    Builtin::GoogleApiKey,
    Builtin::GithubToken,
    Builtin::SlackToken,
    Builtin::Card,
    Builtin::Iban,
    Builtin::Ssn,
    Builtin::Email,
    Builtin::Phone,
    Builtin::Ip,
];

impl Builtin {
    fn name(self) -> &'static str {
        match self {
            Builtin::PrivateKey => "private_key",
            Builtin::Jwt => "jwt",
            Builtin::Bearer => "bearer_token",
            Builtin::AnthropicKey => "anthropic_key",
            Builtin::OpenAiKey => "openai_key",
            Builtin::AwsAccessKey => "aws_access_key",
            Builtin::AwsSecretKey => "aws_secret_key",
            Builtin::GoogleApiKey => "google_api_key",
            Builtin::GithubToken => "github_token",
            Builtin::SlackToken => "slack_token",
            Builtin::Card => "card",
            Builtin::Iban => "iban",
            Builtin::Ssn => "ssn",
            Builtin::Email => "email",
            Builtin::Phone => "phone",
            Builtin::Ip => "ip",
        }
    }

    /// Whether the text can hold this detector's values at all, from its bytes and byte pairs. Most detectors look
    /// for prefixes or characters that ordinary prose lacks, so most of them never scan a typical text.
    fn may_match(self, scan: &Scan<'_>) -> bool {
        let any = |pairs: &[&[u8; 2]]| pairs.iter().any(|p| scan.has_pair(**p));
        match self {
            Builtin::PrivateKey => scan.has_pair(*b"--"),
            Builtin::Jwt => scan.has_pair(*b"ey") && scan.has_pair(*b"yJ"),
            Builtin::Bearer => any(&[b"be", b"Be", b"BE"]) && any(&[b"r ", b"R "]),
            Builtin::AnthropicKey => scan.has_pair(*b"sk") && scan.has_pair(*b"-a"),
            Builtin::OpenAiKey => scan.has_pair(*b"sk") && scan.has_pair(*b"k-"),
            Builtin::AwsAccessKey => any(&[b"AK", b"AS", b"AB", b"AC"]) && any(&[b"IA", b"CA"]),
            Builtin::AwsSecretKey => any(&[b"cr", b"CR", b"Cr", b"cR"]),
            Builtin::GoogleApiKey => scan.has_pair(*b"AI") && scan.has_pair(*b"Iz"),
            Builtin::GithubToken => {
                (scan.has_pair(*b"gh") && any(&[b"p_", b"o_", b"u_", b"s_", b"r_"])) || scan.has_pair(*b"b_")
            }
            Builtin::SlackToken => any(&[b"xo", b"xa"]),
            // Minimum digits: 13 for a card, 8 for a phone number, 9 for an SSN (which needs `-` separators).
            Builtin::Card => scan.digits >= 13,
            Builtin::Phone => scan.digits >= 8,
            Builtin::Ssn => scan.digits >= 9 && (b'0'..=b'9').any(|d| scan.has_pair([d, b'-'])),
            Builtin::Iban => (b'A'..=b'Z').any(|c| (b'0'..=b'9').any(|d| scan.has_pair([c, d]))),
            Builtin::Email => scan.has_byte(b'@'),
            // IPv4: four dotted numbers. IPv6: seven colons in full form, else a `::`.
            Builtin::Ip => {
                (scan.digits >= 4 && (b'0'..=b'9').any(|d| scan.has_pair([d, b'.'])))
                    || scan.colons >= 7
                    || scan.has_pair(*b"::")
            }
        }
    }

    fn find(self, scan: &Scan<'_>, out: &mut Vec<(usize, usize)>) {
        if !self.may_match(scan) {
            return;
        }
        let text = scan.text;
        let t = text.as_bytes();
        match self {
            Builtin::PrivateKey => private_keys(text, out),
            Builtin::Jwt => jwts(t, out),
            Builtin::Bearer => bearer_tokens(t, out),
            Builtin::AnthropicKey => prefixed(t, &["sk-ant-"], is_key_char, 20, out),
            Builtin::OpenAiKey => {
                let mut found = Vec::new();
                prefixed(t, &["sk-"], is_key_char, 20, &mut found);
                out.extend(found.into_iter().filter(|(s, _)| !t[*s..].starts_with(b"sk-ant-")));
            }
            Builtin::AwsAccessKey => {
                let mut found = Vec::new();
                prefixed(t, &["AKIA", "ASIA", "ABIA", "ACCA"], is_upper_alnum, 16, &mut found);
                out.extend(found.into_iter().filter(|(s, e)| e - s == 20));
            }
            Builtin::AwsSecretKey => aws_secret_keys(t, out),
            Builtin::GoogleApiKey => {
                let mut found = Vec::new();
                prefixed(t, &["AIza"], is_key_char, 35, &mut found);
                out.extend(found.into_iter().filter(|(s, e)| e - s == 39));
            }
            Builtin::GithubToken => {
                prefixed(
                    t,
                    &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
                    |b| b.is_ascii_alphanumeric(),
                    36,
                    out,
                );
                prefixed(t, &["github_pat_"], is_word, 22, out);
            }
            Builtin::SlackToken => prefixed(
                t,
                &["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xapp-"],
                |b| b.is_ascii_alphanumeric() || b == b'-',
                10,
                out,
            ),
            Builtin::Card | Builtin::Ssn | Builtin::Phone => {
                let is_value = match self {
                    Builtin::Card => is_card,
                    Builtin::Ssn => is_ssn,
                    _ => is_phone,
                };
                out.extend(
                    scan.numeric_runs()
                        .filter(|r| is_value(t, *r))
                        .map(|r| (r.start, r.end)),
                );
            }
            Builtin::Iban => ibans(t, out),
            Builtin::Email => emails(t, out),
            Builtin::Ip => {
                ipv4s(t, out);
                ipv6s(text, out);
            }
        }
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn is_upper_alnum(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

/// Whether a token may start at `i` (not glued to a preceding word).
fn starts_token(t: &[u8], i: usize) -> bool {
    i == 0 || !is_word(t[i - 1])
}

/// `prefix` + at least `min` characters of `body`, starting a token.
fn prefixed(t: &[u8], prefixes: &[&str], body: impl Fn(u8) -> bool, min: usize, out: &mut Vec<(usize, usize)>) {
    for prefix in prefixes {
        let p = prefix.as_bytes();
        let mut from = 0;
        while let Some(at) = find_bytes(&t[from..], p).map(|i| i + from) {
            from = at + 1;
            if !starts_token(t, at) {
                continue;
            }
            let start_body = at + p.len();
            let end = start_body + t[start_body..].iter().take_while(|b| body(**b)).count();
            if end - start_body >= min {
                out.push((at, end));
                from = end;
            }
        }
    }
}

/// The bytes and byte pairs one text holds, computed once and shared by every detector (texts under
/// [`Scan::MIN_INDEXED`] bytes are not indexed: every detector just runs).
struct Scan<'a> {
    text: &'a str,
    bytes: [u64; 4],
    pairs: Option<Box<[u64; 1024]>>,
    digits: usize,
    colons: usize,
    /// Candidate card, SSN and phone numbers, found once for the three detectors.
    runs: std::cell::OnceCell<Vec<Run>>,
}

impl<'a> Scan<'a> {
    const MIN_INDEXED: usize = 256;

    fn new(text: &'a str) -> Scan<'a> {
        let t = text.as_bytes();
        if t.len() < Self::MIN_INDEXED {
            return Scan {
                text,
                bytes: [u64::MAX; 4],
                pairs: None,
                digits: usize::MAX,
                colons: usize::MAX,
                runs: std::cell::OnceCell::new(),
            };
        }
        let mut pairs = Box::new([0u64; 1024]);
        let (mut digits, mut colons) = (0, 0);
        // Plain stores, not read-modify-write bit sets: no dependency from one byte to the next.
        let mut seen = [false; 256];
        for &b in t {
            seen[usize::from(b)] = true;
            digits += usize::from(b.is_ascii_digit());
            colons += usize::from(b == b':');
        }
        let mut bytes = [0u64; 4];
        for (b, _) in seen.iter().enumerate().filter(|(_, s)| **s) {
            bytes[b >> 6] |= 1 << (b & 63);
        }
        for w in t.windows(2) {
            let pair = usize::from(w[0]) << 8 | usize::from(w[1]);
            pairs[pair >> 6] |= 1 << (pair & 63);
        }
        Scan {
            text,
            bytes,
            pairs: Some(pairs),
            digits,
            colons,
            runs: std::cell::OnceCell::new(),
        }
    }

    fn numeric_runs(&self) -> impl Iterator<Item = Run> + '_ {
        self.runs
            .get_or_init(|| numeric_runs(self.text.as_bytes()))
            .iter()
            .copied()
    }

    fn has_byte(&self, b: u8) -> bool {
        self.bytes[usize::from(b >> 6)] & (1 << (b & 63)) != 0
    }

    fn has_pair(&self, pair: [u8; 2]) -> bool {
        let Some(pairs) = &self.pairs else { return true };
        let index = usize::from(pair[0]) << 8 | usize::from(pair[1]);
        pairs[index >> 6] & (1 << (index & 63)) != 0
    }
}

/// First occurrence of `needle`: a scan for its first byte, then a comparison (far faster than sliding windows).
fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    find_by(haystack, needle.len(), |b| b == first, |tail| tail == rest)
}

/// `find_bytes` ignoring ASCII case; `needle` is lowercase.
fn find_bytes_ignore_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    find_by(
        haystack,
        needle.len(),
        |b| b.to_ascii_lowercase() == first,
        |tail| tail.eq_ignore_ascii_case(rest),
    )
}

/// First position of a `len`-byte match: scan for a byte satisfying `first`, then check the following `len - 1`
/// bytes with `rest`.
fn find_by(haystack: &[u8], len: usize, first: impl Fn(u8) -> bool, rest: impl Fn(&[u8]) -> bool) -> Option<usize> {
    let mut from = 0;
    while from + len <= haystack.len() {
        let at = from + haystack[from..=haystack.len() - len].iter().position(|b| first(*b))?;
        if rest(&haystack[at + 1..at + len]) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn private_keys(text: &str, out: &mut Vec<(usize, usize)>) {
    let mut from = 0;
    while let Some(at) = text[from..].find("-----BEGIN ").map(|i| i + from) {
        let header_end = text[at..]
            .find("-----\n")
            .or_else(|| text[at + 5..].find("-----").map(|i| i + 5));
        let is_private = header_end.is_some_and(|h| text[at..at + h].contains("PRIVATE KEY"));
        if !is_private {
            from = at + 1;
            continue;
        }
        // To the end marker, or to the end of the text when it was cut.
        let end = match text[at..].find("-----END ") {
            Some(e) => {
                let after = at + e + 9;
                text[after..].find("-----").map_or(text.len(), |i| after + i + 5)
            }
            None => text.len(),
        };
        out.push((at, end));
        from = end;
    }
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn jwts(t: &[u8], out: &mut Vec<(usize, usize)>) {
    let mut from = 0;
    while let Some(at) = find_bytes(&t[from..], b"eyJ").map(|i| i + from) {
        from = at + 1;
        if !starts_token(t, at) {
            continue;
        }
        let seg = |i: usize| i + t[i..].iter().take_while(|b| is_b64url(**b)).count();
        let header_end = seg(at);
        if header_end - at < 10 || t.get(header_end) != Some(&b'.') || !t[header_end + 1..].starts_with(b"eyJ") {
            continue;
        }
        let payload_end = seg(header_end + 1);
        if payload_end - header_end < 10 || t.get(payload_end) != Some(&b'.') {
            continue;
        }
        let end = seg(payload_end + 1);
        out.push((at, end));
        from = end;
    }
}

fn bearer_tokens(t: &[u8], out: &mut Vec<(usize, usize)>) {
    let mut from = 0;
    while let Some(at) = find_bytes_ignore_case(&t[from..], b"bearer ").map(|i| i + from) {
        from = at + 1;
        if !starts_token(t, at) {
            continue;
        }
        let start = at + 7 + t[at + 7..].iter().take_while(|b| **b == b' ').count();
        let is_token = |b: u8| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b);
        let end = start + t[start..].iter().take_while(|b| is_token(**b)).count();
        if end - start >= 16 {
            out.push((start, end));
            from = end;
        }
    }
}

/// A 40-character secret after a name that says it is one (`aws_secret_access_key = ...`, `"SecretAccessKey": "..."`).
fn aws_secret_keys(t: &[u8], out: &mut Vec<(usize, usize)>) {
    for name in [&b"secret_access_key"[..], b"secretaccesskey", b"aws_secret"] {
        let mut from = 0;
        while let Some(at) = find_bytes_ignore_case(&t[from..], name).map(|i| i + from) {
            from = at + name.len();
            let mut i = from;
            i += t[i..].iter().take_while(|b| is_word(**b)).count();
            i += t[i..].iter().take(8).take_while(|b| b" \t\"':=".contains(b)).count();
            let is_secret = |b: u8| b.is_ascii_alphanumeric() || b == b'/' || b == b'+' || b == b'=';
            let end = i + t[i..].iter().take_while(|b| is_secret(**b)).count();
            if end - i == 40 {
                out.push((i, end));
                from = end;
            }
        }
    }
}

/// A run of digits with single separators (`+`, `(`, `)`, space, `-`, `.`): candidate card, SSN or phone number.
#[derive(Debug, Clone, Copy)]
struct Run {
    start: usize,
    end: usize,
}

fn numeric_runs(t: &[u8]) -> Vec<Run> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < t.len() {
        let b = t[i];
        let opens = b.is_ascii_digit() || ((b == b'+' || b == b'(') && t.get(i + 1).is_some_and(u8::is_ascii_digit));
        if !opens || !starts_token(t, i) || (i > 0 && matches!(t[i - 1], b'.' | b'-' | b'+')) {
            i += 1;
            continue;
        }
        let start = i;
        let mut last_digit = i;
        let mut j = i + usize::from(!b.is_ascii_digit());
        let mut separators_in_a_row = 0;
        while j < t.len() {
            match t[j] {
                d if d.is_ascii_digit() => {
                    last_digit = j;
                    separators_in_a_row = 0;
                }
                b' ' | b'-' | b'.' | b'(' | b')' if separators_in_a_row < 2 => separators_in_a_row += 1,
                _ => break,
            }
            j += 1;
        }
        let end = last_digit + 1;
        let glued = t.get(end).is_some_and(|b| is_word(*b));
        if !glued {
            out.push(Run { start, end });
        }
        i = end.max(i + 1);
    }
    out
}

fn digits_of(t: &[u8], run: Run) -> Vec<u8> {
    t[run.start..run.end]
        .iter()
        .filter(|b| b.is_ascii_digit())
        .map(|b| b - b'0')
        .collect()
}

/// Digit groups between separators.
fn groups(t: &[u8], run: Run) -> Vec<&[u8]> {
    t[run.start..run.end]
        .split(|b| !b.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect()
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// 13–19 digits, spaces or dashes only, a card network's first digit (2–6), and a valid Luhn checksum.
fn is_card(t: &[u8], run: Run) -> bool {
    let text = &t[run.start..run.end];
    if text.iter().any(|b| !b.is_ascii_digit() && *b != b' ' && *b != b'-') {
        return false;
    }
    let digits = digits_of(t, run);
    (13..=19).contains(&digits.len()) && (2..=6).contains(&digits[0]) && luhn(&digits)
}

/// `AAA-GG-SSSS` with the ranges the SSA never issues excluded.
fn is_ssn(t: &[u8], run: Run) -> bool {
    let text = &t[run.start..run.end];
    if text.len() != 11 || text[3] != b'-' || text[6] != b'-' {
        return false;
    }
    let g = groups(t, run);
    if g.len() != 3 || g[0].len() != 3 || g[1].len() != 2 || g[2].len() != 4 {
        return false;
    }
    let area = g[0];
    area != b"000" && area != b"666" && area[0] != b'9' && g[1] != b"00" && g[2] != b"0000"
}

/// International (`+` and 8–15 digits) or North American formatted (`(555) 123-4567`, `555-123-4567`,
/// `1 555 123 4567`) numbers. Unformatted digit strings are left alone: they are more often ids than phones.
fn is_phone(t: &[u8], run: Run) -> bool {
    let text = &t[run.start..run.end];
    let digits = digits_of(t, run);
    if text[0] == b'+' {
        return (8..=15).contains(&digits.len());
    }
    let g: Vec<usize> = groups(t, run).iter().map(|g| g.len()).collect();
    let dotted = text.contains(&b'.');
    let all_dots = !text.iter().any(|b| matches!(b, b' ' | b'-' | b'(' | b')'));
    if dotted && !all_dots {
        return false;
    }
    g == [3, 3, 4] || (g == [1, 3, 3, 4] && digits[0] == 1)
}

fn ibans(t: &[u8], out: &mut Vec<(usize, usize)>) {
    let mut i = 0;
    while i + 4 <= t.len() {
        let head = &t[i..i + 4];
        let plausible = head[0].is_ascii_uppercase()
            && head[1].is_ascii_uppercase()
            && head[2].is_ascii_digit()
            && head[3].is_ascii_digit()
            && starts_token(t, i);
        if !plausible {
            i += 1;
            continue;
        }
        // Group boundaries (single spaces allowed between groups), then the longest prefix that validates.
        let mut ends = Vec::new();
        let mut j = i;
        let mut chars = 0;
        while j < t.len() && chars <= 34 {
            let b = t[j];
            if is_upper_alnum(b) {
                chars += 1;
                j += 1;
                if t.get(j).is_none_or(|n| !is_upper_alnum(*n)) {
                    ends.push((j, chars));
                }
            } else if b == b' ' && t.get(j + 1).is_some_and(|n| is_upper_alnum(*n)) && j > i {
                j += 1;
            } else {
                break;
            }
        }
        let found = ends.iter().rev().find(|(end, n)| {
            (15..=34).contains(n) && t.get(*end).is_none_or(|b| !is_word(*b)) && iban_checksum_ok(&t[i..*end])
        });
        match found {
            Some((end, _)) => {
                out.push((i, *end));
                i = *end;
            }
            None => i += 1,
        }
    }
}

/// ISO 13616: move the first four characters to the end, letters to numbers (A = 10), the remainder mod 97 is 1.
fn iban_checksum_ok(text: &[u8]) -> bool {
    let compact: Vec<u8> = text.iter().copied().filter(|b| *b != b' ').collect();
    if compact.len() < 5 {
        return false;
    }
    let mut remainder: u32 = 0;
    for b in compact[4..].iter().chain(&compact[..4]) {
        let value = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return false,
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

fn is_email_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._%+-".contains(&b)
}

fn emails(t: &[u8], out: &mut Vec<(usize, usize)>) {
    let mut from = 0;
    while let Some(at) = t[from..].iter().position(|b| *b == b'@').map(|i| i + from) {
        from = at + 1;
        let start = at - t[..at].iter().rev().take_while(|b| is_email_local(**b)).count();
        let start = start + t[start..at].iter().take_while(|b| **b == b'.').count();
        if start == at {
            continue;
        }
        let mut end = at
            + 1
            + t[at + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'.' || **b == b'-')
                .count();
        while end > at + 1 && matches!(t[end - 1], b'.' | b'-') {
            end -= 1;
        }
        let domain = &t[at + 1..end];
        let tld = domain.rsplit(|b| *b == b'.').next().unwrap_or_default();
        let valid = domain.contains(&b'.')
            && !domain.starts_with(b".")
            && !domain.windows(2).any(|w| w == b"..")
            && tld.len() >= 2
            && tld.iter().all(u8::is_ascii_alphabetic);
        if valid {
            out.push((start, end));
            from = end;
        }
    }
}

fn ipv4s(t: &[u8], out: &mut Vec<(usize, usize)>) {
    let mut i = 0;
    while i < t.len() {
        if !t[i].is_ascii_digit() || !starts_token(t, i) || (i > 0 && t[i - 1] == b'.') {
            i += 1;
            continue;
        }
        let end = i + t[i..].iter().take_while(|b| b.is_ascii_digit() || **b == b'.').count();
        let mut candidate = &t[i..end];
        while candidate.last() == Some(&b'.') {
            candidate = &candidate[..candidate.len() - 1];
        }
        let parts: Vec<&[u8]> = candidate.split(|b| *b == b'.').collect();
        let valid = parts.len() == 4
            && parts
                .iter()
                .all(|p| (1..=3).contains(&p.len()) && p.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')) <= 255);
        if valid && t.get(i + candidate.len()).is_none_or(|b| !is_word(*b)) {
            out.push((i, i + candidate.len()));
        }
        i = end.max(i + 1);
    }
}

fn ipv6s(text: &str, out: &mut Vec<(usize, usize)>) {
    let t = text.as_bytes();
    let is_v6 = |b: u8| b.is_ascii_hexdigit() || b == b':' || b == b'.';
    let mut i = 0;
    while i < t.len() {
        if !is_v6(t[i]) || !starts_token(t, i) || (i > 0 && t[i - 1] == b':') {
            i += 1;
            continue;
        }
        let end = i + t[i..].iter().take_while(|b| is_v6(**b)).count();
        let mut candidate = &text[i..end];
        candidate = candidate.trim_end_matches('.');
        let colons = candidate.bytes().filter(|b| *b == b':').count();
        if colons >= 2
            && candidate.len() >= 3
            && t.get(i + candidate.len()).is_none_or(|b| !is_word(*b))
            && candidate.parse::<std::net::Ipv6Addr>().is_ok()
        {
            out.push((i, i + candidate.len()));
        }
        i = end.max(i + 1);
    }
}

enum Matcher {
    Builtin(Builtin),
    Regex(regex_lite::Regex),
    /// Lowercased literals, matched case-insensitively (ASCII) on word boundaries.
    Literals(Vec<String>),
}

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

impl Clone for Redactor {
    fn clone(&self) -> Self {
        // Rebuilt from the same, already validated, source.
        build(&self.source).unwrap_or_else(|_| Redactor::disabled())
    }
}

impl PartialEq for Redactor {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Default for Redactor {
    fn default() -> Self {
        build("{}").unwrap_or_else(|_| Redactor::disabled())
    }
}

/// One value found in a text, after overlaps are resolved.
struct Finding {
    start: usize,
    end: usize,
    detector: usize,
}

impl Redactor {
    fn disabled() -> Redactor {
        Redactor {
            detectors: Vec::new(),
            hmac_key: Vec::new(),
            user_id: false,
            request_detectors: Vec::new(),
            source: String::new(),
        }
    }

    pub fn is_enabled(&self) -> bool {
        !self.detectors.is_empty()
    }

    pub fn redacts_requests(&self) -> bool {
        !self.request_detectors.is_empty()
    }

    pub fn covers_user_id(&self) -> bool {
        self.user_id
    }

    /// Non-overlapping findings of the chosen detectors, in text order; at one position the longest wins, then the
    /// earlier detector.
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
        for f in all {
            if kept.last().is_none_or(|k| f.start >= k.end)
                && text.is_char_boundary(f.start)
                && text.is_char_boundary(f.end)
            {
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
    pub fn redact_request(&self, body: &[u8]) -> Option<(Vec<u8>, DetectorCounts)> {
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

impl crate::span::Redact for Redactor {
    fn redact(&self, text: &str, counts: &mut Vec<(String, u32)>) -> Option<String> {
        self.apply(text, 0..self.detectors.len(), true, counts)
    }

    fn covers_user_id(&self) -> bool {
        self.user_id
    }
}

/// `redaction` as written in the plugin configuration.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawRedaction {
    enabled: bool,
    /// Per built-in detector: `mask` (default), `hash`, `drop` or `off`.
    detectors: BTreeMap<String, Action>,
    hmac_key: Option<String>,
    custom: Vec<RawCustom>,
    user_id: bool,
    request: RawRequestRedaction,
}

impl Default for RawRedaction {
    fn default() -> Self {
        RawRedaction {
            enabled: true,
            detectors: BTreeMap::new(),
            hmac_key: None,
            custom: Vec::new(),
            user_id: false,
            request: RawRequestRedaction::default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCustom {
    name: String,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    literals: Option<Vec<String>>,
    #[serde(default = "default_action")]
    action: Action,
}

fn default_action() -> Action {
    Action::Mask
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawRequestRedaction {
    enabled: bool,
    detectors: Vec<String>,
}

/// Names of the built-in detectors, in precedence order.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTINS.iter().map(|b| b.name()).collect()
}

/// Builds the redactor from the `redaction` JSON object (`{}` gives the defaults: every built-in detector masks).
/// Errors name the field, relative to the configuration root.
pub fn build(source: &str) -> Result<Redactor, (String, String)> {
    let value: Value = serde_json::from_str(source)
        .map_err(|e| ("redaction".to_string(), crate::config::strip_position(&e.to_string())))?;
    build_from(&value)
}

/// [`build`] from the already parsed `redaction` object.
pub fn build_from(value: &Value) -> Result<Redactor, (String, String)> {
    let source = value.to_string();
    let source = source.as_str();
    let raw: RawRedaction = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "redaction".to_string()
        } else {
            format!("redaction.{path}")
        };
        (field, crate::config::strip_position(&e.inner().to_string()))
    })?;
    if !raw.enabled {
        return Ok(Redactor {
            source: source.to_string(),
            ..Redactor::disabled()
        });
    }
    for name in raw.detectors.keys() {
        if !BUILTINS.iter().any(|b| b.name() == name) {
            return Err((
                format!("redaction.detectors.{name}"),
                format!("unknown detector; built-in ones are {}", builtin_names().join(", ")),
            ));
        }
    }
    let mut detectors: Vec<Detector> = BUILTINS
        .iter()
        .map(|b| Detector {
            name: b.name().to_string(),
            matcher: Matcher::Builtin(*b),
            action: raw.detectors.get(b.name()).copied().unwrap_or(Action::Mask),
        })
        .collect();
    for (i, c) in raw.custom.into_iter().enumerate() {
        let field = format!("redaction.custom[{i}]");
        if c.name.is_empty()
            || !c
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err((
                format!("{field}.name"),
                "must be lowercase letters, digits and `_`".into(),
            ));
        }
        if detectors.iter().any(|d| d.name == c.name) {
            return Err((format!("{field}.name"), format!("`{}` is already a detector", c.name)));
        }
        let matcher = match (c.regex, c.literals) {
            (Some(r), None) => Matcher::Regex(
                regex_lite::Regex::new(&r).map_err(|e| (format!("{field}.regex"), format!("invalid: {e}")))?,
            ),
            (None, Some(l)) => {
                if l.iter().any(|s| s.trim().is_empty()) {
                    return Err((format!("{field}.literals"), "must not contain empty strings".into()));
                }
                Matcher::Literals(l.iter().map(|s| s.to_ascii_lowercase()).collect())
            }
            _ => return Err((field, "needs exactly one of `regex` or `literals`".into())),
        };
        detectors.push(Detector {
            name: c.name,
            matcher,
            action: c.action,
        });
    }
    let hmac_key = raw.hmac_key.unwrap_or_default().into_bytes();
    if detectors.iter().any(|d| d.action == Action::Hash) && hmac_key.len() < 16 {
        return Err((
            "redaction.hmac_key".into(),
            "a detector uses `hash`: set a secret key of at least 16 bytes".into(),
        ));
    }
    detectors.retain(|d| d.action != Action::Off);
    let mut request_detectors = Vec::new();
    if raw.request.enabled {
        let names = if raw.request.detectors.is_empty() {
            detectors.iter().map(|d| d.name.clone()).collect()
        } else {
            raw.request.detectors
        };
        for name in names {
            match detectors.iter().position(|d| d.name == name) {
                Some(i) => request_detectors.push(i),
                None => {
                    return Err((
                        "redaction.request.detectors".into(),
                        format!("`{name}` is not an enabled detector"),
                    ))
                }
            }
        }
    }
    Ok(Redactor {
        detectors,
        hmac_key,
        user_id: raw.user_id,
        request_detectors,
        source: source.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Redact;

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
        let err = |json: &str| build(json).err().map(|e| e.0);
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
