//! The single-pass scanner: one walk over the bytes finds every built-in detector's values and the custom literals.
//!
//! Alnum runs are skipped in a tight loop. At a token start (the previous byte is not `A-Z a-z 0-9`) the first two
//! bytes are looked up in a bitmap of every literal anchor (credential prefixes, `Bearer`, `Basic`, custom literals);
//! a hit compares the few anchors that start with those bytes, longest first. A digit at a token start goes to the
//! numeric tokenizer (cards, SSNs, IPv4, phones). A handful of boundary bytes (`@ : = ~ - . + (`) trigger their own
//! checks (emails, assignments and headers, URL passwords, IPv6, PEM blocks, ...). Verification only runs at
//! candidates, so a clean text costs the walk and little else.

use super::charset::{
    alnum_run_end, is, is_alnum, not_alnum, same, word_at, ALNUM, CLASS, DIGIT, LETTER, TRIGGER, UPPER,
};
use super::phones::Regions;
use super::scanner::{Finding, Scanner};
use super::search::find_ignore_case;
use super::{catalog, email, infix, keys, numbers, tokens};

/// What an anchor leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lead {
    /// A catalog shape (index into [`catalog::SHAPES`]).
    Shape(u16),
    /// A custom literal list's detector.
    Literal(u16),
    /// Other anchored families.
    Token(tokens::Anchored),
}

#[derive(Debug, Clone)]
struct Anchor {
    bytes: Vec<u8>,
    /// Matched ignoring ASCII case (the entry is stored once per case variant of its first two bytes).
    fold: bool,
    lead: Lead,
}

/// The anchors that start with two given bytes.
#[derive(Debug, Clone)]
struct Bucket {
    b1: u8,
    /// `anchors[start..end]`.
    start: u32,
    end: u32,
    /// Bit `b` set when some anchor here has `b` as its third byte (all set for a two-byte anchor): most words
    /// that share two bytes with an anchor (`because`, `second`) are turned away here.
    third: [u64; 4],
}

/// The tables a scan needs, built once per configuration.
#[derive(Clone)]
pub(super) struct Engine {
    /// Bit [`head_key`] of the first three bytes is set when some anchor may start with them (a two-byte anchor
    /// sets every third byte): the only lookup at most token starts.
    heads: Box<[u64; 1024]>,
    /// Anchors sorted by first byte, second byte, then longest first.
    anchors: Vec<Anchor>,
    /// One bucket per first two bytes, sorted by them.
    buckets: Vec<Bucket>,
    /// `buckets[first[b]..first[b + 1]]` start with byte `b`.
    first: Box<[u16; 257]>,
    pub(super) regions: Regions,
    /// Custom literals that start with a byte that is not alnum: searched on their own.
    unanchored: Vec<(Vec<u8>, u16)>,
    /// Some custom literal is configured (a literal may be a plain lower-case word).
    pub(super) literals: bool,
}

impl Engine {
    /// Tables for the built-in anchors, the phone regions and the custom literal lists (`(detector, literals)`,
    /// literals lower-cased).
    pub(super) fn new(regions: Regions, literals: &[(u16, Vec<Vec<u8>>)]) -> Engine {
        let mut anchors: Vec<Anchor> = Vec::new();
        for (i, shape) in catalog::SHAPES.iter().enumerate() {
            anchors.push(Anchor {
                bytes: shape.anchor.to_vec(),
                fold: false,
                lead: Lead::Shape(i as u16),
            });
        }
        for (bytes, fold, kind) in tokens::ANCHORS {
            anchors.push(Anchor {
                bytes: bytes.to_vec(),
                fold: *fold,
                lead: Lead::Token(*kind),
            });
        }
        let mut unanchored = Vec::new();
        let any_literal = literals.iter().any(|(_, list)| !list.is_empty());
        for (det, list) in literals {
            for literal in list {
                match literal.first() {
                    Some(b) if is_alnum(*b) => anchors.push(Anchor {
                        bytes: literal.clone(),
                        fold: true,
                        lead: Lead::Literal(*det),
                    }),
                    Some(_) => unanchored.push((literal.clone(), *det)),
                    None => {}
                }
            }
        }
        // One entry per case variant of the first two bytes of a case-insensitive anchor.
        let mut entries: Vec<Anchor> = Vec::new();
        for a in anchors {
            if !a.fold {
                entries.push(a);
                continue;
            }
            let mut variants = vec![a.bytes.clone()];
            for k in 0..a.bytes.len().min(2) {
                let mut more = Vec::new();
                for v in &variants {
                    for c in [v[k].to_ascii_lowercase(), v[k].to_ascii_uppercase()] {
                        let mut w = v.clone();
                        w[k] = c;
                        if !variants.contains(&w) && !more.contains(&w) {
                            more.push(w);
                        }
                    }
                }
                variants.extend(more);
            }
            for bytes in variants {
                entries.push(Anchor { bytes, ..a.clone() });
            }
        }
        entries.sort_by(|a, b| {
            let key = |x: &Anchor| (x.bytes[0], x.bytes.get(1).copied().unwrap_or(0));
            key(a).cmp(&key(b)).then(b.bytes.len().cmp(&a.bytes.len()))
        });
        let mut heads = Box::new([0u64; 1024]);
        let mut buckets: Vec<Bucket> = Vec::new();
        let mut first = Box::new([0u16; 257]);
        let mut b0s: Vec<u8> = Vec::new();
        for (k, a) in entries.iter().enumerate() {
            let (b0, b1) = (a.bytes[0], a.bytes.get(1).copied().unwrap_or(0));
            match a.bytes.get(2) {
                Some(&c) if a.fold => {
                    set_head(&mut heads, b0, b1, c.to_ascii_lowercase());
                    set_head(&mut heads, b0, b1, c.to_ascii_uppercase());
                }
                Some(&c) => set_head(&mut heads, b0, b1, c),
                None => (0..=255u8).for_each(|c| set_head(&mut heads, b0, b1, c)),
            }
            let new_bucket = buckets.last().is_none_or(|x| x.b1 != b1) || b0s.last() != Some(&b0);
            if new_bucket {
                buckets.push(Bucket {
                    b1,
                    start: k as u32,
                    end: k as u32,
                    third: [0; 4],
                });
                b0s.push(b0);
            }
            if let Some(bucket) = buckets.last_mut() {
                bucket.end = k as u32 + 1;
                match a.bytes.get(2) {
                    Some(&c) if a.fold => {
                        for c in [c.to_ascii_lowercase(), c.to_ascii_uppercase()] {
                            bucket.third[usize::from(c >> 6)] |= 1 << (c & 63);
                        }
                    }
                    Some(&c) => bucket.third[usize::from(c >> 6)] |= 1 << (c & 63),
                    None => bucket.third = [u64::MAX; 4],
                }
            }
        }
        let mut at = 0usize;
        for b in 0..=256usize {
            while at < b0s.len() && usize::from(b0s[at]) < b {
                at += 1;
            }
            first[b] = at as u16;
        }
        Engine {
            heads,
            anchors: entries,
            buckets,
            first,
            regions,
            unanchored,
            literals: any_literal,
        }
    }

    /// Every value in `text` of the detectors `on` allows, pushed to `out` (unsorted, possibly overlapping).
    pub(super) fn scan(&self, text: &str, on: &[bool], out: &mut Vec<Finding>) {
        let mut s = Scanner {
            t: text.as_bytes(),
            on,
            regions: self.regions,
            out,
            ipv6_checked_until: 0,
            searches: [(&[], 0, None); 3],
            limit: text.len(),
        };
        self.run(&mut s);
        for (literal, det) in &self.unanchored {
            Engine::unanchored_literal(&mut s, literal, *det);
        }
    }

    /// Whether some anchor may start with the bytes at `i`: one bit test, the only cost at most token starts.
    #[inline(always)]
    fn may_anchor(&self, t: &[u8], i: usize) -> bool {
        let b1 = t.get(i + 1).copied().unwrap_or(0);
        let b2 = t.get(i + 2).copied().unwrap_or(0);
        let key = head_key(t[i], b1, b2);
        self.heads[key >> 6] >> (key & 63) & 1 != 0
    }

    /// The anchored value starting at `i` (a token start), if any: the span and its detector.
    #[inline(never)]
    fn anchored(&self, s: &mut Scanner<'_>, i: usize) -> Option<(usize, usize, u16)> {
        let t = s.t;
        let b0 = t[i];
        let b1 = t.get(i + 1).copied().unwrap_or(0);
        let buckets =
            &self.buckets[usize::from(self.first[usize::from(b0)])..usize::from(self.first[usize::from(b0) + 1])];
        let bucket = buckets.iter().find(|x| x.b1 == b1)?;
        let c = t.get(i + 2).copied().unwrap_or(0);
        if bucket.third[usize::from(c >> 6)] >> (c & 63) & 1 == 0 {
            return None;
        }
        let mut best: Option<(usize, usize, u16)> = None;
        let mut best_len = 0;
        let mut claimed: Option<(&[u8], u16)> = None;
        for a in &self.anchors[bucket.start as usize..bucket.end as usize] {
            // Longest anchor first; among anchors of one length the longest span wins.
            if best.is_some() && a.bytes.len() < best_len {
                break;
            }
            let Some(head) = t.get(i..i + a.bytes.len()) else {
                continue;
            };
            let equal = if a.fold {
                head.eq_ignore_ascii_case(&a.bytes)
            } else {
                same(head, &a.bytes)
            };
            if !equal {
                continue;
            }
            // A literal anchor ending in punctuation claims the token for its detector: when `sk-ant-…` fails its
            // shapes, the shorter `sk-` of another detector is not tried (a short `sk-ant-` is no OpenAI key).
            if let (Some((c, det)), Lead::Shape(k)) = (claimed, a.lead) {
                if c.starts_with(&a.bytes) && u16::from(catalog::SHAPES[usize::from(k)].det) != det {
                    continue;
                }
            }
            let found = verify(s, a, i);
            match found {
                Some(f) if best.is_none_or(|b| f.1 > b.1) => {
                    best = Some(f);
                    best_len = a.bytes.len();
                }
                None if claimed.is_none() && a.bytes.last().is_some_and(|b| !is_alnum(*b)) => {
                    if let Lead::Shape(k) = a.lead {
                        claimed = Some((&a.bytes, u16::from(catalog::SHAPES[usize::from(k)].det)));
                    }
                }
                _ => {}
            }
        }
        best
    }
}

/// What the anchor `a`, whose bytes are at `i`, leads to there: the value's span and detector, if it verifies.
/// Kept out of line: the anchor loop stays small, and most candidates never get here.
#[inline(never)]
fn verify(s: &mut Scanner<'_>, a: &Anchor, i: usize) -> Option<(usize, usize, u16)> {
    let t = s.t;
    match a.lead {
        Lead::Shape(k) => {
            let shape = &catalog::SHAPES[usize::from(k)];
            if !s.wants(u16::from(shape.det)) {
                return None;
            }
            shape.find(t, i).map(|(st, e)| (st, e, u16::from(shape.det)))
        }
        Lead::Literal(det) => {
            let end = i + a.bytes.len();
            let bounded = (i == 0 || !is_word(t[i - 1])) && t.get(end).is_none_or(|b| !is_word(*b));
            (bounded && s.wants(det)).then_some((i, end, det))
        }
        Lead::Token(kind) => tokens::find_anchored(s, kind, i).map(|(st, e, d)| (st, e, u16::from(d))),
    }
}

/// A 16-bit hash of a token's first three bytes (collisions only cost a look at the anchor table).
#[inline(always)]
fn head_key(b0: u8, b1: u8, b2: u8) -> usize {
    head_key_of(u32::from_le_bytes([b0, b1, b2, 0]))
}

/// [`head_key`] of the first three bytes of a little-endian word (the walk reads eight bytes at once).
#[inline(always)]
fn head_key_of(x: u32) -> usize {
    ((x & 0x00ff_ffff).wrapping_mul(0x9E37_79B1) >> 16) as usize
}

fn set_head(heads: &mut [u64; 1024], b0: u8, b1: u8, b2: u8) {
    let key = head_key(b0, b1, b2);
    heads[key >> 6] |= 1 << (key & 63);
}

/// `A-Z a-z 0-9 _`: the boundary of custom literals ("word boundaries").
pub(super) fn is_word(b: u8) -> bool {
    is_alnum(b) || b == b'_'
}

impl Engine {
    fn run(&self, s: &mut Scanner<'_>) {
        let t = s.t;
        let mut b64 = infix::Base64Runs::default();
        let n = t.len();
        let mut i = 0;
        // The walk ends early after a value that runs to the end of the text (`s.limit`, read after each boundary
        // check; a token's value that runs to the end ends the walk by itself).
        let mut limit = n;
        while i < limit {
            let b = t[i];
            let class = CLASS[usize::from(b)];
            if class & ALNUM != 0 {
                i = self.token(s, &mut b64, i);
                continue;
            }
            // Blanks, most punctuation and non-ASCII bytes: nothing starts there.
            if class & TRIGGER == 0 {
                i += 1;
                continue;
            }
            match b {
                b'@' => email::at_sign(s, i),
                b':' => keys::colon(s, i),
                b'=' => keys::equals(s, i),
                b'-' => tokens::dash(s, i),
                b'.' => infix::dot(s, i),
                b'~' => infix::tilde(s, i),
                // `(` before a number is handled by the number's own token (`(555) 123-4567`).
                b'+' if t.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                    if let Some(end) = numbers::scan(s, i) {
                        i = end.max(i + 1);
                        // A number glued to a word is part of that word.
                        while i < n && is_alnum(t[i]) {
                            i += 1;
                        }
                        continue;
                    }
                }
                _ => {
                    i += 1;
                    continue;
                }
            }
            limit = s.limit;
            i += 1;
        }
    }

    /// A token starts at `i`: anchored values, IBANs, numbers, then the rest of the alnum run. Returns where the
    /// scan goes on.
    #[inline(always)]
    fn token(&self, s: &mut Scanner<'_>, b64: &mut infix::Base64Runs, i: usize) -> usize {
        let t = s.t;
        // Most tokens are words that no anchor starts, one blank apart: they are read here, a word of eight bytes
        // at a time (the anchor lookup and, for a word shorter than eight bytes, where it ends), until a token or
        // byte that needs more. A digit opens a number, and a capital before a digit at `i + 2` may open an IBAN:
        // those take the full path. Words produce no finding, so reading past the walk's limit changes nothing.
        let mut at = i;
        while let Some(x) = word_at(t, at) {
            let [b0, _, b2, ..] = x.to_le_bytes();
            let key = head_key_of(x as u32);
            let plain = is(b0, LETTER) && !(is(b0, UPPER) && is(b2, DIGIT));
            if !plain || self.heads[key >> 6] >> (key & 63) & 1 != 0 {
                break;
            }
            let stop = not_alnum(x);
            let (end, next) = if stop != 0 {
                let k = stop.trailing_zeros() / 8;
                (at + k as usize, Some((x >> (k * 8)) as u8))
            } else {
                let end = alnum_run_end(t, at + 8);
                (end, t.get(end).copied())
            };
            if b64.wants_run(end - at, next) {
                return Engine::word_end(s, b64, at, end);
            }
            if next != Some(b' ') {
                return end;
            }
            // What follows the blank is looked at by the next round (a word goes on here, anything else returns).
            at = end + 1;
        }
        if at > i {
            return at;
        }
        let anchored = if self.may_anchor(t, i) {
            self.anchored(s, i)
        } else {
            None
        };
        if let Some((start, end, det)) = anchored {
            s.push_any(start, end, det);
            // A value masked after its anchor (`Bearer <token>`) may be a vendor key: scan it too.
            if start <= i {
                b64.reset();
                return end;
            }
        }
        let b = t[i];
        let mut j = i;
        if is(b, DIGIT) {
            if let Some(end) = numbers::scan(s, i) {
                j = end;
            }
        } else if is(b, UPPER) && t.get(i + 2).is_some_and(u8::is_ascii_digit) {
            if let Some(end) = numbers::iban(s, i) {
                b64.reset();
                return end;
            }
        }
        let j = alnum_run_end(t, j);
        Engine::word_end(s, b64, i, j)
    }

    /// The alnum run from a token start `i` ends at `j`: a base64 run may end there (Azure identifiable keys).
    /// Returns where the scan goes on.
    #[inline(always)]
    fn word_end(s: &mut Scanner<'_>, b64: &mut infix::Base64Runs, i: usize, j: usize) -> usize {
        if b64.wants(s.t, i, j) {
            if let Some((start, end)) = b64.run(s.t, i, j) {
                s.push(start, end, super::names::AZURE_KEY);
            }
        }
        // A single blank after a word is passed over here, not by the walk's dispatch.
        if s.t.get(j) == Some(&b' ') {
            return j + 1;
        }
        j.max(i + 1)
    }

    fn unanchored_literal(s: &mut Scanner<'_>, literal: &[u8], det: u16) {
        let t = s.t;
        let mut from = 0;
        while let Some(at) = find_ignore_case(t, from, literal) {
            let end = at + literal.len();
            from = at + 1;
            let alnum_first = literal.first().is_some_and(|b| is_word(*b));
            let alnum_last = literal.last().is_some_and(|b| is_word(*b));
            let before_ok = !alnum_first || at == 0 || !is_word(t[at - 1]);
            let after_ok = !alnum_last || t.get(end).is_none_or(|b| !is_word(*b));
            if before_ok && after_ok {
                s.push_any(at, end, det);
            }
        }
    }
}
