//! The component's settings, from the environment (`wasi:cli/environment`; `wasmtime serve --env ... -S cli`):
//!
//! - `LLM_TRACE_UPSTREAM`: base URL every request is forwarded to, e.g. `https://api.openai.com` or
//!   `http://127.0.0.1:8000/openai` (a path here prefixes every request's path). Required.
//! - `LLM_TRACE_CONFIG`: the tracer's JSON configuration, the same schema as the Envoy filter's, with
//!   `exporter.endpoint` (the collector's OTLP/HTTP URL) instead of `exporter.cluster`.
//!
//! Read once per instance (the first request), kept while the instance lives. A missing or invalid configuration
//! is logged on every request and the traffic passes untraced; a missing upstream answers 502.

use crate::host;
use crate::wasi::cli::environment;
use crate::wasi::http::types::Scheme;
use llm_trace_core::{Config, Tracer};
use std::cell::Cell;

/// Environment variable holding the base URL of the upstream.
pub(crate) const UPSTREAM_VAR: &str = "LLM_TRACE_UPSTREAM";
/// Environment variable holding the JSON configuration.
pub(crate) const CONFIG_VAR: &str = "LLM_TRACE_CONFIG";

/// Where requests go.
pub(crate) struct Upstream {
    pub(crate) scheme: Scheme,
    /// `host[:port]`.
    pub(crate) authority: String,
    /// Prefix of every forwarded path, without a trailing `/` (often empty).
    pub(crate) base_path: String,
}

impl Upstream {
    /// The upstream's `scheme` as the core's `:scheme` pseudo-header.
    pub(crate) fn scheme_name(&self) -> &'static str {
        match self.scheme {
            Scheme::Https => "https",
            _ => "http",
        }
    }

    /// The path (and query) a request for `path` is forwarded to.
    pub(crate) fn path_for(&self, path: &str) -> String {
        let path = if path.starts_with('/') || path.starts_with('?') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        format!("{}{path}", self.base_path)
    }
}

/// What one instance keeps between requests (only the first request pays for parsing).
pub(crate) struct InstanceState {
    /// The upstream, or why there is none.
    pub(crate) upstream: Result<Upstream, String>,
    /// The tracer, or why the traffic passes untraced.
    pub(crate) tracer: Result<Tracer, String>,
}

thread_local! {
    static STATE: Cell<Option<InstanceState>> = const { Cell::new(None) };
}

/// This instance's state, built from the environment on its first request.
pub(crate) fn take_instance_state() -> InstanceState {
    STATE.with(Cell::take).unwrap_or_else(load)
}

/// Keeps the state for the instance's next request, if the runtime reuses it.
pub(crate) fn keep_instance_state(state: InstanceState) {
    STATE.with(|cell| cell.set(Some(state)));
}

fn load() -> InstanceState {
    let environment = environment::get_environment();
    let var = |name: &str| {
        environment
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    };
    let upstream = match var(UPSTREAM_VAR) {
        Some(url) => parse_upstream(url),
        None => Err(format!(
            "`{UPSTREAM_VAR}` is not set: give the upstream's base URL, e.g. `--env {UPSTREAM_VAR}=https://api.openai.com` \
             (`wasmtime serve` also needs `-S cli`)"
        )),
    };
    let tracer = match var(CONFIG_VAR) {
        Some(json) => tracer_from(json),
        None => Err(format!(
            "llm-trace: `{CONFIG_VAR}` is not set (the JSON configuration, with `exporter.endpoint`); traffic passes untraced."
        )),
    };
    InstanceState { upstream, tracer }
}

fn tracer_from(json: &str) -> Result<Tracer, String> {
    let config = Config::from_json(json.as_bytes())
        .and_then(Config::into_url_export)
        .map_err(|e| format!("{e} Traffic passes untraced."))?;
    Ok(Tracer::new(config, host::random_seed(), &|_| None))
}

/// Parses `http[s]://host[:port][/base/path]`.
fn parse_upstream(url: &str) -> Result<Upstream, String> {
    let bad =
        |why: &str| format!("`{UPSTREAM_VAR}`: `{url}` {why}; expected a base URL such as `https://api.openai.com`");
    let (scheme, rest) = match url.trim().split_once("://") {
        Some((s, rest)) if s.eq_ignore_ascii_case("http") => (Scheme::Http, rest),
        Some((s, rest)) if s.eq_ignore_ascii_case("https") => (Scheme::Https, rest),
        Some(_) => return Err(bad("must use http or https")),
        None => return Err(bad("has no scheme")),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.is_empty() || authority.contains(['@', '?', '#']) || authority.bytes().any(|b| b <= b' ') {
        return Err(bad("needs a host (no user info, query or spaces)"));
    }
    if path.contains(['?', '#']) || path.bytes().any(|b| b <= b' ') {
        return Err(bad("has a query, a fragment or spaces in its path"));
    }
    Ok(Upstream {
        scheme,
        authority: authority.to_string(),
        base_path: path.trim_end_matches('/').to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_base_urls_are_parsed_and_prefix_the_forwarded_path() {
        let plain = parse_upstream("https://api.openai.com").unwrap();
        assert!(matches!(plain.scheme, Scheme::Https));
        assert_eq!(
            (plain.authority.as_str(), plain.scheme_name()),
            ("api.openai.com", "https")
        );
        assert_eq!(plain.path_for("/v1/chat/completions?x=1"), "/v1/chat/completions?x=1");
        let prefixed = parse_upstream("http://127.0.0.1:8000/openai/").unwrap();
        assert_eq!(
            (prefixed.authority.as_str(), prefixed.scheme_name()),
            ("127.0.0.1:8000", "http")
        );
        assert_eq!(prefixed.path_for("/v1/models"), "/openai/v1/models");
        assert_eq!(prefixed.path_for(""), "/openai/");
        for bad in [
            "api.openai.com",
            "ftp://x",
            "http://",
            "http://u@h",
            "http://h/p?q=1",
            "http://h p",
        ] {
            let e = parse_upstream(bad).err().unwrap_or_default();
            assert!(e.starts_with("`LLM_TRACE_UPSTREAM`:"), "{bad}: {e}");
        }
    }
}
