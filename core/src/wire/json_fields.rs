//! Keeps the small top-level members of a JSON object streamed in pieces (`"model"`, `"stream"`, `"max_tokens"`,
//! `"stream_options"`, ...) while skipping large ones (`"messages"` with base64 images), in bounded memory.
//!
//! Used when a request body is larger than the inspection cap: the request parameters still get recorded even
//! when the prompt itself is too big to keep.

/// Members larger than this are skipped.
const MAX_MEMBER_BYTES: usize = 1024;
/// Total kept.
const MAX_KEPT_BYTES: usize = 16 << 10;

#[derive(Debug, Default)]
pub(crate) struct SmallFields {
    depth: u32,
    in_string: bool,
    escaped: bool,
    in_member: bool,
    skipping: bool,
    member: Vec<u8>,
    kept: Vec<u8>,
}

impl SmallFields {
    pub(crate) fn feed(&mut self, chunk: &[u8]) {
        for &b in chunk {
            if self.in_string {
                self.record(b);
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => {
                    if self.depth == 1 && !self.in_member {
                        self.in_member = true;
                        self.skipping = false;
                        self.member.clear();
                    }
                    self.in_string = true;
                    self.record(b);
                }
                b'{' | b'[' => {
                    self.depth += 1;
                    if self.depth > 1 {
                        self.record(b);
                    }
                }
                b'}' | b']' => {
                    if self.depth == 1 {
                        self.end_member();
                    } else {
                        self.record(b);
                    }
                    self.depth = self.depth.saturating_sub(1);
                }
                b',' if self.depth == 1 => self.end_member(),
                _ => self.record(b),
            }
        }
    }

    fn record(&mut self, b: u8) {
        if !self.in_member || self.skipping {
            return;
        }
        if self.member.len() >= MAX_MEMBER_BYTES {
            self.skipping = true;
            self.member = Vec::new();
            return;
        }
        self.member.push(b);
    }

    fn end_member(&mut self) {
        let member = std::mem::take(&mut self.member);
        let member = member.trim_ascii();
        if self.in_member && !self.skipping && !member.is_empty() && self.kept.len() + member.len() < MAX_KEPT_BYTES {
            if !self.kept.is_empty() {
                self.kept.push(b',');
            }
            self.kept.extend_from_slice(member);
        }
        self.in_member = false;
    }

    /// A JSON object of the small members seen so far.
    pub(crate) fn to_object(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.kept.len() + 2);
        out.push(b'{');
        out.extend_from_slice(&self.kept);
        out.push(b'}');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_small_members_and_skips_big_ones_at_any_chunking() {
        let big = "A".repeat(5000);
        let body = format!(
            r#"{{"messages": [{{"role":"user","content":[{{"type":"image_url","image_url":{{"url":"data:image/png;base64,{big}"}}}}]}}],
                "model": "gpt-4-vision-preview", "stream": true, "stream_options": {{"include_usage": true}},
                "note": "a \"quoted\" , }} value", "max_tokens": 300}}"#
        );
        for size in [1, 7, 333, body.len()] {
            let mut f = SmallFields::default();
            for c in body.as_bytes().chunks(size) {
                f.feed(c);
            }
            let v: serde_json::Value = serde_json::from_slice(&f.to_object()).unwrap();
            assert_eq!(
                v,
                serde_json::json!({"model":"gpt-4-vision-preview","stream":true,"stream_options":{"include_usage":true},
                    "note":"a \"quoted\" , } value","max_tokens":300}),
                "size {size}"
            );
        }
    }
}
