//! Splits a JSON array streamed in pieces (`[{...},\r\n{...}]`, Gemini's `streamGenerateContent` without
//! `alt=sse`) into its top-level elements as they complete, tracking only nesting depth and string state.

#[derive(Debug)]
pub(crate) struct JsonArraySplitter {
    element: Vec<u8>,
    depth: u32,
    in_string: bool,
    escaped: bool,
    max_element_bytes: usize,
    oversized: bool,
    pub(crate) oversized_elements: u64,
}

impl JsonArraySplitter {
    pub(crate) fn new(max_element_bytes: usize) -> Self {
        JsonArraySplitter {
            element: Vec::new(),
            depth: 0,
            in_string: false,
            escaped: false,
            max_element_bytes,
            oversized: false,
            oversized_elements: 0,
        }
    }

    /// Feeds one chunk; calls `on_element` with each complete top-level element (an object or array).
    pub(crate) fn feed(&mut self, chunk: &[u8], on_element: &mut dyn FnMut(&[u8])) {
        for &b in chunk {
            // Depth 0 is outside the array, depth 1 between elements; element bytes live at depth ≥ 2.
            if self.depth >= 2 {
                self.push(b);
            }
            if self.in_string {
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'[' | b'{' => {
                    self.depth += 1;
                    if self.depth == 2 {
                        self.element.clear();
                        self.oversized = false;
                        self.push(b);
                    }
                }
                b']' | b'}' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 1 {
                        if !self.oversized {
                            on_element(&self.element);
                        }
                        self.element.clear();
                    }
                }
                _ => {}
            }
        }
    }

    fn push(&mut self, b: u8) {
        if self.oversized {
            return;
        }
        if self.element.len() >= self.max_element_bytes {
            self.oversized = true;
            self.oversized_elements += 1;
            self.element = Vec::new();
            return;
        }
        self.element.push(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_elements_at_any_chunking_with_tricky_strings() {
        let body = "[{\"a\":\"x]}\\\"{\",\"b\":[1,{\"c\":2}]}\r\n,\r\n{\"d\":\"é\"}\n]";
        let expected = vec![
            "{\"a\":\"x]}\\\"{\",\"b\":[1,{\"c\":2}]}".to_string(),
            "{\"d\":\"é\"}".to_string(),
        ];
        for size in 1..=body.len() {
            let mut s = JsonArraySplitter::new(1024);
            let mut out = Vec::new();
            for c in body.as_bytes().chunks(size) {
                s.feed(c, &mut |e| out.push(String::from_utf8(e.to_vec()).unwrap()));
            }
            assert_eq!(out, expected, "size {size}");
        }
    }

    #[test]
    fn oversized_element_is_skipped() {
        let body = format!("[{{\"a\":\"{}\"}},{{\"b\":1}}]", "x".repeat(100));
        let mut s = JsonArraySplitter::new(50);
        let mut out = Vec::new();
        s.feed(body.as_bytes(), &mut |e| out.push(e.to_vec()));
        assert_eq!(out, vec![b"{\"b\":1}".to_vec()]);
        assert_eq!(s.oversized_elements, 1);
    }
}
