//! What the fuzz targets in `fuzz/` check (feature `fuzzing`; also built for the core's own tests, where inputs
//! fuzzing found stay as regression tests). Each function takes arbitrary bytes, runs one of the core's decoders
//! and panics when something that must hold whatever the bytes does not: the same result for any split of the
//! bytes, caps respected, no panic. Hidden: not part of the API.

use crate::wire::content_encoding::{BodyDecoder, DecodeError};
use crate::wire::event_stream::{encode_frame, FrameError};
use crate::wire::framing::Framing;
use std::io::Write;

/// Splits `data` into chunks of 1..=N bytes picked from `seed`, so one input explores many splits.
fn split(data: &[u8], seed: u8) -> Vec<&[u8]> {
    let mut state = (u32::from(seed) + 1).wrapping_mul(2_654_435_761) | 1;
    let span = 1 + usize::from(seed % 32) * 8;
    let mut chunks = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let (chunk, tail) = rest.split_at((1 + state as usize % span).min(rest.len()));
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

/// What a framing made of a body: messages (event, data), messages skipped as oversized, the frame error.
type Framed = (Vec<(Vec<u8>, Vec<u8>)>, u64, Option<FrameError>);

fn frame(content_type: &str, cap: usize, chunks: &[&[u8]]) -> Framed {
    let mut framing = Framing::for_response(Some(content_type), true, cap);
    let mut messages = Vec::new();
    for chunk in chunks {
        framing.feed(chunk, usize::MAX, &mut |event, data| {
            messages.push((event.to_vec(), data.to_vec()))
        });
    }
    framing.finish(&mut |event, data| messages.push((event.to_vec(), data.to_vec())));
    (messages, framing.oversized_messages(), framing.frame_error())
}

/// `[cap, seed, body...]`: the same messages from the whole body and from it split.
fn framing_is_split_invariant(content_type: &str, data: &[u8]) {
    let [cap, seed, body @ ..] = data else {
        return;
    };
    let cap = 256 + usize::from(*cap) * 4;
    let whole = frame(content_type, cap, &[body]);
    let split = frame(content_type, cap, &split(body, *seed));
    assert_eq!(whole, split, "{content_type}: the whole body and its split differ");
}

/// SSE (`text/event-stream`).
pub fn sse(data: &[u8]) {
    framing_is_split_invariant("text/event-stream", data);
}

/// A streamed JSON array (Gemini without `alt=sse`).
pub fn json_array(data: &[u8]) {
    framing_is_split_invariant("application/json", data);
}

/// AWS event-stream: `[cap, seed, damage, payloads separated by 0xff...]` built into frames with valid CRCs, one
/// byte damaged when `damage` is odd, then framed whole and split.
pub fn event_stream(data: &[u8]) {
    let [cap, seed, damage, rest @ ..] = data else {
        return;
    };
    let mut body = Vec::new();
    for (i, payload) in rest.split(|&b| b == 0xff).enumerate() {
        let kind = if i % 5 == 4 { "exception" } else { "event" };
        body.extend(encode_frame(
            &[(":message-type", kind), (":event-type", "chunk")],
            payload,
        ));
    }
    if damage % 2 == 1 && !body.is_empty() {
        let at = usize::from(*damage) * 31 % body.len();
        body[at] ^= 0x5a;
    }
    let mut framed = vec![*cap, *seed];
    framed.extend_from_slice(&body);
    framing_is_split_invariant("application/vnd.amazon.eventstream", &framed);
}

/// Decodes `chunks` as `coding`: the decoded bytes and how decoding ended. Checks the pieces and the cap.
fn decode(coding: &str, cap: usize, chunks: &[&[u8]]) -> (Vec<u8>, Result<(), DecodeError>) {
    let Ok(mut decoder) = BodyDecoder::new(Some(coding), cap) else {
        return (Vec::new(), Ok(()));
    };
    let mut out = Vec::new();
    let mut result = Ok(());
    for chunk in chunks {
        result = decoder.decode(chunk, &mut |piece| {
            assert!(piece.len() <= 16 << 10, "a decoded piece of {} bytes", piece.len());
            out.extend_from_slice(piece);
        });
        if result.is_err() {
            break;
        }
    }
    assert!(out.len() <= cap, "decoded {} bytes past the cap of {cap}", out.len());
    (out, result)
}

/// Content decoding with a cap: `[mode, cap, seed, payload...]`. Modes 0 and 1 decode the payload as gzip and
/// deflate (mostly corrupt): whole and split agree as far as both got. Modes 2 to 4 compress the payload (gzip,
/// zlib, raw deflate) and decode it split: exactly the payload up to the cap, and `OverCap` past it.
pub fn content_decoding(data: &[u8]) {
    let [mode, cap, seed, payload @ ..] = data else {
        return;
    };
    let cap = usize::from(*cap) * 64;
    let coding = if mode % 5 == 0 || mode % 5 == 2 {
        "gzip"
    } else {
        "deflate"
    };
    if mode % 5 < 2 {
        let (whole, whole_end) = decode(coding, cap, &[payload]);
        let (split, split_end) = decode(coding, cap, &split(payload, *seed));
        let (short, long) = if whole.len() <= split.len() {
            (&whole, &split)
        } else {
            (&split, &whole)
        };
        assert!(
            long.starts_with(short),
            "{coding}: whole and split decode different bytes"
        );
        if whole_end.is_ok() && split_end.is_ok() {
            assert_eq!(whole, split, "{coding}: both ended well with different bytes");
        }
        return;
    }
    let compressed = match mode % 5 {
        2 => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(payload).and_then(|_| e.finish())
        }
        3 => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(payload).and_then(|_| e.finish())
        }
        _ => {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(payload).and_then(|_| e.finish())
        }
    };
    let Ok(compressed) = compressed else {
        return;
    };
    let (out, end) = decode(coding, cap, &split(&compressed, *seed));
    let expected = &payload[..payload.len().min(cap)];
    assert!(out == expected, "{coding}: decoded bytes differ from the payload");
    let over = payload.len() > cap;
    assert_eq!(
        end.is_err(),
        over,
        "{coding}: {end:?} for {} bytes, cap {cap}",
        payload.len()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs the fuzz targets found, kept as regressions (see `fuzz/README.md`), plus a few shapes each.
    #[test]
    fn framings_are_split_invariant() {
        for body in [
            &b"\x00\x07data: a\n\ndata: b\r\n\r\nevent: x\ndata: c\rdata: d\n\n: comment\n\ndata"[..],
            b"\x00\x03data: 0123456789\n\n",
        ] {
            sse(body);
        }
        json_array(b"\x00\x05[{\"a\":\"]}\\\"\"},\r\n{\"b\":[1,{\"c\":2}]}]");
        event_stream(b"\x10\x04\x00one\xfftwo\xff\xffthree\xfffour\xfffive");
        event_stream(b"\x10\x04\x03one\xfftwo\xffthree");
    }

    #[test]
    fn content_decoding_agrees_whole_and_split_and_keeps_its_cap() {
        content_decoding(b"\x00\x10\x05\x1f\x8b\x08\x00garbage");
        for mode in 2..5u8 {
            content_decoding(&[mode, 1, 9, b'a', b'b', b'c']);
            let mut long = vec![mode, 1, 3];
            long.extend(std::iter::repeat_n(b'z', 500));
            content_decoding(&long);
        }
    }
}
