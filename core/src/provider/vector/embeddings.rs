//! Digests of the vectors an embeddings API returned (OpenAI-shaped `data[].embedding`, base64 `f32` as the openai
//! SDK asks by default, or decimal floats), so a later vector-store query whose vector has the same digest can name
//! the embeddings call it came from. Only each vector's first values are read (see
//! [`crate::model::retrieval::VectorDigest`]).

use crate::model::retrieval::{VectorDigest, DIGEST_VALUES};
use crate::wire::json_scan::{Event, JsonScanner, Want};

/// Vectors of one answer that are digested (a batch embedding a whole corpus is not a query).
pub(crate) const MAX_DIGESTS: usize = 16;

/// Base64 characters that hold the first [`DIGEST_VALUES`] `f32`s (4 bytes each, 3 bytes per 4 characters).
const BASE64_PREFIX: usize = (DIGEST_VALUES as usize * 4).div_ceil(3) * 4;

/// The digests of the vectors in an embeddings answer, in answer order.
pub(crate) fn digests(body: &[u8]) -> Vec<u64> {
    let mut out = Vec::new();
    let mut current: Option<VectorDigest> = None;
    let mut scanner = JsonScanner::new(BASE64_PREFIX + 4);
    scanner.feed(body, &mut |path, event| {
        let in_embedding = path.len() >= 3
            && path[0].key() == Some("data")
            && path[1].index().is_some()
            && path[2].key() == Some("embedding");
        if !in_embedding {
            return match (path.len(), &event) {
                (1, Event::Open(_)) if path[0].key() != Some("data") => Want::Skip,
                (2, Event::Open(_)) if out.len() >= MAX_DIGESTS => Want::Skip,
                _ => Want::Events,
            };
        }
        match (path.len(), event) {
            (3, Event::Str(text, _)) if out.len() < MAX_DIGESTS => out.extend(base64_digest(text)),
            (3, Event::Open(_)) => current = Some(VectorDigest::default()),
            (3, Event::Close(_)) => {
                if let Some(d) = current.take() {
                    out.extend(d.finish());
                }
            }
            (4, Event::Num(n)) => {
                if let (Some(d), Ok(v)) = (current.as_mut(), n.parse::<f64>()) {
                    if d.len() < DIGEST_VALUES {
                        d.push(v as f32);
                    }
                }
            }
            _ => {}
        }
        Want::Events
    });
    out
}

/// The digest of a base64 little-endian `f32` vector, from its first characters.
fn base64_digest(text: &str) -> Option<u64> {
    let bytes = decode_base64_prefix(text.as_bytes());
    let mut d = VectorDigest::default();
    for chunk in bytes.chunks_exact(4).take(DIGEST_VALUES as usize) {
        d.push(f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
    }
    d.finish()
}

/// Decodes standard base64 up to the first character that is not part of it (padding included).
fn decode_base64_prefix(text: &[u8]) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in text.iter().take(BASE64_PREFIX) {
        let Some(v) = value(c) else {
            break;
        };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_of(values: &[f32]) -> Option<u64> {
        let mut d = VectorDigest::default();
        values.iter().for_each(|v| d.push(*v));
        d.finish()
    }

    #[test]
    fn base64_and_float_answers_give_the_digest_of_their_vectors() {
        // The mock of the recorded RAG run: 8 f32s, base64 as the openai SDK asks.
        let b64 = r#"{"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": "j4RBPfz9fT+PhEE9j4RBPY+EQT2PhEE9j4RBPY+EQT0="}], "model": "m"}"#;
        // The values as chromadb writes them: each f32 as the shortest f64 that reads back to it.
        let written = [
            0.047245558351278305f64,
            0.9921567440032959,
            0.047245558351278305,
            0.047245558351278305,
            0.047245558351278305,
            0.047245558351278305,
            0.047245558351278305,
            0.047245558351278305,
        ];
        let vector: Vec<f32> = written.iter().map(|v| *v as f32).collect();
        assert_eq!(digests(b64.as_bytes()), vec![digest_of(&vector).unwrap()]);
        let floats = r#"{"data":[{"embedding":[0.047245558351278305,0.9921567440032959,0.047245558351278305,0.047245558351278305,0.047245558351278305,0.047245558351278305,0.047245558351278305,0.047245558351278305],"index":0},{"embedding":[1.0],"index":1}],"usage":{"prompt_tokens":1}}"#;
        assert_eq!(
            digests(floats.as_bytes()),
            vec![digest_of(&vector).unwrap(), digest_of(&[1.0]).unwrap()]
        );
    }

    #[test]
    fn a_long_base64_vector_is_read_from_its_prefix_only() {
        let values: Vec<f32> = (0..1536).map(|i| i as f32 / 1536.0).collect();
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut b64 = String::new();
        for c in bytes.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for k in 0..=c.len() {
                b64.push(ALPHABET[((n >> (18 - 6 * k)) & 63) as usize] as char);
            }
        }
        let body = format!(r#"{{"data":[{{"embedding":"{b64}"}}]}}"#);
        assert_eq!(digests(body.as_bytes()), vec![digest_of(&values).unwrap()]);
    }
}
