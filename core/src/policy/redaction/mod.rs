//! Redaction of personal data and secrets from every string the filter exports (content attributes, tool
//! arguments, error messages, identity values), and optionally from the request forwarded upstream.
//!
//! The built-in detectors (about 230 credential shapes under 100 names, cards, IBANs, SSNs, emails, phones by
//! region, IPs) are found in one pass over the bytes ([`engine`]), anchored by prefixes, keywords or verifiable
//! structure, with checksums where the format has one (Luhn, mod 97, SSN ranges), so look-alikes are left alone.
//! Custom detectors are literal lists (matched in the same pass) or bounded regular expressions ([`custom`]). Each
//! detector masks (`[EMAIL]`), replaces with a keyed hash (`[EMAIL:3f2a9c…]`, HMAC-SHA256, so the same value joins
//! across traces without being revealed), or drops the whole field. Text is redacted once it is complete (when the
//! span is built), so a value split across stream chunks is still one value.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Removes secrets and personal data from exported text; counts what it removed, never the values.
pub trait Redact {
    /// The redacted text, or `None` when the whole field must be dropped.
    fn redact(&self, text: &str, counts: &mut Vec<(Arc<str>, u32)>) -> Option<String>;

    /// Redacts `text` where it stands (a text with nothing to remove is neither copied nor rewritten); `false` when
    /// the whole field must be dropped.
    fn redact_in_place(&self, text: &mut String, counts: &mut Vec<(Arc<str>, u32)>) -> bool {
        match self.redact(text, counts) {
            Some(redacted) => {
                *text = redacted;
                true
            }
            None => false,
        }
    }

    /// Whether identity values (`user.id`, `session.id`, other attribution values) are redacted too.
    fn covers_identity(&self) -> bool {
        false
    }

    /// A new call's span is being built: the per-call budget for custom patterns starts again.
    fn begin_call(&self) {}
}

/// Values found per detector name.
pub(crate) type DetectorCounts = Vec<(Arc<str>, u32)>;

/// The count that says an attribute was dropped because the call's budget for custom patterns ran out.
pub(crate) const BUDGET_EXCEEDED: &str = "budget_exceeded";

/// What happens to a detected value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Action {
    /// Replace with `[NAME]`.
    Mask,
    /// Replace with `[NAME:<16 hex digits of HMAC-SHA256(key, value)>]`.
    Hash,
    /// Drop the whole field (attribute) that contains it.
    Drop,
    /// Detector disabled.
    Off,
}

mod base64;
mod catalog;
mod charset;
mod config;
mod custom;
mod digits;
mod email;
mod engine;
mod infix;
mod ipv6;
mod keys;
mod names;
mod numbers;
mod phones;
mod placeholder;
mod scanner;
mod search;
mod shape;
mod tlds;
mod tokens;
mod words;

pub(crate) use config::{build, build_from};
use custom::{Budget, CustomRegex};
use engine::Engine;
use scanner::Finding;

/// One detector: a built-in one (by [`names::NAMES`] index) or a custom one after them.
#[derive(Clone, Debug)]
struct Detector {
    /// Shared with every count of it (a count copies a pointer, not the name).
    name: Arc<str>,
    /// `[NAME]`.
    label: String,
    action: Action,
}

/// The validated `redaction` configuration, ready to apply.
pub struct Redactor {
    engine: Engine,
    /// Built-in detectors in precedence order, then custom ones.
    detectors: Vec<Detector>,
    /// Detectors applied to exported text.
    export_on: Vec<bool>,
    /// Detectors applied to the request forwarded upstream; all `false` when request redaction is off.
    request_on: Vec<bool>,
    regexes: Vec<CustomRegex>,
    hmac_key: Vec<u8>,
    /// Identity values are redacted (on by default: an opaque id matches nothing and stays).
    identity: bool,
    /// Bytes × patterns the custom regexes may scan per call.
    budget_bytes: u64,
    /// Spent in the current call (reset by [`Redact::begin_call`]).
    spent: AtomicU64,
    enabled: bool,
    /// The configuration it was built from, for equality.
    source: String,
}

impl Clone for Redactor {
    fn clone(&self) -> Self {
        Redactor {
            engine: self.engine.clone(),
            detectors: self.detectors.clone(),
            export_on: self.export_on.clone(),
            request_on: self.request_on.clone(),
            regexes: self.regexes.clone(),
            hmac_key: self.hmac_key.clone(),
            identity: self.identity,
            budget_bytes: self.budget_bytes,
            spent: AtomicU64::new(0),
            enabled: self.enabled,
            source: self.source.clone(),
        }
    }
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor").field("source", &self.source).finish()
    }
}

impl PartialEq for Redactor {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Default for Redactor {
    /// Every built-in detector masking: what `"redaction": {}` configures.
    fn default() -> Self {
        let detectors = builtin_detectors(|_| Action::Mask);
        let on = vec![true; detectors.len()];
        Redactor {
            engine: Engine::new(phones::Regions::defaults(), &[]),
            request_on: vec![false; detectors.len()],
            export_on: on,
            detectors,
            regexes: Vec::new(),
            hmac_key: Vec::new(),
            identity: true,
            budget_bytes: config::DEFAULT_BUDGET_BYTES,
            spent: AtomicU64::new(0),
            enabled: true,
            source: "{}".to_string(),
        }
    }
}

fn builtin_detectors(action: impl Fn(&str) -> Action) -> Vec<Detector> {
    names::NAMES
        .iter()
        .map(|n| Detector {
            name: (*n).into(),
            label: format!("[{}]", n.to_ascii_uppercase()),
            action: action(n),
        })
        .collect()
}

impl Redactor {
    pub(super) fn disabled() -> Redactor {
        Redactor {
            enabled: false,
            export_on: Vec::new(),
            source: String::new(),
            ..Redactor::default()
        }
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled
    }

    pub(crate) fn redacts_requests(&self) -> bool {
        self.request_on.iter().any(|on| *on)
    }

    /// Non-overlapping findings of the detectors `on`, in text order, into `all`; at one position the longest wins,
    /// then the detector earlier in precedence, and a finding overlapping an earlier one keeps its tail. `false` when
    /// a custom pattern would exceed the call's budget.
    fn findings(&self, text: &str, on: &[bool], budget: &mut Budget, all: &mut Vec<Finding>) -> bool {
        self.engine.scan(text, on, all);
        let mut spans = Vec::new();
        for r in &self.regexes {
            if !on.get(usize::from(r.detector)).copied().unwrap_or(false) {
                continue;
            }
            spans.clear();
            if !r.find(text, budget, &mut spans) {
                return false;
            }
            all.extend(spans.iter().map(|&(start, end)| Finding {
                start,
                end,
                det: r.detector,
            }));
        }
        // At one start the longest first, then precedence; most findings already come in that order.
        let key = Finding::key;
        if !all.is_sorted_by_key(key) {
            // Adaptive to the runs already in order: a few findings out of place cost little.
            all.sort_by_key(key);
        }
        // A finding that overlaps the one kept before it but runs past its end keeps that tail, so no part of a
        // value is left in clear (`+1 415 555 0100.jane@example.com`: the phone number, then the rest of the address).
        // Compacted in place: the kept findings are a prefix.
        let mut kept = 0usize;
        for k in 0..all.len() {
            let mut f = all[k];
            if let Some(last) = kept.checked_sub(1).map(|l| all[l]) {
                if f.end <= last.end {
                    continue;
                }
                f.start = f.start.max(last.end);
            }
            if text.is_char_boundary(f.start) && text.is_char_boundary(f.end) {
                all[kept] = f;
                kept += 1;
            }
        }
        all.truncate(kept);
        true
    }

    fn replacement(&self, detector: &Detector, value: &str, out: &mut String) {
        if detector.action == Action::Hash {
            if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.hmac_key) {
                mac.update(value.as_bytes());
                let digest = mac.finalize().into_bytes();
                out.push_str(&detector.label[..detector.label.len() - 1]);
                out.push(':');
                for b in digest.iter().take(8) {
                    out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
                    out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
                }
                out.push(']');
                return;
            }
        }
        out.push_str(&detector.label);
    }

    /// An exported text's edit, with the export detectors, under the current call's budget for custom patterns.
    fn edit_export(&self, text: &str, counts: &mut Vec<(Arc<str>, u32)>) -> Edit {
        let mut budget = Budget {
            spent: self.spent.load(Ordering::Relaxed),
            limit: self.budget_bytes,
        };
        let edit = self.edit(text, &self.export_on, true, &mut budget, counts);
        self.spent.store(budget.spent, Ordering::Relaxed);
        edit
    }

    /// What redacting `text` with the detectors `on` does to it: `Dropped` when a `drop` detector fired or the call's
    /// budget ran out. `drop_allowed` is false for the forwarded request, where a field cannot be removed: `drop`
    /// masks there.
    fn edit(
        &self,
        text: &str,
        on: &[bool],
        drop_allowed: bool,
        budget: &mut Budget,
        counts: &mut Vec<(Arc<str>, u32)>,
    ) -> Edit {
        // A short run of lower-case letters (a role, a part type, a finish reason) holds nothing a built-in detector
        // finds: every credential shape has a digit, a capital, punctuation or more than 16 bytes (the catalog is
        // held to it by a test), numbers need digits, emails an `@`, keyed values a separator. Only a custom literal
        // or pattern could match one.
        if text.len() <= PLAIN_WORD_MAX
            && !self.engine.literals
            && self.regexes.is_empty()
            && text.bytes().all(|b| b.is_ascii_lowercase())
        {
            return Edit::Unchanged;
        }
        let mut findings = Vec::new();
        if !self.findings(text, on, budget, &mut findings) {
            count(counts, &Arc::from(BUDGET_EXCEEDED), 1);
            return Edit::Dropped;
        }
        if findings.is_empty() {
            return Edit::Unchanged;
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        let mut dropped = false;
        // Findings per detector, in the order each detector first fired: a text has few detectors, so a short list.
        // A text dense with findings (many detectors) counts by detector index instead: a search per finding would
        // grow with the number of detectors found.
        let mut found: Vec<(u16, u32)> = Vec::with_capacity(findings.len().min(16));
        let mut slot_of: Vec<u16> = if findings.len() > 16 {
            vec![u16::MAX; self.detectors.len()]
        } else {
            Vec::new()
        };
        for f in &findings {
            let Some(d) = self.detectors.get(usize::from(f.det)) else {
                continue;
            };
            let slot = match slot_of.get_mut(usize::from(f.det)) {
                Some(slot) if *slot != u16::MAX => Some(usize::from(*slot)),
                Some(slot) => {
                    *slot = found.len() as u16;
                    None
                }
                None => found.iter().position(|(det, _)| *det == f.det),
            };
            match slot.and_then(|k| found.get_mut(k)) {
                Some((_, n)) => *n += 1,
                None => found.push((f.det, 1)),
            }
            dropped |= d.action == Action::Drop && drop_allowed;
            out.push_str(&text[at..f.start]);
            self.replacement(d, &text[f.start..f.end], &mut out);
            at = f.end;
        }
        out.push_str(&text[at..]);
        // The detectors found here are distinct: into a list still empty (the first field redacted), no search.
        let fresh = counts.is_empty();
        for (det, n) in found {
            if let Some(d) = self.detectors.get(usize::from(det)) {
                if fresh {
                    counts.push((Arc::clone(&d.name), n));
                } else {
                    count(counts, &d.name, n);
                }
            }
        }
        if dropped {
            Edit::Dropped
        } else {
            Edit::Redacted(out)
        }
    }

    /// Redacts every string in a JSON request body with the request detectors. `None` when nothing was found (the
    /// body leaves untouched) or the body is not JSON. Custom patterns past the budget are skipped for the rest of
    /// the body (counted as `budget_exceeded`): a forwarded request cannot lose a field.
    pub(crate) fn redact_request(&self, body: &[u8]) -> Option<(Vec<u8>, DetectorCounts)> {
        if !self.redacts_requests() {
            return None;
        }
        let mut value: Value = serde_json::from_slice(body).ok()?;
        let mut counts = Vec::new();
        let mut budget = Budget {
            spent: 0,
            limit: self.budget_bytes,
        };
        let mut on = self.request_on.clone();
        self.redact_request_value(&mut value, &mut on, &mut budget, &mut counts);
        if counts.iter().all(|(name, _)| &**name == BUDGET_EXCEEDED) {
            return None;
        }
        Some((serde_json::to_vec(&value).ok()?, counts))
    }

    fn redact_request_value(
        &self,
        value: &mut Value,
        on: &mut Vec<bool>,
        budget: &mut Budget,
        counts: &mut Vec<(Arc<str>, u32)>,
    ) {
        match value {
            Value::String(s) => {
                let edit = match self.edit(s, on, false, budget, counts) {
                    Edit::Dropped => {
                        // Out of budget: the custom patterns stop here, the built-in detectors go on.
                        for r in &self.regexes {
                            if let Some(o) = on.get_mut(usize::from(r.detector)) {
                                *o = false;
                            }
                        }
                        self.edit(s, on, false, budget, counts)
                    }
                    edit => edit,
                };
                edit.write_into(s);
            }
            Value::Array(items) => items
                .iter_mut()
                .for_each(|i| self.redact_request_value(i, on, budget, counts)),
            Value::Object(map) => map
                .values_mut()
                .for_each(|v| self.redact_request_value(v, on, budget, counts)),
            _ => {}
        }
    }
}

/// The longest run of lower-case letters that is passed without a scan (see [`Redactor::edit`]).
const PLAIN_WORD_MAX: usize = 16;

/// What redaction does to one text.
enum Edit {
    Unchanged,
    Redacted(String),
    Dropped,
}

impl Edit {
    /// The text as it leaves redaction (`text` is what went in); `None` when the field is dropped.
    fn into_text(self, text: &str) -> Option<String> {
        match self {
            Edit::Unchanged => Some(text.to_string()),
            Edit::Redacted(out) => Some(out),
            Edit::Dropped => None,
        }
    }

    /// Puts the redacted text in place of `text` (left as it is when unchanged or dropped); `false` when dropped.
    fn write_into(self, text: &mut String) -> bool {
        match self {
            Edit::Unchanged => true,
            Edit::Redacted(out) => {
                *text = out;
                true
            }
            Edit::Dropped => false,
        }
    }
}

fn count(counts: &mut Vec<(Arc<str>, u32)>, name: &Arc<str>, n: u32) {
    match counts.iter_mut().find(|(k, _)| Arc::ptr_eq(k, name) || k == name) {
        Some((_, c)) => *c += n,
        None => counts.push((Arc::clone(name), n)),
    }
}

impl Redact for Redactor {
    fn redact(&self, text: &str, counts: &mut Vec<(Arc<str>, u32)>) -> Option<String> {
        self.edit_export(text, counts).into_text(text)
    }

    fn redact_in_place(&self, text: &mut String, counts: &mut Vec<(Arc<str>, u32)>) -> bool {
        self.edit_export(text, counts).write_into(text)
    }

    fn covers_identity(&self) -> bool {
        self.identity
    }

    fn begin_call(&self) {
        self.spent.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests;
