//! Getting usage out of OpenAI-shaped streams whose client did not ask for it.
//!
//! OpenAI streams report usage only when the request sets `stream_options.include_usage`; the answer then ends
//! with one extra chunk whose `choices` is empty. The filter adds the option to the request, reads the usage, and
//! removes that extra chunk before the client sees it, so clients that index `choices[0]` keep working.

use serde::de::IgnoredAny;
use serde::Deserialize;

const INJECTED_OPTION: &[u8] = br#""stream_options":{"include_usage":true},"#;

#[derive(Deserialize)]
struct StreamProbe {
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    stream_options: Option<IgnoredAny>,
}

/// Returns the request body with `"stream_options":{"include_usage":true}` added, when the request streams and
/// sets no `stream_options` of its own. The rest of the body is kept byte for byte.
pub(crate) fn inject_include_usage(body: &[u8]) -> Option<Vec<u8>> {
    let probe: StreamProbe = serde_json::from_slice(body).ok()?;
    if probe.stream != Some(true) || probe.stream_options.is_some() {
        return None;
    }
    let open = body.iter().position(|b| !b.is_ascii_whitespace())?;
    if body[open] != b'{' {
        return None;
    }
    let rest = &body[open + 1..];
    let empty_object = rest.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'}');
    let option = if empty_object {
        &INJECTED_OPTION[..INJECTED_OPTION.len() - 1]
    } else {
        INJECTED_OPTION
    };
    let mut out = Vec::with_capacity(body.len() + option.len());
    out.extend_from_slice(&body[..=open]);
    out.extend_from_slice(option);
    out.extend_from_slice(rest);
    Some(out)
}

/// Removes the usage-only chunk from a streamed response, forwarding only whole events.
///
/// Bytes of an event still arriving are held back until its blank line comes (events are small, so this delays
/// nothing a client would notice); the hold-back is capped, and past the cap the stripper gives up and forwards.
#[derive(Debug)]
pub(crate) struct UsageChunkStripper {
    pending: Vec<u8>,
    max_pending: usize,
    gave_up: bool,
    pub(crate) stripped: u64,
}

#[derive(Deserialize)]
struct ChunkProbe {
    #[serde(default)]
    choices: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    usage: Option<IgnoredAny>,
}

impl UsageChunkStripper {
    pub(crate) fn new(max_pending: usize) -> Self {
        UsageChunkStripper {
            pending: Vec::new(),
            max_pending,
            gave_up: false,
            stripped: 0,
        }
    }

    /// Takes the chunk as received and returns what to forward now.
    pub(crate) fn filter(&mut self, chunk: &[u8], end_of_stream: bool) -> Vec<u8> {
        if self.gave_up {
            return chunk.to_vec();
        }
        self.pending.extend_from_slice(chunk);
        let mut out = Vec::with_capacity(self.pending.len());
        let mut start = 0;
        while let Some(end) = event_end(&self.pending[start..]) {
            let event = &self.pending[start..start + end];
            if is_usage_only(event) {
                self.stripped += 1;
            } else {
                out.extend_from_slice(event);
            }
            start += end;
        }
        self.pending.drain(..start);
        if end_of_stream || self.pending.len() > self.max_pending {
            self.gave_up = !end_of_stream;
            out.append(&mut self.pending);
        }
        out
    }
}

/// Length of the first complete event (through its blank line), if the buffer holds one.
fn event_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < buf.len() {
        // A blank line is a line terminator directly after another one.
        let first = match buf[i] {
            b'\n' => 1,
            b'\r' if buf.get(i + 1) == Some(&b'\n') => 2,
            b'\r' if i + 1 < buf.len() => 1,
            b'\r' => return None, // a lone CR at the end may be the start of CRLF
            _ => {
                i += 1;
                continue;
            }
        };
        let j = i + first;
        match (buf.get(j), buf.get(j + 1)) {
            (Some(b'\n'), _) => return Some(j + 1),
            (Some(b'\r'), Some(b'\n')) => return Some(j + 2),
            (Some(b'\r'), Some(_)) => return Some(j + 1),
            (Some(b'\r'), None) => return None,
            _ => i = j,
        }
    }
    None
}

fn is_usage_only(event: &[u8]) -> bool {
    let mut data = Vec::new();
    for line in event.split(|&b| b == b'\n' || b == b'\r') {
        if let Some(value) = line.strip_prefix(b"data:") {
            if !data.is_empty() {
                data.push(b'\n');
            }
            data.extend_from_slice(value.strip_prefix(b" ").unwrap_or(value));
        }
    }
    matches!(
        serde_json::from_slice::<ChunkProbe>(&data),
        Ok(ChunkProbe { choices: Some(c), usage: Some(_) }) if c.is_empty()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injects_only_into_streaming_requests_without_stream_options() {
        let out = inject_include_usage(br#" {"model":"m","stream":true,"messages":[]}"#).unwrap();
        assert_eq!(
            out,
            br#" {"stream_options":{"include_usage":true},"model":"m","stream":true,"messages":[]}"#.to_vec()
        );
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["stream_options"]["include_usage"], true);
        assert!(inject_include_usage(br#"{"model":"m","messages":[]}"#).is_none());
        assert!(inject_include_usage(br#"{"stream":false}"#).is_none());
        assert!(inject_include_usage(br#"{"stream":true,"stream_options":{"include_usage":false}}"#).is_none());
        assert!(inject_include_usage(b"{not json").is_none());
    }

    const USAGE_STREAM: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\r\n\r\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\n\
data: [DONE]\n\n";

    #[test]
    fn strips_the_usage_only_chunk_at_any_chunking() {
        let expected = USAGE_STREAM.replace(
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\n",
            "",
        );
        let bytes = USAGE_STREAM.as_bytes();
        for size in 1..=bytes.len() {
            let mut s = UsageChunkStripper::new(1 << 20);
            let mut out = Vec::new();
            let chunks: Vec<&[u8]> = bytes.chunks(size).collect();
            for (i, c) in chunks.iter().enumerate() {
                out.extend(s.filter(c, i + 1 == chunks.len()));
            }
            assert_eq!(String::from_utf8(out).unwrap(), expected, "size {size}");
            assert_eq!(s.stripped, 1);
        }
    }

    #[test]
    fn a_chunk_with_choices_and_usage_is_kept_and_an_unfinished_tail_is_flushed_at_the_end() {
        let kept = "data: {\"choices\":[{\"index\":0,\"delta\":{}}],\"usage\":{\"prompt_tokens\":1}}\n\ndata: partial";
        let mut s = UsageChunkStripper::new(1 << 20);
        assert_eq!(s.filter(kept.as_bytes(), true), kept.as_bytes());
        assert_eq!(s.stripped, 0);
    }

    #[test]
    fn oversized_hold_back_gives_up_and_forwards_everything() {
        let mut s = UsageChunkStripper::new(8);
        let out = s.filter(b"data: 0123456789", false);
        assert_eq!(out, b"data: 0123456789");
        assert_eq!(s.filter(b"more", false), b"more");
    }
}
