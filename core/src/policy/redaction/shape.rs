//! A credential shape (a literal anchor, then literals and charset runs) and how one is matched at a token start.
//!
//! Runs never backtrack: a fixed `{n}` run takes exactly n bytes of its charset; a `{m..n}` run takes the maximal run
//! and rejects the candidate when it is shorter than m or longer than n. The one exception is a variable run followed
//! by a fixed run of a narrower charset (Atlassian `e{150..250} H{8}`): the maximal run is taken and its last bytes
//! must be of the narrower charset. After the last segment the next byte must not be alnum.

use super::charset::{is, run_len, same, Charset, ALNUM, DIGIT, LOWER, UPPER};
use super::names::Det;

/// One segment after the anchor.
#[derive(Debug, Clone, Copy)]
pub(super) enum Seg {
    /// These exact bytes.
    Lit(&'static [u8]),
    /// A run of the charset, `min..=max` bytes.
    Run(Charset, u16, u16),
    /// Up to this many `=`.
    Pad(u8),
}

/// A check after the shape matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Check {
    None,
    /// The body holds at least two of lower case, upper case and digits (weak anchors such as `key-`, `oy2`).
    Mix,
    /// The anchor is a host's second label: it must follow a `.`, which the mask includes (Teams webhooks).
    AfterDot,
}

/// A credential anchored by a literal prefix.
#[derive(Debug)]
pub(super) struct Shape {
    pub(super) anchor: &'static [u8],
    pub(super) det: Det,
    pub(super) segs: &'static [Seg],
    pub(super) check: Check,
}

impl Shape {
    /// The span of this shape at `start` (where `t[start..]` begins with the anchor), if it matches.
    pub(super) fn find(&self, t: &[u8], start: usize) -> Option<(usize, usize)> {
        let body = start + self.anchor.len();
        let end = match_segs(t, body, self.segs, ALNUM)?;
        match self.check {
            Check::None => Some((start, end)),
            Check::Mix => mixed(&t[body..end]).then_some((start, end)),
            Check::AfterDot => (start > 0 && t[start - 1] == b'.').then(|| (start - 1, end)),
        }
    }
}

/// Matches `segs` from `at`; the end of the match when they all match and the next byte is not in `stop`.
pub(super) fn match_segs(t: &[u8], at: usize, segs: &[Seg], stop: Charset) -> Option<usize> {
    let mut p = at;
    let mut k = 0;
    while k < segs.len() {
        match segs[k] {
            Seg::Lit(l) => {
                if !same(t.get(p..p + l.len())?, l) {
                    return None;
                }
                p += l.len();
            }
            Seg::Run(set, min, max) if min == max => {
                let n = usize::from(min);
                if run_len(t, p, set, n) < n {
                    return None;
                }
                p += n;
            }
            Seg::Run(set, min, max) => {
                let (min, max) = (usize::from(min), usize::from(max));
                // A fixed run right after a variable one is its tail (in the catalog, always a narrower charset).
                if let Some(&Seg::Run(tail, n, n2)) = segs.get(k + 1) {
                    if n == n2 {
                        let n = usize::from(n);
                        let mut m = run_len(t, p, set, max + n + 16);
                        // Punctuation glued after the token (`_…_`) is not part of it.
                        while m > min + n && !is(t[p + m - 1], ALNUM) {
                            m -= 1;
                        }
                        if m < min + n || m > max + n || run_len(t, p + m - n, tail, n) < n {
                            return None;
                        }
                        p += m;
                        k += 2;
                        continue;
                    }
                }
                let mut m = run_len(t, p, set, max + 16);
                // Punctuation glued after a token that is already at its longest (`_…_`) is not part of it.
                while m > max && !is(t[p + m - 1], ALNUM) {
                    m -= 1;
                }
                if m < min || m > max {
                    return None;
                }
                p += m;
            }
            Seg::Pad(max) => {
                let n = t[p..]
                    .iter()
                    .take(usize::from(max) + 1)
                    .take_while(|b| **b == b'=')
                    .count();
                if n > usize::from(max) {
                    return None;
                }
                p += n;
            }
        }
        k += 1;
    }
    t.get(p).is_none_or(|b| !is(*b, stop)).then_some(p)
}

/// At least two of lower case, upper case and digits.
pub(super) fn mixed(body: &[u8]) -> bool {
    let (mut lower, mut upper, mut digit) = (false, false, false);
    for &b in body {
        lower |= is(b, LOWER);
        upper |= is(b, UPPER);
        digit |= is(b, DIGIT);
    }
    u8::from(lower) + u8::from(upper) + u8::from(digit) >= 2
}
