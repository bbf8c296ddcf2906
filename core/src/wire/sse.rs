//! Incremental Server-Sent Events decoder (WHATWG "event stream" rules), fed one network chunk at a time.
//!
//! Chunks split lines, CRLF pairs and UTF-8 sequences anywhere, so the decoder works on bytes and keeps only the
//! unfinished line and the event being assembled. Both are capped: an event larger than the cap is skipped (and
//! counted) instead of growing memory without bound.

use super::find::line_end;
use std::ops::Range;

/// Decoder state carried between chunks.
#[derive(Debug)]
pub struct SseDecoder {
    /// Bytes of the current line not yet terminated (none once its event is oversized).
    line: Vec<u8>,
    /// Length of the current unterminated line, its dropped bytes included: a line is blank only when nothing of it
    /// came, whatever was kept.
    line_len: usize,
    /// `data` lines of the current event, joined with `\n`.
    data: Vec<u8>,
    /// The current event's only `data` value so far, where it lies in the chunk being fed: read from there when
    /// the event ends in the same chunk (the common case), copied into `data` otherwise. `None` between feeds.
    borrowed: Option<Range<usize>>,
    /// `event` field of the current event.
    event: Vec<u8>,
    has_data: bool,
    /// The previous chunk ended with `\r`: a leading `\n` in the next chunk completes that CRLF, not a new line.
    pending_lf: bool,
    /// The current line or event outgrew the cap; discard until the event ends.
    oversized: bool,
    max_event_bytes: usize,
    /// Events skipped because they were larger than `max_event_bytes`.
    pub(crate) oversized_events: u64,
}

impl SseDecoder {
    /// A decoder that skips (and counts) events over `max_event_bytes`.
    pub fn new(max_event_bytes: usize) -> Self {
        SseDecoder {
            line: Vec::new(),
            line_len: 0,
            data: Vec::new(),
            borrowed: None,
            event: Vec::new(),
            has_data: false,
            pending_lf: false,
            oversized: false,
            max_event_bytes,
            oversized_events: 0,
        }
    }

    /// Bytes held between chunks (bounded by about twice `max_event_bytes`).
    #[cfg(test)]
    pub(crate) fn buffered_bytes(&self) -> usize {
        self.line.len() + self.data.len() + self.event.len()
    }

    /// Feeds one chunk; calls `on_event(event_type, data)` for every event completed by it.
    pub fn feed(&mut self, chunk: &[u8], on_event: &mut dyn FnMut(&[u8], &[u8])) {
        let mut at = 0;
        if self.pending_lf {
            self.pending_lf = false;
            if chunk.first() == Some(&b'\n') {
                at = 1;
            }
        }
        while let Some(end) = line_end(chunk, at) {
            if self.line_len == 0 {
                self.process_line(chunk, at..end, true, on_event);
            } else {
                self.append_to_line(chunk.get(at..end).unwrap_or_default());
                self.line_len = 0;
                let line = std::mem::take(&mut self.line);
                // Not blank (part of it came earlier); in an oversized event its bytes were dropped and it counts
                // for nothing, as it would had it come in one piece.
                if !self.oversized {
                    self.process_line(&line, 0..line.len(), false, on_event);
                }
                self.line = line;
                self.line.clear();
            }
            at = end + 1;
            if chunk.get(end) == Some(&b'\r') {
                match chunk.get(at) {
                    Some(b'\n') => at += 1,
                    None => self.pending_lf = true,
                    Some(_) => {}
                }
            }
        }
        // The event goes on in the next chunk: its data, read from this chunk so far, is kept.
        self.own_borrowed(chunk);
        self.append_to_line(chunk.get(at..).unwrap_or_default());
    }

    /// End of stream: an event whose blank line never came is dispatched if its lines were complete, since a
    /// provider that closes right after the last `data:` line still sent a whole message.
    pub fn finish(&mut self, on_event: &mut dyn FnMut(&[u8], &[u8])) {
        if self.line_len > 0 {
            self.line_len = 0;
            let line = std::mem::take(&mut self.line);
            if !self.oversized {
                self.process_line(&line, 0..line.len(), false, on_event);
            }
        }
        self.process_line(b"", 0..0, false, on_event);
    }

    /// Copies a data value still read in place from `chunk` into `data`.
    fn own_borrowed(&mut self, chunk: &[u8]) {
        if let Some(range) = self.borrowed.take() {
            self.data.extend_from_slice(chunk.get(range).unwrap_or_default());
        }
    }

    fn append_to_line(&mut self, bytes: &[u8]) {
        self.line_len += bytes.len();
        if self.oversized {
            return;
        }
        if self.line.len() + bytes.len() > self.max_event_bytes {
            self.mark_oversized();
            return;
        }
        self.line.extend_from_slice(bytes);
    }

    fn mark_oversized(&mut self) {
        if !self.oversized {
            self.oversized = true;
            self.oversized_events += 1;
        }
        self.line.clear();
        self.data.clear();
        self.borrowed = None;
        self.has_data = false;
    }

    /// Handles the line `src[line]`: `src` is the chunk being fed when `in_chunk` (a data value may then be read
    /// from it in place), else the assembled line.
    fn process_line(&mut self, src: &[u8], line: Range<usize>, in_chunk: bool, on_event: &mut dyn FnMut(&[u8], &[u8])) {
        let start = line.start;
        let line = src.get(line).unwrap_or_default();
        if line.is_empty() {
            // Only a line of the chunk can have left a value in place, and a blank line is never assembled.
            let borrowed = self.borrowed.take();
            if self.has_data && !self.oversized {
                match borrowed {
                    Some(range) => on_event(&self.event, src.get(range).unwrap_or_default()),
                    None => on_event(&self.event, &self.data),
                }
            }
            self.data.clear();
            self.event.clear();
            self.has_data = false;
            self.oversized = false;
            return;
        }
        // A line over the cap makes its event oversized whether it came in one chunk or was assembled from several
        // (the same rule as `append_to_line`), so the result never depends on how the network split the bytes.
        if line.len() > self.max_event_bytes {
            self.mark_oversized();
            return;
        }
        if self.oversized || line.first() == Some(&b':') {
            return;
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let value = line.get(i + 1..).unwrap_or_default();
                (
                    line.get(..i).unwrap_or_default(),
                    value.strip_prefix(b" ").unwrap_or(value),
                )
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => {
                let held = self.data.len() + self.borrowed.as_ref().map_or(0, Range::len);
                if held + value.len() + 1 > self.max_event_bytes {
                    self.mark_oversized();
                    return;
                }
                if in_chunk && !self.has_data {
                    let value_start = start + (line.len() - value.len());
                    self.borrowed = Some(value_start..value_start + value.len());
                } else {
                    // A second data line: the first, if still in place (only a line of the chunk leaves one),
                    // is copied before this one joins it.
                    if in_chunk {
                        self.own_borrowed(src);
                    }
                    if self.has_data {
                        self.data.push(b'\n');
                    }
                    self.data.extend_from_slice(value);
                }
                self.has_data = true;
            }
            b"event" => {
                self.event.clear();
                self.event
                    .extend_from_slice(value.get(..value.len().min(256)).unwrap_or_default());
            }
            _ => {} // `id`, `retry` and unknown fields carry nothing the filter needs.
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(input: &[u8], split: &[usize], max: usize) -> (Vec<(String, String)>, u64) {
        let mut d = SseDecoder::new(max);
        let mut out = Vec::new();
        let mut push = |e: &[u8], data: &[u8]| {
            out.push((
                String::from_utf8(e.to_vec()).unwrap(),
                String::from_utf8(data.to_vec()).unwrap(),
            ))
        };
        let mut start = 0;
        for &end in split.iter().chain(std::iter::once(&input.len())) {
            d.feed(&input[start..end], &mut push);
            start = end;
        }
        d.finish(&mut push);
        (out, d.oversized_events)
    }

    fn events(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(e, d)| (e.to_string(), d.to_string())).collect()
    }

    const STREAM: &str = ": keep-alive comment\r\n\
        event: message_start\r\n\
        data: {\"a\":\"h\u{e9}llo \u{1F600}\"}\r\n\r\n\
        data:{\"no\":\"space\"}\n\n\
        data: line1\rdata: line2\r\r\
        id: 7\nretry: 10\nunknown\ndata: [DONE]\n\n";

    fn expected() -> Vec<(String, String)> {
        events(&[
            ("message_start", "{\"a\":\"h\u{e9}llo \u{1F600}\"}"),
            ("", "{\"no\":\"space\"}"),
            ("", "line1\nline2"),
            ("", "[DONE]"),
        ])
    }

    #[test]
    fn decodes_every_line_ending_comment_and_field_form() {
        assert_eq!(decode_in_pieces(STREAM.as_bytes(), &[], 1 << 20).0, expected());
    }

    #[test]
    fn any_single_split_gives_the_same_events() {
        let bytes = STREAM.as_bytes();
        for cut in 0..=bytes.len() {
            assert_eq!(decode_in_pieces(bytes, &[cut], 1 << 20).0, expected(), "split at {cut}");
        }
    }

    #[test]
    fn byte_by_byte_and_every_pair_of_splits_give_the_same_events() {
        let bytes = STREAM.as_bytes();
        let all: Vec<usize> = (1..bytes.len()).collect();
        assert_eq!(decode_in_pieces(bytes, &all, 1 << 20).0, expected());
        for a in (0..bytes.len()).step_by(3) {
            for b in (a..bytes.len()).step_by(5) {
                assert_eq!(
                    decode_in_pieces(bytes, &[a, b], 1 << 20).0,
                    expected(),
                    "splits {a},{b}"
                );
            }
        }
    }

    #[test]
    fn crlf_split_between_chunks_does_not_create_a_blank_line() {
        // "\r" ends chunk one, "\n" starts chunk two: one line end, so both data lines join into one event.
        let (out, _) = decode_in_pieces(b"data: a\r\ndata: b\r\n\r\n", &[8], 1024);
        assert_eq!(out, events(&[("", "a\nb")]));
    }

    #[test]
    fn oversized_event_is_skipped_counted_and_memory_stays_bounded() {
        let big = format!("data: {}\n\ndata: small\n\n", "x".repeat(5000));
        let mut d = SseDecoder::new(1024);
        let mut out = Vec::new();
        for piece in big.as_bytes().chunks(100) {
            d.feed(piece, &mut |_, data| out.push(data.to_vec()));
            assert!(d.buffered_bytes() <= 1024);
        }
        assert_eq!(out, vec![b"small".to_vec()]);
        assert_eq!(d.oversized_events, 1);
    }

    /// Found by the `sse` fuzz target: a line over the cap used to count only when it was assembled from several
    /// chunks, and a line of an oversized event that ended at the start of a chunk read as a blank line (ending
    /// the oversized event early), so what was kept depended on how the network split the bytes.
    #[test]
    fn an_oversized_line_or_event_is_handled_the_same_for_any_split() {
        let long_id = format!("id: {}\ndata: kept?\n\ndata: next\n\n", "x".repeat(300));
        let near_cap = format!("data: {}\n\ndata: next\n\n", "y".repeat(252));
        let then_more = format!("data: {}\ndata: y\ndata: z\n\ndata: after\n\n", "h".repeat(300));
        for input in [long_id, near_cap, then_more] {
            let whole = decode_in_pieces(input.as_bytes(), &[], 256);
            for at in 1..input.len() {
                assert_eq!(
                    decode_in_pieces(input.as_bytes(), &[at], 256),
                    whole,
                    "split at {at}: {input:?}"
                );
            }
            for size in [1, 2, 3, 7] {
                let cuts: Vec<usize> = (size..input.len()).step_by(size).collect();
                assert_eq!(
                    decode_in_pieces(input.as_bytes(), &cuts, 256),
                    whole,
                    "pieces of {size}"
                );
            }
            assert_eq!(whole.1, 1, "one oversized event: {input:?}");
            assert_eq!(
                whole.0.last().map(|(_, d)| d.as_str()),
                Some(if input.contains("after") { "after" } else { "next" })
            );
        }
    }

    #[test]
    fn unterminated_final_event_is_dispatched_at_finish() {
        assert_eq!(
            decode_in_pieces(b"data: {\"x\":1}", &[], 1024).0,
            events(&[("", "{\"x\":1}")])
        );
        assert_eq!(
            decode_in_pieces(b"data: {\"x\":1}\n", &[], 1024).0,
            events(&[("", "{\"x\":1}")])
        );
    }

    #[test]
    fn event_field_resets_after_dispatch() {
        let (out, _) = decode_in_pieces(b"event: ping\ndata: {}\n\ndata: x\n\n", &[], 1024);
        assert_eq!(out, events(&[("ping", "{}"), ("", "x")]));
    }
}
