//! Content capture policy: how much of a call's content a span may carry (`off`, `metadata`, `full`), per host,
//! path or feature; a route's Envoy metadata can only tighten it. Metadata mode keeps the structure and replaces
//! every text by its length.

use crate::config_error::{check_range, invalid, ConfigError};
use crate::model::content::CaptureMode;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// Envoy property a route uses to tighten capture (`filter_metadata["llm-trace"].capture`).
pub(crate) const ROUTE_CAPTURE_PROPERTY: [&str; 5] =
    ["xds", "route_metadata", "filter_metadata", "llm-trace", "capture"];

/// Content capture policy: a default mode, refined per host, path or feature.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CaptureConfig {
    /// The mode when no rule matches.
    pub(crate) content: CaptureMode,
    /// Largest content attribute, in bytes after redaction; longer values are cut with a visible marker.
    pub(crate) max_content_bytes: usize,
    /// Per host, path or feature; the first match wins.
    pub(crate) rules: Vec<CaptureRule>,
}

/// Applies when every given matcher matches; the first match wins.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CaptureRule {
    /// Exact `server.address`.
    pub(crate) host: Option<String>,
    /// Prefix of the path.
    pub(crate) path_prefix: Option<String>,
    /// Value of the `app.feature` attribution header.
    pub(crate) feature: Option<String>,
    /// The mode when this rule matches.
    pub(crate) content: CaptureMode,
}

impl CaptureConfig {
    /// The mode for a call to `host` and `path` on behalf of `feature`.
    pub(crate) fn mode_for(&self, host: Option<&str>, path: &str, feature: Option<&str>) -> CaptureMode {
        let matches = |r: &&CaptureRule| {
            r.host
                .as_deref()
                .is_none_or(|h| host.is_some_and(|got| h.eq_ignore_ascii_case(got)))
                && r.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
                && r.feature.as_deref().is_none_or(|f| feature == Some(f))
        };
        self.rules.iter().find(matches).map_or(self.content, |r| r.content)
    }

    /// The mode for one call: the configured policy, tightened (never loosened) by the route's own setting.
    pub(crate) fn decide(
        &self,
        host: Option<&str>,
        path: &str,
        feature: Option<&str>,
        route: Option<CaptureMode>,
    ) -> CaptureMode {
        let mode = self.mode_for(host, path, feature);
        match route {
            Some(route) => mode.min(route),
            None => mode,
        }
    }
}

#[derive(Deserialize, Clone, Copy, Default)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RawCaptureMode {
    #[default]
    Off,
    Metadata,
    Full,
}

impl From<RawCaptureMode> for CaptureMode {
    fn from(m: RawCaptureMode) -> Self {
        match m {
            RawCaptureMode::Off => CaptureMode::Off,
            RawCaptureMode::Metadata => CaptureMode::Metadata,
            RawCaptureMode::Full => CaptureMode::Full,
        }
    }
}

/// `capture` as written in the configuration.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawCapture {
    content: RawCaptureMode,
    max_content_bytes: usize,
    rules: Vec<RawCaptureRule>,
}

impl Default for RawCapture {
    fn default() -> Self {
        RawCapture {
            content: RawCaptureMode::Off,
            max_content_bytes: 16 << 10,
            rules: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCaptureRule {
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    path_prefix: Option<String>,
    #[serde(default)]
    feature: Option<String>,
    content: RawCaptureMode,
}

impl RawCapture {
    /// Validates the limits and rules.
    pub(crate) fn validate(self) -> Result<CaptureConfig, ConfigError> {
        check_range("capture.max_content_bytes", self.max_content_bytes as u64, 64, 1 << 24)?;
        let mut rules = Vec::new();
        for (i, r) in self.rules.into_iter().enumerate() {
            if r.host.is_none() && r.path_prefix.is_none() && r.feature.is_none() {
                return Err(invalid(
                    &format!("capture.rules[{i}]"),
                    "needs `host`, `path_prefix` or `feature` to match on",
                ));
            }
            rules.push(CaptureRule {
                host: r.host,
                path_prefix: r.path_prefix,
                feature: r.feature,
                content: r.content.into(),
            });
        }
        Ok(CaptureConfig {
            content: self.content.into(),
            max_content_bytes: self.max_content_bytes,
            rules,
        })
    }
}

/// Metadata-only capture: keeps the structure, replaces every string leaf under a `content`, `arguments` or
/// `response` key with its length, so a reader sees who said how much without seeing what.
pub(crate) fn metadata_only(value: &Value) -> Value {
    fn walk(v: &Value, sensitive: bool) -> Value {
        match v {
            Value::String(s) if sensitive => json!(format!("[{} chars]", s.chars().count())),
            Value::Array(items) => Value::Array(items.iter().map(|i| walk(i, sensitive)).collect()),
            Value::Object(map) => {
                let mut out = Map::new();
                for (k, val) in map {
                    let sensitive = sensitive || matches!(k.as_str(), "content" | "arguments" | "response" | "uri");
                    out.insert(k.clone(), walk(val, sensitive));
                }
                Value::Object(out)
            }
            Value::Number(_) | Value::Bool(_) | Value::Null if sensitive => json!("[value]"),
            other => other.clone(),
        }
    }
    walk(value, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_mode_hides_every_text() {
        let v = json!([{"role":"user","parts":[{"type":"text","content":"secret plan"}]}]);
        assert_eq!(
            metadata_only(&v),
            json!([{"role":"user","parts":[{"type":"text","content":"[11 chars]"}]}])
        );
    }
}
