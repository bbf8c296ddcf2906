//! The built-in price table (litellm's, compiled in by `build.rs` from `data/prices.json`) and the arithmetic of one
//! model's prices.

use crate::model::cost::{scale, Cost};

/// Prices per token, in pico-units of currency. A missing cache price means those tokens cost the input price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rates {
    pub(crate) input: u64,
    pub(crate) output: u64,
    pub(crate) cache_read: Option<u64>,
    pub(crate) cache_write: Option<u64>,
}

/// Long-context prices: they apply to the whole call once its input is over `above_input_tokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tier {
    pub(crate) above_input_tokens: u64,
    pub(crate) input: Option<u64>,
    pub(crate) output: Option<u64>,
    pub(crate) cache_read: Option<u64>,
    pub(crate) cache_write: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ModelPrice {
    pub(crate) base: Rates,
    /// Reasoning (thinking) output tokens, when priced differently from other output.
    pub(crate) reasoning: Option<u64>,
    /// Ascending by threshold.
    pub(crate) tiers: Vec<Tier>,
    /// OpenAI's `service_tier` "priority" and "flex" prices.
    pub(crate) priority: Option<Rates>,
    pub(crate) flex: Option<Rates>,
    /// Dropped from the newest table but kept from an older one (retired snapshots still in recorded traffic).
    pub(crate) retired: bool,
}

/// The compiled table's compact rows (see `build.rs`): prices as `u32`, `NONE` where absent.
// The table's date is generated with it and read by the tests (the README quotes it).
#[cfg_attr(not(test), allow(dead_code))]
pub(super) mod rows {
    /// Model name; input, output, cache read, cache write, reasoning prices; index into `EXTRAS` or `u16::MAX`;
    /// retired.
    pub(crate) struct Row(pub &'static str, pub [u32; 5], pub u16, pub bool);
    /// Long-context tiers `(above input tokens, [input, output, cache read, cache write])` and service tiers.
    pub(crate) struct Extra {
        pub(crate) tiers: &'static [(u32, [u32; 4])],
        pub(crate) priority: [u32; 4],
        pub(crate) flex: [u32; 4],
    }
    pub(crate) const NONE: u32 = u32::MAX;
    include!(concat!(env!("OUT_DIR"), "/price_table.rs"));
}
#[cfg(test)]
pub(crate) use rows::TABLE_DATE;
pub(crate) use rows::{RETIRED_VERSION, TABLE_VERSION};

fn present(v: u32) -> Option<u64> {
    (v != rows::NONE).then_some(u64::from(v))
}

fn rates(r: &[u32; 4]) -> Option<Rates> {
    Some(Rates {
        input: present(r[0])?,
        output: present(r[1])?,
        cache_read: present(r[2]),
        cache_write: present(r[3]),
    })
}

/// The table entry for exactly this key.
pub(crate) fn table_entry(key: &str) -> Option<ModelPrice> {
    let i = rows::MODELS.binary_search_by(|row| row.0.cmp(key)).ok()?;
    let rows::Row(_, p, extra, retired) = rows::MODELS.get(i)?;
    let extra = rows::EXTRAS.get(usize::from(*extra));
    Some(ModelPrice {
        base: rates(&[p[0], p[1], p[2], p[3]])?,
        reasoning: present(p[4]),
        tiers: extra
            .map(|e| e.tiers)
            .unwrap_or_default()
            .iter()
            .map(|(above, r)| Tier {
                above_input_tokens: u64::from(*above),
                input: present(r[0]),
                output: present(r[1]),
                cache_read: present(r[2]),
                cache_write: present(r[3]),
            })
            .collect(),
        priority: extra.and_then(|e| rates(&e.priority)),
        flex: extra.and_then(|e| rates(&e.flex)),
        retired: *retired,
    })
}

/// Token counts to price, normalised: input includes cache reads and writes, output includes reasoning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tokens {
    pub(crate) input: u64,
    pub(crate) output: u64,
    pub(crate) cache_read: u64,
    pub(crate) cache_write: u64,
    pub(crate) reasoning: u64,
}

impl ModelPrice {
    /// Cost of `tokens`; `service_tier` is the tier the provider says served the call.
    pub(crate) fn cost(&self, t: &Tokens, service_tier: Option<&str>) -> (Cost, Option<String>) {
        let mut rates = self.base;
        let mut tier = None;
        let special = match service_tier {
            Some("priority") => self.priority.map(|r| ("priority", r)),
            Some("flex") => self.flex.map(|r| ("flex", r)),
            _ => None,
        };
        if let Some((name, r)) = special {
            rates = r;
            tier = Some(name.to_string());
        } else if let Some(long) = self.tiers.iter().rev().find(|l| t.input > l.above_input_tokens) {
            rates = Rates {
                input: long.input.unwrap_or(rates.input),
                output: long.output.unwrap_or(rates.output),
                cache_read: long.cache_read.or(rates.cache_read),
                cache_write: long.cache_write.or(rates.cache_write),
            };
            tier = Some(format!("above_{}k", long.above_input_tokens / 1000));
        }
        // Clamp so inconsistent reports (cache figures above the input total) cannot go negative.
        let cache_read = t.cache_read.min(t.input);
        let cache_write = t.cache_write.min(t.input - cache_read);
        let uncached = t.input - cache_read - cache_write;
        let reasoning = t.reasoning.min(t.output);
        let reasoning_rate = if tier.is_some() {
            rates.output
        } else {
            self.reasoning.unwrap_or(rates.output)
        };
        let cost = Cost {
            input: uncached.saturating_mul(rates.input),
            output: (t.output - reasoning)
                .saturating_mul(rates.output)
                .saturating_add(reasoning.saturating_mul(reasoning_rate)),
            cache_read: cache_read.saturating_mul(rates.cache_read.unwrap_or(rates.input)),
            cache_write: cache_write.saturating_mul(rates.cache_write.unwrap_or(rates.input)),
            reasoning: reasoning.saturating_mul(reasoning_rate),
        };
        (cost, tier)
    }

    /// Every price multiplied by `ppm / 1e6` (currency conversion, discounts).
    pub(super) fn scaled(&self, ppm: u64) -> ModelPrice {
        let rates = |r: Rates| Rates {
            input: scale(r.input, ppm),
            output: scale(r.output, ppm),
            cache_read: r.cache_read.map(|v| scale(v, ppm)),
            cache_write: r.cache_write.map(|v| scale(v, ppm)),
        };
        ModelPrice {
            base: rates(self.base),
            reasoning: self.reasoning.map(|v| scale(v, ppm)),
            tiers: self
                .tiers
                .iter()
                .map(|t| Tier {
                    above_input_tokens: t.above_input_tokens,
                    input: t.input.map(|v| scale(v, ppm)),
                    output: t.output.map(|v| scale(v, ppm)),
                    cache_read: t.cache_read.map(|v| scale(v, ppm)),
                    cache_write: t.cache_write.map(|v| scale(v, ppm)),
                })
                .collect(),
            priority: self.priority.map(rates),
            flex: self.flex.map(rates),
            retired: self.retired,
        }
    }
}
