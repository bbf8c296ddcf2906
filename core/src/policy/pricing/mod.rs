//! The cost of a call: the built-in price table ([`table`]), the operator's overrides, and the rules that map a
//! reported model name onto a priced one ([`resolve`]).
//!
//! Prices are integers in pico-units of currency per token (the same number as micro-units per 1M tokens), so a
//! cost is an exact integer: sums over millions of calls do not drift.

mod resolve;
pub(crate) mod table;

use crate::config_error::{invalid, ConfigError};
use crate::model::cost::{CostOutcome, PriceSource, Priced, PPM};
use crate::model::observation::Observation;
use resolve::{bedrock_region, name_variants, qualified_keys};
use serde::Deserialize;
use std::collections::BTreeMap;
#[cfg(test)]
use table::TABLE_DATE;
pub(crate) use table::{table_entry, ModelPrice, Rates, Tokens, TABLE_VERSION};

/// The pricing part of the configuration, validated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PricingConfig {
    /// Use the built-in table (overrides still apply when off).
    pub(crate) use_table: bool,
    /// ISO 4217 code of every cost the filter reports.
    pub(crate) currency: String,
    /// Table prices (USD) times this, in parts per million, give `currency`.
    pub(crate) usd_rate_ppm: u64,
    /// Model name (Azure deployment, gateway alias) → the model whose price applies.
    pub(crate) deployments: BTreeMap<String, String>,
    /// Configured prices, exact names first, then `prefix*` patterns longest first.
    pub(crate) overrides: Vec<(String, ModelPrice)>,
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
pub(crate) struct RawPricing {
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
fn per_million_to_pico(field: &str, value: f64) -> Result<u64, ConfigError> {
    if !value.is_finite() || !(0.0..=MAX_PRICE_PER_MILLION).contains(&value) {
        return Err(invalid(
            field,
            format!("{value} is out of range; allowed 0..={MAX_PRICE_PER_MILLION} per 1M tokens"),
        ));
    }
    Ok((value * 1e6).round() as u64)
}

impl RawPricing {
    pub(crate) fn validate(self) -> Result<PricingConfig, ConfigError> {
        let currency = self.currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid(
                "pricing.currency",
                format!("`{}` is not an ISO 4217 code like `USD`", self.currency),
            ));
        }
        let usd_rate_ppm = match (self.usd_exchange_rate, currency == "USD") {
            (None, true) => PPM,
            (None, false) if self.use_table => {
                return Err(invalid(
                    "pricing.usd_exchange_rate",
                    format!("is needed to convert the built-in USD table to {currency} (or set `use_table: false`)"),
                ))
            }
            (None, false) => PPM,
            (Some(rate), _) => {
                if !rate.is_finite() || rate <= 0.0 || rate > 1e6 {
                    return Err(invalid(
                        "pricing.usd_exchange_rate",
                        format!("{rate} must be a positive number of {currency} per USD"),
                    ));
                }
                (rate * PPM as f64).round() as u64
            }
        };
        for (name, target) in &self.deployments {
            if target.trim().is_empty() {
                return Err(invalid(&format!("pricing.deployments.{name}"), "must name a model"));
            }
        }
        let mut overrides = Vec::new();
        for (pattern, raw) in self.models {
            let field = format!("pricing.models.{pattern}");
            if pattern.trim().is_empty() || pattern.trim_end_matches('*').contains('*') {
                return Err(invalid(&field, "must be a model name, or a prefix ending in `*`"));
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
    fn resolve(self, pattern: &str, field: &str, usd_rate_ppm: u64) -> Result<ModelPrice, ConfigError> {
        let base_name = self.base.as_deref().unwrap_or(pattern);
        let base = table_entry(base_name).map(|p| p.scaled(usd_rate_ppm));
        if self.base.is_some() && base.is_none() {
            return Err(invalid(
                &format!("{field}.base"),
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
                (None, _, _) => return Err(invalid(
                    field,
                    "needs `input` and `output` prices (per 1M tokens), or `base` naming a model of the price table",
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
                return Err(invalid(
                    &format!("{field}.discount_percent"),
                    format!("{d} is out of range; allowed 0..=100"),
                ));
            }
            price = price.scaled(((100.0 - d) * 10_000.0).round() as u64);
        }
        Ok(price)
    }
}

/// A worker's last price look-up and what it was made from (provider, host, response and request model):
/// consecutive calls mostly name the same model, and then the names are not resolved and searched again.
#[derive(Default)]
pub(crate) struct PriceMemo {
    last: Option<(MemoKey, Found)>,
}

type MemoKey = (String, Option<String>, Option<String>, Option<String>);

/// A look-up's result: the priced model, its price and where it came from, or the first name that was not priced.
type Found = Result<(String, ModelPrice, PriceSource), String>;

impl PriceMemo {
    fn found(&mut self, pricing: &PricingConfig, obs: &Observation) -> &Found {
        let same = |k: &MemoKey| {
            k.0 == obs.provider && k.1 == obs.server_address && k.2 == obs.response.model && k.3 == obs.request.model
        };
        if !self.last.as_ref().is_some_and(|(k, _)| same(k)) {
            let key = (
                obs.provider.clone(),
                obs.server_address.clone(),
                obs.response.model.clone(),
                obs.request.model.clone(),
            );
            self.last = Some((key, pricing.look_up(obs)));
        }
        match &self.last {
            Some((_, found)) => found,
            None => &NOT_FOUND,
        }
    }
}

static NOT_FOUND: Found = Err(String::new());

impl PricingConfig {
    /// Prices the call: configured prices first (response model, then request model), then the table.
    pub(crate) fn price(&self, obs: &Observation) -> CostOutcome {
        self.price_with(obs, &mut PriceMemo::default())
    }

    /// [`PricingConfig::price`], with the worker's last look-up remembered in `memo`.
    pub(crate) fn price_with(&self, obs: &Observation, memo: &mut PriceMemo) -> CostOutcome {
        let u = &obs.usage;
        let reported = u.is_reported();
        let tokens = Tokens {
            input: u.input_tokens.unwrap_or(0),
            output: obs.output_tokens().unwrap_or(0),
            cache_read: u.cache_read_tokens.unwrap_or(0),
            cache_write: u.cache_creation_tokens.unwrap_or(0),
            reasoning: u.reasoning_tokens.unwrap_or(0),
        };
        if tokens.input == 0 && tokens.output == 0 {
            return CostOutcome::NoTokens;
        }
        let (priced_model, price, source) = match memo.found(self, obs) {
            Ok(found) => found,
            Err(model) => return CostOutcome::Unpriced { model: model.clone() },
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
            source: *source,
            priced_model: priced_model.clone(),
            estimated: !reported || u.input_tokens.is_none() || u.output_tokens.is_none(),
            tier,
        })
    }

    /// The price of the call's model: the response model's, else the request model's (each through `deployments`).
    fn look_up(&self, obs: &Observation) -> Found {
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
        self.find(&names, &obs.provider, obs.server_address.as_deref())
            .ok_or_else(|| names.first().map_or("unknown", |n| n).to_string())
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
    use super::resolve::*;
    use super::*;
    use crate::model::cost::PriceSource;
    use crate::model::observation::Usage;

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
        assert!(table::rows::MODELS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(table::rows::MODELS
            .iter()
            .all(|r| r.2 == u16::MAX || usize::from(r.2) < table::rows::EXTRAS.len()));
        assert!(table::rows::MODELS.len() > 1000);
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

    fn config(json: &str) -> Result<PricingConfig, ConfigError> {
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
        assert_eq!(err.field, "pricing.usd_exchange_rate");
    }

    #[test]
    fn bad_prices_name_the_field() {
        assert_eq!(
            config(r#"{"models": {"x": {"input": 1}}}"#)
                .expect_err("no output")
                .field,
            "pricing.models.x"
        );
        assert_eq!(
            config(r#"{"models": {"x": {"input": -1, "output": 1}}}"#)
                .expect_err("negative")
                .field,
            "pricing.models.x.input"
        );
        assert_eq!(
            config(r#"{"models": {"x": {"base": "nope"}}}"#)
                .expect_err("unknown base")
                .field,
            "pricing.models.x.base"
        );
        assert_eq!(
            config(r#"{"currency": "dollars"}"#).expect_err("code").field,
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
        // Found by the `exchange` fuzz target: a Bedrock model id with invalid UTF-8 in the path (read lossily, so
        // `\u{FFFD}`, three bytes) put a multi-byte character across the dated suffix's first byte, and the cut
        // there panicked. Every non-ASCII character at every position of a suffix-length tail now reads as no suffix.
        let model = String::from_utf8_lossy(b"mistral.mist\xff\xff\xff\xfflarge-2407-v1:0").into_owned();
        assert!(name_variants(&model).contains(&"mist\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}large-2407"));
        for wide in ["\u{FFFD}", "é", "😀"] {
            for at in 0..=12 {
                for base in [
                    "gpt-4o-2024-08-06",
                    "claude-3-5-sonnet-20240620",
                    "gemini-1.5-flash-002",
                ] {
                    let mut name: Vec<char> = base.chars().collect();
                    name.insert(name.len().saturating_sub(at), wide.chars().next().unwrap());
                    let name: String = name.into_iter().collect();
                    let stripped = strip_snapshot(&name);
                    assert!(stripped.is_none_or(|s| name.starts_with(s)), "{name}: {stripped:?}");
                    name_variants(&name);
                }
            }
        }
        assert_eq!(strip_snapshot("é-gpt-4o-2024-08-06"), Some("é-gpt-4o"));
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
