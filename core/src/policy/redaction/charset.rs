//! Byte classes for the scanner: one table lookup tells which charsets a byte belongs to, so a run of a charset is
//! `while CLASS[b] & set != 0`. ASCII only; bytes ≥ 0x80 belong to no charset but [`NON_ASCII`].

/// A set of charsets (bits of [`CLASS`]).
pub(super) type Charset = u32;

/// `A-Z a-z 0-9`.
pub(super) const ALNUM: Charset = 1;
/// `a-z 0-9`.
pub(super) const LOWER_ALNUM: Charset = 1 << 1;
/// `A-Z 0-9`.
pub(super) const UPPER_ALNUM: Charset = 1 << 2;
/// `A-Z a-z`.
pub(super) const LETTER: Charset = 1 << 3;
/// `0-9 a-f`.
pub(super) const LOWER_HEX: Charset = 1 << 4;
/// `0-9 A-F`.
pub(super) const UPPER_HEX: Charset = 1 << 5;
/// `0-9 a-f A-F`.
pub(super) const HEX: Charset = 1 << 6;
/// Base64url: alnum, `_`, `-`.
pub(super) const B64URL: Charset = 1 << 7;
/// Alnum and `_`.
pub(super) const WORD: Charset = 1 << 8;
/// Base64: alnum, `+`, `/` (padding is separate).
pub(super) const B64: Charset = 1 << 9;
/// `0-9`.
pub(super) const DIGIT: Charset = 1 << 10;
/// RFC 4648 base32: `A-Z 2-7`.
pub(super) const BASE32: Charset = 1 << 11;
/// `a-z 2-7`.
pub(super) const LOWER_BASE32: Charset = 1 << 12;
/// Bech32, upper case.
pub(super) const BECH32: Charset = 1 << 13;
/// Alnum and `_ . = -` (PlanetScale, Typeform, GitLab bodies).
pub(super) const CS_P: Charset = 1 << 14;
/// Alnum and `_ ~ . -` (Azure AD client secrets).
pub(super) const CS_Q: Charset = 1 << 15;
/// Alnum and `-` (Slack bodies).
pub(super) const CS_K: Charset = 1 << 16;
/// Alnum and `_ = -` (Atlassian, Figma, Duffel bodies).
pub(super) const CS_E: Charset = 1 << 17;
/// Alnum and `+ / @ _ -` (Bitbucket Data Center).
pub(super) const CS_C: Charset = 1 << 18;
/// Alnum and `%` (Twitter bearer tokens).
pub(super) const CS_Z: Charset = 1 << 19;
/// Alnum and `@ / _ . = -` (URL paths of webhooks).
pub(super) const URL_PATH: Charset = 1 << 20;
/// `a-z`.
pub(super) const LOWER: Charset = 1 << 21;
/// `A-Z`.
pub(super) const UPPER: Charset = 1 << 22;
/// Bytes ≥ 0x80 (UTF-8 lead and continuation bytes).
pub(super) const NON_ASCII: Charset = 1 << 23;
/// Space and tab.
pub(super) const BLANK: Charset = 1 << 24;
/// Base64 with `=`: the value charset of keyword-anchored AWS secrets.
pub(super) const B64_PAD: Charset = 1 << 25;
/// Bytes of an assignment key: alnum and `_ . -`.
pub(super) const KEY: Charset = 1 << 26;
/// `\`.
pub(super) const BACKSLASH: Charset = 1 << 27;
/// The boundary bytes the scanner checks on their own (`@ : = - . ~ +`); every other byte outside a token is passed
/// over with one table test.
pub(super) const TRIGGER: Charset = 1 << 28;

const fn class_of(b: u8) -> Charset {
    let lower = b.is_ascii_lowercase();
    let upper = b.is_ascii_uppercase();
    let digit = b.is_ascii_digit();
    let alnum = lower || upper || digit;
    let mut c = 0;
    if alnum {
        c |= ALNUM | B64URL | WORD | B64 | CS_P | CS_Q | CS_K | CS_E | CS_C | CS_Z | URL_PATH | B64_PAD | KEY;
    }
    if lower {
        c |= LOWER | LETTER | LOWER_ALNUM;
    }
    if upper {
        c |= UPPER | LETTER | UPPER_ALNUM;
    }
    if digit {
        c |= DIGIT | LOWER_ALNUM | UPPER_ALNUM | HEX | LOWER_HEX | UPPER_HEX;
    }
    if matches!(b, b'a'..=b'f') {
        c |= HEX | LOWER_HEX;
    }
    if matches!(b, b'A'..=b'F') {
        c |= HEX | UPPER_HEX;
    }
    if upper || matches!(b, b'2'..=b'7') {
        c |= BASE32;
    }
    if lower || matches!(b, b'2'..=b'7') {
        c |= LOWER_BASE32;
    }
    if matches!(
        b,
        b'Q' | b'P'
            | b'Z'
            | b'R'
            | b'Y'
            | b'9'
            | b'X'
            | b'8'
            | b'G'
            | b'F'
            | b'2'
            | b'T'
            | b'V'
            | b'D'
            | b'W'
            | b'0'
            | b'S'
            | b'3'
            | b'J'
            | b'N'
            | b'5'
            | b'4'
            | b'K'
            | b'H'
            | b'C'
            | b'E'
            | b'6'
            | b'M'
            | b'U'
            | b'A'
            | b'7'
            | b'L'
    ) {
        c |= BECH32;
    }
    if matches!(b, b'@' | b':' | b'=' | b'-' | b'.' | b'~' | b'+') {
        c |= TRIGGER;
    }
    match b {
        b'_' => c |= B64URL | WORD | CS_P | CS_Q | CS_E | CS_C | URL_PATH | KEY,
        b'-' => c |= B64URL | CS_P | CS_Q | CS_K | CS_E | CS_C | URL_PATH | KEY,
        b'+' => c |= B64 | CS_C | B64_PAD,
        b'/' => c |= B64 | CS_C | URL_PATH | B64_PAD,
        b'.' => c |= CS_P | CS_Q | URL_PATH | KEY,
        b'=' => c |= CS_P | CS_E | URL_PATH | B64_PAD,
        b'~' => c |= CS_Q,
        b'@' => c |= CS_C | URL_PATH,
        b'%' => c |= CS_Z,
        b' ' | b'\t' => c |= BLANK,
        b'\\' => c |= BACKSLASH,
        0x80..=0xff => c |= NON_ASCII,
        _ => {}
    }
    c
}

/// The charsets of every byte.
pub(super) static CLASS: [Charset; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = class_of(b as u8);
        b += 1;
    }
    table
};

/// Whether `b` is in `set`.
#[inline(always)]
pub(super) fn is(b: u8, set: Charset) -> bool {
    CLASS[usize::from(b)] & set != 0
}

/// Whether `b` is `A-Z a-z 0-9`: the token boundary of §2 (anything else may precede or follow a token).
#[inline(always)]
pub(super) fn is_alnum(b: u8) -> bool {
    is(b, ALNUM)
}

/// Whether the byte at `i` (if any) is alnum.
#[inline(always)]
pub(super) fn alnum_at(t: &[u8], i: usize) -> bool {
    t.get(i).is_some_and(|b| is_alnum(*b))
}

/// The end of the run of alnum bytes from `from`: eight bytes at a time (a word's test of every byte at once), then
/// one at a time. The scanner's hot loop: most bytes of a text are inside words.
#[inline]
pub(super) fn alnum_run_end(t: &[u8], from: usize) -> usize {
    let mut j = from;
    while let Some(x) = word_at(t, j) {
        let stop = not_alnum(x);
        if stop != 0 {
            return j + (stop.trailing_zeros() / 8) as usize;
        }
        j += 8;
    }
    while j < t.len() && is_alnum(t[j]) {
        j += 1;
    }
    j
}

/// The eight bytes at `i` as one little-endian word, when there are eight.
#[inline(always)]
pub(super) fn word_at(t: &[u8], i: usize) -> Option<u64> {
    let chunk = t.get(i..i + 8)?;
    let mut word = [0u8; 8];
    word.copy_from_slice(chunk);
    Some(u64::from_le_bytes(word))
}

/// The high bit of every byte of `x` that is not `A-Z a-z 0-9` (a word's test of eight bytes at once).
#[inline(always)]
pub(super) fn not_alnum(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Per byte, the high bit set when `lo <= v <= hi` (every byte of `v` below 0x80, so no carry crosses bytes).
    let in_range = |v: u64, lo: u64, hi: u64| (v + (0x80 - lo) * ONES) & !(v + (0x7f - hi) * ONES) & HIGH;
    let ascii = x & !HIGH;
    let alnum = (in_range(ascii | 0x2020_2020_2020_2020, 0x61, 0x7a) | in_range(ascii, 0x30, 0x39)) & !x;
    !alnum & HIGH
}

/// Whether two byte strings are equal, compared inline (a short comparison costs less than a call to `memcmp`).
#[inline]
pub(super) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Length of the run of `set` bytes from `from`, counting at most `cap`.
#[inline]
pub(super) fn run_len(t: &[u8], from: usize, set: Charset, cap: usize) -> usize {
    // Over a slice cut to the cap: one bounds check, not one per byte.
    let Some(rest) = t.get(from..) else {
        return 0;
    };
    let window = &rest[..rest.len().min(cap)];
    window.iter().position(|b| !is(*b, set)).unwrap_or(window.len())
}

/// Length of the run of `set` bytes ending just before `end`, counting at most `cap`.
#[inline]
pub(super) fn run_len_back(t: &[u8], end: usize, set: Charset, cap: usize) -> usize {
    let mut n = 0;
    while n < cap && n < end && is(t[end - n - 1], set) {
        n += 1;
    }
    n
}

/// A set of bytes tested with one table lookup: the delimiter sets of value readers, which a `b"…".contains(&b)`
/// would compare byte by byte for every byte of a value.
pub(super) struct ByteSet([bool; 256]);

impl ByteSet {
    /// `bytes`, plus ASCII whitespace (`\t \n \x0c \r` and space) when `whitespace`.
    pub(super) const fn of(bytes: &[u8], whitespace: bool) -> ByteSet {
        let mut table = [false; 256];
        let mut i = 0;
        while i < bytes.len() {
            table[bytes[i] as usize] = true;
            i += 1;
        }
        if whitespace {
            let mut w = [b'\t', b'\n', 0x0c, b'\r', b' '].as_slice();
            while let [b, rest @ ..] = w {
                table[*b as usize] = true;
                w = rest;
            }
        }
        ByteSet(table)
    }

    /// `A-Z a-z 0-9` and `bytes`.
    pub(super) const fn alnum_and(bytes: &[u8]) -> ByteSet {
        let mut set = ByteSet::of(bytes, false);
        let mut b = 0;
        while b < 256 {
            if CLASS[b] & ALNUM != 0 {
                set.0[b] = true;
            }
            b += 1;
        }
        set
    }

    #[inline(always)]
    pub(super) fn has(&self, b: u8) -> bool {
        self.0[usize::from(b)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sets_hold_exactly_their_bytes() {
        let delimiters = ByteSet::of(b",;\"", true);
        let alnum_dash = ByteSet::alnum_and(b"-");
        for b in 0..=255u8 {
            assert_eq!(
                delimiters.has(b),
                b",;\"".contains(&b) || b.is_ascii_whitespace(),
                "{b}"
            );
            assert_eq!(alnum_dash.has(b), b.is_ascii_alphanumeric() || b == b'-', "{b}");
        }
    }

    #[test]
    fn not_alnum_marks_every_byte_outside_a_z_a_z_0_9() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut word = *b"aZ09bY18";
                word[at] = b;
                let stop = not_alnum(u64::from_le_bytes(word));
                let expected = if b.is_ascii_alphanumeric() {
                    0
                } else {
                    0x80u64 << (8 * at)
                };
                assert_eq!(stop, expected, "byte {b} at {at}");
            }
        }
    }
}
