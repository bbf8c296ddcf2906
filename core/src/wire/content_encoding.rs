//! Decoding compressed response bodies for inspection only: the bytes forwarded to the client are never changed.
//!
//! Decoding is incremental and capped per body: each chunk is inflated into one small fixed buffer that is handed
//! to the sink and reused, so a chunk that expands a thousandfold (a decompression bomb delivered in one piece)
//! never exists decoded in memory. Once a body has produced the configured number of decoded bytes, decoding stops
//! for good: memory stays at the fixed buffer and the inflater's window, CPU at the cap.

use flate2::{Decompress, FlushDecompress, Status};

/// Decoded bytes produced per inflate step: the most a decoder holds besides the inflater's own 32 KiB window.
const OUTPUT_BUFFER_BYTES: usize = 16 << 10;

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

/// Whether an `accept-encoding` lets the server compress (names a coding other than `identity`, or `*`, without
/// `q=0`).
pub(crate) fn allows_compression(accept: &str) -> bool {
    accept.split(',').any(|item| {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let refused = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        !coding.is_empty() && coding != "identity" && !refused
    })
}

/// Gzip header flags (RFC 1952, 2.3.1).
const FHCRC: u8 = 2;
const FEXTRA: u8 = 4;
const FNAME: u8 = 8;
const FCOMMENT: u8 = 16;

/// A gzip member's header, read incrementally and skipped: the fixed ten bytes, then the optional extra field,
/// name, comment and header CRC the flags announce.
#[derive(Default)]
struct GzipHeader {
    /// The part being read: 0 fixed, 1 extra, 2 name, 3 comment, 4 header CRC, 5 done.
    part: u8,
    fixed: [u8; 10],
    /// Bytes of the current fixed-size part (the fixed header, the extra length, the CRC) read so far.
    have: usize,
    extra_left: usize,
    /// Another member came before this one: a header that does not parse is trailing bytes, not corruption.
    follows_member: bool,
}

impl GzipHeader {
    /// Reads header bytes from `input`: how many it used, and whether the header is complete.
    fn feed(&mut self, input: &[u8]) -> Result<(usize, bool), DecodeError> {
        let mut used = 0;
        while self.part < 5 {
            let rest = &input[used..];
            let flags = self.fixed[3];
            match self.part {
                0 => {
                    let take = (10 - self.have).min(rest.len());
                    self.fixed[self.have..self.have + take].copy_from_slice(&rest[..take]);
                    self.have += take;
                    used += take;
                    if self.have < 10 {
                        return Ok((used, false));
                    }
                    if self.fixed[..3] != [0x1f, 0x8b, 8] || self.fixed[3] & 0xe0 != 0 {
                        return Err(DecodeError::Corrupt);
                    }
                    self.have = 0;
                    self.part = 1;
                }
                1 if flags & FEXTRA == 0 => self.part = 2,
                1 if self.have < 2 => {
                    let Some(&byte) = rest.first() else {
                        return Ok((used, false));
                    };
                    self.extra_left |= usize::from(byte) << (8 * self.have);
                    self.have += 1;
                    used += 1;
                }
                1 => {
                    let skip = self.extra_left.min(rest.len());
                    self.extra_left -= skip;
                    used += skip;
                    if self.extra_left > 0 {
                        return Ok((used, false));
                    }
                    self.have = 0;
                    self.part = 2;
                }
                2 | 3 => {
                    let flag = if self.part == 2 { FNAME } else { FCOMMENT };
                    if flags & flag != 0 {
                        // Zero-terminated; nothing of it is kept.
                        let Some(end) = rest.iter().position(|&b| b == 0) else {
                            return Ok((input.len(), false));
                        };
                        used += end + 1;
                    }
                    self.part += 1;
                }
                _ => {
                    if flags & FHCRC != 0 {
                        let take = (2 - self.have).min(rest.len());
                        self.have += take;
                        used += take;
                        if self.have < 2 {
                            return Ok((used, false));
                        }
                    }
                    self.part = 5;
                }
            }
        }
        Ok((used, true))
    }
}

/// Where the decoding of a compressed body stands.
enum Stage {
    /// Reading a gzip member's header.
    GzipHeader(GzipHeader),
    /// `deflate`: the first byte, until the second tells a zlib stream (RFC 1950, what the coding means) from raw
    /// deflate (what some servers send).
    DeflateStart(Option<u8>),
    /// Inflating; `gzip` means a member's trailer follows the end of the data.
    Inflate { inflater: Decompress, gzip: bool },
    /// Skipping the rest of a gzip member's eight-byte trailer (CRC-32 and size); another member may follow.
    GzipTrailer(usize),
    /// The compressed data ended; bytes after it are ignored.
    Ended,
    /// Decoding stopped for good.
    Failed(DecodeError),
}

enum Coding {
    Identity,
    Compressed {
        stage: Stage,
        /// The one buffer decoded bytes pass through (see [`OUTPUT_BUFFER_BYTES`]).
        out: Box<[u8]>,
    },
}

/// Decoded bytes produced so far against the cap.
struct Budget {
    decoded: usize,
    max: usize,
}

impl Budget {
    /// Hands `bytes` to the sink while they fit under the cap; past it, only what fits, then `OverCap`.
    fn spend(&mut self, bytes: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<(), DecodeError> {
        let room = self.max - self.decoded;
        let fits = bytes.len().min(room);
        if fits > 0 {
            sink(&bytes[..fits]);
        }
        self.decoded += fits;
        if fits < bytes.len() {
            return Err(DecodeError::OverCap);
        }
        Ok(())
    }
}

/// Turns the response body's wire bytes into the bytes the provider encoded.
pub(crate) struct BodyDecoder {
    coding: Coding,
    budget: Budget,
}

impl BodyDecoder {
    /// A decoder for the response's `content-encoding` (absent or `identity` means none). A compressed body stops
    /// being decoded once it has produced `max_decoded` bytes.
    pub(crate) fn new(content_encoding: Option<&str>, max_decoded: usize) -> Result<BodyDecoder, DecodeError> {
        let stage = match content_encoding.map(|e| e.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("identity") => None,
            Some("gzip") | Some("x-gzip") => Some(Stage::GzipHeader(GzipHeader::default())),
            Some("deflate") => Some(Stage::DeflateStart(None)),
            Some(other) => return Err(DecodeError::Unsupported(other.to_string())),
        };
        let coding = match stage {
            None => Coding::Identity,
            Some(stage) => Coding::Compressed {
                stage,
                out: vec![0; OUTPUT_BUFFER_BYTES].into_boxed_slice(),
            },
        };
        Ok(BodyDecoder {
            coding,
            budget: Budget {
                decoded: 0,
                max: max_decoded,
            },
        })
    }

    /// Decodes one chunk and hands the decoded bytes to `sink`, in pieces of at most [`OUTPUT_BUFFER_BYTES`] (for
    /// identity, the chunk itself, without copying). After an error, every later chunk gets the same error.
    pub(crate) fn decode(&mut self, chunk: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<(), DecodeError> {
        let (stage, out) = match &mut self.coding {
            Coding::Identity => {
                self.budget.decoded += chunk.len();
                sink(chunk);
                return Ok(());
            }
            Coding::Compressed { stage, out } => (stage, out),
        };
        let result = advance(stage, chunk, out, &mut self.budget, sink);
        if let Err(e) = &result {
            *stage = Stage::Failed(e.clone());
        }
        result
    }

    pub(crate) fn is_identity(&self) -> bool {
        matches!(self.coding, Coding::Identity)
    }
}

/// Runs `input` through the stages of a compressed body.
fn advance(
    stage: &mut Stage,
    mut input: &[u8],
    out: &mut [u8],
    budget: &mut Budget,
    sink: &mut dyn FnMut(&[u8]),
) -> Result<(), DecodeError> {
    while !input.is_empty() {
        match stage {
            Stage::GzipHeader(header) => match header.feed(input) {
                Ok((used, done)) => {
                    input = &input[used..];
                    if done {
                        *stage = Stage::Inflate {
                            inflater: Decompress::new(false),
                            gzip: true,
                        };
                    }
                }
                Err(_) if header.follows_member => *stage = Stage::Ended,
                Err(e) => return Err(e),
            },
            Stage::DeflateStart(None) => {
                *stage = Stage::DeflateStart(Some(input[0]));
                input = &input[1..];
            }
            Stage::DeflateStart(Some(first)) => {
                let (cmf, flg) = (*first, input[0]);
                let zlib = cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0;
                let mut inflater = Decompress::new(zlib);
                let (_, ended) = inflate(&mut inflater, &[cmf], out, budget, sink)?;
                *stage = if ended {
                    Stage::Ended
                } else {
                    Stage::Inflate { inflater, gzip: false }
                };
            }
            Stage::Inflate { inflater, gzip } => {
                let (used, ended) = inflate(inflater, input, out, budget, sink)?;
                input = &input[used..];
                if ended {
                    *stage = if *gzip { Stage::GzipTrailer(8) } else { Stage::Ended };
                }
            }
            Stage::GzipTrailer(left) => {
                let skip = (*left).min(input.len());
                *left -= skip;
                input = &input[skip..];
                if *left == 0 {
                    *stage = Stage::GzipHeader(GzipHeader {
                        follows_member: true,
                        ..GzipHeader::default()
                    });
                }
            }
            Stage::Ended => return Ok(()),
            Stage::Failed(e) => return Err(e.clone()),
        }
    }
    match stage {
        Stage::Failed(e) => Err(e.clone()),
        _ => Ok(()),
    }
}

/// Inflates `input` through `out` into the sink: how much input it used, and whether the compressed data ended.
fn inflate(
    inflater: &mut Decompress,
    mut input: &[u8],
    out: &mut [u8],
    budget: &mut Budget,
    sink: &mut dyn FnMut(&[u8]),
) -> Result<(usize, bool), DecodeError> {
    let offered = input.len();
    loop {
        let (in_before, out_before) = (inflater.total_in(), inflater.total_out());
        let status = inflater
            .decompress(input, out, FlushDecompress::None)
            .map_err(|_| DecodeError::Corrupt)?;
        let used = (inflater.total_in() - in_before) as usize;
        let produced = (inflater.total_out() - out_before) as usize;
        input = &input[used..];
        budget.spend(&out[..produced], sink)?;
        if status == Status::StreamEnd {
            return Ok((offered - input.len(), true));
        }
        if used == 0 && produced == 0 {
            // No progress with room to write: waiting for input, or stuck on bytes that can never decode.
            return if input.is_empty() {
                Ok((offered, false))
            } else {
                Err(DecodeError::Corrupt)
            };
        }
        if input.is_empty() && produced < out.len() {
            return Ok((offered, false));
        }
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

    #[test]
    fn whether_an_accept_encoding_allows_compression() {
        assert!(allows_compression("gzip, deflate"));
        assert!(allows_compression("identity, *"));
        assert!(!allows_compression("identity"));
        assert!(!allows_compression("gzip;q=0, identity"));
        assert!(!allows_compression(""));
    }
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use flate2::{Compress, Compression, FlushCompress, GzBuilder};
    use std::io::Write;

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

    /// A gzip member of `mib` MiB of zeros, about 1000:1, built the way hostile servers do: one compressed MiB,
    /// full-flushed (byte-aligned, history reset), repeated.
    fn gzip_bomb(mib: usize) -> Vec<u8> {
        let zeros = vec![0u8; 1 << 20];
        let mut c = Compress::new(Compression::best(), false);
        let mut deflate = |input: &[u8], flush| {
            let mut out = Vec::with_capacity(8 << 10);
            c.compress_vec(input, &mut out, flush).unwrap();
            out
        };
        let first = deflate(&zeros, FlushCompress::Full);
        let again = deflate(&zeros, FlushCompress::Full);
        let tail = deflate(&[], FlushCompress::Finish);
        let mut crc = crc32fast::Hasher::new();
        for _ in 0..mib {
            crc.update(&zeros);
        }
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff];
        out.extend_from_slice(&first);
        for _ in 1..mib {
            out.extend_from_slice(&again);
        }
        out.extend_from_slice(&tail);
        out.extend_from_slice(&crc.finalize().to_le_bytes());
        out.extend_from_slice(&((mib << 20) as u32).to_le_bytes());
        out
    }

    #[test]
    fn the_bomb_builder_makes_a_valid_gzip_body() {
        let mut d = BodyDecoder::new(Some("gzip"), 8 << 20).unwrap();
        let out = decode_chunks(&mut d, &gzip_bomb(3), 1 << 20).unwrap();
        assert!(out.len() == 3 << 20 && out.iter().all(|&b| b == 0));
    }

    #[test]
    fn decompression_bomb_stops_at_the_cap() {
        let bomb = gzip(&vec![b'a'; 10 << 20]);
        let mut d = BodyDecoder::new(Some("gzip"), 1 << 20).unwrap();
        assert_eq!(decode_chunks(&mut d, &bomb, 4096).err(), Some(DecodeError::OverCap));
    }

    #[test]
    fn a_one_gib_bomb_in_one_chunk_yields_exactly_the_cap_in_small_pieces_and_then_stops() {
        let bomb = gzip_bomb(1024);
        assert!(bomb.len() < 2 << 20, "{} bytes on the wire", bomb.len());
        let cap = 4 << 20;
        let mut d = BodyDecoder::new(Some("gzip"), cap).unwrap();
        let (mut total, mut largest) = (0usize, 0usize);
        let result = d.decode(&bomb, &mut |piece| {
            total += piece.len();
            largest = largest.max(piece.len());
        });
        assert_eq!(result, Err(DecodeError::OverCap));
        assert_eq!(total, cap, "the sink gets the cap, not a byte more");
        assert!(largest <= OUTPUT_BUFFER_BYTES, "pieces of {largest} bytes");
        assert_eq!(
            d.decode(b"more", &mut |_| panic!("decoded after the cap")),
            Err(DecodeError::OverCap)
        );
    }

    #[test]
    fn a_zero_cap_decodes_nothing() {
        let mut d = BodyDecoder::new(Some("gzip"), 0).unwrap();
        assert_eq!(
            decode_chunks(&mut d, &gzip(b"hello"), 3).err(),
            Some(DecodeError::OverCap)
        );
    }

    #[test]
    fn gzip_header_fields_raw_deflate_concatenated_members_and_trailing_bytes() {
        let mut e = GzBuilder::new()
            .filename("answer.json")
            .comment("a comment")
            .extra(vec![7; 300])
            .write(Vec::new(), Compression::default());
        e.write_all(b"first ").unwrap();
        let mut wire = e.finish().unwrap();
        // The header CRC flag, set by hand (flate2 does not write it): two more header bytes.
        let mut with_crc = gzip(b"second");
        with_crc[3] |= FHCRC;
        with_crc.splice(10..10, [0xab, 0xcd]);
        wire.extend_from_slice(&with_crc);
        wire.extend_from_slice(b"\0\0garbage after the last member");
        for size in [1, 2, 5, 64, wire.len()] {
            let mut d = BodyDecoder::new(Some("x-gzip"), 1 << 20).unwrap();
            assert_eq!(
                decode_chunks(&mut d, &wire, size).unwrap(),
                b"first second",
                "gzip at {size}"
            );
        }
        let mut raw = DeflateEncoder::new(Vec::new(), Compression::default());
        raw.write_all(b"raw deflate, as some servers send it").unwrap();
        let raw = raw.finish().unwrap();
        for size in [1, 3, raw.len()] {
            let mut d = BodyDecoder::new(Some("deflate"), 1 << 20).unwrap();
            assert_eq!(
                decode_chunks(&mut d, &raw, size).unwrap(),
                b"raw deflate, as some servers send it",
                "raw deflate at {size}"
            );
        }
    }

    #[test]
    fn corrupt_gzip_is_an_error_not_a_panic() {
        let mut d = BodyDecoder::new(Some("gzip"), 1 << 20).unwrap();
        assert!(decode_chunks(&mut d, b"\x1f\x8b\x08\x00garbage-garbage-garbage", 4).is_err());
    }
}
