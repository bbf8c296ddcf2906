//! Custom regular expressions (`redaction.custom[].regex`), bounded at load and per call.
//!
//! At load a pattern is refused when it is longer than 512 bytes, has a counted repetition over 100 (`{1000}`),
//! nested repetitions whose bounds multiply past 1,000 (an unbounded `*`, `+` or `{n,}` counts as 100), more than
//! two levels of nested repetition, or compiles past 64 KiB. A pattern that starts with a literal of two bytes or
//! more (`CUST-` in `CUST-[0-9]{6}`) is only tried, anchored, where that literal occurs; any other pattern scans the
//! whole text. Each scan is charged against a per-call budget (bytes × patterns, `custom_budget_bytes`).

use regex_lite::{Regex, RegexBuilder};

/// Longest pattern accepted.
pub(super) const MAX_PATTERN_BYTES: usize = 512;
/// Largest counted repetition (`{n}`, `{m,n}`, `{n,}`).
pub(super) const MAX_REPETITION: u64 = 100;
/// Largest product of nested repetition bounds (unbounded counts as [`MAX_REPETITION`]).
pub(super) const MAX_NESTED_PRODUCT: u64 = 1000;
/// Deepest nesting of repetitions.
pub(super) const MAX_NESTING: u32 = 2;
/// Compiled size limit handed to `regex-lite`.
const SIZE_LIMIT: usize = 64 * 1024;

/// A validated custom pattern.
#[derive(Clone)]
pub(super) struct CustomRegex {
    pub(super) detector: u16,
    regex: Regex,
    /// With a literal prefix: the prefix, and the pattern anchored at the start of the haystack.
    prefiltered: Option<(Vec<u8>, Regex)>,
    /// Longest possible match in bytes, when bounded.
    max_len: Option<usize>,
}

/// What one call has spent on custom patterns, in bytes scanned.
pub(super) struct Budget {
    pub(super) spent: u64,
    pub(super) limit: u64,
}

impl Budget {
    fn charge(&mut self, bytes: usize) -> bool {
        let bytes = bytes as u64;
        if self.spent.saturating_add(bytes) > self.limit {
            return false;
        }
        self.spent += bytes;
        true
    }
}

impl CustomRegex {
    /// Validates and compiles `pattern`; the error says which limit it broke.
    pub(super) fn new(detector: u16, pattern: &str) -> Result<CustomRegex, String> {
        let shape = bound(pattern)?;
        let build = |p: &str| {
            RegexBuilder::new(p)
                .size_limit(SIZE_LIMIT)
                .nest_limit(32)
                .build()
                .map_err(|e| format!("invalid: {e}"))
        };
        let regex = build(pattern)?;
        let prefiltered = match literal_prefix(pattern) {
            Some(prefix) if prefix.len() >= 2 => Some((prefix, build(&format!(r"\A(?:{pattern})"))?)),
            _ => None,
        };
        Ok(CustomRegex {
            detector,
            regex,
            prefiltered,
            max_len: shape.max_len,
        })
    }

    /// Pushes every match in `text` to `out`; `false` (and nothing pushed past that point) when the budget ran out.
    pub(super) fn find(&self, text: &str, budget: &mut Budget, out: &mut Vec<(usize, usize)>) -> bool {
        let Some((prefix, anchored)) = &self.prefiltered else {
            if !budget.charge(text.len()) {
                return false;
            }
            out.extend(
                self.regex
                    .find_iter(text)
                    .map(|m| (m.start(), m.end()))
                    .filter(|(s, e)| e > s),
            );
            return true;
        };
        let t = text.as_bytes();
        let mut from = 0;
        while let Some(at) = super::search::find(t, from, prefix) {
            let rest = t.len() - at;
            if !budget.charge(self.max_len.map_or(rest, |m| m.min(rest))) {
                return false;
            }
            let m = text.get(at..).and_then(|h| anchored.find(h));
            match m {
                Some(m) if m.end() > 0 => {
                    out.push((at, at + m.end()));
                    from = at + m.end();
                }
                _ => from = at + 1,
            }
        }
        true
    }
}

/// What the load-time scan learned about a pattern.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Bounds {
    /// Longest match in bytes, if bounded.
    pub(super) max_len: Option<usize>,
}

#[derive(Debug, Clone, Copy)]
struct Atom {
    /// Longest match in bytes; `None` when unbounded.
    len: Option<u64>,
    /// Product of the repetition bounds nested in it.
    product: u64,
    /// Levels of repetition nested in it.
    depth: u32,
}

impl Atom {
    const EMPTY: Atom = Atom {
        len: Some(0),
        product: 1,
        depth: 0,
    };

    fn fixed(len: u64) -> Atom {
        Atom {
            len: Some(len),
            ..Atom::EMPTY
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Group {
    /// The best over finished alternatives (`None` before the first `|`).
    alternatives: Option<Atom>,
    /// The current alternative without its last atom.
    before_last: Atom,
    /// The last atom (what a quantifier applies to).
    last: Option<Atom>,
}

impl Group {
    const NEW: Group = Group {
        alternatives: None,
        before_last: Atom::EMPTY,
        last: None,
    };

    fn push(&mut self, a: Atom) {
        self.before_last = self.sequence();
        self.last = Some(a);
    }

    fn sequence(&self) -> Atom {
        self.last.map_or(self.before_last, |l| concat(self.before_last, l))
    }

    fn finish(self) -> Atom {
        let seq = self.sequence();
        self.alternatives.map_or(seq, |a| alternate(a, seq))
    }
}

fn concat(a: Atom, b: Atom) -> Atom {
    Atom {
        len: a.len.zip(b.len).map(|(x, y)| x.saturating_add(y)),
        product: a.product.max(b.product),
        depth: a.depth.max(b.depth),
    }
}

fn alternate(a: Atom, b: Atom) -> Atom {
    Atom {
        len: a.len.zip(b.len).map(|(x, y)| x.max(y)),
        product: a.product.max(b.product),
        depth: a.depth.max(b.depth),
    }
}

/// Scans the pattern text (escapes, classes, groups, quantifiers; no full parse) for the load-time limits.
pub(super) fn bound(pattern: &str) -> Result<Bounds, String> {
    if pattern.len() > MAX_PATTERN_BYTES {
        return Err(format!("longer than {MAX_PATTERN_BYTES} bytes"));
    }
    let p: Vec<char> = pattern.chars().collect();
    let mut stack = vec![Group::NEW];
    let mut i = 0;
    while i < p.len() {
        let c = p[i];
        i += 1;
        let top = stack.len() - 1;
        match c {
            '\\' => {
                let e = p.get(i).copied().unwrap_or('\\');
                i += 1;
                let atom = match e {
                    'b' | 'B' | 'A' | 'z' | '<' | '>' => Atom::EMPTY,
                    'p' | 'P' => {
                        if p.get(i) == Some(&'{') {
                            while i < p.len() && p[i] != '}' {
                                i += 1;
                            }
                            i += 1;
                        } else {
                            i += 1;
                        }
                        Atom::fixed(4)
                    }
                    'x' => {
                        if p.get(i) == Some(&'{') {
                            while i < p.len() && p[i] != '}' {
                                i += 1;
                            }
                            i += 1;
                        } else {
                            i += 2;
                        }
                        Atom::fixed(4)
                    }
                    _ => Atom::fixed(4),
                };
                stack[top].push(atom);
            }
            '[' => {
                let mut depth = 1;
                if p.get(i) == Some(&'^') {
                    i += 1;
                }
                if p.get(i) == Some(&']') {
                    i += 1;
                }
                while i < p.len() && depth > 0 {
                    match p[i] {
                        '\\' => i += 1,
                        '[' => depth += 1,
                        ']' => depth -= 1,
                        _ => {}
                    }
                    i += 1;
                }
                stack[top].push(Atom::fixed(4));
            }
            '(' => {
                if p.get(i) == Some(&'?') {
                    // `(?flags)` sets flags and is no group; `(?flags:`, `(?:`, `(?P<name>`, `(?<name>` open one.
                    let mut k = i + 1;
                    while k < p.len() && (p[k].is_ascii_alphabetic() || p[k] == '-') {
                        k += 1;
                    }
                    if p.get(k) == Some(&')') && k > i + 1 {
                        i = k + 1;
                        continue;
                    }
                    if matches!(p.get(i + 1), Some('P' | '<')) {
                        while i < p.len() && p[i] != '>' {
                            i += 1;
                        }
                        i += 1;
                    } else {
                        i = k + 1;
                    }
                }
                stack.push(Group::NEW);
            }
            ')' => {
                if stack.len() == 1 {
                    return Err("unbalanced `)`".into());
                }
                if let Some(g) = stack.pop() {
                    let top = stack.len() - 1;
                    stack[top].push(g.finish());
                }
            }
            '|' => {
                let g = &mut stack[top];
                let seq = g.sequence();
                g.alternatives = Some(g.alternatives.map_or(seq, |a| alternate(a, seq)));
                g.before_last = Atom::EMPTY;
                g.last = None;
            }
            '*' | '+' | '?' | '{' => {
                let (lo, hi, counted) = match c {
                    '*' => (0, None, false),
                    '+' => (1, None, false),
                    '?' => (0, Some(1), false),
                    _ => {
                        let close = p[i..].iter().position(|x| *x == '}').map(|k| i + k);
                        let Some(close) = close else {
                            // A `{` that opens no repetition is a literal.
                            stack[top].push(Atom::fixed(1));
                            continue;
                        };
                        let body: String = p[i..close].iter().collect();
                        i = close + 1;
                        let mut parts = body.splitn(2, ',');
                        let lo: u64 = parts
                            .next()
                            .unwrap_or("")
                            .trim()
                            .parse()
                            .map_err(|_| format!("bad repetition {{{body}}}"))?;
                        let hi = match parts.next() {
                            None => Some(lo),
                            Some(h) if h.trim().is_empty() => None,
                            Some(h) => Some(h.trim().parse().map_err(|_| format!("bad repetition {{{body}}}"))?),
                        };
                        let biggest = hi.unwrap_or(lo);
                        if biggest > MAX_REPETITION {
                            return Err(format!("counted repetition {{{body}}} exceeds {MAX_REPETITION}"));
                        }
                        (lo, hi, true)
                    }
                };
                if p.get(i) == Some(&'?') {
                    i += 1;
                }
                let g = &mut stack[top];
                let Some(last) = g.last else {
                    continue;
                };
                let bound = hi.unwrap_or(MAX_REPETITION).max(1);
                let repeated = Atom {
                    len: match (last.len, hi) {
                        (Some(l), Some(h)) => Some(l.saturating_mul(h)),
                        (Some(0), None) => Some(0),
                        _ => None,
                    },
                    product: last.product.saturating_mul(bound),
                    depth: last.depth + 1,
                };
                if repeated.depth > MAX_NESTING {
                    return Err(format!("more than {MAX_NESTING} levels of nested repetition"));
                }
                if repeated.depth > 1 && repeated.product > MAX_NESTED_PRODUCT {
                    return Err(format!(
                        "nested repetitions multiply to {} (more than {MAX_NESTED_PRODUCT})",
                        repeated.product
                    ));
                }
                let _ = (lo, counted);
                // A quantifier applies once: `a{2}{3}` quantifies the repetition, `a**` is refused by the compiler.
                g.last = Some(repeated);
            }
            '.' => stack[top].push(Atom::fixed(4)),
            '^' | '$' => stack[top].push(Atom::EMPTY),
            other => stack[top].push(Atom::fixed(other.len_utf8() as u64)),
        }
    }
    if stack.len() != 1 {
        return Err("unbalanced `(`".into());
    }
    let whole = stack[0].finish();
    Ok(Bounds {
        max_len: whole.len.and_then(|l| usize::try_from(l).ok()),
    })
}

/// The literal bytes every match starts with, when the pattern has no top-level alternation or flags.
fn literal_prefix(pattern: &str) -> Option<Vec<u8>> {
    if pattern.contains("(?") {
        return None;
    }
    let mut depth = 0i32;
    let mut escaped = false;
    let mut in_class = false;
    for c in pattern.chars() {
        match (escaped, in_class, c) {
            (true, _, _) => escaped = false,
            (false, _, '\\') => escaped = true,
            (false, false, '[') => in_class = true,
            (false, true, ']') => in_class = false,
            (false, false, '(') => depth += 1,
            (false, false, ')') => depth -= 1,
            (false, false, '|') if depth == 0 => return None,
            _ => {}
        }
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut prefix = String::new();
    let mut i = 0;
    while i < chars.len() {
        let (lit, width) = match chars[i] {
            '\\' => match chars.get(i + 1) {
                Some(e) if e.is_ascii_punctuation() => (*e, 2),
                _ => break,
            },
            c if c.is_alphanumeric() || "-_:@#%!,;<>=/'\" ~&".contains(c) => (c, 1),
            _ => break,
        };
        // A quantified character is optional or repeated: the prefix stops before it.
        if matches!(chars.get(i + width), Some('*' | '+' | '?' | '{')) {
            break;
        }
        prefix.push(lit);
        i += width;
    }
    (!prefix.is_empty()).then(|| prefix.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repetition_limits_are_enforced_at_load() {
        assert_eq!(
            bound("[a-z]{1000}x").unwrap_err(),
            "counted repetition {1000} exceeds 100"
        );
        assert!(bound("(a{10}){200}").is_err());
        assert!(bound("((x+){50}){50}").is_err());
        assert!(bound("((a{2}){2}){2}").unwrap_err().contains("levels"));
        assert!(bound(&"a".repeat(513)).unwrap_err().contains("512"));
        assert!(bound("(ab|cd){10}").is_ok());
        assert_eq!(bound("CUST-[0-9]{6}").unwrap().max_len, Some(5 + 24));
        assert_eq!(bound("a+").unwrap().max_len, None);
        assert_eq!(bound("(?i)acme(corp)?").unwrap().max_len, Some(4 + 4));
    }

    #[test]
    fn literal_prefixes_gate_anchored_matches() {
        assert_eq!(literal_prefix("CUST-[0-9]{6}"), Some(b"CUST-".to_vec()));
        assert_eq!(literal_prefix(r"ab\.c+"), Some(b"ab.".to_vec()));
        assert_eq!(literal_prefix("ab|cd"), None);
        assert_eq!(literal_prefix("(?i)acme"), None);
        let r = CustomRegex::new(0, "CUST-[0-9]{6}").unwrap();
        let mut budget = Budget {
            spent: 0,
            limit: 1 << 20,
        };
        let mut out = Vec::new();
        assert!(r.find("a CUST-123456, CUST-12 and CUST-654321", &mut budget, &mut out));
        assert_eq!(out, vec![(2, 13), (27, 38)]);
        // Charged per attempt (the longest match, or what is left of the text), not per byte of text.
        assert_eq!(budget.spent, 29 + 23 + 11);
    }

    #[test]
    fn a_full_scan_past_the_budget_is_refused() {
        let r = CustomRegex::new(0, "[a-z]+x").unwrap();
        let mut budget = Budget { spent: 0, limit: 100 };
        let mut out = Vec::new();
        assert!(r.find(&"a".repeat(60), &mut budget, &mut out));
        assert!(!r.find(&"a".repeat(60), &mut budget, &mut out));
        assert_eq!(budget.spent, 60);
    }
}
