//! IPv6 addresses, triggered by a `:` next to a hex digit or another `:`: the span of `0-9 A-F a-f : .` around it
//! (at most 45 bytes each way) is parsed with the standard library, so MACs, times and `std::vec` are left alone.
//! Brackets are boundaries (`[2001:db8::1]:443`); a zone (`fe80::1%eth0`) is masked with its address.

use super::charset::is_alnum;
use super::names::IP;
use super::scanner::Scanner;

fn is_v6(b: u8) -> bool {
    b.is_ascii_hexdigit() || b == b':' || b == b'.'
}

pub(super) fn check(s: &mut Scanner<'_>, i: usize) {
    if i < s.ipv6_checked_until || !s.wants(u16::from(IP)) {
        return;
    }
    let t = s.t;
    let mut start = i;
    while start > 0 && i - start < 45 && is_v6(t[start - 1]) {
        start -= 1;
    }
    let mut end = i;
    while end < t.len() && end - i < 45 && is_v6(t[end]) {
        end += 1;
    }
    s.ipv6_checked_until = end;
    // Not glued to a word before, and not a `::` path segment.
    if start > 0 && (is_alnum(t[start - 1]) || t[start - 1] == b'_') {
        return;
    }
    let mut stop = end;
    while stop > start && t[stop - 1] == b'.' {
        stop -= 1;
    }
    let candidate = &t[start..stop];
    let colons = candidate.iter().filter(|b| **b == b':').count();
    if colons < 2 || candidate.len() < 3 {
        return;
    }
    let mut masked_end = stop;
    if stop == end && t.get(stop) == Some(&b'%') {
        let zone = t[stop + 1..]
            .iter()
            .take(16)
            .take_while(|b| is_alnum(**b) || b"_.-".contains(b))
            .count();
        if zone > 0 {
            masked_end = stop + 1 + zone;
        }
    }
    if t.get(masked_end).is_some_and(|b| is_alnum(*b) || *b == b'_') {
        return;
    }
    let parsed = std::str::from_utf8(candidate)
        .ok()
        .and_then(|c| c.parse::<std::net::Ipv6Addr>().ok());
    if parsed.is_some() {
        s.push(start, masked_end, IP);
    }
}
