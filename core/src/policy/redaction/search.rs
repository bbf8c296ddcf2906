//! Byte search: the first occurrence of a needle, exactly or ignoring ASCII case (a scan for its first byte, then a
//! comparison).

use super::charset::word_at;

/// First position at or after `from` where `needle` (lower case) occurs, ignoring ASCII case.
pub(super) fn find_ignore_case(t: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut at = from;
    while at + needle.len() <= t.len() {
        let off = t[at..=t.len() - needle.len()]
            .iter()
            .position(|b| b.to_ascii_lowercase() == first)?;
        at += off;
        if t[at + 1..at + needle.len()].eq_ignore_ascii_case(rest) {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// First position at or after `from` where `needle` occurs.
pub(super) fn find(t: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut at = from;
    while at + needle.len() <= t.len() {
        at = find_byte(t, at, t.len() - needle.len() + 1, first)?;
        if &t[at + 1..at + needle.len()] == rest {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// First position of `byte` in `t[from..to]`: eight bytes at a time (a word's test of every byte at once), then one
/// at a time. A search may run over the rest of a long text (the end of a cut PEM block).
fn find_byte(t: &[u8], from: usize, to: usize, byte: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let pattern = ONES * u64::from(byte);
    let mut at = from;
    while at + 8 <= to {
        let Some(word) = word_at(t, at) else {
            break;
        };
        let x = word ^ pattern;
        // The high bit of each zero byte of `x` (exact: no borrow crosses into a byte that is not zero).
        let zero = !(((x & !HIGH) + !HIGH) | x) & HIGH;
        if zero != 0 {
            return Some(at + (zero.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    t.get(at..to)?.iter().position(|b| *b == byte).map(|k| at + k)
}
