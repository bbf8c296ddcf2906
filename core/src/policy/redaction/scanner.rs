//! One scan of one text: the bytes, which detectors are on, and where findings go. Every detector module works on
//! a [`Scanner`]; [`super::engine`] walks the text and calls them.

use super::names::Det;
use super::phones::Regions;
use super::search::find;

/// One value found: the byte span and the detector (a built-in [`Det`] or a custom detector's index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Finding {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) det: u16,
}

impl Finding {
    /// The order findings are resolved in: by start, at one start the longest first, then by precedence.
    #[inline]
    pub(super) fn key(&self) -> u64 {
        (self.start as u64) << 40
            | (0xff_ffff - (self.end - self.start).min(0xff_ffff) as u64) << 16
            | u64::from(self.det)
    }
}

/// One scan of one text.
pub(super) struct Scanner<'a> {
    pub(super) t: &'a [u8],
    pub(super) on: &'a [bool],
    pub(super) regions: Regions,
    pub(super) out: &'a mut Vec<Finding>,
    /// IPv6 candidates already parsed up to here (every `:` of an address triggers the check).
    pub(super) ipv6_checked_until: usize,
    /// The last forward search for each end marker (`-----END `...): where it started and what it found, so a text
    /// full of cut PEM blocks is searched once, not once per block.
    pub(super) searches: [(&'static [u8], usize, Option<usize>); 3],
    /// Where the walk may stop: every value starting past here would lie inside one already found that runs to
    /// the end of the text (a cut PEM block), and so be dropped.
    pub(super) limit: usize,
}

/// How far before the byte that triggers it a value may start (an Azure key's 88 bytes ending at its last run is
/// the most), with room to spare.
const LOOK_BEHIND: usize = 256;

impl Scanner<'_> {
    /// Whether detector `det` is enabled for this scan.
    #[inline]
    pub(super) fn wants(&self, det: u16) -> bool {
        self.on.get(usize::from(det)).copied().unwrap_or(false)
    }

    /// Records a value of a built-in detector, when it is enabled.
    #[inline]
    pub(super) fn push(&mut self, start: usize, end: usize, det: Det) {
        self.push_any(start, end, u16::from(det));
    }

    /// The first `needle` at or after `from`, remembering the answer for the next search of the same needle.
    pub(super) fn find_from(&mut self, needle: &'static [u8], from: usize) -> Option<usize> {
        let slot = self
            .searches
            .iter()
            .position(|(n, _, _)| std::ptr::eq(*n, needle) || n.is_empty())
            .unwrap_or(0);
        let (n, searched_from, found) = self.searches[slot];
        if std::ptr::eq(n, needle) && searched_from <= from && found.is_none_or(|f| f >= from) {
            return found;
        }
        let found = find(self.t, from, needle);
        self.searches[slot] = (needle, from, found);
        found
    }

    pub(super) fn push_any(&mut self, start: usize, end: usize, det: u16) {
        if end > start && self.wants(det) {
            // Kept in order as found: a value is mostly found after the ones before it, or a few places back (a
            // vendor key inside a `token: …` value found after it), so the findings need no sort. Further back
            // than a few places it is appended, and the sort after the scan puts it in place.
            let f = Finding { start, end, det };
            let key = f.key();
            let mut at = self.out.len();
            while at > 0 && self.out.len() - at < 8 && self.out.get(at - 1).is_some_and(|p| p.key() > key) {
                at -= 1;
            }
            if self.out.len() - at == 8 {
                at = self.out.len();
            }
            self.out.insert(at, f);
            if end == self.t.len() {
                self.limit = self.limit.min(start.saturating_add(LOOK_BEHIND));
            }
        }
    }
}
