//! Reads a JSON document that arrives in pieces (a vector store's answer with hundreds of hits and their
//! embeddings) and reports each value by its path as soon as it completes, for any split of the bytes, in bounded
//! memory: strings are kept up to a cap, a value the caller does not want (an embedding) is skipped without being
//! kept, and a small value can be captured raw (a hit's metadata) up to a cap the caller gives.

/// Deepest nesting reported; anything deeper is skipped.
const MAX_DEPTH: usize = 64;
/// Longest object key kept (a longer one is cut).
const MAX_KEY_BYTES: usize = 256;
/// Longest number kept.
const MAX_NUMBER_BYTES: usize = 64;

/// One step of a value's path: an object member or an array element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// The member named so.
    Key(String),
    /// The element at this position.
    Index(u32),
}

impl Seg {
    /// The member name, when this step is one.
    pub(crate) fn key(&self) -> Option<&str> {
        match self {
            Seg::Key(k) => Some(k),
            Seg::Index(_) => None,
        }
    }

    /// The element position, when this step is one.
    pub(crate) fn index(&self) -> Option<u32> {
        match self {
            Seg::Index(i) => Some(*i),
            Seg::Key(_) => None,
        }
    }
}

/// Object or array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Container {
    Object,
    Array,
}

/// What the scanner reports, with the path of the value it concerns.
#[derive(Debug, PartialEq)]
pub(crate) enum Event<'a> {
    /// An object or array begins: the caller's [`Want`] says whether to report its contents, skip it or capture it.
    Open(Container),
    /// The object or array whose contents were reported ends.
    Close(Container),
    /// A string, unescaped; `true` when it was longer than the cap and is cut (on a character boundary).
    Str(&'a str, bool),
    /// A number, as written.
    Num(&'a str),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// The raw text of a captured value, or `None` when it was larger than asked.
    Raw(Option<&'a [u8]>),
}

/// What to do with the value that just opened (answers to other events are ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// Report its contents.
    Events,
    /// Skip it without keeping anything.
    Skip,
    /// Keep its raw text, up to this many bytes, and report it as one [`Event::Raw`].
    Capture(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    /// A value is expected (top level, after `:`, after `,` in an array).
    Value,
    /// Just after `[`: a value or `]`.
    ArrayStart,
    /// Just after `{`: a key or `}`.
    ObjectStart,
    /// After `,` in an object: a key.
    Key,
    /// After a key: `:`.
    Colon,
    /// After a value: `,` or the end of the container.
    AfterValue,
    /// Inside a string (a key when `key`).
    Str { key: bool },
    /// Inside a number.
    Num,
    /// Inside `true`, `false` or `null` (already reported).
    Literal,
    /// Inside a skipped or captured value.
    Raw,
    /// The document ended.
    Done,
    /// Not JSON: nothing more is reported.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    Backslash,
    /// `\u` and the hex digits read so far.
    Unicode {
        digits: u8,
        value: u32,
    },
}

#[derive(Debug)]
struct Frame {
    kind: Container,
    next_index: u32,
    /// A path step was pushed for this container (every one but the document itself).
    has_seg: bool,
}

/// The scanner's state between pieces.
#[derive(Debug)]
pub(crate) struct JsonScanner {
    lex: Lex,
    frames: Vec<Frame>,
    path: Vec<Seg>,
    /// The scalar in progress pushed a path step.
    scalar_has_seg: bool,
    pending_key: Option<String>,
    text: Vec<u8>,
    text_cut: bool,
    max_string: usize,
    escape: Escape,
    /// A high surrogate waiting for its low half.
    high_surrogate: Option<u32>,
    raw_depth: u32,
    raw_in_string: bool,
    raw_escaped: bool,
    /// `Some` while capturing (the kept bytes), `None` while skipping.
    raw_capture: Option<Vec<u8>>,
    raw_limit: usize,
    raw_over: bool,
    raw_has_seg: bool,
}

impl JsonScanner {
    /// A scanner keeping strings up to `max_string` bytes.
    pub(crate) fn new(max_string: usize) -> JsonScanner {
        JsonScanner {
            lex: Lex::Value,
            frames: Vec::new(),
            path: Vec::new(),
            scalar_has_seg: false,
            pending_key: None,
            text: Vec::new(),
            text_cut: false,
            max_string,
            escape: Escape::None,
            high_surrogate: None,
            raw_depth: 0,
            raw_in_string: false,
            raw_escaped: false,
            raw_capture: None,
            raw_limit: 0,
            raw_over: false,
            raw_has_seg: false,
        }
    }

    /// Whether the bytes stopped being JSON (what was reported before stays true).
    #[cfg(test)]
    pub(crate) fn failed(&self) -> bool {
        self.lex == Lex::Failed
    }

    /// Feeds the next piece of the document.
    pub(crate) fn feed(&mut self, bytes: &[u8], on: &mut dyn FnMut(&[Seg], Event<'_>) -> Want) {
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match self.lex {
                Lex::Failed | Lex::Done => return,
                Lex::Raw => {
                    // Hot path for skipped embeddings: runs of plain bytes go in one step.
                    let run = bytes[i..]
                        .iter()
                        .position(|&c| matches!(c, b'"' | b'\\' | b'{' | b'}' | b'[' | b']'))
                        .unwrap_or(bytes.len() - i);
                    if run > 0 {
                        self.raw_keep(&bytes[i..i + run]);
                        i += run;
                        continue;
                    }
                    self.raw_byte(b, on);
                }
                Lex::Str { key } => self.string_byte(b, key, on),
                Lex::Num => {
                    if matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                        if self.text.len() < MAX_NUMBER_BYTES {
                            self.text.push(b);
                        }
                    } else {
                        self.end_number(on);
                        continue; // the byte that ended the number is read again as structure
                    }
                }
                Lex::Literal => {
                    if !b.is_ascii_alphabetic() {
                        self.lex = self.after_value();
                        continue;
                    }
                }
                _ => self.structural(b, on),
            }
            i += 1;
        }
    }

    fn fail(&mut self) {
        self.lex = Lex::Failed;
        self.frames = Vec::new();
        self.path = Vec::new();
        self.text = Vec::new();
        self.raw_capture = None;
    }

    fn after_value(&self) -> Lex {
        if self.frames.is_empty() {
            Lex::Done
        } else {
            Lex::AfterValue
        }
    }

    fn structural(&mut self, b: u8, on: &mut dyn FnMut(&[Seg], Event<'_>) -> Want) {
        if b.is_ascii_whitespace() {
            return;
        }
        match self.lex {
            Lex::Value => self.begin_value(b, on),
            Lex::ArrayStart if b == b']' => self.close(Container::Array, on),
            Lex::ArrayStart => self.begin_value(b, on),
            Lex::ObjectStart if b == b'}' => self.close(Container::Object, on),
            Lex::ObjectStart | Lex::Key if b == b'"' => self.begin_string(true),
            Lex::Colon if b == b':' => self.lex = Lex::Value,
            Lex::AfterValue => match (b, self.frames.last_mut()) {
                (b',', Some(f)) if f.kind == Container::Array => {
                    f.next_index = f.next_index.saturating_add(1);
                    self.lex = Lex::Value;
                }
                (b',', Some(_)) => self.lex = Lex::Key,
                (b']', Some(f)) if f.kind == Container::Array => self.close(Container::Array, on),
                (b'}', Some(f)) if f.kind == Container::Object => self.close(Container::Object, on),
                _ => self.fail(),
            },
            _ => self.fail(),
        }
    }

    /// Pushes the path step of the value that begins; whether one was pushed.
    fn enter(&mut self) -> bool {
        let seg = match self.frames.last() {
            None => return false,
            Some(f) if f.kind == Container::Array => Seg::Index(f.next_index),
            Some(_) => Seg::Key(self.pending_key.take().unwrap_or_default()),
        };
        self.path.push(seg);
        true
    }

    fn leave(&mut self, had_seg: bool) {
        if had_seg {
            self.path.pop();
        }
        self.lex = self.after_value();
    }

    fn begin_value(&mut self, b: u8, on: &mut dyn FnMut(&[Seg], Event<'_>) -> Want) {
        match b {
            b'{' | b'[' => {
                let kind = if b == b'{' { Container::Object } else { Container::Array };
                let has_seg = self.enter();
                let want = on(&self.path, Event::Open(kind));
                let want = if self.frames.len() >= MAX_DEPTH && want == Want::Events {
                    Want::Skip
                } else {
                    want
                };
                match want {
                    Want::Events => {
                        self.frames.push(Frame {
                            kind,
                            next_index: 0,
                            has_seg,
                        });
                        self.lex = if kind == Container::Object {
                            Lex::ObjectStart
                        } else {
                            Lex::ArrayStart
                        };
                    }
                    Want::Skip | Want::Capture(_) => {
                        self.raw_depth = 1;
                        self.raw_in_string = false;
                        self.raw_escaped = false;
                        self.raw_over = false;
                        self.raw_has_seg = has_seg;
                        self.raw_capture = match want {
                            Want::Capture(limit) => {
                                self.raw_limit = limit;
                                let mut kept = Vec::new();
                                if limit > 0 {
                                    kept.push(b);
                                } else {
                                    self.raw_over = true;
                                }
                                Some(kept)
                            }
                            _ => None,
                        };
                        self.lex = Lex::Raw;
                    }
                }
            }
            b'"' => {
                self.scalar_has_seg = self.enter();
                self.begin_string(false);
            }
            b'-' | b'0'..=b'9' => {
                self.scalar_has_seg = self.enter();
                self.text.clear();
                self.text.push(b);
                self.lex = Lex::Num;
            }
            b't' | b'f' | b'n' => {
                let has_seg = self.enter();
                let event = match b {
                    b't' => Event::Bool(true),
                    b'f' => Event::Bool(false),
                    _ => Event::Null,
                };
                on(&self.path, event);
                self.leave(has_seg);
                // The rest of the word is skipped; the byte after it is read as structure.
                self.lex = Lex::Literal;
            }
            _ => self.fail(),
        }
    }

    fn close(&mut self, kind: Container, on: &mut dyn FnMut(&[Seg], Event<'_>) -> Want) {
        let Some(frame) = self.frames.pop() else {
            return self.fail();
        };
        on(&self.path, Event::Close(kind));
        self.leave(frame.has_seg);
    }

    fn begin_string(&mut self, key: bool) {
        self.text.clear();
        self.text_cut = false;
        self.escape = Escape::None;
        self.high_surrogate = None;
        self.lex = Lex::Str { key };
    }

    fn string_byte(&mut self, b: u8, key: bool, on: &mut dyn FnMut(&[Seg], Event<'_>) -> Want) {
        match self.escape {
            Escape::None => match b {
                b'"' => self.end_string(key, on),
                b'\\' => self.escape = Escape::Backslash,
                _ => self.push_text(&[b], key),
            },
            Escape::Backslash => {
                self.escape = Escape::None;
                let c = match b {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    b'b' => 0x08,
                    b'f' => 0x0c,
                    b'u' => {
                        self.escape = Escape::Unicode { digits: 0, value: 0 };
                        return;
                    }
                    other => other, // `\"`, `\\`, `\/`
                };
                self.push_text(&[c], key);
            }
            Escape::Unicode { digits, value } => {
                let Some(d) = (b as char).to_digit(16) else {
                    return self.fail();
                };
                let value = value * 16 + d;
                if digits < 3 {
                    self.escape = Escape::Unicode {
                        digits: digits + 1,
                        value,
                    };
                    return;
                }
                self.escape = Escape::None;
                self.push_code_point(value, key);
            }
        }
    }

    fn push_code_point(&mut self, value: u32, key: bool) {
        let c = match (self.high_surrogate.take(), value) {
            (None, 0xD800..=0xDBFF) => {
                self.high_surrogate = Some(value);
                return;
            }
            (Some(high), 0xDC00..=0xDFFF) => char::from_u32(0x10000 + ((high - 0xD800) << 10) + (value - 0xDC00)),
            (Some(_), _) | (None, 0xDC00..=0xDFFF) => None,
            (None, v) => char::from_u32(v),
        };
        let mut buf = [0u8; 4];
        let s = c.unwrap_or(char::REPLACEMENT_CHARACTER).encode_utf8(&mut buf);
        self.push_text(s.as_bytes(), key);
    }

    fn push_text(&mut self, bytes: &[u8], key: bool) {
        let cap = if key { MAX_KEY_BYTES } else { self.max_string };
        if self.text.len() + bytes.len() <= cap {
            self.text.extend_from_slice(bytes);
        } else {
            self.text_cut = true;
        }
    }

    fn end_string(&mut self, key: bool, on: &mut dyn FnMut(&[Seg], Event<'_>) -> Want) {
        let text = match std::str::from_utf8(&self.text) {
            Ok(s) => s,
            // A cut inside a character, or bytes that are not UTF-8: keep the valid beginning.
            Err(e) => std::str::from_utf8(&self.text[..e.valid_up_to()]).unwrap_or_default(),
        };
        if key {
            self.pending_key = Some(text.to_string());
            self.lex = Lex::Colon;
            return;
        }
        on(&self.path, Event::Str(text, self.text_cut));
        let had_seg = self.scalar_has_seg;
        self.leave(had_seg);
    }

    fn end_number(&mut self, on: &mut dyn FnMut(&[Seg], Event<'_>) -> Want) {
        let text = std::str::from_utf8(&self.text).unwrap_or_default();
        on(&self.path, Event::Num(text));
        let had_seg = self.scalar_has_seg;
        self.leave(had_seg);
    }

    fn raw_keep(&mut self, bytes: &[u8]) {
        if let Some(kept) = &mut self.raw_capture {
            if self.raw_over || kept.len() + bytes.len() > self.raw_limit {
                self.raw_over = true;
                kept.clear();
            } else {
                kept.extend_from_slice(bytes);
            }
        }
    }

    fn raw_byte(&mut self, b: u8, on: &mut dyn FnMut(&[Seg], Event<'_>) -> Want) {
        self.raw_keep(&[b]);
        if self.raw_in_string {
            match (self.raw_escaped, b) {
                (true, _) => self.raw_escaped = false,
                (false, b'\\') => self.raw_escaped = true,
                (false, b'"') => self.raw_in_string = false,
                _ => {}
            }
            return;
        }
        match b {
            b'"' => self.raw_in_string = true,
            b'{' | b'[' => self.raw_depth += 1,
            b'}' | b']' => {
                self.raw_depth -= 1;
                if self.raw_depth == 0 {
                    if let Some(kept) = self.raw_capture.take() {
                        let raw = (!self.raw_over).then_some(kept.as_slice());
                        on(&self.path, Event::Raw(raw));
                    }
                    let had_seg = self.raw_has_seg;
                    self.leave(had_seg);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_text(path: &[Seg]) -> String {
        path.iter()
            .map(|s| match s {
                Seg::Key(k) => format!(".{k}"),
                Seg::Index(i) => format!("[{i}]"),
            })
            .collect()
    }

    /// Every event as a line, skipping `embeddings` and capturing `meta`.
    fn scan(doc: &[u8], chunk: usize, max_string: usize) -> (Vec<String>, bool) {
        let mut s = JsonScanner::new(max_string);
        let mut out = Vec::new();
        for piece in doc.chunks(chunk.max(1)) {
            s.feed(piece, &mut |path, event| {
                let p = path_text(path);
                let line = match &event {
                    Event::Open(_) if p.ends_with(".embeddings") => {
                        out.push(format!("{p} skip"));
                        return Want::Skip;
                    }
                    Event::Open(_) if p.ends_with(".meta") => {
                        out.push(format!("{p} capture"));
                        return Want::Capture(40);
                    }
                    Event::Open(k) => format!("{p} open {k:?}"),
                    Event::Close(k) => format!("{p} close {k:?}"),
                    Event::Str(t, cut) => format!("{p} str {t:?} {cut}"),
                    Event::Num(n) => format!("{p} num {n}"),
                    Event::Bool(b) => format!("{p} bool {b}"),
                    Event::Null => format!("{p} null"),
                    Event::Raw(r) => format!("{p} raw {:?}", r.map(|r| String::from_utf8_lossy(r).into_owned())),
                };
                out.push(line);
                Want::Events
            });
        }
        (out, s.failed())
    }

    const DOC: &[u8] = br#" {"ids":[["a","b\"c"]],"embeddings":[[0.1,-2e-3],[{"x":"]}"}]],
        "n":-1.5e-07,"t":true,"f":false,"z":null,"u":"\u00e9\ud83d\ude00\n","e":[],"o":{},
        "meta":{"k":"v","n":[1,2]},"big":{"meta":{"k":"0123456789012345678901234567890123456789"}},"last":7}"#;

    #[test]
    fn reports_every_value_by_path_at_every_chunking() {
        let (whole, failed) = scan(DOC, DOC.len(), 64);
        assert!(!failed);
        assert_eq!(
            whole,
            vec![
                " open Object",
                ".ids open Array",
                ".ids[0] open Array",
                ".ids[0][0] str \"a\" false",
                ".ids[0][1] str \"b\\\"c\" false",
                ".ids[0] close Array",
                ".ids close Array",
                ".embeddings skip",
                ".n num -1.5e-07",
                ".t bool true",
                ".f bool false",
                ".z null",
                ".u str \"é😀\\n\" false",
                ".e open Array",
                ".e close Array",
                ".o open Object",
                ".o close Object",
                ".meta capture",
                ".meta raw Some(\"{\\\"k\\\":\\\"v\\\",\\\"n\\\":[1,2]}\")",
                ".big open Object",
                ".big.meta capture",
                ".big.meta raw None",
                ".big close Object",
                ".last num 7",
                " close Object",
            ]
        );
        for size in 1..DOC.len() {
            assert_eq!(scan(DOC, size, 64), (whole.clone(), false), "chunk size {size}");
        }
    }

    #[test]
    fn strings_over_the_cap_are_cut_on_a_character_boundary() {
        let (events, _) = scan(r#"{"s":"aé€b"}"#.as_bytes(), 1, 4);
        assert_eq!(events[1], ".s str \"aé\" true");
    }

    #[test]
    fn not_json_stops_the_scan_and_keeps_what_came_before() {
        let (events, failed) = scan(br#"{"a":1,"b":x}"#, 3, 64);
        assert!(failed);
        assert_eq!(events, vec![" open Object", ".a num 1"]);
        let (events, failed) = scan(b"<html>502</html>", 5, 64);
        assert!(failed && events.is_empty());
    }

    #[test]
    fn a_top_level_array_and_a_cut_document() {
        let (events, failed) = scan(br#"[{"id":1},{"id":"#, 2, 64);
        assert!(!failed);
        assert_eq!(
            events,
            vec![
                " open Array",
                "[0] open Object",
                "[0].id num 1",
                "[0] close Object",
                "[1] open Object"
            ]
        );
    }

    #[test]
    fn nesting_past_the_depth_cap_is_skipped() {
        let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        let mut s = JsonScanner::new(16);
        let mut numbers = 0;
        let mut opens = 0;
        s.feed(deep.as_bytes(), &mut |_, e| {
            match e {
                Event::Num(_) => numbers += 1,
                Event::Open(_) => opens += 1,
                _ => {}
            }
            Want::Events
        });
        assert_eq!((numbers, opens, s.failed()), (0, MAX_DEPTH + 1, false));
    }
}
