//! Base64 decoding, for the checks that look inside a token (a `Basic` credential's `user:password`, a Discord
//! token's user id, a base64-wrapped PEM header).

/// Decodes base64 (standard, or URL-safe when `url`), ignoring `=` padding; `None` on any other byte or a
/// dangling 6 bits.
pub(super) fn b64_decode(input: &[u8], url: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in input.iter().take_while(|b| **b != b'=') {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' if !url => 62,
            b'/' if !url => 63,
            b'-' if url => 62,
            b'_' if url => 63,
            _ => return None,
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    (bits < 6).then_some(out)
}
