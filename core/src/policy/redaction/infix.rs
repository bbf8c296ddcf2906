//! Credentials recognised by structure rather than a prefix: Azure identifiable keys (a signature at a fixed
//! offset in a base64 token of fixed length), Azure AD client secrets (`Q~`), Discord bot tokens (three dotted
//! segments, the first decoding to a user id) and Telegram bot tokens (`<8-10 digits>:A<34>`).

use super::base64::b64_decode;
use super::charset::{alnum_at, is, run_len, run_len_back, ALNUM, B64URL, CS_Q};
use super::names::*;
use super::scanner::Scanner;

/// Where base64 runs (`A-Z a-z 0-9 + /`) start, as the scanner walks alnum runs, so an Azure identifiable key is
/// checked in O(1) when its run ends: only runs of 44, 52, 56, 84 or 88 bytes (padding included) can be one.
#[derive(Debug, Default)]
pub(super) struct Base64Runs {
    /// Candidate starts in the current run: its start and every position right after a `/` (keys appear in paths).
    starts: [usize; 8],
    count: usize,
}

/// Azure signatures: total length, offset, signature.
const SIGNATURES: &[(usize, usize, &[u8])] = &[
    (88, 76, b"+ASt"),
    (88, 76, b"ACDb"),
    (88, 76, b"+ABa"),
    (88, 76, b"+AMC"),
    (88, 76, b"APIM"),
    (44, 33, b"+ASb"),
    (44, 33, b"+AEh"),
    (44, 33, b"+ARm"),
    (44, 33, b"AIoT"),
    (44, 33, b"AZEG"),
    (44, 33, b"AzCa"),
    (56, 44, b"AzFu"),
    (52, 42, b"+ACR"),
    (84, 52, b"JQQJ9"),
    (88, 52, b"JQQJ9"),
];

impl Base64Runs {
    /// Whether the alnum run `start..end` needs a look: a run continued from the previous one (across `+` or `/`),
    /// one continued by the next, or one long enough to be a key on its own. Words never do.
    #[inline(always)]
    pub(super) fn wants(&self, t: &[u8], start: usize, end: usize) -> bool {
        self.wants_run(end - start, t.get(end).copied())
    }

    /// [`Base64Runs::wants`] of an alnum run of `len` bytes followed by `next` (the walk may already hold it).
    #[inline(always)]
    pub(super) fn wants_run(&self, len: usize, next: Option<u8>) -> bool {
        self.count > 0 || len >= 40 || matches!(next, Some(b'+' | b'/' | b'='))
    }

    /// The alnum run `start..end`, when [`Base64Runs::wants`] it: the span of an identifiable key ending here, if
    /// any.
    pub(super) fn run(&mut self, t: &[u8], start: usize, end: usize) -> Option<(usize, usize)> {
        let prev = if start > 0 { t[start - 1] } else { 0 };
        if self.count == 0 || (prev != b'+' && prev != b'/') {
            self.starts[0] = start;
            self.count = 1;
        } else if prev == b'/' && self.count < self.starts.len() {
            self.starts[self.count] = start;
            self.count += 1;
        }
        self.run_end_slow(t, end)
    }

    pub(super) fn reset(&mut self) {
        self.count = 0;
    }

    fn run_end_slow(&mut self, t: &[u8], e: usize) -> Option<(usize, usize)> {
        let mut end = e;
        while end < t.len() && t[end] == b'=' && end - e < 2 {
            end += 1;
        }
        // A key ends before a byte outside `A-Z a-z 0-9 + =`; a `+` right after the run continues it.
        if t.get(end).is_some_and(|b| is(*b, ALNUM) || *b == b'+' || *b == b'=') {
            if end > e {
                self.count = 0;
            }
            return None;
        }
        for k in 0..self.count {
            let start = self.starts[k];
            let len = end - start;
            if !matches!(len, 44 | 52 | 56 | 84 | 88) {
                continue;
            }
            if start > 0 && (is(t[start - 1], ALNUM) || t[start - 1] == b'+') {
                continue;
            }
            let key = &t[start..end];
            let signed = SIGNATURES
                .iter()
                .any(|(total, at, sig)| *total == len && key[*at..].starts_with(sig));
            // Padding only at the end.
            let body_ok = || {
                key.iter()
                    .rposition(|b| *b != b'=')
                    .is_some_and(|last| !key[..last].contains(&b'='))
            };
            if signed && body_ok() {
                self.count = 0;
                return Some((start, end));
            }
        }
        if t.get(end) != Some(&b'/') {
            self.count = 0;
        }
        None
    }
}

/// A `.`: Discord bot tokens, `<M|N|O + 22..27>.<6..7>.<27..40>` (base64url), whose first segment decodes to the
/// bot's numeric user id.
pub(super) fn dot(s: &mut Scanner<'_>, i: usize) {
    let t = s.t;
    // Cheapest test first: the second dot 7 or 8 bytes on.
    if !(t.get(i + 7) == Some(&b'.') || t.get(i + 8) == Some(&b'.')) || !s.wants(u16::from(DISCORD_TOKEN)) {
        return;
    }
    let mid = run_len(t, i + 1, B64URL, 8);
    if !(6..=7).contains(&mid) || t.get(i + 1 + mid) != Some(&b'.') {
        return;
    }
    let mut head = run_len_back(t, i, B64URL, 32);
    while head > 23 && !is(t[i - head], ALNUM) {
        head -= 1;
    }
    if !(23..=28).contains(&head) || !matches!(t[i - head], b'M' | b'N' | b'O') {
        return;
    }
    let tail_from = i + 2 + mid;
    let mut tail = run_len(t, tail_from, B64URL, 48);
    while tail > 40 && !is(t[tail_from + tail - 1], ALNUM) {
        tail -= 1;
    }
    if !(27..=40).contains(&tail) || alnum_at(t, tail_from + tail) {
        return;
    }
    let id = b64_decode(&t[i - head..i], true);
    if id.is_some_and(|d| (17..=20).contains(&d.len()) && d.iter().all(u8::is_ascii_digit)) {
        s.push(i - head, tail_from + tail, DISCORD_TOKEN);
    }
}

/// A `~`: Azure AD client secrets, `<3 bytes>(7|8)Q~<31..34 bytes>` (alnum and `_ ~ . -`).
pub(super) fn tilde(s: &mut Scanner<'_>, i: usize) {
    let t = s.t;
    if i < 5 || t[i - 1] != b'Q' || !matches!(t[i - 2], b'7' | b'8') || !s.wants(u16::from(AZURE_KEY)) {
        return;
    }
    let start = i - 5;
    if run_len(t, start, CS_Q, 3) < 3 || (start > 0 && is(t[start - 1], ALNUM)) {
        return;
    }
    let mut n = run_len(t, i + 1, CS_Q, 64);
    // A sentence's full stop, or punctuation glued after the secret, is not part of it.
    while n > 31 && (t[i + n] == b'.' || (n > 34 && !is(t[i + n], ALNUM))) {
        n -= 1;
    }
    if (31..=34).contains(&n) && !alnum_at(t, i + 1 + n) {
        s.push(start, i + 1 + n, AZURE_KEY);
    }
}

/// A `:` after digits: Telegram bot tokens, `<8-10 digits>:A<34 base64url>` at a token start.
pub(super) fn telegram(s: &mut Scanner<'_>, i: usize) {
    let t = s.t;
    if t.get(i + 1) != Some(&b'A') || !s.wants(u16::from(TELEGRAM_TOKEN)) {
        return;
    }
    let digits = run_len_back(t, i, super::charset::DIGIT, 11);
    let start = i - digits;
    if !(8..=10).contains(&digits) || (start > 0 && is(t[start - 1], ALNUM)) {
        return;
    }
    if run_len(t, i + 2, B64URL, 34) == 34 && !alnum_at(t, i + 36) {
        s.push(start, i + 36, TELEGRAM_TOKEN);
    }
}
