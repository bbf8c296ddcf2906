//! `redaction` as written in the configuration, validated into a [`Redactor`].

use super::detectors::BUILTINS;
use super::{Action, Detector, Matcher, Redactor};
use crate::config_error::{from_serde_path, invalid, ConfigError};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// `redaction` as written in the plugin configuration.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawRedaction {
    enabled: bool,
    /// Per built-in detector: `mask` (default), `hash`, `drop` or `off`.
    detectors: BTreeMap<String, Action>,
    hmac_key: Option<String>,
    custom: Vec<RawCustom>,
    user_id: bool,
    request: RawRequestRedaction,
}

impl Default for RawRedaction {
    fn default() -> Self {
        RawRedaction {
            enabled: true,
            detectors: BTreeMap::new(),
            hmac_key: None,
            custom: Vec::new(),
            user_id: false,
            request: RawRequestRedaction::default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCustom {
    name: String,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    literals: Option<Vec<String>>,
    #[serde(default = "default_action")]
    action: Action,
}

fn default_action() -> Action {
    Action::Mask
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawRequestRedaction {
    enabled: bool,
    detectors: Vec<String>,
}

/// Names of the built-in detectors, in precedence order.
pub(crate) fn builtin_names() -> Vec<&'static str> {
    BUILTINS.iter().map(|b| b.name()).collect()
}

/// Builds the redactor from the `redaction` JSON object (`{}` gives the defaults: every built-in detector masks).
/// Errors name the field, relative to the configuration root.
pub(crate) fn build(source: &str) -> Result<Redactor, ConfigError> {
    let value: Value = serde_json::from_str(source)
        .map_err(|e| invalid("redaction", crate::config_error::strip_position(&e.to_string())))?;
    build_from(&value)
}

/// [`build`] from the already parsed `redaction` object.
pub(crate) fn build_from(value: &Value) -> Result<Redactor, ConfigError> {
    let source = value.to_string();
    let source = source.as_str();
    let raw: RawRedaction = serde_path_to_error::deserialize(value).map_err(|e| from_serde_path("redaction", &e))?;
    if !raw.enabled {
        return Ok(Redactor {
            source: source.to_string(),
            ..Redactor::disabled()
        });
    }
    for name in raw.detectors.keys() {
        if !BUILTINS.iter().any(|b| b.name() == name) {
            return Err(invalid(
                &format!("redaction.detectors.{name}"),
                format!("unknown detector; built-in ones are {}", builtin_names().join(", ")),
            ));
        }
    }
    let mut detectors: Vec<Detector> = BUILTINS
        .iter()
        .map(|b| Detector {
            name: b.name().to_string(),
            matcher: Matcher::Builtin(*b),
            action: raw.detectors.get(b.name()).copied().unwrap_or(Action::Mask),
        })
        .collect();
    for (i, c) in raw.custom.into_iter().enumerate() {
        let field = format!("redaction.custom[{i}]");
        if c.name.is_empty()
            || !c
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(invalid(
                &format!("{field}.name"),
                "must be lowercase letters, digits and `_`",
            ));
        }
        if detectors.iter().any(|d| d.name == c.name) {
            return Err(invalid(
                &format!("{field}.name"),
                format!("`{}` is already a detector", c.name),
            ));
        }
        let matcher = match (c.regex, c.literals) {
            (Some(r), None) => Matcher::Regex(
                regex_lite::Regex::new(&r).map_err(|e| invalid(&format!("{field}.regex"), format!("invalid: {e}")))?,
            ),
            (None, Some(l)) => {
                if l.iter().any(|s| s.trim().is_empty()) {
                    return Err(invalid(&format!("{field}.literals"), "must not contain empty strings"));
                }
                Matcher::Literals(l.iter().map(|s| s.to_ascii_lowercase()).collect())
            }
            _ => return Err(invalid(&field, "needs exactly one of `regex` or `literals`")),
        };
        detectors.push(Detector {
            name: c.name,
            matcher,
            action: c.action,
        });
    }
    let hmac_key = raw.hmac_key.unwrap_or_default().into_bytes();
    if detectors.iter().any(|d| d.action == Action::Hash) && hmac_key.len() < 16 {
        return Err(invalid(
            "redaction.hmac_key",
            "a detector uses `hash`: set a secret key of at least 16 bytes",
        ));
    }
    detectors.retain(|d| d.action != Action::Off);
    let mut request_detectors = Vec::new();
    if raw.request.enabled {
        let names = if raw.request.detectors.is_empty() {
            detectors.iter().map(|d| d.name.clone()).collect()
        } else {
            raw.request.detectors
        };
        for name in names {
            match detectors.iter().position(|d| d.name == name) {
                Some(i) => request_detectors.push(i),
                None => {
                    return Err(invalid(
                        "redaction.request.detectors",
                        format!("`{name}` is not an enabled detector"),
                    ))
                }
            }
        }
    }
    Ok(Redactor {
        detectors,
        hmac_key,
        user_id: raw.user_id,
        request_detectors,
        source: source.to_string(),
    })
}
