//! W3C Trace Context: joining an incoming `traceparent`, and generating trace and span ids.

/// Where the LLM span sits in a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TraceContext {
    pub(crate) trace_id: [u8; 16],
    /// Span id of the caller's span when the request carried a `traceparent`.
    pub(crate) parent_span_id: Option<[u8; 8]>,
    /// W3C trace flags (bit 0 = sampled).
    pub(crate) flags: u8,
    pub(crate) trace_state: String,
}

/// Longest `tracestate` carried over; the W3C limit is 32 members of at most 256 bytes, in practice far less.
const MAX_TRACE_STATE_BYTES: usize = 512;

impl TraceContext {
    /// Joins the caller's trace when `traceparent` is valid, else starts a new sampled trace.
    pub(crate) fn from_headers(
        traceparent: Option<&str>,
        tracestate: Option<&str>,
        ids: &mut IdGenerator,
    ) -> TraceContext {
        match traceparent.and_then(parse_traceparent) {
            Some((trace_id, parent, flags)) => TraceContext {
                trace_id,
                parent_span_id: Some(parent),
                flags,
                trace_state: tracestate
                    .filter(|s| s.len() <= MAX_TRACE_STATE_BYTES)
                    .unwrap_or_default()
                    .to_string(),
            },
            None => TraceContext {
                trace_id: ids.trace_id(),
                parent_span_id: None,
                flags: 0x01,
                trace_state: String::new(),
            },
        }
    }
}

/// Parses `version-traceid-parentid-flags`. Version `ff` and all-zero ids are invalid; future versions are accepted
/// when their first four fields have the version-00 shape, as the specification asks.
pub(crate) fn parse_traceparent(value: &str) -> Option<([u8; 16], [u8; 8], u8)> {
    let value = value.trim();
    let bytes = value.as_bytes();
    if bytes.len() < 55 || bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
        return None;
    }
    let version = hex_byte(&bytes[0..2])?;
    if version == 0xff || (version == 0 && bytes.len() != 55) || (bytes.len() > 55 && bytes[55] != b'-') {
        return None;
    }
    let mut trace_id = [0u8; 16];
    for (i, out) in trace_id.iter_mut().enumerate() {
        *out = hex_byte(&bytes[3 + 2 * i..5 + 2 * i])?;
    }
    let mut parent = [0u8; 8];
    for (i, out) in parent.iter_mut().enumerate() {
        *out = hex_byte(&bytes[36 + 2 * i..38 + 2 * i])?;
    }
    let flags = hex_byte(&bytes[53..55])?;
    if trace_id == [0; 16] || parent == [0; 8] {
        return None;
    }
    Some((trace_id, parent, flags))
}

/// A B3 context (Zipkin), single `b3: {trace}-{span}[-{sampled}[-{parent}]]` or multi-header
/// (`x-b3-traceid`, `x-b3-spanid`, `x-b3-sampled`), as the equivalent `traceparent`. 64-bit trace ids are
/// left-padded with zeros; the sampling states `1` and `d` (debug) mean sampled, `0` not, absent defers (sampled).
pub(crate) fn b3_to_traceparent(
    single: Option<&str>,
    trace_id: Option<&str>,
    span_id: Option<&str>,
    sampled: Option<&str>,
) -> Option<String> {
    let (trace, span, state) = match single.map(str::trim).filter(|s| !s.is_empty()) {
        Some(b3) => {
            let mut parts = b3.split('-');
            (parts.next()?, parts.next()?, parts.next())
        }
        None => (trace_id?.trim(), span_id?.trim(), sampled.map(str::trim)),
    };
    let lower_hex = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !(trace.len() == 16 || trace.len() == 32) || span.len() != 16 || !lower_hex(trace) || !lower_hex(span) {
        return None;
    }
    let flags = match state {
        Some("0") | Some("false") => "00",
        Some("1") | Some("d") | Some("true") | None => "01",
        Some(_) => return None,
    };
    let padded = format!("{trace:0>32}");
    parse_traceparent(&format!("00-{padded}-{span}-{flags}")).map(|_| format!("00-{padded}-{span}-{flags}"))
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None, // W3C requires lower-case hex.
    };
    Some(digit(*pair.first()?)? << 4 | digit(*pair.get(1)?)?)
}

/// An id from its hex form (either case, as a caller may send it back); `None` when malformed or all zero.
pub(crate) fn from_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    if bytes.len() != 2 * N {
        return None;
    }
    let mut id = [0u8; N];
    for (i, out) in id.iter_mut().enumerate() {
        *out = hex_byte(&bytes[2 * i..2 * i + 2])?;
    }
    (id != [0u8; N]).then_some(id)
}

/// Lower-case hex of an id, for logs and headers.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push_hex(&mut s, bytes);
    s
}

fn push_hex(s: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0x0f) as usize] as char);
    }
}

/// A W3C `traceparent` value, `00-<trace id>-<span id>-<flags>`, written without the formatting machinery (it is
/// made on every call, for the upstream request and the response's trace context).
pub(crate) fn traceparent_value(trace_id: &[u8; 16], span_id: &[u8; 8], flags: u8) -> String {
    let mut s = String::with_capacity(55);
    s.push_str("00-");
    push_hex(&mut s, trace_id);
    s.push('-');
    push_hex(&mut s, span_id);
    s.push('-');
    push_hex(&mut s, &[flags]);
    s
}

/// Fast id source (xoshiro256++), seeded once per VM from the host's entropy; ids need uniqueness, not secrecy.
#[derive(Debug, Clone)]
pub(crate) struct IdGenerator {
    state: [u64; 4],
}

impl IdGenerator {
    pub(crate) fn from_seed(seed: [u8; 32]) -> Self {
        let mut state = [0u64; 4];
        for (i, word) in state.iter_mut().enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(&seed[i * 8..i * 8 + 8]);
            *word = u64::from_le_bytes(b);
        }
        if state == [0; 4] {
            state[0] = 0x9e37_79b9_7f4a_7c15; // an all-zero state would only ever yield zeros
        }
        IdGenerator { state }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    pub(crate) fn trace_id(&mut self) -> [u8; 16] {
        loop {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&self.next_u64().to_be_bytes());
            id[8..].copy_from_slice(&self.next_u64().to_be_bytes());
            if id != [0; 16] {
                return id;
            }
        }
    }

    pub(crate) fn span_id(&mut self) -> [u8; 8] {
        loop {
            let id = self.next_u64();
            if id != 0 {
                return id.to_be_bytes();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b3_single_and_multi_header_become_a_traceparent() {
        assert_eq!(
            b3_to_traceparent(
                Some("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90"),
                None,
                None,
                None
            )
            .as_deref(),
            Some("00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01")
        );
        assert_eq!(
            b3_to_traceparent(None, Some("64fe8b2a57d3eff7"), Some("e457b5a2e4d86bd1"), Some("0")).as_deref(),
            Some("00-000000000000000064fe8b2a57d3eff7-e457b5a2e4d86bd1-00")
        );
        assert_eq!(
            b3_to_traceparent(Some("0"), None, None, None),
            None,
            "a bare sampling decision has no ids"
        );
        assert_eq!(
            b3_to_traceparent(None, Some("XYZ"), Some("e457b5a2e4d86bd1"), None),
            None
        );
    }

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn parses_a_valid_traceparent() {
        let (t, p, f) = parse_traceparent(VALID).unwrap();
        assert_eq!(to_hex(&t), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(to_hex(&p), "00f067aa0ba902b7");
        assert_eq!(f, 1);
    }

    #[test]
    fn rejects_malformed_traceparents() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert!(parse_traceparent(bad).is_none(), "{bad}");
        }
        // A future version may append fields after a dash.
        assert!(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future").is_some());
    }

    #[test]
    fn joins_or_starts_a_trace() {
        let mut ids = IdGenerator::from_seed([7; 32]);
        let joined = TraceContext::from_headers(Some(VALID), Some("vendor=x"), &mut ids);
        assert_eq!(to_hex(&joined.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(
            joined.parent_span_id.map(|p| to_hex(&p)).as_deref(),
            Some("00f067aa0ba902b7")
        );
        assert_eq!(joined.trace_state, "vendor=x");
        let fresh = TraceContext::from_headers(Some("garbage"), None, &mut ids);
        assert_eq!(fresh.parent_span_id, None);
        assert_ne!(fresh.trace_id, [0; 16]);
        assert_eq!(fresh.flags, 1);
    }

    #[test]
    fn generated_ids_are_distinct_and_deterministic_per_seed() {
        let mut a = IdGenerator::from_seed([1; 32]);
        let mut b = IdGenerator::from_seed([1; 32]);
        let ids: std::collections::HashSet<[u8; 8]> = (0..10_000).map(|_| a.span_id()).collect();
        assert_eq!(ids.len(), 10_000);
        let mut a2 = IdGenerator::from_seed([1; 32]);
        assert_eq!(a2.trace_id(), b.trace_id());
        assert_ne!(IdGenerator::from_seed([0; 32]).next_u64(), 0);
    }
}
