//! Email addresses, triggered by `@`: the local part is walked back (ASCII `. _ % + ' -`, alnum, and any byte ≥ 0x80
//! for internationalised addresses), the domain forward (alnum, `.`, `-`, bytes ≥ 0x80). The domain needs two
//! labels and a real top-level domain ([`super::tlds`], or punycode `xn--`), which rejects `icon@2x.png`,
//! `pkg@1.2.3` and `a@b.c0m`; retina names (`logo@3x.svg`, `img@1.5x.webp`) are rejected by their first label.

use super::charset::{is_alnum, ByteSet};
use super::names::EMAIL;
use super::scanner::Scanner;
use super::tlds::TLDS;

fn is_local(b: u8) -> bool {
    const LOCAL: ByteSet = ByteSet::alnum_and(b"._%+-'");
    LOCAL.has(b) || b >= 0x80
}

fn is_domain(b: u8) -> bool {
    is_alnum(b) || b == b'.' || b == b'-' || b >= 0x80
}

fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

pub(super) fn at_sign(s: &mut Scanner<'_>, at: usize) {
    if !s.wants(u16::from(EMAIL)) {
        return;
    }
    let t = s.t;
    let mut start = at;
    while start > 0 && at - start < 64 && is_local(t[start - 1]) {
        start -= 1;
    }
    // Never start inside a character, nor on a leading `.` or `'`.
    while start < at && (is_continuation(t[start]) || t[start] == b'.' || t[start] == b'\'') {
        start += 1;
    }
    if start == at {
        return;
    }
    let mut end = at + 1;
    while end < t.len() && end - at < 254 && is_domain(t[end]) {
        end += 1;
    }
    while end < t.len() && end > at + 1 && is_continuation(t[end]) {
        end -= 1;
    }
    while end > at + 1 && matches!(t[end - 1], b'.' | b'-') {
        end -= 1;
    }
    if is_email_domain(&t[at + 1..end]) {
        s.push(start, end, EMAIL);
        return;
    }
    // Text in scripts without spaces may run straight on after the address (`jane@example.com。然后`): try again
    // where ASCII gives way to other bytes.
    let domain = &t[at + 1..end];
    if let Some(k) = (1..domain.len()).find(|k| domain[k - 1] < 0x80 && domain[*k] >= 0x80) {
        let mut cut = at + 1 + k;
        while cut > at + 1 && matches!(t[cut - 1], b'.' | b'-') {
            cut -= 1;
        }
        if is_email_domain(&t[at + 1..cut]) {
            s.push(start, cut, EMAIL);
        }
    }
}

fn is_email_domain(domain: &[u8]) -> bool {
    let mut labels = domain.split(|b| *b == b'.');
    let Some(first) = labels.next() else {
        return false;
    };
    let mut count = 1;
    let mut second: &[u8] = b"";
    let mut last = first;
    for label in labels {
        if count == 1 {
            second = label;
        }
        count += 1;
        last = label;
    }
    let well_formed = domain
        .split(|b| *b == b'.')
        .all(|l| !l.is_empty() && l[0] != b'-' && l[l.len() - 1] != b'-');
    if count < 2 || !well_formed || !is_tld(last) {
        return false;
    }
    // `icon@2x.png`, `img@1.5x.webp`.
    let retina = |l: &[u8]| l.len() >= 2 && l[l.len() - 1] == b'x' && l[..l.len() - 1].iter().all(u8::is_ascii_digit);
    let digits = |l: &[u8]| !l.is_empty() && l.iter().all(u8::is_ascii_digit);
    !(retina(first) || (count >= 3 && digits(first) && retina(second)))
}

fn is_tld(label: &[u8]) -> bool {
    let mut lower = [0u8; 64];
    if label.is_empty() || label.len() > lower.len() {
        return false;
    }
    for (d, b) in lower.iter_mut().zip(label) {
        *d = b.to_ascii_lowercase();
    }
    let lower = &lower[..label.len()];
    if lower.len() >= 6 && lower.starts_with(b"xn--") {
        return true;
    }
    TLDS.binary_search_by(|tld| tld.as_bytes().cmp(lower)).is_ok()
}
