//! Splits newline-delimited JSON (`application/x-ndjson`: Ollama's streams; `application/stream+json`: Cohere's v1
//! chat stream) into its lines as they complete, for any split of the bytes. A line over the cap is skipped and
//! counted; blank lines are ignored; a last line without its newline is handed over at the end.

#[derive(Debug)]
pub(crate) struct NdjsonSplitter {
    line: Vec<u8>,
    max_line_bytes: usize,
    /// The current line outgrew the cap: skip it until its newline.
    oversized: bool,
    pub(crate) oversized_lines: u64,
}

impl NdjsonSplitter {
    pub(crate) fn new(max_line_bytes: usize) -> Self {
        NdjsonSplitter {
            line: Vec::new(),
            max_line_bytes,
            oversized: false,
            oversized_lines: 0,
        }
    }

    /// Feeds one chunk; calls `on_line` with each complete, non-blank line (without its line terminator).
    pub(crate) fn feed(&mut self, chunk: &[u8], on_line: &mut dyn FnMut(&[u8])) {
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            let (head, tail) = rest.split_at(end);
            if self.line.is_empty() && !self.oversized {
                // A whole line in this chunk: no copy, but the same cap as a line assembled from pieces.
                if head.len() > self.max_line_bytes {
                    self.oversized_lines += 1;
                } else {
                    emit(head, on_line);
                }
            } else {
                self.append(head);
                if !self.oversized {
                    emit(&self.line, on_line);
                }
                self.line.clear();
            }
            self.oversized = false;
            rest = &tail[1..];
        }
        self.append(rest);
    }

    /// End of the body: a last line whose newline never came is still a whole message.
    pub(crate) fn finish(&mut self, on_line: &mut dyn FnMut(&[u8])) {
        if !self.oversized {
            emit(&self.line, on_line);
        }
        self.line.clear();
        self.oversized = false;
    }

    fn append(&mut self, bytes: &[u8]) {
        if self.oversized || bytes.is_empty() {
            return;
        }
        if self.line.len() + bytes.len() > self.max_line_bytes {
            self.oversized = true;
            self.oversized_lines += 1;
            self.line = Vec::new();
            return;
        }
        self.line.extend_from_slice(bytes);
    }
}

fn emit(line: &[u8], on_line: &mut dyn FnMut(&[u8])) {
    let line = line.trim_ascii();
    if !line.is_empty() {
        on_line(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_at_any_chunking() {
        let body = "{\"a\":1}\n\n{\"b\":\"x\\ny\"}\r\n{\"c\":3}";
        let expected = vec!["{\"a\":1}", "{\"b\":\"x\\ny\"}", "{\"c\":3}"];
        for size in 1..=body.len() {
            let mut s = NdjsonSplitter::new(1024);
            let mut out = Vec::new();
            for c in body.as_bytes().chunks(size) {
                s.feed(c, &mut |l| out.push(String::from_utf8(l.to_vec()).unwrap()));
            }
            s.finish(&mut |l| out.push(String::from_utf8(l.to_vec()).unwrap()));
            assert_eq!(out, expected, "size {size}");
        }
    }

    #[test]
    fn an_oversized_line_is_skipped_and_counted() {
        let body = format!("{{\"a\":\"{}\"}}\n{{\"b\":1}}\n", "x".repeat(100));
        for size in [1, 7, body.len()] {
            let mut s = NdjsonSplitter::new(50);
            let mut out = Vec::new();
            for c in body.as_bytes().chunks(size) {
                s.feed(c, &mut |l| out.push(l.to_vec()));
            }
            assert_eq!(out, vec![b"{\"b\":1}".to_vec()], "size {size}");
            assert_eq!(s.oversized_lines, 1);
        }
    }
}
