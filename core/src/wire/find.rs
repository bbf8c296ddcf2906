//! Finding the first byte of a kind in a buffer, eight bytes per step (a word at a time: the `.wasm` has no
//! SIMD, and a byte loop costs several instructions per byte of every streamed event).

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `word` that is zero (and possibly in bytes above one: callers only use it to
/// tell whether a word needs a closer look, never to locate the byte).
fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(ONES) & !word & HIGHS
}

fn equal_bytes(word: u64, byte: u8) -> u64 {
    zero_bytes(word ^ (ONES * u64::from(byte)))
}

/// High bit set in each byte below `limit` (at most 128), with the same caveat.
fn bytes_below(word: u64, limit: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(limit)) & !word & HIGHS
}

/// Index, from `from`, of the first byte for which `is` holds; `candidates` flags the words that may hold one.
#[inline(always)]
fn first(buf: &[u8], from: usize, candidates: impl Fn(u64) -> u64, is: impl Fn(u8) -> bool) -> Option<usize> {
    let mut i = from;
    while let Some(word) = buf.get(i..i + 8) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        if candidates(u64::from_le_bytes(bytes)) != 0 {
            break;
        }
        i += 8;
    }
    buf.get(i..)?.iter().position(|&b| is(b)).map(|p| i + p)
}

/// The first `\n` or `\r` at or after `from`.
pub(crate) fn line_end(buf: &[u8], from: usize) -> Option<usize> {
    first(
        buf,
        from,
        |w| equal_bytes(w, b'\n') | equal_bytes(w, b'\r'),
        |b| b == b'\n' || b == b'\r',
    )
}

/// The first byte at or after `from` that ends a plain run of JSON string bytes: `"`, `\` or a control
/// character.
pub(crate) fn string_special(buf: &[u8], from: usize) -> Option<usize> {
    first(
        buf,
        from,
        |w| equal_bytes(w, b'"') | equal_bytes(w, b'\\') | bytes_below(w, 0x20),
        |b| b == b'"' || b == b'\\' || b < 0x20,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_a_byte_loop_finds_at_every_position_and_offset() {
        let specials = [b'\n', b'\r', b'"', b'\\', 0x00, 0x1f, b' ', 0x7f, 0x80, 0xff, b'a'];
        for len in 0..40 {
            for at in 0..len {
                for &s in &specials {
                    let mut buf = vec![b'x'; len];
                    buf[at] = s;
                    for from in 0..=len {
                        let lines = buf[from..]
                            .iter()
                            .position(|&b| b == b'\n' || b == b'\r')
                            .map(|p| p + from);
                        assert_eq!(line_end(&buf, from), lines, "{buf:?} from {from}");
                        let strings = buf[from..]
                            .iter()
                            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                            .map(|p| p + from);
                        assert_eq!(string_special(&buf, from), strings, "{buf:?} from {from}");
                    }
                }
            }
        }
        assert_eq!(line_end(b"abc", 9), None);
    }
}
