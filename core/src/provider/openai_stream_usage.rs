//! Getting usage out of OpenAI-shaped streams whose client did not ask for it.
//!
//! OpenAI streams report usage only when the request sets `stream_options.include_usage`; the answer then ends
//! with one extra chunk whose `choices` is empty. The filter adds the option to the request, reads the usage, and
//! removes that extra chunk before the client sees it, so clients that index `choices[0]` keep working.

use crate::wire::json_borrow::{seen, Fast, Reader, Unusual};
use serde::de::IgnoredAny;
use serde::Deserialize;

const INJECTED_OPTION: &[u8] = br#""stream_options":{"include_usage":true},"#;

#[derive(Deserialize)]
struct StreamProbe {
    #[serde(default)]
    stream: Option<bool>,
    /// Whether the key is there at all: an explicit `null` is the client's choice too, and is left alone.
    #[serde(default, deserialize_with = "present")]
    stream_options: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// Returns the request body with `"stream_options":{"include_usage":true}` added, when the request streams and
/// has no `stream_options` key of its own (any value, `null` included, is the client's and is kept). The rest of
/// the body is kept byte for byte.
pub(crate) fn inject_include_usage(body: &[u8]) -> Option<Vec<u8>> {
    let probe: StreamProbe = serde_json::from_slice(body).ok()?;
    if probe.stream != Some(true) || probe.stream_options {
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
/// nothing a client would notice). An event longer than the hold-back cap is no usage chunk: its bytes are forwarded
/// as they come until it ends, and whole-event holding resumes after it, so the usage chunk that follows is still
/// removed. Memory stays within the cap plus one chunk.
#[derive(Debug)]
pub(crate) struct UsageChunkStripper {
    pending: Vec<u8>,
    max_pending: usize,
    /// Forwarding an oversized event as it comes, with its last bytes forwarded (at most three, for a blank line
    /// split between chunks).
    passing: Option<Vec<u8>>,
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
            passing: None,
            stripped: 0,
        }
    }

    /// Takes the chunk as received and returns what to forward now.
    pub(crate) fn filter(&mut self, chunk: &[u8], end_of_stream: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.pending.len() + chunk.len());
        let mut chunk = chunk;
        if let Some(tail) = &mut self.passing {
            let seen = tail.len();
            tail.extend_from_slice(chunk);
            match event_end(tail) {
                Some(end) => {
                    let used = end.saturating_sub(seen);
                    out.extend_from_slice(&chunk[..used]);
                    chunk = &chunk[used..];
                    self.passing = None;
                }
                None => {
                    out.extend_from_slice(chunk);
                    let keep = tail.len().min(3);
                    tail.drain(..tail.len() - keep);
                    return out;
                }
            }
        }
        self.pending.extend_from_slice(chunk);
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
        if end_of_stream {
            out.append(&mut self.pending);
        } else if self.pending.len() > self.max_pending {
            // The event being held is too long to be a usage chunk: forward it as it comes.
            let keep = self.pending.len().min(3);
            self.passing = Some(self.pending[self.pending.len() - keep..].to_vec());
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
    match probe(&data) {
        Ok(usage_only) => usage_only,
        Err(Unusual) => matches!(
            serde_json::from_slice::<ChunkProbe>(&data),
            Ok(ChunkProbe { choices: Some(c), usage: Some(_) }) if c.is_empty()
        ),
    }
}

/// [`ChunkProbe`]'s answer in one borrowing pass, for the common chunk: `choices` empty and `usage` not `null`.
fn probe(data: &[u8]) -> Fast<bool> {
    Reader::document(data, |r| {
        let (mut mask, mut choices, mut usage) = (0, None, false);
        let read = r.object(|r, key| match key {
            b"choices" => {
                seen(&mut mask, 1)?;
                let mut n = 0usize;
                if r.array(|r| {
                    n += 1;
                    r.skip()
                })? {
                    choices = Some(n);
                }
                Ok(())
            }
            b"usage" => {
                seen(&mut mask, 2)?;
                usage = !r.null()?;
                if usage {
                    r.skip()?;
                }
                Ok(())
            }
            _ => r.skip(),
        })?;
        if !read {
            return Err(Unusual);
        }
        Ok(choices == Some(0) && usage)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_probe_answers_as_serde_or_leaves_it_to_serde() {
        for data in [
            r#"{"choices":[],"usage":{"prompt_tokens":3}}"#,
            r#"{"choices":[],"usage":null}"#,
            r#"{"choices":[{"index":0}],"usage":{"prompt_tokens":3}}"#,
            r#"{"choices":null,"usage":{}}"#,
            r#"{"choices":[],"usage":7}"#,
            r#"{"choices":[],"usage":{},"usage":{}}"#,
            r#"{"choices":{},"usage":{}}"#,
            r#"{"choices":[],"usage":{}}"#,
            r#"{"usage":{}}"#,
            r#"null"#,
            r#"[[],{}]"#,
            r#"{"choices":[],"usage":{}} x"#,
        ] {
            let serde = matches!(
                serde_json::from_slice::<ChunkProbe>(data.as_bytes()),
                Ok(ChunkProbe { choices: Some(c), usage: Some(_) }) if c.is_empty()
            );
            if let Ok(fast) = probe(data.as_bytes()) {
                assert_eq!(fast, serde, "{data}");
            }
            assert_eq!(is_usage_only(format!("data: {data}\n\n").as_bytes()), serde, "{data}");
        }
    }

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
    fn explicit_stream_options_of_any_value_are_left_alone() {
        for options in ["null", "{}", "{\"include_usage\":false}", "7"] {
            let body = format!("{{\"model\":\"m\",\"stream\":true,\"stream_options\":{options}}}");
            assert!(inject_include_usage(body.as_bytes()).is_none(), "{options}");
        }
    }

    #[test]
    fn an_oversized_event_is_forwarded_as_it_comes_and_the_usage_chunk_after_it_still_removed() {
        let huge = format!(
            "data: {{\"choices\":[{{\"delta\":{{\"content\":\"{}\"}}}}]}}\n\n",
            "x".repeat(5000)
        );
        let stream = format!("{huge}{USAGE_STREAM}");
        let expected = stream.replace(
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\n",
            "",
        );
        for size in [1, 2, 3, 7, 100, 1000, 4999, stream.len()] {
            let mut s = UsageChunkStripper::new(256);
            let mut out = Vec::new();
            let chunks: Vec<&[u8]> = stream.as_bytes().chunks(size).collect();
            for (i, c) in chunks.iter().enumerate() {
                let forwarded = s.filter(c, i + 1 == chunks.len());
                assert!(s.pending.len() <= 256 + size, "held {} bytes", s.pending.len());
                out.extend(forwarded);
            }
            assert_eq!(String::from_utf8(out).unwrap(), expected, "size {size}");
            assert_eq!(s.stripped, 1, "size {size}");
        }
    }

    #[test]
    fn an_oversized_event_ending_with_crlf_or_cr_blank_lines_is_found_across_chunks() {
        for blank in ["\r\n\r\n", "\r\r", "\n\r\n"] {
            let stream = format!("data: {}{blank}{USAGE_STREAM}", "y".repeat(600));
            for size in 1..=8 {
                let mut s = UsageChunkStripper::new(256);
                let mut out = Vec::new();
                let chunks: Vec<&[u8]> = stream.as_bytes().chunks(size).collect();
                for (i, c) in chunks.iter().enumerate() {
                    out.extend(s.filter(c, i + 1 == chunks.len()));
                }
                let text = String::from_utf8(out).unwrap();
                assert!(
                    !text.contains("\"choices\":[],\"usage\""),
                    "{blank:?} at {size}: usage leaked"
                );
                assert_eq!(s.stripped, 1, "{blank:?} at {size}");
            }
        }
    }
}
