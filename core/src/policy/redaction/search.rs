//! Byte search: the first occurrence of a needle, exactly or ignoring ASCII case (a scan for its first byte, then a
//! comparison).

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
        let off = t[at..=t.len() - needle.len()].iter().position(|b| *b == first)?;
        at += off;
        if &t[at + 1..at + needle.len()] == rest {
            return Some(at);
        }
        at += 1;
    }
    None
}
