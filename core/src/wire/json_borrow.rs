//! A strict JSON reader for the common shape of a streamed message, borrowing from its bytes: the hot decoders
//! read an event with it in one pass and no value tree, and leave anything it does not take to serde.
//!
//! It takes a subset of what serde_json accepts and reads it the same way: a message it reads gives exactly the
//! value the lenient serde decoders would build. Anything outside the subset (a field of an unexpected type, a
//! repeated key, an escape in a key, an unusual number, invalid JSON) answers [`Unusual`], and the caller then
//! reads the message with serde, which handles (and counts) every case. Being strict only costs speed, never a
//! different result.

use super::find::string_special;
use std::borrow::Cow;

/// The message is not in the shape this reader takes: read it with serde instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unusual;

/// A value read, or [`Unusual`].
pub(crate) type Fast<T> = Result<T, Unusual>;

/// Deepest nesting skipped (serde_json's own limit is 128).
const MAX_DEPTH: u32 = 64;
/// Longest number taken: every integer this long is exact in a `u64`, and a decimal this long parses the same
/// whatever the float algorithm (serde_json rejects some longer ones as out of range).
const MAX_DIGITS: usize = 17;

/// A position in one message.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
    depth: u32,
}

/// Marks the member `bit` of an object as seen; a repeated member is an error for serde's derived readers.
pub(crate) fn seen(mask: &mut u32, bit: u32) -> Fast<()> {
    if *mask & bit != 0 {
        return Err(Unusual);
    }
    *mask |= bit;
    Ok(())
}

#[cfg(test)]
thread_local! {
    /// Tests compare each decoder with and without this reader: (switched off, messages it read).
    static TEST_STATE: std::cell::Cell<(bool, u64)> = const { std::cell::Cell::new((false, 0)) };
}

/// Runs `f` with this reader switched off, so every message goes through serde (tests only).
#[cfg(test)]
pub(crate) fn without<T>(f: impl FnOnce() -> T) -> T {
    TEST_STATE.with(|s| s.set((true, s.get().1)));
    let value = f();
    TEST_STATE.with(|s| s.set((false, s.get().1)));
    value
}

/// How many messages this reader read on this thread (tests only).
#[cfg(test)]
pub(crate) fn messages_read() -> u64 {
    TEST_STATE.with(|s| s.get().1)
}

impl<'a> Reader<'a> {
    /// Reads a whole message with `read`, which reads its top value; only whitespace may follow it.
    pub(crate) fn document<T>(buf: &'a [u8], read: impl FnOnce(&mut Reader<'a>) -> Fast<T>) -> Fast<T> {
        #[cfg(test)]
        if TEST_STATE.with(|s| s.get().0) {
            return Err(Unusual);
        }
        let mut r = Reader { buf, at: 0, depth: 0 };
        let value = read(&mut r)?;
        r.ws();
        if r.at != buf.len() {
            return Err(Unusual);
        }
        #[cfg(test)]
        TEST_STATE.with(|s| s.set((s.get().0, s.get().1 + 1)));
        Ok(value)
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.buf.get(self.at) {
            self.at += 1;
        }
    }

    /// The next byte after whitespace, not consumed.
    fn peek(&mut self) -> Fast<u8> {
        self.ws();
        self.buf.get(self.at).copied().ok_or(Unusual)
    }

    fn expect(&mut self, byte: u8) -> Fast<()> {
        if self.peek()? == byte {
            self.at += 1;
            Ok(())
        } else {
            Err(Unusual)
        }
    }

    fn literal(&mut self, word: &[u8]) -> Fast<()> {
        let end = self.at + word.len();
        if self.buf.get(self.at..end) == Some(word) {
            self.at = end;
            Ok(())
        } else {
            Err(Unusual)
        }
    }

    /// `null`, consumed, when it comes next.
    pub(crate) fn null(&mut self) -> Fast<bool> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Ok(true);
        }
        Ok(false)
    }

    /// An object, or `null` (`false`): `member(reader, key)` is called for each member, the reader at its value,
    /// and must read or skip the value.
    pub(crate) fn object(&mut self, mut member: impl FnMut(&mut Self, &'a [u8]) -> Fast<()>) -> Fast<bool> {
        if self.null()? {
            return Ok(false);
        }
        self.expect(b'{')?;
        self.enter()?;
        if self.peek()? == b'}' {
            self.at += 1;
            self.depth -= 1;
            return Ok(true);
        }
        loop {
            let key = self.key()?;
            self.expect(b':')?;
            member(self, key)?;
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    self.depth -= 1;
                    return Ok(true);
                }
                _ => return Err(Unusual),
            }
        }
    }

    /// An array, or `null` (`false`): `element(reader)` reads each element.
    pub(crate) fn array(&mut self, mut element: impl FnMut(&mut Self) -> Fast<()>) -> Fast<bool> {
        if self.null()? {
            return Ok(false);
        }
        self.expect(b'[')?;
        self.enter()?;
        if self.peek()? == b']' {
            self.at += 1;
            self.depth -= 1;
            return Ok(true);
        }
        loop {
            element(self)?;
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    self.depth -= 1;
                    return Ok(true);
                }
                _ => return Err(Unusual),
            }
        }
    }

    fn enter(&mut self) -> Fast<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Unusual);
        }
        Ok(())
    }

    /// An object key: ASCII without escapes (serde matches keys after unescaping and fails on invalid UTF-8;
    /// other keys are left to it). Keys are short: a byte loop beats a word scan's setup.
    fn key(&mut self) -> Fast<&'a [u8]> {
        self.expect(b'"')?;
        let rest = self.buf.get(self.at..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || !(0x20..0x80).contains(&b))
            .ok_or(Unusual)?;
        let (key, after) = rest.split_at_checked(len).ok_or(Unusual)?;
        if after.first() != Some(&b'"') {
            return Err(Unusual);
        }
        self.at += len + 1;
        Ok(key)
    }

    /// Skips a string as serde skips an ignored one: escapes checked, the bytes not (serde does not check that an
    /// ignored string is UTF-8 either).
    fn skip_string(&mut self) -> Fast<()> {
        self.expect(b'"')?;
        loop {
            let end = self.string_end()?;
            self.at = end + 1;
            if self.buf.get(end) == Some(&b'"') {
                return Ok(());
            }
            match *self.buf.get(self.at).ok_or(Unusual)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 1,
                b'u' => {
                    self.at += 1;
                    self.hex4()?;
                }
                _ => return Err(Unusual),
            }
        }
    }

    /// Where the plain run of string bytes from the current position ends: at a quote or a backslash. A control
    /// character (invalid in a JSON string) or the end of the message is unusual.
    fn string_end(&self) -> Fast<usize> {
        match string_special(self.buf, self.at) {
            Some(i) if matches!(self.buf.get(i), Some(b'"' | b'\\')) => Ok(i),
            _ => Err(Unusual),
        }
    }

    /// A string, or `null` (`None`). Borrowed unless it has escapes, as serde gives it.
    pub(crate) fn text(&mut self) -> Fast<Option<Cow<'a, str>>> {
        if self.null()? {
            return Ok(None);
        }
        self.string().map(Some)
    }

    fn string(&mut self) -> Fast<Cow<'a, str>> {
        self.expect(b'"')?;
        let start = self.at;
        let end = self.string_end()?;
        let plain = self.buf.get(start..end).ok_or(Unusual)?;
        if self.buf.get(end) == Some(&b'"') {
            self.at = end + 1;
            return std::str::from_utf8(plain).map(Cow::Borrowed).map_err(|_| Unusual);
        }
        let mut out = String::from(std::str::from_utf8(plain).map_err(|_| Unusual)?);
        self.at = end;
        loop {
            // At a backslash.
            self.at += 1;
            let escaped = *self.buf.get(self.at).ok_or(Unusual)?;
            self.at += 1;
            match escaped {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => out.push(self.unicode_escape()?),
                _ => return Err(Unusual),
            }
            let run_end = self.string_end()?;
            let run = self.buf.get(self.at..run_end).ok_or(Unusual)?;
            out.push_str(std::str::from_utf8(run).map_err(|_| Unusual)?);
            self.at = run_end;
            if self.buf.get(run_end) == Some(&b'"') {
                self.at += 1;
                return Ok(Cow::Owned(out));
            }
        }
    }

    /// The character of a `\u` escape (after `\u`); a surrogate pair is one character, a lone one unusual.
    fn unicode_escape(&mut self) -> Fast<char> {
        let high = self.hex4()?;
        if !(0xD800..0xE000).contains(&high) {
            return char::from_u32(high).ok_or(Unusual);
        }
        if high >= 0xDC00 || self.buf.get(self.at..self.at + 2) != Some(b"\\u") {
            return Err(Unusual);
        }
        self.at += 2;
        let low = self.hex4()?;
        if !(0xDC00..0xE000).contains(&low) {
            return Err(Unusual);
        }
        char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)).ok_or(Unusual)
    }

    fn hex4(&mut self) -> Fast<u32> {
        let digits = self.buf.get(self.at..self.at + 4).ok_or(Unusual)?;
        let mut value = 0;
        for &d in digits {
            value = value * 16 + (d as char).to_digit(16).ok_or(Unusual)?;
        }
        self.at += 4;
        Ok(value)
    }

    /// `true` or `false`, or `null` (`None`).
    pub(crate) fn flag(&mut self) -> Fast<Option<bool>> {
        match self.peek()? {
            b'n' => self.literal(b"null").map(|()| None),
            b't' => self.literal(b"true").map(|()| Some(true)),
            b'f' => self.literal(b"false").map(|()| Some(false)),
            _ => Err(Unusual),
        }
    }

    /// A count: a non-negative integer written plainly, or `null` (`None`).
    pub(crate) fn count(&mut self) -> Fast<Option<u64>> {
        if self.null()? {
            return Ok(None);
        }
        let start = self.at;
        let digits = self.digits();
        if digits == 0 || digits > MAX_DIGITS || (digits > 1 && self.buf.get(start) == Some(&b'0')) {
            return Err(Unusual);
        }
        if matches!(self.buf.get(self.at), Some(b'.' | b'e' | b'E')) {
            return Err(Unusual);
        }
        let mut n = 0u64;
        for &d in self.buf.get(start..self.at).unwrap_or_default() {
            n = n * 10 + u64::from(d - b'0');
        }
        Ok(Some(n))
    }

    /// Consumes a run of ASCII digits; returns how many.
    fn digits(&mut self) -> usize {
        let start = self.at;
        while self.buf.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        self.at - start
    }

    /// A number in JSON's grammar, short enough to read the same everywhere (no exponent).
    fn number(&mut self) -> Fast<()> {
        if self.buf.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        let start = self.at;
        let int = self.digits();
        if int == 0 || (int > 1 && self.buf.get(start) == Some(&b'0')) {
            return Err(Unusual);
        }
        let mut total = int;
        if self.buf.get(self.at) == Some(&b'.') {
            self.at += 1;
            let frac = self.digits();
            if frac == 0 {
                return Err(Unusual);
            }
            total += frac;
        }
        if total > MAX_DIGITS || matches!(self.buf.get(self.at), Some(b'e' | b'E')) {
            return Err(Unusual);
        }
        Ok(())
    }

    /// Skips any value, checking it as serde would.
    pub(crate) fn skip(&mut self) -> Fast<()> {
        match self.peek()? {
            b'"' => self.skip_string(),
            b'{' => self.object(|r, _| r.skip()).map(drop),
            b'[' => self.array(Reader::skip).map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(Unusual),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(json: &str) -> Fast<Vec<Option<String>>> {
        Reader::document(json.as_bytes(), |r| {
            let mut out = Vec::new();
            r.array(|r| {
                out.push(r.text()?.map(Cow::into_owned));
                Ok(())
            })?;
            Ok(out)
        })
    }

    #[test]
    fn strings_read_as_serde_reads_them() {
        let json = r#"["plain", "h\u00e9 \"q\" \\ \/ \n\t\r\b\f", "\ud83d\ude00 x", null, "caf\u00e9 ☕"]"#;
        let serde: Vec<Option<String>> = serde_json::from_str(json).unwrap();
        assert_eq!(texts(json), Ok(serde));
    }

    #[test]
    fn unusual_input_is_left_to_serde() {
        for json in [
            r#"["\ud83d"]"#,
            r#"["\ude00"]"#,
            r#"["\x"]"#,
            "[\"a\u{1}\"]",
            r#"["a"] x"#,
            r#"["a",]"#,
            r#"[1]"#,
            r#"["a""#,
        ] {
            assert_eq!(texts(json), Err(Unusual), "{json}");
        }
    }

    #[test]
    fn counts_and_skipped_values() {
        let read = |json: &str| {
            Reader::document(json.as_bytes(), |r| {
                let mut n = None;
                r.object(|r, key| match key {
                    b"n" => {
                        n = r.count()?;
                        Ok(())
                    }
                    _ => r.skip(),
                })?;
                Ok(n)
            })
        };
        assert_eq!(
            read(r#"{"a":[1,-2.5,true,false,null,{"b":"c\n"}],"n":42,"z":{}}"#),
            Ok(Some(42))
        );
        assert_eq!(read(r#"{"n":null}"#), Ok(None));
        for unusual in [
            r#"{"n":4.0}"#,
            r#"{"n":"4"}"#,
            r#"{"n":-1}"#,
            r#"{"n":01}"#,
            r#"{"a":1e5}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":123456789012345678}"#,
            r#"{"a\u0041":1}"#,
        ] {
            assert_eq!(read(unusual), Err(Unusual), "{unusual}");
        }
    }

    #[test]
    fn repeated_members_are_unusual() {
        let mut mask = 0;
        assert_eq!(seen(&mut mask, 1), Ok(()));
        assert_eq!(seen(&mut mask, 2), Ok(()));
        assert_eq!(seen(&mut mask, 1), Err(Unusual));
    }
}
