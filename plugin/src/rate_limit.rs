//! Provider rate-limit response headers, as span attributes: how close a caller is to its quota when it called.

use crate::attributes as attr;

/// Response header → attribute. OpenAI and Azure OpenAI use `x-ratelimit-*`; Anthropic `anthropic-ratelimit-*`.
const HEADERS: [(&str, &str); 14] = [
    ("x-ratelimit-limit-requests", attr::LLM_RATELIMIT_REQUESTS_LIMIT),
    ("x-ratelimit-remaining-requests", attr::LLM_RATELIMIT_REQUESTS_REMAINING),
    ("x-ratelimit-reset-requests", attr::LLM_RATELIMIT_REQUESTS_RESET),
    ("x-ratelimit-limit-tokens", attr::LLM_RATELIMIT_TOKENS_LIMIT),
    ("x-ratelimit-remaining-tokens", attr::LLM_RATELIMIT_TOKENS_REMAINING),
    ("x-ratelimit-reset-tokens", attr::LLM_RATELIMIT_TOKENS_RESET),
    ("anthropic-ratelimit-requests-limit", attr::LLM_RATELIMIT_REQUESTS_LIMIT),
    (
        "anthropic-ratelimit-requests-remaining",
        attr::LLM_RATELIMIT_REQUESTS_REMAINING,
    ),
    ("anthropic-ratelimit-requests-reset", attr::LLM_RATELIMIT_REQUESTS_RESET),
    ("anthropic-ratelimit-tokens-limit", attr::LLM_RATELIMIT_TOKENS_LIMIT),
    (
        "anthropic-ratelimit-tokens-remaining",
        attr::LLM_RATELIMIT_TOKENS_REMAINING,
    ),
    ("anthropic-ratelimit-tokens-reset", attr::LLM_RATELIMIT_TOKENS_RESET),
    (
        "anthropic-ratelimit-input-tokens-remaining",
        attr::LLM_RATELIMIT_INPUT_TOKENS_REMAINING,
    ),
    (
        "anthropic-ratelimit-output-tokens-remaining",
        attr::LLM_RATELIMIT_OUTPUT_TOKENS_REMAINING,
    ),
];

/// A rate-limit figure: counts are integers; resets and `retry-after` stay as the provider wrote them (`6m0s`,
/// an RFC 3339 instant, seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Figure {
    Count(i64),
    Text(String),
}

/// The rate-limit attributes among a response's headers (names in lowercase, as Envoy gives them).
pub fn from_headers<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<(&'static str, Figure)> {
    let mut out = Vec::new();
    for (name, value) in headers {
        let value = value.trim();
        if name == "retry-after" {
            out.push((attr::LLM_RATELIMIT_RETRY_AFTER, Figure::Text(value.to_string())));
            continue;
        }
        let Some((_, attribute)) = HEADERS.iter().find(|(h, _)| *h == name) else {
            continue;
        };
        let figure = match (attribute.ends_with(".reset"), value.parse::<i64>()) {
            (false, Ok(n)) => Figure::Count(n),
            _ => Figure::Text(value.to_string()),
        };
        out.push((attribute, figure));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_and_anthropic_headers_become_attributes() {
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
                ("llm.ratelimit.requests.remaining", Figure::Count(4999)),
                ("llm.ratelimit.tokens.reset", Figure::Text("6m0s".into())),
                ("llm.ratelimit.output_tokens.remaining", Figure::Count(7000)),
                ("llm.ratelimit.retry_after", Figure::Text("20".into())),
            ]
        );
    }
}
