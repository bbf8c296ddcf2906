//! Envoy stats: the core's fixed stats defined once per worker, per-call stats defined on first use (the core
//! bounds how many distinct names there can be), and the core's metric updates applied to them. Gauges move by
//! deltas (`increment_metric` takes negative offsets on gauges), so every worker's VM adds its own part.

use llm_trace_core::{MetricKind, MetricUpdate, Recording, Stat};
use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a over eight bytes at a time: the names are the core's own (bounded in number), so the map needs no keyed
/// hash, and SipHash, or FNV byte by byte, costs more than the rest of a lookup on every redaction count and
/// per-call figure (names share long prefixes, so every byte is hashed).
struct NameHasher(u64);

impl Default for NameHasher {
    /// FNV's offset basis.
    fn default() -> Self {
        NameHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        const PRIME: u64 = 0x0100_0000_01b3;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            h = (h ^ u64::from_le_bytes(word)).wrapping_mul(PRIME);
            // Fold the high bits down: a word's upper bytes would otherwise reach the table index weakly.
            h ^= h >> 29;
        }
        for b in chunks.remainder() {
            h = (h ^ u64::from(*b)).wrapping_mul(PRIME);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type NameMap = HashMap<String, Option<u32>, BuildHasherDefault<NameHasher>>;

/// Stat ids of one worker; `None` where the host refused a definition (the filter works without it).
pub(crate) struct Stats {
    fixed: Vec<Option<u32>>,
    named: RefCell<NameMap>,
    /// Ids of names the tracer numbered ([`Recording::slot`]), by slot: `None` not defined yet (the tracer bounds the
    /// slots).
    slots: RefCell<Vec<Option<Option<u32>>>>,
}

fn metric_type(kind: MetricKind) -> MetricType {
    match kind {
        MetricKind::Counter => MetricType::Counter,
        MetricKind::Gauge => MetricType::Gauge,
        MetricKind::Histogram => MetricType::Histogram,
    }
}

impl Stats {
    pub(crate) fn define() -> Stats {
        Stats {
            fixed: Stat::ALL
                .iter()
                .map(|s| hostcalls::define_metric(metric_type(s.kind()), s.name()).ok())
                .collect(),
            named: RefCell::new(NameMap::default()),
            slots: RefCell::new(Vec::new()),
        }
    }

    pub(crate) fn apply(&self, updates: &[MetricUpdate]) {
        for update in updates {
            match update {
                MetricUpdate::Stat { stat, value } => {
                    if let Some(Some(id)) = self.fixed.get(stat.index()) {
                        record(*id, stat.kind(), *value);
                    }
                }
                MetricUpdate::GaugeDelta { stat, delta } => {
                    if let Some(Some(id)) = self.fixed.get(stat.index()) {
                        let _ = hostcalls::increment_metric(*id, *delta);
                    }
                }
                MetricUpdate::Named(r) => self.record_named(r),
            }
        }
    }

    fn record_named(&self, r: &Recording) {
        if let Some(slot) = r.slot.and_then(|s| usize::try_from(s).ok()) {
            let mut slots = self.slots.borrow_mut();
            if slots.len() <= slot {
                slots.resize(slot + 1, None);
            }
            if let Some(cached) = slots.get_mut(slot) {
                let id = *cached.get_or_insert_with(|| hostcalls::define_metric(metric_type(r.kind), &r.name).ok());
                if let Some(id) = id {
                    record(id, r.kind, r.value);
                }
                return;
            }
        }
        let mut cache = self.named.borrow_mut();
        let id = match cache.get(&*r.name) {
            Some(id) => *id,
            None => {
                let id = hostcalls::define_metric(metric_type(r.kind), &r.name).ok();
                cache.insert(r.name.to_string(), id);
                id
            }
        };
        if let Some(id) = id {
            record(id, r.kind, r.value);
        }
    }
}

fn record(id: u32, kind: MetricKind, value: u64) {
    let _ = match kind {
        MetricKind::Counter => hostcalls::increment_metric(id, i64::try_from(value).unwrap_or(i64::MAX)),
        MetricKind::Gauge | MetricKind::Histogram => hostcalls::record_metric(id, value),
    };
}
