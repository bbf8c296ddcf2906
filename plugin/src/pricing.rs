//! The cost of a call: the built-in price table (litellm's, compiled in by `build.rs` from `data/prices.json`), the
//! operator's overrides, and the rules that map a reported model name onto a priced one.
//!
//! Prices are integers in pico-units of currency per token (the same number as micro-units per 1M tokens), so a
//! cost is an exact integer: sums over millions of calls do not drift.

use crate::observation::Observation;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Prices per token, in pico-units of currency. A missing cache price means those tokens cost the input price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    pub input: u64,
    pub output: u64,
    pub cache_read: Option<u64>,
    pub cache_write: Option<u64>,
}

/// Long-context prices: they apply to the whole call once its input is over `above_input_tokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    pub above_input_tokens: u64,
    pub input: Option<u64>,
    pub output: Option<u64>,
    pub cache_read: Option<u64>,
    pub cache_write: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPrice {
    pub base: Rates,
    /// Reasoning (thinking) output tokens, when priced differently from other output.
    pub reasoning: Option<u64>,
    /// Ascending by threshold.
    pub tiers: Vec<Tier>,
    /// OpenAI's `service_tier` "priority" and "flex" prices.
    pub priority: Option<Rates>,
    pub flex: Option<Rates>,
    /// Dropped from the newest table but kept from an older one (retired snapshots still in recorded traffic).
    pub retired: bool,
}

/// The compiled table's compact rows (see `build.rs`): prices as `u32`, `NONE` where absent.
mod table {
    /// Model name; input, output, cache read, cache write, reasoning prices; index into `EXTRAS` or `u16::MAX`;
    /// retired.
    pub struct Row(pub &'static str, pub [u32; 5], pub u16, pub bool);
    /// Long-context tiers `(above input tokens, [input, output, cache read, cache write])` and service tiers.
    pub struct Extra {
        pub tiers: &'static [(u32, [u32; 4])],
        pub priority: [u32; 4],
        pub flex: [u32; 4],
    }
    pub const NONE: u32 = u32::MAX;
    include!(concat!(env!("OUT_DIR"), "/price_table.rs"));
}
pub use table::{TABLE_DATE, TABLE_VERSION};

fn present(v: u32) -> Option<u64> {
    (v != table::NONE).then_some(u64::from(v))
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
pub fn table_entry(key: &str) -> Option<ModelPrice> {
    let i = table::MODELS.binary_search_by(|row| row.0.cmp(key)).ok()?;
    let table::Row(_, p, extra, retired) = table::MODELS.get(i)?;
    let extra = table::EXTRAS.get(usize::from(*extra));
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

const PICO: u128 = 1_000_000_000_000;
const PPM: u64 = 1_000_000;

/// Cost of one call by token kind, in pico-units of the currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
}

impl Cost {
    pub fn total(&self) -> u64 {
        self.input
            .saturating_add(self.output)
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_write)
    }

    fn scaled(self, ppm: u64) -> Cost {
        Cost {
            input: scale(self.input, ppm),
            output: scale(self.output, ppm),
            cache_read: scale(self.cache_read, ppm),
            cache_write: scale(self.cache_write, ppm),
        }
    }
}

/// Pico-units to units of currency, for span attributes (exact below 9,007 units).
pub fn pico_to_units(pico: u64) -> f64 {
    pico as f64 / PICO as f64
}

/// `value * ppm / 1e6`, rounded to nearest.
fn scale(value: u64, ppm: u64) -> u64 {
    let scaled = (u128::from(value) * u128::from(ppm) + u128::from(PPM / 2)) / u128::from(PPM);
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

/// Where a price came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceSource {
    /// The built-in table; the version names the litellm release the entry was taken from.
    Table {
        version: &'static str,
    },
    Config,
}

impl PriceSource {
    /// `table:litellm-1.110.2` or `config` (the `llm.usage.cost.source` attribute).
    pub fn label(&self) -> String {
        match self {
            PriceSource::Table { version } => format!("table:{version}"),
            PriceSource::Config => "config".to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Priced {
    pub cost: Cost,
    pub currency: String,
    pub source: PriceSource,
    /// The price entry used (a table key or a configured model pattern).
    pub priced_model: String,
    /// `true` when token usage was estimated (the provider reported none) or incomplete.
    pub estimated: bool,
    /// Pricing tier other than the standard one: `priority`, `flex`, `above_200k`.
    pub tier: Option<String>,
}

/// What pricing made of one call.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum CostOutcome {
    /// Nothing to price: no tokens (an error before generation, pricing off).
    #[default]
    NoTokens,
    Priced(Priced),
    /// Tokens were used but no price matched the model.
    Unpriced {
        model: String,
    },
}

impl CostOutcome {
    /// The total in units of currency, when priced.
    pub fn total_units(&self) -> Option<f64> {
        match self {
            CostOutcome::Priced(p) => Some(pico_to_units(p.cost.total())),
            _ => None,
        }
    }

    /// The total in micro-units of currency, rounded to nearest (the `llm.cost_micro_usd` counter), when priced.
    pub fn total_micros(&self) -> Option<u64> {
        match self {
            CostOutcome::Priced(p) => Some(p.cost.total().saturating_add(500_000) / 1_000_000),
            _ => None,
        }
    }
}

/// Token counts to price, normalised: input includes cache reads and writes, output includes reasoning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub reasoning: u64,
}

impl ModelPrice {
    /// Cost of `tokens`; `service_tier` is the tier the provider says served the call.
    pub fn cost(&self, t: &Tokens, service_tier: Option<&str>) -> (Cost, Option<String>) {
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
        };
        (cost, tier)
    }

    /// Every price multiplied by `ppm / 1e6` (currency conversion, discounts).
    fn scaled(&self, ppm: u64) -> ModelPrice {
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

/// The pricing part of the configuration, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct PricingConfig {
    /// Use the built-in table (overrides still apply when off).
    pub use_table: bool,
    /// ISO 4217 code of every cost the filter reports.
    pub currency: String,
    /// Table prices (USD) times this, in parts per million, give `currency`.
    pub usd_rate_ppm: u64,
    /// Model name (Azure deployment, gateway alias) → the model whose price applies.
    pub deployments: BTreeMap<String, String>,
    /// Configured prices, exact names first, then `prefix*` patterns longest first.
    pub overrides: Vec<(String, ModelPrice)>,
}

impl Default for PricingConfig {
    fn default() -> Self {
        PricingConfig {
            use_table: true,
            currency: "USD".to_string(),
            usd_rate_ppm: PPM,
            deployments: BTreeMap::new(),
            overrides: Vec::new(),
        }
    }
}

/// `pricing` as written in the plugin configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPricing {
    use_table: bool,
    currency: String,
    usd_exchange_rate: Option<f64>,
    deployments: BTreeMap<String, String>,
    models: BTreeMap<String, RawModelPrice>,
}

impl Default for RawPricing {
    fn default() -> Self {
        RawPricing {
            use_table: true,
            currency: "USD".to_string(),
            usd_exchange_rate: None,
            deployments: BTreeMap::new(),
            models: BTreeMap::new(),
        }
    }
}

/// One configured price, per 1M tokens in `pricing.currency`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModelPrice {
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    input: Option<f64>,
    #[serde(default)]
    output: Option<f64>,
    #[serde(default)]
    cache_read: Option<f64>,
    #[serde(default)]
    cache_write: Option<f64>,
    #[serde(default)]
    reasoning: Option<f64>,
    #[serde(default)]
    discount_percent: Option<f64>,
}

/// Largest accepted price: 1,000,000 units of currency per 1M tokens.
const MAX_PRICE_PER_MILLION: f64 = 1e6;

/// Per-1M-tokens price → pico-units per token (= micro-units per 1M tokens).
fn per_million_to_pico(field: &str, value: f64) -> Result<u64, (String, String)> {
    if !value.is_finite() || !(0.0..=MAX_PRICE_PER_MILLION).contains(&value) {
        return Err((
            field.to_string(),
            format!("{value} is out of range; allowed 0..={MAX_PRICE_PER_MILLION} per 1M tokens"),
        ));
    }
    Ok((value * 1e6).round() as u64)
}

impl RawPricing {
    pub fn validate(self) -> Result<PricingConfig, (String, String)> {
        let currency = self.currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err((
                "pricing.currency".into(),
                format!("`{}` is not an ISO 4217 code like `USD`", self.currency),
            ));
        }
        let usd_rate_ppm = match (self.usd_exchange_rate, currency == "USD") {
            (None, true) => PPM,
            (None, false) if self.use_table => {
                return Err((
                    "pricing.usd_exchange_rate".into(),
                    format!("is needed to convert the built-in USD table to {currency} (or set `use_table: false`)"),
                ))
            }
            (None, false) => PPM,
            (Some(rate), _) => {
                if !rate.is_finite() || rate <= 0.0 || rate > 1e6 {
                    return Err((
                        "pricing.usd_exchange_rate".into(),
                        format!("{rate} must be a positive number of {currency} per USD"),
                    ));
                }
                (rate * PPM as f64).round() as u64
            }
        };
        for (name, target) in &self.deployments {
            if target.trim().is_empty() {
                return Err((format!("pricing.deployments.{name}"), "must name a model".into()));
            }
        }
        let mut overrides = Vec::new();
        for (pattern, raw) in self.models {
            let field = format!("pricing.models.{pattern}");
            if pattern.trim().is_empty() || pattern.trim_end_matches('*').contains('*') {
                return Err((field, "must be a model name, or a prefix ending in `*`".into()));
            }
            let price = raw.resolve(&pattern, &field, usd_rate_ppm)?;
            overrides.push((pattern, price));
        }
        // Exact names before patterns; among patterns the longest (most specific) first.
        overrides.sort_by_key(|(p, _)| (p.ends_with('*'), std::cmp::Reverse(p.len())));
        Ok(PricingConfig {
            use_table: self.use_table,
            currency,
            usd_rate_ppm,
            deployments: self.deployments,
            overrides,
        })
    }
}

impl RawModelPrice {
    /// The configured price: a table model (`base`, or the same name) converted to the currency, with the given
    /// fields replacing its prices, then the discount.
    fn resolve(self, pattern: &str, field: &str, usd_rate_ppm: u64) -> Result<ModelPrice, (String, String)> {
        let base_name = self.base.as_deref().unwrap_or(pattern);
        let base = table_entry(base_name).map(|p| p.scaled(usd_rate_ppm));
        if self.base.is_some() && base.is_none() {
            return Err((
                format!("{field}.base"),
                format!("`{base_name}` is not in the price table"),
            ));
        }
        let explicit = |name: &str, v: Option<f64>| {
            v.map(|v| per_million_to_pico(&format!("{field}.{name}"), v))
                .transpose()
        };
        let input = explicit("input", self.input)?;
        let output = explicit("output", self.output)?;
        let cache_read = explicit("cache_read", self.cache_read)?;
        let cache_write = explicit("cache_write", self.cache_write)?;
        let reasoning = explicit("reasoning", self.reasoning)?;
        let any_explicit = [input, output, cache_read, cache_write, reasoning]
            .iter()
            .any(Option::is_some);
        let mut price =
            match (base, input, output) {
                (Some(b), _, _) => b,
                (None, Some(input), Some(output)) => ModelPrice {
                    base: Rates {
                        input,
                        output,
                        cache_read: None,
                        cache_write: None,
                    },
                    reasoning: None,
                    tiers: Vec::new(),
                    priority: None,
                    flex: None,
                    retired: false,
                },
                (None, _, _) => return Err((
                    field.to_string(),
                    "needs `input` and `output` prices (per 1M tokens), or `base` naming a model of the price table"
                        .into(),
                )),
            };
        if any_explicit {
            // Explicit prices describe the whole deal: the table's tier and service-tier prices no longer apply.
            price.tiers = Vec::new();
            price.priority = None;
            price.flex = None;
        }
        price.base.input = input.unwrap_or(price.base.input);
        price.base.output = output.unwrap_or(price.base.output);
        price.base.cache_read = cache_read.or(price.base.cache_read);
        price.base.cache_write = cache_write.or(price.base.cache_write);
        price.reasoning = reasoning.or(price.reasoning);
        if let Some(d) = self.discount_percent {
            if !d.is_finite() || !(0.0..=100.0).contains(&d) {
                return Err((
                    format!("{field}.discount_percent"),
                    format!("{d} is out of range; allowed 0..=100"),
                ));
            }
            price = price.scaled(((100.0 - d) * 10_000.0).round() as u64);
        }
        Ok(price)
    }
}

/// Provider-qualified table keys: litellm prefixes some providers' models (`gemini/`, `azure/`, `bedrock/<region>/`).
fn qualified_keys(provider: &str, region: Option<&str>, name: &str) -> Vec<String> {
    let prefix = match provider {
        "azure.ai.openai" => Some("azure"),
        "gcp.gemini" => Some("gemini"),
        "gcp.vertex_ai" => Some("vertex_ai"),
        "mistral_ai" => Some("mistral"),
        "deepseek" => Some("deepseek"),
        "x_ai" => Some("xai"),
        "groq" => Some("groq"),
        _ => None,
    };
    let mut keys = Vec::with_capacity(3);
    if let (Some(region), "aws.bedrock") = (region, provider) {
        keys.push(format!("bedrock/{region}/{name}"));
    }
    if let Some(p) = prefix {
        keys.push(format!("{p}/{name}"));
    }
    keys.push(name.to_string());
    keys
}

/// Bedrock cross-region inference profiles prefix the model id with a geography.
const BEDROCK_GEOGRAPHIES: [&str; 8] = ["us.", "eu.", "apac.", "global.", "au.", "jp.", "ca.", "us-gov."];
/// Bedrock model ids start with the vendor (`anthropic.claude-...`); the vendor's own API drops it.
const BEDROCK_VENDORS: [&str; 8] = [
    "anthropic.",
    "meta.",
    "amazon.",
    "mistral.",
    "cohere.",
    "ai21.",
    "deepseek.",
    "openai.",
];

/// The name, then progressively more general spellings of it: without a path prefix (`models/`, `openai/`), without
/// Bedrock's geography, version and vendor, without a dated snapshot suffix (`-2024-08-06`, `-20250219`,
/// `@20240620`, `-latest`, `-001`).
fn name_variants(name: &str) -> Vec<&str> {
    let bare = name.rsplit('/').next().unwrap_or(name);
    let no_geo = BEDROCK_GEOGRAPHIES
        .iter()
        .find_map(|g| bare.strip_prefix(g))
        .unwrap_or(bare);
    let no_version = strip_bedrock_version(no_geo);
    let no_vendor = BEDROCK_VENDORS
        .iter()
        .find_map(|v| no_version.strip_prefix(v))
        .unwrap_or(no_version);
    let mut out: Vec<&str> = Vec::with_capacity(10);
    for v in [name, bare, no_geo, no_version, no_vendor] {
        if !v.is_empty() && !out.contains(&v) {
            out.push(v);
        }
    }
    for i in 0..out.len() {
        if let Some(stripped) = out.get(i).and_then(|v| strip_snapshot(v)) {
            if !out.contains(&stripped) {
                out.push(stripped);
            }
        }
    }
    out
}

/// `-v1:0`, `-v2`, `:0` at the end of a Bedrock model id.
fn strip_bedrock_version(id: &str) -> &str {
    let id = match id.rsplit_once(':') {
        Some((head, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => head,
        _ => id,
    };
    match id.rsplit_once("-v") {
        Some((head, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => head,
        _ => id,
    }
}

/// The name without a dated snapshot or alias suffix, if it has one.
fn strip_snapshot(name: &str) -> Option<&str> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    for alias in ["-latest", "@latest"] {
        if let Some(head) = name.strip_suffix(alias) {
            return Some(head);
        }
    }
    // -2024-08-06
    if name.len() > 11 {
        let (head, tail) = name.split_at(name.len() - 11);
        let b = tail.as_bytes();
        if b[0] == b'-'
            && b[5] == b'-'
            && b[8] == b'-'
            && digits(&tail[1..5])
            && digits(&tail[6..8])
            && digits(&tail[9..])
        {
            return Some(head);
        }
    }
    // -20250219, @20240620, -001
    let (head, tail) = name.rsplit_once(['-', '@'])?;
    if (tail.len() == 8 && tail.starts_with("20") || tail.len() == 3) && digits(tail) {
        return Some(head);
    }
    None
}

/// The AWS region in a Bedrock endpoint host (`bedrock-runtime.us-east-1.amazonaws.com`).
fn bedrock_region(host: Option<&str>) -> Option<&str> {
    let rest = host?.strip_prefix("bedrock-runtime.")?;
    let region = rest.split('.').next()?;
    (!region.is_empty() && rest.contains(".amazonaws.com")).then_some(region)
}

impl PricingConfig {
    /// Prices the call: configured prices first (response model, then request model), then the table.
    pub fn price(&self, obs: &Observation) -> CostOutcome {
        let u = &obs.usage;
        let reported = u.is_reported();
        let output = if reported {
            u.output_tokens
        } else {
            Some(obs.estimated_output_tokens())
        };
        let tokens = Tokens {
            input: u.input_tokens.unwrap_or(0),
            output: output.unwrap_or(0),
            cache_read: u.cache_read_tokens.unwrap_or(0),
            cache_write: u.cache_creation_tokens.unwrap_or(0),
            reasoning: u.reasoning_tokens.unwrap_or(0),
        };
        if tokens.input == 0 && tokens.output == 0 {
            return CostOutcome::NoTokens;
        }
        let mut names: Vec<&str> = Vec::with_capacity(2);
        for m in [obs.response.model.as_deref(), obs.request.model.as_deref()]
            .into_iter()
            .flatten()
        {
            let m = self.deployments.get(m).map_or(m, String::as_str);
            if !m.is_empty() && !names.contains(&m) {
                names.push(m);
            }
        }
        let Some((priced_model, price, source)) = self.find(&names, &obs.provider, obs.server_address.as_deref())
        else {
            return CostOutcome::Unpriced {
                model: names.first().map_or("unknown", |n| n).to_string(),
            };
        };
        let service_tier = obs
            .response
            .service_tier
            .as_deref()
            .or(obs.request.service_tier.as_deref());
        let (mut cost, tier) = price.cost(&tokens, service_tier);
        if matches!(source, PriceSource::Table { .. }) && self.usd_rate_ppm != PPM {
            cost = cost.scaled(self.usd_rate_ppm);
        }
        CostOutcome::Priced(Priced {
            cost,
            currency: self.currency.clone(),
            source,
            priced_model,
            estimated: !reported || u.input_tokens.is_none() || u.output_tokens.is_none(),
            tier,
        })
    }

    fn find(&self, names: &[&str], provider: &str, host: Option<&str>) -> Option<(String, ModelPrice, PriceSource)> {
        for name in names {
            let hit = self
                .overrides
                .iter()
                .find(|(pattern, _)| match pattern.strip_suffix('*') {
                    Some(prefix) => name.starts_with(prefix),
                    None => pattern == name,
                });
            if let Some((pattern, price)) = hit {
                return Some((pattern.clone(), price.clone(), PriceSource::Config));
            }
        }
        if !self.use_table {
            return None;
        }
        let region = bedrock_region(host);
        for name in names {
            for variant in name_variants(name) {
                for key in qualified_keys(provider, region, variant) {
                    if let Some(price) = table_entry(&key) {
                        let version = if price.retired {
                            table::RETIRED_VERSION
                        } else {
                            TABLE_VERSION
                        };
                        return Some((key, price, PriceSource::Table { version }));
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::Usage;

    fn call(provider: &str, model: &str, usage: Usage) -> Observation {
        let mut obs = Observation {
            provider: provider.to_string(),
            operation: "chat",
            usage,
            ..Observation::default()
        };
        obs.response.model = Some(model.to_string());
        obs
    }

    fn usage(input: u64, output: u64) -> Usage {
        Usage {
            input_tokens: Some(input),
            output_tokens: Some(output),
            ..Usage::default()
        }
    }

    fn priced(outcome: CostOutcome) -> Priced {
        match outcome {
            CostOutcome::Priced(p) => p,
            other => panic!("not priced: {other:?}"),
        }
    }

    #[test]
    fn table_is_sorted_and_carries_its_provenance() {
        assert!(table::MODELS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(table::MODELS
            .iter()
            .all(|r| r.2 == u16::MAX || usize::from(r.2) < table::EXTRAS.len()));
        assert!(table::MODELS.len() > 1000);
        assert_eq!(TABLE_VERSION, "litellm-1.110.2");
        assert_eq!(TABLE_DATE, "2026-11-20");
        // gpt-4o: $2.50 / $10.00 / cached $1.25 per 1M tokens.
        let gpt4o = table_entry("gpt-4o").expect("gpt-4o priced");
        assert_eq!(gpt4o.base.input, 2_500_000);
        assert_eq!(gpt4o.base.output, 10_000_000);
        assert_eq!(gpt4o.base.cache_read, Some(1_250_000));
    }

    #[test]
    fn openai_cached_tokens_are_inside_the_prompt_figure() {
        // 2,000 prompt tokens of which 1,500 cached, 300 completion tokens, gpt-4o:
        //   uncached 500 × $2.50/M = $0.00125; cached 1,500 × $1.25/M = $0.001875; output 300 × $10/M = $0.003
        let mut u = usage(2_000, 300);
        u.cache_read_tokens = Some(1_500);
        let p = priced(PricingConfig::default().price(&call("openai", "gpt-4o-2024-08-06", u)));
        assert_eq!(p.priced_model, "gpt-4o-2024-08-06");
        assert_eq!(p.cost.input, 1_250_000_000);
        assert_eq!(p.cost.cache_read, 1_875_000_000);
        assert_eq!(p.cost.output, 3_000_000_000);
        assert_eq!(p.cost.total(), 6_125_000_000);
        assert_eq!(p.source.label(), "table:litellm-1.110.2");
        assert!(!p.estimated);
    }

    #[test]
    fn cache_figures_above_the_input_never_go_negative() {
        let mut u = usage(10, 1);
        u.cache_read_tokens = Some(50);
        u.cache_creation_tokens = Some(50);
        let p = priced(PricingConfig::default().price(&call("openai", "gpt-4o", u)));
        // All 10 input tokens priced as cache reads ($1.25/M), nothing as uncached or cache writes.
        assert_eq!(p.cost.cache_read, 10 * 1_250_000);
        assert_eq!(p.cost.input, 0);
        assert_eq!(p.cost.cache_write, 0);
    }

    #[test]
    fn names_resolve_through_snapshots_bedrock_profiles_and_provider_prefixes() {
        let config = PricingConfig::default();
        let key = |provider: &str, model: &str| match config.price(&call(provider, model, usage(1, 1))) {
            CostOutcome::Priced(p) => p.priced_model,
            other => format!("{other:?}"),
        };
        assert_eq!(key("openai", "gpt-4o-2099-01-01"), "gpt-4o");
        assert_eq!(
            key("aws.bedrock", "us.anthropic.claude-3-7-sonnet-20250219-v1:0"),
            "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
        );
        assert_eq!(
            key("aws.bedrock", "ca.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            "anthropic.claude-sonnet-4-5-20250929-v1:0"
        );
        // Not in the table under any Bedrock spelling: the vendor's own id prices it.
        assert_eq!(
            key("aws.bedrock", "anthropic.claude-3-5-haiku-latest-v1:0"),
            "claude-3-5-haiku-latest"
        );
        assert_eq!(key("gcp.gemini", "models/gemini-2.5-pro"), "gemini/gemini-2.5-pro");
        assert_eq!(key("gcp.gemini", "gemini-2.5-flash-001"), "gemini/gemini-2.5-flash");
        assert_eq!(key("azure.ai.openai", "gpt-4o"), "azure/gpt-4o");
        assert_eq!(
            key("anthropic", "claude-3-5-haiku-20241022"),
            "claude-3-5-haiku-20241022"
        );
        assert_eq!(
            key("openai", "openllmetry-testing"),
            "Unpriced { model: \"openllmetry-testing\" }"
        );
    }

    #[test]
    fn bedrock_regional_prices_apply_when_the_endpoint_names_the_region() {
        let mut obs = call("aws.bedrock", "meta.llama3-2-1b-instruct-v1:0", usage(1, 1));
        obs.server_address = Some("bedrock-runtime.us-east-1.amazonaws.com".into());
        let regional = format!("bedrock/us-east-1/{}", "meta.llama3-2-1b-instruct-v1:0");
        let p = priced(PricingConfig::default().price(&obs));
        let expected = if table_entry(&regional).is_some() {
            regional
        } else {
            "meta.llama3-2-1b-instruct-v1:0".into()
        };
        assert_eq!(p.priced_model, expected);
    }

    #[test]
    fn long_context_tier_applies_to_the_whole_call_above_its_threshold() {
        // gemini-2.5-pro: $1.25 in / $10 out per 1M, above 200k input tokens $2.50 / $15.
        let config = PricingConfig::default();
        let small = priced(config.price(&call("gcp.gemini", "gemini-2.5-pro", usage(200_000, 1_000))));
        assert_eq!(small.tier, None);
        assert_eq!(small.cost.input, 200_000 * 1_250_000);
        assert_eq!(small.cost.output, 1_000 * 10_000_000);
        let large = priced(config.price(&call("gcp.gemini", "gemini-2.5-pro", usage(200_001, 1_000))));
        assert_eq!(large.tier.as_deref(), Some("above_200k"));
        assert_eq!(large.cost.input, 200_001 * 2_500_000);
        assert_eq!(large.cost.output, 1_000 * 15_000_000);
    }

    #[test]
    fn priority_service_tier_uses_its_own_prices() {
        // gpt-4o priority: $4.25 in / $17 out per 1M (standard $2.50 / $10).
        let mut obs = call("openai", "gpt-4o", usage(1_000, 100));
        obs.response.service_tier = Some("priority".into());
        let p = priced(PricingConfig::default().price(&obs));
        assert_eq!(p.tier.as_deref(), Some("priority"));
        assert_eq!(p.cost.input, 1_000 * 4_250_000);
        assert_eq!(p.cost.output, 100 * 17_000_000);
        obs.response.service_tier = Some("default".into());
        assert_eq!(
            priced(PricingConfig::default().price(&obs)).cost.input,
            1_000 * 2_500_000
        );
    }

    #[test]
    fn reasoning_tokens_use_the_reasoning_price_when_it_differs() {
        let price = ModelPrice {
            base: Rates {
                input: 1,
                output: 10,
                cache_read: None,
                cache_write: None,
            },
            reasoning: Some(20),
            tiers: Vec::new(),
            priority: None,
            flex: None,
            retired: false,
        };
        let t = Tokens {
            input: 5,
            output: 100,
            reasoning: 40,
            ..Tokens::default()
        };
        // 60 visible × 10 + 40 reasoning × 20
        assert_eq!(price.cost(&t, None).0.output, 600 + 800);
    }

    fn config(json: &str) -> Result<PricingConfig, (String, String)> {
        serde_json::from_str::<RawPricing>(json).expect("parses").validate()
    }

    #[test]
    fn configured_prices_win_over_the_table_and_discounts_scale_everything() {
        let c = config(
            r#"{"models": {
                "gpt-4o": {"discount_percent": 20},
                "ft:gpt-4o-mini:acme:*": {"input": 0.30, "output": 1.20},
                "my-llama": {"input": 0.1, "output": 0.2, "cache_read": 0.05}
            }, "deployments": {"prod-chat": "my-llama"}}"#,
        )
        .expect("valid");
        // gpt-4o at 80%: 1,000 × $2.00/M + 100 × $8.00/M.
        let p = priced(c.price(&call("openai", "gpt-4o", usage(1_000, 100))));
        assert_eq!(p.source, PriceSource::Config);
        assert_eq!((p.cost.input, p.cost.output), (1_000 * 2_000_000, 100 * 8_000_000));
        let p = priced(c.price(&call(
            "openai",
            "ft:gpt-4o-mini:acme::abc123",
            usage(1_000_000, 1_000_000),
        )));
        assert_eq!(p.priced_model, "ft:gpt-4o-mini:acme:*");
        assert_eq!(p.cost.total(), 1_500_000_000_000); // $0.30 + $1.20
        let mut obs = call("azure.ai.openai", "", usage(10, 10));
        obs.response.model = None;
        obs.request.model = Some("prod-chat".into());
        let p = priced(c.price(&obs));
        assert_eq!(p.priced_model, "my-llama");
        assert_eq!(p.cost.total(), 10 * 100_000 + 10 * 200_000);
    }

    #[test]
    fn another_currency_converts_the_table_with_the_given_rate() {
        let c = config(r#"{"currency": "eur", "usd_exchange_rate": 0.5}"#).expect("valid");
        let p = priced(c.price(&call("openai", "gpt-4o", usage(1_000, 0))));
        assert_eq!(p.currency, "EUR");
        assert_eq!(p.cost.input, 1_000 * 1_250_000);
        let err = config(r#"{"currency": "EUR"}"#).expect_err("needs a rate");
        assert_eq!(err.0, "pricing.usd_exchange_rate");
    }

    #[test]
    fn bad_prices_name_the_field() {
        assert_eq!(
            config(r#"{"models": {"x": {"input": 1}}}"#).expect_err("no output").0,
            "pricing.models.x"
        );
        assert_eq!(
            config(r#"{"models": {"x": {"input": -1, "output": 1}}}"#)
                .expect_err("negative")
                .0,
            "pricing.models.x.input"
        );
        assert_eq!(
            config(r#"{"models": {"x": {"base": "nope"}}}"#)
                .expect_err("unknown base")
                .0,
            "pricing.models.x.base"
        );
        assert_eq!(
            config(r#"{"currency": "dollars"}"#).expect_err("code").0,
            "pricing.currency"
        );
    }

    #[test]
    fn estimated_usage_gives_an_estimated_cost_and_no_tokens_no_cost() {
        let mut obs = call("openai", "gpt-4o", Usage::default());
        assert_eq!(PricingConfig::default().price(&obs), CostOutcome::NoTokens);
        obs.request.stream = true;
        obs.response.output_chunks = 10;
        let p = priced(PricingConfig::default().price(&obs));
        assert!(p.estimated);
        assert_eq!(p.cost.output, 10 * 10_000_000);
    }

    #[test]
    fn snapshot_suffixes_are_recognised_and_nothing_else() {
        assert_eq!(strip_snapshot("gpt-4o-2024-08-06"), Some("gpt-4o"));
        assert_eq!(strip_snapshot("claude-3-5-sonnet-20240620"), Some("claude-3-5-sonnet"));
        assert_eq!(strip_snapshot("claude-3-5-sonnet@20240620"), Some("claude-3-5-sonnet"));
        assert_eq!(strip_snapshot("claude-3-5-haiku-latest"), Some("claude-3-5-haiku"));
        assert_eq!(strip_snapshot("gemini-1.5-flash-002"), Some("gemini-1.5-flash"));
        assert_eq!(strip_snapshot("gpt-4.1-nano"), None);
        assert_eq!(strip_snapshot("llama3-8b-8192"), None);
        assert_eq!(
            strip_bedrock_version("anthropic.claude-3-haiku-20240307-v1:0"),
            "anthropic.claude-3-haiku-20240307"
        );
        assert_eq!(
            strip_bedrock_version("amazon.titan-text-express-v1"),
            "amazon.titan-text-express"
        );
    }
}
