//! Decoding compressed response bodies for inspection only: the bytes forwarded to the client are never changed.
//!
//! Decoding is incremental (chunk in, decoded bytes out) and capped: once a response has produced the configured
//! number of decoded bytes, the rest is not inspected, so a decompression bomb costs bounded memory and CPU.

use flate2::write::{GzDecoder, ZlibDecoder};
use std::io::Write;

/// Why a body could not be inspected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// `content-encoding` names a coding the filter does not decode.
    Unsupported(String),
    /// The compressed stream is corrupt.
    Corrupt,
    /// The decoded size passed the cap.
    OverCap,
}

/// The client's `accept-encoding` narrowed to the codings the filter can read (gzip, deflate, identity), or `None`
/// when it already asks for nothing else. The client still gets an encoding it accepted, so nothing changes for it.
pub(crate) fn readable_accept_encoding(accept: &str) -> Option<String> {
    let readable = |coding: &str| matches!(coding, "gzip" | "x-gzip" | "deflate" | "identity" | "*");
    let mut kept = Vec::new();
    let mut removed = false;
    for item in accept.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let coding = item.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if readable(&coding) {
            kept.push(item);
        } else {
            removed = true;
        }
    }
    if !removed {
        return None;
    }
    Some(if kept.is_empty() {
        "identity".to_string()
    } else {
        kept.join(", ")
    })
}

enum Coding {
    Identity,
    Gzip(GzDecoder<Vec<u8>>),
    Deflate(ZlibDecoder<Vec<u8>>),
}

/// Turns the response body's wire bytes into the bytes the provider encoded.
pub(crate) struct BodyDecoder {
    coding: Coding,
    decoded_total: usize,
    max_decoded: usize,
}

impl BodyDecoder {
    /// A decoder for the response's `content-encoding` (absent or `identity` means none).
    pub(crate) fn new(content_encoding: Option<&str>, max_decoded: usize) -> Result<BodyDecoder, DecodeError> {
        let coding = match content_encoding.map(|e| e.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("identity") => Coding::Identity,
            Some("gzip") | Some("x-gzip") => Coding::Gzip(GzDecoder::new(Vec::new())),
            Some("deflate") => Coding::Deflate(ZlibDecoder::new(Vec::new())),
            Some(other) => return Err(DecodeError::Unsupported(other.to_string())),
        };
        Ok(BodyDecoder {
            coding,
            decoded_total: 0,
            max_decoded,
        })
    }

    /// Decodes one chunk and hands the decoded bytes to `sink` (for identity, the chunk itself, without copying).
    pub(crate) fn decode(&mut self, chunk: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<(), DecodeError> {
        let out = match &mut self.coding {
            Coding::Identity => {
                self.decoded_total += chunk.len();
                sink(chunk);
                return Ok(());
            }
            // `flush` pushes out everything decodable so far: a streamed SSE body must not lag a chunk behind.
            Coding::Gzip(d) => {
                d.write_all(chunk)
                    .and_then(|_| d.flush())
                    .map_err(|_| DecodeError::Corrupt)?;
                d.get_mut()
            }
            Coding::Deflate(d) => {
                d.write_all(chunk)
                    .and_then(|_| d.flush())
                    .map_err(|_| DecodeError::Corrupt)?;
                d.get_mut()
            }
        };
        self.decoded_total += out.len();
        if self.decoded_total > self.max_decoded {
            out.clear();
            return Err(DecodeError::OverCap);
        }
        sink(out);
        out.clear();
        Ok(())
    }

    pub(crate) fn is_identity(&self) -> bool {
        matches!(self.coding, Coding::Identity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_keeps_only_what_the_filter_reads() {
        assert_eq!(readable_accept_encoding("gzip, deflate"), None);
        assert_eq!(
            readable_accept_encoding("gzip, deflate, br, zstd").as_deref(),
            Some("gzip, deflate")
        );
        assert_eq!(
            readable_accept_encoding("br;q=1.0, gzip;q=0.8").as_deref(),
            Some("gzip;q=0.8")
        );
        assert_eq!(readable_accept_encoding("br").as_deref(), Some("identity"));
    }
    use flate2::write::{GzEncoder, ZlibEncoder};
    use flate2::Compression;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode_chunks(d: &mut BodyDecoder, wire: &[u8], size: usize) -> Result<Vec<u8>, DecodeError> {
        let mut out = Vec::new();
        for c in wire.chunks(size) {
            d.decode(c, &mut |b| out.extend_from_slice(b))?;
        }
        Ok(out)
    }

    #[test]
    fn gzip_and_deflate_decode_across_any_chunking() {
        let text = "data: {\"hello\":\"wörld\"}\n\n".repeat(200);
        let gz = gzip(text.as_bytes());
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(text.as_bytes()).unwrap();
        let zl = z.finish().unwrap();
        for size in [1, 7, 64, 100_000] {
            let mut d = BodyDecoder::new(Some("gzip"), 1 << 20).unwrap();
            assert!(
                decode_chunks(&mut d, &gz, size).unwrap() == text.as_bytes(),
                "gzip at {size}"
            );
            let mut d = BodyDecoder::new(Some("Deflate"), 1 << 20).unwrap();
            assert!(
                decode_chunks(&mut d, &zl, size).unwrap() == text.as_bytes(),
                "deflate at {size}"
            );
        }
    }

    #[test]
    fn identity_passes_through_and_unknown_codings_are_reported() {
        let mut d = BodyDecoder::new(None, 10).unwrap();
        assert_eq!(decode_chunks(&mut d, b"abc", 2).unwrap(), b"abc");
        assert_eq!(
            BodyDecoder::new(Some("zstd"), 10).err(),
            Some(DecodeError::Unsupported("zstd".into()))
        );
    }

    #[test]
    fn decompression_bomb_stops_at_the_cap() {
        let bomb = gzip(&vec![b'a'; 10 << 20]);
        let mut d = BodyDecoder::new(Some("gzip"), 1 << 20).unwrap();
        assert_eq!(decode_chunks(&mut d, &bomb, 4096).err(), Some(DecodeError::OverCap));
    }

    #[test]
    fn corrupt_gzip_is_an_error_not_a_panic() {
        let mut d = BodyDecoder::new(Some("gzip"), 1 << 20).unwrap();
        assert!(decode_chunks(&mut d, b"\x1f\x8b\x08\x00garbage-garbage-garbage", 4).is_err());
    }
}
