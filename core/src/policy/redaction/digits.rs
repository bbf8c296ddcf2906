//! A candidate run of digit groups, as the numeric tokenizer ([`super::numbers`]) found it, and the look-behind for
//! the words that some formats need (`tel`, `card`, `ssn`).

use super::charset::is_alnum;
use super::search::find_ignore_case;
use super::words::WordSet;

/// One candidate run.
pub(super) struct Run {
    pub(super) start: usize,
    /// End of the digits (before any extension).
    pub(super) core_end: usize,
    /// End including the extension.
    pub(super) end: usize,
    pub(super) plus: bool,
    pub(super) paren: bool,
    pub(super) ext: bool,
    /// Digit groups: start and length.
    groups: [(usize, u8); 8],
    pub(super) group_count: usize,
    /// Separators after each group but the last (`)` for a closing parenthesis).
    seps: [u8; 8],
    pub(super) sep_count: usize,
    pub(super) digit_count: usize,
    /// The digits as values 0–9, once [`Run::fill_digits`] ran (every check reads them; a text dense with numbers
    /// would otherwise collect them once per check).
    digits: [u8; 20],
    digits_len: usize,
}

impl Run {
    /// An empty run opening at `start`.
    pub(super) fn new(start: usize) -> Run {
        Run {
            start,
            core_end: start,
            end: start,
            plus: false,
            paren: false,
            ext: false,
            groups: [(0, 0); 8],
            group_count: 0,
            seps: [0; 8],
            sep_count: 0,
            digit_count: 0,
            digits: [0; 20],
            digits_len: 0,
        }
    }

    /// Adds a group of `len` digits at `start`; `false` past 8 groups (or a group longer than 20 digits).
    pub(super) fn push_group(&mut self, start: usize, len: usize) -> bool {
        self.digit_count += len;
        if self.group_count == self.groups.len() || len > 20 {
            return false;
        }
        self.groups[self.group_count] = (start, len as u8);
        self.group_count += 1;
        true
    }

    /// Adds a separator; `false` past 8.
    pub(super) fn push_sep(&mut self, sep: u8) -> bool {
        if self.sep_count == self.seps.len() {
            return false;
        }
        self.seps[self.sep_count] = sep;
        self.sep_count += 1;
        true
    }

    pub(super) fn group(&self, k: usize) -> &[(usize, u8)] {
        &self.groups[k..self.group_count]
    }

    pub(super) fn lens(&self) -> impl Iterator<Item = usize> + '_ {
        self.groups[..self.group_count].iter().map(|g| usize::from(g.1))
    }

    pub(super) fn seps(&self) -> &[u8] {
        &self.seps[..self.sep_count]
    }

    /// Collects the digits of the groups (at most 20), for [`Run::digits`].
    pub(super) fn fill_digits(&mut self, t: &[u8]) {
        let mut n = 0;
        for &(s, len) in &self.groups[..self.group_count] {
            for &b in &t[s..s + usize::from(len)] {
                if n < self.digits.len() {
                    self.digits[n] = b - b'0';
                    n += 1;
                }
            }
        }
        self.digits_len = n;
    }

    /// The digits, in order, as values 0–9 (after [`Run::fill_digits`]).
    pub(super) fn digits(&self) -> &[u8] {
        &self.digits[..self.digits_len]
    }

    pub(super) fn shape_is(&self, lens: &[usize]) -> bool {
        self.group_count == lens.len() && self.lens().zip(lens).all(|(a, b)| a == *b)
    }
}

/// Whether a word of `words`, or one of `phrases` (lower case), ends at most `within` bytes before `start`, on the
/// same line (looking no further back than 40 bytes). Words are whole (`tel` is not in `hotel`); a `.` after one
/// is allowed (`tel.`). Phrases are searched as written (`social security`, `電話`).
pub(super) fn keyword_before(t: &[u8], start: usize, within: usize, words: &WordSet, phrases: &[&[u8]]) -> bool {
    let from = start.saturating_sub(40);
    let line_start = t[from..start]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(from, |k| from + k + 1);
    let window = &t[line_start..start];
    let word_byte = |b: u8| is_alnum(b) || b == b'_' || b >= 0x80;
    let mut e = window.len();
    loop {
        while e > 0 && !word_byte(window[e - 1]) {
            e -= 1;
        }
        if e == 0 {
            break;
        }
        let dot = usize::from(window.get(e) == Some(&b'.'));
        if window.len() - e - dot > within {
            break;
        }
        let mut s = e;
        while s > 0 && word_byte(window[s - 1]) {
            s -= 1;
        }
        let mut lower = [0u8; 24];
        if e - s <= lower.len() {
            for (d, b) in lower.iter_mut().zip(&window[s..e]) {
                *d = b.to_ascii_lowercase();
            }
            if words.contains(&lower[..e - s]) {
                return true;
            }
        }
        e = s;
    }
    let ascii = window.is_ascii();
    for p in phrases {
        if ascii && !p.is_ascii() {
            continue;
        }
        let mut at = 0;
        while let Some(k) = find_ignore_case(window, at, p) {
            at = k + 1;
            let end = k + p.len();
            let before_ok = !p[0].is_ascii_alphanumeric() || k == 0 || !word_byte(window[k - 1]);
            let after_ok = !p[p.len() - 1].is_ascii_alphanumeric() || window.get(end).is_none_or(|b| !word_byte(*b));
            if before_ok && after_ok && window.len() - end <= within {
                return true;
            }
        }
    }
    false
}
