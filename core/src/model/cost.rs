//! What a call cost, as plain data: integers in pico-units of the currency, the price's provenance, and the outcome
//! of pricing. Pricing itself is policy (`policy::pricing`).

pub(crate) const PICO: u128 = 1_000_000_000_000;
/// Parts per million: the unit of rates and discounts.
pub(crate) const PPM: u64 = 1_000_000;

/// Cost of one call by token kind, in pico-units of the currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Cost {
    pub(crate) input: u64,
    pub(crate) output: u64,
    pub(crate) cache_read: u64,
    pub(crate) cache_write: u64,
    /// The part of `output` spent on reasoning tokens (already in `output`, not added to the total).
    pub(crate) reasoning: u64,
}

impl Cost {
    pub(crate) fn total(&self) -> u64 {
        self.input
            .saturating_add(self.output)
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_write)
    }

    /// Every part multiplied by `ppm / 1e6` (currency conversion).
    pub(crate) fn scaled(self, ppm: u64) -> Cost {
        Cost {
            input: scale(self.input, ppm),
            output: scale(self.output, ppm),
            cache_read: scale(self.cache_read, ppm),
            cache_write: scale(self.cache_write, ppm),
            reasoning: scale(self.reasoning, ppm),
        }
    }
}

/// Pico-units to units of currency, for span attributes (exact below 9,007 units).
pub(crate) fn pico_to_units(pico: u64) -> f64 {
    pico as f64 / PICO as f64
}

/// `value * ppm / 1e6`, rounded to nearest.
pub(crate) fn scale(value: u64, ppm: u64) -> u64 {
    let scaled = (u128::from(value) * u128::from(ppm) + u128::from(PPM / 2)) / u128::from(PPM);
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

/// Where a price came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PriceSource {
    /// The built-in table; the version names the litellm release the entry was taken from.
    Table {
        version: &'static str,
    },
    Config,
}

impl PriceSource {
    /// `table:litellm-1.110.2` or `config` (the `llm.usage.cost.source` attribute).
    pub(crate) fn label(&self) -> String {
        match self {
            PriceSource::Table { version } => format!("table:{version}"),
            PriceSource::Config => "config".to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Priced {
    pub(crate) cost: Cost,
    pub(crate) currency: String,
    pub(crate) source: PriceSource,
    /// The price entry used (a table key or a configured model pattern).
    pub(crate) priced_model: String,
    /// `true` when token usage was estimated (the provider reported none) or incomplete.
    pub(crate) estimated: bool,
    /// Pricing tier other than the standard one: `priority`, `flex`, `above_200k`.
    pub(crate) tier: Option<String>,
}

/// What pricing made of one call.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum CostOutcome {
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
    pub(crate) fn total_units(&self) -> Option<f64> {
        match self {
            CostOutcome::Priced(p) => Some(pico_to_units(p.cost.total())),
            _ => None,
        }
    }

    /// The total in US dollars, when priced in USD (OpenInference's `llm.cost.*` are dollars by its spec).
    pub(crate) fn total_usd(&self) -> Option<f64> {
        match self {
            CostOutcome::Priced(p) if p.currency == "USD" => Some(pico_to_units(p.cost.total())),
            _ => None,
        }
    }

    /// The total in micro-units of currency, rounded to nearest (the `llm.cost_micro_usd` counter), when priced.
    pub(crate) fn total_micros(&self) -> Option<u64> {
        match self {
            CostOutcome::Priced(p) => Some(p.cost.total().saturating_add(500_000) / 1_000_000),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_only_for_a_price_in_usd() {
        let priced = |currency: &str| {
            CostOutcome::Priced(Priced {
                cost: Cost {
                    input: 1_500_000_000_000,
                    output: 250_000_000_000,
                    ..Cost::default()
                },
                currency: currency.to_string(),
                source: PriceSource::Config,
                priced_model: "m".to_string(),
                estimated: false,
                tier: None,
            })
        };
        assert_eq!(priced("USD").total_usd(), Some(1.75));
        assert_eq!(priced("EUR").total_usd(), None);
        assert_eq!(priced("EUR").total_units(), Some(1.75));
        assert_eq!(CostOutcome::NoTokens.total_usd(), None);
    }
}
