//! Phone numbers: international (`+CC`, any assigned country code, always on) and national formats by region
//! (`redaction.phone_regions`). Lengths and leading digits per region follow libphonenumber's metadata, simplified
//! to what a recognizer needs. A number must be written like a phone number (consistent separators, a last group of
//! two digits or more, not a date); ungrouped digits and groupings that could be thousands (`612 345 678`) need a
//! phone word before them (`tel`, `phone`, `mobile`, `電話`...) or the `+CC` form.

use super::digits::{keyword_before, Run};
use super::words::WordSet;

/// A region's national format.
pub(super) struct Region {
    pub(super) code: &'static str,
    cc: u16,
    /// National numbers start with a trunk `0` (dropped after `+CC`).
    trunk: bool,
    /// Lengths of the national significant number (after the trunk prefix).
    nsn: &'static [usize],
    /// First digits the national significant number may start with.
    lead: &'static [u8],
    /// North American numbering plan (US, CA).
    nanp: bool,
    /// Groupings (digit counts) accepted without a phone word, for regions without a trunk prefix.
    groupings: &'static [&'static [usize]],
    /// Italy: no trunk prefix, the leading 0 of fixed numbers is kept.
    zero_kept: bool,
    /// Mobile numbers of a trunk region written without the trunk: first digit, second digit (any when empty),
    /// length.
    mobile: Option<(&'static [u8], &'static [u8], usize)>,
    /// Only these leading digits are accepted without a phone word (Mexico's big cities).
    lead_groups: &'static [&'static [u8]],
    pub(super) default_on: bool,
}

const fn region(
    code: &'static str,
    cc: u16,
    trunk: bool,
    nsn: &'static [usize],
    lead: &'static [u8],
    on: bool,
) -> Region {
    Region {
        code,
        cc,
        trunk,
        nsn,
        lead,
        nanp: false,
        groupings: &[],
        zero_kept: false,
        mobile: None,
        lead_groups: &[],
        default_on: on,
    }
}

const D1_9: &[u8] = b"123456789";
const D2_9: &[u8] = b"23456789";

/// Every known region; `default_on` marks the default set.
pub(super) static REGIONS: [Region; 32] = [
    Region {
        nanp: true,
        ..region("US", 1, false, &[10], D2_9, true)
    },
    Region {
        nanp: true,
        ..region("CA", 1, false, &[10], D2_9, true)
    },
    region("GB", 44, true, &[9, 10], b"12356789", true),
    region("IE", 353, true, &[8, 9, 10], D1_9, true),
    region("FR", 33, true, &[9], D1_9, true),
    region("DE", 49, true, &[8, 9, 10, 11], D1_9, true),
    region("AT", 43, true, &[7, 8, 9, 10, 11, 12, 13], D1_9, true),
    region("CH", 41, true, &[9], D2_9, true),
    region("NL", 31, true, &[9], D1_9, true),
    region("BE", 32, true, &[8, 9], D1_9, true),
    region("SE", 46, true, &[7, 8, 9], D1_9, true),
    region("FI", 358, true, &[6, 7, 8, 9, 10], D1_9, false),
    Region {
        zero_kept: true,
        groupings: &[&[3, 3, 4], &[3, 7], &[3, 4, 3], &[2, 4, 4], &[2, 8], &[3, 3, 3]],
        ..region("IT", 39, false, &[6, 7, 8, 9, 10, 11], b"03", true)
    },
    Region {
        groupings: &[&[3, 2, 2, 2], &[2, 3, 2, 2]],
        ..region("ES", 34, false, &[9], b"6789", true)
    },
    Region {
        groupings: &[&[2, 3, 4]],
        ..region("PT", 351, false, &[9], b"29", true)
    },
    Region {
        groupings: &[&[2, 3, 2, 2]],
        ..region("PL", 48, false, &[9], D1_9, true)
    },
    region("DK", 45, false, &[8], D2_9, false),
    region("NO", 47, false, &[8], D2_9, false),
    region("JP", 81, true, &[9, 10], D1_9, true),
    region("KR", 82, true, &[8, 9, 10], D1_9, true),
    Region {
        mobile: Some((b"1", b"3456789", 11)),
        groupings: &[&[3, 4, 4]],
        ..region("CN", 86, true, &[10, 11], D1_9, false)
    },
    Region {
        mobile: Some((b"6789", b"", 10)),
        groupings: &[&[5, 5]],
        ..region("IN", 91, true, &[10], D1_9, true)
    },
    region("AU", 61, true, &[9], b"23478", true),
    region("NZ", 64, true, &[8, 9, 10], D2_9, true),
    region("BR", 55, true, &[10, 11], D1_9, true),
    Region {
        groupings: &[&[2, 4, 4]],
        lead_groups: &[b"33", b"55", b"56", b"81"],
        ..region("MX", 52, false, &[10], D2_9, true)
    },
    region("ZA", 27, true, &[9], b"12345678", true),
    region("SG", 65, false, &[8], b"3689", true),
    region("IL", 972, true, &[8, 9], D2_9, false),
    region("AE", 971, true, &[8, 9], D2_9, false),
    region("TR", 90, true, &[10], b"23458", false),
    region("TW", 886, true, &[8, 9], D2_9, false),
];

/// A set of enabled regions (bits of [`REGIONS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Regions(pub(super) u64);

impl Regions {
    pub(super) fn defaults() -> Regions {
        Regions(
            REGIONS
                .iter()
                .enumerate()
                .filter(|(_, r)| r.default_on)
                .fold(0, |m, (k, _)| m | 1 << k),
        )
    }

    pub(super) fn all() -> Regions {
        Regions((1 << REGIONS.len()) - 1)
    }

    fn iter(self) -> impl Iterator<Item = &'static Region> {
        REGIONS
            .iter()
            .enumerate()
            .filter(move |(k, _)| self.0 >> k & 1 == 1)
            .map(|(_, r)| r)
    }

    /// The region with this code (upper case), by index.
    pub(super) fn index_of(code: &str) -> Option<usize> {
        REGIONS.iter().position(|r| r.code == code)
    }
}

/// Assigned country calling codes (libphonenumber), for `+CC` numbers.
const COUNTRY_CODES: &[u16] = &[
    1, 7, 20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56, 57, 58, 60,
    61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98, 211, 212, 213, 216, 218, 220, 221, 222, 223,
    224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246,
    247, 248, 249, 250, 251, 252, 253, 254, 255, 256, 257, 258, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 290,
    291, 297, 298, 299, 350, 351, 352, 353, 354, 355, 356, 357, 358, 359, 370, 371, 372, 373, 374, 375, 376, 377, 378,
    380, 381, 382, 383, 385, 386, 387, 389, 420, 421, 423, 500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 590, 591,
    592, 593, 594, 595, 596, 597, 598, 599, 670, 672, 673, 674, 675, 676, 677, 678, 679, 680, 681, 682, 683, 685, 686,
    687, 688, 689, 690, 691, 692, 800, 808, 850, 852, 853, 855, 856, 870, 878, 880, 881, 882, 883, 886, 888, 960, 961,
    962, 963, 964, 965, 966, 967, 968, 970, 971, 972, 973, 974, 975, 976, 977, 979, 992, 993, 994, 995, 996, 998,
];

static PHONE_WORDS: WordSet = WordSet::new(&[
    b"tel",
    "tél".as_bytes(),
    b"telephone",
    b"telphone",
    "téléphone".as_bytes(),
    b"telefon",
    b"telefone",
    "teléfono".as_bytes(),
    b"telefono",
    b"phone",
    b"ph",
    b"mobile",
    b"mob",
    b"cell",
    b"cellphone",
    b"handy",
    b"portable",
    b"tlf",
    b"puh",
    b"puhelin",
    "móvil".as_bytes(),
    b"movil",
    b"celular",
    b"cellulare",
    b"gsm",
    b"whatsapp",
    b"sms",
    b"fax",
    b"call",
    b"contact",
]);
/// Phone words in scripts written without spaces, searched as written.
const PHONE_PHRASES: &[&[u8]] = &[
    "電話".as_bytes(),
    "携帯".as_bytes(),
    "전화".as_bytes(),
    "☎".as_bytes(),
    "📞".as_bytes(),
];

/// Separators are one kind, or all one kind but the first (`08-123 45 67`) or but a final `-` (`91234-5678`);
/// dots never mix; a `/` only right after the area code. `)` is ignored.
fn consistent(seps: &[u8]) -> bool {
    let mut s = [0u8; 8];
    let mut n = 0;
    for &b in seps.iter().filter(|b| **b != b')') {
        s[n] = b;
        n += 1;
    }
    let s = &s[..n];
    if s.is_empty() {
        return true;
    }
    let all_same = |x: &[u8]| x.windows(2).all(|w| w[0] == w[1]);
    if s.contains(&b'.') && !s.iter().all(|b| *b == b'.') {
        return false;
    }
    if s.iter().filter(|b| **b == b'/').count() > 1 || (s.contains(&b'/') && s[0] != b'/') {
        return false;
    }
    all_same(s) || all_same(&s[1..]) || (all_same(&s[..s.len() - 1]) && s[s.len() - 1] == b'-')
}

/// `d.m.y`, `m/d/y`, `y-m-d` with valid ranges (one separator kind among `. / -`).
fn is_date(t: &[u8], run: &Run) -> bool {
    let seps = run.seps();
    if run.group_count != 3 || seps[0] != seps[1] || !matches!(seps[0], b'.' | b'/' | b'-') {
        return false;
    }
    let g = run.group(0);
    let part = |k: usize| &t[g[k].0..g[k].0 + usize::from(g[k].1)];
    let value = |p: &[u8]| p.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let day = |p: &[u8]| matches!(p.len(), 1 | 2) && (1..=31).contains(&value(p));
    let month = |p: &[u8]| matches!(p.len(), 1 | 2) && (1..=12).contains(&value(p));
    let (a, b, c) = (part(0), part(1), part(2));
    ((day(a) && month(b)) || (month(a) && day(b))) && matches!(c.len(), 2 | 4) || (a.len() == 4 && month(b) && day(c))
}

fn is_country_code(cc: u32) -> bool {
    u16::try_from(cc).is_ok_and(|c| COUNTRY_CODES.binary_search(&c).is_ok())
}

/// Whether the run is a phone number of an enabled region (or an international one).
pub(super) fn is_phone(t: &[u8], run: &Run, regions: Regions) -> bool {
    let seps = run.seps();
    let n = run.group_count;
    // `123-45-6789` is the SSN format (an invalid one is still no phone number).
    if run.shape_is(&[3, 2, 4]) && seps == b"--" {
        return false;
    }
    let group_len = |k: usize| usize::from(run.group(k)[0].1);
    if is_date(t, run) || !consistent(seps) {
        return false;
    }
    if n > 1 && group_len(n - 1) < 2 {
        return false;
    }
    if n == 2 && seps == b"." {
        return false;
    }
    let ds = run.digits();
    let len = ds.len();
    // Asked at most once.
    let mut asked: Option<bool> = None;
    let mut keyword = || *asked.get_or_insert_with(|| keyword_before(t, run.start, 24, &PHONE_WORDS, PHONE_PHRASES));
    let prefix = |k: usize| ds[..k.min(len)].iter().fold(0u32, |v, d| v * 10 + u32::from(*d));
    if run.plus {
        if !(8..=15).contains(&len) {
            return false;
        }
        return (1..=3).any(|k| is_country_code(prefix(k)) && (group_len(0) == k || n == 1 || group_len(0) > k));
    }
    if ds.starts_with(&[0, 0]) && n > 1 {
        // `00` + the country code of an enabled region + a national number of that region's length.
        let rest = &ds[2..];
        return regions.iter().any(|r| {
            let cc_len = if r.cc >= 100 {
                3
            } else if r.cc >= 10 {
                2
            } else {
                1
            };
            let cc = rest[..cc_len.min(rest.len())]
                .iter()
                .fold(0u32, |v, d| v * 10 + u32::from(*d));
            rest.len() > cc_len
                && cc == u32::from(r.cc)
                && r.nsn.contains(&(rest.len() - cc_len))
                && (group_len(0) == 2 || group_len(0) == 2 + cc_len)
        });
    }
    // National numbers: 8 digits or more (trunk included), at least 3 distinct digits.
    let mut seen = 0u16;
    for d in ds {
        seen |= 1 << d;
    }
    if len < 8 || seen.count_ones() < 3 {
        return false;
    }
    let shape_is = |lens: &[usize]| run.shape_is(lens);
    let lead_ok = |r: &Region, d: u8| r.lead.contains(&(b'0' + d));
    if regions.iter().any(|r| r.nanp) {
        let stripped = len == 11 && ds[0] == 1 && group_len(0) == 1;
        let nanp = if stripped { &ds[1..] } else { ds };
        let rest_shape = |lens: &[usize]| {
            let skip = usize::from(stripped);
            n - skip == lens.len() && (0..lens.len()).all(|k| group_len(k + skip) == lens[k])
        };
        if nanp.len() == 10
            && nanp[0] >= 2
            && (rest_shape(&[3, 3, 4]) || (rest_shape(&[10]) && keyword()))
            && !(run.paren && group_len(0) != 3)
        {
            return true;
        }
    }
    let ungrouped = n == 1;
    for r in regions.iter().filter(|r| !r.nanp) {
        if r.trunk && ds[0] == 0 {
            let nsn = &ds[1..];
            if r.nsn.contains(&nsn.len()) && lead_ok(r, nsn[0]) {
                if ungrouped {
                    if keyword() {
                        return true;
                    }
                    continue;
                }
                let fits = (2..=6).contains(&group_len(0)) && (1..n).all(|k| (2..=8).contains(&group_len(k))) && n <= 6;
                if fits {
                    return true;
                }
                continue;
            }
        }
        if r.zero_kept && ((ds[0] == 0 && (6..=11).contains(&len)) || (ds[0] == 3 && (9..=10).contains(&len))) {
            if ungrouped {
                if keyword() {
                    return true;
                }
                continue;
            }
            if r.groupings.iter().any(|g| shape_is(g)) || keyword() {
                return true;
            }
        }
        if !r.trunk || r.mobile.is_some() {
            if let Some((first, second, mlen)) = r.mobile {
                let is_mobile = len == mlen
                    && first.contains(&(b'0' + ds[0]))
                    && (second.is_empty() || second.contains(&(b'0' + ds[1])));
                if is_mobile && (r.groupings.iter().any(|g| shape_is(g)) || keyword()) {
                    return true;
                }
            }
            if !r.trunk && r.nsn.contains(&len) && lead_ok(r, ds[0]) && !r.zero_kept {
                let big_city = r.lead_groups.is_empty()
                    || r.lead_groups
                        .iter()
                        .any(|p| ds.iter().zip(p.iter()).all(|(d, c)| b'0' + d == *c));
                if !big_city && !keyword() {
                    continue;
                }
                if r.groupings.iter().any(|g| shape_is(g)) || keyword() {
                    return true;
                }
            }
        }
    }
    // Brazil: `(DD) NNNN-NNNN`, `(DD) 9NNNN-NNNN`.
    let brazil = regions.iter().any(|r| r.code == "BR");
    brazil
        && run.paren
        && group_len(0) == 2
        && (10..=11).contains(&len)
        && ((n == 3 && group_len(1) == 4 && group_len(2) == 4) || (n == 3 && group_len(1) == 5 && group_len(2) == 4))
}
