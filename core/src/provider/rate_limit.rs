//! Provider rate-limit response headers: how close a caller is to its quota when it called.

use crate::model::observation::{RateLimit, RateLimitFigure};

/// Response header → figure. OpenAI and Azure OpenAI use `x-ratelimit-*`; Anthropic `anthropic-ratelimit-*`.
const HEADERS: [(&str, RateLimit); 14] = [
    ("x-ratelimit-limit-requests", RateLimit::RequestsLimit),
    ("x-ratelimit-remaining-requests", RateLimit::RequestsRemaining),
    ("x-ratelimit-reset-requests", RateLimit::RequestsReset),
    ("x-ratelimit-limit-tokens", RateLimit::TokensLimit),
    ("x-ratelimit-remaining-tokens", RateLimit::TokensRemaining),
    ("x-ratelimit-reset-tokens", RateLimit::TokensReset),
    ("anthropic-ratelimit-requests-limit", RateLimit::RequestsLimit),
    ("anthropic-ratelimit-requests-remaining", RateLimit::RequestsRemaining),
    ("anthropic-ratelimit-requests-reset", RateLimit::RequestsReset),
    ("anthropic-ratelimit-tokens-limit", RateLimit::TokensLimit),
    ("anthropic-ratelimit-tokens-remaining", RateLimit::TokensRemaining),
    ("anthropic-ratelimit-tokens-reset", RateLimit::TokensReset),
    (
        "anthropic-ratelimit-input-tokens-remaining",
        RateLimit::InputTokensRemaining,
    ),
    (
        "anthropic-ratelimit-output-tokens-remaining",
        RateLimit::OutputTokensRemaining,
    ),
];

/// The rate-limit figures among a response's headers (names in lowercase, as proxies give them), in header order.
#[cfg(test)]
pub(crate) fn from_headers<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<(RateLimit, RateLimitFigure)> {
    headers
        .into_iter()
        .filter_map(|(name, value)| figure(name, value))
        .collect()
}

/// Whether a header (name in lowercase) may carry a figure: most headers are none of them, and this is two prefix
/// checks instead of fourteen comparisons.
pub(crate) fn is_figure_header(name: &[u8]) -> bool {
    name.starts_with(b"x-ratelimit-") || name.starts_with(b"anthropic-ratelimit-") || name == b"retry-after"
}

/// The figure one response header carries, if it is a rate-limit header.
pub(crate) fn figure(name: &str, value: &str) -> Option<(RateLimit, RateLimitFigure)> {
    if !is_figure_header(name.as_bytes()) {
        return None;
    }
    let value = value.trim();
    if name == "retry-after" {
        return Some((RateLimit::RetryAfter, RateLimitFigure::Text(value.to_string())));
    }
    let (_, field) = HEADERS.iter().find(|(h, _)| *h == name)?;
    let figure = match (field.is_reset(), value.parse::<i64>()) {
        (false, Ok(n)) => RateLimitFigure::Count(n),
        _ => RateLimitFigure::Text(value.to_string()),
    };
    Some((*field, figure))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_and_anthropic_headers_become_figures() {
        let got = from_headers([
            ("x-ratelimit-remaining-requests", "4999"),
            ("x-ratelimit-reset-tokens", "6m0s"),
            ("anthropic-ratelimit-output-tokens-remaining", " 7000 "),
            ("retry-after", "20"),
            ("x-request-id", "abc"),
        ]);
        assert_eq!(
            got,
            vec![
                (RateLimit::RequestsRemaining, RateLimitFigure::Count(4999)),
                (RateLimit::TokensReset, RateLimitFigure::Text("6m0s".into())),
                (RateLimit::OutputTokensRemaining, RateLimitFigure::Count(7000)),
                (RateLimit::RetryAfter, RateLimitFigure::Text("20".into())),
            ]
        );
    }
}
