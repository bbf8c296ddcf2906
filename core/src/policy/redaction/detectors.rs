//! The built-in detectors: hand-written scanners, gated on the bytes and byte pairs a text holds so most of them
//! never scan a typical text.

/// The built-in detectors, in precedence order (earlier wins when two find the same span).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Builtin {
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

pub(super) const BUILTINS: [Builtin; 16] = [
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
    pub(super) fn name(self) -> &'static str {
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

    pub(super) fn find(self, scan: &Scan<'_>, out: &mut Vec<(usize, usize)>) {
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

pub(super) fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn is_upper_alnum(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

/// Whether a token may start at `i` (not glued to a preceding word).
pub(super) fn starts_token(t: &[u8], i: usize) -> bool {
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
pub(super) struct Scan<'a> {
    pub(super) text: &'a str,
    bytes: [u64; 4],
    pairs: Option<Box<[u64; 1024]>>,
    digits: usize,
    colons: usize,
    /// Candidate card, SSN and phone numbers, found once for the three detectors.
    runs: std::cell::OnceCell<Vec<Run>>,
}

impl<'a> Scan<'a> {
    pub(super) const MIN_INDEXED: usize = 256;

    pub(super) fn new(text: &'a str) -> Scan<'a> {
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
    // The end of the last address found: the next one's local part starts no earlier (`a@b.co-c@d.co` is two).
    let mut last_end = 0;
    while let Some(at) = t[from..].iter().position(|b| *b == b'@').map(|i| i + from) {
        from = at + 1;
        let start = at - t[last_end..at].iter().rev().take_while(|b| is_email_local(**b)).count();
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
            last_end = end;
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
