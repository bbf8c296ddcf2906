//! Which spans are kept: tail rules decided when the response ends (every error, cut stream, truncation, slow or
//! expensive call, and configured users, tiers or features), else the parent's decision (when configured), else a
//! ratio decided consistently from the trace id, so every proxy in a mesh keeps or drops the same traces.

use crate::config_error::{invalid, ConfigError};
use crate::model::observation::Observation;
use serde::Deserialize;

/// Finish reasons that mean the answer was cut short (by a token limit or a safety filter), across providers.
const TRUNCATING_FINISH_REASONS: [&str; 12] = [
    "length",
    "max_tokens",
    "MAX_TOKENS",
    "max_output_tokens",
    "incomplete",
    "content_filter",
    "content_filtered",
    "SAFETY",
    "RECITATION",
    "guardrail_intervened",
    "model_context_window_exceeded",
    "refusal",
];

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct SamplingConfig {
    /// Share of ordinary calls kept, 0.0..=1.0.
    pub(crate) ratio: f64,
    /// Follow the caller's sampled flag when the request carries a `traceparent`.
    pub(crate) parent_based: bool,
    pub(crate) keep_errors: bool,
    pub(crate) keep_partial: bool,
    pub(crate) keep_truncated: bool,
    pub(crate) min_duration_ms: Option<u64>,
    pub(crate) min_ttft_ms: Option<u64>,
    pub(crate) min_cost_usd: Option<f64>,
    pub(crate) keep_users: Vec<String>,
    pub(crate) keep_tiers: Vec<String>,
    pub(crate) keep_features: Vec<String>,
}

impl Default for SamplingConfig {
    fn default() -> Self {
        SamplingConfig {
            ratio: 1.0,
            parent_based: false,
            keep_errors: true,
            keep_partial: true,
            keep_truncated: true,
            min_duration_ms: None,
            min_ttft_ms: None,
            min_cost_usd: None,
            keep_users: Vec::new(),
            keep_tiers: Vec::new(),
            keep_features: Vec::new(),
        }
    }
}

impl SamplingConfig {
    /// Rejects a ratio outside 0..=1 and a negative cost threshold.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if !(0.0..=1.0).contains(&self.ratio) || self.ratio.is_nan() {
            return Err(invalid(
                "sampling.ratio",
                format!("{} is out of range; allowed 0.0..=1.0", self.ratio),
            ));
        }
        if self.min_cost_usd.is_some_and(|c| c.is_nan() || c < 0.0) {
            return Err(invalid("sampling.min_cost_usd", "must be a non-negative number"));
        }
        Ok(())
    }
}

/// The decision and the rule that made it (`llm.sampling.rule` on kept spans).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    pub(crate) keep: bool,
    pub(crate) rule: &'static str,
}

fn attribution<'a>(obs: &'a Observation, key: &str) -> Option<&'a str> {
    obs.attribution.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Decides whether to export the span of a finished call (its outcome concluded). `cost_usd` is the call's cost in
/// the configured currency when it was priced (`min_cost_usd` is in that currency too, despite its name).
pub(crate) fn decide(
    config: &SamplingConfig,
    obs: &Observation,
    trace_id: &[u8; 16],
    parent_sampled: Option<bool>,
    cost_usd: Option<f64>,
) -> Decision {
    let keep = |rule| Decision { keep: true, rule };
    if config.keep_errors && obs.outcome.error_recorded {
        return keep("error");
    }
    if config.keep_partial && obs.outcome.unfinished {
        return keep("partial");
    }
    if config.keep_truncated
        && obs
            .response
            .finish_reasons
            .iter()
            .any(|r| TRUNCATING_FINISH_REASONS.contains(&r.as_str()))
    {
        return keep("truncated");
    }
    let t = &obs.timing;
    let ms = |end: Option<u64>| end.map(|e| e.saturating_sub(t.start_ns) / 1_000_000);
    if config
        .min_duration_ms
        .is_some_and(|min| ms(t.end_ns).is_some_and(|d| d >= min))
    {
        return keep("duration");
    }
    if config
        .min_ttft_ms
        .is_some_and(|min| ms(t.first_token_ns).is_some_and(|d| d >= min))
    {
        return keep("ttft");
    }
    if let (Some(min), Some(cost)) = (config.min_cost_usd, cost_usd) {
        if cost >= min {
            return keep("cost");
        }
    }
    let listed = |list: &[String], key| attribution(obs, key).is_some_and(|v| list.iter().any(|x| x == v));
    if listed(&config.keep_users, "user.id") {
        return keep("user");
    }
    if listed(&config.keep_tiers, "app.user.tier") {
        return keep("tier");
    }
    if listed(&config.keep_features, "app.feature") {
        return keep("feature");
    }
    if config.parent_based {
        if let Some(sampled) = parent_sampled {
            return Decision {
                keep: sampled,
                rule: "parent",
            };
        }
    }
    Decision {
        keep: ratio_keeps(config.ratio, trace_id),
        rule: "ratio",
    }
}

/// Consistent ratio sampling: the low 56 bits of the trace id are random in W3C Trace Context (level 2's random
/// flag promises it), so comparing them to `ratio × 2^56` gives every proxy the same answer for a trace.
pub(crate) fn ratio_keeps(ratio: f64, trace_id: &[u8; 16]) -> bool {
    if ratio >= 1.0 {
        return true;
    }
    if ratio <= 0.0 {
        return false;
    }
    let mut low = [0u8; 8];
    low[1..].copy_from_slice(&trace_id[9..16]);
    let random = u64::from_be_bytes(low);
    let threshold = (ratio * (1u64 << 56) as f64) as u64;
    random < threshold
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::observation::ErrorInfo;

    /// The call as the tracer sees it when it finishes: its outcome concluded.
    fn concluded(o: &Observation) -> Observation {
        let mut o = o.clone();
        o.conclude();
        o
    }

    fn obs() -> Observation {
        let mut o = Observation {
            operation: "chat",
            ..Default::default()
        };
        o.http_status = Some(200);
        o.response.finish_reasons = vec!["stop".into()];
        o.response_complete = true;
        o.timing.start_ns = 0;
        o.timing.end_ns = Some(2_000_000_000);
        o.timing.first_token_ns = Some(500_000_000);
        o
    }

    fn never() -> SamplingConfig {
        SamplingConfig {
            ratio: 0.0,
            ..Default::default()
        }
    }

    const TRACE: [u8; 16] = [0xab; 16];

    #[test]
    fn errors_cuts_and_truncations_are_always_kept() {
        let mut e = obs();
        e.error = Some(ErrorInfo {
            error_type: "500".into(),
            message: None,
        });
        assert_eq!(
            decide(&never(), &concluded(&e), &TRACE, None, None),
            Decision {
                keep: true,
                rule: "error"
            }
        );
        let mut s = obs();
        s.http_status = Some(429);
        assert_eq!(decide(&never(), &concluded(&s), &TRACE, None, None).rule, "error");
        let mut p = obs();
        p.partial = true;
        assert_eq!(decide(&never(), &concluded(&p), &TRACE, None, None).rule, "partial");
        for reason in ["length", "max_tokens", "MAX_TOKENS", "content_filter", "incomplete"] {
            let mut t = obs();
            t.response.finish_reasons = vec![reason.into()];
            assert_eq!(
                decide(&never(), &concluded(&t), &TRACE, None, None).rule,
                "truncated",
                "{reason}"
            );
        }
        assert_eq!(
            decide(&never(), &concluded(&obs()), &TRACE, None, None),
            Decision {
                keep: false,
                rule: "ratio"
            }
        );
    }

    #[test]
    fn thresholds_and_listed_attribution() {
        let slow = SamplingConfig {
            min_duration_ms: Some(2000),
            ..never()
        };
        assert_eq!(decide(&slow, &concluded(&obs()), &TRACE, None, None).rule, "duration");
        let slow_first_token = SamplingConfig {
            min_ttft_ms: Some(400),
            ..never()
        };
        assert_eq!(
            decide(&slow_first_token, &concluded(&obs()), &TRACE, None, None).rule,
            "ttft"
        );
        let costly = SamplingConfig {
            min_cost_usd: Some(0.5),
            ..never()
        };
        assert_eq!(
            decide(&costly, &concluded(&obs()), &TRACE, None, Some(0.75)).rule,
            "cost"
        );
        assert!(!decide(&costly, &concluded(&obs()), &TRACE, None, Some(0.25)).keep);
        let vip = SamplingConfig {
            keep_users: vec!["alice".into()],
            keep_tiers: vec!["enterprise".into()],
            ..never()
        };
        let mut o = obs();
        o.attribution = vec![("user.id".into(), "alice".into())];
        assert_eq!(decide(&vip, &concluded(&o), &TRACE, None, None).rule, "user");
        o.attribution = vec![("app.user.tier".into(), "enterprise".into())];
        assert_eq!(decide(&vip, &concluded(&o), &TRACE, None, None).rule, "tier");
    }

    #[test]
    fn parent_based_follows_the_callers_flag_and_tail_rules_still_win() {
        let parent = SamplingConfig {
            parent_based: true,
            ..Default::default()
        };
        assert_eq!(
            decide(&parent, &concluded(&obs()), &TRACE, Some(false), None),
            Decision {
                keep: false,
                rule: "parent"
            }
        );
        assert_eq!(
            decide(&parent, &concluded(&obs()), &TRACE, Some(true), None),
            Decision {
                keep: true,
                rule: "parent"
            }
        );
        assert_eq!(
            decide(&parent, &concluded(&obs()), &TRACE, None, None),
            Decision {
                keep: true,
                rule: "ratio"
            }
        );
        let mut e = obs();
        e.http_status = Some(503);
        assert!(decide(&parent, &concluded(&e), &TRACE, Some(false), None).keep);
    }

    #[test]
    fn ratio_is_consistent_and_close_to_the_configured_share() {
        // Pseudo-random trace ids (xorshift), as a random generator would give.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut trace_id = || {
            let mut id = [0u8; 16];
            for half in id.chunks_mut(8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                half.copy_from_slice(&state.to_be_bytes());
            }
            id
        };
        let kept = (0..20_000).filter(|_| ratio_keeps(0.25, &trace_id())).count();
        assert!((4_500..=5_500).contains(&kept), "kept {kept} of 20000 at 25%");
        let id = [7u8; 16];
        assert_eq!(ratio_keeps(0.3, &id), ratio_keeps(0.3, &id));
        assert!(ratio_keeps(1.0, &[0xff; 16]) && !ratio_keeps(0.0, &[0; 16]));
    }

    #[test]
    fn ratio_out_of_range_is_rejected() {
        assert!(SamplingConfig {
            ratio: 1.5,
            ..Default::default()
        }
        .validate()
        .is_err());
        assert!(SamplingConfig {
            min_cost_usd: Some(-1.0),
            ..Default::default()
        }
        .validate()
        .is_err());
    }
}
