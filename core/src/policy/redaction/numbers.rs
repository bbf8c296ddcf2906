//! The numeric tokenizer shared by cards, US SSNs, IPv4 addresses and phone numbers, and IBANs.
//!
//! A run opens at a digit, `+digit` or `(digit` that does not continue another number (a decimal, range, date or
//! time: `.,-/:` right after a digit) and is not glued to a word. Digit groups are separated by one space, `-` or
//! `.`, a `/` as the first separator only (`030/1234567`), a `)` closing an opening `(` around the first group, or
//! ` (0)` after `+CC`. An extension (`x89`, `ext. 89`, `#12`) belongs to a phone number. At most 8 groups and 20
//! digits: a longer run is an id and yields nothing. Then card, SSN, IPv4 and phone are tried in that order.

use super::charset::{is_alnum, run_len};
use super::digits::{keyword_before, Run};
use super::names::{CARD, IBAN, IP, PHONE, SSN};
use super::phones;
use super::scanner::Scanner;
use super::words::WordSet;

/// Tokenizes the run opening at `i` (a digit at a token start, or `+`/`(` before a digit), records the value it is,
/// and returns where scanning goes on. `None`: nothing opens here.
pub(super) fn scan(s: &mut Scanner<'_>, digit_or_plus: usize) -> Option<usize> {
    let t = s.t;
    let n = t.len();
    let continues = |at: usize| {
        let c = t[at];
        let prev = if at > 0 { t[at - 1] } else { b' ' };
        let prev2 = if at > 1 { t[at - 2] } else { b' ' };
        is_alnum(prev) || (b".,-/:".contains(&prev) && prev2.is_ascii_digit()) || (c != b'+' && prev == b'+')
    };
    // A `(` right before the first digit opens the run when it could (`(555) 123-4567`).
    let i = match digit_or_plus.checked_sub(1) {
        Some(p) if t[p] == b'(' && t[digit_or_plus].is_ascii_digit() && !continues(p) => p,
        _ => digit_or_plus,
    };
    let c = t[i];
    if continues(i) {
        // Glued to a word or continuing another number.
        let j = digit_or_plus + run_len(t, digit_or_plus, super::charset::DIGIT, usize::MAX);
        return Some(j.max(digit_or_plus + 1));
    }
    let digit = |p: usize| t.get(p).is_some_and(u8::is_ascii_digit);
    let mut run = Run::new(i);
    let mut too_long = false;
    let mut p = i;
    if c == b'+' {
        run.plus = true;
        p += 1;
    }
    if t.get(p) == Some(&b'(') {
        run.paren = true;
        p += 1;
    }
    let mut groups = 0;
    let push_sep = |run: &mut Run, sep: u8, too_long: &mut bool| {
        *too_long |= !run.push_sep(sep);
    };
    loop {
        let len = run_len(t, p, super::charset::DIGIT, usize::MAX);
        if len == 0 {
            break;
        }
        too_long |= !run.push_group(p, len);
        groups += 1;
        p += len;
        if run.paren && groups == 1 {
            if t.get(p) == Some(&b')') {
                p += 1;
                if t.get(p) == Some(&b' ') && digit(p + 1) {
                    push_sep(&mut run, b')', &mut too_long);
                    p += 1;
                    continue;
                }
                if digit(p) {
                    push_sep(&mut run, b')', &mut too_long);
                    continue;
                }
                break;
            }
            // An opening `(` not closed after the first group is not part of the value.
            run.paren = false;
            run.start += 1;
        }
        if run.plus && groups == 1 && t.get(p..p + 4) == Some(b" (0)") && p + 4 < n {
            p += 4;
            if t.get(p) == Some(&b' ') {
                p += 1;
            }
            push_sep(&mut run, b' ', &mut too_long);
            continue;
        }
        let sep = t.get(p).copied().unwrap_or(0);
        if (matches!(sep, b' ' | b'-' | b'.') || (sep == b'/' && run.sep_count == 0)) && digit(p + 1) {
            push_sep(&mut run, sep, &mut too_long);
            p += 1;
            continue;
        }
        break;
    }
    let end = p;
    if run.paren && run.sep_count == 0 {
        run.start += 1;
    }
    run.core_end = end;
    run.end = end;
    if groups == 0 {
        return Some(end.max(digit_or_plus + 1));
    }
    if let Some(ext_end) = extension(t, end) {
        run.ext = true;
        run.end = ext_end;
    }
    let next = t.get(end).copied().unwrap_or(b' ');
    let next_digit = digit(end + 1);
    let dotted_quad = groups == 4 && run.seps().iter().all(|b| *b == b'.');
    let port = matches!(next, b':' | b'/') && next_digit && dotted_quad;
    let glued = (is_alnum(next) && !run.ext) || (b".,-/:".contains(&next) && next_digit && !port);
    too_long |= run.digit_count > 20;
    let resume = end.max(digit_or_plus + 1);
    // Fewer than 8 digits can only be an IPv4 address (cards need 12, SSNs 9, phones 8).
    if glued || too_long || (run.digit_count < 8 && groups != 4) {
        return Some(resume);
    }
    run.fill_digits(t);
    let found = if s.wants(u16::from(CARD)) && is_card(t, &run) {
        Some((run.start, run.core_end, CARD))
    } else if s.wants(u16::from(SSN)) && is_ssn(t, &run) {
        Some((run.start, run.core_end, SSN))
    } else if s.wants(u16::from(IP)) && is_ipv4(t, &run) {
        Some((run.start, run.core_end, IP))
    } else if s.wants(u16::from(PHONE)) && phones::is_phone(t, &run, s.regions) {
        Some((run.start, run.end, PHONE))
    } else {
        None
    };
    match found {
        Some((start, end, det)) => {
            s.push(start, end, det);
            Some(end.max(resume))
        }
        None => Some(resume),
    }
}

/// `x89`, `ext. 89`, `extension 89`, `#89` (an optional space before and after the marker), 1–6 digits.
fn extension(t: &[u8], end: usize) -> Option<usize> {
    let q = end + usize::from(t.get(end) == Some(&b' '));
    let digits_at = |r: usize| {
        let d = run_len(t, r, super::charset::DIGIT, 7);
        ((1..=6).contains(&d) && !t.get(r + d).is_some_and(|b| is_alnum(*b))).then_some(r + d)
    };
    let word = |w: &[u8]| t.get(q..q + w.len()).is_some_and(|h| h.eq_ignore_ascii_case(w));
    let space = |r: usize| r + usize::from(t.get(r) == Some(&b' '));
    if matches!(t.get(q), Some(b'x' | b'X')) {
        if let Some(e) = digits_at(q + 1) {
            return Some(e);
        }
    }
    if word(b"ext") {
        let r = q + 3 + usize::from(t.get(q + 3) == Some(&b'.'));
        if let Some(e) = digits_at(space(r)) {
            return Some(e);
        }
    }
    if word(b"extension") {
        if let Some(e) = digits_at(space(q + 9)) {
            return Some(e);
        }
    }
    if t.get(q) == Some(&b'#') {
        return digits_at(q + 1);
    }
    None
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(k, d)| {
            let d = u32::from(*d);
            if k % 2 == 1 {
                if d > 4 {
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

static CARD_WORDS: WordSet = WordSet::new(&[
    b"card",
    b"carte",
    b"karte",
    b"tarjeta",
    "cartão".as_bytes(),
    b"carta",
    b"maestro",
    b"visa",
    b"mastercard",
    b"amex",
    b"jcb",
    b"unionpay",
    b"pan",
    b"cc",
]);

/// Cards (§4.1 of the design): 12–19 digits, no separator or all spaces or all dashes (groups of 2–6), then by
/// length and prefix: 13–16 digits from 2–6 with Luhn (and 17–19 when grouped or after a card word), 12-digit
/// Maestro, 15-digit JCB (1800, 2131), RuPay/UnionPay 81–82, Troy 9792, UnionPay 62 (Luhn not guaranteed).
fn is_card(t: &[u8], run: &Run) -> bool {
    if run.plus || run.paren || run.ext {
        return false;
    }
    let seps = run.seps();
    if seps.iter().any(|b| !matches!(b, b' ' | b'-')) || seps.windows(2).any(|w| w[0] != w[1]) {
        return false;
    }
    let ds = run.digits();
    let len = ds.len();
    if !(12..=19).contains(&len) {
        return false;
    }
    let grouped = run.group_count > 1;
    if grouped && !run.lens().all(|g| (2..=6).contains(&g)) {
        return false;
    }
    let keyword = || keyword_before(t, run.start, 24, &CARD_WORDS, &[]);
    if !grouped && len >= 17 && !keyword() {
        return false;
    }
    let starts = |p: &[u8]| ds.starts_with(p);
    if len == 12 {
        let maestro = [
            &[5, 0, 1, 8][..],
            &[5, 0, 2, 0],
            &[5, 0, 3, 8],
            &[5, 8, 9, 3],
            &[6, 3, 0, 4],
            &[6, 7, 5, 9],
            &[6, 7, 6, 1],
            &[6, 7, 6, 2],
            &[6, 7, 6, 3],
        ]
        .iter()
        .any(|p| starts(p));
        return maestro && (run.shape_is(&[4, 4, 4]) || keyword()) && luhn(ds);
    }
    if len == 15 && (starts(&[1, 8, 0, 0]) || starts(&[2, 1, 3, 1])) {
        return luhn(ds);
    }
    if starts(&[6, 2])
        && (16..=19).contains(&len)
        && (run.shape_is(&[4, 4, 4, 4]) || run.shape_is(&[4, 4, 4, 4, 3]) || run.shape_is(&[6, 13]) || keyword())
    {
        return true;
    }
    if (starts(&[8, 1]) || starts(&[8, 2]) || starts(&[9, 7, 9, 2])) && len == 16 {
        return luhn(ds);
    }
    (2..=6).contains(&ds[0]) && luhn(ds)
}

static SSN_WORDS: WordSet = WordSet::new(&[b"ssn"]);
const SSN_PHRASES: &[&[u8]] = &[b"ss#", b"ss #", b"social security", b"soc. sec", b"soc sec", b"soc.sec"];

/// US SSNs: `AAA-GG-SSSS` on its own; spaces, dots or no separator need an SSN word within 16 bytes before. Area
/// 001–899 but 666, group 01–99, serial 0001–9999, and not the two famous invalid numbers.
fn is_ssn(t: &[u8], run: &Run) -> bool {
    if run.plus || run.paren || run.ext || run.digit_count != 9 {
        return false;
    }
    let seps = run.seps();
    let needs_word = if run.shape_is(&[3, 2, 4]) && seps[0] == seps[1] && matches!(seps[0], b'-' | b' ') {
        seps[0] == b' '
    } else if run.shape_is(&[9]) || (run.shape_is(&[3, 2, 4]) && seps[0] == b'.') {
        true
    } else {
        return false;
    };
    if needs_word && !keyword_before(t, run.start, 16, &SSN_WORDS, SSN_PHRASES) {
        return false;
    }
    let d = run.digits();
    let area = &d[..3];
    let group = &d[3..5];
    let serial = &d[5..9];
    if area == [0, 0, 0] || area == [6, 6, 6] || area[0] == 9 || group == [0, 0] || serial == [0, 0, 0, 0] {
        return false;
    }
    d[..9] != [0, 7, 8, 0, 5, 1, 1, 2, 0] && d[..9] != [2, 1, 9, 0, 9, 9, 9, 9, 9]
}

/// IPv4 (§4.4 of the design): four dotted octets 0–255 without leading zeros. Kept as a version or section number
/// after `v`, `version`, `==`, `^`, `section`, `rfc`... or before `-beta`/`+build`; otherwise an address after an
/// address word (`host`, `from`, `ip`, `@`...), before `:port` or `/prefix`, in a private, loopback, multicast or
/// netmask range, or with an octet of 100 or more. Four small octets with no context (`1.2.3.4`) are kept.
fn is_ipv4(t: &[u8], run: &Run) -> bool {
    if run.plus || run.paren || run.group_count != 4 || run.seps().iter().any(|b| *b != b'.') {
        return false;
    }
    let mut octets = [0u32; 4];
    for (k, &(s, len)) in run.group(0).iter().enumerate() {
        let g = &t[s..s + usize::from(len)];
        if g.len() > 3 || (g.len() > 1 && g[0] == b'0') {
            return false;
        }
        octets[k] = g.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0'));
        if octets[k] > 255 {
            return false;
        }
    }
    let before = &t[run.start.saturating_sub(24)..run.start];
    if version_context(before) {
        return false;
    }
    let after = &t[run.core_end..(run.core_end + 2).min(t.len())];
    if after.len() == 2 && matches!(after[0], b'-' | b'+') && is_alnum(after[1]) {
        return false;
    }
    if section_context(before) {
        return false;
    }
    let [a, b, ..] = octets;
    let special = a == 10
        || a == 127
        || (a == 169 && b == 254)
        || (a == 172 && (16..=31).contains(&b))
        || (a == 192 && b == 168)
        || (a == 100 && (64..=127).contains(&b))
        || (224..=239).contains(&a)
        || a == 255;
    let port_or_prefix = after.len() == 2 && matches!(after[0], b':' | b'/') && after[1].is_ascii_digit();
    port_or_prefix || special || octets.iter().any(|o| *o >= 100) || address_context(before)
}

/// Whether `text` ends with `word` (ASCII case ignored) at a word start.
fn ends_with_word(text: &[u8], word: &[u8]) -> bool {
    // The last byte first (words are lower case): most candidates differ there, and the test is called for every
    // word of a list.
    let last = |b: &[u8]| b.last().map(|c| c | 0x20);
    last(text) == last(word)
        && text.len() >= word.len()
        && text[text.len() - word.len()..].eq_ignore_ascii_case(word)
        && (text.len() == word.len()
            || !(is_alnum(text[text.len() - word.len() - 1]) || text[text.len() - word.len() - 1] == b'_'))
}

/// `v`, `version`, `ver`, `release`, `rev`, `build`, `==`, `~=`, `>=`, `<=`, `!=`, `^`, `~` right before (blanks and
/// one `:`/`=` allowed).
fn version_context(before: &[u8]) -> bool {
    let mut b = before.trim_ascii_end();
    if let Some(rest) = b.strip_suffix(b":").or_else(|| b.strip_suffix(b"=")) {
        // `==` is itself a version operator: keep the `=` when another precedes it.
        if !rest.ends_with(b"=") {
            b = rest.trim_ascii_end();
        }
    }
    [&b"=="[..], b"~=", b">=", b"<=", b"!=", b"^", b"~"]
        .iter()
        .any(|op| b.ends_with(op))
        || [&b"v"[..], b"version", b"ver", b"release", b"rev", b"build"]
            .iter()
            .any(|w| ends_with_word(b, w))
}

/// `section`, `sec.`, `§`, `chapter`, `clause`, `paragraph`, `rfc`, `item` right before.
fn section_context(before: &[u8]) -> bool {
    let b = before.trim_ascii_end();
    b.ends_with("§".as_bytes())
        || [
            &b"section"[..],
            b"sec.",
            b"chapter",
            b"clause",
            b"paragraph",
            b"rfc",
            b"item",
        ]
        .iter()
        .any(|w| ends_with_word(b, w))
}

/// An address word, `://` or `@` right before (up to 3 bytes of punctuation or blanks between).
fn address_context(before: &[u8]) -> bool {
    let mut b = before;
    for _ in 0..3 {
        match b.last() {
            Some(c) if !(is_alnum(*c) || *c == b'_' || *c >= 0x80) && *c != b'@' && !b.ends_with(b"://") => {
                b = &b[..b.len() - 1];
            }
            _ => break,
        }
    }
    b.ends_with(b"://")
        || b.ends_with(b"@")
        || [
            &b"ip"[..],
            b"ipv4",
            b"addr",
            b"address",
            b"host",
            b"hostname",
            b"server",
            b"client",
            b"remote",
            b"peer",
            b"from",
            b"via",
            b"gateway",
            b"gw",
            b"dns",
            b"resolver",
            b"nameserver",
            b"inet",
            b"src",
            b"dst",
            b"source",
            b"destination",
            b"x-forwarded-for",
            b"x-real-ip",
            b"forwarded",
            b"connect",
            b"ping",
            b"ssh",
            b"listen",
            b"bind",
            b"proxy",
            b"route",
            b"subnet",
            b"netmask",
        ]
        .iter()
        .any(|w| ends_with_word(b, w))
}

/// An IBAN starting at `i` (two capitals, two digits): groups of capitals and digits, single spaces allowed
/// between groups, 15–34 characters, ISO 13616 mod 97. The longest prefix that validates wins. Returns its end.
pub(super) fn iban(s: &mut Scanner<'_>, i: usize) -> Option<usize> {
    let t = s.t;
    let head = t.get(i..i + 4)?;
    let shaped = head[0].is_ascii_uppercase()
        && head[1].is_ascii_uppercase()
        && head[2].is_ascii_digit()
        && head[3].is_ascii_digit();
    if !shaped || !s.wants(u16::from(IBAN)) {
        return None;
    }
    let upper_alnum = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit();
    let mut ends = [(0usize, 0usize); 40];
    let mut count = 0;
    let mut j = i;
    let mut chars = 0;
    while j < t.len() && chars <= 34 {
        let b = t[j];
        if upper_alnum(b) {
            chars += 1;
            j += 1;
            if t.get(j).is_none_or(|n| !upper_alnum(*n)) && count < ends.len() {
                ends[count] = (j, chars);
                count += 1;
            }
        } else if b == b' ' && t.get(j + 1).is_some_and(|n| upper_alnum(*n)) && j > i {
            j += 1;
        } else {
            break;
        }
    }
    let found = ends[..count].iter().rev().find(|(end, n)| {
        (15..=34).contains(n) && t.get(*end).is_none_or(|b| !is_alnum(*b)) && iban_checksum_ok(&t[i..*end])
    })?;
    s.push(i, found.0, IBAN);
    Some(found.0)
}

/// ISO 13616: the first four characters moved to the end, letters as numbers (A = 10), the remainder mod 97 is 1.
fn iban_checksum_ok(text: &[u8]) -> bool {
    let chars = || text.iter().copied().filter(|b| *b != b' ');
    if chars().count() < 5 {
        return false;
    }
    let mut remainder: u32 = 0;
    for b in chars().skip(4).chain(chars().take(4)) {
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
