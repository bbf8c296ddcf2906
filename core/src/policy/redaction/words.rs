//! Sets of short words (key segments, placeholder words, context words), with a 1024-bit filter built at compile
//! time so that a word that is in no set, the usual case, costs one hash and one bit test rather than a comparison
//! with every member.

/// A set of lower-case ASCII words.
pub(super) struct WordSet {
    words: &'static [&'static [u8]],
    filter: [u64; 16],
}

const fn hash(w: &[u8]) -> u32 {
    // FNV-1a.
    let mut h: u32 = 0x811c_9dc5;
    let mut i = 0;
    while i < w.len() {
        h ^= w[i] as u32;
        h = h.wrapping_mul(0x0100_0193);
        i += 1;
    }
    h
}

impl WordSet {
    pub(super) const fn new(words: &'static [&'static [u8]]) -> WordSet {
        let mut filter = [0u64; 16];
        let mut i = 0;
        while i < words.len() {
            let bit = (hash(words[i]) & 1023) as usize;
            filter[bit >> 6] |= 1 << (bit & 63);
            i += 1;
        }
        WordSet { words, filter }
    }

    /// The members (to check other tables against).
    #[cfg(test)]
    pub(super) fn words(&self) -> &'static [&'static [u8]] {
        self.words
    }

    /// Whether `w` (already lower case) is in the set.
    #[inline]
    pub(super) fn contains(&self, w: &[u8]) -> bool {
        let bit = (hash(w) & 1023) as usize;
        self.filter[bit >> 6] >> (bit & 63) & 1 != 0 && self.words.iter().any(|x| same(x, w))
    }
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_and_others() {
        static SET: WordSet = WordSet::new(&[b"token", b"secret", b"key"]);
        assert!(SET.contains(b"token") && SET.contains(b"key"));
        assert!(!SET.contains(b"tokens") && !SET.contains(b"") && !SET.contains(b"ke"));
    }
}
