//! AWS event-stream framing (`application/vnd.amazon.eventstream`), used by Bedrock's streaming APIs.
//!
//! A frame is `total_len u32 | headers_len u32 | prelude_crc u32 | headers | payload | message_crc u32`, all
//! big-endian; the prelude CRC covers the first 8 bytes and the message CRC everything before it (CRC-32/IEEE).
//! The decoder is incremental: it keeps at most one partial frame, capped, and checks both CRCs.

use std::borrow::Cow;

/// Smallest possible frame: prelude (12) + message CRC (4).
const MIN_FRAME: usize = 16;

/// One decoded frame's routing headers and payload, read in place from the bytes that held it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Frame<'a> {
    /// `:message-type`: `event`, `exception` or `error`.
    pub(crate) message_type: Cow<'a, str>,
    /// `:event-type` for events, `:exception-type` for exceptions, `:error-code` for errors.
    pub(crate) kind: Cow<'a, str>,
    pub(crate) payload: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// A CRC did not match: the stream is corrupt and the rest is not decoded.
    Checksum,
    /// A length field is impossible or over the cap.
    Length,
}

#[derive(Debug)]
pub(crate) struct EventStreamDecoder {
    /// The start of a frame that the next chunk completes (only ever an incomplete frame: whole frames are read
    /// from the chunk itself).
    pending: Vec<u8>,
    max_frame_bytes: usize,
    failed: Option<FrameError>,
}

impl EventStreamDecoder {
    pub(crate) fn new(max_frame_bytes: usize) -> Self {
        EventStreamDecoder {
            pending: Vec::new(),
            max_frame_bytes,
            failed: None,
        }
    }

    pub(crate) fn error(&self) -> Option<FrameError> {
        self.failed
    }

    /// Feeds one chunk; calls `on_frame` for every complete, checksum-valid frame.
    pub(crate) fn feed(&mut self, chunk: &[u8], on_frame: &mut dyn FnMut(&Frame<'_>)) {
        if self.failed.is_some() {
            return;
        }
        if self.pending.is_empty() {
            let used = self.frames(chunk, on_frame);
            if self.failed.is_none() {
                self.pending.extend_from_slice(chunk.get(used..).unwrap_or_default());
            }
            return;
        }
        let mut pending = std::mem::take(&mut self.pending);
        pending.extend_from_slice(chunk);
        let used = self.frames(&pending, on_frame);
        if self.failed.is_none() {
            pending.drain(..used);
            self.pending = pending;
        }
    }

    /// Hands over every complete frame at the start of `buf`; returns the bytes they took. Stops at the first
    /// corrupt or oversized frame, which fails the stream.
    fn frames(&mut self, buf: &[u8], on_frame: &mut dyn FnMut(&Frame<'_>)) -> usize {
        let mut offset = 0;
        while let Some(rest) = buf.get(offset..).filter(|r| r.len() >= 12) {
            let total = be_u32(rest, 0) as usize;
            if total < MIN_FRAME || total > self.max_frame_bytes {
                self.fail(FrameError::Length);
                return offset;
            }
            if crc32fast::hash(rest.get(0..8).unwrap_or_default()) != be_u32(rest, 8) {
                self.fail(FrameError::Checksum);
                return offset;
            }
            let Some(frame) = rest.get(..total) else {
                break;
            };
            match parse_frame(frame) {
                Ok(frame) => on_frame(&frame),
                Err(e) => {
                    self.fail(e);
                    return offset;
                }
            }
            offset += total;
        }
        offset
    }

    fn fail(&mut self, e: FrameError) {
        self.failed = Some(e);
        self.pending = Vec::new();
    }
}

/// The big-endian `u32` at `at` (0 past the end; callers check lengths first).
fn be_u32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn parse_frame(frame: &[u8]) -> Result<Frame<'_>, FrameError> {
    let total = frame.len();
    let headers_len = be_u32(frame, 4) as usize;
    if 12 + headers_len + 4 > total {
        return Err(FrameError::Length);
    }
    let (body, crc) = frame.split_at_checked(total - 4).ok_or(FrameError::Length)?;
    if crc32fast::hash(body) != be_u32(crc, 0) {
        return Err(FrameError::Checksum);
    }
    let mut out = Frame {
        payload: body.get(12 + headers_len..).unwrap_or_default(),
        ..Default::default()
    };
    let mut h = body.get(12..12 + headers_len).unwrap_or_default();
    while let Some((&name_len, after)) = h.split_first() {
        let name_len = name_len as usize;
        let name = after.get(..name_len).ok_or(FrameError::Length)?;
        let value_type = *after.get(name_len).ok_or(FrameError::Length)?;
        h = after.get(name_len + 1..).unwrap_or_default();
        let value_len = match value_type {
            0 | 1 => 0,
            2 => 1,
            3 => 2,
            4 => 4,
            5 | 8 => 8,
            9 => 16,
            6 | 7 => {
                let (len, after) = h.split_at_checked(2).ok_or(FrameError::Length)?;
                h = after;
                u16::from_be_bytes([len[0], len[1]]) as usize
            }
            _ => return Err(FrameError::Length),
        };
        let (value, after) = h.split_at_checked(value_len).ok_or(FrameError::Length)?;
        h = after;
        if value_type == 7 {
            match name {
                b":message-type" => out.message_type = String::from_utf8_lossy(value),
                b":event-type" | b":exception-type" | b":error-code" => out.kind = String::from_utf8_lossy(value),
                _ => {}
            }
        }
    }
    Ok(out)
}

/// Encodes a frame with string headers (tests, fixtures and fuzzing build real frames with it).
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn encode_frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut hbytes = Vec::new();
    for (name, value) in headers {
        hbytes.push(name.len() as u8);
        hbytes.extend_from_slice(name.as_bytes());
        hbytes.push(7);
        hbytes.extend_from_slice(&(value.len() as u16).to_be_bytes());
        hbytes.extend_from_slice(value.as_bytes());
    }
    let total = 16 + hbytes.len() + payload.len();
    let mut f = Vec::with_capacity(total);
    f.extend_from_slice(&(total as u32).to_be_bytes());
    f.extend_from_slice(&(hbytes.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&f);
    f.extend_from_slice(&prelude_crc.to_be_bytes());
    f.extend_from_slice(&hbytes);
    f.extend_from_slice(payload);
    let crc = crc32fast::hash(&f);
    f.extend_from_slice(&crc.to_be_bytes());
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream() -> Vec<u8> {
        let mut s = encode_frame(
            &[
                (":event-type", "messageStart"),
                (":content-type", "application/json"),
                (":message-type", "event"),
            ],
            br#"{"p":"abc","role":"assistant"}"#,
        );
        s.extend(encode_frame(
            &[(":message-type", "event"), (":event-type", "metadata")],
            br#"{"usage":{"inputTokens":5,"outputTokens":7}}"#,
        ));
        s.extend(encode_frame(
            &[
                (":message-type", "exception"),
                (":exception-type", "throttlingException"),
            ],
            br#"{"message":"slow"}"#,
        ));
        s
    }

    /// A frame as the tests keep it (a [`Frame`] borrows the decoder's bytes).
    struct Owned {
        message_type: String,
        kind: String,
        payload: Vec<u8>,
    }

    fn decode(bytes: &[u8], size: usize) -> (Vec<Owned>, Option<FrameError>) {
        let mut d = EventStreamDecoder::new(1 << 20);
        let mut frames = Vec::new();
        for c in bytes.chunks(size) {
            d.feed(c, &mut |f| {
                frames.push(Owned {
                    message_type: f.message_type.to_string(),
                    kind: f.kind.to_string(),
                    payload: f.payload.to_vec(),
                })
            });
        }
        (frames, d.error())
    }

    #[test]
    fn decodes_frames_across_any_split() {
        let s = stream();
        for size in [1, 3, 16, 17, 100, s.len()] {
            let (frames, err) = decode(&s, size);
            assert_eq!(err, None);
            let kinds: Vec<_> = frames
                .iter()
                .map(|f| (f.message_type.as_str(), f.kind.as_str()))
                .collect();
            assert_eq!(
                kinds,
                vec![
                    ("event", "messageStart"),
                    ("event", "metadata"),
                    ("exception", "throttlingException")
                ],
                "size {size}"
            );
            assert_eq!(frames[1].payload, br#"{"usage":{"inputTokens":5,"outputTokens":7}}"#);
        }
    }

    #[test]
    fn corrupt_crc_and_absurd_length_stop_decoding() {
        let mut s = stream();
        let last = s.len() - 1;
        s[last] ^= 0xff;
        let (frames, err) = decode(&s, 7);
        assert_eq!((frames.len(), err), (2, Some(FrameError::Checksum)));
        let mut s = stream();
        s[20] ^= 0x01; // inside the first frame's headers: message CRC fails
        assert_eq!(decode(&s, 1000).1, Some(FrameError::Checksum));
        let mut bad = vec![0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        let crc = crc32fast::hash(&bad);
        bad.extend_from_slice(&crc.to_be_bytes());
        assert_eq!(decode(&bad, 100).1, Some(FrameError::Length));
    }
}
