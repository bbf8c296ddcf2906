//! A header map read from the host in one call, as the host serialized it, and read in place: the SDK's `get_map`
//! makes two `String`s per header and `get_map_value` is one host call (and one `String`) per name asked for.
//!
//! The proxy-wasm ABI's serialization: a little-endian `u32` count, then a `(u32 name_len, u32 value_len)` pair per
//! header, then each name and value, each followed by a NUL byte.

use proxy_wasm::types::{MapType, Status};
use std::ops::Range;
use std::ptr::null_mut;

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_get_header_map_pairs(map_type: MapType, return_data: *mut *mut u8, return_size: *mut usize) -> Status;
}

/// One header map's serialized bytes and where each name and value is in them; empty when the host had none or
/// refused, cut at the first entry that does not fit.
pub(crate) struct HeaderMap {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

/// One header's place in the bytes, and a tag of its name that rules out most names without reading them.
struct Entry {
    tag: u32,
    name: Range<usize>,
    value: Range<usize>,
}

/// A name's length and its first and last bytes, lowercased: different tags, different names.
fn tag(name: &[u8]) -> u32 {
    let first = name.first().map_or(0, u8::to_ascii_lowercase);
    let last = name.last().map_or(0, u8::to_ascii_lowercase);
    (name.len() as u32 & 0xffff) | u32::from(first) << 16 | u32::from(last) << 24
}

impl HeaderMap {
    /// Reads `map_type` with one host call.
    pub(crate) fn read(map_type: MapType) -> HeaderMap {
        let mut data: *mut u8 = null_mut();
        let mut size: usize = 0;
        // SAFETY: the host writes a buffer it allocated through this module's `proxy_on_memory_allocate` (the
        // SDK's, a `Vec<u8>` of that capacity), which this module then owns, exactly as the SDK's `get_map` takes it.
        let bytes = unsafe {
            match proxy_get_header_map_pairs(map_type, &mut data, &mut size) {
                Status::Ok if !data.is_null() => Vec::from_raw_parts(data, size, size),
                _ => Vec::new(),
            }
        };
        let entries = index(&bytes).unwrap_or_default();
        HeaderMap { bytes, entries }
    }

    /// Every header in the host's order, as bytes.
    pub(crate) fn raw_pairs(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries
            .iter()
            .filter_map(|e| Some((self.bytes.get(e.name.clone())?, self.bytes.get(e.value.clone())?)))
    }

    /// Every header in the host's order; a pair that is not UTF-8 is skipped.
    pub(crate) fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.raw_pairs()
            .filter_map(|(k, v)| Some((std::str::from_utf8(k).ok()?, std::str::from_utf8(v).ok()?)))
    }

    /// A header's value by name (the first of that name; names compare as the host's own look-up does, ignoring
    /// ASCII case). Only the value found is checked for UTF-8.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        let wanted = name.as_bytes();
        let wanted_tag = tag(wanted);
        let found = self.entries.iter().find(|e| {
            e.tag == wanted_tag
                && self
                    .bytes
                    .get(e.name.clone())
                    .is_some_and(|k| k.eq_ignore_ascii_case(wanted))
        })?;
        std::str::from_utf8(self.bytes.get(found.value.clone())?).ok()
    }
}

/// Where each name and value is; `None` when the map is malformed before its first entry.
fn index(bytes: &[u8]) -> Option<Vec<Entry>> {
    let count = read_u32(bytes, 0)?;
    let mut data_at = count.checked_mul(8)?.checked_add(4)?;
    // A count the bytes cannot hold is the host's error: never reserve for more entries than fit.
    let mut entries = Vec::with_capacity(count.min(bytes.len() / 10));
    for i in 0..count {
        let sizes_at = i.checked_mul(8)?.checked_add(4)?;
        let (Some(name_len), Some(value_len)) = (read_u32(bytes, sizes_at), read_u32(bytes, sizes_at + 4)) else {
            break;
        };
        let name = data_at..data_at.saturating_add(name_len);
        let value_at = name.end.saturating_add(1);
        let value = value_at..value_at.saturating_add(value_len);
        // Each value is followed by its NUL byte.
        let Some(name_bytes) = bytes.get(name.clone()).filter(|_| value.end < bytes.len()) else {
            break;
        };
        data_at = value.end + 1;
        entries.push(Entry {
            tag: tag(name_bytes),
            name,
            value,
        });
    }
    Some(entries)
}

fn read_u32(bytes: &[u8], at: usize) -> Option<usize> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b) as usize)
}
